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

/* The AVX-512 tile for a constant h.  unit_row: a_row is 1 (packed A, or
 * A^T read in place), so the h values of A sit at constant offsets from one
 * pointer; otherwise (A read in place by rows) they are a_row apart. */
static inline __attribute__((always_inline, target("avx512f"))) void
avx512_body(const SgemmTile *t, const int h, const bool unit_row)
{
    const int w = t->w;
    const __mmask16 m0 = w >= 16 ? 0xFFFF : (__mmask16)((1u << w) - 1);
    const __mmask16 m1 = w >= 32 ? 0xFFFF : w <= 16 ? 0 : (__mmask16)((1u << (w - 16)) - 1);
    const int64_t ar = unit_row ? 1 : t->a_row, as = t->a_step, bs = t->b_step;
    const float *a = t->a, *b = t->b;
    __m512 acc[12][2];
    _Pragma("GCC unroll 12") for (int i = 0; i < h; i++)
        acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int64_t p = 0; p < t->kc; p++, a += as, b += bs) {
        __m512 b0 = _mm512_maskz_loadu_ps(m0, b), b1 = _mm512_maskz_loadu_ps(m1, b + 16);
        _Pragma("GCC unroll 12") for (int i = 0; i < h; i++) {
            __m512 ai = _mm512_set1_ps(a[i * ar]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
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

#define AVX512_H(h)                                                                       \
    __attribute__((target("avx512f"))) static void avx512_unit_##h(const SgemmTile *t)  \
    {                                                                                     \
        avx512_body(t, h, true);                                                          \
    }                                                                                     \
    __attribute__((target("avx512f"))) static void avx512_rows_##h(const SgemmTile *t)  \
    {                                                                                     \
        avx512_body(t, h, false);                                                         \
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

static void kernel_avx512(const SgemmTile *t)
{
    (t->a_row == 1 ? avx512_unit : avx512_rows)[t->h](t);
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

/* B~ panels of 32 columns from op(B) = B^T, B stored (nc, kc) with row
 * stride ldb: 16 x 16 blocks are loaded along B's rows, transposed in
 * registers and stored as rows of the panel.  Masked loads read nothing
 * past column nc or depth kc and leave zeros there. */
__attribute__((target("avx512f"))) static void pack_bt_avx512(const float *b, int64_t ldb,
                                                               int64_t kc, int64_t nc,
                                                               float *dst)
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
                transpose16(r);
                for (int q = 0; q < d; q++) _mm512_storeu_ps(dst + (p + q) * 32 + half, r[q]);
            }
        }
    }
}
#endif

const SgemmIsa tensor__sgemm_isas[] = {
    [TENSOR__SGEMM_PORTABLE] = {"portable", 4, 16, false, false, kernel_portable, NULL},
#if SGEMM_X86
    [TENSOR__SGEMM_AVX2] = {"avx2", 6, 16, true, false, kernel_avx2, NULL},
    [TENSOR__SGEMM_AVX512] = {"avx512", 12, 32, true, true, kernel_avx512, pack_bt_avx512},
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
