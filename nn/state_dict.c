/*
 * A module's state_dict saved and loaded alone as safetensors (see nn.h),
 * on the tensor room's file API (tensor/safetensors.h): the file reader
 * checks every name, dtype and shape before it reads a byte; the values go
 * to buffers of our own first, so a NaN weight or a read error changes
 * nothing.  A training run's checkpoint (module, optimizer, generator)
 * lives in the checkpoint room, which lists the same tensors.
 */
#include "nn.h"
#include "tensor/safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The state_dict: parameters then buffers, under their dotted names. */
typedef struct {
    NNList lists[2];
    int64_t count;               /* parameters + buffers */
} StateDict;

static StateDict state_dict(const Module *m)
{
    StateDict d = {{nn_named_parameters(m), nn_named_buffers(m)}, 0};
    d.count = d.lists[0].count + d.lists[1].count;
    return d;
}

static void state_dict_free(StateDict *d)
{
    nn_list_free(&d->lists[0]);
    nn_list_free(&d->lists[1]);
}

/* Entry i of d (a parameter when i < the parameters' count), with data. */
static TensorEntry entry(const StateDict *d, int64_t i, bool *is_param)
{
    int k = i < d->lists[0].count ? 0 : 1;
    int64_t j = k ? i - d->lists[0].count : i;
    if (is_param) *is_param = k == 0;
    return tensor_entry(d->lists[k].names[j], d->lists[k].tensors[j]);
}

static Tensor *tensor_of(const StateDict *d, int64_t i)
{
    return i < d->lists[0].count ? d->lists[0].tensors[i]
                                 : d->lists[1].tensors[i - d->lists[0].count];
}

int nn_module_save(const Module *m, const char *path)
{
    if (!m) return -1;
    StateDict d = state_dict(m);
    TensorEntry *e = malloc((size_t)(d.count + 1) * sizeof *e);
    int rc = -1;
    if (!e)
        tensor_set_error("save %s: out of memory", path ? path : "(null)");
    else if (d.count > INT32_MAX)
        tensor_set_error("save %s: %lld tensors", path ? path : "(null)", (long long)d.count);
    else {
        for (int64_t i = 0; i < d.count; i++) e[i] = entry(&d, i, NULL);
        const TensorMeta format = {"format", "pt"};
        rc = tensor_save_entries(path, (int)d.count, e, 1, &format);
    }
    free(e);
    state_dict_free(&d);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const TensorEntry *)a)->name, ((const TensorEntry *)b)->name);
}

/* A name given twice (a child "a.b" beside a child "a" holding "b") would
 * load one file tensor into two places. */
static int check_unique(const char *path, const TensorEntry *e, int64_t n)
{
    TensorEntry *sorted = malloc((size_t)(n + 1) * sizeof *sorted);
    if (!sorted) return tensor_set_error("load %s: out of memory", path), -1;
    memcpy(sorted, e, (size_t)n * sizeof *e);
    qsort(sorted, (size_t)n, sizeof *sorted, by_name);
    int rc = 0;
    for (int64_t i = 1; i < n && rc == 0; i++)
        if (strcmp(sorted[i].name, sorted[i - 1].name) == 0) {
            tensor_set_error("load %s: %s is named twice in the module", path, sorted[i].name);
            rc = -1;
        }
    free(sorted);
    return rc;
}

/* The file's values into staging buffers (e[i].data), the parameters'
 * checked finite, the buffers as nn_check_loaded wants them: 0, or -1 with
 * a message. */
static int read_staged(const TensorFile *f, const char *path, const Module *m,
                       const StateDict *d, TensorEntry *e)
{
    for (int64_t i = 0; i < d->count; i++) {
        bool is_param;
        e[i] = entry(d, i, &is_param);
        e[i].data = malloc((size_t)tensor_of(d, i)->numel * sizeof(float) + 1);
        if (!e[i].data) return tensor_set_error("load %s: %s: out of memory", path, e[i].name), -1;
    }
    if (check_unique(path, e, d->count) || tensor_file_read(f, (int)d->count, e, "module"))
        return -1;
    for (int64_t i = 0; i < d->lists[0].count; i++) {
        const float *v = e[i].data;
        for (int64_t j = 0; j < tensor_of(d, i)->numel; j++)
            if (!isfinite(v[j]))
                return tensor_set_error("load %s: %s holds a NaN or an infinity", path,
                                        e[i].name),
                       -1;
    }
    for (int64_t i = d->lists[0].count; i < d->count; i++)
        if (nn_check_loaded(m, e[i].name, e[i].data)) {
            char why[512];
            snprintf(why, sizeof why, "%s", tensor_error());
            return tensor_set_error("load %s: %s", path, why), -1;
        }
    return 0;
}

int nn_module_load(Module *m, const char *path)
{
    if (!m) return -1;
    StateDict d = state_dict(m);
    TensorEntry *e = calloc((size_t)(d.count + 1), sizeof *e);
    TensorFile *f = e && d.count <= INT32_MAX ? tensor_file_open(path) : NULL;
    if (!e) tensor_set_error("load %s: out of memory", path ? path : "(null)");
    else if (d.count > INT32_MAX)
        tensor_set_error("load %s: %lld tensors", path ? path : "(null)", (long long)d.count);
    int rc = f && read_staged(f, path, m, &d, e) == 0 ? 0 : -1;
    for (int64_t i = 0; rc == 0 && i < d.count; i++) {
        Tensor *t = tensor_of(&d, i);
        memcpy(t->data, e[i].data, (size_t)t->numel * sizeof(float));
        tensor_bump_version(t);
    }
    for (int64_t i = 0; e && i < d.count; i++) free(e[i].data);
    free(e);
    tensor_file_close(f);
    state_dict_free(&d);
    return rc;
}
