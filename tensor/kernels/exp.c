/*
 * exp as PyTorch's vectorized CPU kernel computes it (SLEEF's expf), bit for
 * bit, compiled three times (plain C, AVX2 + FMA, AVX-512) and chosen at run
 * time.  Softmax, log-softmax and cross-entropy's backward call it: it is
 * the only costly step of a softmax.
 */
#include "kernels/kernels.h"
#include "kernels/exp_poly.h"

#include <math.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define EXP_X86 1
#else
#define EXP_X86 0
#endif

/*
 * exp(d) as PyTorch's vectorized exp computes it (SLEEF's expf, 1-ulp
 * accurate; glibc's expf rounds differently for about 1 input in 100):
 *   exp(d) = exp(s) 2^q with exp(s) and q from exp_reduced (exp_poly.h),
 *   scaled in two steps so 2^q never leaves the normal range.
 * d < -104 gives 0, d > 100 gives inf, NaN stays NaN.  The special cases are
 * picked with integer masks after the arithmetic (done on 0 instead), so the
 * loop has no branch and vectorizes.
 *
 * hw_fma: the CPU has FMA (the AVX2 variant).  Without it the fused
 * multiply-adds run in double: the float product is exact there and the sum
 * is rounded twice, which for this polynomial gives the fused result for
 * every float input (checked exhaustively over [-105, 101]).
 */
static inline __attribute__((always_inline)) float exp_like_torch(float d, bool hw_fma)
{
    uint32_t b = bits_of(d);
    uint32_t under = b > 0xC2D00000u;                        /* d < -104, -inf, -NaN */
    uint32_t over = (b > 0x42C80000u) & (b < 0x80000000u);   /* d > 100, +inf, +NaN */
    uint32_t is_nan = (b & 0x7FFFFFFFu) > 0x7F800000u;
    uint32_t plain = 0u - (uint32_t)!(under | over | is_nan);   /* all ones: no special case */
    float x = float_of(b & plain);
    int q;
    float u = exp_reduced(x, hw_fma, EXP_X86, &q);
    u *= float_of((uint32_t)(q / 2 + 127) << 23);
    u *= float_of((uint32_t)(q - q / 2 + 127) << 23);
    uint32_t special = is_nan ? b : over ? 0x7F800000u : 0u;
    return float_of((bits_of(u) & plain) | (special & ~plain));
}

/* The loop stands alone so the compiler cannot fuse exp's last product into
 * whatever adds the results up (PyTorch rounds it). */
static inline __attribute__((always_inline)) void
exp_loop(const float *x, float shift, float *y, int64_t n, bool hw_fma)
{
    for (int64_t i = 0; i < n; i++) y[i] = exp_like_torch(x[i] - shift, hw_fma);
}

static void exp_plain(const float *x, float shift, float *y, int64_t n)
{
    exp_loop(x, shift, y, n, false);
}

#if EXP_X86
__attribute__((target("avx2,fma"))) static void
exp_avx2(const float *x, float shift, float *y, int64_t n)
{
    exp_loop(x, shift, y, n, true);
}

/* The same operations 16 at a time: the same bits.  GCC needs to be told to
 * use 512-bit vectors; clang does with avx512f alone and rejects the hint. */
#if defined(__clang__)
#define EXP_AVX512_TARGET "avx512f,avx2,fma"
#else
#define EXP_AVX512_TARGET "avx512f,avx2,fma,prefer-vector-width=512"
#endif
__attribute__((target(EXP_AVX512_TARGET))) static void
exp_avx512(const float *x, float shift, float *y, int64_t n)
{
    exp_loop(x, shift, y, n, true);
}
#endif

TensorExpFn tensor__exp_fn(void)
{
#if EXP_X86
    static TensorExpFn best;
    if (!best && __builtin_cpu_supports("avx512f"))
        best = exp_avx512;
    else if (!best)
        best = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? exp_avx2
                                                                              : exp_plain;
    return best;
#else
    return exp_plain;
#endif
}

void tensor__exp_like_torch(const float *x, float shift, float *y, int64_t n)
{
    tensor__exp_fn()(x, shift, y, n);
}
