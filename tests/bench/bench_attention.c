/*
 * One training step of the toy task (examples/toy_task.c) at several sizes:
 *
 *     x = rand(B, T, d_in)                            in the step's scope
 *     with no_grad: y = teacher(x)                    SelfAttention_v2(d_in, d_out)
 *     loss = mse_loss(student(x), y)                  v2, or MultiHeadAttention (4 heads)
 *     zero_grad; backward; Adam step (lr 0.01; 1e-4 from T=256 on, see below)
 *
 * One line per size and thread count (1, and 2 when the library runs on
 * more than one thread: tensor_get_num_threads() by default, which
 * ATTOGRAD_NUM_THREADS sets):
 *
 *     train_step model=v2 B=8 T=64 d_in=64 d_out=64 lr=0.01 threads=1 us_per_step=812.4
 *
 * (flush_denormal=1 after lr: that case runs with tensor_set_flush_denormal.)
 *
 * The learning rate of the large sizes: Adam's first steps move every weight
 * by about lr whatever its gradient, and the scores, sums over d_in of such
 * weights, move by about lr * d_in.  Measured at lr 0.01: the student's
 * largest attention weight is 0.999 after two updates at T=d=512 (1.000
 * after five at T=d=256), and from the fourth update (512) or the tenth
 * (256) on, some weights are subnormal floats: such a figure measures the
 * CPU's subnormal arithmetic, not the kernels.  At lr 1e-4 the largest
 * weight stays at 0.003 (512; uniform is 0.002) and 0.005 (256), and none is
 * subnormal or zero, over 12 updates: more than a measurement takes here
 * (warm-up and repetitions of one step each at these sizes).  So those sizes
 * run at lr 1e-4, and the line with flush_denormal=1 beside the one without
 * shows that the figure no longer depends on subnormals.
 */
#include "attograd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { REPS = 7, MAX_REPS = 15 };

typedef struct {
    const char *model;           /* "v2" or "mha" */
    int B, T, d_in, d_out;
    double lr;                   /* Adam's */
    bool flush;                  /* tensor_set_flush_denormal(true) for the step */
} Case;

static const Case cases[] = {
    {"v2", 8, 6, 3, 2, 0.01, false},
    {"v2", 8, 64, 64, 64, 0.01, false},
    {"mha", 8, 64, 64, 64, 0.01, false},
    {"v2", 8, 256, 256, 256, 1e-4, false},
    {"mha", 8, 256, 256, 256, 1e-4, false},
    {"v2", 4, 512, 512, 512, 1e-4, false},
    /* A causal module at T=512: the band products skip the masked half. */
    {"mha", 4, 512, 512, 512, 1e-4, false},
    /* The same with subnormals flushed (tensor_set_flush_denormal): at
     * lr 1e-4 no softmax saturates, so the two lines should agree. */
    {"v2", 4, 512, 512, 512, 1e-4, true},
};

typedef struct {
    Case c;
    Module *teacher, *student;
    NNList params;
    Optimizer *opt;
} Run;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int run_init(Run *r, const Case *c)
{
    memset(r, 0, sizeof *r);
    r->c = *c;
    tensor_manual_seed(123);
    r->teacher = nn_self_attention_v2(c->d_in, c->d_out, false);
    if (strcmp(c->model, "mha") == 0)
        r->student = nn_multi_head_attention(c->d_in, c->d_out, c->T, 0.0f, 4, false);
    else
        r->student = nn_self_attention_v2(c->d_in, c->d_out, false);
    if (!r->teacher || !r->student) return -1;
    r->params = nn_named_parameters(r->student);
    AdamOptions o = optim_adam_defaults();
    o.lr = c->lr;
    r->opt = optim_adam(r->params.count, r->params.tensors, o);
    return r->opt ? 0 : -1;
}

/* The toy task's step (toy_step), at this run's size. */
static int run_step(Run *r)
{
    TensorScope *scope = tensor_scope_begin();
    Tensor *x = tensor_rand(SHAPE(r->c.B, r->c.T, r->c.d_in));
    tensor_no_grad_begin();
    Tensor *y = nn_forward(r->teacher, x);
    tensor_no_grad_end();
    Tensor *loss = tensor_mse_loss(nn_forward(r->student, x), y);
    optim_zero_grad(r->opt);
    int status = loss && tensor_backward(loss, NULL) == 0 && optim_step(r->opt) == 0 &&
                         isfinite(tensor_item(loss))
                     ? 0
                     : -1;
    tensor_scope_end(scope);
    return status;
}

static void run_free(Run *r)
{
    optim_free(r->opt);
    nn_list_free(&r->params);
    nn_module_free(r->student);
    nn_module_free(r->teacher);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median microseconds per step; -1 on error. */
static double time_steps(Run *r)
{
    /* Warm-up: caches, the arena's chunks, the optimizer's state; it also
     * measures roughly how long a step takes. */
    double t0 = now_us();
    int warm = 0;
    while (warm < 3 || now_us() - t0 < 50e3) {
        if (run_step(r) != 0) return -1;
        warm++;
    }
    double per_step = (now_us() - t0) / warm;
    int steps = (int)ceil(20e3 / per_step);
    int reps = per_step > 100e3 ? 5 : per_step > 20e3 ? REPS : MAX_REPS;
    double us[MAX_REPS];
    for (int k = 0; k < reps; k++) {
        double start = now_us();
        for (int s = 0; s < steps; s++)
            if (run_step(r) != 0) return -1;
        us[k] = (now_us() - start) / steps;
    }
    qsort(us, (size_t)reps, sizeof *us, cmp_double);
    return us[reps / 2];
}

static int bench(const Case *c, int threads)
{
    Run r;
    tensor_set_flush_denormal(c->flush);
    double us = run_init(&r, c) == 0 ? time_steps(&r) : -1;
    tensor_set_flush_denormal(false);
    run_free(&r);
    if (us < 0) {
        fprintf(stderr, "bench_attention: %s B=%d T=%d: %s\n", c->model, c->B, c->T,
                tensor_error());
        return -1;
    }
    printf("train_step model=%s B=%d T=%d d_in=%d d_out=%d lr=%g%s threads=%d us_per_step=%.1f\n",
           c->model, c->B, c->T, c->d_in, c->d_out, c->lr, c->flush ? " flush_denormal=1" : "",
           threads, us);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int status = 0;
    size_t n = quick ? 1 : sizeof cases / sizeof *cases;
    int max_threads = tensor_get_num_threads() >= 2 ? 2 : 1;
    for (int threads = 1; threads <= max_threads; threads++) {
        tensor_set_num_threads(threads);
        for (size_t i = 0; i < n; i++)
            if (bench(&cases[i], threads) != 0) status = 1;
    }
    tensor_cleanup();
    return status;
}
