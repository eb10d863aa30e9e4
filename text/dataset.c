/*
 * The book's GPTDatasetV1 and a DataLoader over it (num_workers 0), with
 * PyTorch's draws: the same seed gives the same batches in the same order.
 */
#include "text/text.h"

#include <stdlib.h>
#include <string.h>

struct TextDataset {
    int64_t *ids;
    size_t n;
    int64_t max_length, stride, windows;
};

struct TextLoader {
    const TextDataset *data;
    int64_t batch_size, batches;
    bool shuffle, drop_last;
    TextLoaderPosition pos;
    int64_t *order;              /* this epoch's window order */
};

TextDataset *text_dataset_v1(const int64_t *ids, size_t n, int64_t max_length, int64_t stride)
{
    if (max_length < 1 || stride < 1)
        return tensor_set_error("text_dataset_v1: max_length %lld and stride %lld must be >= 1",
                                (long long)max_length, (long long)stride);
    if (!ids || n <= (size_t)max_length)
        return tensor_set_error("text_dataset_v1: %zu tokens make no window: max_length %lld "
                                "needs at least %lld (inputs and targets shifted by one)",
                                ids ? n : 0, (long long)max_length, (long long)max_length + 1);
    TextDataset *d = calloc(1, sizeof *d);
    if (d) d->ids = malloc(n * sizeof *ids);
    if (!d || !d->ids) {
        free(d);
        return tensor_set_error("text_dataset_v1: out of memory for %zu tokens", n);
    }
    memcpy(d->ids, ids, n * sizeof *ids);
    d->n = n;
    d->max_length = max_length;
    d->stride = stride;
    /* for i in range(0, n - max_length, stride) */
    d->windows = ((int64_t)n - max_length + stride - 1) / stride;
    return d;
}

void text_dataset_free(TextDataset *d)
{
    if (!d) return;
    free(d->ids);
    free(d);
}

int64_t text_dataset_len(const TextDataset *d)
{
    return d ? d->windows : -1;
}

int64_t text_dataset_max_length(const TextDataset *d)
{
    return d ? d->max_length : -1;
}

int text_dataset_get(const TextDataset *d, int64_t i, int64_t *input, int64_t *target)
{
    if (!d) return tensor_set_error("text_dataset_get: NULL dataset"), -1;
    if (i < 0 || i >= d->windows)
        return tensor_set_error("text_dataset_get: window %lld of %lld", (long long)i,
                                (long long)d->windows), -1;
    size_t start = (size_t)(i * d->stride), T = (size_t)d->max_length;
    if (input) memcpy(input, d->ids + start, T * sizeof *input);
    if (target) memcpy(target, d->ids + start + 1, T * sizeof *target);
    return 0;
}

TextLoader *text_loader(const TextDataset *d, int64_t batch_size, bool shuffle, bool drop_last)
{
    if (!d) return tensor_set_error("text_loader: NULL dataset");
    if (batch_size < 1)
        return tensor_set_error("text_loader: batch_size %lld must be >= 1", (long long)batch_size);
    TextLoader *l = calloc(1, sizeof *l);
    if (l) l->order = malloc((size_t)d->windows * sizeof *l->order);
    if (!l || !l->order) {
        free(l);
        return tensor_set_error("text_loader: out of memory for %lld windows", (long long)d->windows);
    }
    l->data = d;
    l->batch_size = batch_size;
    l->shuffle = shuffle;
    l->drop_last = drop_last;
    l->batches = drop_last ? d->windows / batch_size : (d->windows + batch_size - 1) / batch_size;
    return l;
}

void text_loader_free(TextLoader *l)
{
    if (!l) return;
    free(l->order);
    free(l);
}

int64_t text_loader_len(const TextLoader *l)
{
    return l ? l->batches : -1;
}

/* The epoch's order: 0..n-1, or RandomSampler's randperm(n) from a fresh
 * generator seeded with the epoch's sampler seed. */
static int make_order(TextLoader *l)
{
    int64_t n = l->data->windows;
    if (!l->shuffle) {
        for (int64_t i = 0; i < n; i++) l->order[i] = i;
        return 0;
    }
    TensorGenerator g;
    tensor_generator_seed(&g, l->pos.sampler_seed);
    TensorScope *scope = tensor_scope_begin();
    Tensor *perm = tensor_randperm(n, &g);
    for (int64_t i = 0; perm && i < n; i++) l->order[i] = (int64_t)perm->data[i];
    tensor_scope_end(scope);
    return perm ? 0 : -1;
}

int text_loader_begin(TextLoader *l)
{
    if (!l) return tensor_set_error("text_loader_begin: NULL loader"), -1;
    /* _BaseDataLoaderIter: _base_seed = torch.empty((), dtype=torch.int64).random_() */
    tensor_generator_next_u64(NULL);
    uint64_t seed = 0;
    if (l->shuffle)   /* RandomSampler.__iter__: the same draw, random64 % 2^63 */
        seed = tensor_generator_next_u64(NULL) % (UINT64_C(1) << 63);
    l->pos = (TextLoaderPosition){l->pos.epoch + 1, 0, seed};
    return make_order(l);
}

bool text_loader_next(TextLoader *l, Tensor **x, Tensor **y)
{
    if (!l || !x || !y) return tensor_set_error("text_loader_next: NULL argument"), false;
    *x = *y = NULL;
    if (l->pos.epoch == 0)
        return tensor_set_error("text_loader_next: no epoch begun (call text_loader_begin)"), false;
    if (l->pos.batch >= l->batches) return false;
    int64_t first = l->pos.batch * l->batch_size, n = l->data->windows;
    int64_t B = first + l->batch_size <= n ? l->batch_size : n - first, T = l->data->max_length;
    Tensor *xs = tensor_empty(SHAPE(B, T)), *ys = tensor_empty(SHAPE(B, T));
    int64_t *in = malloc((size_t)(2 * T) * sizeof *in);
    if (!xs || !ys || !in) {
        free(in);
        return tensor_set_error("text_loader_next: out of memory for a (%lld, %lld) batch",
                                (long long)B, (long long)T), false;
    }
    for (int64_t b = 0; b < B; b++) {
        text_dataset_get(l->data, l->order[first + b], in, in + T);
        for (int64_t t = 0; t < T; t++) {
            xs->data[b * T + t] = (float)in[t];
            ys->data[b * T + t] = (float)in[T + t];
        }
    }
    free(in);
    l->pos.batch++;
    *x = xs;
    *y = ys;
    return true;
}

TextLoaderPosition text_loader_position(const TextLoader *l)
{
    return l ? l->pos : (TextLoaderPosition){0, 0, 0};
}

int text_loader_seek(TextLoader *l, TextLoaderPosition p)
{
    if (!l) return tensor_set_error("text_loader_seek: NULL loader"), -1;
    if (p.epoch < 0 || p.batch < 0 || p.batch > l->batches || (p.epoch == 0 && p.batch != 0) ||
        (!l->shuffle && p.sampler_seed != 0) || p.sampler_seed >= UINT64_C(1) << 63)
        return tensor_set_error("text_loader_seek: epoch %lld, batch %lld, seed %llu is not a "
                                "position of this loader (%lld batches, shuffle %s)",
                                (long long)p.epoch, (long long)p.batch,
                                (unsigned long long)p.sampler_seed, (long long)l->batches,
                                l->shuffle ? "on" : "off"), -1;
    l->pos = p;
    return p.epoch ? make_order(l) : 0;
}
