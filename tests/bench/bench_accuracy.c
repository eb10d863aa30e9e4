/*
 * The bf16 mode's accuracy: the book's GPTModel trained for `steps` steps on
 * the-verdict.txt, float32 and in an autocast region (forward and loss in
 * the region, backward and AdamW after it, as PyTorch's autocast is used),
 * printing the training-loss curve of each:
 *
 *     accuracy impl=attograd config=bytes_toy mode=bf16 steps=200 losses=5.61,5.48,...
 *
 * Configurations (bench_gpt's): bytes_toy (vocab 256: the text's UTF-8
 * bytes, B 8, T 128) and book_test (GPT-2's BPE, B 2, T 12).  Batches are
 * the text's windows in order, stride T (inputs, and targets one id
 * later), the next B for each step, around again at the end; dropout 0;
 * AdamW lr 0.0004, weight decay 0.1; the weights from seed 123, which are
 * PyTorch's.  tests/bench/pytorch_accuracy.py prints the same lines for
 * PyTorch, float32 and torch.autocast("cpu", dtype=torch.bfloat16);
 * table.awk sets the curves against each other.  Nothing is asserted.
 *
 *     bench_accuracy [--configs bytes_toy,book_test] [--steps N] [--text FILE]
 */
#include "attograd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    bool bytes;                  /* the bytes tokenizer, else GPT-2's */
    NNGPTConfig cfg;
    int64_t B, T;
} Config;

static const Config configs[] = {
    {"bytes_toy", true, {256, 128, 128, 4, 4, 0.0, false}, 8, 128},
    {"book_test", false, {50257, 12, 32, 4, 2, 0.0, false}, 2, 12},
};
enum { N_CONFIGS = sizeof configs / sizeof *configs };

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len + 4096 > cap) {
            char *grown = realloc(buf, cap = 2 * cap + 4096);
            if (!grown) break;
            buf = grown;
        }
        size_t got = fread(buf + *len, 1, cap - *len, f);
        if (got == 0) break;
        *len += got;
    }
    fclose(f);
    return buf;
}

/* The curve of one mode: losses[steps]; 0 or -1 (a message set). */
static int train(const Config *c, const int64_t *ids, size_t n, bool bf16, int64_t steps,
                 double *losses)
{
    tensor_manual_seed(123);
    Module *model = nn_gpt_model(c->cfg);
    NNList params = nn_named_parameters(model);
    Optimizer *opt = model ? optim_adamw(params.count, params.tensors,
                                         OPTIM_ADAMW_OPTIONS(.lr = 0.0004, .weight_decay = 0.1))
                           : NULL;
    int64_t windows = (int64_t)(n - 1) / c->T;
    float *x = malloc((size_t)(c->B * c->T) * sizeof *x);
    float *y = malloc((size_t)(c->B * c->T) * sizeof *y);
    int status = opt && x && y && windows > 0 ? 0 : -1;
    for (int64_t s = 0; status == 0 && s < steps; s++) {
        for (int64_t b = 0; b < c->B; b++) {
            int64_t w = (s * c->B + b) % windows;
            for (int64_t t = 0; t < c->T; t++) {
                x[b * c->T + t] = (float)ids[w * c->T + t];
                y[b * c->T + t] = (float)ids[w * c->T + t + 1];
            }
        }
        TensorScope *scope = tensor_scope_begin();
        tensor_autocast_begin(bf16);
        Tensor *logits = nn_forward(model, tensor_from_data(x, SHAPE(c->B, c->T)));
        Tensor *loss = logits ? tensor_cross_entropy(
                                    tensor_reshape(logits, SHAPE(c->B * c->T, c->cfg.vocab_size)),
                                    tensor_flatten(tensor_from_data(y, SHAPE(c->B, c->T))))
                              : NULL;
        tensor_autocast_end();
        optim_zero_grad(opt);
        if (!loss || tensor_backward(loss, NULL) != 0 || optim_step(opt) != 0)
            status = -1;
        else
            losses[s] = tensor_item(loss);
        tensor_scope_end(scope);
    }
    free(x);
    free(y);
    optim_free(opt);
    nn_list_free(&params);
    nn_module_free(model);
    return status;
}

#define PROG "bench_accuracy"

/* 0, 1 after --help, 2 after a bad flag (its line in tensor_error()). */
static int parse(int argc, char **argv, bool *want, int64_t *steps, const char **text)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        bool ok = true;
        if (cli_is_help(a)) {
            printf("usage: " PROG " [--configs bytes_toy,book_test] [--steps N] [--text FILE]\n");
            return 1;
        } else if (strcmp(a, "--configs") == 0) {
            if ((ok = (v = cli_value(PROG, argc, argv, &i)) != NULL))
                for (int k = 0; k < N_CONFIGS; k++) want[k] = strstr(v, configs[k].name) != NULL;
        } else if (strcmp(a, "--steps") == 0) {
            ok = cli_int_flag(PROG, argc, argv, &i, 1, 100000, steps);
        } else if (strcmp(a, "--text") == 0) {
            ok = (*text = cli_value(PROG, argc, argv, &i)) != NULL;
        } else {
            ok = cli_unknown_option(PROG, a);
        }
        if (!ok) return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    bool want[N_CONFIGS] = {true, true};
    int64_t steps = 200;
    const char *text = ATTOGRAD_TEXT_DEFAULT;
    int rc = parse(argc, argv, want, &steps, &text);
    if (rc == 2) fprintf(stderr, "%s\n", tensor_error());
    if (rc) return rc == 1 ? 0 : 2;
    size_t len;
    char *chars = read_file(text, &len);
    if (!chars) {
        fprintf(stderr, "bench_accuracy: cannot read %s\n", text);
        return 1;
    }
    const char *vocab = getenv("ATTOGRAD_VOCAB_DIR");
    double *losses = malloc((size_t)steps * sizeof *losses);
    int status = losses ? 0 : 1;
    for (int k = 0; status == 0 && k < N_CONFIGS; k++) {
        if (!want[k]) continue;
        const Config *c = &configs[k];
        TextTokenizer *tok = c->bytes ? text_tokenizer_bytes()
                                      : text_tokenizer_gpt2_dir(vocab ? vocab
                                                                      : ATTOGRAD_VOCAB_DEFAULT);
        int64_t *ids = NULL;
        size_t n = 0;
        if (!tok || text_encode(tok, chars, len, false, &ids, &n) != 0) {
            fprintf(stderr, "bench_accuracy: %s: %s\n", c->name, tensor_error());
            status = 1;
        }
        for (int bf16 = 0; status == 0 && bf16 < 2; bf16++) {
            if (train(c, ids, n, bf16, steps, losses) != 0) {
                fprintf(stderr, "bench_accuracy: %s: %s\n", c->name, tensor_error());
                status = 1;
                break;
            }
            printf("accuracy impl=attograd config=%s mode=%s steps=%lld losses=", c->name,
                   bf16 ? "bf16" : "fp32", (long long)steps);
            for (int64_t s = 0; s < steps; s++) printf("%s%.6f", s ? "," : "", losses[s]);
            printf("\n");
            fflush(stdout);
        }
        free(ids);
        text_tokenizer_free(tok);
    }
    free(losses);
    free(chars);
    tensor_cleanup();
    return status;
}
