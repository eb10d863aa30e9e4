/*
 * sgemm: C = alpha * op(A) @ op(B) + beta * C (see sgemm.h).
 *
 * The simple loop: each c[i][j] is summed in order p = 0 .. k-1, then
 * scaled and added to beta * C, as a BLAS micro-kernel does.
 */
#include "sgemm.h"

static inline float at(const float *x, bool trans, int64_t ld, int64_t r, int64_t c)
{
    return trans ? x[c * ld + r] : x[r * ld + c];
}

void tensor__sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                   const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                   float *c, int64_t ldc)
{
    for (int64_t i = 0; i < m; i++) {
        float *ci = c + i * ldc;
        for (int64_t j = 0; j < n; j++) {
            float acc = 0;
            for (int64_t p = 0; p < k; p++)
                acc += at(a, trans_a, lda, i, p) * at(b, trans_b, ldb, p, j);
            ci[j] = beta == 0 ? alpha * acc : alpha * acc + beta * ci[j];
        }
    }
}
