/*
 * sgemm micro-kernels (see sgemm_kernels.h): one rank-1 update of an
 * mr x nr tile of C per step p, the tile held in registers.
 *
 * AVX-512: 12 x 32, i.e. 12 rows of two 16-float vectors: 24 accumulators,
 * two loads of B and one broadcast of A in the 32 zmm registers, 24 FMAs per
 * 14 loads.  AVX2: 6 x 16 in the 16 ymm registers, as BLIS's Haswell kernel.
 * Portable: 4 x 16 in plain C, which compilers vectorize for the baseline.
 */
#include "sgemm.h"
#include "sgemm_kernels.h"

#if SGEMM_X86
#include <immintrin.h>
#endif

static void kernel_portable(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                            float alpha, float beta)
{
    float acc[4][16] = {{0}};
    for (int64_t p = 0; p < kc; p++, a += 4, b += 16)
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 16; j++) acc[i][j] += a[i] * b[j];
    for (int i = 0; i < 4; i++) {
        float *ci = c + i * ldc;
        for (int j = 0; j < 16; j++)
            ci[j] = beta == 0 ? alpha * acc[i][j] : alpha * acc[i][j] + beta * ci[j];
    }
}

#if SGEMM_X86
__attribute__((target("avx2,fma"))) static void
kernel_avx2(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, float alpha,
            float beta)
{
    __m256 acc[6][2];
    for (int i = 0; i < 6; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    for (int64_t p = 0; p < kc; p++, a += 6, b += 16) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        for (int i = 0; i < 6; i++) {
            __m256 ai = _mm256_broadcast_ss(a + i);
            acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    for (int i = 0; i < 6; i++) {
        float *ci = c + i * ldc;
        __m256 r0 = _mm256_mul_ps(va, acc[i][0]), r1 = _mm256_mul_ps(va, acc[i][1]);
        if (beta != 0) {
            r0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(ci), r0);
            r1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(ci + 8), r1);
        }
        _mm256_storeu_ps(ci, r0);
        _mm256_storeu_ps(ci + 8, r1);
    }
}

__attribute__((target("avx512f"))) static void
kernel_avx512(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, float alpha,
              float beta)
{
    __m512 acc[12][2];
    for (int i = 0; i < 12; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int64_t p = 0; p < kc; p++, a += 12, b += 32) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        for (int i = 0; i < 12; i++) {
            __m512 ai = _mm512_set1_ps(a[i]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int i = 0; i < 12; i++) {
        float *ci = c + i * ldc;
        __m512 r0 = _mm512_mul_ps(va, acc[i][0]), r1 = _mm512_mul_ps(va, acc[i][1]);
        if (beta != 0) {
            r0 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(ci), r0);
            r1 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(ci + 16), r1);
        }
        _mm512_storeu_ps(ci, r0);
        _mm512_storeu_ps(ci + 16, r1);
    }
}
#endif

const SgemmIsa tensor__sgemm_isas[] = {
    [TENSOR__SGEMM_PORTABLE] = {"portable", 4, 16, false, kernel_portable},
#if SGEMM_X86
    [TENSOR__SGEMM_AVX2] = {"avx2", 6, 16, true, kernel_avx2},
    [TENSOR__SGEMM_AVX512] = {"avx512", 12, 32, true, kernel_avx512},
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
