/*
 * Losses over values, forward and backward side by side: mean squared error
 * and binary cross-entropy (on probabilities, or on logits with a reduction
 * and pos_weight).  The losses over class indices, cross_entropy and
 * nll_loss, are in nll.c.
 */
#include "core/tensor_internal.h"
#include "kernels/kernels.h"

#include <math.h>
#include <string.h>

/* ---- mse_loss ------------------------------------------------------------- */

Tensor *tensor_mse_loss(const Tensor *pred, const Tensor *target)
{
    if (!TENSOR__USABLE(pred) || !TENSOR__USABLE(target)) return NULL;
    /* PyTorch only warns when the shapes differ and then broadcasts, which
     * silently trains on the wrong pairs; here it is an error. */
    if (!tensor_same_shape(pred, target))
        return tensor_set_error("mse_loss: pred %s and target %s have different shapes",
                             tensor_shape_str(pred), tensor_shape_str(target));
    const float *p = TENSOR__INPUT("mse_loss", pred);
    const float *t = p ? TENSOR__INPUT("mse_loss", target) : NULL;
    if (!t) return NULL;
    Tensor *out = tensor__alloc(0, NULL);
    out->data[0] = (float)tensor__sum_squared_diff_f64(p, t, pred->numel) / (float)pred->numel;
    tensor__record(OP_MSE_LOSS, out, 2, (const Tensor *[]){pred, target});
    return tensor__result(out);
}

/* forward: L = mean((p - t)^2) over N elements
 * backward: dp = 2 (p - t) / N * dL,  dt = -dp */
void tensor__mse_loss_backward(TensorNode *n, const Tensor *grad_out)
{
    const Tensor *pred = n->inputs[0], *target = n->inputs[1];
    const float *p = tensor__contiguous_data(pred);
    const float *t = tensor__contiguous_data(target);
    float norm = (float)(2.0 / (double)pred->numel), g = grad_out->data[0];
    Tensor *dp = tensor__alloc(pred->ndim, pred->shape);
    for (int64_t i = 0; i < dp->numel; i++) dp->data[i] = norm * (p[i] - t[i]) * g;
    tensor__accumulate_grad(n->inputs[0], dp);
    if (!target->requires_grad) return;
    Tensor *dt = tensor__alloc(target->ndim, target->shape);
    for (int64_t i = 0; i < dt->numel; i++) dt->data[i] = -dp->data[i];
    tensor__accumulate_grad(n->inputs[1], dt);
}

/* ---- binary cross-entropy ----------------------------------------------------- */

/* pred and target: one shape; each element a probability (bce) or a logit. */
static int check_binary(const char *op, const Tensor *pred, const Tensor *target)
{
    if (tensor_same_shape(pred, target)) return 0;
    tensor_set_error("%s: input %s and target %s have different shapes", op,
                  tensor_shape_str(pred), tensor_shape_str(target));
    return -1;
}

/* ln(v) clamped to >= -100, as PyTorch's BCE, so p = 0 or 1 gives a finite loss. */
static float clamped_log(float v) { return fmaxf(logf(v), -100.0f); }

/* forward: L = mean(-(t ln p + (1 - t) ln(1 - p))), p in [0, 1]
 * backward: dp = dL (p - t) / max(p (1 - p), 1e-12) / N;
 *           dt = dL (ln(1 - p) - ln p) / N (both logs clamped) */
Tensor *tensor_binary_cross_entropy(const Tensor *pred, const Tensor *target)
{
    if (!TENSOR__USABLE(pred) || !TENSOR__USABLE(target)) return NULL;
    if (check_binary("binary_cross_entropy", pred, target)) return NULL;
    const float *p = TENSOR__INPUT("binary_cross_entropy", pred);
    const float *t = p ? TENSOR__INPUT("binary_cross_entropy", target) : NULL;
    if (!t) return NULL;
    double sum = 0;
    for (int64_t i = 0; i < pred->numel; i++) {
        if (!(p[i] >= 0 && p[i] <= 1))
            return tensor_set_error("binary_cross_entropy: input %s holds %g at element %lld: "
                                 "every element must be between 0 and 1",
                                 tensor_shape_str(pred), (double)p[i], (long long)i);
        sum += (t[i] - 1.0f) * fmaxf(log1pf(-p[i]), -100.0f) - t[i] * clamped_log(p[i]);
    }
    Tensor *out = tensor__alloc(0, NULL);
    out->data[0] = (float)(sum / (double)pred->numel);
    tensor__record(OP_BCE, out, 2, (const Tensor *[]){pred, target});
    return tensor__result(out);
}

void tensor__bce_backward(TensorNode *n, const Tensor *grad_out)
{
    const Tensor *pred = n->inputs[0], *target = n->inputs[1];
    const float *p = tensor__contiguous_data(pred), *t = tensor__contiguous_data(target);
    float k = grad_out->data[0] / (float)pred->numel;
    Tensor *dp = tensor__alloc(pred->ndim, pred->shape);
    for (int64_t i = 0; i < dp->numel; i++)
        dp->data[i] = k * (p[i] - t[i]) / fmaxf((1 - p[i]) * p[i], 1e-12f);
    tensor__accumulate_grad(n->inputs[0], dp);
    if (!target->requires_grad) return;
    Tensor *dt = tensor__alloc(target->ndim, target->shape);
    for (int64_t i = 0; i < dt->numel; i++)
        dt->data[i] = k * (fmaxf(log1pf(-p[i]), -100.0f) - clamped_log(p[i]));
    tensor__accumulate_grad(n->inputs[1], dt);
}

/* ln(1 + exp(v)), stable for large |v|. */
static float softplus(float v) { return fmaxf(v, 0.0f) + log1pf(expf(-fabsf(v))); }

/* A bce_with_logits node: ival[BCEL_REDUCTION] its reduction; saved[0]
 * pos_weight read as the input's shape (NULL without one). */
enum { BCEL_REDUCTION = 0 };

/* pos_weight broadcast to logits' shape, row-major (a copy: the backward
 * must see the values the forward used); NULL with a message when it does
 * not broadcast. */
static Tensor *pos_weight_like(const Tensor *pw, const Tensor *logits)
{
    int64_t shape[TENSOR_MAX_DIMS];
    int n = tensor__broadcast_sizes(pw->ndim, pw->shape, logits->ndim, logits->shape, shape);
    if (n != logits->ndim || tensor__numel(n, shape) != logits->numel)
        return tensor_set_error("binary_cross_entropy_with_logits: pos_weight %s does not "
                                "broadcast to input %s", tensor_shape_str(pw),
                                tensor_shape_str(logits));
    const char *op = "binary_cross_entropy_with_logits";
    Tensor *w = tensor__alloc_result(op, logits->ndim, logits->shape);
    const float *v = w ? tensor__input_data(op, pw, logits->ndim, logits->shape) : NULL;
    if (!v) return NULL;
    memcpy(w->data, v, (size_t)w->numel * sizeof *w->data);
    return w;
}

/* forward: l = (1 - t) x + w (m + ln(exp(-m) + exp(-x - m))), m = max(-x, 0),
 *   w = 1 + (pos_weight - 1) t (1 without pos_weight): sigmoid and BCE in
 *   one, stable for large |x| (PyTorch's formula); L = mean(l), sum(l) or l.
 * backward, with k = dL / N (mean), dL (sum) or dL_i (none):
 *   dx = k (sigmoid(x) - t), with pos_weight p: k ((p t + 1 - t) sigmoid(x) - p t)
 *   dt = -k x,               with pos_weight p: k (p softplus(-x) - softplus(x)) */
Tensor *tensor_bce_with_logits_ex(const Tensor *logits, const Tensor *target,
                                  TensorLossOptions options)
{
    if (!TENSOR__USABLE(logits) || !TENSOR__USABLE(target)) return NULL;
    if (options.pos_weight && !TENSOR__USABLE(options.pos_weight)) return NULL;
    const char *op = "binary_cross_entropy_with_logits";
    if (tensor__check_reduction(op, options.reduction) || check_binary(op, logits, target))
        return NULL;
    Tensor *pw = options.pos_weight ? pos_weight_like(options.pos_weight, logits) : NULL;
    if (options.pos_weight && !pw) return NULL;
    const float *x = TENSOR__INPUT(op, logits);
    const float *t = x ? TENSOR__INPUT(op, target) : NULL;
    bool none = options.reduction == TENSOR_REDUCTION_NONE;
    Tensor *out = !t ? NULL
                  : none ? tensor__alloc_result(op, logits->ndim, logits->shape)
                         : tensor__alloc(0, NULL);
    if (!out) return NULL;
    double sum = 0;
    for (int64_t i = 0; i < logits->numel; i++) {
        float m = fmaxf(-x[i], 0.0f), w = pw ? (pw->data[i] - 1) * t[i] + 1 : 1;
        float l = pw ? (1 - t[i]) * x[i] + w * (logf(expf(-m) + expf(-x[i] - m)) + m)
                     : (1 - t[i]) * x[i] + m + logf(expf(-m) + expf(-x[i] - m));
        if (none) out->data[i] = l;
        else sum += l;
    }
    if (options.reduction == TENSOR_REDUCTION_MEAN)
        out->data[0] = (float)(sum / (double)logits->numel);
    else if (options.reduction == TENSOR_REDUCTION_SUM)
        out->data[0] = (float)sum;
    TensorNode *n = tensor__record(OP_BCE_WITH_LOGITS, out, 2, (const Tensor *[]){logits, target});
    if (n) {
        n->ival[BCEL_REDUCTION] = options.reduction;
        n->saved[0] = pw;
    }
    return tensor__result(out);
}

Tensor *tensor_bce_with_logits(const Tensor *logits, const Tensor *target)
{
    return tensor_bce_with_logits_ex(logits, target, TENSOR_LOSS_OPTIONS());
}

void tensor__bce_with_logits_backward(TensorNode *n, const Tensor *grad_out)
{
    const Tensor *logits = n->inputs[0], *target = n->inputs[1], *pw = n->saved[0];
    const float *x = tensor__contiguous_data(logits), *t = tensor__contiguous_data(target);
    const float *g = tensor__contiguous_data(grad_out);
    int64_t reduction = n->ival[BCEL_REDUCTION];
    bool each = reduction == TENSOR_REDUCTION_NONE;
    float k = reduction == TENSOR_REDUCTION_MEAN ? g[0] / (float)logits->numel : g[0];
    Tensor *dx = tensor__alloc(logits->ndim, logits->shape);
    for (int64_t i = 0; i < dx->numel; i++) {
        float s = 1 / (1 + expf(-x[i])), ki = each ? g[i] : k;
        dx->data[i] = pw ? ((pw->data[i] * t[i] + 1 - t[i]) * s - pw->data[i] * t[i]) * ki
                         : (s - t[i]) * ki;
    }
    tensor__accumulate_grad(n->inputs[0], dx);
    if (!target->requires_grad) return;
    Tensor *dt = tensor__alloc(target->ndim, target->shape);
    for (int64_t i = 0; i < dt->numel; i++) {
        float ki = each ? g[i] : k;
        dt->data[i] = pw ? (pw->data[i] * softplus(-x[i]) - softplus(x[i])) * ki : -x[i] * ki;
    }
    tensor__accumulate_grad(n->inputs[1], dt);
}

int tensor__check_reduction(const char *op, TensorReduction r)
{
    if (r == TENSOR_REDUCTION_MEAN || r == TENSOR_REDUCTION_SUM || r == TENSOR_REDUCTION_NONE)
        return 0;
    return tensor_set_error("%s: reduction %d is not TENSOR_REDUCTION_MEAN, _SUM or _NONE", op,
                            (int)r), -1;
}
