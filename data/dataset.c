/*
 * Datasets: the Dataset header's plumbing, dataset[i] with its checks, and
 * TensorDataset (torch.utils.data.TensorDataset).
 */
#include "data/data_internal.h"

#include <stdlib.h>

void *data_dataset_new(size_t size, const char *type, int64_t len, DataGetFn get)
{
    if (size < sizeof(Dataset))
        return tensor_set_error("data_dataset_new: size %zu is smaller than the Dataset header "
                                "(%zu bytes)", size, sizeof(Dataset));
    if (len < 0) return tensor_set_error("data_dataset_new: %s: len %lld must be >= 0",
                                         type ? type : "dataset", (long long)len);
    if (!get) return tensor_set_error("data_dataset_new: %s: no get function",
                                      type ? type : "dataset");
    Dataset *d = calloc(1, size);
    if (!d) return tensor_set_error("data_dataset_new: out of memory for %zu bytes", size);
    d->type = type ? type : "Dataset";
    d->len = len;
    d->get = get;
    return d;
}

void data_dataset_free(Dataset *d)
{
    if (!d) return;
    if (d->destroy) d->destroy(d);
    free(d);
}

int64_t data_dataset_len(const Dataset *d)
{
    return d ? d->len : -1;
}

int data__check_fields(const char *fn, const char *what, const DataItem *item)
{
    if (item->n < 1 || item->n > DATA_MAX_FIELDS)
        return tensor_set_error("%s: %s has %lld fields (1 to %d)", fn, what, (long long)item->n,
                                DATA_MAX_FIELDS), -1;
    for (int64_t k = 0; k < item->n; k++)
        if (!item->field[k]) {
            if (!*tensor_error())
                tensor_set_error("%s: %s: field %lld is NULL", fn, what, (long long)k);
            return -1;
        }
    return 0;
}

int data_dataset_get(Dataset *d, int64_t i, DataItem *item)
{
    if (!d || !item) return tensor_set_error("data_dataset_get: NULL %s",
                                             d ? "item" : "dataset"), -1;
    *item = (DataItem){0};
    if (i < 0 || i >= d->len)
        return tensor_set_error("data_dataset_get: %s index %lld of %lld", d->type, (long long)i,
                                (long long)d->len), -1;
    if (d->get(d, i, item) != 0) return -1;
    char what[96];
    snprintf(what, sizeof what, "%s item %lld", d->type, (long long)i);
    return data__check_fields("data_dataset_get", what, item);
}

/* ---- TensorDataset ---------------------------------------------------------- */

typedef struct {
    Dataset base;
    int64_t n;
    Tensor *tensors[DATA_MAX_FIELDS];   /* long-lived copies, dim 0 the item */
} TensorDataset;

/* item i: tensors[k][i], a view */
static int tensor_dataset_get(Dataset *d, int64_t i, DataItem *item)
{
    TensorDataset *td = (TensorDataset *)d;
    item->n = td->n;
    for (int64_t k = 0; k < td->n; k++)
        item->field[k] = tensor_squeeze(tensor_narrow(td->tensors[k], 0, i, 1), 0);
    return 0;
}

static void tensor_dataset_destroy(Dataset *d)
{
    TensorDataset *td = (TensorDataset *)d;
    for (int64_t k = 0; k < td->n; k++) tensor_free(td->tensors[k]);
}

Dataset *data_tensor_dataset(int64_t n, Tensor *const *tensors)
{
    if (n < 1 || n > DATA_MAX_FIELDS)
        return tensor_set_error("data_tensor_dataset: %lld tensors (1 to %d)", (long long)n,
                                DATA_MAX_FIELDS);
    if (!tensors) return tensor_set_error("data_tensor_dataset: the list of tensors is NULL");
    for (int64_t k = 0; k < n; k++) {
        if (!tensors[k]) {
            if (!*tensor_error())
                tensor_set_error("data_tensor_dataset: tensor %lld is NULL", (long long)k);
            return NULL;
        }
        if (tensors[k]->ndim == 0)
            return tensor_set_error("data_tensor_dataset: tensor %lld is 0-d: its first dim "
                                    "is the item dim", (long long)k);
        if (tensors[k]->shape[0] != tensors[0]->shape[0])
            return tensor_set_error("data_tensor_dataset: size mismatch in dim 0: tensor 0 "
                                    "is %s, tensor %lld is %s", tensor_shape_str(tensors[0]),
                                    (long long)k, tensor_shape_str(tensors[k]));
    }
    TensorDataset *td = data_dataset_new(sizeof *td, "TensorDataset", tensors[0]->shape[0],
                                         tensor_dataset_get);
    if (!td) return NULL;
    td->base.destroy = tensor_dataset_destroy;
    for (int64_t k = 0; k < n; k++) {
        Tensor *copy = tensor_keep(tensors[k]);
        if (!copy) {
            data_dataset_free(DATA(td));
            return NULL;
        }
        tensor_requires_grad_(copy, false);
        tensor_set_name(copy, NULL);
        td->tensors[td->n++] = copy;
    }
    return DATA(td);
}
