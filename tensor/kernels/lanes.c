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
