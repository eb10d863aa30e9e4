/*
 * The machine's limits, which every table of ./run bench states its figures
 * against:
 *
 *   peak fma_gflops=179.0 dpbf16_gflops=87.4
 *       one core's float32 FMA peak (AVX-512, else AVX2) and its bf16
 *       dot-product peak (vdpbf16ps; 0 without AVX512_BF16): register-only
 *       loops of 24 independent accumulators (tensor/kernels/sgemm_kernels.c),
 *       the best of repetitions over about a second each;
 *   bandwidth threads=1 gb_per_s=12.3
 *       a stream-like read: the sum of a 1 GiB array, each thread its own
 *       contiguous half (third, ...), 64-byte loads into 8 accumulators;
 *       the best of several passes, 2^30 bytes / the slowest thread's time.
 *
 *     bench_peak [--threads 1,2] [--quick]
 *
 * Nothing is asserted.
 */
#include "attograd.h"
#include "kernels/sgemm.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct {
    const float *p;
    size_t n;
    pthread_barrier_t *start;
    double seconds;
    float sum;
} Part;

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f"))) static float sum512(const float *p, size_t n)
{
    __m512 s[8];
    for (int i = 0; i < 8; i++) s[i] = _mm512_setzero_ps();
    for (size_t i = 0; i + 128 <= n; i += 128)
        for (int j = 0; j < 8; j++) s[j] = _mm512_add_ps(s[j], _mm512_load_ps(p + i + 16 * j));
    for (int j = 1; j < 8; j++) s[0] = _mm512_add_ps(s[0], s[j]);
    return _mm512_reduce_add_ps(s[0]);
}
#endif

static float sum_plain(const float *p, size_t n)
{
    float s[16] = {0};
    for (size_t i = 0; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) s[j] += p[i + j];
    float t = 0;
    for (int j = 0; j < 16; j++) t += s[j];
    return t;
}

static float sum(const float *p, size_t n)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx512f")) return sum512(p, n);
#endif
    return sum_plain(p, n);
}

static void *read_part(void *arg)
{
    Part *part = arg;
    pthread_barrier_wait(part->start);
    double t0 = now();
    part->sum = sum(part->p, part->n);
    part->seconds = now() - t0;
    return NULL;
}

/* GB/s (10^9 bytes) of the best of `passes` reads of the array on `threads`. */
static double bandwidth(const float *a, size_t n, int threads, int passes)
{
    double best = 0;
    for (int pass = 0; pass < passes; pass++) {
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, (unsigned)threads);
        Part parts[64];
        pthread_t tid[64];
        size_t per = n / (size_t)threads / 128 * 128;
        for (int t = 0; t < threads; t++) {
            parts[t] = (Part){.p = a + (size_t)t * per, .n = per, .start = &start};
            if (t > 0) pthread_create(&tid[t], NULL, read_part, &parts[t]);
        }
        read_part(&parts[0]);
        double slowest = parts[0].seconds;
        for (int t = 1; t < threads; t++) {
            pthread_join(tid[t], NULL);
            if (parts[t].seconds > slowest) slowest = parts[t].seconds;
        }
        pthread_barrier_destroy(&start);
        double gbs = (double)(per * (size_t)threads) * sizeof(float) / slowest * 1e-9;
        if (gbs > best) best = gbs;
    }
    return best;
}

int main(int argc, char **argv)
{
    bool quick = false;
    int threads[8] = {1, 2}, n_threads = tensor_get_num_threads() >= 2 ? 2 : 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            n_threads = 0;
            for (char *t = strtok(argv[++i], ","); t && n_threads < 8; t = strtok(NULL, ",")) {
                threads[n_threads] = atoi(t);
                if (threads[n_threads] < 1 || threads[n_threads] > 64) {
                    fprintf(stderr, "bench_peak: --threads: '%s' is not a count in 1..64\n", t);
                    return 2;
                }
                n_threads++;
            }
        } else {
            fprintf(stderr, "usage: bench_peak [--threads 1,2] [--quick]\n");
            return strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    double seconds = quick ? 0.05 : 1.0;
    printf("peak fma_gflops=%.1f dpbf16_gflops=%.1f\n", tensor__peak_fma_gflops(seconds),
           tensor__peak_dpbf16_gflops(seconds));
    fflush(stdout);
    size_t n = (quick ? (size_t)64 << 20 : (size_t)1 << 30) / sizeof(float);
    float *a = aligned_alloc(64, n * sizeof *a);
    if (!a) {
        fprintf(stderr, "bench_peak: out of memory for the array\n");
        return 1;
    }
    for (size_t i = 0; i < n; i++) a[i] = (float)(i & 1023);   /* every page, really there */
    for (int t = 0; t < n_threads; t++) {
        printf("bandwidth threads=%d gb_per_s=%.1f\n", threads[t],
               bandwidth(a, n, threads[t], quick ? 2 : 5));
        fflush(stdout);
    }
    free(a);
    return 0;
}
