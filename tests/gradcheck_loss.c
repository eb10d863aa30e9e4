/*
 * Gradcheck rows for tensor/ops/loss.c (see tests/gradcheck.h).
 *
 * mse_loss with both inputs requiring grad (the target's gradient is the
 * negative of pred's), with a strided input, with a target flagged no_grad,
 * and on 0-d inputs.  cross_entropy over (N,C) logits, contiguous and
 * transposed, with rows of 11 classes (longer than PyTorch's 8-lane sums),
 * and over (C) logits with a 0-d target; the class indices are constants
 * built inside each function.
 *
 * mse is quadratic, so central differences are exact up to float32 rounding
 * of L; cross-entropy is smooth with a third derivative below 1 in size, so
 * the truncation error is about eps^2 / 6 < 2e-5, far inside the default
 * atol 1e-3 + rtol 1e-2.
 */
#include "gradcheck.h"

static Tensor *classes(int n, const float *v) { return tensor_from_data(v, 1, (int64_t[]){n}); }
#define CLASSES(...) \
    classes(sizeof((float[]){__VA_ARGS__}) / sizeof(float), (float[]){__VA_ARGS__})

FN(f_mse, tensor_mse_loss(x[0], x[1]))
FN(f_ce_3x5, tensor_cross_entropy(x[0], CLASSES(0, 4, 2)))
FN(f_ce_4x3, tensor_cross_entropy(x[0], CLASSES(2, 0, 1, 2)))
FN(f_ce_2x11, tensor_cross_entropy(x[0], CLASSES(10, 3)))
FN(f_ce_1d, tensor_cross_entropy(x[0], tensor_scalar(3.0f)))

/* A row with one input, drawn from [lo, hi) (0, 0: the default [-1, 1)). */
FN(f_bce, tensor_binary_cross_entropy(tensor_sigmoid(x[0]), x[1]))
FN(f_bce_logits, tensor_bce_with_logits(x[0], x[1]))

/* A BCE row: logits (through sigmoid for BCE, so probabilities stay inside
 * (0, 1)) and a target of soft labels that also gets a gradient. */
#define BCE_ROW(name_, op_, fn_, a_, b_) \
    {.name = name_, .op = op_, .n = 2, .shapes = {a_, b_}, .fn = fn_, .lo = -2, .hi = 2}
#define ROW(name_, op_, shape_, fn_, lo_, hi_) \
    {.name = name_, .op = op_, .n = 1, .shapes = {shape_}, .fn = fn_, .lo = lo_, .hi = hi_}
/* An mse row: pred and target, the target flagged no_grad or not. */
#define MSE_ROW(name_, pred_, target_, target_no_grad_)                              \
    {.name = name_, .op = OP_MSE_LOSS, .n = 2, .shapes = {pred_, target_}, .fn = f_mse, \
     .no_grad = {false, target_no_grad_}}

const GradcheckRow gradcheck_loss[] = {
    MSE_ROW("mse_loss", "3,4", "3,4", false),
    MSE_ROW("mse_loss transposed pred", "4,3T", "4,3", false),
    MSE_ROW("mse_loss sliced target, no grad", "3,4", "3,4S", true),
    MSE_ROW("mse_loss 0-d", "", "", false),
    ROW("cross_entropy (3,5)", OP_CROSS_ENTROPY, "3,5", f_ce_3x5, -3, 3),
    ROW("cross_entropy transposed (4,3)", OP_CROSS_ENTROPY, "4,3T", f_ce_4x3, -3, 3),
    ROW("cross_entropy (2,11)", OP_CROSS_ENTROPY, "2,11", f_ce_2x11, -3, 3),
    ROW("cross_entropy (5) with a 0-d target", OP_CROSS_ENTROPY, "5", f_ce_1d, -3, 3),
    BCE_ROW("binary_cross_entropy (3,4)", OP_BCE, f_bce, "3,4", "3,4"),
    BCE_ROW("binary_cross_entropy strided (4,3)T (4,3)S", OP_BCE, f_bce, "4,3T", "4,3S"),
    BCE_ROW("bce_with_logits (3,4)", OP_BCE_WITH_LOGITS, f_bce_logits, "3,4", "3,4"),
    BCE_ROW("bce_with_logits 0-d", OP_BCE_WITH_LOGITS, f_bce_logits, "", ""),
    BCE_ROW("bce_with_logits strided (4,3)S (4,3)T", OP_BCE_WITH_LOGITS, f_bce_logits, "4,3S",
            "4,3T"),
    {0},
};
