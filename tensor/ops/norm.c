/*
 * Layer normalisation over the last dim, forward and backward side by side,
 * fused: one pass computes each row's mean and 1/std, which the backward
 * reuses, instead of the six nodes of the book's composite
 * (mean, sub, var, add eps, sqrt, div).
 *
 *   forward, per row x of n values (the last dim):
 *     mean = sum(x) / n,  var = sum((x - mean)^2) / n   (biased, as the book's
 *     LayerNorm and torch.nn.functional.layer_norm),  rstd = 1 / sqrt(var + eps)
 *     xhat = (x - mean) * rstd,  y = xhat * weight + bias
 *
 * The sums are taken in double and rounded once to float, so mean and rstd
 * are the correctly rounded float values of the row's statistics; the book's
 * composite rounds at every step, and the two agree within float32 rounding
 * (tests/test_norm.c checks it against PyTorch).  Derivation of the backward:
 * docs/adding_an_op.md.
 *
 * Speed: the double sums run in eight lanes and every loop vectorises
 * (TENSOR__VECTORIZE: AVX2 where the CPU has it).  Large tensors spread
 * their rows over the threads, and dw and db blocks of columns, each adding
 * the rows in order: the same bits whatever the thread count.
 */
#include "core/tensor_internal.h"
#include "kernels/threads.h"
#include "kernels/vectorize.h"

#include <math.h>

/* A chunk of work is whole rows, about LN_CHUNK elements (one row when rows
 * are longer), or for dw and db a block of LN_COLUMNS columns over all the
 * rows.  From LN_PARALLEL_NUMEL elements the chunks spread over the threads.
 * A second thread pays from about 400 us of work (GELU's measurement, see
 * tensor/ops/elementwise.c); LayerNorm does about half of GELU's work per
 * element (0.37 against 0.75 ns on a shared Zen 4), hence 2^20.  No size
 * in bench_gpt's configurations reaches it: on that shared machine no
 * LayerNorm up to 1.5M elements ran faster on two threads. */
enum { LN_CHUNK = 1 << 13, LN_COLUMNS = 64, LN_PARALLEL_NUMEL = 1 << 20 };

/* What one pass reads and writes; x, dy, y and dx are (rows, n) row-major.
 * mean and rstd: written by the forward, read by the backward. */
typedef struct {
    const float *x, *w, *b, *dy;
    float *y, *mean, *rstd, *dx, *dw, *db;
    int64_t rows, n, per;         /* rows in a chunk */
    double eps;
} LayerNormPass;

/* s = the sum over i in [0, n) of the double TERM(i), in eight lanes as
 * kernels/lanes.c: independent accumulators the compiler can vectorise (one
 * running sum is a chain it must keep in order).  TERM is a macro of i. */
#define ROW_SUM(s, n, TERM)                                                                 \
    do {                                                                                    \
        double lane_[8] = {0};                                                              \
        int64_t i_ = 0;                                                                     \
        for (; i_ + 8 <= (n); i_ += 8)                                                      \
            for (int k_ = 0; k_ < 8; k_++) lane_[k_] += TERM(i_ + k_);                      \
        (s) = ((lane_[0] + lane_[1]) + (lane_[2] + lane_[3])) +                             \
              ((lane_[4] + lane_[5]) + (lane_[6] + lane_[7]));                              \
        for (; i_ < (n); i_++) (s) += TERM(i_);                                             \
    } while (0)

/* Rows [r0, r1): mean and rstd per row, and y. */
TENSOR__VECTORIZE static void forward_rows(const LayerNormPass *p, int64_t r0, int64_t r1)
{
    int64_t n = p->n;
    const float *w = p->w, *b = p->b;
    for (int64_t r = r0; r < r1; r++) {
        const float *xr = p->x + r * n;
        double m, v;
#define X(i) ((double)xr[i])
#define SQUARED_DEVIATION(i) (((double)xr[i] - m) * ((double)xr[i] - m))
        ROW_SUM(m, n, X);
        m /= (double)n;
        ROW_SUM(v, n, SQUARED_DEVIATION);
        v /= (double)n;
#undef X
#undef SQUARED_DEVIATION
        float mean = (float)m, rstd = (float)(1.0 / sqrt(v + p->eps));
        p->mean[r] = mean;
        p->rstd[r] = rstd;
        float *yr = p->y + r * n;
        if (w && b) {
            for (int64_t i = 0; i < n; i++) yr[i] = (xr[i] - mean) * rstd * w[i] + b[i];
        } else {
            for (int64_t i = 0; i < n; i++) {
                float xhat = (xr[i] - mean) * rstd;
                yr[i] = (w ? xhat * w[i] : xhat) + (b ? b[i] : 0.0f);
            }
        }
    }
}

static void forward_chunk(void *ctx, int64_t c, int worker)
{
    const LayerNormPass *p = ctx;
    int64_t r0 = c * p->per;
    forward_rows(p, r0, p->rows - r0 < p->per ? p->rows : r0 + p->per);
    (void)worker;
}

/* Runs task over chunks (n_chunks of them), on the threads when the tensor
 * is large enough. */
static void run_chunks(const LayerNormPass *p, int64_t n_chunks, TensorTask task)
{
    int threads = p->rows * p->n >= LN_PARALLEL_NUMEL ? tensor_get_num_threads() : 1;
    tensor__parallel_for(n_chunks, threads, task, (void *)p);
}

static void run_rows(LayerNormPass *p, TensorTask task)
{
    if (p->rows == 0 || p->n == 0) return;
    p->per = p->n >= LN_CHUNK ? 1 : LN_CHUNK / p->n;
    run_chunks(p, (p->rows + p->per - 1) / p->per, task);
}

static bool layer_norm_check(const Tensor *x, const Tensor *w, const Tensor *b, double eps)
{
    if (x->ndim < 1)
        return tensor_set_error("layer_norm: input %s must have at least one dim",
                                tensor_shape_str(x)),
               false;
    int64_t n = x->shape[x->ndim - 1];
    const Tensor *p[2] = {w, b};
    const char *what[2] = {"weight", "bias"};
    for (int k = 0; k < 2; k++)
        if (p[k] && (p[k]->ndim != 1 || p[k]->shape[0] != n))
            return tensor_set_error("layer_norm: %s %s must be (%lld) for input %s", what[k],
                                 tensor_shape_str(p[k]), (long long)n, tensor_shape_str(x)),
                   false;
    if (!(eps >= 0 && isfinite(eps)))
        return tensor_set_error("layer_norm: eps = %g for input %s must be finite and >= 0", eps,
                             tensor_shape_str(x)),
               false;
    return true;
}

Tensor *tensor_layer_norm(const Tensor *x, const Tensor *weight, const Tensor *bias, double eps)
{
    if (!TENSOR__USABLE(x) || (weight && !TENSOR__USABLE(weight)) ||
        (bias && !TENSOR__USABLE(bias)) || !layer_norm_check(x, weight, bias, eps))
        return NULL;
    int64_t n = x->shape[x->ndim - 1], rows = n ? x->numel / n : 0;
    Tensor *out = tensor__alloc_result("layer_norm", x->ndim, x->shape);
    int64_t stat_shape[1] = {rows};
    Tensor *mean = out ? tensor__alloc_result("layer_norm", 1, stat_shape) : NULL;
    Tensor *rstd = mean ? tensor__alloc_result("layer_norm", 1, stat_shape) : NULL;
    const float *xd = rstd ? TENSOR__INPUT("layer_norm", x) : NULL;
    const float *w = xd && weight ? TENSOR__INPUT("layer_norm", weight) : NULL;
    const float *b = xd && bias ? TENSOR__INPUT("layer_norm", bias) : NULL;
    if (!xd || (weight && !w) || (bias && !b)) return NULL;
    LayerNormPass p = {.x = xd, .w = w, .b = b, .y = out->data, .mean = mean->data,
                       .rstd = rstd->data, .rows = rows, .n = n, .eps = eps};
    run_rows(&p, forward_chunk);
    const Tensor *in[3] = {x, NULL, NULL};
    int k = 1;
    if (weight) in[k++] = weight;
    if (bias) in[k++] = bias;
    TensorNode *node = tensor__record(OP_LAYER_NORM, out, k, in);
    if (node) {
        node->saved[0] = mean;
        node->saved[1] = rstd;
        node->ival[0] = weight != NULL;
        node->ival[1] = bias != NULL;
    }
    return tensor__result(out);
}

/* Row r of dx: with g = dy * w (dy when there is no weight: has_w false),
 * dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), the means in double. */
static inline __attribute__((always_inline)) void backward_row(const LayerNormPass *p, int64_t r,
                                                               bool has_w)
{
    int64_t n = p->n;
    const float *xr = p->x + r * n, *gr = p->dy + r * n, *w = p->w;
    float mean = p->mean[r], rstd = p->rstd[r];
#define XHAT(i) ((xr[i] - mean) * rstd)
#define G(i) (has_w ? gr[i] * w[i] : gr[i])
#define G_DOUBLE(i) ((double)G(i))
#define G_XHAT(i) ((double)G(i) * XHAT(i))
    double s1, s2;
    ROW_SUM(s1, n, G_DOUBLE);
    ROW_SUM(s2, n, G_XHAT);
#undef G_DOUBLE
#undef G_XHAT
    float m1 = (float)(s1 / (double)n), m2 = (float)(s2 / (double)n);
    float *dxr = p->dx + r * n;
    for (int64_t i = 0; i < n; i++) dxr[i] = rstd * (G(i) - m1 - XHAT(i) * m2);
#undef G
#undef XHAT
}

/* Rows [r0, r1) of dx. */
TENSOR__VECTORIZE static void backward_rows(const LayerNormPass *p, int64_t r0, int64_t r1)
{
    for (int64_t r = r0; r < r1; r++)
        if (p->w)
            backward_row(p, r, true);
        else
            backward_row(p, r, false);
}

static void backward_chunk(void *ctx, int64_t c, int worker)
{
    const LayerNormPass *p = ctx;
    int64_t r0 = c * p->per;
    backward_rows(p, r0, p->rows - r0 < p->per ? p->rows : r0 + p->per);
    (void)worker;
}

/* Columns [c0, c1) of dw += sum over rows of dy * xhat and db += sum of dy,
 * the rows added in order (whatever the thread count: the same bits). */
static inline __attribute__((always_inline)) void
param_grad_loop(const LayerNormPass *p, int64_t c0, int64_t c1, bool dw, bool db)
{
    for (int64_t r = 0; r < p->rows; r++) {
        const float *xr = p->x + r * p->n, *gr = p->dy + r * p->n;
        float mean = p->mean[r], rstd = p->rstd[r];
        for (int64_t i = c0; i < c1; i++) {
            if (dw) p->dw[i] += gr[i] * ((xr[i] - mean) * rstd);
            if (db) p->db[i] += gr[i];
        }
    }
}

TENSOR__VECTORIZE static void param_grad_columns(const LayerNormPass *p, int64_t c0, int64_t c1)
{
    if (p->dw && p->db)
        param_grad_loop(p, c0, c1, true, true);
    else if (p->dw)
        param_grad_loop(p, c0, c1, true, false);
    else
        param_grad_loop(p, c0, c1, false, true);
}

static void param_grad_chunk(void *ctx, int64_t c, int worker)
{
    const LayerNormPass *p = ctx;
    int64_t c0 = c * LN_COLUMNS;
    param_grad_columns(p, c0, p->n - c0 < LN_COLUMNS ? p->n : c0 + LN_COLUMNS);
    (void)worker;
}

/* forward: y = xhat * w + b,  xhat = (x - mean) * rstd, per row of n (last dim)
 * backward: with dxhat = dy * w (dy when there is no weight),
 *   dx += rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))   (means over the row)
 *   dw += sum over rows of dy * xhat,  db += sum over rows of dy
 * (derived in docs/adding_an_op.md) */
void tensor__layer_norm_backward(TensorNode *node, const Tensor *dy)
{
    const Tensor *x = node->inputs[0];
    Tensor *win = node->ival[0] ? node->inputs[1] : NULL;
    Tensor *bin = node->ival[1] ? node->inputs[1 + (int)node->ival[0]] : NULL;
    Tensor *dx = x->requires_grad ? tensor__alloc(x->ndim, x->shape) : NULL;
    Tensor *dw = win ? tensor__grad_buffer(win) : NULL, *db = bin ? tensor__grad_buffer(bin) : NULL;
    LayerNormPass p = {.x = tensor__contiguous_data(x), .dy = tensor__contiguous_data(dy),
                       .w = win ? tensor__contiguous_data(win) : NULL,
                       .mean = node->saved[0]->data, .rstd = node->saved[1]->data,
                       .dx = dx ? dx->data : NULL, .dw = dw ? dw->data : NULL,
                       .db = db ? db->data : NULL,
                       .rows = node->saved[0]->numel, .n = x->shape[x->ndim - 1]};
    if (dx) run_rows(&p, backward_chunk);
    if ((dw || db) && p.rows > 0)
        run_chunks(&p, (p.n + LN_COLUMNS - 1) / LN_COLUMNS, param_grad_chunk);
    if (dx) tensor__accumulate_grad(node->inputs[0], dx);
}
