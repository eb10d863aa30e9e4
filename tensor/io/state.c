/*
 * Run state (see safetensors.h): named values gathered from several owners
 * (a module, an optimizer, a generator, the caller's counters), saved as one
 * safetensors file and loaded all or nothing.
 *
 * A load goes in three phases so that nothing changes unless everything is
 * right: read (the header matched against the entries, then each value
 * read into a buffer of the state's own), check (the entries' flags, then
 * each part's hook over the staged values), commit (the staged bytes copied
 * onto the live ones, then each part's hook, neither of which can fail).
 */
#include "io/safetensors_internal.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

typedef struct {
    TensorEntry e;    /* name owned; data: the live value, or NULL (staged only) */
    Tensor *tensor;   /* when the value is a tensor's data: its version is bumped */
    unsigned flags;
    void *staged;     /* after a read: the file's value, NULL when absent */
} Item;

typedef struct {
    TensorStateHooks hooks;
    void *ctx;
} Part;

struct TensorState {
    char *what;       /* "module", "checkpoint": the word messages use */
    int n, cap;
    Item *items;
    TensorFileName *by_name; /* items sorted by name, made by a read */
    int n_parts;
    Part *parts;
    const char *label; /* the file being loaded, for tensor_state_fail */
    bool ignore_others; /* a read leaves the file's other tensors unread */
};

TensorState *tensor_state_new(const char *what)
{
    TensorState *s = calloc(1, sizeof *s);
    if (!s) tensor__abort(__FILE__, __LINE__, "out of memory");
    s->what = strdup(what ? what : "state");
    if (!s->what) tensor__abort(__FILE__, __LINE__, "out of memory");
    return s;
}

static void drop_staged(TensorState *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->items[i].staged);
        s->items[i].staged = NULL;
    }
}

void tensor_state_free(TensorState *s)
{
    if (!s) return;
    drop_staged(s);
    for (int i = 0; i < s->n; i++) free((char *)s->items[i].e.name);
    for (int i = 0; i < s->n_parts; i++) {
        if (s->parts[i].hooks.release) s->parts[i].hooks.release(s->parts[i].ctx);
        free(s->parts[i].ctx);
    }
    free(s->items);
    free(s->by_name);
    free(s->parts);
    free(s->what);
    free(s);
}

int tensor_state_add(TensorState *s, const char *name, TensorDtype dtype, int ndim,
                     const int64_t *shape, void *data, unsigned flags)
{
    if (!s) return -1;
    if (!name || !*name) return tensor_set_error("state: an entry has an empty name"), -1;
    if (ndim < 0 || ndim > TENSOR_MAX_DIMS || (ndim && !shape) ||
        (unsigned)dtype >= TENSOR_DTYPE_COUNT)
        return tensor_set_error("state: %s: bad dtype or shape", name), -1;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 32;
        s->items = tensor__xrealloc(s->items, (size_t)s->cap * sizeof *s->items);
    }
    Item *it = &s->items[s->n++];
    *it = (Item){.e = {.name = strdup(name), .dtype = dtype, .ndim = ndim, .data = data},
                 .flags = flags};
    if (!it->e.name) tensor__abort(__FILE__, __LINE__, "out of memory");
    if (ndim) memcpy(it->e.shape, shape, (size_t)ndim * sizeof *shape);
    return 0;
}

int tensor_state_add_tensor(TensorState *s, const char *name, Tensor *t, unsigned flags)
{
    if (!s) return -1;
    if (!TENSOR__USABLE(t)) return tensor_set_error("state: %s: the tensor is NULL", name), -1;
    if (!tensor_is_long_lived(t) || !tensor_is_contiguous(t))
        return tensor_set_error("state: %s: %s is not a long-lived contiguous tensor", name,
                             tensor_shape_str(t)),
               -1;
    if (tensor_state_add(s, name, TENSOR_F32, t->ndim, t->shape, t->data, flags)) return -1;
    s->items[s->n - 1].tensor = t;
    return 0;
}

void tensor_state_ignore_others(TensorState *s)
{
    if (s) s->ignore_others = true;
}

int tensor_state_add_part(TensorState *s, const TensorStateHooks *hooks, void *ctx)
{
    if (!s || !hooks) {
        free(ctx);
        return -1;
    }
    s->parts = tensor__xrealloc(s->parts, (size_t)(s->n_parts + 1) * sizeof *s->parts);
    s->parts[s->n_parts++] = (Part){*hooks, ctx};
    return 0;
}

/* ---- saving ------------------------------------------------------------------ */

int tensor_state_save(const TensorState *s, const char *path, int n_meta, const TensorMeta *meta)
{
    if (!s) return -1;
    TensorEntry *e = tensor__xrealloc(NULL, (size_t)(s->n ? s->n : 1) * sizeof *e);
    int n = 0;
    for (int i = 0; i < s->n; i++)
        if (s->items[i].e.data || !(s->items[i].flags & TENSOR_STATE_OPTIONAL))
            e[n++] = s->items[i].e; /* an optional value not made yet is not saved */
    int rc = tensor_save_entries(path, n, e, n_meta, meta);
    free(e);
    return rc;
}

/* ---- loading ------------------------------------------------------------------ */

void *tensor_state_fail(const TensorState *s, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return tensor_set_error("load %s: %s", s && s->label ? s->label : "(state)", why);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const TensorFileName *)a)->name, ((const TensorFileName *)b)->name);
}

static int item_index(const TensorState *s, const char *name)
{
    TensorFileName key = {name, 0};
    const TensorFileName *hit = bsearch(&key, s->by_name, (size_t)s->n, sizeof key, by_name);
    return hit ? hit->index : -1;
}

/* The state's names sorted, each once: O(n log n). */
static int index_names(TensorState *s)
{
    free(s->by_name);
    s->by_name = tensor__xrealloc(NULL, (size_t)(s->n ? s->n : 1) * sizeof *s->by_name);
    for (int i = 0; i < s->n; i++) s->by_name[i] = (TensorFileName){s->items[i].e.name, i};
    qsort(s->by_name, (size_t)s->n, sizeof *s->by_name, by_name);
    for (int i = 1; i < s->n; i++)
        if (strcmp(s->by_name[i].name, s->by_name[i - 1].name) == 0)
            return tensor_state_fail(s, "%s is named twice in the %s", s->by_name[i].name,
                                     s->what),
                   -1;
    return 0;
}

const void *tensor_state_staged(const TensorState *s, const char *name)
{
    int i = s && s->by_name && name ? item_index(s, name) : -1;
    return i >= 0 ? s->items[i].staged : NULL;
}

/* Every required entry is in the file with its dtype and shape, and every
 * tensor of the file is one of the state's: before any data is read. */
static int match(TensorState *s, const TensorFile *f)
{
    for (int i = 0; i < s->n; i++) {
        const TensorEntry *d = &s->items[i].e;
        int k = tensor__st_index(f, d->name);
        if (k < 0 && (s->items[i].flags & TENSOR_STATE_OPTIONAL)) continue;
        const TensorEntry *e = k >= 0 ? &f->entries[k] : NULL;
        bool same = e && e->dtype == d->dtype && e->ndim == d->ndim;
        for (int j = 0; same && j < e->ndim; j++) same = e->shape[j] == d->shape[j];
        if (!same) {
            /* The reader's own message: what is missing, or both dtypes or shapes.
             * Its data is NULL, so the reader stops at that check. */
            TensorEntry probe = *d;
            probe.data = NULL;
            tensor_file_read(f, 1, &probe, s->what);
            return -1;
        }
    }
    for (int i = 0; !s->ignore_others && i < f->count; i++)
        if (item_index(s, f->entries[i].name) < 0)
            return tensor_state_fail(s, "the file has %s, which the %s does not",
                                     f->entries[i].name, s->what),
                   -1;
    return 0;
}

static bool all_finite(const Item *it)
{
    uint64_t n = tensor__st_bytes(&it->e) / tensor_dtype_size(it->e.dtype);
    for (uint64_t j = 0; j < n; j++) {
        double v;
        if (it->e.dtype == TENSOR_F32) {
            float x;
            memcpy(&x, (const char *)it->staged + 4 * j, 4);
            v = x;
        } else if (it->e.dtype == TENSOR_F64) {
            memcpy(&v, (const char *)it->staged + 8 * j, 8);
        } else {
            return true;
        }
        if (!isfinite(v)) return false;
    }
    return true;
}

static int check_flags(const TensorState *s, const Item *it)
{
    if (!it->staged) return 0;
    if ((it->flags & TENSOR_STATE_FINITE) && !all_finite(it))
        return tensor_state_fail(s, "%s holds a NaN or an infinity", it->e.name), -1;
    if ((it->flags & TENSOR_STATE_COUNT) && it->e.dtype == TENSOR_I64 && it->e.ndim == 0) {
        int64_t v;
        memcpy(&v, it->staged, sizeof v);
        if (v < 0 || v > TENSOR_STATE_MAX_COUNT)
            return tensor_state_fail(s, "%s is %lld; a count is between 0 and 2^53", it->e.name,
                                     (long long)v),
                   -1;
    }
    return 0;
}

static int read_staged(TensorState *s, const TensorFile *f)
{
    for (int i = 0; i < s->n; i++) {
        Item *it = &s->items[i];
        int k = tensor__st_index(f, it->e.name);
        if (k < 0) continue;
        uint64_t bytes = tensor__st_bytes(&it->e);
        it->staged = malloc((size_t)(bytes ? bytes : 1));
        if (!it->staged)
            return tensor_state_fail(s, "%s: out of memory for %llu bytes", it->e.name,
                                     (unsigned long long)bytes),
                   -1;
        if (tensor__st_read_entry(f, k, it->staged)) return -1;
        if (check_flags(s, it)) return -1;
    }
    return 0;
}

int tensor_state_read(TensorState *s, const TensorFile *f)
{
    if (!s || !f) return -1;
    drop_staged(s);
    s->label = f->label;
    int rc = index_names(s) || match(s, f) || read_staged(s, f) ? -1 : 0;
    for (int i = 0; rc == 0 && i < s->n_parts; i++)
        if (s->parts[i].hooks.check) rc = s->parts[i].hooks.check(s->parts[i].ctx, s);
    if (rc) drop_staged(s);
    return rc;
}

void tensor_state_commit(TensorState *s)
{
    if (!s) return;
    for (int i = 0; i < s->n; i++) {
        Item *it = &s->items[i];
        if (!it->staged || !it->e.data) continue;
        memcpy(it->e.data, it->staged, (size_t)tensor__st_bytes(&it->e));
        if (it->tensor) tensor__bump_version(it->tensor);
    }
    for (int i = 0; i < s->n_parts; i++)
        if (s->parts[i].hooks.commit) s->parts[i].hooks.commit(s->parts[i].ctx, s);
    drop_staged(s);
}

int tensor_state_load(TensorState *s, const char *path, int n_meta, const TensorMeta *meta)
{
    if (!s) return -1;
    if (n_meta < 0 || (n_meta && !meta))
        return tensor_set_error("load %s: bad metadata list (%d)", path ? path : "(null)", n_meta),
               -1;
    TensorFile *f = tensor_file_open(path);
    if (!f) return -1;
    int rc = 0;
    for (int i = 0; i < n_meta && rc == 0; i++)
        rc = tensor_file_expect_meta(f, meta[i].key, meta[i].value);
    if (rc == 0) rc = tensor_state_read(s, f);
    if (rc == 0) tensor_state_commit(s);
    s->label = NULL;
    tensor_file_close(f);
    return rc;
}
