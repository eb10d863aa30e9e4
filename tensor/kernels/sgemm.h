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

/*
 * The general entry: the product above with two options.
 *
 * k_start: the product's depths are [k_start, k_start + k) of a longer one
 * whose products before k_start are all zero (a causal band); each element is
 * then summed exactly as in the longer product: its depth blocks (and bf16
 * pairs) fall at the same places.  Even.
 *
 * bf16 (autocast): both operands rounded to bfloat16 (round to nearest even,
 * as PyTorch converts; bf16.h), then the float32 product of the rounded
 * values, as above (one fused multiply-add per depth, in order, per depth
 * block), with subnormal inputs, partial sums and results flushed to zero
 * as vdpbf16ps flushes them (C = alpha * sum + beta * C too).  A product
 * of two bf16 is exact in float32, so vdpbf16ps, which adds a pair of
 * products to each sum with two such roundings, gives these bits when each
 * pair is packed in the order it adds them (sgemm_kernels.h).  Every path
 * gives them: vdpbf16ps on CPUs with AVX512_BF16 where it is the faster,
 * else the float32 kernel (with FMA; without, a plain loop over pairs, as
 * an unfused product that underflows would round twice).  On CPUs with no
 * flush-to-zero mode (neither x86 nor AArch64) subnormals are kept.
 *
 * panels (bf16 only): op(B) packed once into bf16 pairs (SgemmPanels) instead
 * of b, ldb, tb: a model's weights for generation, a growing key/value cache.
 */
enum { SGEMM_KC = 384 };   /* depth of a block: sums start over every SGEMM_KC depths */
enum { SGEMM_PANEL = 32 }; /* columns of op(B) per panel in SgemmPanels */
typedef struct SgemmPanels {
    const uint32_t *data;  /* per depth block, per panel of 32 columns: pairs [q][j] */
    int64_t k, n;          /* op(B) is k x n */
    int64_t panel_stride;  /* pairs from one panel to the next of its depth block */
    int64_t block_stride;  /* pairs from one depth block to the next */
} SgemmPanels;

typedef struct {
    bool ta, tb;
    int64_t m, n, k, lda, ldb, ldc;
    float alpha, beta;
    const float *a, *b;
    float *c;
    int64_t k_start;
    bool bf16;
    const SgemmPanels *panels;
} SgemmCall;
void tensor__gemm(const SgemmCall *g);

/* Panels for op(B) k x n: zeroed, capacity for n columns; NULL out of
 * memory.  Pack writes columns [j0, j0 + w) of op(B) (element (p, j) at
 * b[p * ldb + j], or b[j * ldb + p] when tb) into them, rounded to bf16;
 * depths [p0, p0 + rows) only (rows appended to a value cache). */
SgemmPanels *tensor__panels_new(int64_t k, int64_t n);
void tensor__panels_free(SgemmPanels *p);
void tensor__panels_pack(SgemmPanels *p, bool tb, const float *b, int64_t ldb, int64_t p0,
                         int64_t rows, int64_t j0, int64_t w);
int64_t tensor__panels_bytes(int64_t k, int64_t n);

/* The bf16 kernels, for tests and benchmarks: TENSOR__BF16_FMA (float32
 * fused multiply-adds on rounded values, through the float32 kernel of
 * tensor__sgemm_set_isa), TENSOR__BF16_DP (vdpbf16ps), TENSOR__BF16_PAIRS
 * (plain C over bf16 pairs); -1: the library's choice.  Returns the one in
 * use for products without panels. */
enum { TENSOR__BF16_FMA, TENSOR__BF16_DP, TENSOR__BF16_PAIRS };
int tensor__sbgemm_set_kernel(int kernel);
/* Peak GFLOP/s of one core from a register-only loop of about `seconds`:
 * float32 FMA (the widest this CPU has), or vdpbf16ps (0 without it). */
double tensor__peak_fma_gflops(double seconds);
double tensor__peak_dpbf16_gflops(double seconds);

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
