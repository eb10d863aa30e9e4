/*
 * Private to the tensor room: what the matrix-product families share
 * (ops/products.c): a batch of 2-d products over broadcast batch dims, each
 * operand a Mat read through its strides.
 */
#ifndef ATTOGRAD_PRODUCTS_H
#define ATTOGRAD_PRODUCTS_H

#include "core/tensor_internal.h"
#include "kernels/sgemm.h"

typedef struct {
    int nb;                               /* number of batch dims */
    int64_t shape[TENSOR_MAX_DIMS];
} Batch;

typedef struct {
    float *data;                          /* read only, except for outputs */
    int64_t rows, cols, rs, cs;           /* one batch element */
    int64_t bs[TENSOR_MAX_DIMS];          /* stride per batch dim; 0: broadcast */
} Mat;

int tensor__batch_dims(const Tensor *t);
/* The batch shape of a @ b: their batch dims (all but the last two)
 * broadcast; -1 when they do not. */
int tensor__broadcast_batch(const Tensor *a, const Tensor *b, Batch *bt);
/* t as a batch of matrices over bt.  A 1-d t is a row (1, k) on the left of
 * a product and a column (k, 1) on the right, as torch.matmul reads it. */
Mat tensor__mat_of(const Tensor *t, bool left, const Batch *bt);
/* A contiguous (batch..., rows, cols) buffer as a Mat. */
Mat tensor__mat_dense(const float *data, int64_t rows, int64_t cols, const Batch *bt);
Mat tensor__mat_t(Mat x);
/* How the kernel reads x: as stored with leading dim rs when its columns
 * are adjacent, transposed with leading dim cs when its rows are. */
bool tensor__mat_layout(const Mat *x, bool *trans, int64_t *ld);
/* t itself when the kernel can read its matrices, else a contiguous copy;
 * NULL with a message naming op when that does not fit in memory. */
const Tensor *tensor__kernel_readable(const char *op, const Tensor *t);
/* c = a @ b, or c += a @ b when accumulate, for every batch index; bf16:
 * the operands rounded (autocast); panels: b packed already, used when the
 * product is one (no batch dims left after folding). */
void tensor__gemm_batched(Batch bt, Mat a, Mat b, Mat c, bool accumulate, bool bf16,
                          const SgemmPanels *panels);
/* The grad_fn torch 1.13 shows for torch.matmul of these ranks. */
const char *tensor__matmul_name(const Tensor *a, const Tensor *b);
int64_t tensor__rows_of(const Tensor *a);   /* 1 for a 1-d a */
int64_t tensor__cols_of(const Tensor *b);   /* 1 for a 1-d b */

#endif /* ATTOGRAD_PRODUCTS_H */
