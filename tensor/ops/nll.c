/*
 * Losses over class indices, forward and backward side by side:
 * cross_entropy (log_softmax and the pick in one op, as PyTorch fuses their
 * backwards) and nll_loss (the pick alone, from log-probabilities).
 *
 * Shapes, as PyTorch's: input (C) with a 0-d target, (N, C) with target (N),
 * or (N, C, d1, ...) with target (N, d1, ...).  The classes lie along dim 1
 * (dim 0 for (C)): the input read as a block (outer N, size C, inner
 * d1 * ...), target element j = o * inner + i picks class t_j of column
 * (o, i).  A target equal to ignore_index adds nothing; the mean is over
 * the others (NaN when there are none, as PyTorch).
 */
#include "core/tensor_internal.h"
#include "kernels/kernels.h"
#include "kernels/threads.h"

#include <math.h>
#include <string.h>

/* The checked targets: the block, each target's class (-1 where ignored, a
 * copy: the backward must not read a target changed in place since), and
 * how many count. */
typedef struct {
    TensorBlock b;
    Tensor *classes;
    int64_t count;
} Targets;

/* A node's slots: ival[REDUCTION], ival[COUNT]; saved[CLASSES] the classes
 * (and cross_entropy's saved[LOGP], its log-probabilities). */
enum { REDUCTION = 0, COUNT = 1 };
enum { CLASSES = 0, LOGP = 1 };

/* "target[3]" or, for a target of 2 dims or more, "target[1,2]". */
static const char *target_at(const Tensor *target, int64_t j, char *buf, size_t cap)
{
    if (target->ndim <= 1) {
        snprintf(buf, cap, "target[%lld]", (long long)j);
        return buf;
    }
    int64_t idx[TENSOR_MAX_DIMS];
    for (int d = target->ndim - 1; d >= 0; d--) {
        idx[d] = j % target->shape[d];
        j /= target->shape[d];
    }
    snprintf(buf, cap, "target%s", tensor__sizes_str(target->ndim, idx));
    buf[6] = '[';
    buf[strlen(buf) - 1] = ']';
    return buf;
}

/* input's shape without the class dim, the target's shape; -1 with a message. */
static int check_shapes(const char *op, const char *what, const Tensor *input,
                        const Tensor *target)
{
    if (input->ndim == 0)
        return tensor_set_error("%s: %s %s need a class dim: (C), (N,C) or (N,C,d1,...)", op, what,
                                tensor_shape_str(input)), -1;
    int64_t want[TENSOR_MAX_DIMS];
    int n = 0;
    for (int d = 0; d < input->ndim; d++)
        if (d != (input->ndim == 1 ? 0 : 1)) want[n++] = input->shape[d];
    bool same = target->ndim == n;
    for (int d = 0; same && d < n; d++) same = target->shape[d] == want[d];
    if (same) return 0;
    return tensor_set_error("%s: %s %s need a target of shape %s, got %s", op, what,
                            tensor_shape_str(input), tensor__sizes_str(n, want),
                            tensor_shape_str(target)), -1;
}

/* Checks the options, shapes and every target; fills t.  -1 with a message
 * naming the first bad target. */
static int read_targets(const char *op, const char *what, const Tensor *input,
                        const Tensor *target, TensorLossOptions o, Targets *t)
{
    if (tensor__check_reduction(op, o.reduction) || check_shapes(op, what, input, target))
        return -1;
    if (o.pos_weight)
        return tensor_set_error("%s: pos_weight is an option of bce_with_logits only", op), -1;
    t->b = tensor__block_at(input, input->ndim == 1 ? 0 : 1);
    int64_t classes = t->b.size;
    if (o.ignore_index >= 0 && o.ignore_index < classes)
        return tensor_set_error("%s: ignore_index %lld is a real class (0 to %lld): its targets "
                                "would silently add nothing; use a value outside the classes, "
                                "such as PyTorch's default -100 (TENSOR_LOSS_OPTIONS() starts "
                                "from it)", op, (long long)o.ignore_index,
                                (long long)classes - 1), -1;
    t->classes = tensor__alloc_result(op, target->ndim, target->shape);
    const float *in = t->classes ? TENSOR__INPUT(op, target) : NULL;
    if (!in) return -1;
    float *c = t->classes->data;
    memcpy(c, in, (size_t)target->numel * sizeof *c);
    t->count = 0;
    char at[8 * 24];
    for (int64_t j = 0; j < target->numel; j++) {
        if ((double)c[j] == (double)o.ignore_index) {
            c[j] = -1;
            continue;
        }
        if (c[j] != floorf(c[j]) || !isfinite(c[j]))
            return tensor_set_error("%s: %s = %g is not a class index (a whole number from 0 "
                                    "to %lld)", op, target_at(target, j, at, sizeof at),
                                    (double)c[j], (long long)classes - 1), -1;
        if (c[j] < 0 || c[j] >= (float)classes)
            return tensor_set_error("%s: %s = %g is out of range for %lld classes (0 to %lld)",
                                    op, target_at(target, j, at, sizeof at), (double)c[j],
                                    (long long)classes, (long long)classes - 1), -1;
        t->count++;
    }
    return 0;
}

/* sum(-x[j, t_j]) over the rows of an (N, C) input that are not ignored,
 * in float as PyTorch's nll_loss_out_frame sums them (CPU, 1.13): partial
 * sums in 8 levels, level k flushed into level k + 1 after each row j whose
 * bits k p to (k + 1) p - 1 are all 0 (p = max(4, ceil(log2 N) / 8)), an
 * ignored row flushing nothing; then the levels added from the lowest.  Its
 * float mean is bit for bit PyTorch's (the book's chapter 7 prints the loss
 * of a batch with padding targets -100 as a Python float). */
static float cascade_sum(const float *x, const Targets *t)
{
    enum { LEVELS = 8 };
    const float *c = t->classes->data;
    int64_t n = t->classes->numel, size = t->b.size, log2n = 0;
    while (log2n < 62 && (INT64_C(1) << log2n) < n) log2n++;
    int64_t power = log2n / LEVELS > 4 ? log2n / LEVELS : 4, mask = (INT64_C(1) << power) - 1;
    float partial[LEVELS] = {0};
    for (int64_t j = 0; j < n; j++) {
        if (c[j] < 0) continue;
        partial[0] -= x[j * size + (int64_t)c[j]];
        for (int k = 0; k + 1 < LEVELS && (j & (mask << (k * power))) == 0; k++) {
            partial[k + 1] += partial[k];
            partial[k] = 0;
        }
    }
    float total = 0;
    for (int k = 0; k < LEVELS; k++) total += partial[k];
    return total;
}

/* The loss from x (the input's or its log_softmax's values, row-major):
 * -x at each target's class, 0 where ignored (none), their sum, or their
 * sum over the count (mean): for (C) and (N, C) inputs PyTorch's float sum
 * (cascade_sum), for (N, C, d1, ...) summed in double and rounded once. */
static Tensor *pick_loss(const char *op, const float *x, const Targets *t, TensorReduction r)
{
    const float *c = t->classes->data;
    TensorBlock b = t->b;
    Tensor *out = r == TENSOR_REDUCTION_NONE
                      ? tensor__alloc_result(op, t->classes->ndim, t->classes->shape)
                      : tensor__alloc(0, NULL);
    if (!out) return NULL;
    double sum = 0;
    for (int64_t j = 0; j < t->classes->numel; j++) {
        int64_t o = j / b.inner, i = j % b.inner;
        float v = c[j] < 0 ? 0.0f : -x[(o * b.size + (int64_t)c[j]) * b.inner + i];
        if (r == TENSOR_REDUCTION_NONE) out->data[j] = v;
        else sum += v;
    }
    float total = b.inner == 1 ? cascade_sum(x, t) : (float)sum;
    if (r == TENSOR_REDUCTION_SUM) out->data[0] = total;
    if (r == TENSOR_REDUCTION_MEAN) out->data[0] = total / (float)t->count;
    return out;
}

/* PyTorch's node for the call: nll_loss for (C) and (N, C); nll_loss2d for
 * (N, C, h, w), and for other ranks viewed as (N, C, 1, d), its (N, 1, d)
 * result viewed back when there is no reduction. */
static const char *node_name(const Tensor *input, TensorReduction r)
{
    if (input->ndim <= 2) return "NllLossBackward0";
    if (input->ndim == 4 || r != TENSOR_REDUCTION_NONE) return "NllLoss2DBackward0";
    return "ViewBackward0";
}

/* Records op on out with the targets; its node, or NULL when none is needed. */
static TensorNode *record(TensorOp op, Tensor *out, const Tensor *input, const Targets *t,
                      TensorReduction r)
{
    TensorNode *n = tensor__record(op, out, 1, &input);
    if (n) {
        n->name = node_name(input, r);
        n->saved[CLASSES] = t->classes;
        n->ival[REDUCTION] = r;
        n->ival[COUNT] = t->count;
    }
    return n;
}

/* The k of each target's gradient: dL / count (mean), dL (sum), dL_j (none). */
static float grad_scale(const TensorNode *n, const float *g, int64_t j)
{
    switch (n->ival[REDUCTION]) {
    case TENSOR_REDUCTION_MEAN: return g[0] / (float)n->ival[COUNT];
    case TENSOR_REDUCTION_SUM: return g[0];
    default: return g[j];
    }
}

/* ---- nll_loss ------------------------------------------------------------- */

/* forward: L = reduce(-x[o, t_j, i]) over the targets not ignored
 * backward: dx[o, t_j, i] = -k_j (k_j from grad_scale), 0 elsewhere */
Tensor *tensor_nll_loss_ex(const Tensor *input, const Tensor *target, TensorLossOptions options)
{
    if (!TENSOR__USABLE(input) || !TENSOR__USABLE(target)) return NULL;
    Targets t;
    if (read_targets("nll_loss", "input", input, target, options, &t)) return NULL;
    const float *x = TENSOR__INPUT("nll_loss", input);
    Tensor *out = x ? pick_loss("nll_loss", x, &t, options.reduction) : NULL;
    if (!out) return NULL;
    record(OP_NLL_LOSS, out, input, &t, options.reduction);
    return tensor__result(out);
}

Tensor *tensor_nll_loss(const Tensor *input, const Tensor *target)
{
    return tensor_nll_loss_ex(input, target, TENSOR_LOSS_OPTIONS());
}

void tensor__nll_loss_backward(TensorNode *n, const Tensor *grad_out)
{
    const Tensor *x = n->inputs[0], *classes = n->saved[CLASSES];
    TensorBlock b = tensor__block_at(x, x->ndim == 1 ? 0 : 1);
    const float *g = tensor__contiguous_data(grad_out), *c = classes->data;
    Tensor *dx = tensor_zeros(x->ndim, x->shape);
    for (int64_t j = 0; j < classes->numel; j++) {
        if (c[j] < 0) continue;
        int64_t o = j / b.inner, i = j % b.inner;
        dx->data[(o * b.size + (int64_t)c[j]) * b.inner + i] = -grad_scale(n, g, j);
    }
    tensor__accumulate_grad(n->inputs[0], dx);
}

/* ---- cross_entropy -------------------------------------------------------- */

Tensor *tensor_cross_entropy_ex(const Tensor *logits, const Tensor *target,
                                TensorLossOptions options)
{
    if (!TENSOR__USABLE(logits) || !TENSOR__USABLE(target)) return NULL;
    Targets t;
    if (read_targets("cross_entropy", "logits", logits, target, options, &t)) return NULL;
    /* As PyTorch: nll_loss(log_softmax(logits, class dim)); the backward is
     * fused, so log_softmax records no node of its own. */
    tensor_no_grad_begin();
    tensor__anomaly_pause(true);   /* anomaly mode checks the loss, not this step */
    Tensor *logp = tensor_log_softmax(logits, logits->ndim == 1 ? 0 : 1);
    tensor__anomaly_pause(false);
    tensor_no_grad_end();
    Tensor *out = logp ? pick_loss("cross_entropy", logp->data, &t, options.reduction) : NULL;
    if (!out) return NULL;
    TensorNode *n = record(OP_CROSS_ENTROPY, out, logits, &t, options.reduction);
    if (n) n->saved[LOGP] = logp;
    return tensor__result(out);
}

Tensor *tensor_cross_entropy(const Tensor *logits, const Tensor *target)
{
    return tensor_cross_entropy_ex(logits, target, TENSOR_LOSS_OPTIONS());
}

/* The backward's rows, spread over the threads when the logits are large
 * (the 124M model's are 512 x 50257). */
enum { PARALLEL_NUMEL = 1 << 16, CHUNK = 2048 };

typedef struct {
    const TensorNode *n;
    const float *logp, *t, *g;
    float *dz;
    int64_t classes;
    TensorExpFn exp_fn;
} CrossEntropyGrad;

/* Row i of dz (logits (N, C) or (C)), a chunk at a time so that exp's
 * output is scaled while it is in L1.  Off the target, (double)e * k
 * rounded to float is the float product e * k (the double product is
 * exact), so that loop is plain float and vectorises; the target's e k - k
 * keeps its single rounding in double.  An ignored row is 0. */
static void cross_entropy_grad_row(void *ctx, int64_t i, int worker)
{
    const CrossEntropyGrad *g = ctx;
    const float *lp = g->logp + i * g->classes;
    float *d = g->dz + i * g->classes;
    int64_t target = (int64_t)g->t[i];
    (void)worker;
    if (target < 0) {
        memset(d, 0, (size_t)g->classes * sizeof *d);
        return;
    }
    float k = grad_scale(g->n, g->g, i), e_target = 0.0f;
    for (int64_t c0 = 0; c0 < g->classes; c0 += CHUNK) {
        int64_t n = g->classes - c0 < CHUNK ? g->classes - c0 : CHUNK;
        g->exp_fn(lp + c0, 0.0f, d + c0, n);   /* softmax(z) */
        if (target >= c0 && target < c0 + n) e_target = d[target];
        for (int64_t c = c0; c < c0 + n; c++) d[c] *= k;
    }
    d[target] = (float)((double)e_target * k - k);
}

/* The same for logits (N, C, d1, ...): column (o, i) of the block. */
static void cross_entropy_grad_nd(const CrossEntropyGrad *g, TensorBlock b)
{
    for (int64_t j = 0; j < b.outer * b.inner; j++) {
        int64_t o = j / b.inner, i = j % b.inner, target = (int64_t)g->t[j];
        float k = target < 0 ? 0.0f : grad_scale(g->n, g->g, j);
        for (int64_t c = 0; c < b.size; c++) {
            int64_t at = (o * b.size + c) * b.inner + i;
            float e = target < 0 ? 0.0f : expf(g->logp[at]);
            g->dz[at] = c == target ? (float)((double)e * k - k) : e * k;
        }
    }
}

/* forward: L = reduce(-log_softmax(z)[o, t_j, i]) over the targets not ignored
 * backward: dz[o, c, i] = (softmax(z)[o, c, i] - (c == t_j)) * k_j, k_j from
 * grad_scale (dL / count for the mean), 0 in an ignored column; computed as
 * exp(logp) k - (c == t) k, rounded once (in double) as PyTorch's NllLoss
 * and LogSoftmax backwards, fused into an FMA by its build, round it. */
void tensor__cross_entropy_backward(TensorNode *n, const Tensor *grad_out)
{
    const Tensor *logp = n->saved[LOGP];
    TensorBlock b = tensor__block_at(logp, logp->ndim == 1 ? 0 : 1);
    Tensor *dz = tensor__alloc(logp->ndim, logp->shape);
    CrossEntropyGrad g = {.n = n, .logp = logp->data, .t = n->saved[CLASSES]->data,
                          .g = tensor__contiguous_data(grad_out), .dz = dz->data,
                          .classes = b.size, .exp_fn = tensor__exp_fn()};
    if (b.inner > 1) {
        cross_entropy_grad_nd(&g, b);
    } else if (b.size > 0) {
        int threads = dz->numel >= PARALLEL_NUMEL ? tensor_get_num_threads() : 1;
        tensor__parallel_for(b.outer, threads, cross_entropy_grad_row, &g);
    }
    tensor__accumulate_grad(n->inputs[0], dz);
}
