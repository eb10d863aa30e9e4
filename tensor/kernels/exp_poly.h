/*
 * The arithmetic both exp kernels share: exp.c's exp (PyTorch's vectorized
 * expf, SLEEF's, bit for bit) and the exp branch of gelu.c's tanh.
 *
 *   d = q ln2 + s, q = rint(d / ln2), ln2 split in two parts so s is exact;
 *   exp(s) = 1 + s + s^2 (1/2 + s/6 + ...), a degree-7 polynomial in Horner
 *   form with fused multiply-adds.
 *
 * exp_reduced returns exp(s) and q; each caller scales by 2^q for its own
 * range and picks its own special cases.  Static inline and always inlined,
 * so that each per-CPU variant of the callers (plain C, AVX2 + FMA,
 * AVX-512) compiles it for itself.
 *
 * hw_fma: the CPU has FMA.  Without it the fused multiply-adds run in
 * double: the float product is exact there and the sum is rounded twice.
 * x86: rintf is a libm call in a baseline x86 build, so without FMA (no
 * SSE4.1 either) the rounding adds and subtracts 1.5 * 2^23 (|d / ln2| <
 * 2^22 for every d the callers pass).
 */
#ifndef ATTOGRAD_EXP_POLY_H
#define ATTOGRAD_EXP_POLY_H

#ifndef ATTOGRAD_TENSOR_ROOM
#error "tensor/kernels/exp_poly.h is private to the tensor room: include tensor/tensor.h"
#endif

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static inline __attribute__((always_inline)) uint32_t bits_of(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

static inline __attribute__((always_inline)) float float_of(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

static inline __attribute__((always_inline)) float exp_reduced(float d, bool hw_fma, bool x86,
                                                               int *q)
{
#define MLA(a, b_, c) (hw_fma ? fmaf(a, b_, c) : (float)((double)(a) * (b_) + (c)))
    const float r_ln2 = 1.44269504088896340736f;
    const float ln2_hi = 0.693145751953125f, ln2_lo = 1.428606765330187045e-06f;
    float qf = hw_fma || !x86 ? rintf(d * r_ln2) : (d * r_ln2 + 0x1.8p23f) - 0x1.8p23f;
    *q = (int)qf;
    float s = MLA(qf, -ln2_hi, d);
    s = MLA(qf, -ln2_lo, s);
    float u = 0.000198527617612853646278381f;
    u = MLA(u, s, 0.00139304355252534151077271f);
    u = MLA(u, s, 0.00833336077630519866943359f);
    u = MLA(u, s, 0.0416664853692054748535156f);
    u = MLA(u, s, 0.166666671633720397949219f);
    u = MLA(u, s, 0.5f);
    return 1.0f + MLA(s * s, u, s);
#undef MLA
}

#endif /* ATTOGRAD_EXP_POLY_H */
