/*
 * The sgemm micro-kernels, private to tensor/kernels.  A micro-kernel
 * computes one mr x nr tile of C from packed panels (see sgemm.c):
 *
 *     C[i][j] = alpha * sum_{p < kc} a[p*mr + i] * b[p*nr + j] + beta * C[i][j]
 *
 * for i < mr, j < nr, C[i][j] at c[i*ldc + j]; beta 0 means C is not read.
 */
#ifndef ATTOGRAD_SGEMM_KERNELS_H
#define ATTOGRAD_SGEMM_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define SGEMM_X86 1
#else
#define SGEMM_X86 0
#endif

enum { SGEMM_MAX_MR = 12, SGEMM_MAX_NR = 32 };

typedef void (*SgemmKernel)(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                            float alpha, float beta);

typedef struct {
    const char *name;
    int mr, nr;
    bool fma;                  /* the CPU has FMA: the plain loop may use it too */
    SgemmKernel kernel;
} SgemmIsa;

/* Indexed by TENSOR__SGEMM_PORTABLE, _AVX2, _AVX512 (sgemm.h). */
extern const SgemmIsa tensor__sgemm_isas[];
/* The best entry this CPU runs. */
int tensor__sgemm_best_isa(void);

#endif /* ATTOGRAD_SGEMM_KERNELS_H */
