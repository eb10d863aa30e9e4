/*
 * Gradcheck rows for tensor/ops/matmul.c (see tests/gradcheck.h).
 *
 * Besides the toy sizes (the plain loop), rows marked "fast" have m*n*k
 * above the kernel's small-product cut-over, so they run the micro-kernels,
 * with sizes that are not multiples of its tiles (17, 33, 65); others cover
 * transposed and sliced operands, broadcast batches and the 1-d cases.
 * test_matmul checks every kernel path against a double reference.  With k up to 65
 * and inputs in [-1, 1) the float32 rounding of L is about 1e-6 * |L|, which
 * over 2 * eps stays well inside the default atol 1e-3 + rtol 1e-2.
 */
#include "gradcheck.h"

static Tensor *matmul(Tensor *const *in, void *ctx)
{
    (void)ctx;
    return tensor_matmul(in[0], in[1]);
}

static Tensor *linear(Tensor *const *in, void *ctx)
{
    (void)ctx;
    return tensor_linear(in[0], in[1], in[2]);
}

static Tensor *linear_no_bias(Tensor *const *in, void *ctx)
{
    (void)ctx;
    return tensor_linear(in[0], in[1], NULL);
}

#define MM(name, a, b) {name, OP_MATMUL, 2, {a, b}, matmul, 0, 0, 0, 0, 0, {0}}
#define LIN(name, x, w, b) {name, OP_LINEAR, 3, {x, w, b}, linear, 0, 0, 0, 0, 0, {0}}
#define LIN_NB(name, x, w) {name, OP_LINEAR, 2, {x, w}, linear_no_bias, 0, 0, 0, 0, 0, {0}}

const GradcheckRow gradcheck_matmul[] = {
    MM("matmul dot (3).(3)", "3", "3"),
    MM("matmul mv (4,3)@(3)", "4,3", "3"),
    MM("matmul vm (3)@(3,4)", "3", "3,4"),
    MM("matmul mm (6,3)@(3,2)", "6,3", "3,2"),
    MM("matmul transposed (4,3T)@(3,5T)", "4,3T", "3,5T"),
    MM("matmul sliced (4,3S)@(3,5)", "4,3S", "3,5"),
    MM("matmul odd (7,13)@(13,5)", "7,13", "13,5"),
    MM("matmul fast (17,33)@(33,65)", "17,33", "33,65"),
    MM("matmul fast transposed (65,17T)@(17,33T)", "65,17T", "17,33T"),
    MM("matmul fast A^T (33,65T)@(65,17)", "33,65T", "65,17"),
    MM("matmul fast 1-d (65)@(65,33)", "65", "65,33"),
    MM("matmul fast mv (33,65)@(65)", "33,65", "65"),
    MM("matmul batched (2,4,3)@(3,5)", "2,4,3", "3,5"),
    MM("matmul batched (2,4,3)@(2,3,5)", "2,4,3", "2,3,5"),
    MM("matmul broadcast batch (2,1,4,3)@(3,3,5)", "2,1,4,3", "3,3,5"),
    MM("matmul 1-d @ batch (3)@(2,3,5)", "3", "2,3,5"),
    MM("matmul batch @ 1-d (2,4,3)@(3)", "2,4,3", "3"),
    MM("matmul 2-d @ batch (4,3)@(2,3,5)", "4,3", "2,3,5"),
    MM("matmul attention (2,2,4,3)@(2,2,3,4T)", "2,2,4,3", "2,2,3,4T"),
    MM("matmul fast batched (2,20,33)@(33,30)", "2,20,33", "33,30"),
    MM("matmul fast attention (2,1,40,24)@(1,2,24,40T)", "2,1,40,24", "1,2,24,40T"),
    LIN("linear (4,3) w (5,3) b (5)", "4,3", "5,3", "5"),
    LIN_NB("linear no bias (4,3) w (5,3)", "4,3", "5,3"),
    LIN("linear 3-d (2,4,3) w (5,3) b (5)", "2,4,3", "5,3", "5"),
    LIN_NB("linear 3-d no bias (2,4,3) w (5,3)", "2,4,3", "5,3"),
    LIN("linear 1-d (3) w (5,3) b (5)", "3", "5,3", "5"),
    LIN("linear 4-d (2,2,4,3) w (5,3) b (5)", "2,2,4,3", "5,3", "5"),
    LIN("linear transposed x (4,3T) w (5,3T) b (5)", "4,3T", "5,3T", "5"),
    LIN("linear fast (2,20,33) w (40,33) b (40)", "2,20,33", "40,33", "40"),
    LIN_NB("linear fast transposed x (2,20,33T) w (30,33)", "2,20,33T", "30,33"),
    {0},
};
