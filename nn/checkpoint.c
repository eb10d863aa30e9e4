/*
 * Saving and loading a module's state_dict as safetensors (see nn.h).  The
 * file format and its checks live in tensor/io/safetensors.c; this file only
 * lists the module's tensors under their state_dict names.
 */
#include "nn.h"

#include <assert.h>
#include <stdlib.h>

/* The module's parameters then buffers, as entries that point at their
 * data (long-lived tensors are contiguous, so reads land in them).  The
 * names belong to *names; free both lists and the entries.  NULL with a
 * message when out of memory. */
static TensorEntry *state_dict(const Module *m, NNList names[2], int *n)
{
    names[0] = nn_named_parameters(m);
    names[1] = nn_named_buffers(m);
    *n = names[0].count + names[1].count;
    TensorEntry *e = malloc((size_t)(*n ? *n : 1) * sizeof *e);
    if (!e) return tensor_set_error("state_dict: out of memory for %d entries", *n);
    int k = 0;
    for (int l = 0; l < 2; l++) {
        for (int i = 0; i < names[l].count; i++) {
            const Tensor *t = names[l].tensors[i];
            assert(tensor_is_contiguous(t));
            e[k] = tensor_entry(names[l].names[i], t);
            k++;
        }
    }
    return e;
}

static void free_state_dict(TensorEntry *e, NNList names[2])
{
    free(e);
    nn_list_free(&names[0]);
    nn_list_free(&names[1]);
}

int nn_module_save(const Module *m, const char *path)
{
    if (!m) return -1;
    NNList names[2];
    int n;
    TensorEntry *e = state_dict(m, names, &n);
    const TensorMeta format = {"format", "pt"};
    int rc = e ? tensor_save_entries(path, n, e, 1, &format) : -1;
    free_state_dict(e, names);
    return rc;
}

int nn_module_load(Module *m, const char *path)
{
    if (!m) return -1;
    TensorFile *f = tensor_file_open(path);
    if (!f) return -1;
    NNList names[2];
    int n;
    TensorEntry *e = state_dict(m, names, &n);
    int rc = e ? tensor_file_read(f, n, e, "module") : -1;
    free_state_dict(e, names);
    tensor_file_close(f);
    return rc;
}
