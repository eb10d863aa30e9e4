/*
 * One greedy token of the book's GPTModel (124M: 50257, 1024, 768, 12, 12,
 * no qkv bias) with the key/value cache, at a context near 1024, float32
 * and in an autocast region (bf16 weights and cache):
 *
 *     prompt: `prompt` random ids, one call that fills the cache
 *     then `tokens` calls of one new position each (nn_generate's fast
 *     path, nn__gpt_last_logits), each timed; the median is printed
 *
 *     generate impl=attograd mode=fp32 threads=1 context=1024 prompt=1000 tokens=12
 *         ms_per_token=41.2 first_ms=2950.1 weight_bytes=496250880 kv_bytes=75497472
 *     (one line)
 *
 * weight_bytes: the bytes of the weights a token reads (every Linear of the
 * blocks and out_head; not the embeddings, of which it reads one row, nor
 * the layer norms); kv_bytes: the keys and values it reads at the last
 * token's context, both in the mode's type (4 bytes or 2), for the table's
 * "time to stream them once" at bench_peak's bandwidth.  Each mode and
 * thread count runs in a child process of its own.  Weights are random (a
 * seed): the time does not depend on them.
 *
 *     bench_generate [--threads 1,2] [--modes fp32,bf16] [--prompt N] [--tokens N]
 */
#include "attograd.h"
#include "nn/nn_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const NNGPTConfig gpt124m = {50257, 1024, 768, 12, 12, 0.0, false};

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

typedef struct {
    double ms_per_token, first_ms;
} Result;

/* In the child: the prompt's call, then one position at a time. */
static int measure(bool bf16, int threads, int prompt, int tokens, Result *r)
{
    tensor_set_num_threads(threads);
    tensor_manual_seed(123);
    Module *m = nn_gpt_model(gpt124m);
    if (!m) return -1;
    nn_train(m, false);
    tensor_no_grad_begin();
    tensor_autocast_begin(bf16);
    int64_t total = prompt + tokens;
    Tensor *ids = tensor_randint(0, gpt124m.vocab_size, SHAPE(1, total), NULL);
    NNGPTCache *cache = nn__gpt_cache_new(m, 1, gpt124m.context_length);
    double *ms = malloc((size_t)tokens * sizeof *ms);
    int status = ids && cache && ms ? 0 : -1;
    for (int64_t n = prompt; status == 0 && n <= total; n++) {
        TensorScope *s = tensor_scope_begin();
        double t0 = now_ms();
        Tensor *last = nn__gpt_last_logits(m, cache, tensor_narrow(ids, 1, 0, n), 0);
        Tensor *next = last ? tensor_argmax(last, -1, false) : NULL;
        double dt = now_ms() - t0;
        if (!next) status = -1;
        if (n == prompt) r->first_ms = dt;
        else ms[n - prompt - 1] = dt;
        tensor_scope_end(s);
    }
    if (status == 0) {
        qsort(ms, (size_t)tokens, sizeof *ms, cmp_double);
        r->ms_per_token = tokens % 2 ? ms[tokens / 2] : (ms[tokens / 2 - 1] + ms[tokens / 2]) / 2;
    } else {
        fprintf(stderr, "bench_generate: %s\n", tensor_error());
    }
    free(ms);
    nn__gpt_cache_free(cache);
    tensor_autocast_end();
    tensor_no_grad_end();
    nn_module_free(m);
    tensor_cleanup();
    return status;
}

static int bench(bool bf16, int threads, int prompt, int tokens)
{
    int fd[2];
    if (pipe(fd) != 0) return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        close(fd[0]);
        Result r = {0};
        int status = measure(bf16, threads, prompt, tokens, &r);
        ssize_t w = write(fd[1], &r, sizeof r);
        _exit(status == 0 && w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fd[1]);
    Result r;
    ssize_t got = read(fd[0], &r, sizeof r);
    close(fd[0]);
    int ws;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) continue;
    if (got != (ssize_t)sizeof r || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
        fprintf(stderr, "bench_generate: mode=%s threads=%d: the measuring process failed\n",
                bf16 ? "bf16" : "fp32", threads);
        return -1;
    }
    int64_t E = gpt124m.emb_dim, L = gpt124m.n_layers, V = gpt124m.vocab_size;
    int64_t elt = bf16 ? 2 : 4, ctx = prompt + tokens;
    /* per block: W_query, W_key, W_value, out_proj (E x E), ff (E x 4E, 4E x E) */
    int64_t weights = (L * (4 * E * E + 8 * E * E) + V * E) * elt;
    int64_t kv = 2 * L * ctx * E * elt;
    printf("generate impl=attograd mode=%s threads=%d context=%lld prompt=%d tokens=%d "
           "ms_per_token=%.2f first_ms=%.1f weight_bytes=%lld kv_bytes=%lld\n",
           bf16 ? "bf16" : "fp32", threads, (long long)gpt124m.context_length, prompt, tokens,
           r.ms_per_token, r.first_ms, (long long)weights, (long long)kv);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    int threads[8] = {1, 2}, n_threads = tensor_get_num_threads() >= 2 ? 2 : 1;
    bool modes[2] = {true, true};
    int prompt = 1000, tokens = 12;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) {
            fprintf(stderr, "usage: bench_generate [--threads 1,2] [--modes fp32,bf16] "
                            "[--prompt N] [--tokens N]\n");
            return strcmp(a, "--help") ? 2 : 0;
        }
        char *v = argv[++i];
        if (strcmp(a, "--threads") == 0) {
            n_threads = 0;
            for (char *t = strtok(v, ","); t && n_threads < 8; t = strtok(NULL, ","))
                threads[n_threads++] = atoi(t);
        } else if (strcmp(a, "--modes") == 0) {
            modes[0] = strstr(v, "fp32") != NULL;
            modes[1] = strstr(v, "bf16") != NULL;
        } else if (strcmp(a, "--prompt") == 0) {
            prompt = atoi(v);
        } else if (strcmp(a, "--tokens") == 0) {
            tokens = atoi(v);
        } else {
            fprintf(stderr, "bench_generate: unknown flag '%s' (try --help)\n", a);
            return 2;
        }
    }
    if (prompt < 1 || tokens < 1 || prompt + tokens > gpt124m.context_length) {
        fprintf(stderr, "bench_generate: want prompt >= 1, tokens >= 1, prompt + tokens <= %lld\n",
                (long long)gpt124m.context_length);
        return 2;
    }
    int status = 0;
    for (int t = 0; t < n_threads; t++)
        for (int m = 0; m < 2; m++)
            if (modes[m] && bench(m == 1, threads[t], prompt, tokens) != 0) status = 1;
    return status;
}
