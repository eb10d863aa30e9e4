/*
 * Gradcheck rows for tensor/ops/elementwise.c (see tests/gradcheck.h).
 *
 * Every op gets a contiguous row, non-contiguous rows ("4,3T" transposed,
 * "3,4S" a slice with an offset) and, for the binary ops, broadcasting rows:
 * (3,1) with (1,4), (2,3,4) with (4), and a 0-d scalar with (2,3).
 *
 * Domains: log, sqrt and pow with a non-integer or negative exponent draw
 * inputs from [0.5, 2), where they are smooth; div draws both operands from
 * [0.5, 2) so that the divisor stays away from 0.
 *
 * Kinks: relu, abs and clamp are not differentiable at 0 (relu, abs) or at
 * their bounds (clamp); a central difference across a kink gives half the
 * slope.  Their contiguous rows draw x from a range well inside one side and
 * add a fixed offset pattern along the last dim that moves some columns to
 * the other side(s), so both branches are checked and every input stays at
 * least 0.1 from a kink (eps is 1e-2).  The non-contiguous rows use one side
 * only, so the op itself reads the strided input.
 */
#include "gradcheck.h"

#include <math.h>

/* x + offsets[k % n] along the last dim (a constant: no gradient of its own);
 * NULL (a failed row) for a last dim longer than 64. */
static Tensor *shifted(const Tensor *x, int n, const float *offsets)
{
    int64_t len = x->ndim ? x->shape[x->ndim - 1] : 1;
    float row[64];
    if (len > 64) return NULL;
    for (int64_t k = 0; k < len; k++) row[k] = offsets[k % n];
    return tensor_add(x, tensor_from_data(row, 1, &len));
}

/* x in [0.1, 1): columns alternate between (0.1, 1) and (-1, -0.1). */
static Tensor *both_signs(const Tensor *x)
{
    return shifted(x, 2, (const float[]){0.0f, -1.1f});
}

/* x in [0.1, 0.9): columns below -1, inside [-1, 1], above 1. */
static Tensor *three_sides(const Tensor *x)
{
    return shifted(x, 3, (const float[]){-2.0f, 0.0f, 2.0f});
}

FN(f_add, tensor_add(x[0], x[1]))
FN(f_sub, tensor_sub(x[0], x[1]))
FN(f_mul, tensor_mul(x[0], x[1]))
FN(f_div, tensor_div(x[0], x[1]))
FN(f_square, tensor_mul(x[0], x[0]))
FN(f_add_scalar, tensor_add_scalar(x[0], 0.5f))
FN(f_sub_scalar, tensor_sub_scalar(x[0], 0.75f))
FN(f_mul_scalar, tensor_mul_scalar(x[0], -1.5f))
FN(f_div_scalar, tensor_div_scalar(x[0], sqrtf(2.0f)))
FN(f_neg, tensor_neg(x[0]))
FN(f_pow0, tensor_pow(x[0], 0.0f))
FN(f_pow1, tensor_pow(x[0], 1.0f))
FN(f_pow2, tensor_pow(x[0], 2.0f))
FN(f_pow3, tensor_pow(x[0], 3.0f))
FN(f_pow_half, tensor_pow(x[0], 0.5f))
FN(f_pow_mhalf, tensor_pow(x[0], -0.5f))
FN(f_pow_m1, tensor_pow(x[0], -1.0f))
FN(f_pow_m2, tensor_pow(x[0], -2.0f))
FN(f_pow_1_5, tensor_pow(x[0], 1.5f))
FN(f_pow_m2_5, tensor_pow(x[0], -2.5f))
FN(f_exp, tensor_exp(x[0]))
FN(f_log, tensor_log(x[0]))
FN(f_sqrt, tensor_sqrt(x[0]))
FN(f_tanh, tensor_tanh(x[0]))
FN(f_sigmoid, tensor_sigmoid(x[0]))
FN(f_gelu, tensor_gelu(x[0]))
FN(f_gelu_wide, tensor_gelu(tensor_mul_scalar(x[0], 3.0f)))
FN(f_relu, tensor_relu(x[0]))
FN(f_relu_both, tensor_relu(both_signs(x[0])))
FN(f_abs, tensor_abs(x[0]))
FN(f_abs_both, tensor_abs(both_signs(x[0])))
FN(f_clamp, tensor_clamp(x[0], -0.5f, 1.5f))
FN(f_clamp_sides, tensor_clamp(three_sides(x[0]), -1.0f, 1.0f))
FN(f_clamp_min, tensor_clamp(three_sides(x[0]), -1.0f, INFINITY))
FN(f_clamp_max, tensor_clamp(three_sides(x[0]), -INFINITY, 1.0f))
FN(f_clone, tensor_clone(x[0]))

/* Binary rows for op f: contiguous, non-contiguous, and the broadcasts. */
#define BINARY_ROWS(label, OPID, f, lo, hi)                                       \
    {label " (3,4)", OPID, 2, {"3,4", "3,4"}, f, lo, hi, 0, 0, 0, {0}},           \
    {label " strided (4,3)T (4,3)S", OPID, 2, {"4,3T", "4,3S"}, f, lo, hi, 0, 0, 0, {0}}, \
    {label " broadcast (3,1) (1,4)", OPID, 2, {"3,1", "1,4"}, f, lo, hi, 0, 0, 0, {0}}, \
    {label " broadcast (2,3,4) (4)", OPID, 2, {"2,3,4", "4"}, f, lo, hi, 0, 0, 0, {0}}, \
    {label " broadcast () (2,3)", OPID, 2, {"", "2,3"}, f, lo, hi, 0, 0, 0, {0}},   \
    {label " broadcast (2,3)T ()", OPID, 2, {"2,3T", ""}, f, lo, hi, 0, 0, 0, {0}}

/* Unary rows: contiguous, transposed, sliced, 0-d. */
#define UNARY_ROWS(label, OPID, f, lo, hi)                                      \
    {label " (3,4)", OPID, 1, {"3,4"}, f, lo, hi, 0, 0, 0, {0}},                \
    {label " (4,3)T", OPID, 1, {"4,3T"}, f, lo, hi, 0, 0, 0, {0}},              \
    {label " (3,4)S", OPID, 1, {"3,4S"}, f, lo, hi, 0, 0, 0, {0}},              \
    {label " ()", OPID, 1, {""}, f, lo, hi, 0, 0, 0, {0}}

FN(f_rsub_scalar, tensor_rsub_scalar(x[0], 1.0f))
FN(f_rdiv_scalar, tensor_rdiv_scalar(x[0], 10.0f))
FN(f_reciprocal, tensor_reciprocal(x[0]))

const GradcheckRow gradcheck_elementwise[] = {
    UNARY_ROWS("rsub_scalar 1 - x", OP_RSUB_SCALAR, f_rsub_scalar, 0, 0),
    /* 1/x on [0.5, 2): the third derivative 6/x^4 is at most 96, so the
     * truncation error eps^2/6 * 96 = 1.6e-3, inside rtol 1e-2 of gradients
     * of size 0.25 to 4. */
    UNARY_ROWS("reciprocal", OP_RECIPROCAL, f_reciprocal, 0.5f, 2.0f),
    {"rdiv_scalar 10 / x (3,4)", OP_MUL_SCALAR, 1, {"3,4"}, f_rdiv_scalar, 0.5f, 2.0f, 0, 0, 0, {0}},
    BINARY_ROWS("add", OP_ADD, f_add, 0, 0),
    BINARY_ROWS("sub", OP_SUB, f_sub, 0, 0),
    BINARY_ROWS("mul", OP_MUL, f_mul, 0, 0),
    {"mul x*x (same input twice)", OP_MUL, 1, {"3,4"}, f_square, 0, 0, 0, 0, 0, {0}},
    BINARY_ROWS("div", OP_DIV, f_div, 0.5f, 2.0f),
    UNARY_ROWS("add_scalar", OP_ADD_SCALAR, f_add_scalar, 0, 0),
    UNARY_ROWS("sub_scalar", OP_SUB_SCALAR, f_sub_scalar, 0, 0),
    UNARY_ROWS("mul_scalar", OP_MUL_SCALAR, f_mul_scalar, 0, 0),
    UNARY_ROWS("div_scalar", OP_DIV_SCALAR, f_div_scalar, 0, 0),
    UNARY_ROWS("neg", OP_NEG, f_neg, 0, 0),
    UNARY_ROWS("pow 2", OP_POW, f_pow2, 0, 0),
    UNARY_ROWS("pow 3", OP_POW, f_pow3, 0, 0),
    UNARY_ROWS("pow 0.5", OP_POW, f_pow_half, 0.5f, 2.0f),
    UNARY_ROWS("pow 1.5", OP_POW, f_pow_1_5, 0.5f, 2.0f),
    {"pow 0", OP_POW, 1, {"3,4"}, f_pow0, 0, 0, 0, 0, 0, {0}},
    {"pow 1", OP_POW, 1, {"4,3T"}, f_pow1, 0, 0, 0, 0, 0, {0}},
    {"pow -0.5", OP_POW, 1, {"3,4"}, f_pow_mhalf, 0.5f, 2.0f, 0, 0, 0, {0}},
    {"pow -1", OP_POW, 1, {"3,4S"}, f_pow_m1, 0.5f, 2.0f, 0, 0, 0, {0}},
    {"pow -2", OP_POW, 1, {"4,3T"}, f_pow_m2, 0.5f, 2.0f, 0, 0, 0, {0}},
    {"pow -2.5", OP_POW, 1, {"3,4"}, f_pow_m2_5, 0.5f, 2.0f, 0, 0, 0, {0}},
    UNARY_ROWS("exp", OP_EXP, f_exp, 0, 0),
    UNARY_ROWS("log", OP_LOG, f_log, 0.5f, 2.0f),
    UNARY_ROWS("sqrt", OP_SQRT, f_sqrt, 0.5f, 2.0f),
    UNARY_ROWS("tanh", OP_TANH, f_tanh, 0, 0),
    UNARY_ROWS("sigmoid", OP_SIGMOID, f_sigmoid, 0, 0),
    UNARY_ROWS("gelu", OP_GELU, f_gelu, 0, 0),
    {"gelu on [-3, 3)", OP_GELU, 1, {"2,3,4"}, f_gelu_wide, 0, 0, 0, 0, 0, {0}},
    {"relu both sides (3,4)", OP_RELU, 1, {"3,4"}, f_relu_both, 0.1f, 1.0f, 0, 0, 0, {0}},
    {"relu positive (4,3)T", OP_RELU, 1, {"4,3T"}, f_relu, 0.1f, 1.0f, 0, 0, 0, {0}},
    {"relu negative (3,4)S", OP_RELU, 1, {"3,4S"}, f_relu, -1.0f, -0.1f, 0, 0, 0, {0}},
    {"relu positive ()", OP_RELU, 1, {""}, f_relu, 0.1f, 1.0f, 0, 0, 0, {0}},
    {"abs both sides (3,4)", OP_ABS, 1, {"3,4"}, f_abs_both, 0.1f, 1.0f, 0, 0, 0, {0}},
    {"abs positive (4,3)T", OP_ABS, 1, {"4,3T"}, f_abs, 0.1f, 1.0f, 0, 0, 0, {0}},
    {"abs negative (3,4)S", OP_ABS, 1, {"3,4S"}, f_abs, -1.0f, -0.1f, 0, 0, 0, {0}},
    {"abs negative ()", OP_ABS, 1, {""}, f_abs, -1.0f, -0.1f, 0, 0, 0, {0}},
    {"clamp three sides (3,6)", OP_CLAMP, 1, {"3,6"}, f_clamp_sides, 0.1f, 0.9f, 0, 0, 0, {0}},
    {"clamp min only (3,6)", OP_CLAMP, 1, {"3,6"}, f_clamp_min, 0.1f, 0.9f, 0, 0, 0, {0}},
    {"clamp max only (3,6)", OP_CLAMP, 1, {"3,6"}, f_clamp_max, 0.1f, 0.9f, 0, 0, 0, {0}},
    {"clamp inside (4,3)T", OP_CLAMP, 1, {"4,3T"}, f_clamp, -0.4f, 1.4f, 0, 0, 0, {0}},
    {"clamp inside (3,4)S", OP_CLAMP, 1, {"3,4S"}, f_clamp, -0.4f, 1.4f, 0, 0, 0, {0}},
    UNARY_ROWS("clone", OP_CLONE, f_clone, 0, 0),
    {0},
};
