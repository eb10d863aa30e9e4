/* Gradcheck rows for tensor/ops/dropout.c (see tests/gradcheck.h). */
#include "gradcheck.h"

/* Dropout draws a mask: each call re-seeds a private generator so that every
 * evaluation of the finite differences sees the same mask.  The op is linear
 * in x, so the default tolerances hold with room to spare. */
static Tensor *dropout_fn(Tensor *const *in, void *ctx)
{
    (void)ctx;
    TensorGenerator g;
    tensor_generator_seed(&g, 99);
    return tensor_dropout(in[0], 0.4f, true, &g);
}

#define DROPOUT(name, shape) {name, OP_DROPOUT, 1, {shape}, dropout_fn, 0, 0, 0, 0, 0, {0}}

const GradcheckRow gradcheck_dropout[] = {
    DROPOUT("dropout p=0.4 (3,4)", "3,4"),
    DROPOUT("dropout p=0.4 transposed (4,3)T", "4,3T"),
    DROPOUT("dropout p=0.4 sliced (3,4)S", "3,4S"),
    DROPOUT("dropout p=0.4 (2,3,5)", "2,3,5"),
    {0},
};
