/*
 * Gradcheck rows for tensor/ops/nll.c (see tests/gradcheck.h): the losses
 * over class indices.  cross_entropy over (N,C) logits, contiguous and
 * transposed, with rows of 11 classes (longer than PyTorch's 8-lane sums),
 * over (C) logits with a 0-d target, over (N,C,d) and (N,C,h,w) logits,
 * with targets ignored (ignore_index -100 and -1) and each reduction;
 * nll_loss the same ways.  The class indices are constants built inside
 * each function.
 *
 * cross_entropy is smooth with a third derivative below 1 in size, so the
 * truncation error is about eps^2 / 6 < 2e-5, and nll_loss is linear: both
 * far inside the default atol 1e-3 + rtol 1e-2.
 */
#include "gradcheck.h"

static Tensor *classes(int n, const float *v) { return tensor_from_data(v, 1, (int64_t[]){n}); }
#define CLASSES(...) \
    classes(sizeof((float[]){__VA_ARGS__}) / sizeof(float), (float[]){__VA_ARGS__})
#define SUM TENSOR_LOSS_OPTIONS(.reduction = TENSOR_REDUCTION_SUM)
#define NONE TENSOR_LOSS_OPTIONS(.reduction = TENSOR_REDUCTION_NONE)
#define IGNORE_M1_NONE TENSOR_LOSS_OPTIONS(.ignore_index = -1, .reduction = TENSOR_REDUCTION_NONE)

/* (2,3) targets for (2,C,3) logits, one ignored. */
static Tensor *targets_2x3(void)
{
    return tensor_from_data((const float[]){0, -100, 4, 2, 2, 1}, SHAPE(2, 3));
}

FN(f_ce_3x5, tensor_cross_entropy(x[0], CLASSES(0, 4, 2)))
FN(f_ce_4x3, tensor_cross_entropy(x[0], CLASSES(2, 0, 1, 2)))
FN(f_ce_2x11, tensor_cross_entropy(x[0], CLASSES(10, 3)))
FN(f_ce_1d, tensor_cross_entropy(x[0], tensor_scalar(3.0f)))
FN(f_ce_ignored, tensor_cross_entropy(x[0], CLASSES(1, -100, 3, 0, -100, 4)))
FN(f_ce_sum, tensor_cross_entropy_ex(x[0], CLASSES(1, -100, 3, 0, -100, 4), SUM))
FN(f_ce_none, tensor_cross_entropy_ex(x[0], CLASSES(-1, 2, 2, -1, 0, 4), IGNORE_M1_NONE))
FN(f_ce_nd, tensor_cross_entropy(x[0], targets_2x3()))
FN(f_ce_nd_none, tensor_cross_entropy_ex(x[0], targets_2x3(), NONE))
FN(f_ce_4d, tensor_cross_entropy_ex(
                x[0], tensor_from_data((const float[]){1, 0, 2, 2}, SHAPE(1, 2, 2)), SUM))
FN(f_nll, tensor_nll_loss(x[0], CLASSES(1, -100, 3, 0, -100, 4)))
FN(f_nll_sum, tensor_nll_loss_ex(x[0], CLASSES(2, 0, 1, 2), SUM))
FN(f_nll_none, tensor_nll_loss_ex(x[0], targets_2x3(), NONE))
FN(f_nll_1d, tensor_nll_loss(x[0], tensor_scalar(1.0f)))

#define ROW(name_, op_, shape_, fn_) \
    {.name = name_, .op = OP_##op_, .n = 1, .shapes = {shape_}, .fn = fn_, .lo = -3, .hi = 3}

const GradcheckRow gradcheck_nll[] = {
    ROW("cross_entropy (3,5)", CROSS_ENTROPY, "3,5", f_ce_3x5),
    ROW("cross_entropy transposed (4,3)", CROSS_ENTROPY, "4,3T", f_ce_4x3),
    ROW("cross_entropy (2,11)", CROSS_ENTROPY, "2,11", f_ce_2x11),
    ROW("cross_entropy (5) with a 0-d target", CROSS_ENTROPY, "5", f_ce_1d),
    ROW("cross_entropy two targets -100 (6,5)", CROSS_ENTROPY, "6,5", f_ce_ignored),
    ROW("cross_entropy sum, two targets -100 (6,5)S", CROSS_ENTROPY, "6,5S", f_ce_sum),
    ROW("cross_entropy none, ignore_index -1 (6,5)T", CROSS_ENTROPY, "6,5T", f_ce_none),
    ROW("cross_entropy (2,5,3) one target -100", CROSS_ENTROPY, "2,5,3", f_ce_nd),
    ROW("cross_entropy none (2,5,3)T", CROSS_ENTROPY, "2,5,3T", f_ce_nd_none),
    ROW("cross_entropy sum (1,3,2,2)", CROSS_ENTROPY, "1,3,2,2", f_ce_4d),
    ROW("nll_loss two targets -100 (6,5)", NLL_LOSS, "6,5", f_nll),
    ROW("nll_loss sum (4,3)T", NLL_LOSS, "4,3T", f_nll_sum),
    ROW("nll_loss none (2,5,3)", NLL_LOSS, "2,5,3", f_nll_none),
    ROW("nll_loss (4) with a 0-d target", NLL_LOSS, "4", f_nll_1d),
    {0},
};
