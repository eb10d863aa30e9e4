/*
 * Gradcheck rows for tensor/ops/activation.c (see tests/gradcheck.h):
 * SiLU, LeakyReLU and Softplus on contiguous, transposed, sliced and 0-d
 * inputs.
 *
 * Kinks: leaky_relu's slope changes at 0, and softplus switches to x itself
 * where beta x > threshold (a step of log1p(exp(-threshold)) / beta in its
 * value, 0.0034 for beta 2, threshold 5).  Their rows keep every input at
 * least 0.1 from those points (eps is 1e-2): leaky_relu's contiguous row
 * draws x from [0.1, 1) and moves every other column below -0.1, as
 * gradcheck_elementwise.c's relu rows; softplus draws from ranges on one
 * side of its threshold.  SiLU and softplus are smooth elsewhere, with
 * third derivatives below 1: truncation error eps^2 / 6 < 2e-5.
 */
#include "gradcheck.h"

/* x in [0.1, 1): columns alternate between (0.1, 1) and (-1, -0.1). */
static Tensor *both_signs(const Tensor *x)
{
    int64_t len = x->ndim ? x->shape[x->ndim - 1] : 1;
    float row[16];
    if (len > 16) return NULL;
    for (int64_t k = 0; k < len; k++) row[k] = k % 2 ? -1.1f : 0.0f;
    return tensor_add(x, tensor_from_data(row, 1, &len));
}

FN(f_silu, tensor_silu(x[0]))
FN(f_leaky, tensor_leaky_relu(x[0], 0.01f))
FN(f_leaky_both, tensor_leaky_relu(both_signs(x[0]), 0.2f))
FN(f_leaky_steep, tensor_leaky_relu(x[0], -1.5f))
FN(f_softplus, tensor_softplus(x[0], 1.0f, 20.0f))
FN(f_softplus_b2, tensor_softplus(x[0], 2.0f, 5.0f))

#define ROW(name_, op_, shape_, fn_, lo_, hi_) \
    {.name = name_, .op = op_, .n = 1, .shapes = {shape_}, .fn = fn_, .lo = lo_, .hi = hi_}

const GradcheckRow gradcheck_activation[] = {
    ROW("silu (3,4)", OP_SILU, "3,4", f_silu, -4, 4),
    ROW("silu (4,3)T", OP_SILU, "4,3T", f_silu, -4, 4),
    ROW("silu (3,4)S", OP_SILU, "3,4S", f_silu, -4, 4),
    ROW("silu ()", OP_SILU, "", f_silu, -4, 4),
    ROW("leaky_relu 0.2 both sides (3,6)", OP_LEAKY_RELU, "3,6", f_leaky_both, 0.1f, 1.0f),
    ROW("leaky_relu 0.01 positive (4,3)T", OP_LEAKY_RELU, "4,3T", f_leaky, 0.1f, 1.0f),
    ROW("leaky_relu 0.01 negative (3,4)S", OP_LEAKY_RELU, "3,4S", f_leaky, -1.0f, -0.1f),
    ROW("leaky_relu -1.5 negative ()", OP_LEAKY_RELU, "", f_leaky_steep, -1.0f, -0.1f),
    ROW("softplus (3,4)", OP_SOFTPLUS, "3,4", f_softplus, -5, 5),
    ROW("softplus (4,3)T", OP_SOFTPLUS, "4,3T", f_softplus, -5, 5),
    ROW("softplus past the threshold (3,4)S", OP_SOFTPLUS, "3,4S", f_softplus, 20.5f, 25),
    ROW("softplus beta 2 threshold 5 below (3,4)", OP_SOFTPLUS, "3,4", f_softplus_b2, -2, 2.4f),
    ROW("softplus beta 2 threshold 5 above (4,3)T", OP_SOFTPLUS, "4,3T", f_softplus_b2, 2.6f, 4),
    ROW("softplus beta 2 threshold 5 ()", OP_SOFTPLUS, "", f_softplus_b2, -1, 1),
    {0},
};
