/*
 * sgemm micro-kernels (see sgemm_kernels.h): one rank-1 update of a tile of
 * C per step p, the tile held in registers.
 *
 * AVX-512: 12 x 32, i.e. 12 rows of two 16-float vectors: 24 accumulators,
 * two loads of B and one broadcast of A in the 32 zmm registers, 24 FMAs per
 * 14 loads.  It is compiled once per row count h = 1 .. 12 (so a short edge
 * tile costs only its rows) and uses masked loads and stores for the columns
 * past w, so it works on any tile and on operands read in place.
 * AVX2: 6 x 16 in the 16 ymm registers, as BLIS's Haswell kernel.
 * Portable: 4 x 16 in plain C, which compilers vectorize for the baseline.
 */
#include "sgemm.h"
#include "sgemm_kernels.h"
#include "vectorize.h"

#include <math.h>
#include <string.h>
#include <time.h>

#if SGEMM_X86
#include <immintrin.h>
#endif

static void kernel_portable(const SgemmTile *t)
{
    float acc[4][16] = {{0}};
    const float *a = t->a, *b = t->b;
    for (int64_t p = 0; p < t->kc; p++, a += 4, b += 16)
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 16; j++) acc[i][j] += a[i] * b[j];
    for (int i = 0; i < 4; i++) {
        float *ci = t->c + i * t->ldc;
        for (int j = 0; j < 16; j++)
            ci[j] = t->beta == 0 ? t->alpha * acc[i][j] : t->alpha * acc[i][j] + t->beta * ci[j];
    }
}

#if SGEMM_X86
/* Twelve named accumulators and kc in a local: with an array acc[6][2]
 * GCC 12 kept the tile in registers but also stored all twelve to the
 * stack on every step p (the array's address escapes its scalar
 * replacement), and re-read kc through t, which ran the kernel at 0.37x
 * of OpenBLAS's speed on an AVX2 Zen CPU.  The FMAs are the same, in the
 * same order: the results are unchanged. */
__attribute__((target("avx2,fma"))) static void kernel_avx2(const SgemmTile *t)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    const float *a = t->a, *b = t->b;
    const int64_t kc = t->kc;
    for (int64_t p = 0; p < kc; p++, a += 6, b += 16) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8), ai;
#define AVX2_ROW(i)                                  \
        ai = _mm256_broadcast_ss(a + (i));           \
        c##i##0 = _mm256_fmadd_ps(ai, b0, c##i##0);  \
        c##i##1 = _mm256_fmadd_ps(ai, b1, c##i##1);
        AVX2_ROW(0) AVX2_ROW(1) AVX2_ROW(2) AVX2_ROW(3) AVX2_ROW(4) AVX2_ROW(5)
#undef AVX2_ROW
    }
    __m256 acc[6][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    __m256 va = _mm256_set1_ps(t->alpha), vb = _mm256_set1_ps(t->beta);
    for (int i = 0; i < 6; i++) {
        float *ci = t->c + i * t->ldc;
        __m256 r0 = _mm256_mul_ps(va, acc[i][0]), r1 = _mm256_mul_ps(va, acc[i][1]);
        if (t->beta != 0) {
            r0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(ci), r0);
            r1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(ci + 8), r1);
        }
        _mm256_storeu_ps(ci, r0);
        _mm256_storeu_ps(ci + 8, r1);
    }
}

/* C's h x 32 tile (columns masked by m0, m1) = alpha * acc + beta * C,
 * beta's product fused in as the micro-kernels add it: both AVX-512 tiles,
 * float32 and vdpbf16ps, end so. */
static inline __attribute__((always_inline, target("avx512f"))) void
store_tile(const SgemmTile *t, const int h, __mmask16 m0, __mmask16 m1, __m512 (*acc)[2])
{
    __m512 va = _mm512_set1_ps(t->alpha), vb = _mm512_set1_ps(t->beta);
    _Pragma("GCC unroll 12") for (int i = 0; i < h; i++) {
        float *ci = t->c + i * t->ldc;
        __m512 r0 = _mm512_mul_ps(va, acc[i][0]), r1 = _mm512_mul_ps(va, acc[i][1]);
        if (t->beta != 0) {
            r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, ci), r0);
            r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, ci + 16), r1);
        }
        _mm512_mask_storeu_ps(ci, m0, r0);
        _mm512_mask_storeu_ps(ci + 16, m1, r1);
    }
}

/* The AVX-512 tile for a constant h.  unit_row: a_row is 1 (packed A, or
 * A^T read in place), so the h values of A sit at constant offsets from one
 * pointer; otherwise (A read in place by rows) they are a_row apart. */
static inline __attribute__((always_inline, target("avx512f"))) void
avx512_body(const SgemmTile *t, const int h, const bool unit_row, const bool full)
{
    const int w = full ? 32 : t->w;
    const __mmask16 m0 = w >= 16 ? 0xFFFF : (__mmask16)((1u << w) - 1);
    const __mmask16 m1 = w >= 32 ? 0xFFFF : w <= 16 ? 0 : (__mmask16)((1u << (w - 16)) - 1);
    const int64_t ar = unit_row ? 1 : t->a_row, as = t->a_step, bs = t->b_step;
    const float *a = t->a, *b = t->b;
    __m512 acc[12][2];
    _Pragma("GCC unroll 12") for (int i = 0; i < h; i++)
        acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    const int64_t kc = t->kc;
    if (full)   /* C's tile, read or written at the end, on its way while the sums run */
        _Pragma("GCC unroll 12") for (int i = 0; i < h; i++) {
            _mm_prefetch((const char *)(t->c + i * t->ldc), _MM_HINT_T0);
            _mm_prefetch((const char *)(t->c + i * t->ldc + 16), _MM_HINT_T0);
        }
    for (int64_t p = 0; p < kc; p++, a += as, b += bs) {
        __m512 b0 = full ? _mm512_loadu_ps(b) : _mm512_maskz_loadu_ps(m0, b);
        __m512 b1 = full ? _mm512_loadu_ps(b + 16) : _mm512_maskz_loadu_ps(m1, b + 16);
        _Pragma("GCC unroll 12") for (int i = 0; i < h; i++) {
            __m512 ai = _mm512_set1_ps(a[i * ar]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    store_tile(t, h, m0, m1, acc);
}

#define AVX512_H(h)                                                                       \
    __attribute__((target("avx512f"))) static void avx512_unit_##h(const SgemmTile *t)  \
    {                                                                                     \
        avx512_body(t, h, true, false);                                                   \
    }                                                                                     \
    __attribute__((target("avx512f"))) static void avx512_rows_##h(const SgemmTile *t)  \
    {                                                                                     \
        avx512_body(t, h, false, false);                                                  \
    }
AVX512_H(1) AVX512_H(2) AVX512_H(3) AVX512_H(4) AVX512_H(5) AVX512_H(6)
AVX512_H(7) AVX512_H(8) AVX512_H(9) AVX512_H(10) AVX512_H(11) AVX512_H(12)
#undef AVX512_H

static const SgemmKernel avx512_unit[13] = {
    NULL, avx512_unit_1, avx512_unit_2, avx512_unit_3, avx512_unit_4, avx512_unit_5,
    avx512_unit_6, avx512_unit_7, avx512_unit_8, avx512_unit_9, avx512_unit_10,
    avx512_unit_11, avx512_unit_12,
};
static const SgemmKernel avx512_rows[13] = {
    NULL, avx512_rows_1, avx512_rows_2, avx512_rows_3, avx512_rows_4, avx512_rows_5,
    avx512_rows_6, avx512_rows_7, avx512_rows_8, avx512_rows_9, avx512_rows_10,
    avx512_rows_11, avx512_rows_12,
};

/* Whole 12 x 32 tiles, the bulk of a large product, load B~'s rows
 * unmasked: a masked load costs a uop on the port the second FMA unit
 * shares (with the mask moves the compiler puts in the loop), about one
 * cycle in fourteen of the tile's loop. */
__attribute__((target("avx512f"))) static void avx512_unit_full(const SgemmTile *t)
{
    avx512_body(t, 12, true, true);
}
__attribute__((target("avx512f"))) static void avx512_rows_full(const SgemmTile *t)
{
    avx512_body(t, 12, false, true);
}

static void kernel_avx512(const SgemmTile *t)
{
    bool unit = t->a_row == 1;
    if (t->h == 12 && t->w == 32)
        (unit ? avx512_unit_full : avx512_rows_full)(t);
    else
        (unit ? avx512_unit : avx512_rows)[t->h](t);
}

/* r[q][j] = r[j][q]: a 16 x 16 transpose in registers (pairs, quads, then
 * 128-bit lanes twice). */
__attribute__((target("avx512f"))) static inline void transpose16(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
        __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[4 + i], 0x88);
        t[4 + i] = _mm512_shuffle_f32x4(r[i], r[4 + i], 0xdd);
        t[8 + i] = _mm512_shuffle_f32x4(r[8 + i], r[12 + i], 0x88);
        t[12 + i] = _mm512_shuffle_f32x4(r[8 + i], r[12 + i], 0xdd);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0x88);
        r[8 + i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0xdd);
        r[4 + i] = _mm512_shuffle_f32x4(t[4 + i], t[12 + i], 0x88);
        r[12 + i] = _mm512_shuffle_f32x4(t[4 + i], t[12 + i], 0xdd);
    }
}

/* x rounded to bf16 as tensor__bf16_round does, 16 at a time: NaN to
 * 0x7FC0, else the top half rounded to nearest even. */
__attribute__((target("avx512f"))) static inline __m512 round_bf16(__m512 x)
{
    __m512i u = _mm512_castps_si512(x);
    __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7fff)));
    r = _mm512_and_si512(r, _mm512_set1_epi32((int)0xffff0000u));
    __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)),
                                            _mm512_set1_epi32(0x7f800000));
    return _mm512_castsi512_ps(_mm512_mask_mov_epi32(r, nan, _mm512_set1_epi32(0x7fc00000)));
}

/* B~ panels of 32 columns from op(B) = B^T, B stored (nc, kc) with row
 * stride ldb: 16 x 16 blocks are loaded along B's rows, transposed in
 * registers and stored as rows of the panel.  Masked loads read nothing
 * past column nc or depth kc and leave zeros there. */
__attribute__((target("avx512f"))) static void pack_bt_avx512(const float *b, int64_t ldb,
                                                               int64_t kc, int64_t nc,
                                                               float *dst, bool round)
{
    for (int64_t j0 = 0; j0 < nc; j0 += 32, dst += 32 * kc) {
        for (int64_t half = 0; half < 32; half += 16) {
            int64_t w = nc - j0 - half;
            for (int64_t p = 0; p < kc; p += 16) {
                int64_t d = kc - p < 16 ? kc - p : 16;
                __mmask16 mask = (__mmask16)((1u << d) - 1);
                __m512 r[16];
                for (int i = 0; i < 16; i++)
                    r[i] = i < w ? _mm512_maskz_loadu_ps(mask, b + (j0 + half + i) * ldb + p)
                                 : _mm512_setzero_ps();
                if (round)
                    for (int i = 0; i < 16; i++) r[i] = round_bf16(r[i]);
                transpose16(r);
                for (int q = 0; q < d; q++) _mm512_storeu_ps(dst + (p + q) * 32 + half, r[q]);
            }
        }
    }
}

/* small_bt (sgemm_kernels.h) 16 columns at a time: 16 rows of B read a
 * cache line each, transposed in registers, so that 16 columns of C
 * accumulate in one vector, depth after depth (a tail of fewer than 16
 * depths is loaded masked and only its depths are added).  Each line read
 * asks L2 for the same line of the next 16 rows: the sixteen short
 * streams (3 KB a row in GPT-2) kept one core at 12.4 GB/s from memory,
 * 15.2 with the prefetches (its stream-like read's rate), 24 and 29.5
 * on two. */
__attribute__((target("avx512f"))) static int64_t
small_bt_avx512(bool ta, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        const float *bj = b + j * ldb;
        for (int64_t i = 0; i < m; i++) {
            float *ci = c + i * ldc + j;
            bool ahead = i == 0 && j + 32 <= n;
            for (int64_t pc = 0; pc == 0 || pc < k; pc += SGEMM_KC) {
                int64_t pe = k - pc < SGEMM_KC ? k : pc + SGEMM_KC;
                __m512 acc = _mm512_setzero_ps();
                for (int64_t p = pc; p < pe; p += 16) {
                    int64_t d = pe - p < 16 ? pe - p : 16;
                    __mmask16 mask = (__mmask16)((1u << d) - 1);
                    __m512 r[16];
                    for (int q = 0; q < 16; q++) r[q] = _mm512_maskz_loadu_ps(mask, bj + q * ldb + p);
                    if (ahead)   /* the next 16 rows' same cache lines, into L2 */
                        for (int q = 16; q < 32; q++)
                            _mm_prefetch((const char *)(bj + q * ldb + p), _MM_HINT_T1);
                    transpose16(r);
                    if (d == 16 && !ta) {   /* a whole chunk: no test per depth */
                        const float *ai = a + i * lda + p;
                        _Pragma("GCC unroll 16") for (int q = 0; q < 16; q++)
                            acc = _mm512_fmadd_ps(_mm512_set1_ps(ai[q]), r[q], acc);
                    } else {
                        for (int q = 0; q < d; q++) {
                            float aip = ta ? a[(p + q) * lda + i] : a[i * lda + p + q];
                            acc = _mm512_fmadd_ps(_mm512_set1_ps(aip), r[q], acc);
                        }
                    }
                }
                float bc = pc == 0 ? beta : 1.0f;   /* later blocks add */
                __m512 r = _mm512_mul_ps(_mm512_set1_ps(alpha), acc);
                if (bc != 0) r = _mm512_fmadd_ps(_mm512_set1_ps(bc), _mm512_loadu_ps(ci), r);
                _mm512_storeu_ps(ci, r);
            }
        }
    }
    return j;
}

/* B~ panels of 32 columns from op(B) = B, B stored (kc, nc) with row
 * stride ldb: a row of B is read once, front to back (DRAM streams it),
 * and its runs of 32 go to the panels; the last panel's columns past nc
 * are zeros. */
__attribute__((target("avx512f"))) static void pack_b_avx512(const float *b, int64_t ldb,
                                                              int64_t kc, int64_t nc, float *dst,
                                                              bool round)
{
    for (int64_t p = 0; p < kc; p++) {
        const float *src = b + p * ldb;
        float *d = dst + p * 32;
        for (int64_t j0 = 0; j0 < nc; j0 += 32, d += 32 * kc) {
            int64_t w = nc - j0;
            __m512 lo, hi;
            if (w >= 32) {
                lo = _mm512_loadu_ps(src + j0);
                hi = _mm512_loadu_ps(src + j0 + 16);
            } else {
                __mmask16 m0 = w >= 16 ? 0xFFFF : (__mmask16)((1u << w) - 1);
                __mmask16 m1 = w <= 16 ? 0 : (__mmask16)((1u << (w - 16)) - 1);
                lo = _mm512_maskz_loadu_ps(m0, src + j0);
                hi = _mm512_maskz_loadu_ps(m1, src + j0 + 16);
            }
            if (round) {
                lo = round_bf16(lo);
                hi = round_bf16(hi);
            }
            _mm512_storeu_ps(d, lo);
            _mm512_storeu_ps(d + 16, hi);
        }
    }
}

/* A~ panels of 12 rows from op(A) = A^T, A stored (kc, mc) with row stride
 * lda: as pack_b_avx512, a row of A at a time, its runs of 12 to the
 * panels; rows past mc are zeros. */
__attribute__((target("avx512f"))) static void pack_at_avx512(const float *a, int64_t lda,
                                                               int64_t mc, int64_t kc,
                                                               float *dst, bool round)
{
    for (int64_t p = 0; p < kc; p++) {
        const float *src = a + p * lda;
        float *d = dst + p * 12;
        for (int64_t i0 = 0; i0 < mc; i0 += 12, d += 12 * kc) {
            int64_t h = mc - i0 < 12 ? mc - i0 : 12;
            __m512 v = _mm512_maskz_loadu_ps((__mmask16)((1u << h) - 1), src + i0);
            if (round) v = round_bf16(v);
            _mm512_mask_storeu_ps(d, 0x0fff, v);
        }
    }
}

/* A~ panels of 12 rows from op(A) = A, A stored (mc, kc) with row stride
 * lda: as pack_bt_avx512, 12 rows (and 4 of zeros) by 16 depths at a time,
 * transposed, each depth's 12 values stored. */
__attribute__((target("avx512f"))) static void pack_a_avx512(const float *a, int64_t lda,
                                                              int64_t mc, int64_t kc, float *dst,
                                                              bool round)
{
    for (int64_t i0 = 0; i0 < mc; i0 += 12, dst += 12 * kc) {
        int64_t h = mc - i0;
        for (int64_t p = 0; p < kc; p += 16) {
            int64_t d = kc - p < 16 ? kc - p : 16;
            __mmask16 mask = (__mmask16)((1u << d) - 1);
            __m512 r[16];
            for (int i = 0; i < 16; i++)
                r[i] = i < 12 && i < h ? _mm512_maskz_loadu_ps(mask, a + (i0 + i) * lda + p)
                                       : _mm512_setzero_ps();
            if (round)
                for (int i = 0; i < 12; i++) r[i] = round_bf16(r[i]);
            transpose16(r);
            for (int q = 0; q < d; q++) _mm512_mask_storeu_ps(dst + (p + q) * 12, 0x0fff, r[q]);
        }
    }
}
#endif

/* ---- bf16 pairs ------------------------------------------------------------------ */

/* The two depths of a pair as floats (exact: a bf16 is a float's top half):
 * the first (high half) and the second (low half). */
static inline float pair_first(uint32_t u)
{
    u &= 0xffff0000u;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static inline float pair_second(uint32_t u)
{
    u <<= 16;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* Plain C over pairs, 4 x 32 (whole tiles): per pair, the first depth's
 * fused multiply-add, then the second's, as vdpbf16ps; the flush to zero
 * comes from the mode the product sets (sgemm.c).  Compiled for x86-64-v3
 * too, where fmaf is one instruction. */
TENSOR__VECTORIZE static void kernel_pairs(const SgemmTile *t)
{
    float acc[4][32] = {{0}};
    const uint32_t *a = (const uint32_t *)(const void *)t->a;
    const uint32_t *b = (const uint32_t *)(const void *)t->b;
    for (int64_t q = 0; q < t->kc; q++, a += t->a_step, b += t->b_step)
        for (int i = 0; i < 4; i++) {
            float a1 = pair_first(a[i]), a2 = pair_second(a[i]);
            for (int j = 0; j < 32; j++) {
                acc[i][j] = fmaf(a1, pair_first(b[j]), acc[i][j]);
                acc[i][j] = fmaf(a2, pair_second(b[j]), acc[i][j]);
            }
        }
    for (int i = 0; i < 4; i++) {
        float *ci = t->c + i * t->ldc;
        for (int j = 0; j < 32; j++) {
            float r = t->alpha * acc[i][j];
            ci[j] = t->beta == 0 ? r : fmaf(t->beta, ci[j], r);
        }
    }
}

#if SGEMM_X86
/* vdpbf16ps, 12 x 32 as the float32 AVX-512 kernel (h rows, masked
 * columns): per pair step two loads of B~ and one broadcast per row. */
static inline __attribute__((always_inline, target("avx512f,avx512bf16"))) void
dp_body(const SgemmTile *t, const int h)
{
    const int w = t->w;
    const __mmask16 m0 = w >= 16 ? 0xFFFF : (__mmask16)((1u << w) - 1);
    const __mmask16 m1 = w >= 32 ? 0xFFFF : w <= 16 ? 0 : (__mmask16)((1u << (w - 16)) - 1);
    const uint32_t *a = (const uint32_t *)(const void *)t->a;
    const uint32_t *b = (const uint32_t *)(const void *)t->b;
    const int64_t as = t->a_step, bs = t->b_step;
    __m512 acc[12][2];
    _Pragma("GCC unroll 12") for (int i = 0; i < h; i++)
        acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int64_t q = 0; q < t->kc; q++, a += as, b += bs) {
        __m512bh b0 = (__m512bh)_mm512_maskz_loadu_epi32(m0, b);
        __m512bh b1 = (__m512bh)_mm512_maskz_loadu_epi32(m1, b + 16);
        _Pragma("GCC unroll 12") for (int i = 0; i < h; i++) {
            __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[i]);
            acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
            acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
        }
    }
    store_tile(t, h, m0, m1, acc);
}

#define DP_H(h)                                                                         \
    __attribute__((target("avx512f,avx512bf16"))) static void dp_##h(const SgemmTile *t) \
    {                                                                                   \
        dp_body(t, h);                                                                  \
    }
DP_H(1) DP_H(2) DP_H(3) DP_H(4) DP_H(5) DP_H(6) DP_H(7) DP_H(8) DP_H(9) DP_H(10) DP_H(11) DP_H(12)
#undef DP_H

static const SgemmKernel dp_rows[13] = {
    NULL, dp_1, dp_2, dp_3, dp_4, dp_5, dp_6, dp_7, dp_8, dp_9, dp_10, dp_11, dp_12,
};

static void kernel_dp(const SgemmTile *t) { dp_rows[t->h](t); }

/* One row against s panels at once (SgemmIsa.row), the sums as dp_1's.
 * Each panel is a stream read front to back, prefetched a kilobyte ahead:
 * over GPT-2's bf16 panels one core read 9.5 GB/s from one stream, 12.5
 * from eight, and 15 (its stream-like read's rate) with the prefetches. */
enum { ROW_AHEAD = 256 };   /* pairs: 1 KB */
static inline __attribute__((always_inline, target("avx512f,avx512bf16"))) void
dp_row_body(const SgemmTile *t, const int s)
{
    const int last = t->w - 32 * (s - 1);
    const __mmask16 m0 = last >= 16 ? 0xFFFF : (__mmask16)((1u << last) - 1);
    const __mmask16 m1 = last >= 32 ? 0xFFFF : last <= 16 ? 0 : (__mmask16)((1u << (last - 16)) - 1);
    const uint32_t *a = (const uint32_t *)(const void *)t->a;
    const uint32_t *b = (const uint32_t *)(const void *)t->b;
    const int64_t as = t->a_step, bs = t->b_step, panel = t->b_panel;
    __m512 acc[SGEMM_ROW_PANELS][2];
    _Pragma("GCC unroll 8") for (int i = 0; i < s; i++)
        acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int64_t q = 0; q < t->kc; q++, a += as, b += bs) {
        __m512bh aq = (__m512bh)_mm512_set1_epi32((int)a[0]);
        _Pragma("GCC unroll 8") for (int i = 0; i < s; i++) {
            const uint32_t *bi = b + i * panel;
            _mm_prefetch((const char *)(bi + ROW_AHEAD), _MM_HINT_T0);
            _mm_prefetch((const char *)(bi + ROW_AHEAD + 16), _MM_HINT_T0);
            __m512bh b0 = (__m512bh)(i < s - 1 ? _mm512_loadu_si512(bi)
                                               : _mm512_maskz_loadu_epi32(m0, bi));
            __m512bh b1 = (__m512bh)(i < s - 1 ? _mm512_loadu_si512(bi + 16)
                                               : _mm512_maskz_loadu_epi32(m1, bi + 16));
            acc[i][0] = _mm512_dpbf16_ps(acc[i][0], aq, b0);
            acc[i][1] = _mm512_dpbf16_ps(acc[i][1], aq, b1);
        }
    }
    /* store_tile's epilogue: the whole panels as rows 32 floats apart, then the last. */
    SgemmTile whole = *t;
    whole.ldc = 32;
    if (s > 1) store_tile(&whole, s - 1, 0xFFFF, 0xFFFF, acc);
    whole.c = t->c + 32 * (s - 1);
    store_tile(&whole, 1, m0, m1, acc + (s - 1));
}

#define DP_ROW(s)                                                                           \
    __attribute__((target("avx512f,avx512bf16"))) static void dp_row_##s(const SgemmTile *t) \
    {                                                                                       \
        dp_row_body(t, s);                                                                  \
    }
DP_ROW(1) DP_ROW(2) DP_ROW(3) DP_ROW(4) DP_ROW(5) DP_ROW(6) DP_ROW(7) DP_ROW(8)
#undef DP_ROW

static const SgemmKernel dp_row_panels[SGEMM_ROW_PANELS + 1] = {
    NULL, dp_row_1, dp_row_2, dp_row_3, dp_row_4, dp_row_5, dp_row_6, dp_row_7, dp_row_8,
};

static void row_dp(const SgemmTile *t) { dp_row_panels[(t->w + 31) / 32](t); }
#endif

bool tensor__cpu_has_dpbf16(void)
{
#if SGEMM_X86
    return __builtin_cpu_supports("avx512bf16");
#else
    return false;
#endif
}

const SgemmIsa tensor__pair_isas[] = {
#if SGEMM_X86
    [TENSOR__BF16_DP] = {"dpbf16", 12, SGEMM_PANEL, true, true, kernel_dp, NULL, NULL, NULL, NULL,
                         NULL, row_dp},
#else
    [TENSOR__BF16_DP] = {"dpbf16", 4, SGEMM_PANEL, false, false, kernel_pairs, NULL, NULL, NULL,
                         NULL, NULL, NULL},
#endif
    [TENSOR__BF16_PAIRS] = {"pairs", 4, SGEMM_PANEL, false, false, kernel_pairs, NULL, NULL, NULL,
                            NULL, NULL, NULL},
};

/* ---- peaks: register-only loops ---------------------------------------------------- */

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* 24 independent accumulators (more than the latency times the ports), one
 * instruction each per round; the operands are normal numbers, so that no
 * subnormal slow path is measured.  Returns the sum so that nothing is
 * optimised away. */
#if SGEMM_X86
enum { PEAK_CHAINS = 24 };

__attribute__((target("avx512f"), noinline)) static float fma512_rounds(int64_t rounds)
{
    __m512 c[PEAK_CHAINS], a = _mm512_set1_ps(0.5f), b = _mm512_set1_ps(0.25f);
    for (int i = 0; i < PEAK_CHAINS; i++) c[i] = _mm512_set1_ps((float)i);
    for (int64_t r = 0; r < rounds; r++) {
        _Pragma("GCC unroll 24") for (int i = 0; i < PEAK_CHAINS; i++)
            c[i] = _mm512_fmadd_ps(a, b, c[i]);
        __asm__ volatile("" : "+v"(a));
    }
    __m512 s = c[0];
    for (int i = 1; i < PEAK_CHAINS; i++) s = _mm512_add_ps(s, c[i]);
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"), noinline)) static float fma256_rounds(int64_t rounds)
{
    enum { CHAINS = 12 };
    __m256 c[CHAINS], a = _mm256_set1_ps(0.5f), b = _mm256_set1_ps(0.25f);
    for (int i = 0; i < CHAINS; i++) c[i] = _mm256_set1_ps((float)i);
    for (int64_t r = 0; r < rounds; r++) {
        _Pragma("GCC unroll 12") for (int i = 0; i < CHAINS; i++)
            c[i] = _mm256_fmadd_ps(a, b, c[i]);
        __asm__ volatile("" : "+x"(a));
    }
    float out[8];
    __m256 s = c[0];
    for (int i = 1; i < CHAINS; i++) s = _mm256_add_ps(s, c[i]);
    _mm256_storeu_ps(out, s);
    return out[0];
}

__attribute__((target("avx512f,avx512bf16"), noinline)) static float dp_rounds(int64_t rounds)
{
    __m512 c[PEAK_CHAINS];
    __m512bh a = (__m512bh)_mm512_set1_epi32(0x3f003f00);   /* 0.5, 0.5 */
    __m512bh b = (__m512bh)_mm512_set1_epi32(0x3e803e80);   /* 0.25, 0.25 */
    for (int i = 0; i < PEAK_CHAINS; i++) c[i] = _mm512_set1_ps((float)i);
    for (int64_t r = 0; r < rounds; r++) {
        _Pragma("GCC unroll 24") for (int i = 0; i < PEAK_CHAINS; i++)
            c[i] = _mm512_dpbf16_ps(c[i], a, b);
        __asm__ volatile("" : "+v"(a));
    }
    __m512 s = c[0];
    for (int i = 1; i < PEAK_CHAINS; i++) s = _mm512_add_ps(s, c[i]);
    return _mm512_reduce_add_ps(s);
}
#endif

/* GFLOP/s of rounds(n), each round `flops`, best of repetitions filling
 * about `seconds`. */
static double peak(float (*rounds)(int64_t), double flops, double seconds)
{
    volatile float sink = rounds(1000);   /* warm-up: the vector unit's power-up */
    int64_t n = 1000;
    double best = 0, spent = 0;
    while (spent < seconds) {
        double t0 = seconds_now();
        sink = rounds(n);
        double dt = seconds_now() - t0;
        spent += dt;
        if (dt > 0 && (double)n * flops / dt > best) best = (double)n * flops / dt;
        if (dt < seconds / 20) n *= 2;
    }
    (void)sink;
    return best * 1e-9;
}

double tensor__peak_fma_gflops(double seconds)
{
#if SGEMM_X86
    if (__builtin_cpu_supports("avx512f")) return peak(fma512_rounds, PEAK_CHAINS * 32.0, seconds);
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return peak(fma256_rounds, 12 * 16.0, seconds);
#endif
    (void)seconds;
    return 0;
}

double tensor__peak_dpbf16_gflops(double seconds)
{
#if SGEMM_X86
    if (tensor__cpu_has_dpbf16()) return peak(dp_rounds, PEAK_CHAINS * 64.0, seconds);
#endif
    (void)seconds;
    return 0;
}

const SgemmIsa tensor__sgemm_isas[] = {
    [TENSOR__SGEMM_PORTABLE] = {"portable", 4, 16, false, false, kernel_portable, NULL, NULL,
                                NULL, NULL, NULL, NULL},
#if SGEMM_X86
    [TENSOR__SGEMM_AVX2] = {"avx2", 6, 16, true, false, kernel_avx2, NULL, NULL, NULL, NULL,
                            NULL, NULL},
    [TENSOR__SGEMM_AVX512] = {"avx512", 12, 32, true, true, kernel_avx512, pack_a_avx512,
                              pack_bt_avx512, pack_at_avx512, pack_b_avx512, small_bt_avx512,
                              NULL},
#endif
};

int tensor__sgemm_best_isa(void)
{
#if SGEMM_X86
    static int best = -1;
    if (best < 0) {
        if (__builtin_cpu_supports("avx512f"))
            best = TENSOR__SGEMM_AVX512;
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            best = TENSOR__SGEMM_AVX2;
        else
            best = TENSOR__SGEMM_PORTABLE;
    }
    return best;
#else
    return TENSOR__SGEMM_PORTABLE;
#endif
}
