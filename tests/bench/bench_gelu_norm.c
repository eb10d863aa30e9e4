/*
 * GELU and LayerNorm, forward and forward + backward, at the sizes of the
 * GPT step's activations (bench_gpt's configurations) and between them, on
 * one and two threads: where a second thread starts to pay is what sets
 * GELU_PARALLEL_NUMEL (tensor/ops/elementwise.c) and LN_PARALLEL_NUMEL
 * (tensor/ops/norm.c).
 *
 *   bench_gelu_norm [--quick]
 *
 * One line per case and thread count, median microseconds of a call:
 *   gelu numel=524288 threads=2 fwd_us=210.3 fwd_bwd_us=655.0
 *   layer_norm rows=1024 n=128 threads=2 fwd_us=40.1 fwd_bwd_us=120.7
 * Nothing is asserted: times depend on the machine and its load (on a
 * shared machine the second thread may start too late to take a chunk;
 * the best of many calls shows where it can pay).
 */
#include "attograd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { REPS = 15 };

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    const char *op;          /* "gelu" or "layer_norm" */
    int64_t rows, n;         /* the input is (rows, n) */
} Case;

/* The book_test, bytes_toy and 124M (4 x 64, 2 x 256) configurations'
 * GELU inputs (B T, 4 C) and LayerNorm inputs (B T, C), and sizes between. */
static const Case cases[] = {
    {"gelu", 24, 128},    {"gelu", 64, 512},    {"gelu", 128, 512},  {"gelu", 256, 512},
    {"gelu", 512, 512},   {"gelu", 1024, 512},  {"gelu", 256, 3072}, {"gelu", 512, 3072},
    {"layer_norm", 24, 32},   {"layer_norm", 128, 128}, {"layer_norm", 256, 128},
    {"layer_norm", 512, 128}, {"layer_norm", 1024, 128}, {"layer_norm", 256, 768},
    {"layer_norm", 512, 768}, {"layer_norm", 2048, 768},
};

typedef struct {
    Tensor *x, *w, *b, *dy;
} Inputs;

/* One call, in a scope of its own; backward too when asked. */
static int run(const Case *c, const Inputs *in, bool backward)
{
    TensorScope *s = tensor_scope_begin();
    Tensor *y = strcmp(c->op, "gelu") == 0 ? tensor_gelu(in->x)
                                           : tensor_layer_norm(in->x, in->w, in->b, 1e-5);
    int status = y && (!backward || tensor_backward(y, in->dy) == 0) ? 0 : -1;
    tensor_scope_end(s);
    return status;
}

/* Median microseconds of a call: calls are repeated for at least 20 ms a
 * repetition so that short ones are timed over many. */
static double time_calls(const Case *c, const Inputs *in, bool backward)
{
    double t0 = now_us();
    int warm = 0;
    while (warm < 3 || now_us() - t0 < 20e3) {
        if (run(c, in, backward) != 0) return -1;
        warm++;
    }
    int calls = (int)(20e3 / ((now_us() - t0) / warm)) + 1;
    double us[REPS];
    for (int k = 0; k < REPS; k++) {
        double start = now_us();
        for (int i = 0; i < calls; i++)
            if (run(c, in, backward) != 0) return -1;
        us[k] = (now_us() - start) / calls;
    }
    qsort(us, REPS, sizeof *us, cmp_double);
    return us[REPS / 2];
}

static int bench(const Case *c, int threads)
{
    tensor_manual_seed(1);
    bool gelu = strcmp(c->op, "gelu") == 0;
    Inputs in = {
        .x = tensor_requires_grad_(tensor_mul_scalar(tensor_randn(SHAPE(c->rows, c->n)), 2.0f),
                                   true),
        .w = gelu ? NULL : tensor_requires_grad_(tensor_randn(SHAPE(c->n)), true),
        .b = gelu ? NULL : tensor_requires_grad_(tensor_randn(SHAPE(c->n)), true),
        .dy = tensor_randn(SHAPE(c->rows, c->n)),
    };
    double fwd = time_calls(c, &in, false), both = fwd < 0 ? -1 : time_calls(c, &in, true);
    if (both < 0) {
        fprintf(stderr, "bench_gelu_norm: %s (%lld, %lld): %s\n", c->op, (long long)c->rows,
                (long long)c->n, tensor_error());
        return -1;
    }
    if (gelu)
        printf("gelu numel=%lld", (long long)(c->rows * c->n));
    else
        printf("layer_norm rows=%lld n=%lld", (long long)c->rows, (long long)c->n);
    printf(" threads=%d fwd_us=%.1f fwd_bwd_us=%.1f\n", threads, fwd, both);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int status = 0;
    size_t n = quick ? 1 : sizeof cases / sizeof *cases;
    int max_threads = tensor_get_num_threads() >= 2 ? 2 : 1;
    for (size_t i = 0; i < n; i++)
        for (int threads = 1; threads <= max_threads; threads++) {
            TensorScope *s = tensor_scope_begin();
            tensor_set_num_threads(threads);
            if (bench(&cases[i], threads) != 0) status = 1;
            tensor_scope_end(s);
        }
    tensor_cleanup();
    return status;
}
