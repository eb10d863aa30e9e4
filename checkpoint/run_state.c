/*
 * Run state (see run_state.h): named values gathered from several owners
 * (a module, an optimizer, a generator, the caller's counters), saved as one
 * safetensors file and loaded all or nothing, on the tensor room's public
 * file API (tensor/safetensors.h).
 *
 * A load goes in three phases so that nothing changes unless everything is
 * right: read (the header matched against the entries, then each value
 * read into a buffer of the state's own), check (the entries' flags, then
 * each part's hook over the staged values), commit (the staged bytes copied
 * onto the live ones, then each part's hook, neither of which can fail).
 */
#include "run_state.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A name and where it is, for lookups by bsearch. */
typedef struct {
    const char *name;
    int index;
} NameIndex;

typedef struct {
    TensorEntry e;    /* name owned; data: the live value, or NULL (staged only) */
    Tensor *tensor;   /* when the value is a tensor's data: its version is bumped */
    unsigned flags;
    void *staged;     /* after a read: the file's value, NULL when absent */
} Item;

typedef struct {
    CheckpointStateHooks hooks;
    void *ctx;
} Part;

struct CheckpointState {
    char *what;       /* "module", "checkpoint": the word messages use */
    int n, cap;
    Item *items;
    NameIndex *by_name; /* items sorted by name, made by a read */
    int n_parts;
    Part *parts;
    const char *label; /* the file being loaded, for checkpoint__state_fail */
    bool ignore_others; /* a read leaves the file's other tensors unread */
};

/* Names and lists take a few bytes each: running out of memory here is
 * fatal, as for an op's workspace (tensor.h, Errors). */
static void *xrealloc(void *p, size_t bytes)
{
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q) {
        fputs("attograd: out of memory\n", stderr);
        abort();
    }
    return q;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xrealloc(NULL, n), s, n);
}

/* Bytes of e's data; UINT64_MAX when that overflows. */
static uint64_t entry_bytes(const TensorEntry *e)
{
    uint64_t n = tensor_dtype_size(e->dtype);
    for (int d = 0; d < e->ndim; d++) {
        uint64_t k = (uint64_t)e->shape[d];
        if (k && n > UINT64_MAX / k) return UINT64_MAX;
        n *= k;
    }
    return n;
}

CheckpointState *checkpoint__state_new(const char *what)
{
    CheckpointState *s = xrealloc(NULL, sizeof *s);
    memset(s, 0, sizeof *s);
    s->what = xstrdup(what ? what : "state");
    return s;
}

static void drop_staged(CheckpointState *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->items[i].staged);
        s->items[i].staged = NULL;
    }
}

void checkpoint__state_free(CheckpointState *s)
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

int checkpoint__state_add(CheckpointState *s, const char *name, TensorDtype dtype, int ndim,
                          const int64_t *shape, void *data, unsigned flags)
{
    if (!s) return -1;
    if (!name || !*name) return tensor_set_error("state: an entry has an empty name"), -1;
    if (ndim < 0 || ndim > TENSOR_MAX_DIMS || (ndim && !shape) ||
        (unsigned)dtype >= TENSOR_DTYPE_COUNT)
        return tensor_set_error("state: %s: bad dtype or shape", name), -1;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 32;
        s->items = xrealloc(s->items, (size_t)s->cap * sizeof *s->items);
    }
    Item *it = &s->items[s->n++];
    *it = (Item){.e = {.name = xstrdup(name), .dtype = dtype, .ndim = ndim, .data = data},
                 .flags = flags};
    if (ndim) memcpy(it->e.shape, shape, (size_t)ndim * sizeof *shape);
    return 0;
}

int checkpoint__state_add_tensor(CheckpointState *s, const char *name, Tensor *t,
                                 unsigned flags)
{
    if (!s) return -1;
    if (!t) return tensor_set_error("state: %s: the tensor is NULL", name), -1;
    if (!tensor_is_long_lived(t) || !tensor_is_contiguous(t))
        return tensor_set_error("state: %s: %s is not a long-lived contiguous tensor", name,
                             tensor_shape_str(t)),
               -1;
    if (checkpoint__state_add(s, name, TENSOR_F32, t->ndim, t->shape, t->data, flags)) return -1;
    s->items[s->n - 1].tensor = t;
    return 0;
}

void checkpoint__state_ignore_others(CheckpointState *s)
{
    if (s) s->ignore_others = true;
}

int checkpoint__state_add_part(CheckpointState *s, const CheckpointStateHooks *hooks, void *ctx)
{
    if (!s || !hooks) {
        free(ctx);
        return -1;
    }
    s->parts = xrealloc(s->parts, (size_t)(s->n_parts + 1) * sizeof *s->parts);
    s->parts[s->n_parts++] = (Part){*hooks, ctx};
    return 0;
}

/* ---- saving ------------------------------------------------------------------ */

int checkpoint__state_save(const CheckpointState *s, const char *path, int n_meta,
                           const TensorMeta *meta)
{
    if (!s) return -1;
    TensorEntry *e = xrealloc(NULL, (size_t)(s->n ? s->n : 1) * sizeof *e);
    int n = 0;
    for (int i = 0; i < s->n; i++)
        if (s->items[i].e.data || !(s->items[i].flags & CHECKPOINT__OPTIONAL))
            e[n++] = s->items[i].e; /* an optional value not made yet is not saved */
    int rc = tensor_save_entries(path, n, e, n_meta, meta);
    free(e);
    return rc;
}

/* ---- loading ------------------------------------------------------------------ */

void *checkpoint__state_fail(const CheckpointState *s, const char *fmt, ...)
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
    return strcmp(((const NameIndex *)a)->name, ((const NameIndex *)b)->name);
}

static int item_index(const CheckpointState *s, const char *name)
{
    NameIndex key = {name, 0};
    const NameIndex *hit = bsearch(&key, s->by_name, (size_t)s->n, sizeof key, by_name);
    return hit ? hit->index : -1;
}

/* The state's names sorted, each once: O(n log n). */
static int index_names(CheckpointState *s)
{
    free(s->by_name);
    s->by_name = xrealloc(NULL, (size_t)(s->n ? s->n : 1) * sizeof *s->by_name);
    for (int i = 0; i < s->n; i++) s->by_name[i] = (NameIndex){s->items[i].e.name, i};
    qsort(s->by_name, (size_t)s->n, sizeof *s->by_name, by_name);
    for (int i = 1; i < s->n; i++)
        if (strcmp(s->by_name[i].name, s->by_name[i - 1].name) == 0)
            return checkpoint__state_fail(s, "%s is named twice in the %s", s->by_name[i].name,
                                          s->what),
                   -1;
    return 0;
}

const void *checkpoint__state_staged(const CheckpointState *s, const char *name)
{
    int i = s && s->by_name && name ? item_index(s, name) : -1;
    return i >= 0 ? s->items[i].staged : NULL;
}

/* Every required entry is in the file with its dtype and shape, and every
 * tensor of the file is one of the state's: before any data is read. */
static int match(CheckpointState *s, const TensorFile *f)
{
    for (int i = 0; i < s->n; i++) {
        const TensorEntry *d = &s->items[i].e;
        const TensorEntry *e = tensor_file_find(f, d->name);
        if (!e && (s->items[i].flags & CHECKPOINT__OPTIONAL)) continue;
        bool same = e && e->dtype == d->dtype && e->ndim == d->ndim;
        for (int j = 0; same && j < e->ndim; j++) same = e->shape[j] == d->shape[j];
        if (!same) {
            /* The reader's own message: what is missing, or both dtypes or shapes.
             * Its data is NULL, so the reader stops at that check. */
            TensorEntry probe = *d;
            probe.data = NULL;
            tensor_file_read_one(f, &probe, s->what);
            return -1;
        }
    }
    for (int i = 0; !s->ignore_others && i < tensor_file_count(f); i++) {
        const char *name = tensor_file_entry(f, i)->name;
        if (item_index(s, name) < 0)
            return checkpoint__state_fail(s, "the file has %s, which the %s does not", name,
                                          s->what),
                   -1;
    }
    return 0;
}

static bool all_finite(const Item *it)
{
    uint64_t n = entry_bytes(&it->e) / tensor_dtype_size(it->e.dtype);
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

static int check_flags(const CheckpointState *s, const Item *it)
{
    if (!it->staged) return 0;
    if ((it->flags & CHECKPOINT__FINITE) && !all_finite(it))
        return checkpoint__state_fail(s, "%s holds a NaN or an infinity", it->e.name), -1;
    if ((it->flags & CHECKPOINT__COUNT) && it->e.dtype == TENSOR_I64 && it->e.ndim == 0) {
        int64_t v;
        memcpy(&v, it->staged, sizeof v);
        if (v < 0 || v > CHECKPOINT_MAX_COUNT)
            return checkpoint__state_fail(s, "%s is %lld; a count is between 0 and 2^53",
                                          it->e.name, (long long)v),
                   -1;
    }
    return 0;
}

static int read_staged(CheckpointState *s, const TensorFile *f)
{
    for (int i = 0; i < s->n; i++) {
        Item *it = &s->items[i];
        if (!tensor_file_find(f, it->e.name)) continue;
        uint64_t bytes = entry_bytes(&it->e);
        it->staged = malloc((size_t)(bytes ? bytes : 1));
        if (!it->staged)
            return checkpoint__state_fail(s, "%s: out of memory for %llu bytes", it->e.name,
                                          (unsigned long long)bytes),
                   -1;
        TensorEntry dst = it->e;
        dst.data = it->staged;
        if (tensor_file_read_one(f, &dst, s->what)) return -1;
        if (check_flags(s, it)) return -1;
    }
    return 0;
}

/* The read and check phases on an open file; then commit. */
static int read_and_check(CheckpointState *s, const TensorFile *f)
{
    drop_staged(s);
    int rc = index_names(s) || match(s, f) || read_staged(s, f) ? -1 : 0;
    for (int i = 0; rc == 0 && i < s->n_parts; i++)
        if (s->parts[i].hooks.check) rc = s->parts[i].hooks.check(s->parts[i].ctx, s);
    if (rc) drop_staged(s);
    return rc;
}

static void commit(CheckpointState *s)
{
    for (int i = 0; i < s->n; i++) {
        Item *it = &s->items[i];
        if (!it->staged || !it->e.data) continue;
        memcpy(it->e.data, it->staged, (size_t)entry_bytes(&it->e));
        if (it->tensor) tensor_bump_version(it->tensor);
    }
    for (int i = 0; i < s->n_parts; i++)
        if (s->parts[i].hooks.commit) s->parts[i].hooks.commit(s->parts[i].ctx, s);
    drop_staged(s);
}

int checkpoint__state_load(CheckpointState *s, const char *path, int n_meta,
                           const TensorMeta *meta)
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
    s->label = path;
    if (rc == 0) rc = read_and_check(s, f);
    if (rc == 0) commit(s);
    s->label = NULL;
    tensor_file_close(f);
    return rc;
}
