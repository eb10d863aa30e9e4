/*
 * Softmax and log-softmax, forward and backward side by side.
 *
 * Softmax follows PyTorch's CPU kernels (its AVX2 build) step by step, so
 * that along the last dim the results are PyTorch's bit for bit (log_softmax
 * takes glibc's logf, which is an ulp off SLEEF's for a few rows in 1000):
 *
 *   along the last dim (attention's rows of length T: the hot path)
 *     m = max(x);  e = exp(x - m);  s = lane_sum(e)     (PyTorch's order)
 *     softmax = e * (1 / s);          log_softmax = (x - m) - log(s)
 *   along any other dim (each row is strided by the size of the dims after it)
 *     the same, but s adds the e's one by one, and softmax = e / s
 *
 * exp is PyTorch's too (kernels/exp.c), and fast: it is the only
 * costly step, compiled twice (plain C, and AVX2 + FMA chosen at run time).
 * Large tensors spread their rows over the threads (tensor_set_num_threads);
 * each row is computed the same way whatever the thread count.
 *
 * Masking: where x = -inf, exp(x - m) is exactly 0, so a partially masked row
 * gets exact zeros there and its backward stays finite (y = 0 there).  A row
 * that is entirely -inf has m = -inf and -inf - -inf = NaN: softmax gives NaN
 * for that row only, as PyTorch does.  masked_fill's backward selects (never
 * multiplies), so the NaN gradient of such a row stops at the mask.
 *
 * causal_softmax is attention's masked_fill(-inf), division by sqrt(d) and
 * softmax in one op with the composite's bits (its comment says how).
 */
#include "core/tensor_internal.h"
#include "kernels/kernels.h"
#include "kernels/threads.h"

#include <math.h>
#include <string.h>

/* Elements from which a softmax spreads its rows over the threads. */
enum { PARALLEL_NUMEL = 1 << 16 };

/* ---- forward ------------------------------------------------------------------ */

/* The largest of x[0..n), n >= 1, in 8 lanes so that the loop vectorises.
 * NaN is never taken (x > m is false), as in a running max; a row with a NaN
 * comes out all NaN either way, through its sum. */
static float row_max(const float *x, int64_t n)
{
    float lane[TENSOR__LANES];
    int64_t i = n < TENSOR__LANES ? n : TENSOR__LANES;
    for (int l = 0; l < TENSOR__LANES; l++) lane[l] = x[l < n ? l : 0];
    for (; i + TENSOR__LANES <= n; i += TENSOR__LANES)
        for (int l = 0; l < TENSOR__LANES; l++) lane[l] = x[i + l] > lane[l] ? x[i + l] : lane[l];
    for (int l = 0; i + l < n; l++) lane[l] = x[i + l] > lane[l] ? x[i + l] : lane[l];
    float m = lane[0];
    for (int l = 1; l < TENSOR__LANES; l++) m = lane[l] > m ? lane[l] : m;
    return m;
}

/* Elements of the rows one exp call takes: a block stays in L1. */
enum { ROW_BLOCK = 2048 };

/* Rows along the last dim (n >= 1), at most ROW_BLOCK elements of them
 * unless one row is longer: y = x - max(row) for every row, then one exp
 * over the whole block, then each row's sum.  One call rather than one per
 * row, because short rows (the toy task's T = 6) would each run only the
 * scalar tail of the vector loop.  exp(x - m) is the same float either way. */
static void softmax_rows(const float *x, float *y, int64_t rows, int64_t n, bool log,
                         TensorExpFn exp_rows)
{
    float m[ROW_BLOCK];
    for (int64_t r = 0; r < rows; r++) {
        m[r] = row_max(x + r * n, n);
        for (int64_t i = 0; i < n; i++) y[r * n + i] = x[r * n + i] - m[r];
    }
    exp_rows(y, 0.0f, y, rows * n);
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        float s = tensor__lane_sum(yr, n);
        if (log) {
            /* (x - m) - log(s), not x - (m + log(s)): the latter loses the
             * small differences between large inputs. */
            float log_s = logf(s);
            for (int64_t i = 0; i < n; i++) yr[i] = (xr[i] - m[r]) - log_s;
        } else {
            float inv = 1.0f / s;
            for (int64_t i = 0; i < n; i++) yr[i] *= inv;
        }
    }
}

/* One outer block of n rows of `inner` lanes; the softmax runs down each
 * lane.  m and s hold a row of lane maxima and sums. */
static void softmax_lanes(const float *x, float *y, int64_t n, int64_t inner, bool log,
                          float *m, float *s, TensorExpFn exp_rows)
{
    memcpy(m, x, (size_t)inner * sizeof *m);
    for (int64_t d = 1; d < n; d++)
        for (int64_t j = 0; j < inner; j++)
            if (x[d * inner + j] > m[j]) m[j] = x[d * inner + j];
    memset(s, 0, (size_t)inner * sizeof *s);
    for (int64_t d = 0; d < n; d++) {
        const float *xd = x + d * inner;
        float *yd = y + d * inner;
        for (int64_t j = 0; j < inner; j++) yd[j] = xd[j] - m[j];
        exp_rows(yd, 0.0f, yd, inner);
        for (int64_t j = 0; j < inner; j++) s[j] += yd[j];
    }
    if (log)
        for (int64_t j = 0; j < inner; j++) s[j] = logf(s[j]);
    for (int64_t d = 0; d < n; d++) {
        for (int64_t j = 0; j < inner; j++) {
            int64_t k = d * inner + j;
            y[k] = log ? (x[k] - m[j]) - s[j] : y[k] / s[j];
        }
    }
}

/* Blocks of whole rows along the last dim, ROW_BLOCK elements or one row:
 * the unit of work of a thread. */
typedef struct {
    const float *x, *y, *e, *dy;
    float *out;
    int64_t rows, n, per;     /* rows in all, their length, rows per block */
    bool log;
    TensorExpFn exp_rows;
    int64_t t, q0;            /* causal_softmax: queries per matrix, the first one's position */
    float divisor;
} RowBlocks;

static RowBlocks row_blocks(TensorBlock r)
{
    int64_t per = r.size >= ROW_BLOCK ? 1 : ROW_BLOCK / r.size;
    return (RowBlocks){.rows = r.outer, .n = r.size, .per = per};
}

/* Runs task on every block, on several threads when the tensor is large
 * enough to pay for them (small ones stay on the calling thread). */
static void for_blocks(RowBlocks *rb, TensorTask task)
{
    int64_t blocks = (rb->rows + rb->per - 1) / rb->per;
    int threads = rb->rows * rb->n >= PARALLEL_NUMEL ? tensor_get_num_threads() : 1;
    tensor__parallel_for(blocks, threads, task, rb);
}

/* Rows [*first, *first + return value) make block b. */
static int64_t block_rows(const RowBlocks *rb, int64_t b, int64_t *first)
{
    *first = b * rb->per;
    return rb->rows - *first < rb->per ? rb->rows - *first : rb->per;
}

static void softmax_block(void *ctx, int64_t b, int worker)
{
    const RowBlocks *rb = ctx;
    int64_t first, rows = block_rows(rb, b, &first);
    softmax_rows(rb->x + first * rb->n, rb->out + first * rb->n, rows, rb->n, rb->log,
                 rb->exp_rows);
    (void)worker;
}

static void softmax_forward(const float *x, float *y, TensorBlock r, bool lastdim, bool log)
{
    if (r.size == 0) return;
    TensorExpFn exp_rows = tensor__exp_fn();
    if (!lastdim) {
        float *m = tensor__scratch((size_t)r.inner * sizeof *m);
        float *s = tensor__scratch((size_t)r.inner * sizeof *s);
        for (int64_t o = 0; o < r.outer; o++)
            softmax_lanes(x + o * r.size * r.inner, y + o * r.size * r.inner, r.size, r.inner, log,
                          m, s, exp_rows);
        return;
    }
    RowBlocks rb = row_blocks(r);
    rb.x = x;
    rb.out = y;
    rb.log = log;
    rb.exp_rows = exp_rows;
    for_blocks(&rb, softmax_block);
}

static Tensor *softmax_op(const Tensor *a, int dim, bool log)
{
    if (!TENSOR__USABLE(a)) return NULL;
    int d = tensor__wrap_dim(a, dim, 0, log ? "log_softmax" : "softmax");
    if (d < 0) return NULL;
    const char *op = log ? "log_softmax" : "softmax";
    Tensor *out = tensor__alloc_result(op, a->ndim, a->shape);
    const float *x = out ? TENSOR__INPUT(op, a) : NULL;
    if (!x) return NULL;
    bool lastdim = a->ndim == 0 || d == a->ndim - 1;
    softmax_forward(x, out->data, tensor__block_at(a, d), lastdim, log);
    TensorNode *n = tensor__record(log ? OP_LOG_SOFTMAX : OP_SOFTMAX, out, 1, &a);
    if (n) {
        n->saved[0] = out;
        n->ival[0] = d;
    }
    return tensor__result(out);
}

Tensor *tensor_softmax(const Tensor *a, int dim) { return softmax_op(a, dim, false); }
Tensor *tensor_log_softmax(const Tensor *a, int dim) { return softmax_op(a, dim, true); }

/* ---- causal_softmax: attention's mask, scale and softmax in one pass -------------- */

/*
 * softmax(masked_fill(scores, future, -inf) / divisor, -1) with scores
 * (..., t, T): row i is the query at position q0 + i, column j the key at j,
 * and the future is j > q0 + i.  The composite makes three (..., t, T)
 * tensors and three passes, forward and backward; this makes one, and runs
 * exp only over the keys a row sees.  The bits are the composite's, by
 * construction: the visible entries go through the same divisions, the same
 * max (the -inf entries never win it) and the same exp, and the hidden ones
 * are set to what the composite's exp gives them, exactly 0, before the same
 * 8-lane sum over the whole row.  A hidden entry is then 0 * (1 / s), which
 * is NaN like the composite's when a NaN or inf in the row makes s NaN.
 */

/* The keys row r (of all the rows) sees: positions [0, return value), that
 * is min(q0 + i + 1, n) for its query i, without overflow for q0 near
 * INT64_MAX. */
static int64_t visible_keys(const RowBlocks *rb, int64_t r)
{
    int64_t i = r % rb->t;
    return rb->q0 < rb->n - i ? rb->q0 + i + 1 : rb->n;
}

static void causal_block(void *ctx, int64_t b, int worker)
{
    const RowBlocks *rb = ctx;
    int64_t first, rows = block_rows(rb, b, &first), n = rb->n;
    for (int64_t r = first; r < first + rows; r++) {
        const float *x = rb->x + r * n;
        float *y = rb->out + r * n;
        int64_t seen = visible_keys(rb, r);
        for (int64_t j = 0; j < seen; j++) y[j] = x[j] / rb->divisor;
        rb->exp_rows(y, row_max(y, seen), y, seen);     /* exp(x / d - m) */
        memset(y + seen, 0, (size_t)(n - seen) * sizeof *y);
        float inv = 1.0f / tensor__lane_sum(y, n);
        for (int64_t j = 0; j < n; j++) y[j] *= inv;
    }
    (void)worker;
}

/* The row blocks of scores (..., t, T) for the causal kernels. */
static RowBlocks causal_blocks(const Tensor *scores, float divisor, int64_t q0)
{
    int64_t n = scores->shape[scores->ndim - 1];
    RowBlocks rb = {.rows = scores->numel / n, .n = n, .per = n >= ROW_BLOCK ? 1 : ROW_BLOCK / n,
                    .t = scores->shape[scores->ndim - 2], .q0 = q0, .divisor = divisor};
    return rb;
}

Tensor *tensor_causal_softmax(const Tensor *scores, float divisor, int64_t q0)
{
    if (!TENSOR__USABLE(scores)) return NULL;
    if (scores->ndim < 2)
        return tensor_set_error("causal_softmax: scores %s must be (..., queries, keys)",
                                tensor_shape_str(scores));
    if (q0 < 0)
        return tensor_set_error("causal_softmax: scores %s: the first query's position %lld "
                                "must be >= 0", tensor_shape_str(scores), (long long)q0);
    if (!(divisor > 0.0f && divisor < INFINITY))
        return tensor_set_error("causal_softmax: divisor %g must be positive and finite",
                                (double)divisor);
    Tensor *out = tensor__alloc_result("causal_softmax", scores->ndim, scores->shape);
    const float *x = out ? TENSOR__INPUT("causal_softmax", scores) : NULL;
    if (!x) return NULL;
    if (out->numel > 0) {
        RowBlocks rb = causal_blocks(scores, divisor, q0);
        rb.x = x;
        rb.out = out->data;
        rb.exp_rows = tensor__exp_fn();
        for_blocks(&rb, causal_block);
    }
    TensorNode *n = tensor__record(OP_CAUSAL_SOFTMAX, out, 1, &scores);
    if (n) {
        n->saved[0] = out;
        n->scalar[0] = divisor;
        n->ival[0] = q0;
    }
    return tensor__result(out);
}

/* ---- backward ----------------------------------------------------------------- */

/*
 * The backward of one row (or lane) of n values spaced `step` apart:
 *   softmax:      y = softmax(x);      dx = y * (dy - sum(dy * y))
 *   log_softmax:  y = log_softmax(x);  dx = dy - exp(y) * sum(dy)
 * For log_softmax, e holds exp(y).  Along the last dim in PyTorch's order
 * (and its fused multiply-adds); along others a running sum.
 */
static void softmax_backward_row(const float *y, const float *e, const float *dy, float *dx,
                                 int64_t n, int64_t step, bool log, const float *dot)
{
    float s = 0.0f;
    if (dot) {   /* sum(dy * y), taken already (tensor__lane_dots) */
        s = *dot;
    } else if (step == 1) {
        s = log ? tensor__lane_sum(dy, n) : tensor__lane_dot(dy, y, n);
    } else {
        for (int64_t i = 0; i < n; i++) s += log ? dy[i * step] : dy[i * step] * y[i * step];
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t k = i * step;
        dx[k] = log ? tensor__fused_mul_add(-e[k], s, dy[k]) : (dy[k] - s) * y[k];
    }
}

enum { DOTS = 16 };   /* rows whose sum(dy * y) is taken at once */

/* Row r's sum(dy * y) in a block starting at row `first` of `rows`: taken
 * DOTS rows at a time, side by side (tensor__lane_dots), into dots. */
static float row_dot(const RowBlocks *rb, int64_t first, int64_t rows, int64_t r, float *dots)
{
    int64_t at = (r - first) % DOTS;
    if (at == 0)
        tensor__lane_dots(rb->dy + r * rb->n, rb->y + r * rb->n, rb->n,
                          first + rows - r < DOTS ? first + rows - r : DOTS, dots);
    return dots[at];
}

/* The backward of the rows of block b along the last dim. */
static void backward_block(void *ctx, int64_t b, int worker)
{
    const RowBlocks *rb = ctx;
    int64_t first, rows = block_rows(rb, b, &first);
    float dots[DOTS];
    for (int64_t o = first; o < first + rows; o++) {
        int64_t k = o * rb->n;
        float dot = rb->log ? 0.0f : row_dot(rb, first, rows, o, dots);
        softmax_backward_row(rb->y + k, rb->log ? rb->e + k : NULL, rb->dy + k, rb->out + k,
                             rb->n, 1, rb->log, rb->log ? NULL : &dot);
    }
    (void)worker;
}

static void softmax_family_backward(TensorNode *node, const Tensor *grad_out, bool log)
{
    const Tensor *y = node->saved[0];
    TensorBlock r = tensor__block_at(y, (int)node->ival[0]);
    const float *dy = tensor__contiguous_data(grad_out);
    Tensor *dx = tensor__alloc(y->ndim, y->shape);
    if (y->numel == 0) {   /* nothing to compute, and rows of 0 make no blocks */
        tensor__accumulate_grad(node->inputs[0], dx);
        return;
    }
    float *e = NULL;
    if (log) {
        e = tensor__scratch((size_t)y->numel * sizeof *e);
        tensor__exp_like_torch(y->data, 0.0f, e, y->numel);
    }
    if (r.inner == 1) {
        RowBlocks rb = row_blocks(r);
        rb.y = y->data;
        rb.e = e;
        rb.dy = dy;
        rb.out = dx->data;
        rb.log = log;
        for_blocks(&rb, backward_block);
    } else {
        for (int64_t o = 0; o < r.outer; o++) {
            for (int64_t j = 0; j < r.inner; j++) {
                int64_t k = o * r.size * r.inner + j;
                softmax_backward_row(y->data + k, log ? e + k : NULL, dy + k, dx->data + k, r.size,
                                     r.inner, log, NULL);
            }
        }
    }
    tensor__accumulate_grad(node->inputs[0], dx);
}

/* forward: y = softmax(x) along dim;  backward: dx = y * (dy - sum(dy * y, dim)) */
void tensor__softmax_backward(TensorNode *n, const Tensor *grad_out)
{
    softmax_family_backward(n, grad_out, false);
}

/* forward: y = log_softmax(x) along dim;  backward: dx = dy - exp(y) * sum(dy, dim) */
void tensor__log_softmax_backward(TensorNode *n, const Tensor *grad_out)
{
    softmax_family_backward(n, grad_out, true);
}

/* The composite's three backwards in one pass, each rounded as there:
 *   softmax:      dz = (dy - sum(dy * y)) * y      (the sum over the whole row)
 *   / divisor:    dx = dz / divisor
 *   masked_fill:  dx = 0 where the key is in the query's future */
static void causal_backward_block(void *ctx, int64_t b, int worker)
{
    const RowBlocks *rb = ctx;
    int64_t first, rows = block_rows(rb, b, &first), n = rb->n;
    float dots[DOTS];
    for (int64_t r = first; r < first + rows; r++) {
        const float *y = rb->y + r * n, *dy = rb->dy + r * n;
        float *dx = rb->out + r * n;
        int64_t seen = visible_keys(rb, r);
        float s = row_dot(rb, first, rows, r, dots);
        for (int64_t j = 0; j < seen; j++) {
            float dz = (dy[j] - s) * y[j];
            dx[j] = dz / rb->divisor;
        }
        memset(dx + seen, 0, (size_t)(n - seen) * sizeof *dx);
    }
    (void)worker;
}

/* forward: y = softmax(masked_fill(x, j > q0 + i, -inf) / d, -1)
 * backward: dx = (y * (dy - sum(dy * y, -1))) / d, and 0 where masked */
void tensor__causal_softmax_backward(TensorNode *n, const Tensor *grad_out)
{
    const Tensor *y = n->saved[0];
    Tensor *dx = tensor__alloc(y->ndim, y->shape);
    if (y->numel > 0) {
        RowBlocks rb = causal_blocks(y, (float)n->scalar[0], n->ival[0]);
        rb.y = y->data;
        rb.dy = tensor__contiguous_data(grad_out);
        rb.out = dx->data;
        for_blocks(&rb, causal_backward_block);
    }
    tensor__accumulate_grad(n->inputs[0], dx);
}
