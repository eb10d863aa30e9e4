/*
 * DataLoader (num_workers 0, no generator given) and its iterators, drawing
 * what PyTorch 1.13's draw: _BaseDataLoaderIter.__init__ takes the base
 * seed; RandomSampler.__iter__, run by the batch sampler's first request
 * for an index, takes the order's seed and randperm(len) from a fresh
 * generator; SequentialSampler draws nothing.
 */
#include "data/data_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

struct DataLoader {
    Dataset *data;
    int64_t n;                   /* len(dataset) when the loader was made */
    int64_t batch_size, batches;
    bool shuffle, drop_last;
    DataCollateFn collate;
    void *collate_ctx;
    DataIter *iters;             /* live iterators, to detach when the loader goes */
};

struct DataIter {
    DataLoader *loader;          /* NULL once the loader is freed */
    DataIter *prev, *next;       /* the loader's list */
    int64_t batch;               /* batches given */
    int64_t seed;                /* the pass's order seed; -1 until drawn (shuffle) */
    int64_t *order;              /* shuffle: the pass's order */
};

DataLoader *data_loader(Dataset *d, DataLoaderOptions o)
{
    if (!d) return tensor_set_error("data_loader: NULL dataset");
    if (o.batch_size < 1)
        return tensor_set_error("data_loader: batch_size %lld must be >= 1 (options start from "
                                "DATA_LOADER_OPTIONS(...))", (long long)o.batch_size);
    if (o.shuffle && d->len == 0)
        return tensor_set_error("data_loader: shuffle needs a dataset with at least one item "
                                "(%s has none)", d->type);
    DataLoader *l = calloc(1, sizeof *l);
    if (!l) return tensor_set_error("data_loader: out of memory");
    l->data = d;
    l->n = d->len;
    l->batch_size = o.batch_size;
    l->shuffle = o.shuffle;
    l->drop_last = o.drop_last;
    l->collate = o.collate ? o.collate : data_default_collate;
    l->collate_ctx = o.collate_ctx;
    /* BatchSampler.__len__, without n + batch_size - 1 (it may overflow) */
    l->batches = l->n / l->batch_size + (!l->drop_last && l->n % l->batch_size != 0);
    return l;
}

void data_loader_free(DataLoader *l)
{
    if (!l) return;
    for (DataIter *it = l->iters; it; it = it->next) it->loader = NULL;
    free(l);
}

int64_t data_loader_len(const DataLoader *l)
{
    return l ? l->batches : -1;
}

/* ---- Iterators ---------------------------------------------------------------- */

static DataIter *iter_new(DataLoader *l, const char *fn)
{
    if (!l) return tensor_set_error("%s: NULL loader", fn);
    DataIter *it = calloc(1, sizeof *it);
    if (!it) return tensor_set_error("%s: out of memory", fn);
    it->loader = l;
    it->next = l->iters;
    if (l->iters) l->iters->prev = it;
    l->iters = it;
    return it;
}

DataIter *data_loader_iter(DataLoader *l)
{
    DataIter *it = iter_new(l, "data_loader_iter");
    if (!it) return NULL;
    /* _base_seed = torch.empty((), dtype=torch.int64).random_(): unused without workers */
    tensor_generator_next_u64(NULL);
    it->seed = l->shuffle ? -1 : 0;
    return it;
}

void data_iter_free(DataIter *it)
{
    if (!it) return;
    if (it->loader) {
        if (it->prev) it->prev->next = it->next;
        else it->loader->iters = it->next;
        if (it->next) it->next->prev = it->prev;
    }
    free(it->order);
    free(it);
}

DataIterPosition data_iter_position(const DataIter *it)
{
    return it ? (DataIterPosition){it->batch, it->seed} : (DataIterPosition){0, 0};
}

DataIter *data_loader_iter_at(DataLoader *l, DataIterPosition p)
{
    if (!l) return tensor_set_error("data_loader_iter_at: NULL loader");
    bool seed_ok = l->shuffle ? p.sampler_seed >= 0 || (p.sampler_seed == -1 && p.batch == 0)
                              : p.sampler_seed == 0;
    if (p.batch < 0 || p.batch > l->batches || !seed_ok)
        return tensor_set_error("data_loader_iter_at: batch %lld, seed %lld is not a position "
                                "of this loader (%lld batches, shuffle %s)", (long long)p.batch,
                                (long long)p.sampler_seed, (long long)l->batches,
                                l->shuffle ? "on" : "off");
    DataIter *it = iter_new(l, "data_loader_iter_at");
    if (!it) return NULL;
    it->batch = p.batch;
    it->seed = p.sampler_seed;
    return it;
}

/* RandomSampler.__iter__: the seed (random64 % 2^63, from the default
 * generator) when the pass first needs it, then randperm(n) from a fresh
 * generator seeded with it.  0, or -1 with a message. */
static int make_order(DataIter *it, const char *fn)
{
    DataLoader *l = it->loader;
    if (it->seed < 0)
        it->seed = (int64_t)(tensor_generator_next_u64(NULL) % (UINT64_C(1) << 63));
    if (it->order || it->batch >= l->batches) return 0;
    /* int64 indices, PyTorch's: a float order would stop at 2^24 items */
    if ((uint64_t)l->n > SIZE_MAX / sizeof *it->order ||
        !(it->order = malloc((size_t)l->n * sizeof *it->order)))
        return tensor_set_error("%s: out of memory for the order of %lld items", fn,
                                (long long)l->n), -1;
    TensorGenerator g;
    tensor_generator_seed(&g, (uint64_t)it->seed);
    return tensor_randperm_int64(l->n, it->order, &g);
}

/* A collate's batch: 1 to DATA_MAX_FIELDS tensors, each at least 1-d, of
 * one size in dim 0.  0, or -1 with a message. */
static int check_batch(const char *fn, const DataBatch *b)
{
    if (data__check_fields(fn, "collate's batch", b)) return -1;
    for (int64_t k = 0; k < b->n; k++) {
        if (b->field[k]->ndim == 0)
            return tensor_set_error("%s: collate gave a 0-d field %lld: a batch's fields have "
                                    "the batch dim first", fn, (long long)k), -1;
        if (b->field[k]->shape[0] != b->field[0]->shape[0])
            return tensor_set_error("%s: collate gave fields of different batch sizes: field 0 "
                                    "is %s, field %lld is %s", fn,
                                    tensor_shape_str(b->field[0]), (long long)k,
                                    tensor_shape_str(b->field[k])), -1;
    }
    return 0;
}

/* The next batch's items, collated and checked: 1, 0 at the end, -1. */
static int next_batch(DataIter *it, DataBatch *batch, const char *fn)
{
    *batch = (DataBatch){0};
    if (!it) return tensor_set_error("%s: NULL iterator", fn), -1;
    DataLoader *l = it->loader;
    if (!l) return tensor_set_error("%s: the iterator's loader was freed", fn), -1;
    if (l->shuffle && make_order(it, fn)) return -1;
    if (it->batch >= l->batches) return 0;
    int64_t first = it->batch * l->batch_size;        /* < n: no overflow */
    int64_t B = l->n - first < l->batch_size ? l->n - first : l->batch_size;
    it->batch++;
    DataItem *items = calloc((size_t)B, sizeof *items);    /* calloc checks B * size */
    if (!items)
        return tensor_set_error("%s: out of memory for a batch of %lld items", fn,
                                (long long)B), -1;
    int rc = 0;
    for (int64_t b = 0; b < B && !rc; b++) {
        int64_t i = first + b;
        rc = data_dataset_get(l->data, it->order ? it->order[i] : i, &items[b]);
    }
    if (!rc) rc = l->collate(B, items, batch, l->collate_ctx) ? -1 : check_batch(fn, batch);
    free(items);
    if (rc) {
        *batch = (DataBatch){0};
        return -1;
    }
    return 1;
}

int data_iter_next_batch(DataIter *it, DataBatch *batch)
{
    if (!batch) return tensor_set_error("data_iter_next_batch: NULL batch"), -1;
    return next_batch(it, batch, "data_iter_next_batch");
}

int data_iter_next(DataIter *it, Tensor **x, Tensor **y)
{
    if (y) *y = NULL;
    if (!x) return tensor_set_error("data_iter_next: x is NULL"), -1;
    *x = NULL;
    DataBatch b;
    int got = next_batch(it, &b, "data_iter_next");
    if (got != 1) return got;
    int64_t want = y ? 2 : 1;
    if (b.n != want)
        return tensor_set_error("data_iter_next: the batch has %lld field%s, not %lld "
                                "(data_iter_next_batch takes any number)", (long long)b.n,
                                b.n == 1 ? "" : "s", (long long)want), -1;
    *x = b.field[0];
    if (y) *y = b.field[1];
    return 1;
}

/* ---- default_collate ---------------------------------------------------------- */

int data_default_collate(int64_t n, const DataItem *items, DataBatch *batch, void *ctx)
{
    (void)ctx;
    const char *fn = "data_default_collate";
    if (!items || !batch) return tensor_set_error("%s: NULL %s", fn, items ? "batch" : "items"), -1;
    *batch = (DataBatch){0};
    if (n < 1 || n > INT_MAX)
        return tensor_set_error("%s: %lld items (1 to %d)", fn, (long long)n, INT_MAX), -1;
    for (int64_t b = 0; b < n; b++) {
        if (data__check_fields(fn, "an item", &items[b])) return -1;
        if (items[b].n != items[0].n)
            return tensor_set_error("%s: item %lld has %lld fields, item 0 has %lld", fn,
                                    (long long)b, (long long)items[b].n,
                                    (long long)items[0].n), -1;
        for (int64_t k = 0; k < items[0].n; k++)
            if (!tensor_same_shape(items[b].field[k], items[0].field[k]))
                return tensor_set_error("%s: field %lld is %s in item %lld but %s in item 0: "
                                        "stack needs one shape (pad them in a collate of your "
                                        "own)", fn, (long long)k,
                                        tensor_shape_str(items[b].field[k]), (long long)b,
                                        tensor_shape_str(items[0].field[k])), -1;
    }
    Tensor **ts = calloc((size_t)n, sizeof *ts);
    if (!ts) return tensor_set_error("%s: out of memory for %lld items", fn, (long long)n), -1;
    batch->n = items[0].n;
    for (int64_t k = 0; k < batch->n; k++) {
        for (int64_t b = 0; b < n; b++) ts[b] = items[b].field[k];
        batch->field[k] = tensor_stack((int)n, ts, 0);
    }
    free(ts);
    for (int64_t k = 0; k < batch->n; k++)
        if (!batch->field[k]) {
            *batch = (DataBatch){0};
            return -1;
        }
    return 0;
}
