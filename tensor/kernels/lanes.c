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

enum { ROWS_AT_ONCE = 4 };   /* rows whose dots run side by side */

/* One lane's step of the dot: the product exact in double, the sum rounded
 * once to double and once to float (tensor__fused_mul_add). */
static inline void dot_tail(const float *a, const float *b, int64_t i, int64_t n, float *acc)
{
    for (; i + TENSOR__LANES <= n; i += TENSOR__LANES)
        for (int l = 0; l < TENSOR__LANES; l++)
            acc[l] = tensor__fused_mul_add(a[i + l], b[i + l], acc[l]);
    for (int l = 0; i + l < n; l++) acc[l] = tensor__fused_mul_add(a[i + l], b[i + l], acc[l]);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* The lanes' loop of R rows' dots on AVX, row r's a and b n floats after
 * row r - 1's: the same double products and sums as dot_tail, eight lanes
 * of a row at once.  Each lane is a chain (add, round to float, back to
 * double: about 16 cycles a step), so rows run side by side.  acc holds
 * each row's eight lanes; returns where the rows stopped. */
static inline __attribute__((always_inline, target("avx"))) int64_t
dots_avx(const float *a, const float *b, int64_t n, float (*acc)[TENSOR__LANES], const int R)
{
    __m256d lo[ROWS_AT_ONCE], hi[ROWS_AT_ONCE];
    for (int r = 0; r < R; r++) {
        __m256 sum = _mm256_loadu_ps(acc[r]);
        lo[r] = _mm256_cvtps_pd(_mm256_castps256_ps128(sum));
        hi[r] = _mm256_cvtps_pd(_mm256_extractf128_ps(sum, 1));
    }
    int64_t i = TENSOR__LANES;
    for (; i + TENSOR__LANES <= n; i += TENSOR__LANES)
        for (int r = 0; r < R; r++) {
            __m256 x = _mm256_loadu_ps(a + r * n + i), y = _mm256_loadu_ps(b + r * n + i);
            __m256d plo = _mm256_mul_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(x)),
                                        _mm256_cvtps_pd(_mm256_castps256_ps128(y)));
            __m256d phi = _mm256_mul_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)),
                                        _mm256_cvtps_pd(_mm256_extractf128_ps(y, 1)));
            lo[r] = _mm256_cvtps_pd(_mm256_cvtpd_ps(_mm256_add_pd(plo, lo[r])));
            hi[r] = _mm256_cvtps_pd(_mm256_cvtpd_ps(_mm256_add_pd(phi, hi[r])));
        }
    for (int r = 0; r < R; r++) {
        _mm_storeu_ps(acc[r], _mm256_cvtpd_ps(lo[r]));
        _mm_storeu_ps(acc[r] + 4, _mm256_cvtpd_ps(hi[r]));
    }
    return i;
}

__attribute__((target("avx"))) static int64_t dots_avx_1(const float *a, const float *b,
                                                          int64_t n, float (*acc)[TENSOR__LANES])
{
    return dots_avx(a, b, n, acc, 1);
}

__attribute__((target("avx"))) static int64_t dots_avx_4(const float *a, const float *b,
                                                          int64_t n, float (*acc)[TENSOR__LANES])
{
    return dots_avx(a, b, n, acc, ROWS_AT_ONCE);
}
#endif

/* sum(a * b) of `rows` rows of n >= 8 floats (row r's a and b n floats
 * after row r - 1's), into out: ROWS_AT_ONCE rows at a time, then one. */
static void lane_dots(const float *a, const float *b, int64_t n, int64_t rows, float *out)
{
    for (int64_t r0 = 0; r0 < rows;) {
        float acc[ROWS_AT_ONCE][TENSOR__LANES];
        int R = rows - r0 >= ROWS_AT_ONCE ? ROWS_AT_ONCE : 1;
        const float *ar = a + r0 * n, *br = b + r0 * n;
        for (int r = 0; r < R; r++)
            for (int l = 0; l < TENSOR__LANES; l++) acc[r][l] = ar[r * n + l] * br[r * n + l];
        int64_t i = TENSOR__LANES;
#if defined(__x86_64__) && defined(__GNUC__)
        if (__builtin_cpu_supports("avx"))
            i = R == 4 ? dots_avx_4(ar, br, n, acc) : dots_avx_1(ar, br, n, acc);
#endif
        for (int r = 0; r < R; r++) {
            dot_tail(ar + r * n, br + r * n, i, n, acc[r]);
            out[r0 + r] = fold_lanes(acc[r]);
        }
        r0 += R;
    }
}

/* sum(a * b) in the same order; past the first 8 products each product is
 * fused into its lane's addition, as in PyTorch. */
float tensor__lane_dot(const float *a, const float *b, int64_t n)
{
    if (n < TENSOR__LANES) {
        float s = n ? a[0] * b[0] : 0.0f;
        for (int64_t i = 1; i < n; i++) s += a[i] * b[i];
        return s;
    }
    float s;
    lane_dots(a, b, n, 1, &s);
    return s;
}

void tensor__lane_dots(const float *a, const float *b, int64_t n, int64_t rows, float *out)
{
    if (n < TENSOR__LANES) {
        for (int64_t r = 0; r < rows; r++) out[r] = tensor__lane_dot(a + r * n, b + r * n, n);
        return;
    }
    lane_dots(a, b, n, rows, out);
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
