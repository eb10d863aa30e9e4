/*
 * Gradcheck rows for tensor/ops/triangular.c (see tests/gradcheck.h): both
 * masked products with the diagonal at 0, above and below it, more than one
 * band of 48 rows, transposed operands, and broadcast batches (whose
 * gradients sum over the batch, one element after another).
 * test_triangular checks their values against the full products, bit for bit.
 */
#include "gradcheck.h"

FN(matmul_tril_d0, tensor_matmul_tril(x[0], x[1], 0))
FN(matmul_tril_d2, tensor_matmul_tril(x[0], x[1], 2))
FN(matmul_tril_dm1, tensor_matmul_tril(x[0], x[1], -1))
FN(tril_matmul_d0, tensor_tril_matmul(x[0], x[1], 0))
FN(tril_matmul_d2, tensor_tril_matmul(x[0], x[1], 2))
FN(tril_matmul_dm2, tensor_tril_matmul(x[0], x[1], -2))

#define ROW(name_, op_, a_, b_, fn_) {name_, op_, 2, {a_, b_}, fn_, 0, 0, 0, 0, 0, {0}}

const GradcheckRow gradcheck_triangular[] = {
    ROW("matmul_tril (5,3)@(3,5) d 0", OP_MATMUL_TRIL, "5,3", "3,5", matmul_tril_d0),
    ROW("matmul_tril (4,3)@(3,6) d 2", OP_MATMUL_TRIL, "4,3", "3,6", matmul_tril_d2),
    ROW("matmul_tril (6,2)@(2,6) d -1", OP_MATMUL_TRIL, "6,2", "2,6", matmul_tril_dm1),
    ROW("matmul_tril bands (2,60,7)@(2,7,60T) d 0", OP_MATMUL_TRIL, "2,60,7", "2,7,60T",
        matmul_tril_d0),
    ROW("matmul_tril broadcast (2,1,50,5)@(3,5,55) d 2", OP_MATMUL_TRIL, "2,1,50,5", "3,5,55",
        matmul_tril_d2),
    ROW("tril_matmul (5,5)@(5,3) d 0", OP_TRIL_MATMUL, "5,5", "5,3", tril_matmul_d0),
    ROW("tril_matmul (4,6)@(6,3) d 2", OP_TRIL_MATMUL, "4,6", "6,3", tril_matmul_d2),
    ROW("tril_matmul (6,6)@(6,2) d -2", OP_TRIL_MATMUL, "6,6", "6,2", tril_matmul_dm2),
    ROW("tril_matmul bands (2,60,60)@(2,60,5) d 0", OP_TRIL_MATMUL, "2,60,60", "2,60,5",
        tril_matmul_d0),
    ROW("tril_matmul transposed (3,2,50,50T)@(2,50,3T) d 0", OP_TRIL_MATMUL, "3,2,50,50T",
        "2,50,3T", tril_matmul_d0),
    ROW("tril_matmul broadcast (1,50,52)@(2,52,4) d 2", OP_TRIL_MATMUL, "1,50,52", "2,52,4",
        tril_matmul_d2),
    {0},
};
