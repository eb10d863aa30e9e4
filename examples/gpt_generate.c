/*
 * The book's chapter-4 script: torch.manual_seed(123), GPTModel(GPT_CONFIG_124M)
 * in eval mode, and generate_text_simple of 10 tokens after "Hello, I am",
 * printed as the book's script prints them.  Flags choose another prompt,
 * config, seed or sampling (the book's chapter-5 generate).
 *
 *     gpt_generate [--config 124M|book-test] [--vocab-size N] [--context-length N]
 *                  [--emb-dim N] [--n-heads N] [--n-layers N] [--drop-rate X]
 *                  [--qkv-bias] [--seed N] [--prompt TEXT] [--max-new-tokens N]
 *                  [--temperature X] [--top-k N] [--eos-id N] [--vocab DIR]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attograd.h"
#include "cli.h"

#define PROG "gpt_generate"

typedef struct {
    NNGPTConfig cfg;
    uint64_t seed;
    const char *prompt, *vocab;
    long max_new_tokens, top_k, eos_id;
    double temperature;
} Options;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: " PROG " [flags]\n"
            "  The book's chapter-4 script: GPTModel(GPT_CONFIG_124M), seed 123, eval mode,\n"
            "  10 greedy tokens after \"Hello, I am\".\n"
            "  --config 124M|book-test   the model's configuration (default 124M)\n"
            "  --vocab-size N --context-length N --emb-dim N --n-heads N --n-layers N\n"
            "  --drop-rate X --qkv-bias  override one key of the configuration\n"
            "  --seed N                  torch.manual_seed before building (default 123)\n"
            "  --prompt TEXT             the start context (default \"Hello, I am\")\n"
            "  --max-new-tokens N        tokens to generate (default 10)\n"
            "  --temperature X           0 is greedy (default); > 0 samples, as chapter 5\n"
            "  --top-k N                 sample among the N largest logits (0: all)\n"
            "  --eos-id N                stop at this token (default: never)\n"
            "  --vocab DIR               GPT-2's encoder.json and vocab.bpe (./run vocab)\n");
}

static bool parse_size(const char *flag, int argc, char **argv, int *i, long max, int64_t *out)
{
    const char *v = cli_value(PROG, argc, argv, i);
    long n;
    if (!v || !cli_int(PROG, flag, v, 1, max, &n)) return false;
    *out = n;
    return true;
}

/* 0 on success, 2 on a bad flag (message printed), 1 for --help. */
static int parse(int argc, char **argv, Options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        long n;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 1;
        } else if (strcmp(a, "--config") == 0) {
            if (!(v = cli_value(PROG, argc, argv, &i))) return 2;
            if (strcmp(v, "124M") == 0) o->cfg = NN_GPT_CONFIG_124M;
            else if (strcmp(v, "book-test") == 0) o->cfg = NN_GPT_CONFIG_BOOK_TEST;
            else {
                fprintf(stderr, PROG ": --config: unknown config '%s' (124M, book-test)\n", v);
                return 2;
            }
        } else if (strcmp(a, "--vocab-size") == 0) {
            if (!parse_size(a, argc, argv, &i, 1L << 24, &o->cfg.vocab_size)) return 2;
        } else if (strcmp(a, "--context-length") == 0) {
            if (!parse_size(a, argc, argv, &i, 1L << 24, &o->cfg.context_length)) return 2;
        } else if (strcmp(a, "--emb-dim") == 0) {
            if (!parse_size(a, argc, argv, &i, 1L << 16, &o->cfg.emb_dim)) return 2;
        } else if (strcmp(a, "--n-heads") == 0) {
            if (!parse_size(a, argc, argv, &i, 1L << 12, &o->cfg.n_heads)) return 2;
        } else if (strcmp(a, "--n-layers") == 0) {
            if (!parse_size(a, argc, argv, &i, 1L << 12, &o->cfg.n_layers)) return 2;
        } else if (strcmp(a, "--drop-rate") == 0) {
            if (!(v = cli_value(PROG, argc, argv, &i)) ||
                !cli_double(PROG, a, v, 0, 0.999999, &o->cfg.drop_rate))
                return 2;
        } else if (strcmp(a, "--qkv-bias") == 0) {
            o->cfg.qkv_bias = true;
        } else if (strcmp(a, "--seed") == 0) {
            if (!(v = cli_value(PROG, argc, argv, &i)) || !cli_u64(PROG, a, v, &o->seed))
                return 2;
        } else if (strcmp(a, "--prompt") == 0) {
            if (!(o->prompt = cli_value(PROG, argc, argv, &i))) return 2;
        } else if (strcmp(a, "--vocab") == 0) {
            if (!(o->vocab = cli_value(PROG, argc, argv, &i))) return 2;
        } else if (strcmp(a, "--max-new-tokens") == 0) {
            if (!(v = cli_value(PROG, argc, argv, &i)) ||
                !cli_int(PROG, a, v, 0, 1L << 20, &o->max_new_tokens))
                return 2;
        } else if (strcmp(a, "--temperature") == 0) {
            if (!(v = cli_value(PROG, argc, argv, &i)) ||
                !cli_double(PROG, a, v, 0, 1e6, &o->temperature))
                return 2;
        } else if (strcmp(a, "--top-k") == 0) {
            if (!(v = cli_value(PROG, argc, argv, &i)) || !cli_int(PROG, a, v, 1, 1L << 24, &n))
                return 2;
            o->top_k = n;
        } else if (strcmp(a, "--eos-id") == 0) {
            if (!(v = cli_value(PROG, argc, argv, &i)) || !cli_int(PROG, a, v, 0, 1L << 24, &n))
                return 2;
            o->eos_id = n;
        } else {
            fprintf(stderr, PROG ": unknown option '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (o->top_k > o->cfg.vocab_size) {
        fprintf(stderr, PROG ": --top-k: %ld is larger than the vocabulary (%lld)\n", o->top_k,
                (long long)o->cfg.vocab_size);
        return 2;
    }
    return 0;
}

static void print_list(const int64_t *ids, size_t n)
{
    printf("[");
    for (size_t i = 0; i < n; i++) printf("%s%lld", i ? ", " : "", (long long)ids[i]);
    printf("]\n");
}

static int generate(const Options *o, TextTokenizer *tok)
{
    int64_t *enc = NULL;
    size_t n = 0;
    if (text_encode(tok, o->prompt, strlen(o->prompt), true, &enc, &n) != 0) {
        fprintf(stderr, PROG ": --prompt: %s\n", tensor_error());
        return 1;
    }
    if (n == 0) {
        fprintf(stderr, PROG ": --prompt: the prompt is empty\n");
        free(enc);
        return 2;
    }
    for (size_t i = 0; i < n; i++)
        if (enc[i] >= o->cfg.vocab_size) {
            fprintf(stderr, PROG ": --prompt: token %lld is outside the vocabulary (%lld)\n",
                    (long long)enc[i], (long long)o->cfg.vocab_size);
            free(enc);
            return 2;
        }
    tensor_manual_seed(o->seed);
    Module *model = nn_gpt_model(o->cfg);
    if (!model) {
        fprintf(stderr, PROG ": %s\n", tensor_error());
        free(enc);
        return 2;
    }
    nn_train(model, false);   /* model.eval(): dropout off */

    float *data = malloc(n * sizeof *data);
    for (size_t i = 0; i < n && data; i++) data[i] = (float)enc[i];
    Tensor *encoded = data ? tensor_from_data(data, SHAPE(1, (int64_t)n)) : NULL;
    free(data);
    printf("\n%.50s\n%22sIN\n%.50s\n", "==================================================", "",
           "==================================================");
    printf("\nInput text: %s\n", o->prompt);
    printf("Encoded input text: ");
    print_list(enc, n);
    printf("encoded_tensor.shape: torch.Size([1, %zu])\n", n);
    free(enc);

    /* The book's chapter-5 generate re-seeds right before sampling. */
    if (o->temperature > 0) tensor_manual_seed(o->seed);
    Tensor *out = encoded ? nn_generate(model, encoded, o->max_new_tokens, o->cfg.context_length,
                                        o->temperature, o->top_k, o->eos_id)
                          : NULL;
    int rc = 0;
    if (!out) {
        fprintf(stderr, PROG ": generate: %s\n", tensor_error());
        rc = 1;
    } else {
        int64_t m = out->shape[1];
        int64_t *ids = malloc((size_t)m * sizeof *ids);
        for (int64_t i = 0; i < m && ids; i++) ids[i] = (int64_t)tensor_get(out, IDX(0, i));
        size_t len = 0;
        char *text = ids ? text_decode(tok, ids, (size_t)m, &len) : NULL;
        printf("\n\n%.50s\n%22sOUT\n%.50s\n", "==================================================",
               "", "==================================================");
        printf("\nOutput: ");
        if (tensor_print_ids(out) != 0) {
            fprintf(stderr, PROG ": print: %s\n", tensor_error());
            rc = 1;
        }
        printf("Output length: %lld\n", (long long)m);
        if (text) {
            printf("Output text: ");
            fwrite(text, 1, len, stdout);
            printf("\n");
        } else {
            fprintf(stderr, PROG ": decode: %s\n", tensor_error());
            rc = 1;
        }
        free(text);
        free(ids);
    }
    nn_module_free(model);
    return rc;
}

int main(int argc, char **argv)
{
    Options o = {.cfg = NN_GPT_CONFIG_124M, .seed = 123, .prompt = "Hello, I am",
                 .max_new_tokens = 10, .eos_id = -1};
    int rc = parse(argc, argv, &o);
    if (rc) return rc == 1 ? 0 : rc;
    TextTokenizer *tok = cli_tokenizer(PROG, "gpt2", o.vocab);
    if (!tok) return 1;
    rc = generate(&o, tok);
    text_tokenizer_free(tok);
    if (fflush(stdout) != 0) {
        fprintf(stderr, PROG ": cannot write stdout\n");
        rc = 1;
    }
    return rc;
}
