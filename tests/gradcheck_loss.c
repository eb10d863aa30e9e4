/*
 * Gradcheck rows for tensor/ops/loss.c (see tests/gradcheck.h).
 *
 * mse_loss with both inputs requiring grad (the target's gradient is the
 * negative of pred's), with a strided input, with a target flagged no_grad,
 * and on 0-d inputs.  binary_cross_entropy and bce_with_logits with both
 * inputs requiring grad, bce_with_logits also with each reduction and with
 * pos_weight (one per column, broadcast).  (cross_entropy and nll_loss:
 * gradcheck_nll.c.)
 *
 * mse is quadratic, so central differences are exact up to float32 rounding
 * of L; the BCEs are smooth with third derivatives below 1 in size, so the
 * truncation error is about eps^2 / 6 < 2e-5, far inside the default
 * atol 1e-3 + rtol 1e-2.
 */
#include "gradcheck.h"

FN(f_mse, tensor_mse_loss(x[0], x[1]))

/* A row with one input, drawn from [lo, hi) (0, 0: the default [-1, 1)). */
FN(f_bce, tensor_binary_cross_entropy(tensor_sigmoid(x[0]), x[1]))
FN(f_bce_logits, tensor_bce_with_logits(x[0], x[1]))
FN(f_bcel_sum, tensor_bce_with_logits_ex(x[0], x[1],
                                         TENSOR_LOSS_OPTIONS(.reduction = TENSOR_REDUCTION_SUM)))
FN(f_bcel_none, tensor_bce_with_logits_ex(x[0], x[1],
                                          TENSOR_LOSS_OPTIONS(.reduction = TENSOR_REDUCTION_NONE)))
/* pos_weight (4): one weight per column of a (..., 4) input. */
static Tensor *pos_weight(void)
{
    return tensor_from_data((const float[]){1, 2, 0.5f, 3}, SHAPE(4));
}
#define PW_NONE TENSOR_LOSS_OPTIONS(.pos_weight = pos_weight(), .reduction = TENSOR_REDUCTION_NONE)
FN(f_bcel_pw, tensor_bce_with_logits_ex(x[0], x[1], TENSOR_LOSS_OPTIONS(.pos_weight = pos_weight())))
FN(f_bcel_pw_none, tensor_bce_with_logits_ex(x[0], x[1], PW_NONE))

/* A BCE row: logits (through sigmoid for BCE, so probabilities stay inside
 * (0, 1)) and a target of soft labels that also gets a gradient. */
#define BCE_ROW(name_, op_, fn_, a_, b_) \
    {.name = name_, .op = op_, .n = 2, .shapes = {a_, b_}, .fn = fn_, .lo = -2, .hi = 2}
/* An mse row: pred and target, the target flagged no_grad or not. */
#define MSE_ROW(name_, pred_, target_, target_no_grad_)                              \
    {.name = name_, .op = OP_MSE_LOSS, .n = 2, .shapes = {pred_, target_}, .fn = f_mse, \
     .no_grad = {false, target_no_grad_}}

const GradcheckRow gradcheck_loss[] = {
    MSE_ROW("mse_loss", "3,4", "3,4", false),
    MSE_ROW("mse_loss transposed pred", "4,3T", "4,3", false),
    MSE_ROW("mse_loss sliced target, no grad", "3,4", "3,4S", true),
    MSE_ROW("mse_loss 0-d", "", "", false),
    BCE_ROW("binary_cross_entropy (3,4)", OP_BCE, f_bce, "3,4", "3,4"),
    BCE_ROW("binary_cross_entropy strided (4,3)T (4,3)S", OP_BCE, f_bce, "4,3T", "4,3S"),
    BCE_ROW("bce_with_logits (3,4)", OP_BCE_WITH_LOGITS, f_bce_logits, "3,4", "3,4"),
    BCE_ROW("bce_with_logits 0-d", OP_BCE_WITH_LOGITS, f_bce_logits, "", ""),
    BCE_ROW("bce_with_logits strided (4,3)S (4,3)T", OP_BCE_WITH_LOGITS, f_bce_logits, "4,3S",
            "4,3T"),
    BCE_ROW("bce_with_logits sum (3,4)", OP_BCE_WITH_LOGITS, f_bcel_sum, "3,4", "3,4"),
    BCE_ROW("bce_with_logits none (3,4)T (3,4)", OP_BCE_WITH_LOGITS, f_bcel_none, "3,4T", "3,4"),
    BCE_ROW("bce_with_logits pos_weight (3,4)", OP_BCE_WITH_LOGITS, f_bcel_pw, "3,4", "3,4"),
    BCE_ROW("bce_with_logits pos_weight none (2,3,4)S (2,3,4)", OP_BCE_WITH_LOGITS, f_bcel_pw_none,
            "2,3,4S", "2,3,4"),
    {0},
};
