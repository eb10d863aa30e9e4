/*
 * A module's state_dict as entries of a run state (see nn.h), and saving and
 * loading it alone as safetensors.  The file format, its checks and the
 * all-or-nothing load live in the tensor room (tensor/io/safetensors.h); this
 * file only lists the module's tensors under their state_dict names.
 */
#include "nn.h"

int nn_state_add(TensorState *s, const Module *m)
{
    if (!s || !m) return -1;
    NNList lists[2] = {nn_named_parameters(m), nn_named_buffers(m)};
    int rc = 0;
    /* Parameters must be finite (a NaN weight is a run gone wrong); a buffer
     * may hold infinities (an additive mask of -inf). */
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < lists[k].count && rc == 0; i++)
            rc = tensor_state_add_tensor(s, lists[k].names[i], lists[k].tensors[i],
                                         k == 0 ? TENSOR_STATE_FINITE : 0);
    nn_list_free(&lists[0]);
    nn_list_free(&lists[1]);
    return rc;
}

int nn_module_save(const Module *m, const char *path)
{
    if (!m) return -1;
    TensorState *s = tensor_state_new("module");
    const TensorMeta format = {"format", "pt"};
    int rc = nn_state_add(s, m) ? -1 : tensor_state_save(s, path, 1, &format);
    tensor_state_free(s);
    return rc;
}

int nn_module_load(Module *m, const char *path)
{
    if (!m) return -1;
    TensorState *s = tensor_state_new("module");
    int rc = nn_state_add(s, m) ? -1 : tensor_state_load(s, path, 0, NULL);
    tensor_state_free(s);
    return rc;
}
