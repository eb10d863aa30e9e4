/*
 * Sums over contiguous floats: in PyTorch's lane order (softmax), and in
 * double over eight lanes (reductions and losses).
 */
#include "kernels/kernels.h"

#include <string.h>

/*
 * Sums in the order of PyTorch's vec::reduce_all on AVX2, because float
 * addition is not associative and this order is what makes softmax match
 * bit for bit: fewer than 8 values are added left to right; otherwise 8 lane
 * accumulators take every 8th value (a tail only reaches the first lanes)
 * and fold_lanes() adds the lanes as a tree.
 */
static float fold_lanes(float *acc)
{
    for (int l = 0; l < 4; l++) acc[l] += acc[l + 4];
    acc[0] += acc[2];
    acc[1] += acc[3];
    return acc[0] + acc[1];
}

float tensor__lane_sum(const float *v, int64_t n)
{
    if (n < TENSOR__LANES) {
        float s = n ? v[0] : 0.0f;
        for (int64_t i = 1; i < n; i++) s += v[i];
        return s;
    }
    float acc[TENSOR__LANES];
    memcpy(acc, v, sizeof acc);
    int64_t i = TENSOR__LANES;
    for (; i + TENSOR__LANES <= n; i += TENSOR__LANES)
        for (int l = 0; l < TENSOR__LANES; l++) acc[l] += v[i + l];
    for (int l = 0; i + l < n; l++) acc[l] += v[i + l];
    return fold_lanes(acc);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
/* The lanes' loop of tensor__lane_dot on AVX: the same double products and
 * sums, eight lanes at once (GCC vectorised the plain loop two lanes wide:
 * 3% of a causal attention step went to it).  Returns where it stopped. */
__attribute__((target("avx"))) static int64_t dot_lanes_avx(const float *a, const float *b,
                                                             int64_t i, int64_t n, float *acc)
{
    __m256 sum = _mm256_loadu_ps(acc);
    __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(sum));
    __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(sum, 1));
    for (; i + TENSOR__LANES <= n; i += TENSOR__LANES) {
        __m256 x = _mm256_loadu_ps(a + i), y = _mm256_loadu_ps(b + i);
        __m256d plo = _mm256_mul_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(x)),
                                    _mm256_cvtps_pd(_mm256_castps256_ps128(y)));
        __m256d phi = _mm256_mul_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)),
                                    _mm256_cvtps_pd(_mm256_extractf128_ps(y, 1)));
        /* each lane rounded to float after its addition, as the scalar loop */
        lo = _mm256_cvtps_pd(_mm256_cvtpd_ps(_mm256_add_pd(plo, lo)));
        hi = _mm256_cvtps_pd(_mm256_cvtpd_ps(_mm256_add_pd(phi, hi)));
    }
    _mm_storeu_ps(acc, _mm256_cvtpd_ps(lo));
    _mm_storeu_ps(acc + 4, _mm256_cvtpd_ps(hi));
    return i;
}
#endif

/* sum(a * b) in the same order; past the first 8 products each product is
 * fused into its lane's addition, as in PyTorch. */
float tensor__lane_dot(const float *a, const float *b, int64_t n)
{
    if (n < TENSOR__LANES) {
        float s = n ? a[0] * b[0] : 0.0f;
        for (int64_t i = 1; i < n; i++) s += a[i] * b[i];
        return s;
    }
    float acc[TENSOR__LANES];
    for (int l = 0; l < TENSOR__LANES; l++) acc[l] = a[l] * b[l];
    int64_t i = TENSOR__LANES;
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx")) i = dot_lanes_avx(a, b, i, n, acc);
#endif
    for (; i + TENSOR__LANES <= n; i += TENSOR__LANES)
        for (int l = 0; l < TENSOR__LANES; l++) acc[l] = tensor__fused_mul_add(a[i + l], b[i + l], acc[l]);
    for (int l = 0; i + l < n; l++) acc[l] = tensor__fused_mul_add(a[i + l], b[i + l], acc[l]);
    return fold_lanes(acc);
}

/* Eight independent double accumulators: the compiler can vectorise them
 * (a single running sum is a serial dependency it must keep in order).
 * squared_diff: add (a - b)^2, the square in float as PyTorch computes it;
 * otherwise add a.  Inlined with a constant flag, so each caller's loop has
 * no branch. */
static inline __attribute__((always_inline)) double
sum8(const float *a, const float *b, int64_t n, bool squared_diff)
{
    double lane[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) {
            float d = squared_diff ? a[i + k] - b[i + k] : a[i + k];
            lane[k] += squared_diff ? (double)(d * d) : (double)d;
        }
    double s = ((lane[0] + lane[1]) + (lane[2] + lane[3])) +
               ((lane[4] + lane[5]) + (lane[6] + lane[7]));
    for (; i < n; i++) {
        float d = squared_diff ? a[i] - b[i] : a[i];
        s += squared_diff ? (double)(d * d) : (double)d;
    }
    return s;
}

double tensor__sum_f64(const float *x, int64_t n) { return sum8(x, NULL, n, false); }

double tensor__sum_squared_diff_f64(const float *a, const float *b, int64_t n)
{
    return sum8(a, b, n, true);
}
