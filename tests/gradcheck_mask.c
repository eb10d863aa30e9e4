/*
 * Gradcheck rows for tensor/ops/mask.c (see tests/gradcheck.h): masked_fill
 * with the book's causal mask (ones above the diagonal, triu(m, 1), broadcast
 * from (T,T) over the batch) and with a column mask, triu and tril at several
 * diagonals.  Where the mask is an input (flagged no_grad) its values come
 * from [-1, 1) and are nonzero, so triu(m, 1) is a causal mask.  The ops
 * select, so differences are exact up to float32 rounding.
 */
#include "gradcheck.h"

FN(f_masked_fill, tensor_masked_fill(x[0], tensor_triu(x[1], 1), 0.25f))
FN(f_masked_fill_cols,
   tensor_masked_fill(x[0], tensor_from_data((const float[]){1, 0, 0, 1}, SHAPE(4)), -2.0f))
FN(f_triu, tensor_triu(x[0], 0))
FN(f_triu_1, tensor_triu(x[0], 1))
FN(f_triu_m1, tensor_triu(x[0], -1))
FN(f_tril, tensor_tril(x[0], 0))
FN(f_tril_1, tensor_tril(x[0], 1))
FN(f_tril_m2, tensor_tril(x[0], -2))

const GradcheckRow gradcheck_mask[] = {
    MASK_ROW("masked_fill causal mask (4,4) over (2,4,4)", OP_MASKED_FILL, "2,4,4", "4,4",
             f_masked_fill, 0, 0),
    MASK_ROW("masked_fill transposed input", OP_MASKED_FILL, "4,4T", "4,4", f_masked_fill, 0, 0),
    SOFTMAX_ROW("masked_fill columns, mask (4) over sliced (3,4)", OP_MASKED_FILL, "3,4S",
        f_masked_fill_cols, 0, 0),
    SOFTMAX_ROW("triu", OP_TRIU, "3,4", f_triu, 0, 0),
    SOFTMAX_ROW("triu diagonal 1, transposed", OP_TRIU, "4,3T", f_triu_1, 0, 0),
    SOFTMAX_ROW("triu diagonal -1, batched (2,3,4)", OP_TRIU, "2,3,4", f_triu_m1, 0, 0),
    SOFTMAX_ROW("triu sliced", OP_TRIU, "3,4S", f_triu_1, 0, 0),
    SOFTMAX_ROW("tril", OP_TRIL, "3,4", f_tril, 0, 0),
    SOFTMAX_ROW("tril diagonal 1, transposed", OP_TRIL, "4,3T", f_tril_1, 0, 0),
    SOFTMAX_ROW("tril diagonal -2, batched (2,3,4)", OP_TRIL, "2,3,4", f_tril_m2, 0, 0),
    {0},
};
