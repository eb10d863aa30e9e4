/*
 * One training step of the book's GPTModel (chapter 5's train_model_simple
 * step) at the four configurations of issue 13:
 *
 *     ids x, y = random (B, T) token ids          in the step's scope
 *     logits = GPTModel(x)                        (B, T, vocab)
 *     loss = cross_entropy(logits.flatten(0, 1), y.flatten())
 *     zero_grad; backward; AdamW step (lr 0.0004, weight_decay 0.1)
 *
 * Dropout 0 in every configuration (the bytes toy's setting; for the others
 * it changes the step's cost only by the masks).  One line per configuration,
 * thread count and mode, the same as tests/bench/pytorch_gpt.py prints with
 * impl=pytorch, so that `./run bench` sets them side by side:
 *
 *     gpt_step impl=attograd config=book_test V=50257 ctx=12 C=32 H=4 L=2 B=2 T=12 threads=1
 *         mode=fp32 ms_per_step=12.3 peak_rss_kb=45000 gflop=0.1 state_kb=50657 forward_kb=3000
 *     (one line)
 *
 * mode=bf16: the forward and the loss in an autocast region (bf16 products),
 * backward and AdamW after it, as PyTorch's autocast is used.  gflop: the
 * step's matrix products as the book writes them (forward F: per block
 * 24 N E^2 for the projections and the feed-forward and 4 B T^2 E for the
 * full attention products, 2 N E V for out_head, N = B T; the step 3 F),
 * for the table's GFLOP/s against bench_peak's peak.  state_kb: what the
 * step must hold besides activations (weights, gradients, AdamW's two
 * moments: 16 bytes a parameter); forward_kb: the bytes the step's scope
 * has handed out when the loss is computed, the activations the backward
 * reads (attograd keeps every intermediate of a step until its scope ends).
 *
 * ms_per_step is the median over several timed steps (5 for the 124M model,
 * else 15) after 2 warm-up steps, as the PyTorch twin.  Each configuration
 * runs in a child process of its own (fork, no exec), so peak_rss_kb is
 * the ru_maxrss of that child alone, read by wait4: the model, its
 * gradients, AdamW's moments and the step's activations.  Times are
 * reported, never asserted.
 *
 *     bench_gpt [--configs book_test,bytes_toy,124M_4x64,124M_2x256]
 *               [--threads 1,2] [--modes fp32,bf16] [--steps N] [--warmup N]
 *
 * Default: every configuration, on 1 thread and on 2 (when the library runs
 * on more than one by default: tensor_get_num_threads()), float32.
 */
#include "attograd.h"
#include "core/tensor_internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROG "bench_gpt"

typedef struct {
    const char *name;
    int64_t vocab, ctx, emb, heads, layers;
    int64_t B, T;
} Config;

/* The same table as pytorch_gpt.py's CONFIGS. */
static const Config configs[] = {
    {"book_test", 50257, 12, 32, 4, 2, 2, 12},
    {"bytes_toy", 256, 128, 128, 4, 4, 8, 128},
    {"124M_4x64", 50257, 256, 768, 12, 12, 4, 64},
    {"124M_2x256", 50257, 256, 768, 12, 12, 2, 256},
};
enum { N_CONFIGS = sizeof configs / sizeof *configs, MAX_STEPS = 1000 };

typedef struct {
    bool want[N_CONFIGS];
    int threads[8], n_threads;
    bool modes[2];               /* fp32, bf16 */
    int steps, warmup;           /* -1: the configuration's default */
} Options;

/* What the measuring child sends back. */
typedef struct {
    double ms;                   /* median ms per step, < 0 on failure */
    double forward_kb;
    double parameters;
} Measured;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* xorshift64*: the ids only need to be spread over the vocabulary. */
static uint64_t next_id(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* (B, T) random ids in [0, vocab) as floats, in the current scope. */
static Tensor *random_ids(const Config *c, uint64_t *s, float *buf)
{
    for (int64_t i = 0; i < c->B * c->T; i++)
        buf[i] = (float)(next_id(s) % (uint64_t)c->vocab);
    return tensor_from_data(buf, SHAPE(c->B, c->T));
}

/* One step; 0, or -1 with tensor_error() set (a non-finite loss too).
 * *forward_kb: the scopes' bytes once the loss is computed. */
static int step(Module *model, Optimizer *opt, const Config *c, bool bf16, uint64_t *s,
                float *buf, double *forward_kb)
{
    TensorScope *scope = tensor_scope_begin();
    Tensor *x = random_ids(c, s, buf), *y = random_ids(c, s, buf);
    tensor_autocast_begin(bf16);
    Tensor *logits = nn_forward(model, x);
    Tensor *loss = logits ? tensor_cross_entropy(
                                tensor_reshape(logits, SHAPE(c->B * c->T, c->vocab)),
                                tensor_flatten(y))
                          : NULL;
    tensor_autocast_end();
    *forward_kb = (double)tensor__scope_used_bytes() / 1024;
    optim_zero_grad(opt);
    int status = loss && tensor_backward(loss, NULL) == 0 && optim_step(opt) == 0 ? 0 : -1;
    if (status == 0 && !isfinite(tensor_item(loss))) {
        fprintf(stderr, PROG ": %s: the loss is %g\n", c->name, (double)tensor_item(loss));
        status = -2;
    }
    tensor_scope_end(scope);
    return status;
}

/* The child's work: the median ms per step (a negative number on failure). */
static Measured measure(const Config *c, int threads, bool bf16, int warmup, int steps)
{
    tensor_set_num_threads(threads);
    tensor_manual_seed(123);
    NNGPTConfig cfg = {c->vocab, c->ctx, c->emb, c->heads, c->layers, 0.0, false};
    Module *model = nn_gpt_model(cfg);
    NNList params = nn_named_parameters(model);
    double count = 0;
    for (int64_t i = 0; i < params.count; i++) count += (double)params.tensors[i]->numel;
    Optimizer *opt = model ? optim_adamw(params.count, params.tensors,
                                         OPTIM_ADAMW_OPTIONS(.lr = 0.0004, .weight_decay = 0.1))
                           : NULL;
    float *buf = malloc((size_t)(c->B * c->T) * sizeof *buf);
    double *ms = malloc((size_t)steps * sizeof *ms), median = -1, forward_kb = 0;
    uint64_t s = 0x9e3779b97f4a7c15ull;
    int status = opt && buf && ms ? 0 : -1;
    for (int i = 0; status == 0 && i < warmup; i++)
        status = step(model, opt, c, bf16, &s, buf, &forward_kb);
    for (int i = 0; status == 0 && i < steps; i++) {
        double t0 = now_ms();
        status = step(model, opt, c, bf16, &s, buf, &forward_kb);
        ms[i] = now_ms() - t0;
    }
    if (status == -1) fprintf(stderr, PROG ": %s: %s\n", c->name, tensor_error());
    if (status == 0) {
        qsort(ms, (size_t)steps, sizeof *ms, cmp_double);
        median = steps % 2 ? ms[steps / 2] : (ms[steps / 2 - 1] + ms[steps / 2]) / 2;
    }
    free(ms);
    free(buf);
    optim_free(opt);
    nn_list_free(&params);
    nn_module_free(model);
    tensor_cleanup();
    return (Measured){.ms = median, .forward_kb = forward_kb, .parameters = count};
}

/* The step's products as the book writes them (see the top), in GFLOP. */
static double step_gflop(const Config *c)
{
    double N = (double)(c->B * c->T), E = (double)c->emb, T = (double)c->T;
    double forward = (double)c->layers * (24 * N * E * E + 4 * (double)c->B * T * T * E) +
                     2 * N * E * (double)c->vocab;
    return 3 * forward * 1e-9;
}



/* Runs one configuration in a child; prints its line.  0 or -1. */
static int bench(const Config *c, int threads, bool bf16, const Options *o)
{
    bool big = c->emb >= 768;
    int steps = o->steps >= 0 ? o->steps : big ? 5 : 15;
    int warmup = o->warmup >= 0 ? o->warmup : 2;
    int fd[2];
    if (pipe(fd) != 0) {
        fprintf(stderr, PROG ": pipe: %s\n", strerror(errno));
        return -1;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, PROG ": fork: %s\n", strerror(errno));
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        close(fd[0]);
        Measured m = measure(c, threads, bf16, warmup, steps);
        ssize_t w = write(fd[1], &m, sizeof m);
        _exit(w == (ssize_t)sizeof m && m.ms >= 0 ? 0 : 1);
    }
    close(fd[1]);
    Measured m = {.ms = -1};
    ssize_t r = read(fd[0], &m, sizeof m);
    close(fd[0]);
    int wstatus;
    struct rusage ru;
    pid_t w;
    while ((w = wait4(pid, &wstatus, 0, &ru)) < 0 && errno == EINTR) continue;
    if (w != pid || !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0 || r != (ssize_t)sizeof m) {
        fprintf(stderr, PROG ": %s threads=%d: the measuring process failed\n", c->name, threads);
        return -1;
    }
    printf("gpt_step impl=attograd config=%s V=%lld ctx=%lld C=%lld H=%lld L=%lld B=%lld "
           "T=%lld threads=%d mode=%s ms_per_step=%.1f peak_rss_kb=%ld gflop=%.2f "
           "state_kb=%.0f forward_kb=%.0f\n",
           c->name, (long long)c->vocab, (long long)c->ctx, (long long)c->emb,
           (long long)c->heads, (long long)c->layers, (long long)c->B, (long long)c->T, threads,
           bf16 ? "bf16" : "fp32", m.ms, ru.ru_maxrss, step_gflop(c),
           16 * m.parameters / 1024, m.forward_kb);
    fflush(stdout);
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: " PROG " [--configs NAME,...] [--threads N,...] [--modes fp32,bf16] [--steps N]"
               " [--warmup N]\n"
               "  configs: book_test, bytes_toy, 124M_4x64, 124M_2x256 (default: all)\n"
               "  threads: default 1,2 (1 on a one-core machine)\n"
               "  modes:   fp32 (default), bf16 (autocast)\n"
               "  steps:   timed steps, median printed (default 5 for 124M, else 15)\n"
               "  warmup:  untimed steps first (default 2)\n");
}

/* A whole number in [lo, hi], or -1. */
static int parse_int(const char *s, int lo, int hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    return (int)v;
}

static int parse_configs(char *list, Options *o)
{
    memset(o->want, 0, sizeof o->want);
    for (char *name = strtok(list, ","); name; name = strtok(NULL, ",")) {
        int k = 0;
        while (k < N_CONFIGS && strcmp(configs[k].name, name) != 0) k++;
        if (k == N_CONFIGS) {
            fprintf(stderr, PROG ": --configs: unknown config '%s' (known: book_test, "
                            "bytes_toy, 124M_4x64, 124M_2x256)\n", name);
            return -1;
        }
        o->want[k] = true;
    }
    return 0;
}

static int parse_threads(char *list, Options *o)
{
    o->n_threads = 0;
    for (char *t = strtok(list, ","); t; t = strtok(NULL, ",")) {
        int n = parse_int(t, 1, 256);
        if (n < 0 || o->n_threads == (int)(sizeof o->threads / sizeof *o->threads)) {
            fprintf(stderr, PROG ": --threads: '%s' is not a thread count in 1..256 "
                            "(at most 8 of them)\n", t);
            return -1;
        }
        o->threads[o->n_threads++] = n;
    }
    return 0;
}

static int parse_modes(char *list, Options *o)
{
    o->modes[0] = o->modes[1] = false;
    for (char *m = strtok(list, ","); m; m = strtok(NULL, ",")) {
        if (strcmp(m, "fp32") && strcmp(m, "bf16")) {
            fprintf(stderr, PROG ": --modes: unknown mode '%s' (known: fp32, bf16)\n", m);
            return -1;
        }
        o->modes[strcmp(m, "bf16") == 0] = true;
    }
    return 0;
}

/* 0, 1 after --help, or -1 after a one-line reason. */
static int parse(int argc, char **argv, Options *o)
{
    for (int k = 0; k < N_CONFIGS; k++) o->want[k] = true;
    o->threads[0] = 1;
    o->threads[1] = 2;
    o->n_threads = tensor_get_num_threads() >= 2 ? 2 : 1;
    o->steps = o->warmup = -1;
    o->modes[0] = true;
    o->modes[1] = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return 1;
        if (i + 1 >= argc ||
            (strcmp(a, "--configs") && strcmp(a, "--threads") && strcmp(a, "--steps") &&
             strcmp(a, "--warmup") && strcmp(a, "--modes"))) {
            fprintf(stderr, PROG ": %s '%s' (try --help)\n",
                    i + 1 >= argc && a[0] == '-' ? "a value is missing after" : "unknown flag",
                    a);
            return -1;
        }
        char *v = argv[++i];
        if (strcmp(a, "--configs") == 0 && parse_configs(v, o) != 0) return -1;
        if (strcmp(a, "--threads") == 0 && parse_threads(v, o) != 0) return -1;
        if (strcmp(a, "--modes") == 0 && parse_modes(v, o) != 0) return -1;
        if (strcmp(a, "--steps") == 0 && (o->steps = parse_int(v, 1, MAX_STEPS)) < 0) {
            fprintf(stderr, PROG ": --steps '%s': want a whole number in 1..%d\n", v, MAX_STEPS);
            return -1;
        }
        if (strcmp(a, "--warmup") == 0 && (o->warmup = parse_int(v, 0, MAX_STEPS)) < 0) {
            fprintf(stderr, PROG ": --warmup '%s': want a whole number in 0..%d\n", v,
                    MAX_STEPS);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    Options o;
    int p = parse(argc, argv, &o);
    if (p < 0) return 2;
    if (p > 0) {
        usage(stdout);
        return 0;
    }
    int status = 0;
    for (int t = 0; t < o.n_threads; t++)
        for (int k = 0; k < N_CONFIGS; k++)
            for (int bf16 = 0; bf16 < 2; bf16++)
                if (o.want[k] && o.modes[bf16] && bench(&configs[k], o.threads[t], bf16, &o) != 0)
                    status = 1;
    return status;
}
