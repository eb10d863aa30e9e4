/*
 * Causal attention's two products, computed only where its mask lets
 * values through:
 *
 *   tensor_matmul_tril(a, b, d) = torch.tril(a @ b, d)   the scores Q K^T
 *   tensor_tril_matmul(a, b, d) = torch.tril(a, d) @ b   the context, weights @ V
 *
 * over the last two dims, batch dims broadcast as matmul's; (i, j) is kept
 * when j <= i + d (queries at positions d + i against keys j: d = q0).  At
 * full context that is about half the work of the full products.
 *
 * Each kept element has the bits the full product gives it.  The products
 * run in bands of BAND rows (or columns) of the result, each through the
 * kernel with the depths it needs: a band of scores stops at its last
 * query's last key; a band of context stops at the last key its queries
 * see (a suffix of the sum left out); a band of a gradient through a
 * transposed mask starts at its first nonzero depth (a prefix left out,
 * with the kernel's k_start keeping the depth blocks where the full
 * product has them).  What is left out is terms whose masked factor is
 * 0, and an exact zero changes no float sum: x + 0 = x, and a sum starts
 * from +0, which +0 and -0 leave +0.  (A term 0 * inf or 0 * NaN would be
 * NaN: a key or value that is inf or NaN behind the mask no longer
 * reaches the kept elements.)  The masked operand's band is copied with
 * its masked part set to 0, so the op is tril's whatever a holds there.
 */
#include "ops/products.h"
#include "kernels/threads.h"

#include <string.h>

enum {
    BAND = 48,                 /* rows (or columns) of a band: whole tiles of 12 and 16 */
    PARALLEL = 96 * 96 * 96,   /* multiply-adds from which the bands go to threads */
    /* Products of a row or three (a cached forward's queries against the
     * keys and values, the 124M GPT's 74 MB at context 1024) are bound by
     * reading the other operand: threads from this many of its elements,
     * as the kernel's one-row products (sgemm.c, ROW_PARALLEL). */
    ROWS_PARALLEL = 1 << 18,
};

/* Where the mask is, in the product C = A @ B (A m x k, B k x n):
 *   ON_C:  C(i, j) = 0 for j > i + d                       tril(A @ B)
 *   ON_A:  A(i, p) taken as 0 for p > i + d                tril(A) @ B
 *   ON_AT: A(p, i) taken as 0 for p > i + d                tril(X)^T @ B, A = X^T
 *   ON_B:  B(p, j) taken as 0 for j > p + d                A @ tril(B) */
typedef enum { ON_C, ON_A, ON_AT, ON_B } MaskOn;

typedef struct {
    Batch bt;
    Mat a, b, c;
    MaskOn on;
    int64_t d, bands, m, n, k;
    bool accumulate, bf16;
    int64_t per_worker;        /* floats of scratch each worker has */
    float *scratch;
} Banded;

static int64_t clamp64(int64_t x, int64_t lo, int64_t hi) { return x < lo ? lo : x > hi ? hi : x; }

/* rows [r0, r0 + h) x cols [c0, c0 + w) of x into dst (h x w), its masked
 * elements 0. */
static void copy_masked(const Mat *x, int64_t off, int64_t r0, int64_t h, int64_t c0, int64_t w,
                        int64_t d, MaskOn on, float *dst)
{
    for (int64_t r = 0; r < h; r++, dst += w) {
        /* A row's kept columns are one run: [c0, r + d] (ON_A, ON_B) or
         * [r - d, end) (ON_AT); the rest of the row is 0. */
        int64_t lo = 0, hi = w, row = r0 + r;
        if (on == ON_AT)
            lo = clamp64(row - d - c0, 0, w);
        else
            hi = clamp64(row + d + 1 - c0, 0, w);
        const float *src = x->data + off + row * x->rs + c0 * x->cs;
        memset(dst, 0, (size_t)lo * sizeof *dst);
        if (x->cs == 1)
            memcpy(dst + lo, src + lo, (size_t)(hi - lo) * sizeof *dst);
        else
            for (int64_t c = lo; c < hi; c++) dst[c] = src[c * x->cs];
        memset(dst + hi, 0, (size_t)(w - hi) * sizeof *dst);
    }
}

/* The kernel's layout of an operand read in place. */
static void layout(const Mat *x, bool *trans, int64_t *ld)
{
    TENSOR__ASSERT(tensor__mat_layout(x, trans, ld));
}

/* One band of one batch element: chunk = e * bands + band. */
static void band(void *ctx, int64_t chunk, int worker)
{
    const Banded *g = ctx;
    int64_t e = chunk / g->bands, s0 = chunk % g->bands * BAND, oa = 0, ob = 0, oc = 0, r = e;
    for (int i = g->bt.nb - 1; i >= 0; i--) {
        int64_t idx = r % g->bt.shape[i];
        r /= g->bt.shape[i];
        oa += idx * g->a.bs[i];
        ob += idx * g->b.bs[i];
        oc += idx * g->c.bs[i];
    }
    float *tmp = g->scratch + (int64_t)worker * g->per_worker;
    int64_t d = g->d;
    /* The band's rows [i0, i1) and columns [j0, j1) of C, depths [p0, p1). */
    int64_t i0 = 0, i1 = g->m, j0 = 0, j1 = g->n, p0 = 0, p1 = g->k;
    if (g->on == ON_B) {
        j0 = s0;
        j1 = clamp64(s0 + BAND, 0, g->n);
        p0 = clamp64(j0 - d, 0, g->k) & ~(int64_t)1;   /* pairs start at even depths */
    } else {
        i0 = s0;
        i1 = clamp64(s0 + BAND, 0, g->m);
        if (g->on == ON_C) j1 = clamp64(i1 + d, 0, g->n);
        if (g->on == ON_A) p1 = clamp64(i1 + d, 0, g->k);
        if (g->on == ON_AT) p0 = clamp64(i0 - d, 0, g->k) & ~(int64_t)1;
    }
    int64_t h = i1 - i0, w = j1 - j0, depth = p1 - p0;
    SgemmCall call = {.m = h, .n = w, .k = depth, .alpha = 1.0f, .k_start = p0, .bf16 = g->bf16,
                      .beta = g->accumulate ? 1.0f : 0.0f};
    if (g->on == ON_A || g->on == ON_AT) {   /* the band of A, masked */
        copy_masked(&g->a, oa, i0, h, p0, depth, d, g->on, tmp);
        call.a = tmp;
        call.lda = depth;
        tmp += h * depth;
    } else {
        layout(&g->a, &call.ta, &call.lda);
        call.a = g->a.data + oa + i0 * g->a.rs + p0 * g->a.cs;
    }
    if (g->on == ON_B) {                     /* the band of B, masked */
        copy_masked(&g->b, ob, p0, depth, j0, w, d, ON_B, tmp);
        call.b = tmp;
        call.ldb = w;
        tmp += depth * w;
    } else {
        layout(&g->b, &call.tb, &call.ldb);
        call.b = g->b.data + ob + p0 * g->b.rs + j0 * g->b.cs;
    }
    float *c = g->c.data + oc + i0 * g->c.rs + j0;
    if (g->on == ON_C && g->accumulate && w > 0) {
        /* Into a scratch band, then its kept elements added: C + sum, as
         * the kernel's beta = 1 rounds it. */
        call.beta = 0.0f;
        call.c = tmp;
        call.ldc = w;
        tensor__gemm(&call);
        for (int64_t i = 0; i < h; i++) {
            int64_t end = clamp64(i0 + i + d + 1 - j0, 0, w);   /* the row's kept columns */
            float *ci = c + i * g->c.rs;
            const float *ti = tmp + i * w;
            for (int64_t j = 0; j < end; j++) ci[j] += ti[j];
        }
        return;
    }
    call.c = c;
    call.ldc = g->c.rs;
    tensor__gemm(&call);
    if (g->on == ON_C && !g->accumulate)      /* the masked rest of each row */
        for (int64_t i = i0; i < i1; i++) {
            int64_t from = clamp64(i + d + 1, 0, g->n);
            memset(g->c.data + oc + i * g->c.rs + from, 0, (size_t)(g->n - from) * sizeof(float));
        }
}

/* c (=, or += when accumulate) the masked product a @ b, for every batch
 * index of bt (a, b, c as in tensor__gemm_batched, c contiguous in rows). */
static void banded(Batch bt, Mat a, Mat b, Mat c, MaskOn on, int64_t d, bool accumulate,
                   bool bf16)
{
    Banded g = {.bt = bt, .a = a, .b = b, .c = c, .on = on, .d = d, .m = c.rows, .n = c.cols,
                .k = a.cols, .accumulate = accumulate, .bf16 = bf16};
    TENSOR__ASSERT(c.cs == 1 && a.rows == c.rows && b.cols == c.cols && a.cols == b.rows);
    int64_t count = tensor__numel(bt.nb, bt.shape), side = on == ON_B ? g.n : g.m;
    if (count == 0 || g.m == 0 || g.n == 0) return;
    g.bands = (side + BAND - 1) / BAND;
    /* A masked band of A or B, and for ON_C a band of C. */
    g.per_worker = BAND * (g.k + 1) + (on == ON_C ? BAND * g.n : 0);
    /* Bands of one batch element write apart; batch elements summed into
     * one C (a broadcast operand's gradient) go one after another. */
    bool shared = false;
    for (int i = 0; i < bt.nb; i++) shared |= c.bs[i] == 0 && bt.shape[i] > 1;
    int64_t work = count * g.m * g.n * g.k;
    bool rows = g.m < 4 && count * g.n * g.k >= ROWS_PARALLEL;
    int nt = (work >= PARALLEL || rows) && !tensor__in_parallel() ? tensor_get_num_threads() : 1;
    g.scratch = tensor__scratch((size_t)(nt * g.per_worker) * sizeof(float));
    if (!shared) {
        tensor__parallel_for(count * g.bands, nt, band, &g);
        return;
    }
    /* one batch element at a time: its chunks are e * bands + band */
    for (int64_t e = 0; e < count; e++) {
        Banded one = g;
        one.bt.nb = 0;
        int64_t r = e;
        for (int i = bt.nb - 1; i >= 0; i--) {
            int64_t idx = r % bt.shape[i];
            r /= bt.shape[i];
            one.a.data += idx * a.bs[i];
            one.b.data += idx * b.bs[i];
            one.c.data += idx * c.bs[i];
        }
        tensor__parallel_for(g.bands, nt, band, &one);
    }
}

/* ---- the ops ------------------------------------------------------------------ */

/* The checks both ops share; NULL (a message set) or a. */
static const Tensor *check(const char *op, const Tensor *a, const Tensor *b, Batch *bt)
{
    if (a->ndim < 2 || b->ndim < 2)
        return tensor_set_error("%s: %s @ %s: both operands need at least 2 dims", op,
                                tensor_shape_str(a), tensor_shape_str(b));
    int64_t k = a->shape[a->ndim - 1], kb = b->shape[b->ndim - 2];
    if (k != kb)
        return tensor_set_error("%s: %s @ %s: inner sizes differ (%lld != %lld)", op,
                                tensor_shape_str(a), tensor_shape_str(b), (long long)k,
                                (long long)kb);
    if (tensor__broadcast_batch(a, b, bt))
        return tensor_set_error("%s: %s @ %s: batch dims do not broadcast", op,
                                tensor_shape_str(a), tensor_shape_str(b));
    return a;
}

static Tensor *masked_op(const char *op, TensorOp id, MaskOn on, const Tensor *a,
                         const Tensor *b, int64_t d)
{
    if (!TENSOR__USABLE(a) || !TENSOR__USABLE(b)) return NULL;
    Batch bt;
    if (!check(op, a, b, &bt)) return NULL;
    int64_t m = a->shape[a->ndim - 2], n = b->shape[b->ndim - 1], shape[TENSOR_MAX_DIMS];
    memcpy(shape, bt.shape, sizeof shape);
    shape[bt.nb] = m;
    shape[bt.nb + 1] = n;
    if (tensor__check_numel(op, bt.nb + 2, shape)) return NULL;
    Tensor *out = tensor__alloc_result(op, bt.nb + 2, shape);
    const Tensor *ar = out ? tensor__kernel_readable(op, a) : NULL;
    const Tensor *br = ar ? tensor__kernel_readable(op, b) : NULL;
    if (!br) return NULL;
    bool bf16 = tensor_is_autocast_enabled();
    banded(bt, tensor__mat_of(ar, true, &bt), tensor__mat_of(br, false, &bt),
           tensor__mat_dense(out->data, m, n, &bt), on, d, false, bf16);
    TensorNode *node = tensor__record(id, out, 2, (const Tensor *[]){a, b});
    if (node) {
        node->saved[0] = (Tensor *)ar;
        node->saved[1] = (Tensor *)br;
        node->ival[0] = bf16;
        node->ival[1] = d;
        if (id == OP_TRIL_MATMUL) node->name = tensor__matmul_name(a, b);
    }
    return tensor__result(out);
}

Tensor *tensor_matmul_tril(const Tensor *a, const Tensor *b, int64_t diagonal)
{
    return masked_op("matmul_tril", OP_MATMUL_TRIL, ON_C, a, b, diagonal);
}

Tensor *tensor_tril_matmul(const Tensor *a, const Tensor *b, int64_t diagonal)
{
    return masked_op("tril_matmul", OP_TRIL_MATMUL, ON_A, a, b, diagonal);
}

/* What both backwards read: the saved operands, dC, the gradients. */
typedef struct {
    Batch bt;
    Mat a, b, g, da, db;
    bool want_a, want_b, bf16;
    bool add_a, add_b;         /* add into the gradient, else write it */
    int64_t d;
} Grads;

/* Input i's gradient as a batch of matrices.  Its first is written by the
 * products (every element: the bands cover all of it, and the masked part
 * of an ON_C result is set to 0), not added to zeros; unless the input is
 * broadcast over a batch dim, whose products then add into one matrix. */
static Tensor *grad_of(TensorNode *node, int i, const Batch *bt, bool left, Mat *m, bool *add)
{
    Tensor *x = node->inputs[i];
    if (!x->requires_grad) return NULL;
    Mat view = tensor__mat_of(x, left, bt);
    bool shared = false;
    for (int k = 0; k < bt->nb; k++) shared |= view.bs[k] == 0 && bt->shape[k] > 1;
    Tensor *grad = shared ? NULL : tensor__first_grad(x);
    *add = grad == NULL;
    if (!grad) grad = tensor__grad_buffer(x);
    *m = tensor__mat_of(grad, left, bt);
    return grad;
}

static Grads grads_of(TensorNode *node, const Tensor *dc)
{
    const Tensor *a = node->saved[0], *b = node->saved[1];
    Grads r = {.bf16 = node->ival[0], .d = node->ival[1]};
    TENSOR__ASSERT(tensor__broadcast_batch(a, b, &r.bt) == 0);
    r.a = tensor__mat_of(a, true, &r.bt);
    r.b = tensor__mat_of(b, false, &r.bt);
    r.g = tensor__mat_dense(tensor__contiguous_data(dc), r.a.rows, r.b.cols, &r.bt);
    r.want_a = grad_of(node, 0, &r.bt, true, &r.da, &r.add_a) != NULL;
    r.want_b = grad_of(node, 1, &r.bt, false, &r.db, &r.add_b) != NULL;
    return r;
}

/* forward:  C = tril(A @ B, d)
 * backward: dA += tril(dC, d) @ B^T,  dB += A^T @ tril(dC, d) */
void tensor__matmul_tril_backward(TensorNode *node, const Tensor *dc)
{
    Grads g = grads_of(node, dc);
    if (g.want_a) banded(g.bt, g.g, tensor__mat_t(g.b), g.da, ON_A, g.d, g.add_a, g.bf16);
    if (g.want_b) banded(g.bt, tensor__mat_t(g.a), g.g, g.db, ON_B, g.d, g.add_b, g.bf16);
}

/* forward:  C = tril(A, d) @ B
 * backward: dA += tril(dC @ B^T, d),  dB += tril(A, d)^T @ dC */
void tensor__tril_matmul_backward(TensorNode *node, const Tensor *dc)
{
    Grads g = grads_of(node, dc);
    if (g.want_a) banded(g.bt, g.g, tensor__mat_t(g.b), g.da, ON_C, g.d, g.add_a, g.bf16);
    if (g.want_b) banded(g.bt, tensor__mat_t(g.a), g.g, g.db, ON_AT, g.d, g.add_b, g.bf16);
}
