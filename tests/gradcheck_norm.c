/*
 * Gradcheck rows for tensor/ops/norm.c (see tests/gradcheck.h).
 *
 * layer_norm over the last dim with weight and bias, with either or neither,
 * on contiguous, transposed ("4,3T": each row read across a stride) and
 * sliced ("3,4S") inputs.  The third derivative of xhat grows as 1/sigma^3;
 * rows of 3 to 5 values drawn from [-2, 2) have sigma of about 1, but a row of
 * three can draw close values (sigma 0.2 was seen: eps 1e-2 then errs by 15%).
 * eps 1e-3 errs by eps^2 / sigma^3 = 1e-4 even at sigma 0.2, and float32
 * rounding of the differences adds about 1e-7 / eps = 1e-4: both inside the
 * default atol 1e-3 + rtol 1e-2.  The rows would fail by far with a wrong
 * mean(dxhat * xhat) term, which is O(1).
 */
#include "gradcheck.h"

FN(ln_wb, tensor_layer_norm(x[0], x[1], x[2], 1e-5))
FN(ln_none, tensor_layer_norm(x[0], NULL, NULL, 1e-5))
FN(ln_w, tensor_layer_norm(x[0], x[1], NULL, 1e-5))
FN(ln_b, tensor_layer_norm(x[0], NULL, x[1], 1e-5))

#define LN3(name, x, w, b) {name, OP_LAYER_NORM, 3, {x, w, b}, ln_wb, -2, 2, 1e-3, 0, 0, {0}}
#define LN1(name, x, fn) {name, OP_LAYER_NORM, 1, {x}, fn, -2, 2, 1e-3, 0, 0, {0}}
#define LN2(name, x, p, fn) {name, OP_LAYER_NORM, 2, {x, p}, fn, -2, 2, 1e-3, 0, 0, {0}}

const GradcheckRow gradcheck_norm[] = {
    LN3("layer_norm (3,4) weight bias", "3,4", "4", "4"),
    LN3("layer_norm (2,3,5) weight bias", "2,3,5", "5", "5"),
    LN3("layer_norm transposed (4,3)T weight bias", "4,3T", "3", "3"),
    LN3("layer_norm sliced (3,4)S weight bias", "3,4S", "4", "4"),
    LN1("layer_norm (3,4) no weight, no bias", "3,4", ln_none),
    LN1("layer_norm (5) 1-d", "5", ln_none),
    LN2("layer_norm (3,4) weight only", "3,4", "4", ln_w),
    LN2("layer_norm transposed (4,3)T bias only", "4,3T", "3", ln_b),
    {0},
};
