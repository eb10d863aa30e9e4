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
 *                  [--heatmap FILE.png [--heatmap-layer N]]
 *
 * --heatmap draws the attention weights of one layer (default the last) on
 * the whole output, one panel per head, the tokens as labels.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attograd.h"
#include "cli.h"
#include "plot.h"

#define PROG "gpt_generate"

typedef struct {
    NNGPTConfig cfg;
    uint64_t seed;
    const char *prompt, *vocab;
    long max_new_tokens, top_k, eos_id;
    double temperature;
    const char *heatmap;
    long heatmap_layer;
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
            "  --vocab DIR               GPT-2's encoder.json and vocab.bpe (./run vocab)\n"
            "  --heatmap FILE.png|svg|pdf  the attention weights on the output, a panel per\n"
            "                            head (at most 64 tokens; gnuplot)\n"
            "  --heatmap-layer N         the layer drawn, from 0; < 0 from the end (default -1)\n");
}

static bool parse_size(const char *flag, int argc, char **argv, int *i, long max, int64_t *out)
{
    const char *v = cli_value(PROG, argc, argv, i);
    long n;
    if (!v || !cli_int(PROG, flag, v, 1, max, &n)) return false;
    *out = n;
    return true;
}

/* --heatmap FILE and --heatmap-layer N; false (message printed) on a bad value. */
static bool parse_heatmap(const char *a, int argc, char **argv, int *i, Options *o)
{
    const char *v = cli_value(PROG, argc, argv, i);
    if (!v) return false;
    if (strcmp(a, "--heatmap-layer") == 0)
        return cli_int(PROG, a, v, -(1L << 12), (1L << 12) - 1, &o->heatmap_layer);
    char why[512];
    if (plot_path_check(v, why, sizeof why)) {
        fprintf(stderr, PROG ": --heatmap: %s\n", why);
        return false;
    }
    o->heatmap = v;
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
        } else if (strcmp(a, "--heatmap") == 0 || strcmp(a, "--heatmap-layer") == 0) {
            if (!parse_heatmap(a, argc, argv, &i, o)) return 2;
        } else {
            fprintf(stderr, PROG ": unknown option '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (o->heatmap && (o->heatmap_layer < -o->cfg.n_layers ||
                       o->heatmap_layer >= o->cfg.n_layers)) {
        fprintf(stderr, PROG ": --heatmap-layer: %ld is not a layer of %lld (0 to %lld, or "
                "-1 to -%lld from the end)\n", o->heatmap_layer, (long long)o->cfg.n_layers,
                (long long)o->cfg.n_layers - 1, (long long)o->cfg.n_layers);
        return 2;
    }
    if (o->top_k > o->cfg.vocab_size) {
        fprintf(stderr, PROG ": --top-k: %ld is larger than the vocabulary (%lld)\n", o->top_k,
                (long long)o->cfg.vocab_size);
        return 2;
    }
    return 0;
}

/* A (B, n) id tensor as PyTorch prints an int64 tensor: every element as
 * wide as the widest, rows wrapped at 80 columns (as many elements as fit
 * after the 8-column indent of "tensor([["), continuation lines indented
 * under the first element. */
static void print_id_tensor(const Tensor *ids)
{
    int64_t B = ids->shape[0], n = ids->shape[1];
    int width = 1;
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < n; t++) {
            int w = snprintf(NULL, 0, "%lld", (long long)tensor_get(ids, IDX(b, t)));
            if (w > width) width = w;
        }
    int per_line = (80 - 8) / (width + 2);
    if (per_line < 1) per_line = 1;
    printf("tensor([");
    for (int64_t b = 0; b < B; b++) {
        printf("%s[", b ? ",\n        " : "");
        for (int64_t t = 0; t < n; t++) {
            if (t) printf(t % per_line ? ", " : ",\n         ");
            printf("%*lld", width, (long long)tensor_get(ids, IDX(b, t)));
        }
        printf("]");
    }
    printf("])\n");
}

static void print_list(const int64_t *ids, size_t n)
{
    printf("[");
    for (size_t i = 0; i < n; i++) printf("%s%lld", i ? ", " : "", (long long)ids[i]);
    printf("]\n");
}

/* ---- --heatmap -------------------------------------------------------------------- */

/* The tokens the heatmap draws: the last context_length of the output. */
static int64_t heatmap_tokens(const Options *o, int64_t n)
{
    return n < o->cfg.context_length ? n : o->cfg.context_length;
}

/* 0 when prompt and new tokens fit the heatmap, else 2 with a message. */
static int heatmap_fits(const Options *o, size_t prompt)
{
    int64_t T = heatmap_tokens(o, (int64_t)prompt + o->max_new_tokens);
    if (!o->heatmap || T <= PLOT_HEATMAP_MAX_SIZE) return 0;
    fprintf(stderr, PROG ": --heatmap: draws at most %d tokens; the prompt (%zu) and "
            "--max-new-tokens (%ld) make %lld\n", PLOT_HEATMAP_MAX_SIZE, prompt,
            o->max_new_tokens, (long long)T);
    return 2;
}

/* The attention weights of the chosen layer, one forward of the output's
 * last T ids (eval mode, no grad), as a panel per head of batch row 0. */
static float *heatmap_cells(const Options *o, Module *model, const Tensor *ids, int64_t T)
{
    Module *att = nn_gpt_attention(model, o->heatmap_layer);
    if (!att || nn_attention_keep_weights(att, true)) return NULL;
    Tensor *last = tensor_narrow(ids, 1, ids->shape[1] - T, T);
    tensor_no_grad_begin();
    bool ok = nn_forward(model, last) != NULL;
    tensor_no_grad_end();
    const Tensor *w = ok ? nn_attention_weights(att) : NULL;   /* (1, H, T, T) */
    float *cells = w ? malloc((size_t)w->numel * sizeof *cells) : NULL;
    for (int64_t h = 0; cells && h < w->shape[1]; h++)
        for (int64_t r = 0; r < T; r++)
            for (int64_t c = 0; c < T; c++)
                cells[(h * T + r) * T + c] = c > r ? NAN : tensor_get(w, IDX(0, h, r, c));
    nn_attention_keep_weights(att, false);
    return cells;
}

static int draw_heatmap(const Options *o, Module *model, const TextTokenizer *tok,
                        const Tensor *ids)
{
    int64_t T = heatmap_tokens(o, ids->shape[1]), H = o->cfg.n_heads;
    long layer = o->heatmap_layer < 0 ? o->heatmap_layer + (long)o->cfg.n_layers
                                      : o->heatmap_layer;
    float *cells = heatmap_cells(o, model, ids, T);
    char **labels = calloc((size_t)T, sizeof *labels);
    char (*titles)[48] = calloc((size_t)H, sizeof *titles);
    const char **title_ptrs = calloc((size_t)H, sizeof *title_ptrs);
    int rc = cells && labels && titles && title_ptrs ? 0 : -1;
    for (int64_t t = 0; t < T && rc == 0; t++) {
        int64_t id = (int64_t)tensor_get(ids, IDX(0, ids->shape[1] - T + t));
        if (!(labels[t] = text_decode(tok, &id, 1, NULL))) rc = -1;
    }
    if (rc) {
        fprintf(stderr, PROG ": --heatmap: %s\n", tensor_error());
    } else {
        for (int64_t h = 0; h < H; h++) {
            snprintf(titles[h], sizeof titles[h], "layer %ld, head %lld", layer, (long long)h);
            title_ptrs[h] = titles[h];
        }
        char title[160], why[512];
        snprintf(title, sizeof title, "GPTModel attention weights, layer %ld of %lld (seed %llu)",
                 layer, (long long)o->cfg.n_layers, (unsigned long long)o->seed);
        PlotHeatmap p = {.title = title, .xlabel = "key (attended to)", .ylabel = "query",
                         .panels = (int)H, .size = (int)T, .values = cells,
                         .panel_titles = title_ptrs, .labels = (const char *const *)labels};
        rc = plot_heatmap(&p, o->heatmap, why, sizeof why);
        if (rc) fprintf(stderr, PROG ": --heatmap: %s\n", why);
    }
    for (int64_t t = 0; labels && t < T; t++) free(labels[t]);
    free(labels);
    free(titles);
    free(title_ptrs);
    free(cells);
    return rc ? 1 : 0;
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
    if (heatmap_fits(o, n)) {
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
        print_id_tensor(out);
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
        if (rc == 0 && o->heatmap) rc = draw_heatmap(o, model, tok, out);
    }
    nn_module_free(model);
    return rc;
}

int main(int argc, char **argv)
{
    Options o = {.cfg = NN_GPT_CONFIG_124M, .seed = 123, .prompt = "Hello, I am",
                 .max_new_tokens = 10, .eos_id = -1, .heatmap_layer = -1};
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
