/*
 * Private to the tensor room: the hot loops several op families share.
 * Each is plain C first; exp.c adds vector variants chosen at run time.
 */
#ifndef ATTOGRAD_TENSOR_KERNELS_H
#define ATTOGRAD_TENSOR_KERNELS_H

#include "core/tensor_internal.h"

/* y[i] = exp(x[i] - shift), bit for bit as PyTorch's vectorized exp (SLEEF's
 * expf) computes it, AVX2 or AVX-512 when the CPU has it.  y may be x. */
void tensor__exp_like_torch(const float *x, float shift, float *y, int64_t n);
/* The variant this CPU runs, for a caller that calls it in a loop. */
typedef void (*TensorExpFn)(const float *x, float shift, float *y, int64_t n);
TensorExpFn tensor__exp_fn(void);

/*
 * GELU's tanh form (tensor_gelu) over n contiguous floats, and tanh alone,
 * within 1 ulp of tanh (kernels/gelu.c); plain C, AVX2 + FMA or AVX-512.
 *   forward:  y = gelu(x), and t = tanh(u) for the backward unless t is NULL
 *   backward: dx = dy * gelu'(x), from the forward's t, or recomputed (NULL)
 * Any variant gives the same bits for an element wherever it sits in the
 * array, so a caller may split the work into chunks.
 */
typedef struct {
    const char *name;   /* "plain", "avx2", "avx512" */
    void (*forward)(const float *x, float *y, float *t, int64_t n);
    void (*backward)(const float *x, const float *t, const float *dy, float *dx, int64_t n);
    void (*tanh)(const float *x, float *y, int64_t n);
} TensorGeluKernels;
enum { TENSOR__GELU_VARIANTS = 3 };
/* The fastest variant this CPU runs. */
const TensorGeluKernels *tensor__gelu_kernels(void);
/* Variant i (0 plain, 1 AVX2 + FMA, 2 AVX-512), NULL when this CPU lacks it:
 * for the tests, which check each. */
const TensorGeluKernels *tensor__gelu_variant(int i);

/*
 * Sums in the order of PyTorch's vec::reduce_all on AVX2, because float
 * addition is not associative and this order is what makes softmax match
 * bit for bit: fewer than 8 values are added left to right; otherwise 8 lane
 * accumulators take every 8th value (a tail only reaches the first lanes)
 * and the lanes are added as a tree.
 */
enum { TENSOR__LANES = 8 };
float tensor__lane_sum(const float *v, int64_t n);
/* sum(a * b) in the same order; past the first 8 products each product is
 * fused into its lane's addition, as in PyTorch. */
float tensor__lane_dot(const float *a, const float *b, int64_t n);
/* The same for `rows` rows of n floats, row r's a and b n floats after row
 * r - 1's: out[r] has row r's tensor__lane_dot bits (four rows at a time,
 * side by side: each lane is a serial chain). */
void tensor__lane_dots(const float *a, const float *b, int64_t n, int64_t rows, float *out);

/* a * b + c rounded once (but for rare halfway cases), as the FMA
 * PyTorch's build contracts its multiply-adds into: the product is exact in
 * double. */
static inline float tensor__fused_mul_add(float a, float b, float c)
{
    return (float)((double)a * b + c);
}

/* sum(x) and sum((a - b)^2) over n floats, accumulated in double. */
double tensor__sum_f64(const float *x, int64_t n);
double tensor__sum_squared_diff_f64(const float *a, const float *b, int64_t n);

#endif /* ATTOGRAD_TENSOR_KERNELS_H */
