/*
 * A module's entries of a run state (see checkpoint.h): its state_dict, the
 * parameters then the buffers under their dotted names, as nn_module_save
 * writes them, so PyTorch loads them with load_state_dict.
 */
#include "run_state.h"

int checkpoint__module_add(CheckpointState *s, const Module *m)
{
    if (!s || !m) return -1;
    NNList lists[2] = {nn_named_parameters(m), nn_named_buffers(m)};
    int rc = 0;
    /* Parameters must be finite (a NaN weight is a run gone wrong); a buffer
     * may hold infinities (an additive mask of -inf). */
    for (int k = 0; k < 2; k++)
        for (int64_t i = 0; i < lists[k].count && rc == 0; i++)
            rc = checkpoint__state_add_tensor(s, lists[k].names[i], lists[k].tensors[i],
                                              k == 0 ? CHECKPOINT__FINITE : 0);
    nn_list_free(&lists[0]);
    nn_list_free(&lists[1]);
    return rc;
}
