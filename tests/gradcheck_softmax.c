/*
 * Gradcheck rows for tensor/ops/softmax.c (see tests/gradcheck.h).
 *
 * softmax and log_softmax along the first, a middle, the last and a negative
 * dim, on contiguous, transposed ("4,3T") and sliced ("3,4S") inputs, on a
 * 0-d input, and on rows of 19 (longer than PyTorch's 8-lane sums, with a
 * tail).  Inputs from [-3, 3) make rows far from uniform.
 *
 * Masking follows the book's causal attention: a mask with ones above the
 * diagonal (triu(m, 1)), broadcast from (T,T) over the batch, filled with
 * -inf and then softmaxed, so the rows check the composite the way a training
 * step uses it: masked entries get exactly zero gradient and the first row,
 * one element long after masking, has softmax 1 and zero gradient.  Where the
 * mask is an input (m, flagged no_grad) its values come from [-1, 1) and are
 * nonzero, so triu(m, 1) is a causal mask.  causal_softmax is that
 * composite in one op, divided by 2 or 1.5 (the divisor shrinks the
 * derivatives, so the same bounds hold).
 *
 * All these functions are smooth, and central differences with eps 1e-2
 * stay well inside the default atol 1e-3 + rtol 1e-2: the third derivative
 * of softmax is below 1 in size, so the truncation error is about
 * eps^2 / 6 < 2e-5.
 */
#include "gradcheck.h"

#include <math.h>

/* The book's causal mask for T = 4: ones strictly above the diagonal. */
static Tensor *causal4(void) { return tensor_triu(tensor_ones(SHAPE(4, 4)), 1); }

FN(f_softmax_d0, tensor_softmax(x[0], 0))
FN(f_softmax_d1, tensor_softmax(x[0], 1))
FN(f_softmax_dm1, tensor_softmax(x[0], -1))
FN(f_softmax_dm2, tensor_softmax(x[0], -2))
FN(f_log_softmax_d0, tensor_log_softmax(x[0], 0))
FN(f_log_softmax_d1, tensor_log_softmax(x[0], 1))
FN(f_log_softmax_dm1, tensor_log_softmax(x[0], -1))
FN(f_log_softmax_dm2, tensor_log_softmax(x[0], -2))
FN(f_causal_softmax, tensor_causal_softmax(x[0], 2.0f, 0))
FN(f_causal_softmax_cached, tensor_causal_softmax(x[0], 1.5f, 2))
FN(f_masked_softmax, tensor_softmax(tensor_masked_fill(x[0], causal4(), -INFINITY), -1))
FN(f_masked_softmax_input,
   tensor_softmax(tensor_masked_fill(x[0], tensor_triu(x[1], 1), -INFINITY), -1))
/* log_softmax is -inf where masked; a sum over it would be -inf, so the
 * masked entries are zeroed afterwards, as a loss over the rows ignores them. */
FN(f_masked_log_softmax,
   tensor_masked_fill(tensor_log_softmax(tensor_masked_fill(x[0], causal4(), -INFINITY), -1),
                      causal4(), 0.0f))

const GradcheckRow gradcheck_softmax[] = {
    SOFTMAX_ROW("softmax dim 0", OP_SOFTMAX, "3,4", f_softmax_d0, -3, 3),
    SOFTMAX_ROW("softmax dim 1", OP_SOFTMAX, "3,4", f_softmax_d1, -3, 3),
    SOFTMAX_ROW("softmax dim -1", OP_SOFTMAX, "2,3,4", f_softmax_dm1, -3, 3),
    SOFTMAX_ROW("softmax middle dim 1 of (2,3,4)", OP_SOFTMAX, "2,3,4", f_softmax_d1, -3, 3),
    SOFTMAX_ROW("softmax dim -1 of transposed (4,3)", OP_SOFTMAX, "4,3T", f_softmax_dm1, -3, 3),
    SOFTMAX_ROW("softmax dim 0 of transposed (4,3)", OP_SOFTMAX, "4,3T", f_softmax_d0, -3, 3),
    SOFTMAX_ROW("softmax dim -2 of sliced (3,4)", OP_SOFTMAX, "3,4S", f_softmax_dm2, -3, 3),
    SOFTMAX_ROW("softmax rows of 19", OP_SOFTMAX, "2,19", f_softmax_dm1, -3, 3),
    SOFTMAX_ROW("softmax 0-d", OP_SOFTMAX, "", f_softmax_d0, 0, 0),
    /* Causal attention's composite: softmax over rows with -inf entries. */
    SOFTMAX_ROW("softmax(masked_fill(-inf)) causal, (2,4,4)", OP_SOFTMAX, "2,4,4", f_masked_softmax, -3,
        3),
    MASK_ROW("softmax(masked_fill(-inf)) mask input, transposed", OP_SOFTMAX, "4,4T", "4,4",
             f_masked_softmax_input, -3, 3),
    /* The same in one op: rows of 4 keys (2 of them cached, 2 + i seen by row i
     * of the second), contiguous and transposed. */
    SOFTMAX_ROW("causal_softmax (2,4,4) / 2", OP_CAUSAL_SOFTMAX, "2,4,4", f_causal_softmax, -3, 3),
    SOFTMAX_ROW("causal_softmax transposed (4,4)", OP_CAUSAL_SOFTMAX, "4,4T", f_causal_softmax, -3,
                3),
    SOFTMAX_ROW("causal_softmax cached q0 2, (2,3,5) / 1.5", OP_CAUSAL_SOFTMAX, "2,3,5",
                f_causal_softmax_cached, -3, 3),
    SOFTMAX_ROW("log_softmax dim 0", OP_LOG_SOFTMAX, "3,4", f_log_softmax_d0, -3, 3),
    SOFTMAX_ROW("log_softmax dim 1", OP_LOG_SOFTMAX, "3,4", f_log_softmax_d1, -3, 3),
    SOFTMAX_ROW("log_softmax dim -1", OP_LOG_SOFTMAX, "2,3,4", f_log_softmax_dm1, -3, 3),
    SOFTMAX_ROW("log_softmax middle dim 1 of (2,3,4)", OP_LOG_SOFTMAX, "2,3,4", f_log_softmax_d1, -3, 3),
    SOFTMAX_ROW("log_softmax dim -1 of transposed (4,3)", OP_LOG_SOFTMAX, "4,3T", f_log_softmax_dm1, -3,
        3),
    SOFTMAX_ROW("log_softmax dim 0 of transposed (4,3)", OP_LOG_SOFTMAX, "4,3T", f_log_softmax_d0, -3, 3),
    SOFTMAX_ROW("log_softmax dim -2 of sliced (3,4)", OP_LOG_SOFTMAX, "3,4S", f_log_softmax_dm2, -3, 3),
    SOFTMAX_ROW("log_softmax rows of 19", OP_LOG_SOFTMAX, "2,19", f_log_softmax_dm1, -3, 3),
    SOFTMAX_ROW("log_softmax 0-d", OP_LOG_SOFTMAX, "", f_log_softmax_d0, 0, 0),
    SOFTMAX_ROW("masked_fill(log_softmax(masked_fill(-inf))) causal, (2,4,4)", OP_MASKED_FILL, "2,4,4",
        f_masked_log_softmax, -3, 3),
    {0},
};
