/*
 * bfloat16, private to the tensor room: the top 16 bits of a float32 (sign,
 * 8 exponent bits, 7 fraction bits), as PyTorch converts a float to it
 * (c10::BFloat16's round_to_nearest_even): the float rounded to nearest,
 * ties to even, at the 16th bit; a NaN becomes 0x7FC0.  Subnormals are
 * kept here; the products read them as 0 (see sgemm.h).
 */
#ifndef ATTOGRAD_BF16_H
#define ATTOGRAD_BF16_H

#ifndef ATTOGRAD_TENSOR_ROOM
#error "tensor/kernels/bf16.h is private to the tensor room (its files and white-box tests): include tensor/tensor.h"
#endif

#include <stdint.h>
#include <string.h>

static inline uint16_t tensor__bf16_from_float(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fc0;
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

static inline float tensor__bf16_to_float(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* x rounded to the nearest bf16, as a float. */
static inline float tensor__bf16_round(float x)
{
    return tensor__bf16_to_float(tensor__bf16_from_float(x));
}

/* Two depths of one row or column as a kernel over pairs reads them:
 * first (2q) in the high half, which vdpbf16ps adds first, second (2q + 1)
 * in the low half. */
static inline uint32_t tensor__bf16_pair(float first, float second)
{
    return (uint32_t)tensor__bf16_from_float(first) << 16 | tensor__bf16_from_float(second);
}

#endif /* ATTOGRAD_BF16_H */
