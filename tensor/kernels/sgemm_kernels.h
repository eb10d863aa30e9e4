/*
 * The sgemm micro-kernels, private to tensor/kernels.  A micro-kernel
 * computes one tile of C, at most mr x nr, from a block of depth kc:
 *
 *     C[i][j] = alpha * sum_{p < kc} A(i, p) * B(p, j) + beta * C[i][j]
 *     A(i, p) = a[i * a_row + p * a_step],   B(p, j) = b[p * b_step + j]
 *
 * for i < h, j < w; beta 0 means C is not read.  From packed panels (see
 * sgemm.c) a_row = 1, a_step = mr, b_step = nr.  A kernel with `edges` also
 * takes tiles smaller than mr x nr and operands read in place (any a_row,
 * a_step, b_step), touching nothing outside the tile; the others compute
 * whole mr x nr tiles from zero-padded packed panels only.
 */
#ifndef ATTOGRAD_SGEMM_KERNELS_H
#define ATTOGRAD_SGEMM_KERNELS_H

#ifndef ATTOGRAD_TENSOR_ROOM
#error "tensor/kernels/sgemm_kernels.h is private to the tensor room (its files and white-box tests): include tensor/tensor.h"
#endif

#include <stdbool.h>
#include <stdint.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define SGEMM_X86 1
#else
#define SGEMM_X86 0
#endif

enum { SGEMM_MAX_MR = 12, SGEMM_MAX_NR = 32 };

typedef struct {
    int64_t kc;
    const float *a;
    int64_t a_row, a_step;
    const float *b;
    int64_t b_step;
    float *c;
    int64_t ldc;
    int h, w;
    float alpha, beta;
    int64_t b_panel;   /* for SgemmIsa.row: floats from one panel of B~ to the next */
} SgemmTile;

typedef void (*SgemmKernel)(const SgemmTile *t);

typedef struct {
    const char *name;
    int mr, nr;
    bool fma;                  /* the CPU has FMA: the plain loop may use it too */
    bool edges;                /* takes partial tiles and unpacked operands */
    SgemmKernel kernel;
    /* Pack A~ from op(A) = A (rows adjacent) and B~ from op(B) = B^T (see
     * pack_a and pack_b in sgemm.c), each value rounded to bf16 when round
     * (an autocast product); NULL: the plain loops do it. */
    void (*pack_a)(const float *a, int64_t lda, int64_t mc, int64_t kc, float *dst, bool round);
    void (*pack_bt)(const float *b, int64_t ldb, int64_t kc, int64_t nc, float *dst, bool round);
    /* The same from op(A) = A^T (A stored (kc, mc)) and op(B) = B (B stored
     * (kc, nc)): copies a row of the stored matrix at a time. */
    void (*pack_at)(const float *a, int64_t lda, int64_t mc, int64_t kc, float *dst, bool round);
    void (*pack_b)(const float *b, int64_t ldb, int64_t kc, int64_t nc, float *dst, bool round);
    /* A few rows of C = alpha op(A) @ B^T + beta C, B stored (n, k), read in
     * place (the one-row products of generation): the columns it did, a
     * multiple of its width, from 0; the caller does the rest.  Each element
     * one FMA chain over p in KC blocks, as the micro-kernel sums it.  NULL:
     * the portable loops. */
    int64_t (*small_bt)(bool ta, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                        int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                        int64_t ldc);
    /* One row of C (h = 1) against up to SGEMM_ROW_PANELS packed panels of
     * B~ at once (t->w columns, the panels t->b_panel floats apart), each
     * element summed as the micro-kernel sums it: a one-row product
     * (generation's, over a model's bf16 panels) is bound by memory, and
     * one core reads memory faster from several streams than from one.
     * NULL: the micro-kernel, a tile at a time. */
    SgemmKernel row;
} SgemmIsa;
enum { SGEMM_ROW_PANELS = 8 };

/* Indexed by TENSOR__SGEMM_PORTABLE, _AVX2, _AVX512 (sgemm.h). */
extern const SgemmIsa tensor__sgemm_isas[];
/* The best entry this CPU runs. */
int tensor__sgemm_best_isa(void);

/*
 * bf16 products (see sgemm.h) run the float32 kernels on panels of rounded
 * floats, or a kernel over pairs: panels of uint32, one per row (A~) or
 * column (B~) and pair of depths q, kc / 2 rounded up of them, depth 2q in
 * the high half and 2q + 1 in the low one (tensor__bf16_pair), which is
 * the order vdpbf16ps adds them in: high half first.  A missing last depth
 * is -0 in A~ and 0 in B~: a term of -0, which leaves every float sum as
 * it is (x + -0 = x, +0 and -0 included).  SgemmPanels are B~ in pairs.  A
 * kernel step is a pair.
 */
void tensor__pack_a_pairs(bool ta, const float *a, int64_t lda, int64_t mc, int64_t kc, int mr,
                          uint32_t *dst);
void tensor__pack_b_pairs(bool tb, const float *b, int64_t ldb, int64_t kc, int64_t nc, int nr,
                          uint32_t *dst);

/* Kernels over pairs, indexed by TENSOR__BF16_DP and TENSOR__BF16_PAIRS
 * (sgemm.h); nr is SGEMM_PANEL for both. */
extern const SgemmIsa tensor__pair_isas[];
bool tensor__cpu_has_dpbf16(void);

#endif /* ATTOGRAD_SGEMM_KERNELS_H */
