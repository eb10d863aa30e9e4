/*
 * Matrix products: tensor_matmul (torch.matmul) and tensor_linear
 * (torch.nn.functional.linear), forward and backward.
 *
 * Every product here is a batch of 2-d products over broadcast batch dims.
 * An operand is described by a Mat: rows x cols per batch element, read
 * through a row and a column stride, plus one stride per batch dim (0 where
 * the operand is broadcast).  So transposed views (keys.transpose(-2, -1)),
 * slices and broadcast batches reach the kernel without a copy; the kernel
 * needs one of the two matrix strides to be 1, and an operand with neither
 * is copied.  Gradients are written the same way: a gradient's batch
 * strides are 0 along the dims where its operand was broadcast, so the
 * kernel's accumulation (beta = 1) sums over them.
 *
 * In an autocast region (core/autocast.c) the products take bf16 operands
 * (kernels/sgemm.h); the node records it (ival[0]) and the backward's
 * products do the same.
 */
#include "core/tensor_internal.h"
#include "kernels/sgemm.h"
#include "kernels/threads.h"

#include <string.h>

typedef struct {
    int nb;                               /* number of batch dims */
    int64_t shape[TENSOR_MAX_DIMS];
} Batch;

typedef struct {
    float *data;                          /* read only, except for outputs */
    int64_t rows, cols, rs, cs;           /* one batch element */
    int64_t bs[TENSOR_MAX_DIMS];          /* stride per batch dim; 0: broadcast */
} Mat;

static int batch_dims(const Tensor *t) { return t->ndim > 2 ? t->ndim - 2 : 0; }

/* The batch shape of a @ b: their batch dims (all but the last two)
 * broadcast; -1 when they do not. */
static int broadcast_batch(const Tensor *a, const Tensor *b, Batch *bt)
{
    bt->nb = tensor__broadcast_sizes(batch_dims(a), a->shape, batch_dims(b), b->shape, bt->shape);
    return bt->nb < 0 ? -1 : 0;
}

/* t as a batch of matrices over bt.  A 1-d t is a row (1, k) on the left of
 * a product and a column (k, 1) on the right, as torch.matmul reads it. */
static Mat mat_of(const Tensor *t, bool left, const Batch *bt)
{
    Mat x = {.data = t->data};
    int d = t->ndim;
    if (d == 1) {
        int64_t k = t->shape[0], s = t->stride[0];
        x.rows = left ? 1 : k;
        x.cols = left ? k : 1;
        x.rs = left ? k * s : s;
        x.cs = left ? s : 1;
    } else {
        x.rows = t->shape[d - 2];
        x.cols = t->shape[d - 1];
        x.rs = t->stride[d - 2];
        x.cs = t->stride[d - 1];
    }
    int nt = batch_dims(t);
    for (int i = 0; i < bt->nb; i++) {
        int it = i - (bt->nb - nt);
        x.bs[i] = it < 0 || t->shape[it] == 1 ? 0 : t->stride[it];
    }
    return x;
}

/* A contiguous (batch..., rows, cols) buffer as a Mat. */
static Mat mat_dense(const float *data, int64_t rows, int64_t cols, const Batch *bt)
{
    Mat x = {.data = (float *)data, .rows = rows, .cols = cols, .rs = cols, .cs = 1};
    int64_t s = rows * cols;
    for (int i = bt->nb - 1; i >= 0; i--) {
        x.bs[i] = s;
        s *= bt->shape[i];
    }
    return x;
}

static Mat mat_t(Mat x)
{
    int64_t r = x.rows, s = x.rs;
    x.rows = x.cols;
    x.rs = x.cs;
    x.cols = r;
    x.cs = s;
    return x;
}

/* How the kernel reads x: as stored with leading dim rs when its columns
 * are adjacent, transposed with leading dim cs when its rows are. */
static bool mat_layout(const Mat *x, bool *trans, int64_t *ld)
{
    if (x->cs == 1 || x->cols == 1) {
        *trans = false;
        *ld = x->rows == 1 ? x->cols : x->rs;
        return true;
    }
    if (x->rs == 1 || x->rows == 1) {
        *trans = true;
        *ld = x->cs;
        return true;
    }
    return false;
}

/* t itself when the kernel can read its matrices, else a contiguous copy;
 * NULL with a message naming op when that does not fit in memory. */
static const Tensor *kernel_readable(const char *op, const Tensor *t)
{
    int d = t->ndim;
    if (d < 2 || t->stride[d - 1] == 1 || t->stride[d - 2] == 1 || t->shape[d - 1] == 1 ||
        t->shape[d - 2] == 1)
        return t;
    Tensor *c = tensor__alloc_result(op, d, t->shape);
    if (!c) return NULL;
    TensorIter it;
    tensor__iter_init(&it, d, t->shape, 1, (const int64_t *[]){t->stride}, NULL);
    for (int64_t i = 0; i < t->numel; i++, tensor__iter_next(&it)) c->data[i] = t->data[it.off[0]];
    return c;
}

/* Whether the kernel can read all three (c as stored). */
static bool mats_readable(const Mat *a, const Mat *b, const Mat *c)
{
    bool ta, tb, tc;
    int64_t ld;
    return mat_layout(a, &ta, &ld) && mat_layout(b, &tb, &ld) && mat_layout(c, &tc, &ld) && !tc;
}

/* Merges the innermost batch dims into the matrices where the strides
 * allow, so (B, T, D) @ (D, E) is one (B*T, D) @ (D, E) product, and a
 * gradient summed over a batch dim is one product with a longer k.  A
 * merge that would leave an operand without a unit stride is not made: a
 * batch of one-row matrices read along a strided row (a transposed or
 * expanded view) is readable one row at a time, but stacking those rows
 * gives a matrix strided both ways. */
static void fold(Batch *bt, Mat *a, Mat *b, Mat *c)
{
    while (bt->nb > 0) {
        int d = bt->nb - 1;
        int64_t s = bt->shape[d];
        Mat ma = *a, mb = *b, mc = *c;
        if (s != 1 && b->bs[d] == 0 && a->bs[d] == a->rows * a->rs &&
            c->bs[d] == c->rows * c->rs) {
            ma.rows *= s;                               /* into m */
            mc.rows *= s;
        } else if (s != 1 && c->bs[d] == 0 && a->bs[d] == a->cols * a->cs &&
                   b->bs[d] == b->rows * b->rs) {
            ma.cols *= s;                               /* into k */
            mb.rows *= s;
        } else if (s != 1) {
            return;
        }
        if (!mats_readable(&ma, &mb, &mc)) return;
        *a = ma, *b = mb, *c = mc;
        bt->nb--;
    }
}

/* One batch of products, as the kernel reads it (after folding). */
typedef struct {
    Batch bt;
    Mat a, b, c;
    bool ta, tb;
    int64_t lda, ldb, ldc;
    float beta;
    bool bf16;
} BatchedGemm;

/* The product at batch index e. */
static void gemm_one(void *ctx, int64_t e, int worker)
{
    const BatchedGemm *g = ctx;
    int64_t oa = 0, ob = 0, oc = 0, r = e;
    for (int d = g->bt.nb - 1; d >= 0; d--) {
        int64_t i = r % g->bt.shape[d];
        r /= g->bt.shape[d];
        oa += i * g->a.bs[d];
        ob += i * g->b.bs[d];
        oc += i * g->c.bs[d];
    }
    tensor__gemm(&(SgemmCall){.ta = g->ta, .tb = g->tb, .m = g->c.rows, .n = g->c.cols,
                              .k = g->a.cols, .lda = g->lda, .ldb = g->ldb, .ldc = g->ldc,
                              .alpha = 1.0f, .beta = g->beta, .a = g->a.data + oa,
                              .b = g->b.data + ob, .c = g->c.data + oc, .bf16 = g->bf16});
    (void)worker;
}

/* Threads for the loop over the batch: several when each product writes
 * its own C and the products are too small to be threaded one by one. */
static int batch_threads(const Batch *bt, const Mat *c, int64_t k, int64_t count)
{
    for (int d = 0; d < bt->nb; d++)
        if (c->bs[d] == 0 && bt->shape[d] != 1) return 1;   /* products sum into one C */
    return tensor__sgemm_batch_threads(count, c->rows, c->cols, k);
}

/* c = a @ b, or c += a @ b when accumulate, for every batch index.  A
 * batch of tiny products is one call to the kernel, described in place:
 * no copy of the operands' descriptions, no dispatch per product.  bf16:
 * the operands rounded (autocast); panels: b packed already, used when
 * the product is one (no batch dims left after folding). */
static void gemm_batched(Batch bt, Mat a, Mat b, Mat c, bool accumulate, bool bf16,
                         const SgemmPanels *panels)
{
    fold(&bt, &a, &b, &c);
    bool ta, tb, tc;
    int64_t lda, ldb, ldc;
    TENSOR__ASSERT(mat_layout(&a, &ta, &lda) && mat_layout(&b, &tb, &ldb));
    TENSOR__ASSERT(mat_layout(&c, &tc, &ldc) && !tc);
    TENSOR__ASSERT(a.rows == c.rows && b.cols == c.cols && a.cols == b.rows);
    float beta = accumulate ? 1.0f : 0.0f;
    int64_t count = tensor__numel(bt.nb, bt.shape);
    if (panels && bt.nb == 0) {
        tensor__gemm(&(SgemmCall){.m = c.rows, .n = c.cols, .k = a.cols, .ta = ta, .lda = lda,
                                  .ldc = ldc, .alpha = 1.0f, .beta = beta, .a = a.data,
                                  .c = c.data, .bf16 = true, .panels = panels});
        return;
    }
    int nt = batch_threads(&bt, &c, a.cols, count);
    if (nt == 1 && !bf16 && tensor__sgemm_tiny(c.rows, c.cols, a.cols)) {
        tensor__sgemm_tiny_batch(&(SgemmBatch){
            .ta = ta, .tb = tb, .m = c.rows, .n = c.cols, .k = a.cols, .lda = lda,
            .ldb = ldb, .ldc = ldc, .alpha = 1.0f, .beta = beta, .a = a.data, .b = b.data,
            .c = c.data, .nb = bt.nb, .shape = bt.shape, .sa = a.bs, .sb = b.bs, .sc = c.bs});
        return;
    }
    BatchedGemm g = {.bt = bt, .a = a, .b = b, .c = c, .ta = ta, .tb = tb, .lda = lda,
                     .ldb = ldb, .ldc = ldc, .beta = beta, .bf16 = bf16};
    tensor__parallel_for(count, nt, gemm_one, &g);
}

/* ---- matmul -------------------------------------------------------------- */

/* The grad_fn torch 1.13 shows for torch.matmul of these ranks.  2-d @ n-d
 * (n >= 3) is computed as (b^T @ a^T)^T made contiguous: a copy
 * (CloneBackward0) unless the (..., m, n) result of one row or one column is
 * contiguous already, when the transpose is the last op. */
static const char *matmul_name(const Tensor *a, const Tensor *b)
{
    int da = a->ndim, db = b->ndim;
    if (da == 1 && db == 1) return "DotBackward0";
    if (da == 2 && db == 1) return "MvBackward0";
    if (da == 1 && db == 2) return "SqueezeBackward3";
    if (da == 2 && db == 2) return "MmBackward0";
    if (da == 2)
        return a->shape[0] == 1 || b->shape[db - 1] == 1 ? "TransposeBackward0" : "CloneBackward0";
    return "UnsafeViewBackward0";
}

static int64_t rows_of(const Tensor *a) { return a->ndim == 1 ? 1 : a->shape[a->ndim - 2]; }
static int64_t cols_of(const Tensor *b) { return b->ndim == 1 ? 1 : b->shape[b->ndim - 1]; }

Tensor *tensor_matmul(const Tensor *a, const Tensor *b)
{
    if (!TENSOR__USABLE(a) || !TENSOR__USABLE(b)) return NULL;
    if (a->ndim == 0 || b->ndim == 0)
        return tensor_set_error("matmul: %s @ %s: both operands need at least 1 dim, got a 0-d one",
                             tensor_shape_str(a), tensor_shape_str(b));
    int64_t k = a->shape[a->ndim - 1], kb = b->shape[b->ndim == 1 ? 0 : b->ndim - 2];
    if (k != kb)
        return tensor_set_error("matmul: %s @ %s: inner sizes differ (%lld != %lld)",
                             tensor_shape_str(a), tensor_shape_str(b), (long long)k,
                             (long long)kb);
    Batch bt;
    if (broadcast_batch(a, b, &bt))
        return tensor_set_error("matmul: %s @ %s: batch dims do not broadcast",
                             tensor_shape_str(a), tensor_shape_str(b));
    int64_t m = rows_of(a), n = cols_of(b), shape[TENSOR_MAX_DIMS];
    int nd = bt.nb;
    memcpy(shape, bt.shape, sizeof shape);
    if (a->ndim > 1) shape[nd++] = m;
    if (b->ndim > 1) shape[nd++] = n;
    if (tensor__check_numel("matmul", nd, shape)) return NULL;
    Tensor *out = tensor__alloc_result("matmul", nd, shape);
    const Tensor *ar = out ? kernel_readable("matmul", a) : NULL;
    const Tensor *br = ar ? kernel_readable("matmul", b) : NULL;
    if (!br) return NULL;
    bool bf16 = tensor_is_autocast_enabled();
    gemm_batched(bt, mat_of(ar, true, &bt), mat_of(br, false, &bt),
                 mat_dense(out->data, m, n, &bt), false, bf16, NULL);
    TensorNode *node = tensor__record(OP_MATMUL, out, 2, (const Tensor *[]){a, b});
    if (node) {
        node->ival[0] = bf16;
        /* The readable forms, so the backward need not copy again; nodes
         * never write through saved tensors. */
        node->saved[0] = (Tensor *)ar;
        node->saved[1] = (Tensor *)br;
        node->name = matmul_name(a, b);
    }
    return tensor__result(out);
}

/* forward: C = A @ B for every batch element (batch dims broadcast; a 1-d
 *          A is a row, a 1-d B a column)
 * backward: dA += dC @ B^T,  dB += A^T @ dC,  each summed over the batch
 *           dims where its operand was broadcast */
void tensor__matmul_backward(TensorNode *node, const Tensor *dc)
{
    const Tensor *a = node->saved[0], *b = node->saved[1];
    Batch bt;
    TENSOR__ASSERT(broadcast_batch(a, b, &bt) == 0);
    Mat g = mat_dense(tensor__contiguous_data(dc), rows_of(a), cols_of(b), &bt);
    /* The products add straight into the inputs' gradients (contiguous,
     * of the inputs' shapes), with no temporary to add afterwards. */
    Tensor *da = tensor__grad_buffer(node->inputs[0]), *db = tensor__grad_buffer(node->inputs[1]);
    bool bf16 = node->ival[0];
    if (da)
        gemm_batched(bt, g, mat_t(mat_of(b, false, &bt)), mat_of(da, true, &bt), true, bf16, NULL);
    if (db)
        gemm_batched(bt, mat_t(mat_of(a, true, &bt)), g, mat_of(db, false, &bt), true, bf16, NULL);
}

/* ---- linear -------------------------------------------------------------- */

/* Rows of x up to which a bf16 product under no-grad reads a long-lived
 * weight from its packed copy (core/autocast.c): vdpbf16ps over the copy
 * against packing the float32 weight for the product, whose cost more rows
 * repay (measured: about even at 50 rows of the 124M model's products). */
enum { PANEL_ROWS = 32 };

/* The grad_fn torch 1.13's F.linear shows: addmm for 2-d input with bias,
 * a view of one addmm for contiguous 3-d input, else matmul then add_. */
static const char *linear_name(const Tensor *x, const Tensor *b)
{
    switch (x->ndim) {
    case 1: return b ? "AddBackward0" : "SqueezeBackward3";
    case 2: return b ? "AddmmBackward0" : "MmBackward0";
    case 3:
        if (!b) return "UnsafeViewBackward0";
        return tensor_is_contiguous(x) ? "ViewBackward0" : "AddBackward0";
    default: return b ? "AddBackward0" : "UnsafeViewBackward0";
    }
}

static Tensor *linear_check(const Tensor *x, const Tensor *w, const Tensor *b)
{
    if (x->ndim == 0)
        return tensor_set_error("linear: input %s is 0-d; it needs at least 1 dim",
                             tensor_shape_str(x));
    if (w->ndim != 2)
        return tensor_set_error("linear: weight %s must be 2-d (out, in)", tensor_shape_str(w));
    if (x->shape[x->ndim - 1] != w->shape[1])
        return tensor_set_error("linear: input %s, weight %s: in features differ (%lld != %lld)",
                             tensor_shape_str(x), tensor_shape_str(w),
                             (long long)x->shape[x->ndim - 1], (long long)w->shape[1]);
    if (b && (b->ndim != 1 || b->shape[0] != w->shape[0]))
        return tensor_set_error("linear: bias %s must be (%lld) for weight %s",
                             tensor_shape_str(b), (long long)w->shape[0], tensor_shape_str(w));
    return (Tensor *)x;
}

Tensor *tensor_linear(const Tensor *x, const Tensor *w, const Tensor *b)
{
    if (!TENSOR__USABLE(x) || !TENSOR__USABLE(w) || (b && !TENSOR__USABLE(b)) ||
        !linear_check(x, w, b))
        return NULL;
    int64_t shape[TENSOR_MAX_DIMS], nout = w->shape[0], rows = rows_of(x);
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 1] = nout;
    if (tensor__check_numel("linear", x->ndim, shape)) return NULL;
    Tensor *out = tensor__alloc_result("linear", x->ndim, shape);
    const Tensor *xr = out ? kernel_readable("linear", x) : NULL;
    const Tensor *wr = xr ? kernel_readable("linear", w) : NULL;
    const float *bias = wr && b ? TENSOR__INPUT("linear", b) : NULL;
    if (!wr || (b && !bias)) return NULL;
    /* As torch's addmm: the bias is in C before the product is added. */
    if (b) {
        for (int64_t i = 0; i < out->numel; i += nout)
            memcpy(out->data + i, bias, (size_t)nout * sizeof(float));
    }
    Batch bt = {.nb = batch_dims(x)};
    memcpy(bt.shape, x->shape, (size_t)bt.nb * sizeof *bt.shape);
    bool bf16 = tensor_is_autocast_enabled();
    /* Generation's few rows a token read the weight packed once. */
    const SgemmPanels *panels = bf16 && !tensor_is_grad_enabled() &&
                                out->numel / nout <= PANEL_ROWS ? tensor__autocast_panels(w)
                                                                : NULL;
    gemm_batched(bt, mat_of(xr, true, &bt), mat_t(mat_of(wr, true, &bt)),
                 mat_dense(out->data, rows, nout, &bt), b != NULL, bf16, panels);
    TensorNode *node = tensor__record(OP_LINEAR, out, b ? 3 : 2, (const Tensor *[]){x, w, b});
    if (node) {
        node->ival[0] = bf16;
        node->saved[0] = (Tensor *)xr;
        node->saved[1] = (Tensor *)wr;
        node->name = linear_name(x, b);
    }
    return tensor__result(out);
}

/* forward: y = x @ w^T + b   (x: (..., in), w: (out, in), b: (out))
 * backward: dx += dy @ w,  dw += dy^T @ x summed over x's leading dims,
 *           db += dy summed over all but the last dim */
void tensor__linear_backward(TensorNode *node, const Tensor *dy)
{
    const Tensor *x = node->saved[0], *w = node->saved[1];
    int64_t nout = w->shape[0];
    Batch bt = {.nb = batch_dims(x)};
    memcpy(bt.shape, x->shape, (size_t)bt.nb * sizeof *bt.shape);
    const float *dyd = tensor__contiguous_data(dy);
    Mat g = mat_dense(dyd, rows_of(x), nout, &bt);
    /* Straight into the inputs' gradients, as in matmul_backward. */
    Tensor *dx = tensor__grad_buffer(node->inputs[0]), *dw = tensor__grad_buffer(node->inputs[1]);
    bool bf16 = node->ival[0];
    if (dx) gemm_batched(bt, g, mat_of(w, true, &bt), mat_of(dx, true, &bt), true, bf16, NULL);
    if (dw) gemm_batched(bt, mat_t(g), mat_of(x, true, &bt), mat_of(dw, true, &bt), true, bf16, NULL);
    Tensor *db = node->n_inputs == 3 ? tensor__grad_buffer(node->inputs[2]) : NULL;
    if (db) {
        /* summed in a float per element first, in row order, as before */
        float *sum = tensor__scratch((size_t)nout * sizeof *sum);
        memset(sum, 0, (size_t)nout * sizeof *sum);
        for (int64_t i = 0; i < dy->numel; i += nout)
            for (int64_t j = 0; j < nout; j++) sum[j] += dyd[i + j];
        for (int64_t j = 0; j < nout; j++) db->data[j] += sum[j];
    }
}
