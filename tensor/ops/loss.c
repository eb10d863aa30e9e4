/*
 * Losses, forward and backward side by side: mean squared error and
 * cross-entropy over class indices.  Both reduce by the mean and return a
 * 0-d tensor, like PyTorch's defaults.
 */
#include "core/internal.h"
#include "kernels/kernels.h"
#include "kernels/threads.h"

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
    const float *p = tensor__contiguous_data(pred);
    const float *t = tensor__contiguous_data(target);
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
    const float *p = tensor__contiguous_data(pred), *t = tensor__contiguous_data(target);
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

/* forward: L = mean((1 - t) x + m + ln(exp(-m) + exp(-x - m))), m = max(-x, 0):
 * sigmoid and BCE in one, stable for large |x| (PyTorch's formula);
 * backward: dx = dL (sigmoid(x) - t) / N;  dt = -dL x / N */
Tensor *tensor_bce_with_logits(const Tensor *logits, const Tensor *target)
{
    if (!TENSOR__USABLE(logits) || !TENSOR__USABLE(target)) return NULL;
    if (check_binary("binary_cross_entropy_with_logits", logits, target)) return NULL;
    const float *x = tensor__contiguous_data(logits), *t = tensor__contiguous_data(target);
    double sum = 0;
    for (int64_t i = 0; i < logits->numel; i++) {
        float m = fmaxf(-x[i], 0.0f);
        sum += (1 - t[i]) * x[i] + m + logf(expf(-m) + expf(-x[i] - m));
    }
    Tensor *out = tensor__alloc(0, NULL);
    out->data[0] = (float)(sum / (double)logits->numel);
    tensor__record(OP_BCE_WITH_LOGITS, out, 2, (const Tensor *[]){logits, target});
    return tensor__result(out);
}

void tensor__bce_with_logits_backward(TensorNode *n, const Tensor *grad_out)
{
    const Tensor *logits = n->inputs[0], *target = n->inputs[1];
    const float *x = tensor__contiguous_data(logits), *t = tensor__contiguous_data(target);
    float k = grad_out->data[0] / (float)logits->numel;
    Tensor *dx = tensor__alloc(logits->ndim, logits->shape);
    for (int64_t i = 0; i < dx->numel; i++) dx->data[i] = (1 / (1 + expf(-x[i])) - t[i]) * k;
    tensor__accumulate_grad(n->inputs[0], dx);
    if (!target->requires_grad) return;
    Tensor *dt = tensor__alloc(target->ndim, target->shape);
    for (int64_t i = 0; i < dt->numel; i++) dt->data[i] = -x[i] * k;
    tensor__accumulate_grad(n->inputs[1], dt);
}

/* ---- cross_entropy -------------------------------------------------------- */

/* logits (N,C) with target (N), or logits (C) with a 0-d target. */
static int check_cross_entropy_shapes(const Tensor *logits, const Tensor *target)
{
    if (logits->ndim != 1 && logits->ndim != 2) {
        tensor_set_error("cross_entropy: logits %s must be (N,C) or (C)", tensor_shape_str(logits));
        return -1;
    }
    bool batched = logits->ndim == 2;
    if (target->ndim != logits->ndim - 1 || (batched && target->shape[0] != logits->shape[0])) {
        char want[32] = "()";
        if (batched) snprintf(want, sizeof want, "(%lld)", (long long)logits->shape[0]);
        tensor_set_error("cross_entropy: logits %s need a target of shape %s, got %s",
                      tensor_shape_str(logits), want, tensor_shape_str(target));
        return -1;
    }
    return 0;
}

/* Each target must be a whole number in [0, C). */
static int check_classes(const float *t, int64_t n, int64_t classes)
{
    for (int64_t i = 0; i < n; i++) {
        if (t[i] != floorf(t[i]) || !isfinite(t[i])) {
            tensor_set_error("cross_entropy: target[%lld] = %g is not a class index "
                          "(a whole number from 0 to %lld)",
                          (long long)i, (double)t[i], (long long)classes - 1);
            return -1;
        }
        if (t[i] < 0 || t[i] >= (float)classes) {
            tensor_set_error("cross_entropy: target[%lld] = %g is out of range for %lld classes "
                          "(0 to %lld)",
                          (long long)i, (double)t[i], (long long)classes, (long long)classes - 1);
            return -1;
        }
    }
    return 0;
}

Tensor *tensor_cross_entropy(const Tensor *logits, const Tensor *target)
{
    if (!TENSOR__USABLE(logits) || !TENSOR__USABLE(target)) return NULL;
    if (check_cross_entropy_shapes(logits, target)) return NULL;
    int64_t classes = logits->shape[logits->ndim - 1];
    int64_t batch = logits->ndim == 2 ? logits->shape[0] : 1;
    const float *t = tensor__contiguous_data(target);
    if (check_classes(t, batch, classes)) return NULL;

    /* As PyTorch: nll_loss(log_softmax(logits, class dim)); the backward is
     * fused, so log_softmax records no node of its own. */
    tensor_no_grad_begin();
    tensor__anomaly_pause(true);   /* anomaly mode checks the loss, not this step */
    Tensor *logp = tensor_log_softmax(logits, -1);
    tensor__anomaly_pause(false);
    tensor_no_grad_end();
    double sum = 0.0;
    for (int64_t i = 0; i < batch; i++) sum -= logp->data[i * classes + (int64_t)t[i]];
    Tensor *out = tensor__alloc(0, NULL);
    out->data[0] = (float)sum / (float)batch;
    TensorNode *n = tensor__record(OP_CROSS_ENTROPY, out, 1, &logits);
    if (n) {
        /* The indices are copied: they were checked here, and the backward
         * must not read a target changed in place since. */
        n->saved[0] = logp;
        n->saved[1] = tensor__alloc(1, &batch);
        memcpy(n->saved[1]->data, t, (size_t)batch * sizeof *t);
    }
    return tensor__result(out);
}

/* The backward's rows, spread over the threads when the logits are large
 * (the 124M model's are 512 x 50257). */
enum { PARALLEL_NUMEL = 1 << 16, CHUNK = 2048 };

typedef struct {
    const float *logp, *t;
    float *dz;
    int64_t classes;
    float k;
    TensorExpFn exp_fn;
} CrossEntropyGrad;

/* Row i of dz, a chunk at a time so that exp's output is scaled while it
 * is in L1.  Off the target, (double)e * k rounded to float is the float
 * product e * k (the double product is exact), so that loop is plain float
 * and vectorises; the target's e k - k keeps its single rounding in double. */
static void cross_entropy_grad_row(void *ctx, int64_t i, int worker)
{
    const CrossEntropyGrad *g = ctx;
    const float *lp = g->logp + i * g->classes;
    float *d = g->dz + i * g->classes;
    int64_t target = (int64_t)g->t[i];
    float e_target = 0.0f;
    for (int64_t c0 = 0; c0 < g->classes; c0 += CHUNK) {
        int64_t n = g->classes - c0 < CHUNK ? g->classes - c0 : CHUNK;
        g->exp_fn(lp + c0, 0.0f, d + c0, n);   /* softmax(z) */
        if (target >= c0 && target < c0 + n) e_target = d[target];
        for (int64_t c = c0; c < c0 + n; c++) d[c] *= g->k;
    }
    d[target] = (float)((double)e_target * g->k - g->k);
    (void)worker;
}

/* forward: L = mean_i(-log_softmax(z)[i, t_i]) over N rows
 * backward: dz[i, c] = (softmax(z)[i, c] - (c == t_i)) / N * dL,
 * computed as exp(logp) k - (c == t_i) k with k = dL / N, rounded once (in
 * double) as PyTorch's NllLoss and LogSoftmax backwards, fused into an FMA
 * by its build, round it. */
void tensor__cross_entropy_backward(TensorNode *n, const Tensor *grad_out)
{
    const Tensor *logp = n->saved[0];
    const float *t = n->saved[1]->data;
    int64_t classes = logp->shape[logp->ndim - 1];
    int64_t batch = logp->ndim == 2 ? logp->shape[0] : 1;
    Tensor *dz = tensor__alloc(logp->ndim, logp->shape);
    CrossEntropyGrad g = {.logp = logp->data, .t = t, .dz = dz->data, .classes = classes,
                          .k = grad_out->data[0] / (float)batch, .exp_fn = tensor__exp_fn()};
    int threads = dz->numel >= PARALLEL_NUMEL ? tensor_get_num_threads() : 1;
    if (classes > 0) tensor__parallel_for(batch, threads, cross_entropy_grad_row, &g);
    tensor__accumulate_grad(n->inputs[0], dz);
}
