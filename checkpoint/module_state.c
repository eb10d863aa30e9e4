/*
 * A module's entries of a run state (see checkpoint.h): its state_dict, the
 * parameters then the buffers under their dotted names, as nn_module_save
 * writes them, so PyTorch loads them with load_state_dict.
 */
#include "run_state.h"

#include <stdio.h>
#include <stdlib.h>

/* The buffers' staged values, as nn_check_loaded wants them (a causal mask
 * the module's forward would not honour is refused). */
typedef struct {
    const Module *m;
    NNList buffers;
} Buffers;

static int check_buffers(void *ctx, const CheckpointState *s)
{
    const Buffers *b = ctx;
    for (int64_t i = 0; i < b->buffers.count; i++)
        if (nn_check_loaded(b->m, b->buffers.names[i],
                            checkpoint__state_staged(s, b->buffers.names[i]))) {
            char why[512];
            snprintf(why, sizeof why, "%s", tensor_error());
            return checkpoint__state_fail(s, "%s", why), -1;
        }
    return 0;
}

static void release_buffers(void *ctx) { nn_list_free(&((Buffers *)ctx)->buffers); }

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
    Buffers *b = rc == 0 ? malloc(sizeof *b) : NULL;
    if (!b) {
        if (rc == 0) tensor_set_error("checkpoint: out of memory");
        nn_list_free(&lists[1]);
        return -1;
    }
    static const CheckpointStateHooks hooks = {.check = check_buffers,
                                               .release = release_buffers};
    *b = (Buffers){m, lists[1]};
    return checkpoint__state_add_part(s, &hooks, b);   /* the state frees b */
}
