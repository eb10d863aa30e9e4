/*
 * What the matrix-product families share (matmul.c, triangular.c): a batch
 * of 2-d products over broadcast batch dims, described without copies.
 *
 * An operand is described by a Mat: rows x cols per batch element, read
 * through a row and a column stride, plus one stride per batch dim (0 where
 * the operand is broadcast).  So transposed views (keys.transpose(-2, -1)),
 * slices and broadcast batches reach the kernel without a copy; the kernel
 * needs one of the two matrix strides to be 1, and an operand with neither
 * is copied.  Gradients are written the same way: a gradient's batch
 * strides are 0 along the dims where its operand was broadcast, so the
 * kernel's accumulation (beta = 1) sums over them.
 */
#include "ops/products.h"
#include "kernels/threads.h"

#include <string.h>

int tensor__batch_dims(const Tensor *t) { return t->ndim > 2 ? t->ndim - 2 : 0; }

/* The batch shape of a @ b: their batch dims (all but the last two)
 * broadcast; -1 when they do not. */
int tensor__broadcast_batch(const Tensor *a, const Tensor *b, Batch *bt)
{
    bt->nb = tensor__broadcast_sizes(tensor__batch_dims(a), a->shape, tensor__batch_dims(b),
                                     b->shape, bt->shape);
    return bt->nb < 0 ? -1 : 0;
}

/* t as a batch of matrices over bt.  A 1-d t is a row (1, k) on the left of
 * a product and a column (k, 1) on the right, as torch.matmul reads it. */
Mat tensor__mat_of(const Tensor *t, bool left, const Batch *bt)
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
    int nt = tensor__batch_dims(t);
    for (int i = 0; i < bt->nb; i++) {
        int it = i - (bt->nb - nt);
        x.bs[i] = it < 0 || t->shape[it] == 1 ? 0 : t->stride[it];
    }
    return x;
}

/* A contiguous (batch..., rows, cols) buffer as a Mat. */
Mat tensor__mat_dense(const float *data, int64_t rows, int64_t cols, const Batch *bt)
{
    Mat x = {.data = (float *)data, .rows = rows, .cols = cols, .rs = cols, .cs = 1};
    int64_t s = rows * cols;
    for (int i = bt->nb - 1; i >= 0; i--) {
        x.bs[i] = s;
        s *= bt->shape[i];
    }
    return x;
}

Mat tensor__mat_t(Mat x)
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
bool tensor__mat_layout(const Mat *x, bool *trans, int64_t *ld)
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
const Tensor *tensor__kernel_readable(const char *op, const Tensor *t)
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
    return tensor__mat_layout(a, &ta, &ld) && tensor__mat_layout(b, &tb, &ld) &&
           tensor__mat_layout(c, &tc, &ld) && !tc;
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
void tensor__gemm_batched(Batch bt, Mat a, Mat b, Mat c, bool accumulate, bool bf16,
                         const SgemmPanels *panels)
{
    fold(&bt, &a, &b, &c);
    bool ta, tb, tc;
    int64_t lda, ldb, ldc;
    TENSOR__ASSERT(tensor__mat_layout(&a, &ta, &lda) && tensor__mat_layout(&b, &tb, &ldb));
    TENSOR__ASSERT(tensor__mat_layout(&c, &tc, &ldc) && !tc);
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

/* The grad_fn torch 1.13 shows for torch.matmul of these ranks.  2-d @ n-d
 * (n >= 3) is computed as (b^T @ a^T)^T made contiguous: a copy
 * (CloneBackward0) unless the (..., m, n) result of one row or one column is
 * contiguous already, when the transpose is the last op. */
const char *tensor__matmul_name(const Tensor *a, const Tensor *b)
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

int64_t tensor__rows_of(const Tensor *a) { return a->ndim == 1 ? 1 : a->shape[a->ndim - 2]; }
int64_t tensor__cols_of(const Tensor *b) { return b->ndim == 1 ? 1 : b->shape[b->ndim - 1]; }
