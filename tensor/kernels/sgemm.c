/*
 * sgemm: C = alpha * op(A) @ op(B) + beta * C (see sgemm.h).
 *
 * Small products (the book's 6x3 @ 3x2) take a plain loop: no packing, no
 * threads.  Larger ones are blocked as in GotoBLAS and BLIS, so that each
 * level of the loop nest reuses data from one level of cache:
 *
 *   for each block of kc columns of op(A) (rows of op(B)):          pc
 *     pack op(A)[.., pc] into micro-panels of mr rows               A~, L3
 *     for each block of nc columns of op(B):                         jc
 *       pack op(B)[pc, jc] into micro-panels of nr columns           B~, L2
 *       for each micro-panel of A~ (mr x kc, stays in L1):           ir
 *         for each micro-panel of B~ (kc x nr, streams from L2):     jr
 *           micro-kernel: an mr x nr tile of C held in registers,
 *           one rank-1 update per p; then C = alpha*tile + beta*C
 *
 * Packing copies each operand once into the order the micro-kernel reads
 * (zero-padded to whole panels), so transposes and leading dimensions cost
 * nothing after it.  Each element of C is summed in order p = 0 .. k-1
 * whatever the layout, thread count or instruction set, so transposed and
 * contiguous inputs give the same result up to the kc-block boundaries.
 *
 * Micro-kernels: AVX-512 12 x 32, AVX2+FMA 6 x 16, and a portable one in
 * plain C.  They are compiled with target attributes and chosen at run time
 * with __builtin_cpu_supports, so the library itself needs no -m flags.
 */
#include "sgemm.h"
#include "sgemm_kernels.h"

#include <stdlib.h>

enum {
    KC = 384,              /* depth of a block: an A~ micro-panel is mr*KC floats in L1 */
    NC = 512,              /* columns of a B~ block: KC*NC floats, 768 KB, in L2 */
    MC = 2304,             /* rows of an A~ block, bounding its buffer */
    SMALL = 1024,          /* m*n*k below this takes the plain loop (measured) */
};

/* ---- the plain loop --------------------------------------------------------- */

/* Row i of C accumulates in chunks of CHUNK columns, p in order. */
enum { CHUNK = 256 };

static inline __attribute__((always_inline)) void
small_body(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
           int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    float acc[CHUNK];
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j0 = 0; j0 < n; j0 += CHUNK) {
            int64_t w = n - j0 < CHUNK ? n - j0 : CHUNK;
            for (int64_t j = 0; j < w; j++) acc[j] = 0;
            for (int64_t p = 0; p < k; p++) {
                float aip = ta ? a[p * lda + i] : a[i * lda + p];
                if (tb) {
                    const float *bj = b + j0 * ldb + p;
                    for (int64_t j = 0; j < w; j++) acc[j] += aip * bj[j * ldb];
                } else {
                    const float *bp = b + p * ldb + j0;
                    for (int64_t j = 0; j < w; j++) acc[j] += aip * bp[j];
                }
            }
            float *ci = c + i * ldc + j0;
            if (beta == 0)
                for (int64_t j = 0; j < w; j++) ci[j] = alpha * acc[j];
            else
                for (int64_t j = 0; j < w; j++) ci[j] = alpha * acc[j] + beta * ci[j];
        }
    }
}

#define SMALL_ARGS bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, \
    const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc
#define SMALL_PASS ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc

static void small_portable(SMALL_ARGS) { small_body(SMALL_PASS); }
#if SGEMM_X86
/* The same loop with FMA, as the AVX micro-kernels compute. */
__attribute__((target("avx2,fma"))) static void small_fma(SMALL_ARGS)
{
    small_body(SMALL_PASS);
}
#endif

/* ---- packing ------------------------------------------------------------------ */

/* A~: rows [0, mc) of op(A) by columns [0, kc), in panels of mr rows; each
 * panel is kc groups of mr values (one per row), zero past row mc. */
static void pack_a(bool ta, const float *a, int64_t lda, int64_t mc, int64_t kc, int mr,
                   float *dst)
{
    for (int64_t i0 = 0; i0 < mc; i0 += mr, dst += (int64_t)mr * kc) {
        int64_t h = mc - i0 < mr ? mc - i0 : mr;
        if (ta) {
            for (int64_t p = 0; p < kc; p++) {
                const float *src = a + p * lda + i0;
                float *d = dst + p * mr;
                for (int64_t i = 0; i < h; i++) d[i] = src[i];
                for (int64_t i = h; i < mr; i++) d[i] = 0;
            }
        } else {
            for (int64_t i = 0; i < h; i++) {
                const float *src = a + (i0 + i) * lda;
                for (int64_t p = 0; p < kc; p++) dst[p * mr + i] = src[p];
            }
            for (int64_t i = h; i < mr; i++)
                for (int64_t p = 0; p < kc; p++) dst[p * mr + i] = 0;
        }
    }
}

/* B~: rows [0, kc) of op(B) by columns [0, nc), in panels of nr columns;
 * each panel is kc rows of nr values, zero past column nc. */
static void pack_b(bool tb, const float *b, int64_t ldb, int64_t kc, int64_t nc, int nr,
                   float *dst)
{
    for (int64_t j0 = 0; j0 < nc; j0 += nr, dst += (int64_t)nr * kc) {
        int64_t w = nc - j0 < nr ? nc - j0 : nr;
        if (tb) {
            for (int64_t j = 0; j < w; j++) {
                const float *src = b + (j0 + j) * ldb;
                for (int64_t p = 0; p < kc; p++) dst[p * nr + j] = src[p];
            }
            for (int64_t j = w; j < nr; j++)
                for (int64_t p = 0; p < kc; p++) dst[p * nr + j] = 0;
        } else {
            for (int64_t p = 0; p < kc; p++) {
                const float *src = b + p * ldb + j0;
                float *d = dst + p * nr;
                for (int64_t j = 0; j < w; j++) d[j] = src[j];
                for (int64_t j = w; j < nr; j++) d[j] = 0;
            }
        }
    }
}

/* ---- the blocked product ------------------------------------------------------ */

/* One tile: straight into C when whole, through a buffer at the edges. */
static void tile(const SgemmIsa *isa, int64_t kc, const float *ap, const float *bp, float *c,
                 int64_t ldc, int64_t h, int64_t w, float alpha, float beta)
{
    if (h == isa->mr && w == isa->nr) {
        isa->kernel(kc, ap, bp, c, ldc, alpha, beta);
        return;
    }
    float buf[SGEMM_MAX_MR * SGEMM_MAX_NR];
    isa->kernel(kc, ap, bp, buf, isa->nr, alpha, 0.0f);
    for (int64_t i = 0; i < h; i++) {
        float *ci = c + i * ldc;
        const float *bi = buf + i * isa->nr;
        if (beta == 0)
            for (int64_t j = 0; j < w; j++) ci[j] = bi[j];
        else
            for (int64_t j = 0; j < w; j++) ci[j] = bi[j] + beta * ci[j];
    }
}

static void blocked(const SgemmIsa *isa, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                    float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
                    float beta, float *c, int64_t ldc, float *abuf, float *bbuf)
{
    int mr = isa->mr, nr = isa->nr;
    for (int64_t ic = 0; ic < m; ic += MC) {
        int64_t mc = m - ic < MC ? m - ic : MC;
        for (int64_t pc = 0; pc < k; pc += KC) {
            int64_t kc = k - pc < KC ? k - pc : KC;
            float bt = pc == 0 ? beta : 1.0f;   /* later blocks add to C */
            pack_a(ta, ta ? a + pc * lda + ic : a + ic * lda + pc, lda, mc, kc, mr, abuf);
            for (int64_t jc = 0; jc < n; jc += NC) {
                int64_t nc = n - jc < NC ? n - jc : NC;
                pack_b(tb, tb ? b + jc * ldb + pc : b + pc * ldb + jc, ldb, kc, nc, nr, bbuf);
                for (int64_t ir = 0; ir < mc; ir += mr) {
                    const float *ap = abuf + ir * kc;
                    for (int64_t jr = 0; jr < nc; jr += nr) {
                        int64_t h = mc - ir < mr ? mc - ir : mr;
                        int64_t w = nc - jr < nr ? nc - jr : nr;
                        tile(isa, kc, ap, bbuf + jr * kc, c + (ic + ir) * ldc + jc + jr, ldc,
                             h, w, alpha, bt);
                    }
                }
            }
        }
    }
}

/* Packing buffers, kept between calls (one pair per thread): a fresh
 * allocation of this size is a fresh mmap, whose page faults cost as much
 * as a 256 x 256 product. */
enum { MAX_THREADS = 64 };
static struct {
    float *data;
    int64_t floats;
} buffers[MAX_THREADS][2];

static float *buffer(int thread, int which, int64_t floats)
{
    if (buffers[thread][which].floats < floats) {
        free(buffers[thread][which].data);
        buffers[thread][which].data =
            aligned_alloc(64, (size_t)(floats * (int64_t)sizeof(float) + 63) / 64 * 64);
        if (!buffers[thread][which].data) abort();
        buffers[thread][which].floats = floats;
    }
    return buffers[thread][which].data;
}

static void blocked_alloc(const SgemmIsa *isa, bool ta, bool tb, int64_t m, int64_t n,
                          int64_t k, float alpha, const float *a, int64_t lda, const float *b,
                          int64_t ldb, float beta, float *c, int64_t ldc)
{
    int64_t mc = m < MC ? m : MC, kc = k < KC ? k : KC, nc = n < NC ? n : NC;
    float *abuf = buffer(0, 0, (mc + isa->mr) * kc);
    float *bbuf = buffer(0, 1, (nc + isa->nr) * kc);
    blocked(isa, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, abuf, bbuf);
}

/* ---- choosing a path ---------------------------------------------------------- */

static int forced_isa = -1;

int tensor__sgemm_set_isa(int isa)
{
    int best = tensor__sgemm_best_isa();
    forced_isa = isa < 0 || isa > best ? -1 : isa;
    return forced_isa < 0 ? best : forced_isa;
}

static const SgemmIsa *current_isa(void)
{
    return &tensor__sgemm_isas[forced_isa >= 0 ? forced_isa : tensor__sgemm_best_isa()];
}

static void small(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                  const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                  int64_t ldc)
{
#if SGEMM_X86
    if (current_isa()->fma) {
        small_fma(SMALL_PASS);
        return;
    }
#endif
    small_portable(SMALL_PASS);
}

void tensor__sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                   const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                   float *c, int64_t ldc)
{
    if (m <= 0 || n <= 0) return;
    if (m * n * k < SMALL || m < 4 || n < 4) {
        small(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    blocked_alloc(current_isa(), trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c,
                  ldc);
}
