/*
 * The single-precision matrix product every matmul in the library goes
 * through, with BLAS's row-major conventions:
 *
 *     C = alpha * op(A) @ op(B) + beta * C      op(A): m x k, op(B): k x n
 *
 * op(A) = A when trans_a is false (element (i, p) at a[i * lda + p]) and A^T
 * when it is true (element (i, p) at a[p * lda + i]); likewise for B.  C is
 * m x n with element (i, j) at c[i * ldc + j].  When beta is 0, C is only
 * written, never read (it may hold NaN).  Leading dimensions may be anything
 * that addresses the elements, including 0 for a broadcast row.
 */
#ifndef ATTOGRAD_SGEMM_H
#define ATTOGRAD_SGEMM_H

#ifndef ATTOGRAD_TENSOR_ROOM
#error "tensor/kernels/sgemm.h is private to the tensor room (its files and white-box tests): include tensor/tensor.h"
#endif

#include <stdbool.h>
#include <stdint.h>

void tensor__sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                   const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                   float *c, int64_t ldc);

/* A batch of products C = alpha * op(A) @ op(B) + beta * C, one per index
 * of the batch dims (outermost first); element strides per batch dim move
 * each operand (0: broadcast; for C, the products add into one C in turn,
 * which needs beta = 1). */
enum { SGEMM_MAX_BATCH = 8 };
typedef struct {
    bool ta, tb;
    int64_t m, n, k, lda, ldb, ldc;
    float alpha, beta;
    const float *a, *b;
    float *c;
    int nb;
    const int64_t *shape, *sa, *sb, *sc;
} SgemmBatch;

/* Whether tensor__sgemm_tiny_batch takes m x n x k products: m, n and k
 * at most 256, 16 and 64, and m * n * k at most 16^3.  It runs on the calling thread. */
bool tensor__sgemm_tiny(int64_t m, int64_t n, int64_t k);
void tensor__sgemm_tiny_batch(const SgemmBatch *g);

/* How many threads should share a batch of count independent m x n x k
 * products, each computed by tensor__sgemm on one thread: 1 when the
 * products are large enough to be threaded one by one, or all too small. */
int tensor__sgemm_batch_threads(int64_t count, int64_t m, int64_t n, int64_t k);

/* Instruction sets of the built-in kernel, for tests and benchmarks. */
enum { TENSOR__SGEMM_PORTABLE, TENSOR__SGEMM_AVX2, TENSOR__SGEMM_AVX512 };
/* Uses isa from now on if the CPU runs it, else (or for -1) the best one;
 * returns the one in use. */
int tensor__sgemm_set_isa(int isa);
/* Lets OpenBLAS take large products (true) or not; the default comes from
 * ATTOGRAD_BLAS.  Does nothing in a build without BLAS. */
void tensor__sgemm_set_blas(bool on);

#endif /* ATTOGRAD_SGEMM_H */
