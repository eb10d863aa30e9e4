/*
 * The safetensors header: a strict reader for the one JSON shape the format
 * allows, and the layout checks.
 *
 * Reading accepts a header the reference implementation accepts, minus its
 * leniencies: one object; "__metadata__" (at most once) an object of
 * strings; every other key a tensor
 *     {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}
 * with each field exactly once and no other; sizes and offsets are
 * non-negative whole numbers; names are unique, valid UTF-8, without NUL.
 * Whitespace may surround every token (the writer pads with spaces).
 * Writing is in safetensors_format.c.
 */
#include "io/safetensors_internal.h"

#include <string.h>

static const struct {
    const char *name;
    size_t size;
} dtypes[TENSOR_DTYPE_COUNT] = {
    [TENSOR_BOOL] = {"BOOL", 1},       [TENSOR_U8] = {"U8", 1},
    [TENSOR_I8] = {"I8", 1},           [TENSOR_F8_E5M2] = {"F8_E5M2", 1},
    [TENSOR_F8_E4M3] = {"F8_E4M3", 1}, [TENSOR_I16] = {"I16", 2},
    [TENSOR_U16] = {"U16", 2},         [TENSOR_F16] = {"F16", 2},
    [TENSOR_BF16] = {"BF16", 2},       [TENSOR_I32] = {"I32", 4},
    [TENSOR_U32] = {"U32", 4},         [TENSOR_F32] = {"F32", 4},
    [TENSOR_F64] = {"F64", 8},         [TENSOR_I64] = {"I64", 8},
    [TENSOR_U64] = {"U64", 8},
};

const char *tensor_dtype_name(TensorDtype dtype)
{
    return (unsigned)dtype < TENSOR_DTYPE_COUNT ? dtypes[dtype].name : "?";
}

size_t tensor_dtype_size(TensorDtype dtype)
{
    return (unsigned)dtype < TENSOR_DTYPE_COUNT ? dtypes[dtype].size : 0;
}

bool tensor__st_utf8_valid(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!len || i + len > n) return false;
        uint32_t cp = len == 1 ? c : c & (0x7fu >> len);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += len;
    }
    return true;
}

/* ---- reading ------------------------------------------------------------- */

typedef struct {
    TensorFile *f;
    const char *s;
    size_t n, pos;
    int cap_entries, cap_meta;
    size_t *meta_end; /* [i]: where metadata key i ends, for the duplicate's message */
} Parser;

static int fail(Parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(Parser *p, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    tensor_set_error("load %s: header: %s (at byte %zu of %zu)", p->f->label, why, p->pos, p->n);
    return -1;
}

static void skip_ws(Parser *p)
{
    while (p->pos < p->n && strchr(" \t\n\r", p->s[p->pos]) && p->s[p->pos]) p->pos++;
}

/* Skips whitespace, then consumes c if it is next. */
static bool accept(Parser *p, char c)
{
    skip_ws(p);
    if (p->pos < p->n && p->s[p->pos] == c) {
        p->pos++;
        return true;
    }
    return false;
}

static int expect(Parser *p, char c, const char *where)
{
    return accept(p, c) ? 0 : fail(p, "expected '%c' %s", c, where);
}

static int hex4(Parser *p, size_t at, uint32_t *out)
{
    uint32_t v = 0;
    for (size_t k = 0; k < 4; k++) {
        char c = at + k < p->n ? p->s[at + k] : 0;
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) return fail(p, "bad \\u escape in a string");
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) return o[0] = (char)cp, 1;
    if (cp < 0x800) return o[0] = (char)(0xc0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3f)), 2;
    if (cp < 0x10000)
        return o[0] = (char)(0xe0 | cp >> 12), o[1] = (char)(0x80 | (cp >> 6 & 0x3f)),
               o[2] = (char)(0x80 | (cp & 0x3f)), 3;
    return o[0] = (char)(0xf0 | cp >> 18), o[1] = (char)(0x80 | (cp >> 12 & 0x3f)),
           o[2] = (char)(0x80 | (cp >> 6 & 0x3f)), o[3] = (char)(0x80 | (cp & 0x3f)), 4;
}

/* One escape after the backslash at p->pos; appends its UTF-8 to o. */
static int unescape(Parser *p, char *o, size_t *len)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    char c = p->pos + 1 < p->n ? p->s[p->pos + 1] : 0;
    const char *k = c ? strchr(from, c) : NULL;
    if (k) {
        o[(*len)++] = to[k - from];
        p->pos += 2;
        return 0;
    }
    uint32_t cp = 0, lo = 0;
    if (c != 'u' || hex4(p, p->pos + 2, &cp))
        return c == 'u' ? -1 : fail(p, "bad escape in a string");
    p->pos += 6;
    if (cp >= 0xdc00 && cp <= 0xdfff) return fail(p, "unpaired surrogate in a string");
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (p->pos + 1 >= p->n || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u' ||
            hex4(p, p->pos + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
            return fail(p, "unpaired surrogate in a string");
        p->pos += 6;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    if (cp == 0) return fail(p, "\\u0000 in a string");
    *len += put_utf8(o + *len, cp);
    return 0;
}

/* A string, decoded, malloc'd and NUL-terminated. */
static int parse_string(Parser *p, char **out)
{
    skip_ws(p);
    if (p->pos >= p->n || p->s[p->pos] != '"') return fail(p, "expected a string");
    size_t end = ++p->pos;
    while (end < p->n && p->s[end] != '"') end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->n) return fail(p, "unterminated string");
    /* Escapes never decode to more bytes than they take. */
    char *o = tensor__xrealloc(NULL, end - p->pos + 1);
    size_t len = 0;
    while (p->pos < end) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c < 0x20) {
            free(o);
            return fail(p, "control character in a string");
        }
        if (c != '\\') {
            o[len++] = (char)c;
            p->pos++;
        } else if (unescape(p, o, &len)) {
            free(o);
            return -1;
        }
    }
    p->pos++;
    o[len] = '\0';
    if (!tensor__st_utf8_valid((const unsigned char *)o, len)) {
        free(o);
        return fail(p, "a string is not valid UTF-8");
    }
    *out = o;
    return 0;
}

static int parse_uint(Parser *p, uint64_t *out, const char *name, const char *field)
{
    skip_ws(p);
    size_t start = p->pos;
    uint64_t v = 0;
    while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
        unsigned d = (unsigned)(p->s[p->pos++] - '0');
        if (v > (UINT64_MAX - d) / 10) return fail(p, "%s: %s: number too large", name, field);
        v = v * 10 + d;
    }
    bool more = p->pos < p->n && strchr("-+.eE", p->s[p->pos]) && p->s[p->pos];
    if (p->pos == start || more)
        return fail(p, "%s: %s: expected a non-negative whole number", name, field);
    if (p->s[start] == '0' && p->pos - start > 1)
        return fail(p, "%s: %s: leading zero in a number", name, field);
    *out = v;
    return 0;
}

static int parse_shape(Parser *p, TensorEntry *e)
{
    if (expect(p, '[', "to open a shape")) return -1;
    if (accept(p, ']')) return 0;
    do {
        uint64_t d;
        if (parse_uint(p, &d, e->name, "shape")) return -1;
        if (e->ndim == TENSOR_MAX_DIMS)
            return fail(p, "%s: shape has more than %d dims", e->name, TENSOR_MAX_DIMS);
        if (d > INT64_MAX) return fail(p, "%s: shape: size too large", e->name);
        e->shape[e->ndim++] = (int64_t)d;
    } while (accept(p, ','));
    return expect(p, ']', "to close a shape");
}

static int parse_offsets(Parser *p, const char *name, uint64_t off[2])
{
    if (expect(p, '[', "to open data_offsets") || parse_uint(p, &off[0], name, "data_offsets") ||
        expect(p, ',', "in data_offsets") || parse_uint(p, &off[1], name, "data_offsets"))
        return -1;
    return expect(p, ']', "after the two data_offsets");
}

static int parse_dtype(Parser *p, TensorEntry *e)
{
    char *s;
    if (parse_string(p, &s)) return -1;
    for (int d = 0; d < TENSOR_DTYPE_COUNT; d++) {
        if (strcmp(s, dtypes[d].name) == 0) {
            e->dtype = (TensorDtype)d;
            free(s);
            return 0;
        }
    }
    fail(p, "%s: unknown dtype \"%.32s\"", e->name, s);
    free(s);
    return -1;
}

/* {"dtype": ..., "shape": [...], "data_offsets": [b, e]}, each once. */
static int parse_tensor(Parser *p, TensorEntry *e, uint64_t off[2])
{
    static const char *const fields[3] = {"dtype", "shape", "data_offsets"};
    bool seen[3] = {false, false, false};
    if (expect(p, '{', "to open a tensor's description")) return -1;
    if (!accept(p, '}')) {
        do {
            char *key;
            if (parse_string(p, &key)) return -1;
            int k = 0;
            while (k < 3 && strcmp(key, fields[k]) != 0) k++;
            int rc = k == 3    ? fail(p, "%s: unknown field \"%.32s\"", e->name, key)
                     : seen[k] ? fail(p, "%s: \"%s\" given twice", e->name, key)
                               : 0;
            free(key);
            if (rc || expect(p, ':', "after a field name")) return -1;
            seen[k] = true;
            rc = k == 0   ? parse_dtype(p, e)
                 : k == 1 ? parse_shape(p, e)
                          : parse_offsets(p, e->name, off);
            if (rc) return -1;
        } while (accept(p, ','));
        if (expect(p, '}', "to close a tensor's description")) return -1;
    }
    for (int k = 0; k < 3; k++)
        if (!seen[k]) return fail(p, "%s: no \"%s\"", e->name, fields[k]);
    return 0;
}

static int parse_metadata(Parser *p)
{
    TensorFile *f = p->f;
    if (f->meta) return fail(p, "\"__metadata__\" given twice");
    f->meta = tensor__xrealloc(NULL, sizeof *f->meta); /* non-NULL: seen, even when empty */
    p->meta_end = tensor__xrealloc(NULL, sizeof *p->meta_end);
    p->cap_meta = 1;
    if (expect(p, '{', "to open __metadata__")) return -1;
    if (accept(p, '}')) return 0;
    do {
        char *key, *value;
        if (parse_string(p, &key)) return -1;
        size_t key_end = p->pos; /* duplicates are found once all are read */
        int rc = expect(p, ':', "after a metadata key");
        skip_ws(p);
        if (!rc && (p->pos >= p->n || p->s[p->pos] != '"'))
            rc = fail(p, "__metadata__: \"%.64s\" is not a string", key);
        if (rc || parse_string(p, &value)) {
            free(key);
            return -1;
        }
        if (f->n_meta == p->cap_meta) {
            f->meta = tensor__xrealloc(f->meta, (size_t)(p->cap_meta *= 2) * sizeof *f->meta);
            p->meta_end = tensor__xrealloc(p->meta_end, (size_t)p->cap_meta * sizeof *p->meta_end);
        }
        p->meta_end[f->n_meta] = key_end;
        f->meta[f->n_meta++] = (TensorMeta){key, value};
    } while (accept(p, ','));
    return expect(p, '}', "to close __metadata__");
}

static int parse_member(Parser *p)
{
    TensorFile *f = p->f;
    char *name;
    if (parse_string(p, &name)) return -1;
    if (expect(p, ':', "after a name")) return free(name), -1;
    if (strcmp(name, "__metadata__") == 0) return free(name), parse_metadata(p);
    if (f->count == p->cap_entries) {
        p->cap_entries = p->cap_entries ? 2 * p->cap_entries : 8;
        f->entries = tensor__xrealloc(f->entries, (size_t)p->cap_entries * sizeof *f->entries);
        f->begin = tensor__xrealloc(f->begin, (size_t)p->cap_entries * 2 * sizeof *f->begin);
    }
    TensorEntry *e = &f->entries[f->count];
    memset(e, 0, sizeof *e);
    e->name = name;
    f->count++; /* owns name from here, for tensor__st_free_header */
    return parse_tensor(p, e, &f->begin[2 * (f->count - 1)]);
}

/* ---- layout ---------------------------------------------------------------- */

typedef struct {
    uint64_t begin, end;
    TensorEntry e;
} Span;

static int by_offsets(const void *a, const void *b)
{
    const Span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static int layout_error(const TensorFile *f, const Span *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int layout_error(const TensorFile *f, const Span *s, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    tensor_set_error("load %s: %s: data_offsets [%llu, %llu] %s", f->label, s->e.name,
                  (unsigned long long)s->begin, (unsigned long long)s->end, why);
    return -1;
}

uint64_t tensor__st_bytes(const TensorEntry *e)
{
    uint64_t n = tensor_dtype_size(e->dtype);
    for (int i = 0; i < e->ndim; i++) {
        uint64_t d = (uint64_t)e->shape[i];
        if (d && n > UINT64_MAX / d) return UINT64_MAX;
        n *= d;
    }
    return n;
}

/* Sorts by offset and checks that the spans tile [0, data_size). */
static int check_layout(TensorFile *f, Span *s, uint64_t data_size)
{
    qsort(s, (size_t)f->count, sizeof *s, by_offsets);
    uint64_t at = 0;
    for (int i = 0; i < f->count; i++) {
        const char *prev = i ? s[i - 1].e.name : NULL;
        if (s[i].begin > s[i].end) return layout_error(f, &s[i], "are reversed");
        if (s[i].end > data_size)
            return layout_error(f, &s[i], "go past the end of the data (%llu bytes)",
                                (unsigned long long)data_size);
        if (s[i].begin < at)
            return layout_error(f, &s[i], "overlap %s, which ends at %llu", prev,
                                (unsigned long long)at);
        if (s[i].begin > at)
            return prev ? layout_error(f, &s[i], "leave a gap after %s, which ends at %llu", prev,
                                       (unsigned long long)at)
                        : layout_error(f, &s[i], "leave a gap: the data starts at 0");
        uint64_t need = tensor__st_bytes(&s[i].e);
        char needs[32] = "2^64 or more";   /* UINT64_MAX: the size overflowed */
        if (need != UINT64_MAX) snprintf(needs, sizeof needs, "%llu", (unsigned long long)need);
        if (need != s[i].end - s[i].begin)
            return layout_error(
                f, &s[i], "hold %llu bytes; %s %s needs %s",
                (unsigned long long)(s[i].end - s[i].begin), tensor_dtype_name(s[i].e.dtype),
                tensor__sizes_str(s[i].e.ndim, s[i].e.shape), needs);
        at = s[i].end;
    }
    if (at != data_size) {
        tensor_set_error("load %s: the tensors cover %llu bytes of data, the file holds %llu",
                      f->label, (unsigned long long)at, (unsigned long long)data_size);
        return -1;
    }
    for (int i = 0; i < f->count; i++) {
        f->entries[i] = s[i].e;
        f->begin[i] = s[i].begin;
    }
    return 0;
}

static int by_name_then_index(const void *a, const void *b)
{
    const TensorFileName *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* names[i] = (key of i, i), sorted: O(n log n), for the duplicate checks
 * and for bsearch (tensor__st_index, tensor_file_meta). */
static TensorFileName *sorted_names(int n, const char *(*name)(const TensorFile *, int),
                                    const TensorFile *f)
{
    TensorFileName *s = tensor__xrealloc(NULL, (size_t)(n ? n : 1) * sizeof *s);
    for (int i = 0; i < n; i++) s[i] = (TensorFileName){name(f, i), i};
    qsort(s, (size_t)n, sizeof *s, by_name_then_index);
    return s;
}

static const char *entry_name(const TensorFile *f, int i) { return f->entries[i].name; }
static const char *meta_key(const TensorFile *f, int i) { return f->meta[i].key; }

static int check_unique_names(TensorFile *f)
{
    f->by_name = sorted_names(f->count, entry_name, f);
    for (int i = 1; i < f->count; i++) {
        if (strcmp(f->by_name[i].name, f->by_name[i - 1].name) == 0) {
            tensor_set_error("load %s: tensor %s appears twice", f->label, f->by_name[i].name);
            return -1;
        }
    }
    return 0;
}

/* A repeated metadata key: the message names the first repeat in the text,
 * as a check while parsing would. */
static int check_unique_keys(Parser *p)
{
    TensorFile *f = p->f;
    f->meta_by_key = sorted_names(f->n_meta, meta_key, f);
    int first = -1;
    for (int i = 1; i < f->n_meta; i++) {
        int at = f->meta_by_key[i].index;
        if (strcmp(f->meta_by_key[i].name, f->meta_by_key[i - 1].name) == 0 &&
            (first < 0 || at < first))
            first = at;
    }
    if (first < 0) return 0;
    p->pos = p->meta_end[first];
    return fail(p, "__metadata__: \"%.64s\" given twice", f->meta[first].key);
}

int tensor__st_index(const TensorFile *f, const char *name)
{
    int lo = 0, hi = f->count;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (strcmp(f->by_name[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < f->count && strcmp(f->by_name[lo].name, name) == 0 ? f->by_name[lo].index : -1;
}

const char *tensor_file_meta(const TensorFile *f, const char *key)
{
    if (!f || !key) return NULL;
    int lo = 0, hi = f->n_meta;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (strcmp(f->meta_by_key[mid].name, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < f->n_meta && strcmp(f->meta_by_key[lo].name, key) == 0
               ? f->meta[f->meta_by_key[lo].index].value
               : NULL;
}

static int parse(Parser *p)
{
    if (expect(p, '{', "at the start of the header")) return -1;
    if (!accept(p, '}')) {
        do {
            if (parse_member(p)) return -1;
        } while (accept(p, ','));
        if (expect(p, '}', "after a tensor (or a missing ',')")) return -1;
    }
    skip_ws(p);
    if (p->pos != p->n) return fail(p, "unexpected text after the header's closing '}'");
    return check_unique_keys(p);
}

int tensor__st_parse_header(TensorFile *f, const char *json, size_t n, uint64_t data_size)
{
    Parser p = {.f = f, .s = json, .n = n};
    int rc = parse(&p);
    free(p.meta_end);
    if (rc) return -1;
    Span *s = tensor__xrealloc(NULL, (size_t)(f->count ? f->count : 1) * sizeof *s);
    for (int i = 0; i < f->count; i++)
        s[i] = (Span){f->begin[2 * i], f->begin[2 * i + 1], f->entries[i]};
    rc = check_unique_names(f) || check_layout(f, s, data_size) ? -1 : 0;
    free(s);
    /* Sorted again: the layout check put the entries in data order. */
    free(f->by_name);
    f->by_name = sorted_names(f->count, entry_name, f);
    return rc;
}

void tensor__st_free_header(TensorFile *f)
{
    for (int i = 0; i < f->count; i++) free((char *)f->entries[i].name);
    for (int i = 0; i < f->n_meta; i++) {
        free((char *)f->meta[i].key);
        free((char *)f->meta[i].value);
    }
    free(f->entries);
    free(f->begin);
    free(f->by_name);
    free(f->meta);
    free(f->meta_by_key);
    f->entries = NULL;
    f->begin = NULL;
    f->by_name = NULL;
    f->meta = NULL;
    f->meta_by_key = NULL;
    f->count = f->n_meta = 0;
}
