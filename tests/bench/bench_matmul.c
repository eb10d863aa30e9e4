/*
 * Matrix product speed: attograd's built-in sgemm (through tensor_matmul)
 * against OpenBLAS's cblas_sgemm on the same data, when OpenBLAS was found.
 *
 *   meson test -C build --benchmark          (or run bench_matmul directly)
 *   bench_matmul [--threads N] [--quick]
 *   bench_matmul --gpt [--threads N]         the GPT step's products, 1 and N threads
 *
 * One line per case:
 *   matmul n=512 op=nn attograd_gflops=81.2 attograd_bf16_gflops=80.3 openblas_gflops=101.0 ratio=0.80
 * bf16: the same tensor_matmul in the autocast region (tensor_autocast_begin),
 * operands rounded to bf16 and summed in float32.  ops: nn A@B, nt A@B^T (a transposed view), tn A^T@B, bnn a batch of B
 * products (B, n, n) @ (B, n, n).  Both columns run on one thread unless
 * --threads says otherwise; each figure is the best of several runs after a
 * warm-up, over 2 n^3 flops per product.  Nothing here is asserted: times
 * depend on the machine.
 *
 * --gpt: the products of one training step of bench_gpt's bytes_toy and
 * 124M_4x64 configurations (rows = B * T), each Linear's forward, input
 * gradient and weight gradient as tensor__sgemm receives them, on one
 * thread and on N (default 2), with the speed-up:
 *   matmul_gpt config=124M_4x64 product=ff1.dx m=256 n=768 k=3072 ta=0 tb=0 gflops_1=80.1 gflops_2=150.3 speedup=1.88
 */
#include "attograd.h"
#include "kernels/sgemm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef ATTOGRAD_HAVE_BLAS
#include <cblas.h>
#endif

enum { BATCH = 8 };

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct {
    int64_t n, batch;
    const char *op;
    Tensor *a, *b;             /* stored (batch, n, n) or (n, n) */
} Case;

static void run_attograd(const Case *c)
{
    TensorScope *s = tensor_scope_begin();
    const Tensor *a = strcmp(c->op, "tn") ? c->a : tensor_t(c->a);
    const Tensor *b = strcmp(c->op, "nt") ? c->b : tensor_t(c->b);
    if (!tensor_matmul(a, b)) {
        fprintf(stderr, "bench_matmul: %s\n", tensor_error());
        exit(1);
    }
    tensor_scope_end(s);
}

#ifdef ATTOGRAD_HAVE_BLAS
static void run_openblas(const Case *c, float *out)
{
    int n = (int)c->n;
    CBLAS_TRANSPOSE ta = strcmp(c->op, "tn") ? CblasNoTrans : CblasTrans;
    CBLAS_TRANSPOSE tb = strcmp(c->op, "nt") ? CblasNoTrans : CblasTrans;
    for (int64_t e = 0; e < c->batch; e++) {
        int64_t off = e * c->n * c->n;
        cblas_sgemm(CblasRowMajor, ta, tb, n, n, n, 1.0f, c->a->data + off, n, c->b->data + off,
                    n, 0.0f, out + off, n);
    }
}
#endif

/* GFLOP/s of the best of reps runs (at least 3, about 0.3 s in all). */
static double gflops(const Case *c, void (*run)(const Case *, float *), float *out)
{
    run(c, out);                                   /* warm-up: caches, threads, buffers */
    double t0 = now();
    run(c, out);
    double best = now() - t0;
    int reps = best > 0.1 ? 3 : (int)(0.3 / (best + 1e-9)) + 3;
    for (int r = 1; r < reps; r++) {
        t0 = now();
        run(c, out);
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    return 2.0 * (double)c->n * (double)c->n * (double)c->n * (double)c->batch / best * 1e-9;
}

static void attograd_run(const Case *c, float *out)
{
    (void)out;
    run_attograd(c);
}

/* The same product in the bf16 autocast region: operands rounded to bf16,
 * sums in float32. */
static void attograd_bf16_run(const Case *c, float *out)
{
    (void)out;
    tensor_autocast_begin(true);
    run_attograd(c);
    tensor_autocast_end();
}

#ifdef ATTOGRAD_HAVE_BLAS
static void openblas_run(const Case *c, float *out) { run_openblas(c, out); }
#endif

static void bench_case(int64_t n, const char *op, int threads)
{
    TensorScope *s = tensor_scope_begin();
    Case c = {.n = n, .batch = strcmp(op, "bnn") ? 1 : BATCH, .op = op};
    if (c.batch > 1) {
        c.a = tensor_rand(SHAPE(c.batch, n, n));
        c.b = tensor_rand(SHAPE(c.batch, n, n));
    } else {
        c.a = tensor_rand(SHAPE(n, n));
        c.b = tensor_rand(SHAPE(n, n));
    }
    char label[64];
    snprintf(label, sizeof label, c.batch > 1 ? "op=%s B=%d" : "op=%s", op, BATCH);
    char thr[32] = "";
    if (threads != 1) snprintf(thr, sizeof thr, " threads=%d", threads);
    double ours = gflops(&c, attograd_run, NULL), bf16 = gflops(&c, attograd_bf16_run, NULL);
#ifdef ATTOGRAD_HAVE_BLAS
    float *out = malloc((size_t)(c.batch * n * n) * sizeof *out);
    double ref = gflops(&c, openblas_run, out);
    free(out);
    printf("matmul n=%lld %s%s attograd_gflops=%.1f attograd_bf16_gflops=%.1f "
           "openblas_gflops=%.1f ratio=%.2f\n",
           (long long)n, label, thr, ours, bf16, ref, ours / ref);
#else
    printf("matmul n=%lld %s%s attograd_gflops=%.1f attograd_bf16_gflops=%.1f\n", (long long)n,
           label, thr, ours, bf16);
#endif
    fflush(stdout);
    tensor_scope_end(s);
}

/* ---- --gpt ------------------------------------------------------------------ */

typedef struct {
    const char *config, *product;
    bool ta, tb;
    int64_t m, n, k;
} GptProduct;

/* Linear(in, out) on rows: forward x @ W^T, dx = dy @ W, dW = dy^T @ x. */
#define LINEAR(cfg, name, rows, in, out)                                   \
    {cfg, name ".fwd", false, true, rows, out, in},                         \
    {cfg, name ".dx", false, false, rows, in, out},                         \
    {cfg, name ".dW", true, false, out, in, rows}
static const GptProduct gpt_products[] = {
    LINEAR("bytes_toy", "qkv", 1024, 128, 128),
    LINEAR("bytes_toy", "ff1", 1024, 128, 512),
    LINEAR("bytes_toy", "ff2", 1024, 512, 128),
    LINEAR("bytes_toy", "head", 1024, 128, 256),
    LINEAR("124M_4x64", "qkv", 256, 768, 768),
    LINEAR("124M_4x64", "ff1", 256, 768, 3072),
    LINEAR("124M_4x64", "ff2", 256, 3072, 768),
    LINEAR("124M_4x64", "head", 256, 768, 50257),
};
#undef LINEAR

/* Best seconds of a few runs (about 0.3 s in all, at least 3). */
static double best_time(const GptProduct *p, const float *a, const float *b, float *c)
{
    int64_t lda = p->ta ? p->m : p->k, ldb = p->tb ? p->k : p->n;
    double best = 1e30, spent = 0;
    for (int r = 0; r < 4 || (spent < 0.3 && r < 200); r++) {
        double t0 = now();
        tensor__sgemm(p->ta, p->tb, p->m, p->n, p->k, 1.0f, a, lda, b, ldb, 0.0f, c, p->n);
        double dt = now() - t0;
        spent += dt;
        if (r > 0 && dt < best) best = dt;       /* the first warms caches and buffers */
    }
    return best;
}

static int bench_gpt_products(int threads)
{
    size_t most = 0;
    for (size_t i = 0; i < sizeof gpt_products / sizeof *gpt_products; i++) {
        const GptProduct *p = &gpt_products[i];
        size_t sizes[3] = {(size_t)(p->m * p->k), (size_t)(p->k * p->n), (size_t)(p->m * p->n)};
        for (int j = 0; j < 3; j++) most = sizes[j] > most ? sizes[j] : most;
    }
    float *buf[3];
    for (int j = 0; j < 3; j++) {
        buf[j] = malloc(most * sizeof(float));
        if (!buf[j]) {
            fprintf(stderr, "bench_matmul: out of memory\n");
            return 1;
        }
        for (size_t e = 0; e < most; e++) buf[j][e] = (float)((e * 7 + (size_t)j) % 13) / 13.0f;
    }
    for (size_t i = 0; i < sizeof gpt_products / sizeof *gpt_products; i++) {
        const GptProduct *p = &gpt_products[i];
        double flops = 2.0 * (double)p->m * (double)p->n * (double)p->k, t[2];
        for (int j = 0; j < 2; j++) {
            tensor_set_num_threads(j ? threads : 1);
            t[j] = best_time(p, buf[0], buf[1], buf[2]);
        }
        printf("matmul_gpt config=%s product=%s m=%lld n=%lld k=%lld ta=%d tb=%d gflops_1=%.1f "
               "gflops_%d=%.1f speedup=%.2f\n", p->config, p->product, (long long)p->m,
               (long long)p->n, (long long)p->k, p->ta, p->tb, flops / t[0] * 1e-9, threads,
               flops / t[1] * 1e-9, t[0] / t[1]);
        fflush(stdout);
    }
    for (int j = 0; j < 3; j++) free(buf[j]);
    return 0;
}

int main(int argc, char **argv)
{
    int threads = 1;
    bool quick = false, gpt = false, threads_given = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            threads = atoi(argv[++i]);
            threads_given = true;
        } else if (!strcmp(argv[i], "--quick")) {
            quick = true;
        } else if (!strcmp(argv[i], "--gpt")) {
            gpt = true;
        } else {
            fprintf(stderr, "usage: bench_matmul [--threads N] [--quick] [--gpt]\n");
            return strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    if (gpt && !threads_given) threads = 2;
    if (threads < 1) {
        fprintf(stderr, "bench_matmul: --threads needs a positive count\n");
        return 2;
    }
    tensor_set_num_threads(threads);
    tensor__sgemm_set_blas(false);                 /* the attograd column is the built-in kernel */
    if (gpt) return bench_gpt_products(threads);
#ifdef ATTOGRAD_HAVE_BLAS
    openblas_set_num_threads(threads);
#endif
    tensor_manual_seed(0);
    static const char *const ops[] = {"nn", "nt", "tn", "bnn"};
    for (int64_t n = 64; n <= (quick ? 256 : 1024); n *= 2)
        for (int o = 0; o < 4; o++) bench_case(n, ops[o], threads);
    tensor_cleanup();
    return 0;
}
