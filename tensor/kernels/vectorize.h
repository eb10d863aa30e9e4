/*
 * Hot elementwise loops on the CPU's vector units, with no -m flags.
 *
 * TENSOR__VECTORIZE before a function compiles it twice, for baseline
 * x86-64 (SSE2) and for x86-64-v3 (AVX2 and FMA), and the loader picks the
 * one the CPU runs (GCC's target_clones, an ifunc).  The library is built
 * for baseline x86-64, where fmaf() is a call into libm and a loop that
 * makes one cannot be vectorised; in the v3 clone it is one instruction.
 *
 * Both clones give the same bits: contraction is off in them, so a plain
 * a * b + c rounds twice in each, and a fused multiply-add happens exactly
 * where the code writes fmaf().
 *
 * Elsewhere (other compilers and targets) the macro is empty: the same code,
 * compiled once.
 *
 * Private to the library, as kernels/threads.h: the tensor room's kernels
 * and the optim room's Adam update use it.
 */
#ifndef ATTOGRAD_VECTORIZE_H
#define ATTOGRAD_VECTORIZE_H

#if !defined(ATTOGRAD_TENSOR_ROOM) && !defined(ATTOGRAD_LIBRARY)
#error "tensor/kernels/vectorize.h is private to the library (its rooms' files and white-box tests): include tensor/tensor.h"
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__ELF__)
#define TENSOR__VECTORIZE \
    __attribute__((target_clones("arch=x86-64-v3", "default"), optimize("fp-contract=off")))
#else
#define TENSOR__VECTORIZE
#endif

#endif /* ATTOGRAD_VECTORIZE_H */
