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
 * nothing after it.  Below 256^3 the copy costs a large share of the time,
 * and a kernel that handles partial tiles (AVX-512) reads A, and B unless
 * transposed, in place instead.  Each element of C is summed in order
 * p = 0 .. k-1 whatever the path or thread count, so the result does not
 * depend on them (up to the kc-block boundaries, which fix the order too).
 *
 * Micro-kernels: AVX-512 12 x 32, AVX2+FMA 6 x 16, and a portable one in
 * plain C (sgemm_kernels.c).  They are compiled with target attributes and
 * chosen at run time with __builtin_cpu_supports, so the library itself
 * needs no -m flags.
 *
 * Threads (the pool of threads.c) split large products by tiles of C.
 * OpenBLAS, when built in and switched on (ATTOGRAD_BLAS=1), takes large
 * products instead.  It is off by default: single-threaded, this kernel
 * runs at 0.9 to 1.05 of OpenBLAS's speed from n = 128
 * (tests/bench/bench_matmul.c), and the results then do not depend on how
 * the library was built.
 */
/* The plain and tiny loops rely on the compiler fusing a * b + c into one
 * FMA, as the micro-kernels' intrinsics do, so that every path gives an
 * element the same bits; GCC fuses only when optimizing, so a build that
 * does not optimize (debug, the sanitizer build) optimizes this file. */
#if defined(__GNUC__) && !defined(__clang__) && !defined(__OPTIMIZE__)
#pragma GCC optimize("O2")
#endif

#include "bf16.h"
#include "sgemm.h"
#include "sgemm_kernels.h"
#include "core/tensor_internal.h"
#include "threads.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if SGEMM_X86
#include <immintrin.h>
#endif

#ifdef ATTOGRAD_HAVE_BLAS
#include <cblas.h>
#endif

enum {
    KC = SGEMM_KC,         /* depth of a block: an A~ micro-panel is mr*KC floats in L1 */
    NC = 512,              /* columns of a B~ block: KC*NC floats, 768 KB, in L2 */
    MC = 2304,             /* rows of an A~ block, bounding its buffer */
    SMALL = 512,           /* m*n*k below this takes the plain loop (measured: n = 8) */
    /* m*n*k from which threads are used (for one product, or a whole batch
     * of small ones).  Measured on 2 cores: 1.9x at 96^3 and 128^3, about
     * even at 64^3, where handing slices to a pool thread costs what it
     * saves. */
    PARALLEL = 96 * 96 * 96,
    /* Products of fewer rows than a tile are bound by reading op(B) (a
     * model's weights in generation): threads from this many elements of
     * it, 768 x 768 (GPT-2's attention projections, 1.2 MB in bf16) and up. */
    ROW_PARALLEL = 1 << 18,
    BLAS_MIN = 64 * 64 * 64,  /* m*n*k from which OpenBLAS may take over, if on */
    DIRECT = 256 * 256 * 256, /* m*n*k up to which operands are read in place */
};

/* How a product's operands reach the micro-kernel: floats as they are,
 * floats rounded to bf16, or bf16 pairs (sgemm_kernels.h). */
typedef enum { PACK_F32, PACK_BF16, PACK_PAIRS } Packing;

/* ---- the plain loop --------------------------------------------------------- */

/* Row i of C accumulates in chunks of CHUNK columns, p in order, in the
 * blocked product's depth blocks of KC: each block's sum starts from zero
 * and is then added to C, as the micro-kernels' tiles are.  So a product
 * gives each element of C the same bits on either path, and a row computed
 * alone (m < 4 takes this loop) the bits it has in a taller product: the
 * cached generation of nn_generate relies on it. */
enum { CHUNK = 256 };

static inline __attribute__((always_inline)) void
small_body(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
           int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    float acc[CHUNK];
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j0 = 0; j0 < n; j0 += CHUNK) {
            int64_t w = n - j0 < CHUNK ? n - j0 : CHUNK;
            float *ci = c + i * ldc + j0;
            for (int64_t pc = 0; pc == 0 || pc < k; pc += KC) {   /* k = 0 still writes C */
                int64_t pe = k - pc < KC ? k : pc + KC;
                for (int64_t j = 0; j < w; j++) acc[j] = 0;
                for (int64_t p = pc; p < pe; p++) {
                    float aip = ta ? a[p * lda + i] : a[i * lda + p];
                    if (tb) {
                        const float *bj = b + j0 * ldb + p;
                        for (int64_t j = 0; j < w; j++) acc[j] += aip * bj[j * ldb];
                    } else {
                        const float *bp = b + p * ldb + j0;
                        for (int64_t j = 0; j < w; j++) acc[j] += aip * bp[j];
                    }
                }
                float bc = pc == 0 ? beta : 1.0f;                    /* later blocks add */
                if (bc == 0)
                    for (int64_t j = 0; j < w; j++) ci[j] = alpha * acc[j];
                else
                    for (int64_t j = 0; j < w; j++) ci[j] = alpha * acc[j] + bc * ci[j];
            }
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

#if SGEMM_X86
/* r[q] = column q of the 8 x 8 block whose rows are r[0..7]. */
__attribute__((target("avx2,fma"))) static inline void transpose8(__m256 r[8])
{
    __m256 t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 2; i++) {
        u[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xee);
        u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xee);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(u[i], u[4 + i], 0x20);
        r[4 + i] = _mm256_permute2f128_ps(u[i], u[4 + i], 0x31);
    }
}

/* The plain loop's rows when op(B) = B^T and n >= 8: a row or three of A
 * against the rows of B (the out_head and every Linear of one position, as
 * nn_generate runs them).  The scalar loop reads B down its columns, one
 * float per cache line; here 8 rows of B are read 8 floats at a time and
 * transposed in registers, so that 8 columns of C accumulate in one vector.
 * Each element is still one FMA chain over p in the same KC blocks, added
 * to C as the micro-kernel does (alpha * sum, then beta * C fused in): the
 * bits of the blocked product. */
__attribute__((target("avx2,fma"))) static void small_bt_avx2(SMALL_ARGS)
{
    (void)tb;
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        const float *bj = b + j * ldb;
        for (int64_t i = 0; i < m; i++) {
            float *ci = c + i * ldc + j;
            for (int64_t pc = 0; pc == 0 || pc < k; pc += KC) {
                int64_t pe = k - pc < KC ? k : pc + KC, p = pc;
                __m256 acc = _mm256_setzero_ps();
                for (; p + 8 <= pe; p += 8) {
                    __m256 r[8];
                    for (int q = 0; q < 8; q++) r[q] = _mm256_loadu_ps(bj + q * ldb + p);
                    transpose8(r);
                    for (int q = 0; q < 8; q++) {
                        float aip = ta ? a[(p + q) * lda + i] : a[i * lda + p + q];
                        acc = _mm256_fmadd_ps(_mm256_set1_ps(aip), r[q], acc);
                    }
                }
                for (; p < pe; p++) {
                    float aip = ta ? a[p * lda + i] : a[i * lda + p];
                    __m256 col = _mm256_set_ps(bj[7 * ldb + p], bj[6 * ldb + p], bj[5 * ldb + p],
                                               bj[4 * ldb + p], bj[3 * ldb + p], bj[2 * ldb + p],
                                               bj[ldb + p], bj[p]);
                    acc = _mm256_fmadd_ps(_mm256_set1_ps(aip), col, acc);
                }
                float bc = pc == 0 ? beta : 1.0f;                    /* later blocks add */
                __m256 r = _mm256_mul_ps(_mm256_set1_ps(alpha), acc);
                if (bc != 0) r = _mm256_fmadd_ps(_mm256_set1_ps(bc), _mm256_loadu_ps(ci), r);
                _mm256_storeu_ps(ci, r);
            }
        }
    }
    if (j < n) small_fma(ta, true, m, n - j, k, alpha, a, lda, b + j * ldb, ldb, beta, c + j, ldc);
}
#endif

/* ---- tiny products ------------------------------------------------------------ */

/* Products with op(B) at most TINY_N columns wide and TINY_K deep (the
 * attention of the book's toy task: 6x2 @ 2x6, 48x3 @ 3x2).  op(B) is copied
 * once into a k x W block zero-padded to W = 4, 8 or 16 columns, so that
 * each row of C is W accumulators the compiler keeps in vector registers,
 * with no loop remainder; A is read in place.  A batch of them is one call:
 * no dispatch per product, and a broadcast B is copied once.  Each element
 * of C is summed in order p = 0 .. k-1, as on the plain loop, so the two
 * give the same bits. */
/* TINY_MNK: above it the blocked AVX-512 kernel wins (measured: a head's
 * 64x16 @ 16x64 and 64x64 @ 64x16 of the T = 64 multi-head bench). */
enum { TINY_N = 16, TINY_K = 64, TINY_M = 256, TINY_MNK = 16 * 16 * 16 };

bool tensor__sgemm_tiny(int64_t m, int64_t n, int64_t k)
{
    return m <= TINY_M && n <= TINY_N && k <= TINY_K && m * n * k <= TINY_MNK;
}

static inline __attribute__((always_inline)) void
tiny_pack_b(int w, bool tb, int64_t n, int64_t k, const float *b, int64_t ldb, float *bb)
{
    /* to the constant w, as in tiny_store: no call to memcpy per row */
    for (int64_t p = 0; p < k; p++, bb += w)
        for (int j = 0; j < w; j++) bb[j] = j >= n ? 0.0f : tb ? b[j * ldb + p] : b[p * ldb + j];
}

/* Vectors of w floats (GCC's and clang's vector extension): a row of C's
 * accumulators stays in registers, which an array indexed by the run-time
 * n would not. */
typedef float Tiny4 __attribute__((vector_size(16)));
typedef float Tiny8 __attribute__((vector_size(32)));
typedef float Tiny16 __attribute__((vector_size(64)));

/* Row i of C from its accumulators acc (a vector of w floats): only the
 * first n are C's.  The loop runs to the constant w, so that it unrolls
 * into tests on n; one to n would be vectorised, with run-time checks that
 * cost more than the row. */
#define TINY_STORE(w, g, acc, ci)                                                     \
    do {                                                                               \
        if ((g)->beta == 0) {                                                          \
            for (int j_ = 0; j_ < (w); j_++)                                           \
                if (j_ < (g)->n) (ci)[j_] = (g)->alpha * (acc)[j_];                    \
        } else {                                                                       \
            for (int j_ = 0; j_ < (w); j_++)                                           \
                if (j_ < (g)->n) (ci)[j_] = (g)->alpha * (acc)[j_] + (g)->beta * (ci)[j_]; \
        }                                                                              \
    } while (0)

/* C = alpha * op(A) @ Bpad + beta * C, Bpad k x W from tiny_pack_b, r <= 4
 * rows of C at a time: r independent chains of FMAs, so that one's latency
 * hides behind the others.  Named accumulators, not an array, so that they
 * stay in registers. */
#define TINY_ROWS(W)                                                                  \
    static inline __attribute__((always_inline)) void tiny_block##W(                   \
        int r, const SgemmBatch *g, const float *a, const float *bb, float *c)         \
    {                                                                                  \
        int64_t row = g->ta ? 1 : g->lda, step = g->ta ? g->lda : 1;                   \
        Tiny##W acc0 = {0}, acc1 = {0}, acc2 = {0}, acc3 = {0}, bp;                    \
        for (int64_t p = 0; p < g->k; p++) {                                           \
            const float *ap = a + p * step;                                            \
            memcpy(&bp, bb + p * W, sizeof bp);                                        \
            acc0 += ap[0] * bp;                                                        \
            if (r > 1) acc1 += ap[row] * bp;                                           \
            if (r > 2) acc2 += ap[2 * row] * bp;                                       \
            if (r > 3) acc3 += ap[3 * row] * bp;                                       \
        }                                                                              \
        TINY_STORE(W, g, acc0, c);                                                     \
        if (r > 1) TINY_STORE(W, g, acc1, c + g->ldc);                                 \
        if (r > 2) TINY_STORE(W, g, acc2, c + 2 * g->ldc);                             \
        if (r > 3) TINY_STORE(W, g, acc3, c + 3 * g->ldc);                             \
    }                                                                                  \
    static inline __attribute__((always_inline)) void tiny_rows##W(                    \
        const SgemmBatch *g, const float *a, const float *bb, float *c)                \
    {                                                                                  \
        int64_t row = g->ta ? 1 : g->lda, i = 0;                                       \
        for (; i + 4 <= g->m; i += 4)                                                  \
            tiny_block##W(4, g, a + i * row, bb, c + i * g->ldc);                      \
        if (i + 2 <= g->m) {                                                           \
            tiny_block##W(2, g, a + i * row, bb, c + i * g->ldc);                      \
            i += 2;                                                                    \
        }                                                                              \
        if (i < g->m) tiny_block##W(1, g, a + i * row, bb, c + i * g->ldc);            \
    }
TINY_ROWS(4)
TINY_ROWS(8)
TINY_ROWS(16)
#undef TINY_ROWS

/* The whole batch at width w: an odometer over the batch dims moves the
 * three pointers; B is packed again only when its pointer moves. */
static inline __attribute__((always_inline)) void tiny_batch(int w, const SgemmBatch *caller)
{
    /* A local copy, whose alpha and beta no store to C can change: they
     * stay in registers instead of being read again after each store. */
    SgemmBatch local = *caller;
    const SgemmBatch *g = &local;
    float bb[TINY_K * TINY_N];
    int64_t idx[SGEMM_MAX_BATCH] = {0}, oa = 0, ob = 0, oc = 0, packed = -1;
    for (;;) {
        if (ob != packed) {
            tiny_pack_b(w, g->tb, g->n, g->k, g->b + ob, g->ldb, bb);
            packed = ob;
        }
        if (w == 4)
            tiny_rows4(g, g->a + oa, bb, g->c + oc);
        else if (w == 8)
            tiny_rows8(g, g->a + oa, bb, g->c + oc);
        else
            tiny_rows16(g, g->a + oa, bb, g->c + oc);
        int d = g->nb - 1;
        for (; d >= 0; d--) {
            oa += g->sa[d];
            ob += g->sb[d];
            oc += g->sc[d];
            if (++idx[d] < g->shape[d]) break;
            oa -= g->sa[d] * idx[d];
            ob -= g->sb[d] * idx[d];
            oc -= g->sc[d] * idx[d];
            idx[d] = 0;
        }
        if (d < 0) return;
    }
}

static inline __attribute__((always_inline)) void tiny_dispatch(const SgemmBatch *g)
{
    if (g->n <= 4)
        tiny_batch(4, g);
    else if (g->n <= 8)
        tiny_batch(8, g);
    else
        tiny_batch(16, g);
}

static void tiny_portable(const SgemmBatch *g) { tiny_dispatch(g); }
#if SGEMM_X86
__attribute__((target("avx2,fma"))) static void tiny_fma(const SgemmBatch *g)
{
    tiny_dispatch(g);
}
#endif

/* ---- packing ------------------------------------------------------------------ */

/* A~: rows [0, mc) of op(A) by columns [0, kc), in panels of mr rows; each
 * panel is kc groups of mr values (one per row), zero past row mc.  R
 * rounds each value to bf16 (an autocast product), or copies it. */
#define R(x) (round ? tensor__bf16_round(x) : (x))
static inline __attribute__((always_inline)) void
pack_a_body(bool ta, const float *a, int64_t lda, int64_t mc, int64_t kc, int mr, float *dst,
            const bool round)
{
    for (int64_t i0 = 0; i0 < mc; i0 += mr, dst += (int64_t)mr * kc) {
        int64_t h = mc - i0 < mr ? mc - i0 : mr;
        if (ta) {
            for (int64_t p = 0; p < kc; p++) {
                const float *src = a + p * lda + i0;
                float *d = dst + p * mr;
                for (int64_t i = 0; i < h; i++) d[i] = R(src[i]);
                for (int64_t i = h; i < mr; i++) d[i] = 0;
            }
        } else {
            for (int64_t i = 0; i < h; i++) {
                const float *src = a + (i0 + i) * lda;
                for (int64_t p = 0; p < kc; p++) dst[p * mr + i] = R(src[p]);
            }
            for (int64_t i = h; i < mr; i++)
                for (int64_t p = 0; p < kc; p++) dst[p * mr + i] = 0;
        }
    }
}

/* B~: rows [0, kc) of op(B) by columns [0, nc), in panels of nr columns;
 * each panel is kc rows of nr values, zero past column nc. */
static inline __attribute__((always_inline)) void
pack_b_body(bool tb, const float *b, int64_t ldb, int64_t kc, int64_t nc, int nr, float *dst,
            const bool round)
{
    for (int64_t j0 = 0; j0 < nc; j0 += nr, dst += (int64_t)nr * kc) {
        int64_t w = nc - j0 < nr ? nc - j0 : nr;
        if (tb) {
            for (int64_t j = 0; j < w; j++) {
                const float *src = b + (j0 + j) * ldb;
                for (int64_t p = 0; p < kc; p++) dst[p * nr + j] = R(src[p]);
            }
            for (int64_t j = w; j < nr; j++)
                for (int64_t p = 0; p < kc; p++) dst[p * nr + j] = 0;
        } else {
            for (int64_t p = 0; p < kc; p++) {
                const float *src = b + p * ldb + j0;
                float *d = dst + p * nr;
                for (int64_t j = 0; j < w; j++) d[j] = R(src[j]);
                for (int64_t j = w; j < nr; j++) d[j] = 0;
            }
        }
    }
}
#undef R

static void pack_a(bool ta, const float *a, int64_t lda, int64_t mc, int64_t kc, int mr,
                   float *dst)
{
    pack_a_body(ta, a, lda, mc, kc, mr, dst, false);
}

static void pack_a_rounded(bool ta, const float *a, int64_t lda, int64_t mc, int64_t kc, int mr,
                           float *dst)
{
    pack_a_body(ta, a, lda, mc, kc, mr, dst, true);
}

static void pack_b(bool tb, const float *b, int64_t ldb, int64_t kc, int64_t nc, int nr,
                   float *dst)
{
    pack_b_body(tb, b, ldb, kc, nc, nr, dst, false);
}

static void pack_b_rounded(bool tb, const float *b, int64_t ldb, int64_t kc, int64_t nc, int nr,
                           float *dst)
{
    pack_b_body(tb, b, ldb, kc, nc, nr, dst, true);
}

/* ---- the blocked product ------------------------------------------------------ */

/* One tile of C: h x w at c, from a and b as described by t.  Kernels
 * without edge handling compute a whole padded tile into a buffer at the
 * edges, which is then merged into C. */
static void tile(const SgemmIsa *isa, SgemmTile *t, float *c, int64_t h, int64_t w)
{
    t->c = c;
    t->h = (int)h;
    t->w = (int)w;
    if (isa->edges || (h == isa->mr && w == isa->nr)) {
        isa->kernel(t);
        return;
    }
    float buf[SGEMM_MAX_MR * SGEMM_MAX_NR];
    SgemmTile whole = *t;
    whole.c = buf;
    whole.ldc = isa->nr;
    whole.h = isa->mr;
    whole.w = isa->nr;
    whole.beta = 0;
    isa->kernel(&whole);
    for (int64_t i = 0; i < h; i++) {
        float *ci = c + i * t->ldc;
        const float *bi = buf + i * isa->nr;
        if (t->beta == 0)
            for (int64_t j = 0; j < w; j++) ci[j] = bi[j];
        else
            for (int64_t j = 0; j < w; j++) ci[j] = bi[j] + t->beta * ci[j];
    }
}

/* Whether to read the operands in place instead of packing them: for
 * products small enough that packing would cost a large share of the
 * time, with a kernel that handles edges.  op(B) must have adjacent
 * columns (not transposed); A may be read either way. */
static bool in_place(const SgemmIsa *isa, Packing packing, int64_t m, int64_t n, int64_t k)
{
    return packing == PACK_F32 && isa->edges && m * n * k <= DIRECT && k <= KC && n <= NC &&
           m <= MC;
}

/* One product, as tensor__gemm takes it.  phase: where the depth blocks
 * fall (the first one ends after KC - phase depths); panels: op(B) packed
 * already, its column j0 + j_base being this product's column j0. */
typedef struct {
    bool ta, tb;
    int64_t m, n, k, lda, ldb, ldc;
    float alpha, beta;
    const float *a, *b;
    float *c;
    Packing packing;
    int64_t phase;
    const SgemmPanels *panels;
    int64_t j_base;
} Gemm;

static int64_t min64(int64_t x, int64_t y) { return x < y ? x : y; }

/* The end of the depth block that starts at pc. */
static int64_t block_end(const Gemm *g, int64_t pc)
{
    int64_t end = (pc + g->phase) / KC * KC + KC - g->phase;
    return end < g->k ? end : g->k;
}

/* Kernel steps for kc depths: a step is one depth, or a pair of them. */
static int64_t steps(const Gemm *g, int64_t kc)
{
    return g->packing == PACK_PAIRS ? (kc + 1) / 2 : kc;
}

/* Where op(A)(i, p) and op(B)(p, j) are. */
static const float *a_at(const Gemm *g, int64_t i, int64_t p)
{
    return g->ta ? g->a + p * g->lda + i : g->a + i * g->lda + p;
}

static const float *b_at(const Gemm *g, int64_t p, int64_t j)
{
    return g->tb ? g->b + j * g->ldb + p : g->b + p * g->ldb + j;
}

/* The product of rows [i0, i1) and columns [j0, j1) of C. */
static Gemm sub_gemm(const Gemm *g, int64_t i0, int64_t i1, int64_t j0, int64_t j1)
{
    Gemm s = *g;
    s.m = i1 - i0;
    s.n = j1 - j0;
    s.a = a_at(g, i0, 0);
    s.b = b_at(g, 0, j0);
    s.c = g->c + i0 * g->ldc + j0;
    s.j_base += j0;
    return s;
}

/* The micro-kernel's tile for the depth block [pc, pc + kc): beta for the
 * first block, later blocks add. */
static SgemmTile depth_block(const Gemm *g, int64_t pc, int64_t kc)
{
    return (SgemmTile){.kc = steps(g, kc), .ldc = g->ldc, .alpha = g->alpha,
                       .beta = pc == 0 ? g->beta : 1.0f};
}

/* Rows [i0, i0 + mc) of op(A) at depths [pc, pc + kc), as the micro-kernel
 * reads them: in place, or packed into buf.  Sets t's strides for A; row
 * ir of the block starts *next * ir floats past the pointer returned. */
static const float *a_block(const SgemmIsa *isa, const Gemm *g, bool direct, int64_t i0,
                            int64_t pc, int64_t mc, int64_t kc, float *buf, SgemmTile *t,
                            int64_t *next)
{
    const float *a0 = a_at(g, i0, pc);
    if (direct) {
        t->a_row = *next = g->ta ? 1 : g->lda;
        t->a_step = g->ta ? g->lda : 1;
        return a0;
    }
    bool round = g->packing == PACK_BF16;
    if (g->packing == PACK_PAIRS)
        tensor__pack_a_pairs(g->ta, a0, g->lda, mc, kc, isa->mr, (uint32_t *)(void *)buf);
    else if (!g->ta && isa->pack_a)
        isa->pack_a(a0, g->lda, mc, kc, buf, round);
    else if (g->ta && isa->pack_at)
        isa->pack_at(a0, g->lda, mc, kc, buf, round);
    else if (round)
        pack_a_rounded(g->ta, a0, g->lda, mc, kc, isa->mr, buf);
    else
        pack_a(g->ta, a0, g->lda, mc, kc, isa->mr, buf);
    t->a_row = 1;
    t->a_step = isa->mr;
    *next = steps(g, kc);
    return buf;
}

/* The same for columns [j0, j0 + nc) of op(B) at depths [pc, pc + kc). */
static const float *b_block(const SgemmIsa *isa, const Gemm *g, bool direct, int64_t pc,
                            int64_t j0, int64_t kc, int64_t nc, float *buf, SgemmTile *t,
                            int64_t *next)
{
    if (g->panels) {   /* pc is a block's start: phase is 0 with panels */
        const SgemmPanels *P = g->panels;
        int64_t j = g->j_base + j0;
        t->b_step = SGEMM_PANEL;
        *next = P->panel_stride / SGEMM_PANEL;
        return (const float *)(const void *)(P->data + pc / KC * P->block_stride +
                                             j / SGEMM_PANEL * P->panel_stride);
    }
    const float *b0 = b_at(g, pc, j0);
    if (direct) {
        t->b_step = g->ldb;
        *next = 1;
        return b0;
    }
    bool round = g->packing == PACK_BF16;
    if (g->packing == PACK_PAIRS)
        tensor__pack_b_pairs(g->tb, b0, g->ldb, kc, nc, isa->nr, (uint32_t *)(void *)buf);
    else if (g->tb && isa->pack_bt)
        isa->pack_bt(b0, g->ldb, kc, nc, buf, round);
    else if (!g->tb && isa->pack_b)
        isa->pack_b(b0, g->ldb, kc, nc, buf, round);
    else if (round)
        pack_b_rounded(g->tb, b0, g->ldb, kc, nc, isa->nr, buf);
    else
        pack_b(g->tb, b0, g->ldb, kc, nc, isa->nr, buf);
    t->b_step = isa->nr;
    *next = steps(g, kc);
    return buf;
}

/* Whether op(A) is read in place: for the products in_place takes, and
 * for larger float32 ones with A's rows adjacent that have one block of
 * columns (n <= NC), whose A~ would be read once per depth block, so that
 * packing it costs a pass over A for nothing the kernel needs: 12 rows
 * read in place stay in L1 as a packed panel does.  Measured on one core
 * (AVX-512): n = 512 A @ B from 156 to 161 GFLOP/s, A @ B^T from 154 to 159;
 * A^T read in place was slower (154 to 146), and n > NC reads A once per
 * column block, so both stay packed. */
static bool a_in_place(const SgemmIsa *isa, const Gemm *g, bool direct)
{
    return direct || (g->packing == PACK_F32 && isa->edges && !g->ta && g->n <= NC);
}

/* The mc x nc block of C at c from blocks of op(A) and op(B) (a_block,
 * b_block), tile by tile. */
static void block_tiles(const SgemmIsa *isa, SgemmTile t, const float *a, int64_t a_next,
                        const float *b, int64_t b_next, int64_t mc, int64_t nc, float *c)
{
    int mr = isa->mr, nr = isa->nr;
    if (mc == 1 && isa->row) {   /* several panels at once */
        t.a = a;
        t.h = 1;
        t.b_panel = nr * b_next;
        for (int64_t jr = 0; jr < nc; jr += nr * SGEMM_ROW_PANELS) {
            t.b = b + jr * b_next;
            t.c = c + jr;
            t.w = (int)min64(nc - jr, nr * SGEMM_ROW_PANELS);
            isa->row(&t);
        }
        return;
    }
    for (int64_t ir = 0; ir < mc; ir += mr) {
        t.a = a + ir * a_next;
        for (int64_t jr = 0; jr < nc; jr += nr) {
            t.b = b + jr * b_next;
            tile(isa, &t, c + ir * t.ldc + jr, mc - ir < mr ? mc - ir : mr,
                 nc - jr < nr ? nc - jr : nr);
        }
    }
}

static void blocked(const SgemmIsa *isa, const Gemm *g, float *abuf, float *bbuf)
{
    bool direct = in_place(isa, g->packing, g->m, g->n, g->k), direct_b = direct && !g->tb;
    for (int64_t ic = 0; ic < g->m; ic += MC) {
        int64_t mc = g->m - ic < MC ? g->m - ic : MC;
        for (int64_t pc = 0; pc < g->k; pc = block_end(g, pc)) {
            int64_t kc = block_end(g, pc) - pc, a_next, b_next;
            SgemmTile t = depth_block(g, pc, kc);
            const float *ap = a_block(isa, g, a_in_place(isa, g, direct), ic, pc, mc, kc, abuf,
                                      &t, &a_next);
            for (int64_t jc = 0; jc < g->n; jc += NC) {
                int64_t nc = g->n - jc < NC ? g->n - jc : NC;
                const float *bp = b_block(isa, g, direct_b, pc, jc, kc, nc, bbuf, &t, &b_next);
                block_tiles(isa, t, ap, a_next, bp, b_next, mc, nc, g->c + ic * g->ldc + jc);
            }
        }
    }
}

/* Packing buffers, kept between calls (one pair per thread, so that
 * threads of the caller's own never share one): a fresh allocation of this
 * size is a fresh mmap, whose page faults cost as much as a 256 x 256
 * product.  A thread's pair is freed when it exits. */
typedef struct {
    float *data;
    int64_t floats;
} PackBuffer;
static _Thread_local PackBuffer buffers[2];
static pthread_key_t buffers_key;
static pthread_once_t buffers_once = PTHREAD_ONCE_INIT;

static void free_buffers(void *p)
{
    PackBuffer *b = p;
    free(b[0].data);
    free(b[1].data);
}

static void make_buffers_key(void) { pthread_key_create(&buffers_key, free_buffers); }

/* This thread's buffer 0 (for A~) or 1 (for B~), of at least this size. */
static float *buffer(int which, int64_t floats)
{
    if (buffers[which].floats < floats) {
        if (!buffers[0].data && !buffers[1].data) {   /* this thread's first */
            pthread_once(&buffers_once, make_buffers_key);
            pthread_setspecific(buffers_key, buffers);
        }
        free(buffers[which].data);
        buffers[which].data =
            aligned_alloc(64, (size_t)(floats * (int64_t)sizeof(float) + 63) / 64 * 64);
        if (!buffers[which].data) tensor__abort(__FILE__, __LINE__, "out of memory");
        buffers[which].floats = floats;
    }
    return buffers[which].data;
}

/* Buffers for blocks of rows (0) or columns (1) of at most len, depth k. */
static float *a_buffer(const SgemmIsa *isa, int64_t len, int64_t k)
{
    return buffer(0, (min64(len, MC) + isa->mr) * (min64(k, KC) + 1));
}

static float *b_buffer(const SgemmIsa *isa, int64_t len, int64_t k)
{
    return buffer(1, (min64(len, NC) + isa->nr) * (min64(k, KC) + 1));
}

/* The blocked product on one thread, with that thread's buffers. */
static void blocked_on(const SgemmIsa *isa, const Gemm *g)
{
    blocked(isa, g, a_buffer(isa, g->m, g->k), b_buffer(isa, g->n, g->k));
}

/* A product split over threads: slices of the longer side of C, in whole
 * tiles.  Every slice reads the other operand whole (op(B) for slices of
 * rows, op(A) for slices of columns).  When op(B) is packed for slices of
 * rows (or op(A) for narrow slices of columns), the threads pack it once
 * for each depth block and the slices of that block then run on the
 * threads, each packing only its own part of the first operand: packing
 * op(B) in every slice cost as much again as the product's share of a
 * thread on the GPT step's 256-row products.  Otherwise each slice runs
 * its part of the whole product alone (see parallel).  Every
 * element is computed as on one thread, depth blocks in order, so the
 * result does not depend on the thread count or on which thread takes
 * which slice. */
typedef struct {
    const SgemmIsa *isa;
    Gemm g;
    bool rows;                 /* slices of rows, else of columns */
    bool direct;               /* a slice reads its own operand in place */
    int64_t unit, slices;
    /* The depth block of a packed shared operand (kc 0: none): rows or
     * columns [origin, origin + extent) of it, packed at shared. */
    int64_t pc, kc, origin, extent, shared_next;
    const float *shared;
    SgemmTile t;               /* with the shared operand's strides */
} Split;

static void slice(void *ctx, int64_t s, int worker)
{
    const Split *p = ctx;
    int64_t len = p->rows ? p->g.m : p->g.n, units = (len + p->unit - 1) / p->unit;
    int64_t s0 = units * s / p->slices * p->unit, s1 = units * (s + 1) / p->slices * p->unit;
    s1 = s1 < len ? s1 : len;
    (void)worker;   /* each thread packs into its own buffers */
    if (s1 <= s0) return;
    Gemm g = p->rows ? sub_gemm(&p->g, s0, s1, 0, p->g.n) : sub_gemm(&p->g, 0, p->g.m, s0, s1);
    if (!p->kc) {
        blocked_on(p->isa, &g);
        return;
    }
    SgemmTile t = p->t;
    int64_t next;
    if (p->rows) {   /* against columns [origin, origin + extent) of op(B) */
        float *buf = a_buffer(p->isa, g.m, p->kc);
        for (int64_t ic = 0; ic < g.m; ic += MC) {
            int64_t mc = min64(g.m - ic, MC);
            const float *ap = a_block(p->isa, &g, a_in_place(p->isa, &g, p->direct), ic, p->pc,
                                      mc, p->kc, buf, &t, &next);
            block_tiles(p->isa, t, ap, next, p->shared, p->shared_next, mc, p->extent,
                        g.c + ic * g.ldc + p->origin);
        }
    } else {         /* against rows [origin, origin + extent) of op(A) */
        float *buf = b_buffer(p->isa, g.n, p->kc);
        for (int64_t jc = 0; jc < g.n; jc += NC) {
            int64_t nc = min64(g.n - jc, NC);
            const float *bp = b_block(p->isa, &g, p->direct && !g.tb, p->pc, jc, p->kc, nc, buf,
                                      &t, &next);
            block_tiles(p->isa, t, p->shared, p->shared_next, bp, next, p->extent, nc,
                        g.c + p->origin * g.ldc + jc);
        }
    }
}

/* The shared operand's depth block packed by the threads together, each a
 * run of whole panels: a panel's place in the buffer depends only on its
 * first row (or column), so the pieces land where one packing puts them.
 * Packed by the calling thread alone, the block left the other threads
 * idle: with 256 rows against 768 columns (the 124M GPT's 4 x 64 step),
 * two threads ran those products at 1.4-1.7x one thread's speed. */
typedef struct {
    const SgemmIsa *isa;
    const Gemm *g;
    bool rows;                 /* the shared operand is op(B) */
    int64_t pc, kc, origin, extent, pieces;
    float *buf;
} SharedPack;

enum { SHARED_PIECE = 16384 };   /* floats from which a piece of packing goes to a thread */
enum { SHARE_A_COLUMNS = 64 };   /* columns of a slice below which slices share A~ */

static void pack_piece(void *ctx, int64_t s, int worker)
{
    const SharedPack *q = ctx;
    int64_t unit = q->rows ? q->isa->nr : q->isa->mr, units = (q->extent + unit - 1) / unit;
    int64_t r0 = units * s / q->pieces * unit, r1 = min64(units * (s + 1) / q->pieces * unit,
                                                         q->extent);
    (void)worker;
    if (r1 <= r0) return;
    SgemmTile t;
    int64_t next;
    float *at = q->buf + r0 * steps(q->g, q->kc);
    if (q->rows)
        b_block(q->isa, q->g, false, q->pc, q->origin + r0, q->kc, r1 - r0, at, &t, &next);
    else
        a_block(q->isa, q->g, false, q->origin + r0, q->pc, r1 - r0, q->kc, at, &t, &next);
}

static const float *pack_shared(int nt, Split *p, float *buf)
{
    const Gemm *g = &p->g;
    if (p->rows && g->panels)   /* op(B) is packed already */
        return b_block(p->isa, g, false, p->pc, p->origin, p->kc, p->extent, buf, &p->t,
                       &p->shared_next);
    SharedPack q = {.isa = p->isa, .g = g, .rows = p->rows, .pc = p->pc, .kc = p->kc,
                    .origin = p->origin, .extent = p->extent, .buf = buf};
    int64_t unit = p->rows ? p->isa->nr : p->isa->mr;
    q.pieces = min64(min64(nt, (p->extent + unit - 1) / unit), p->extent * p->kc / SHARED_PIECE);
    if (q.pieces < 2) q.pieces = 1;
    tensor__parallel_for(q.pieces, q.pieces > 1 ? nt : 1, pack_piece, &q);
    /* The strides a_block / b_block set for a packed block. */
    if (p->rows) {
        p->t.b_step = p->isa->nr;
    } else {
        p->t.a_row = 1;
        p->t.a_step = p->isa->mr;
    }
    p->shared_next = steps(g, p->kc);
    return buf;
}

/* Two slices per thread, so that a thread the OS runs late leaves at most
 * a small share to the others. */
static void parallel(int nt, const SgemmIsa *isa, const Gemm *g)
{
    Split p = {.isa = isa, .g = *g, .rows = g->m >= g->n};
    p.unit = p.rows ? isa->mr : isa->nr;
    int64_t len = p.rows ? g->m : g->n, units = (len + p.unit - 1) / p.unit;
    p.slices = min64(2 * (int64_t)nt, units);
    /* Read as the largest slice would be alone. */
    int64_t most = (units + p.slices - 1) / p.slices * p.unit;
    p.direct = p.rows ? in_place(isa, g->packing, most, g->n, g->k)
                      : in_place(isa, g->packing, g->m, most, g->k);
    /* Slices of rows share op(B) packed when it is one block wide.  Slices
     * of columns pack op(A) each, unless they are narrow: a slice of c
     * columns packs m * kc floats for m * kc * c multiply-adds, while a
     * shared block costs two handovers per depth block, where threads
     * wait for the slowest (the 124M GPT's 256 x 768 products with k of
     * 768 to 50257 ran at 1.6-1.75x on two threads shared, 1.8-1.9x not). */
    bool share = p.rows ? (!p.direct || g->tb) && g->n <= NC
                        : !p.direct && most < SHARE_A_COLUMNS;
    if (!share) {
        tensor__parallel_for(p.slices, nt, slice, &p);
        return;
    }
    int64_t span = p.rows ? g->n : g->m;
    float *buf = p.rows ? b_buffer(isa, g->n, g->k) : a_buffer(isa, g->m, g->k);
    for (p.origin = 0; p.origin < span; p.origin += p.rows ? NC : MC) {
        p.extent = min64(span - p.origin, p.rows ? NC : MC);
        for (p.pc = 0; p.pc < g->k; p.pc = block_end(g, p.pc)) {
            p.kc = block_end(g, p.pc) - p.pc;
            p.t = depth_block(g, p.pc, p.kc);
            p.shared = pack_shared(nt, &p, buf);
            tensor__parallel_for(p.slices, nt, slice, &p);
        }
    }
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

#if SGEMM_X86
/* Columns [j0, j1) of a small product with op(B) = B^T: the widest kernel
 * first, then 8 columns at a time, then the plain loop. */
static void small_bt_columns(SMALL_ARGS, int64_t j0, int64_t j1)
{
    const float *bj = b + j0 * ldb;
    float *cj = c + j0;
    n = j1 - j0;
    const SgemmIsa *isa = current_isa();
    int64_t done = isa->small_bt ? isa->small_bt(ta, m, n, k, alpha, a, lda, bj, ldb, beta, cj, ldc)
                                 : 0;
    if (done < n)
        small_bt_avx2(ta, tb, m, n - done, k, alpha, a, lda, bj + done * ldb, ldb, beta, cj + done,
                      ldc);
}

/* One-row products as generation runs them (x @ W^T, W of 768 x 3072 or
 * 50257 x 768) stream all of W for a few FMAs per float: bound by memory,
 * so on the threads the columns go in chunks, from this many floats of W,
 * each column computed as on one thread. */
enum { SMALL_PARALLEL = ROW_PARALLEL, SMALL_CHUNK = 256 };

static void small_bt_chunk(void *ctx, int64_t s, int worker)
{
    const Gemm *g = ctx;
    int64_t j0 = s * SMALL_CHUNK, j1 = j0 + SMALL_CHUNK < g->n ? j0 + SMALL_CHUNK : g->n;
    (void)worker;
    small_bt_columns(g->ta, g->tb, g->m, g->n, g->k, g->alpha, g->a, g->lda, g->b, g->ldb,
                     g->beta, g->c, g->ldc, j0, j1);
}
#endif

static void small(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                  const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                  int64_t ldc)
{
#if SGEMM_X86
    if (current_isa()->fma && tb && n >= 8) {
        int nt = n * k >= SMALL_PARALLEL && n >= 2 * SMALL_CHUNK && !tensor__in_parallel()
                     ? tensor_get_num_threads()
                     : 1;
        if (nt > 1) {
            Gemm g = {.ta = ta, .tb = tb, .m = m, .n = n, .k = k, .lda = lda, .ldb = ldb,
                      .ldc = ldc, .alpha = alpha, .beta = beta, .a = a, .b = b, .c = c};
            tensor__parallel_for((n + SMALL_CHUNK - 1) / SMALL_CHUNK, nt, small_bt_chunk, &g);
        } else {
            small_bt_columns(SMALL_PASS, 0, n);
        }
        return;
    }
    if (current_isa()->fma) {
        small_fma(SMALL_PASS);
        return;
    }
#endif
    small_portable(SMALL_PASS);
}

/* One thread for small products and inside a task (a batch of products
 * already spread over the threads). */
static int threads_for(int64_t m, int64_t n, int64_t k, int unit)
{
    bool rows = m < 4 && n * k >= ROW_PARALLEL;
    if ((m * n * k < PARALLEL && !rows) || tensor__in_parallel()) return 1;
    int64_t tiles = (m >= n ? m : n) / unit;
    int64_t nt = tensor_get_num_threads();
    nt = nt < tiles ? nt : tiles;
    return nt > 1 ? (int)nt : 1;
}

int tensor__sgemm_batch_threads(int64_t count, int64_t m, int64_t n, int64_t k)
{
    if (count < 2 || m * n * k >= PARALLEL || count * m * n * k < PARALLEL) return 1;
    if (tensor__in_parallel()) return 1;
    int64_t nt = tensor_get_num_threads();
    return nt < count ? (int)nt : (int)count;
}

#ifdef ATTOGRAD_HAVE_BLAS
static int blas_on = -1;   /* -1: ATTOGRAD_BLAS decides at the first call */

void tensor__sgemm_set_blas(bool on) { blas_on = on; }

/* OpenBLAS takes large products when switched on, from the calling thread
 * only (it runs its own threads), and when the leading dimensions are ones
 * BLAS accepts (a broadcast row has 0). */
static bool blas_sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                       const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                       float *c, int64_t ldc)
{
    static int blas_threads;
    if (blas_on < 0) {
        const char *env = getenv("ATTOGRAD_BLAS");
        blas_on = env && env[0] == '1';
    }
    if (!blas_on || m * n * k < BLAS_MIN || tensor__in_parallel()) return false;
    if (lda < (ta ? m : k) || ldb < (tb ? k : n) || ldc < n || k < 1) return false;
    if (m > INT32_MAX || n > INT32_MAX || k > INT32_MAX || lda > INT32_MAX || ldb > INT32_MAX ||
        ldc > INT32_MAX)
        return false;
    if (blas_threads != tensor_get_num_threads()) {
        blas_threads = tensor_get_num_threads();
        openblas_set_num_threads(blas_threads);
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                (int)m, (int)n, (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
    return true;
}
#else
void tensor__sgemm_set_blas(bool on) { (void)on; }
#endif

void tensor__sgemm_tiny_batch(const SgemmBatch *g)
{
    TENSOR__ASSERT(tensor__sgemm_tiny(g->m, g->n, g->k) && g->nb <= SGEMM_MAX_BATCH);
    if (g->m <= 0 || g->n <= 0) return;
    for (int d = 0; d < g->nb; d++)
        if (g->shape[d] <= 0) return;
#if SGEMM_X86
    if (current_isa()->fma) {
        tiny_fma(g);
        return;
    }
#endif
    tiny_portable(g);
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
#ifdef ATTOGRAD_HAVE_BLAS
    if (blas_sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) return;
#endif
    const SgemmIsa *isa = current_isa();
    int nt = threads_for(m, n, k, m >= n ? isa->mr : isa->nr);
    Gemm g = {.ta = trans_a, .tb = trans_b, .m = m, .n = n, .k = k, .lda = lda, .ldb = ldb,
              .ldc = ldc, .alpha = alpha, .beta = beta, .a = a, .b = b, .c = c};
    if (nt > 1)
        parallel(nt, isa, &g);
    else
        blocked_on(isa, &g);
}

/* ---- the general entry: bands and bf16 ------------------------------------------ */

static int bf16_forced = -1;
static int bf16_chosen = -1;
static pthread_once_t bf16_once = PTHREAD_ONCE_INIT;

/* vdpbf16ps does 32 multiply-adds where an AVX-512 FMA does 16, but CPUs
 * issue it at different rates: on a Zen 4 it doubles the float32 rate, on
 * the Xeon (family 6 model 207) this was written on it runs at half the
 * FMAs' rate (85 against 170 GFLOP/s on one core).  Both give the same
 * bits, so the faster is taken, from a 2 ms register loop of each. */
static void choose_bf16(void)
{
    bf16_chosen = TENSOR__BF16_FMA;
    if (tensor__cpu_has_dpbf16() &&
        tensor__peak_dpbf16_gflops(0.002) > tensor__peak_fma_gflops(0.002))
        bf16_chosen = TENSOR__BF16_DP;
}

static int bf16_general(void)
{
    if (bf16_forced >= 0) return bf16_forced;
    pthread_once(&bf16_once, choose_bf16);
    return bf16_chosen;
}

/* Panels are bf16 pairs: vdpbf16ps reads them, or the plain loop. */
static int bf16_panels(void)
{
    if (bf16_forced == TENSOR__BF16_PAIRS || !tensor__cpu_has_dpbf16()) return TENSOR__BF16_PAIRS;
    return TENSOR__BF16_DP;
}

int tensor__sbgemm_set_kernel(int kernel)
{
    bf16_forced = kernel < 0 || kernel > TENSOR__BF16_PAIRS ? -1 : kernel;
    if (bf16_forced == TENSOR__BF16_DP && !tensor__cpu_has_dpbf16()) bf16_forced = -1;
    return bf16_general();
}

void tensor__gemm(const SgemmCall *c)
{
    if (c->m <= 0 || c->n <= 0) return;
    TENSOR__ASSERT(c->k_start >= 0 && c->k_start % 2 == 0);
    TENSOR__ASSERT(!c->panels || (c->bf16 && c->k_start == 0 && c->panels->k >= c->k &&
                                  c->panels->n >= c->n));
    int64_t phase = c->k_start % KC;
    if (c->k == 0 || (!c->bf16 && phase == 0)) {
        tensor__sgemm(c->ta, c->tb, c->m, c->n, c->k, c->alpha, c->a, c->lda, c->b, c->ldb,
                      c->beta, c->c, c->ldc);
        return;
    }
    Gemm g = {.ta = c->ta, .tb = c->tb, .m = c->m, .n = c->n, .k = c->k, .lda = c->lda,
              .ldb = c->ldb, .ldc = c->ldc, .alpha = c->alpha, .beta = c->beta, .a = c->a,
              .b = c->b, .c = c->c, .phase = phase, .panels = c->panels};
    const SgemmIsa *isa = current_isa();
    if (c->bf16) {
        int kernel = c->panels ? bf16_panels() : bf16_general();
        /* Without FMA a product that underflows would round twice. */
        if (kernel == TENSOR__BF16_FMA && !isa->fma) kernel = TENSOR__BF16_PAIRS;
        g.packing = kernel == TENSOR__BF16_FMA ? PACK_BF16 : PACK_PAIRS;
        if (kernel != TENSOR__BF16_FMA) isa = &tensor__pair_isas[kernel];
    }
    unsigned saved = c->bf16 ? tensor__flush_begin() : 0;
    int nt = threads_for(g.m, g.n, g.k, g.m >= g.n ? isa->mr : isa->nr);
    if (nt > 1)
        parallel(nt, isa, &g);
    else
        blocked_on(isa, &g);
    if (c->bf16) tensor__flush_end(saved);
}
