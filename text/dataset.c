/*
 * The book's GPTDatasetV1 as a data room Dataset: item i is the window of
 * max_length ids at i * stride and the same window shifted by one, views of
 * one long-lived tensor holding every id.
 */
#include "text/text.h"

typedef struct {
    Dataset base;
    Tensor *ids;                 /* (n) float ids, long-lived */
    int64_t max_length, stride;
} GPTDatasetV1;

/* input_chunk = token_ids[i:i + max_length], target_chunk = token_ids[i + 1:i + max_length + 1] */
static int window(Dataset *d, int64_t i, DataItem *item)
{
    GPTDatasetV1 *g = (GPTDatasetV1 *)d;
    int64_t start = i * g->stride;
    item->n = 2;
    item->field[0] = tensor_narrow(g->ids, 0, start, g->max_length);
    item->field[1] = tensor_narrow(g->ids, 0, start + 1, g->max_length);
    return 0;
}

static void destroy(Dataset *d)
{
    tensor_free(((GPTDatasetV1 *)d)->ids);
}

/* ids as a long-lived (n) tensor of floats; NULL with a message. */
static Tensor *float_ids(const int64_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] > (INT64_C(1) << 24) || ids[i] < -(INT64_C(1) << 24))
            return tensor_set_error("text_dataset_v1: id %lld at %zu is not exact as a float "
                                    "(ids are float32 here, exact to 2^24)", (long long)ids[i], i);
    TensorScope *scope = tensor_scope_begin();
    Tensor *t = tensor_empty(SHAPE((int64_t)n));
    for (size_t i = 0; t && i < n; i++) t->data[i] = (float)ids[i];
    Tensor *kept = tensor_keep(t);
    tensor_scope_end(scope);
    return kept;
}

Dataset *text_dataset_v1(const int64_t *ids, size_t n, int64_t max_length, int64_t stride)
{
    if (max_length < 1 || stride < 1)
        return tensor_set_error("text_dataset_v1: max_length %lld and stride %lld must be >= 1",
                                (long long)max_length, (long long)stride);
    if (!ids || n <= (size_t)max_length)
        return tensor_set_error("text_dataset_v1: %zu tokens make no window: max_length %lld "
                                "needs at least %llu (inputs and targets shifted by one)",
                                ids ? n : 0, (long long)max_length,
                                (unsigned long long)max_length + 1);
    /* for i in range(0, n - max_length, stride): ceil((n - max_length) / stride) */
    int64_t windows = ((int64_t)n - max_length - 1) / stride + 1;
    GPTDatasetV1 *g = data_dataset_new(sizeof *g, "GPTDatasetV1", windows, window);
    if (!g) return NULL;
    if (!(g->ids = float_ids(ids, n))) {
        data_dataset_free(DATA(g));
        return NULL;
    }
    g->base.destroy = destroy;
    g->max_length = max_length;
    g->stride = stride;
    return DATA(g);
}
