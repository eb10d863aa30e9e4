/*
 * GELU's tanh form, forward and backward, and the tanh under it, on the
 * vector units: compiled three times (plain C, AVX2 + FMA, AVX-512) and
 * chosen at run time, as exp.c is.  glibc's tanhf is a scalar call (it goes
 * through expm1f) and was a quarter of a bytes-toy GPT step.
 *
 * tanh(x), with a = |x| and the sign put back at the end:
 *   a < 0.9:  tanh(a) = a + a^3 P(a^2), P of degree 6, a relative-error
 *             minimax fit on [0, 0.9] (0.11 ulp before rounding)
 *   a >= 0.9: tanh(a) = 1 - 2 / (exp(2a) + 1), with a clamped to 10
 *             (tanh(10) rounds to 1, and exp(20) is far from overflow);
 *             exp as in exp.c (Cody-Waite reduction, SLEEF's polynomial),
 *             without its special cases, which this range never meets.
 * Both branches are computed and one is picked with integer masks, as in
 * exp.c: GCC sinks each side of a float ?: into a branch of its own, and
 * then (float operations may trap) will not vectorise the loop.  NaN stays
 * NaN, tanh(+-inf) = +-1, tanh(-0) = -0.
 *
 * Accuracy, measured over every float against glibc's double tanh (the
 * AVX-512 variant; tanh is odd and computed so): at most 0.996 ulp, at
 * |x| = 0.976 (the exp branch); glibc's tanhf is 2.16 ulp off at worst
 * (every 7th float).  The three variants give the same bits on every input
 * tests/test_gelu.c sweeps.
 * tests/test_gelu.c sweeps it with a bound of 1 ulp, and GELU and its
 * derivative against the formula in double.
 *
 * Contraction is off in this file: a fused multiply-add happens where the
 * code calls MLA and nowhere else, so GELU's own arithmetic rounds in
 * PyTorch's float32 operation order, as the plain C it replaces did.
 * Without hardware FMA (the plain variant) MLA runs in double: the float
 * product is exact there and the sum rounds twice, which agrees with the
 * fused result but for rare halfway cases.
 */
#include "kernels/kernels.h"
#include "kernels/exp_poly.h"

#include <math.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define GELU_X86 1
#else
#define GELU_X86 0
#endif

#if defined(__GNUC__) && !defined(__clang__)
#define NO_CONTRACT __attribute__((optimize("fp-contract=off")))
#else
#define NO_CONTRACT
#endif

#define INLINE static inline __attribute__((always_inline))

#define MLA(a, b_, c) (hw_fma ? fmaf(a, b_, c) : (float)((double)(a) * (b_) + (c)))

/* exp(d) for d in [0, 20]: d = q ln2 + s, exp(s) by SLEEF's polynomial,
 * times 2^q (q <= 29: one scaling stays normal). */
INLINE float exp_0_20(float d, bool hw_fma)
{
    int q;
    return exp_reduced(d, hw_fma, GELU_X86, &q) * float_of((uint32_t)(q + 127) << 23);
}

INLINE float tanh_of(float x, bool hw_fma)
{
    uint32_t xb = bits_of(x), ab = xb & 0x7FFFFFFFu;   /* |x|; a NaN's bits exceed inf's */
    float a = float_of(ab), s = a * a;
    float p = -4.554603365e-04f;
    p = MLA(p, s, 2.582668792e-03f);
    p = MLA(p, s, -8.264545351e-03f);
    p = MLA(p, s, 2.166354284e-02f);
    p = MLA(p, s, -5.392930284e-02f);
    p = MLA(p, s, 1.333297789e-01f);
    p = MLA(p, s, -3.333332241e-01f);
    float near0 = MLA(a * s, p, a);
    uint32_t ten = 0x41200000u;                          /* 10.0f */
    float e = exp_0_20(2.0f * float_of(ab < ten ? ab : ten), hw_fma);
    float far = 1.0f - 2.0f / (e + 1.0f);
    uint32_t near = 0u - (uint32_t)(ab < 0x3F666666u);   /* |x| < 0.9f */
    uint32_t nan = 0u - (uint32_t)(ab > 0x7F800000u);
    uint32_t tb = ((bits_of(near0) & near) | (bits_of(far) & ~near)) | (xb & 0x80000000u);
    return float_of((tb & ~nan) | (xb & nan));
}

#undef MLA

/* GELU, tanh form, in PyTorch's float32 operation order:
 *   u = b * (x + k x^3),  b = sqrt(2/pi),  k = 0.044715
 *   y = 0.5 x (1 + tanh(u))
 *   dy/dx = 0.5 (1 + tanh(u)) + 0.5 x (1 - tanh(u)^2) * b (1 + 3 k x^2) */
static const float GELU_BETA = (float)(M_SQRT2 * M_2_SQRTPI * 0.5);
static const float GELU_KAPPA = 0.044715f;

INLINE float gelu_inner(float v, bool hw_fma)
{
    float cube = v * v * v;
    return tanh_of(GELU_BETA * (v + GELU_KAPPA * cube), hw_fma);
}

/* keep: t[i] = tanh(u) as well (a constant in each caller: no branch). */
INLINE void forward_loop(const float *x, float *y, float *t, int64_t n, bool keep, bool hw_fma)
{
    for (int64_t i = 0; i < n; i++) {
        float v = x[i], th = gelu_inner(v, hw_fma);
        if (keep) t[i] = th;
        y[i] = 0.5f * v * (1.0f + th);
    }
}

/* saved: t holds tanh(u) from the forward; otherwise it is recomputed. */
INLINE void backward_loop(const float *x, const float *t, const float *dy, float *dx, int64_t n,
                          bool saved, bool hw_fma)
{
    for (int64_t i = 0; i < n; i++) {
        float v = x[i], sq = v * v;
        float th = saved ? t[i] : gelu_inner(v, hw_fma);
        float left = 0.5f * v, right = 1.0f + th;
        float dleft = 0.5f * right;
        float dtanh = 1.0f - th * th;
        float du = GELU_BETA * (1.0f + 3.0f * GELU_KAPPA * sq);
        dx[i] = dy[i] * (dleft + left * dtanh * du);
    }
}

INLINE void tanh_loop(const float *x, float *y, int64_t n, bool hw_fma)
{
    for (int64_t i = 0; i < n; i++) y[i] = tanh_of(x[i], hw_fma);
}

/* One variant's three entry points, compiled with the attributes attr. */
#define GELU_VARIANT(suffix, attr, hw_fma)                                                   \
    attr NO_CONTRACT static void forward_##suffix(const float *x, float *y, float *t,        \
                                                  int64_t n)                                 \
    {                                                                                        \
        if (t)                                                                               \
            forward_loop(x, y, t, n, true, hw_fma);                                          \
        else                                                                                 \
            forward_loop(x, y, NULL, n, false, hw_fma);                                      \
    }                                                                                        \
    attr NO_CONTRACT static void backward_##suffix(const float *x, const float *t,           \
                                                   const float *dy, float *dx, int64_t n)    \
    {                                                                                        \
        if (t)                                                                               \
            backward_loop(x, t, dy, dx, n, true, hw_fma);                                    \
        else                                                                                 \
            backward_loop(x, NULL, dy, dx, n, false, hw_fma);                                \
    }                                                                                        \
    attr NO_CONTRACT static void tanh_##suffix(const float *x, float *y, int64_t n)          \
    {                                                                                        \
        tanh_loop(x, y, n, hw_fma);                                                          \
    }                                                                                        \
    static const TensorGeluKernels kernels_##suffix = {#suffix, forward_##suffix,            \
                                                       backward_##suffix, tanh_##suffix};

GELU_VARIANT(plain, , false)
#if GELU_X86
GELU_VARIANT(avx2, __attribute__((target("avx2,fma"))), true)
/* GCC needs to be told to use 512-bit vectors; clang does with avx512f
 * alone and rejects the hint. */
#if defined(__clang__)
GELU_VARIANT(avx512, __attribute__((target("avx512f,avx2,fma"))), true)
#else
GELU_VARIANT(avx512, __attribute__((target("avx512f,avx2,fma,prefer-vector-width=512"))), true)
#endif
#endif

const TensorGeluKernels *tensor__gelu_variant(int i)
{
    switch (i) {
    case 0: return &kernels_plain;
#if GELU_X86
    case 1:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? &kernels_avx2
                                                                              : NULL;
    case 2: return __builtin_cpu_supports("avx512f") ? &kernels_avx512 : NULL;
#endif
    default: return NULL;
    }
}

/* Asked on every call: __builtin_cpu_supports reads flags set once at start. */
const TensorGeluKernels *tensor__gelu_kernels(void)
{
    const TensorGeluKernels *best = NULL;
    for (int i = TENSOR__GELU_VARIANTS - 1; !best; i--) best = tensor__gelu_variant(i);
    return best;
}
