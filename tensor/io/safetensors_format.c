/*
 * Writing the safetensors header: the JSON the reference writer makes for
 * the same tensors, byte for byte (compact, serde_json's string escapes,
 * tensors in its order, padded with spaces to a multiple of 8 so that the
 * data that follows stays aligned).
 */
#include "io/safetensors_internal.h"

#include <stdlib.h>
#include <string.h>

/* A JSON string escaped as serde_json escapes it, so headers come out
 * byte for byte as the reference writer's. */
static void put_string(TensorText *b, const char *s)
{
    tensor__text_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        const char *short_form = c == '"'    ? "\\\""
                                 : c == '\\' ? "\\\\"
                                 : c == '\b' ? "\\b"
                                 : c == '\f' ? "\\f"
                                 : c == '\n' ? "\\n"
                                 : c == '\r' ? "\\r"
                                 : c == '\t' ? "\\t"
                                             : NULL;
        if (short_form)
            tensor__text_put(b, short_form, 2);
        else if (c < 0x20)
            tensor__text_printf(b, "\\u%04x", c);
        else
            tensor__text_put(b, s, 1);
    }
    tensor__text_put(b, "\"", 1);
}

static int check_entry(const char *path, int i, const TensorEntry *e)
{
    if (!e->name || !*e->name) return tensor_set_error("save %s: entry %d has no name", path, i),
                                                       -1;
    if (strcmp(e->name, "__metadata__") == 0)
        return tensor_set_error("save %s: \"__metadata__\" cannot name a tensor", path), -1;
    if (!tensor__st_utf8_valid((const unsigned char *)e->name, strlen(e->name)))
        return tensor_set_error("save %s: entry %d: name is not valid UTF-8", path, i), -1;
    if ((unsigned)e->dtype >= TENSOR_DTYPE_COUNT)
        return tensor_set_error("save %s: %s: unknown dtype %d", path, e->name, (int)e->dtype), -1;
    if (e->ndim < 0 || e->ndim > TENSOR_MAX_DIMS)
        return tensor_set_error("save %s: %s: %d dims; between 0 and %d are supported", path,
                                e->name,
                             e->ndim, TENSOR_MAX_DIMS),
               -1;
    for (int d = 0; d < e->ndim; d++)
        if (e->shape[d] < 0)
            return tensor_set_error("save %s: %s: negative size %lld in dim %d", path, e->name,
                                 (long long)e->shape[d], d),
                   -1;
    uint64_t bytes = tensor__st_bytes(e);
    if (bytes == UINT64_MAX) return tensor_set_error("save %s: %s: too large", path, e->name), -1;
    if (bytes && !e->data) return tensor_set_error("save %s: %s: data is NULL", path, e->name), -1;
    return 0;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int check_meta(const char *path, int n_meta, const TensorMeta *meta)
{
    for (int i = 0; i < n_meta; i++) {
        const char *k = meta[i].key, *v = meta[i].value;
        if (!k || !v)
            return tensor_set_error("save %s: metadata %d has a NULL %s", path, i,
                                 k ? "value" : "key"),
                   -1;
        if (!tensor__st_utf8_valid((const unsigned char *)k, strlen(k)) ||
            !tensor__st_utf8_valid((const unsigned char *)v, strlen(v)))
            return tensor_set_error("save %s: metadata \"%s\" is not valid UTF-8", path, k), -1;
    }
    /* Duplicates by sorting: O(n log n). */
    const char **keys = malloc((n_meta > 0 ? (size_t)n_meta : 1) * sizeof *keys);
    if (!keys) return tensor_set_error("save %s: out of memory", path), -1;
    for (int i = 0; i < n_meta; i++) keys[i] = meta[i].key;
    qsort(keys, (size_t)n_meta, sizeof *keys, by_key);
    int rc = 0;
    for (int i = 1; i < n_meta && rc == 0; i++)
        if (strcmp(keys[i], keys[i - 1]) == 0) {
            tensor_set_error("save %s: metadata \"%s\" given twice", path, keys[i]);
            rc = -1;
        }
    free(keys);
    return rc;
}

typedef struct {
    const TensorEntry *e;
    int index;
} Item;

/* The reference writer's order: widest dtype first, then by name. */
static int by_write_order(const void *a, const void *b)
{
    const Item *x = a, *y = b;
    if (x->e->dtype != y->e->dtype) return x->e->dtype > y->e->dtype ? -1 : 1;
    return strcmp(x->e->name, y->e->name);
}

static int by_item_name(const void *a, const void *b)
{
    return strcmp(((const Item *)a)->e->name, ((const Item *)b)->e->name);
}

/* Checks the entries and sorts them into items, in write order. */
static int sort_entries(const char *path, int n, const TensorEntry *entries, Item *items)
{
    for (int i = 0; i < n; i++) {
        if (check_entry(path, i, &entries[i])) return -1;
        items[i] = (Item){&entries[i], i};
    }
    qsort(items, (size_t)n, sizeof *items, by_item_name);
    for (int i = 1; i < n; i++)
        if (strcmp(items[i].e->name, items[i - 1].e->name) == 0)
            return tensor_set_error("save %s: tensor %s given twice", path, items[i].e->name), -1;
    qsort(items, (size_t)n, sizeof *items, by_write_order);
    return 0;
}

static void put_entry(TensorText *b, const TensorEntry *e, uint64_t begin, uint64_t end)
{
    put_string(b, e->name);
    tensor__text_printf(b, ":{\"dtype\":\"%s\",\"shape\":[", tensor_dtype_name(e->dtype));
    for (int d = 0; d < e->ndim; d++) tensor__text_printf(b, d ? ",%lld" : "%lld", (long long)e->shape[d]);
    tensor__text_printf(b, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)begin, (unsigned long long)end);
}

char *tensor__st_format_header(const char *path, int n, const TensorEntry *entries, int n_meta,
                               const TensorMeta *meta, int *order, size_t *len)
{
    if (check_meta(path, n_meta, meta)) return NULL;
    Item *items = tensor__xrealloc(NULL, (size_t)n * sizeof *items);
    if (sort_entries(path, n, entries, items)) return free(items), NULL;
    TensorText b = {0};
    tensor__text_put(&b, "{", 1);
    if (n_meta) {
        tensor__text_put(&b, "\"__metadata__\":{", 16);
        for (int i = 0; i < n_meta; i++) {
            if (i) tensor__text_put(&b, ",", 1);
            put_string(&b, meta[i].key);
            tensor__text_put(&b, ":", 1);
            put_string(&b, meta[i].value);
        }
        tensor__text_put(&b, n ? "}," : "}", n ? 2 : 1);
    }
    uint64_t at = 0;
    for (int i = 0; i < n; i++) {
        uint64_t bytes = tensor__st_bytes(items[i].e);
        if (bytes > UINT64_MAX - at) {
            free(items);
            free(b.s);
            return tensor_set_error("save %s: the tensors are too large together", path);
        }
        if (i) tensor__text_put(&b, ",", 1);
        put_entry(&b, items[i].e, at, at + bytes);
        at += bytes;
        order[i] = items[i].index;
    }
    tensor__text_put(&b, "}", 1);
    while (b.len % 8) tensor__text_put(&b, " ", 1);
    free(items);
    if (b.failed) {
        free(b.s);
        return tensor_set_error("save %s: out of memory for the header", path);
    }
    *len = b.len;
    return b.s;
}
