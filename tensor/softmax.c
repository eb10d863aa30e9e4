/*
 * Softmax, log-softmax, and the masking ops causal attention needs
 * (masked_fill, triu, tril), forward and backward side by side.
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
 * exp is PyTorch's too (exp_like_torch below), and fast: it is the only
 * costly step, compiled twice (plain C, and AVX2 + FMA chosen at run time).
 * Large tensors spread their rows over the threads (tensor_set_num_threads);
 * each row is computed the same way whatever the thread count.
 *
 * Masking: where x = -inf, exp(x - m) is exactly 0, so a partially masked row
 * gets exact zeros there and its backward stays finite (y = 0 there).  A row
 * that is entirely -inf has m = -inf and -inf - -inf = NaN: softmax gives NaN
 * for that row only, as PyTorch does.  masked_fill's backward selects (never
 * multiplies), so the NaN gradient of such a row stops at the mask.
 */
#include "internal.h"
#include "kernels/threads.h"

#include <math.h>
#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define SOFTMAX_X86 1
#else
#define SOFTMAX_X86 0
#endif

/* Elements from which a softmax spreads its rows over the threads. */
enum { PARALLEL_NUMEL = 1 << 16 };

/* ---- exp, as PyTorch computes it ------------------------------------------ */

static inline uint32_t bits_of(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

static inline float float_of(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

/*
 * exp(d) as PyTorch's vectorized exp computes it (SLEEF's expf, 1-ulp
 * accurate; glibc's expf rounds differently for about 1 input in 100):
 *   d = q ln2 + s, q = rint(d / ln2), ln2 split in two parts so s is exact;
 *   exp(s) = 1 + s + s^2 (1/2 + s/6 + ...), a degree-7 polynomial in Horner
 *   form with fused multiply-adds;  exp(d) = exp(s) 2^q, scaled in two steps
 *   so 2^q never leaves the normal range.
 * d < -104 gives 0, d > 100 gives inf, NaN stays NaN.  The special cases are
 * picked with integer masks after the arithmetic (done on 0 instead), so the
 * loop has no branch and vectorizes.
 *
 * hw_fma: the CPU has FMA (the AVX2 variant).  Without it the fused
 * multiply-adds run in double: the float product is exact there and the sum
 * is rounded twice, which for this polynomial gives the fused result for
 * every float input (checked exhaustively over [-105, 101]).
 */
static inline __attribute__((always_inline)) float exp_like_torch(float d, bool hw_fma)
{
    const float r_ln2 = 1.44269504088896340736f;
    const float ln2_hi = 0.693145751953125f, ln2_lo = 1.428606765330187045e-06f;
    uint32_t b = bits_of(d);
    uint32_t under = b > 0xC2D00000u;                        /* d < -104, -inf, -NaN */
    uint32_t over = (b > 0x42C80000u) & (b < 0x80000000u);   /* d > 100, +inf, +NaN */
    uint32_t is_nan = (b & 0x7FFFFFFFu) > 0x7F800000u;
    uint32_t plain = 0u - (uint32_t)!(under | over | is_nan);   /* all ones: no special case */
    float x = float_of(b & plain);
#define MLA(a, b_, c) (hw_fma ? fmaf(a, b_, c) : (float)((double)(a) * (b_) + (c)))
    /* Rounded to nearest even.  rintf is an instruction with AVX2 (and on
     * most other CPUs); baseline x86 adds 1.5 * 2^23 (|x / ln2| < 152),
     * which it has no FMA to fuse with the product. */
    float qf = hw_fma || !SOFTMAX_X86 ? rintf(x * r_ln2) : (x * r_ln2 + 0x1.8p23f) - 0x1.8p23f;
    int q = (int)qf;
    float s = MLA(qf, -ln2_hi, x);
    s = MLA(qf, -ln2_lo, s);
    float u = 0.000198527617612853646278381f;
    u = MLA(u, s, 0.00139304355252534151077271f);
    u = MLA(u, s, 0.00833336077630519866943359f);
    u = MLA(u, s, 0.0416664853692054748535156f);
    u = MLA(u, s, 0.166666671633720397949219f);
    u = MLA(u, s, 0.5f);
    u = 1.0f + MLA(s * s, u, s);
#undef MLA
    u *= float_of((uint32_t)(q / 2 + 127) << 23);
    u *= float_of((uint32_t)(q - q / 2 + 127) << 23);
    uint32_t special = is_nan ? b : over ? 0x7F800000u : 0u;
    return float_of((bits_of(u) & plain) | (special & ~plain));
}

/* The loop stands alone so the compiler cannot fuse exp's last product into
 * whatever adds the results up (PyTorch rounds it). */
static inline __attribute__((always_inline)) void
exp_loop(const float *x, float shift, float *y, int64_t n, bool hw_fma)
{
    for (int64_t i = 0; i < n; i++) y[i] = exp_like_torch(x[i] - shift, hw_fma);
}

static void exp_plain(const float *x, float shift, float *y, int64_t n)
{
    exp_loop(x, shift, y, n, false);
}

#if SOFTMAX_X86
__attribute__((target("avx2,fma"))) static void
exp_avx2(const float *x, float shift, float *y, int64_t n)
{
    exp_loop(x, shift, y, n, true);
}

/* The same operations 16 at a time: the same bits.  GCC needs to be told to
 * use 512-bit vectors; clang does with avx512f alone and rejects the hint. */
#if defined(__clang__)
#define SOFTMAX_AVX512_TARGET "avx512f,avx2,fma"
#else
#define SOFTMAX_AVX512_TARGET "avx512f,avx2,fma,prefer-vector-width=512"
#endif
__attribute__((target(SOFTMAX_AVX512_TARGET))) static void
exp_avx512(const float *x, float shift, float *y, int64_t n)
{
    exp_loop(x, shift, y, n, true);
}
#endif

typedef void (*ExpFn)(const float *, float, float *, int64_t);

static ExpFn exp_fn(void)
{
#if SOFTMAX_X86
    static ExpFn best;
    if (!best && __builtin_cpu_supports("avx512f"))
        best = exp_avx512;
    else if (!best)
        best = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? exp_avx2
                                                                              : exp_plain;
    return best;
#else
    return exp_plain;
#endif
}

void tensor__exp_like_torch(const float *x, float shift, float *y, int64_t n)
{
    exp_fn()(x, shift, y, n);
}

/* ---- sums in PyTorch's order -------------------------------------------------- */

/*
 * Sums in the order of PyTorch's vec::reduce_all on AVX2, because float
 * addition is not associative and this order is what makes softmax match
 * bit for bit: fewer than 8 values are added left to right; otherwise 8 lane
 * accumulators take every 8th value (a tail only reaches the first lanes)
 * and fold_lanes() adds the lanes as a tree.
 */
enum { LANES = 8 };

static float fold_lanes(float *acc)
{
    for (int l = 0; l < 4; l++) acc[l] += acc[l + 4];
    acc[0] += acc[2];
    acc[1] += acc[3];
    return acc[0] + acc[1];
}

/* a * b + c rounded once (but for rare halfway cases), as the FMA
 * PyTorch's build contracts its multiply-adds into: the product is exact in
 * double. */
static inline float fused_mul_add(float a, float b, float c)
{
    return (float)((double)a * b + c);
}

static float lane_sum(const float *v, int64_t n)
{
    if (n < LANES) {
        float s = n ? v[0] : 0.0f;
        for (int64_t i = 1; i < n; i++) s += v[i];
        return s;
    }
    float acc[LANES];
    memcpy(acc, v, sizeof acc);
    int64_t i = LANES;
    for (; i + LANES <= n; i += LANES)
        for (int l = 0; l < LANES; l++) acc[l] += v[i + l];
    for (int l = 0; i + l < n; l++) acc[l] += v[i + l];
    return fold_lanes(acc);
}

/* sum(a * b) in the same order; past the first 8 products each product is
 * fused into its lane's addition, as in PyTorch. */
static float lane_dot(const float *a, const float *b, int64_t n)
{
    if (n < LANES) {
        float s = n ? a[0] * b[0] : 0.0f;
        for (int64_t i = 1; i < n; i++) s += a[i] * b[i];
        return s;
    }
    float acc[LANES];
    for (int l = 0; l < LANES; l++) acc[l] = a[l] * b[l];
    int64_t i = LANES;
    for (; i + LANES <= n; i += LANES)
        for (int l = 0; l < LANES; l++) acc[l] = fused_mul_add(a[i + l], b[i + l], acc[l]);
    for (int l = 0; i + l < n; l++) acc[l] = fused_mul_add(a[i + l], b[i + l], acc[l]);
    return fold_lanes(acc);
}

/* ---- forward ------------------------------------------------------------------ */

/* The largest of x[0..n), n >= 1, in 8 lanes so that the loop vectorises.
 * NaN is never taken (x > m is false), as in a running max; a row with a NaN
 * comes out all NaN either way, through its sum. */
static float row_max(const float *x, int64_t n)
{
    float lane[LANES];
    int64_t i = n < LANES ? n : LANES;
    for (int l = 0; l < LANES; l++) lane[l] = x[l < n ? l : 0];
    for (; i + LANES <= n; i += LANES)
        for (int l = 0; l < LANES; l++) lane[l] = x[i + l] > lane[l] ? x[i + l] : lane[l];
    for (int l = 0; i + l < n; l++) lane[l] = x[i + l] > lane[l] ? x[i + l] : lane[l];
    float m = lane[0];
    for (int l = 1; l < LANES; l++) m = lane[l] > m ? lane[l] : m;
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
                         ExpFn exp_rows)
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
        float s = lane_sum(yr, n);
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
                          float *m, float *s, ExpFn exp_rows)
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
    ExpFn exp_rows;
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
    ExpFn exp_rows = exp_fn();
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
    if (!a) return NULL;
    int d = tensor__wrap_dim(a, dim, 0, log ? "log_softmax" : "softmax");
    if (d < 0) return NULL;
    Tensor *out = tensor__alloc(a->ndim, a->shape);
    bool lastdim = a->ndim == 0 || d == a->ndim - 1;
    softmax_forward(tensor__contiguous_data(a), out->data, tensor__block_at(a, d), lastdim, log);
    TensorNode *n = tensor__record(log ? OP_LOG_SOFTMAX : OP_SOFTMAX, out, 1, &a);
    if (n) {
        n->saved[0] = out;
        n->ival[0] = d;
    }
    return tensor__result(out);
}

Tensor *tensor_softmax(const Tensor *a, int dim) { return softmax_op(a, dim, false); }
Tensor *tensor_log_softmax(const Tensor *a, int dim) { return softmax_op(a, dim, true); }

/* ---- backward ----------------------------------------------------------------- */

/*
 * The backward of one row (or lane) of n values spaced `step` apart:
 *   softmax:      y = softmax(x);      dx = y * (dy - sum(dy * y))
 *   log_softmax:  y = log_softmax(x);  dx = dy - exp(y) * sum(dy)
 * For log_softmax, e holds exp(y).  Along the last dim in PyTorch's order
 * (and its fused multiply-adds); along others a running sum.
 */
static void softmax_backward_row(const float *y, const float *e, const float *dy, float *dx,
                                 int64_t n, int64_t step, bool log)
{
    float s = 0.0f;
    if (step == 1) {
        s = log ? lane_sum(dy, n) : lane_dot(dy, y, n);
    } else {
        for (int64_t i = 0; i < n; i++) s += log ? dy[i * step] : dy[i * step] * y[i * step];
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t k = i * step;
        dx[k] = log ? fused_mul_add(-e[k], s, dy[k]) : (dy[k] - s) * y[k];
    }
}

/* The backward of the rows of block b along the last dim. */
static void backward_block(void *ctx, int64_t b, int worker)
{
    const RowBlocks *rb = ctx;
    int64_t first, rows = block_rows(rb, b, &first);
    for (int64_t o = first; o < first + rows; o++) {
        int64_t k = o * rb->n;
        softmax_backward_row(rb->y + k, rb->log ? rb->e + k : NULL, rb->dy + k, rb->out + k,
                             rb->n, 1, rb->log);
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
                                     r.inner, log);
            }
        }
    }
    tensor__accumulate_grad(node->inputs[0], dx);
}

/* forward: y = softmax(x) along dim;  backward: dx = y * (dy - sum(dy * y, dim)) */
void softmax_backward(TensorNode *n, const Tensor *grad_out)
{
    softmax_family_backward(n, grad_out, false);
}

/* forward: y = log_softmax(x) along dim;  backward: dx = dy - exp(y) * sum(dy, dim) */
void log_softmax_backward(TensorNode *n, const Tensor *grad_out)
{
    softmax_family_backward(n, grad_out, true);
}

/* ---- masked_fill ---------------------------------------------------------- */

/* The mask must broadcast to a's shape without growing it. */
static int check_mask(const Tensor *a, const Tensor *mask)
{
    bool ok = mask->ndim <= a->ndim;
    for (int i = 0; ok && i < mask->ndim; i++) {
        int64_t sm = mask->shape[mask->ndim - 1 - i], sa = a->shape[a->ndim - 1 - i];
        ok = sm == sa || sm == 1;
    }
    if (ok) return 0;
    tensor__error("masked_fill: mask %s is not broadcastable to input %s", tensor_shape_str(mask),
                  tensor_shape_str(a));
    return -1;
}

/*
 * The mask as a block of `inner` values that repeats along a's leading dims
 * (the batch, for a causal (T,T) mask over (B,T,T) scores), so it is read
 * (and copied, if strided) once per call rather than once per element.
 */
static const float *mask_block(const Tensor *a, const Tensor *mask, int64_t *inner)
{
    int lead = 0;
    for (; lead < a->ndim; lead++) {
        int im = lead - (a->ndim - mask->ndim);
        if (im >= 0 && mask->shape[im] != 1) break;
    }
    *inner = tensor__numel(a->ndim - lead, a->shape + lead);
    return tensor__broadcast_data(mask, a->ndim - lead, a->shape + lead);
}

/* out = m ? value : x, m repeating every `inner` elements of x (a select, so
 * whatever x holds under the mask, NaN included, does not get through). */
static void select_fill(const float *x, const float *m, int64_t numel, int64_t inner,
                        float value, float *out)
{
    for (int64_t o = 0; o < numel; o += inner, x += inner, out += inner)
        for (int64_t i = 0; i < inner; i++) out[i] = m[i] != 0.0f ? value : x[i];
}

Tensor *tensor_masked_fill(const Tensor *a, const Tensor *mask, float value)
{
    if (!a || !mask) return NULL;
    if (check_mask(a, mask)) return NULL;
    int64_t inner;
    const float *m = mask_block(a, mask, &inner);
    Tensor *out = tensor__alloc(a->ndim, a->shape);
    select_fill(tensor__contiguous_data(a), m, out->numel, inner, value, out->data);
    /* Only a is an input: the mask is a constant and gets no gradient. */
    TensorNode *n = tensor__record(OP_MASKED_FILL, out, 1, &a);
    if (n) n->saved[0] = (Tensor *)mask;
    return out;
}

/* forward: y = mask ? value : x;  backward: dx = mask ? 0 : dy */
void masked_fill_backward(TensorNode *n, const Tensor *grad_out)
{
    const Tensor *x = n->inputs[0];
    int64_t inner;
    const float *m = mask_block(x, n->saved[0], &inner);
    Tensor *dx = tensor__alloc(x->ndim, x->shape);
    select_fill(tensor__contiguous_data(grad_out), m, dx->numel, inner, 0.0f, dx->data);
    tensor__accumulate_grad(n->inputs[0], dx);
}

/* ---- triu, tril ----------------------------------------------------------- */

/* Keeps the elements of each (rows, cols) matrix with col - row >= diagonal
 * (upper) or <= diagonal (lower); zeroes the others. */
static void triangle(const float *src, float *dst, int64_t numel, int64_t rows, int64_t cols,
                     int64_t diagonal, bool upper)
{
    int64_t per = rows * cols;
    for (int64_t b = 0; per && b < numel / per; b++) {
        for (int64_t i = 0; i < rows; i++) {
            const float *s = src + b * per + i * cols;
            float *d = dst + b * per + i * cols;
            for (int64_t j = 0; j < cols; j++) {
                bool keep = upper ? j - i >= diagonal : j - i <= diagonal;
                d[j] = keep ? s[j] : 0.0f;
            }
        }
    }
}

static Tensor *triangle_op(const Tensor *a, int diagonal, bool upper)
{
    if (!a) return NULL;
    if (a->ndim < 2)
        return tensor__error("%s: input %s must have at least 2 dims",
                             upper ? "triu" : "tril", tensor_shape_str(a));
    Tensor *out = tensor__alloc(a->ndim, a->shape);
    triangle(tensor__contiguous_data(a), out->data, a->numel, a->shape[a->ndim - 2],
             a->shape[a->ndim - 1], diagonal, upper);
    TensorNode *n = tensor__record(upper ? OP_TRIU : OP_TRIL, out, 1, &a);
    if (n) n->ival[0] = diagonal;
    return out;
}

Tensor *tensor_triu(const Tensor *a, int diagonal) { return triangle_op(a, diagonal, true); }
Tensor *tensor_tril(const Tensor *a, int diagonal) { return triangle_op(a, diagonal, false); }

static void triangle_backward(TensorNode *n, const Tensor *grad_out, bool upper)
{
    const Tensor *x = n->inputs[0];
    Tensor *dx = tensor__alloc(x->ndim, x->shape);
    triangle(tensor__contiguous_data(grad_out), dx->data, dx->numel, x->shape[x->ndim - 2],
             x->shape[x->ndim - 1], n->ival[0], upper);
    tensor__accumulate_grad(n->inputs[0], dx);
}

/* forward: y = triu(x, k);  backward: dx = triu(dy, k) */
void triu_backward(TensorNode *n, const Tensor *grad_out)
{
    triangle_backward(n, grad_out, true);
}

/* forward: y = tril(x, k);  backward: dx = tril(dy, k) */
void tril_backward(TensorNode *n, const Tensor *grad_out)
{
    triangle_backward(n, grad_out, false);
}
