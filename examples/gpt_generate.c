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
 *                  [--tokenizer gpt2|bytes] [--load FILE | --hf-gpt2 FILE]
 *                  [--heatmap FILE.png [--heatmap-layer N]] [--raw] [--bf16]
 *
 * --load runs a train_gpt checkpoint's model (its config and tokenizer from
 * the file's metadata); --hf-gpt2 GPT-2's published weights, Hugging Face's
 * model.safetensors (nn_gpt_load_hf).  Config flags then only confirm what
 * the file says: one that contradicts it is an error naming both.
 * --heatmap draws the attention weights of one layer (default the last) on
 * the whole output, one panel per head, the tokens as labels.
 * --bf16 generates in a bfloat16 autocast region (tensor_autocast_begin):
 * each token reads the weights packed once into bf16 and a bf16 key/value
 * cache, half the bytes of float32 (PyTorch's torch.autocast("cpu",
 * dtype=torch.bfloat16) around the book's loop gives the same products).
 * Text is printed as Python's tokenizer.decode gives it (text_decode_replace:
 * a character that the ids cut, or a byte id that is no UTF-8, is U+FFFD);
 * --raw prints the ids' bytes as they are.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attograd.h"

#define PROG "gpt_generate"

/* The config keys, in NNGPTConfig's order, for set_by[] and messages. */
enum { KEY_VOCAB, KEY_CONTEXT, KEY_EMB, KEY_HEADS, KEY_LAYERS, KEY_DROP, KEY_QKV, N_KEYS };

typedef struct {
    CliGPTConfig gpt;
    uint64_t seed;
    const char *prompt, *vocab;
    long max_new_tokens, top_k, eos_id;
    double temperature;
    const char *tokenizer;       /* --tokenizer; NULL: the file's, else gpt2 */
    const char *load, *hf;       /* --load FILE, --hf-gpt2 FILE */
    const char *set_by[N_KEYS];  /* the flag that last set each config key, or NULL */
    const char *heatmap;
    long heatmap_layer;
    bool bf16;                   /* --bf16: generate in an autocast region */
    bool raw;                    /* --raw: Output text's bytes as the ids give them */
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
            "  --tokenizer gpt2|bytes    the tokenizer (default gpt2; with --load the file's)\n"
            "  --load FILE               a train_gpt --save checkpoint: its model, config and\n"
            "                            tokenizer\n"
            "  --hf-gpt2 FILE            GPT-2's weights, Hugging Face's model.safetensors;\n"
            "                            heads by width (768: 12, 1024: 16, 1280: 20, 1600: 25)\n"
            "                            or --n-heads\n"
            "  --heatmap FILE.png|svg|pdf  the attention weights on the output, a panel per\n"
            "                            head (at most 64 tokens; gnuplot)\n"
            "  --heatmap-layer N         the layer drawn, from 0; < 0 from the end (default -1)\n"
            "  --raw                     Output text as the ids' bytes (default: as Python's\n"
            "                            tokenizer.decode prints it, a cut character U+FFFD)\n"
            "  --bf16                    bfloat16 products and key/value cache, as\n"
            "                            torch.autocast(\"cpu\", dtype=torch.bfloat16)\n");
}

/* Which config keys the flag at argv[i] sets (it was just read by
 * cli_gpt_config_flag): --config sets them all. */
static void note_config_flag(Options *o, const char *flag)
{
    static const char *const flags[N_KEYS] = {"--vocab-size", "--context-length", "--emb-dim",
                                              "--n-heads", "--n-layers", "--drop-rate",
                                              "--qkv-bias"};
    bool all = strcmp(flag, "--config") == 0;
    for (int k = 0; k < N_KEYS; k++)
        if (all || strcmp(flag, flags[k]) == 0) o->set_by[k] = all ? "--config" : flags[k];
}

/* 0 on success, 2 on a bad flag (its line in tensor_error()), 1 for --help. */
static int parse(int argc, char **argv, Options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int gpt;
        if (cli_is_help(a)) {
            usage(stdout);
            return 1;
        } else if ((gpt = cli_gpt_config_flag(PROG, argc, argv, &i, &o->gpt)) != 0) {
            if (gpt < 0) return 2;
            note_config_flag(o, a);
        } else if (strcmp(a, "--load") == 0 || strcmp(a, "--hf-gpt2") == 0) {
            if (!(v = cli_value(PROG, argc, argv, &i))) return 2;
            if (strcmp(a, "--load") == 0) o->load = v;
            else o->hf = v;
        } else if (strcmp(a, "--tokenizer") == 0) {
            if (!cli_tokenizer_flag(PROG, argc, argv, &i, &o->tokenizer)) return 2;
        } else if (strcmp(a, "--seed") == 0) {
            if (!cli_u64_flag(PROG, argc, argv, &i, &o->seed)) return 2;
        } else if (strcmp(a, "--prompt") == 0) {
            if (!(o->prompt = cli_value(PROG, argc, argv, &i))) return 2;
        } else if (strcmp(a, "--vocab") == 0) {
            if (!(o->vocab = cli_value(PROG, argc, argv, &i))) return 2;
        } else if (strcmp(a, "--max-new-tokens") == 0) {
            if (!cli_int_flag(PROG, argc, argv, &i, 0, 1L << 20, &o->max_new_tokens)) return 2;
        } else if (strcmp(a, "--temperature") == 0) {
            if (!cli_double_flag(PROG, argc, argv, &i, 0, 1e6, &o->temperature)) return 2;
        } else if (strcmp(a, "--top-k") == 0) {
            if (!cli_int_flag(PROG, argc, argv, &i, 0, 1L << 24, &o->top_k)) return 2;
        } else if (strcmp(a, "--eos-id") == 0) {
            if (!cli_int_flag(PROG, argc, argv, &i, 0, 1L << 24, &o->eos_id)) return 2;
        } else if (strcmp(a, "--heatmap") == 0) {
            if (!cli_picture_flag(PROG, argc, argv, &i, &o->heatmap)) return 2;
        } else if (strcmp(a, "--heatmap-layer") == 0) {
            if (!cli_int_flag(PROG, argc, argv, &i, -(1L << 12), (1L << 12) - 1,
                              &o->heatmap_layer))
                return 2;
        } else if (strcmp(a, "--bf16") == 0) {
            o->bf16 = true;
        } else if (strcmp(a, "--raw") == 0) {
            o->raw = true;
        } else {
            cli_unknown_option(PROG, a);
            return 2;
        }
    }
    if (o->load && o->hf) {
        tensor_set_error(PROG ": --load and --hf-gpt2 exclude each other (one model)");
        return 2;
    }
    return 0;
}

/* Flags that need the model's config (the file's with --load or --hf-gpt2). */
static int check_against_vocabulary(const Options *o)
{
    int64_t V = o->gpt.cfg.vocab_size;
    if (o->top_k > V) {
        fprintf(stderr, PROG ": --top-k: %ld is larger than the vocabulary (%lld)\n", o->top_k,
                (long long)V);
        return 2;
    }
    if (o->heatmap && (o->heatmap_layer < -o->gpt.cfg.n_layers ||
                       o->heatmap_layer >= o->gpt.cfg.n_layers)) {
        fprintf(stderr, PROG ": --heatmap-layer: %ld is not a layer of %lld (0 to %lld, or "
                "-1 to -%lld from the end)\n", o->heatmap_layer, (long long)o->gpt.cfg.n_layers,
                (long long)o->gpt.cfg.n_layers - 1, (long long)o->gpt.cfg.n_layers);
        return 2;
    }
    if (o->eos_id >= V) {
        fprintf(stderr, PROG ": --eos-id: %ld is outside the vocabulary (0 to %lld)\n",
                o->eos_id, (long long)V - 1);
        return 2;
    }
    return 0;
}

/* ---- the model from a file: --load and --hf-gpt2 ------------------------------------ */

static const char *const key_names[N_KEYS] = {"vocab_size", "context_length", "emb_dim",
                                              "n_heads", "n_layers", "drop_rate", "qkv_bias"};

/* Key k of cfg: its value (sizes are exact in a double) and as text. */
static double key_number(const NNGPTConfig *c, int k)
{
    const double v[N_KEYS] = {(double)c->vocab_size, (double)c->context_length,
                              (double)c->emb_dim, (double)c->n_heads, (double)c->n_layers,
                              c->drop_rate, c->qkv_bias};
    return v[k];
}

static const char *key_text(const NNGPTConfig *c, int k, char buf[32])
{
    if (k == KEY_QKV) snprintf(buf, 32, "%s", c->qkv_bias ? "true" : "false");
    else if (k == KEY_DROP) snprintf(buf, 32, "%g", c->drop_rate);
    else snprintf(buf, 32, "%.0f", key_number(c, k));
    return buf;
}

/* Every config key a flag set (but those in skip, a bit per key) must be the
 * file's; the first that is not is an error naming both.  Then the file's
 * config is the run's. */
static int agree_with_file(Options *o, const char *path, NNGPTConfig file, unsigned skip)
{
    for (int k = 0; k < N_KEYS; k++) {
        char mine[32], theirs[32];
        if (!o->set_by[k] || (skip >> k & 1)) continue;
        if (key_number(&o->gpt.cfg, k) == key_number(&file, k)) continue;
        fprintf(stderr, PROG ": %s (%s %s) contradicts %s (%s %s)\n", o->set_by[k],
                key_names[k], key_text(&o->gpt.cfg, k, mine), path, key_names[k],
                key_text(&file, k, theirs));
        return 2;
    }
    o->gpt.cfg = file;
    return 0;
}

/* The model's config and tokenizer from a train_gpt checkpoint's metadata
 * (nn_gpt_config_from_meta: the keys train_gpt --save writes), and every
 * tensor of that model checked in the file (nn_gpt_check_file), so that
 * the metadata alone cannot size a model the file does not hold.  Only the
 * header is read; 0, or 1 (a bad file) or 2 (a contradicting flag) after a
 * message. */
static int checkpoint_config(Options *o)
{
    TensorFile *f = tensor_file_open(o->load);
    NNGPTConfig c;
    const char *tok = NULL;
    int rc = f && nn_gpt_config_from_meta(f, o->load, &c, &tok) == 0 ? 0 : 1;
    tensor_file_close(f);
    if (rc == 0 && nn_gpt_check_file(c, o->load) != 0) rc = 1;
    if (rc) {
        fprintf(stderr, PROG ": --load: %s\n", tensor_error());
        return 1;
    }
    if (o->tokenizer && strcmp(o->tokenizer, tok) != 0) {
        fprintf(stderr, PROG ": --tokenizer %s contradicts %s (tokenizer %s)\n", o->tokenizer,
                o->load, tok);
        return 2;
    }
    o->tokenizer = tok;
    return agree_with_file(o, o->load, c, 0);
}

/* The config of GPT-2's file: its shapes, heads from --n-heads or its width;
 * drop_rate from --drop-rate (eval mode never uses it). */
static int hf_config(Options *o)
{
    NNGPTConfig c;
    if (nn_gpt_hf_config(o->hf, &c) != 0) {
        fprintf(stderr, PROG ": --hf-gpt2: %s\n", tensor_error());
        return 1;
    }
    if (o->set_by[KEY_HEADS]) c.n_heads = o->gpt.cfg.n_heads;
    if (o->set_by[KEY_DROP]) c.drop_rate = o->gpt.cfg.drop_rate;
    if (c.n_heads == 0) {
        fprintf(stderr, PROG ": --hf-gpt2 %s: emb_dim %lld is none of GPT-2's widths (768, 1024, "
                "1280, 1600): give --n-heads\n", o->hf, (long long)c.emb_dim);
        return 2;
    }
    if (c.emb_dim % c.n_heads != 0) {
        fprintf(stderr, PROG ": --n-heads %lld does not divide %s's emb_dim %lld\n",
                (long long)c.n_heads, o->hf, (long long)c.emb_dim);
        return 2;
    }
    /* --config 124M is GPT-2 small but for its qkv biases, which the book
     * turns on when it loads GPT-2 (NEW_CONFIG.update(qkv_bias=True)). */
    unsigned skip = 1u << KEY_HEADS | 1u << KEY_DROP;
    if (o->set_by[KEY_QKV] && strcmp(o->set_by[KEY_QKV], "--config") == 0) skip |= 1u << KEY_QKV;
    return agree_with_file(o, o->hf, c, skip);
}

/* The model to generate with (the default generator seeded): built from the
 * config, or from it and a file's weights.  NULL after a message, *rc 2
 * for a bad config, 1 for a bad file. */
static Module *make_model(const Options *o, int *rc)
{
    Module *m = o->hf ? nn_gpt_load_hf(o->hf, o->gpt.cfg) : nn_gpt_model(o->gpt.cfg);
    if (m && o->load && checkpoint_load_module(m, o->load, 0, NULL) != 0) {
        nn_module_free(m);
        m = NULL;
    }
    if (!m) {
        fprintf(stderr, PROG ": %s\n", tensor_error());
        *rc = o->hf || o->load ? 1 : 2;
    }
    return m;
}

static void print_list(const int64_t *ids, size_t n)
{
    printf("[");
    for (size_t i = 0; i < n; i++) printf("%s%lld", i ? ", " : "", (long long)ids[i]);
    printf("]\n");
}

/* ---- --heatmap -------------------------------------------------------------------- */

/* The most tokens a heatmap draws: beyond, their labels no longer read. */
enum { HEATMAP_MAX_TOKENS = 64 };

/* The tokens the heatmap draws: the last context_length of the output. */
static int64_t heatmap_tokens(const Options *o, int64_t n)
{
    return n < o->gpt.cfg.context_length ? n : o->gpt.cfg.context_length;
}

/* 0 when prompt and new tokens fit the heatmap, else 2 with a message. */
static int heatmap_fits(const Options *o, size_t prompt)
{
    int64_t T = heatmap_tokens(o, (int64_t)prompt + o->max_new_tokens);
    if (!o->heatmap || T <= HEATMAP_MAX_TOKENS) return 0;
    fprintf(stderr, PROG ": --heatmap: draws at most %d tokens; the prompt (%zu) and "
            "--max-new-tokens (%ld) make %lld\n", HEATMAP_MAX_TOKENS, prompt,
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

/* A token as a tic label: a newline or a tab shown as \n, \t (the token's
 * bytes, not a line break). */
static char *visible(char *token)
{
    size_t n = 0;
    for (const char *c = token; *c; c++) n += *c == '\n' || *c == '\t';
    char *v = n ? malloc(strlen(token) + n + 1) : NULL;
    if (!v) return token;
    char *w = v;
    for (const char *c = token; *c; c++)
        if (*c == '\n' || *c == '\t') *w++ = '\\', *w++ = *c == '\n' ? 'n' : 't';
        else *w++ = *c;
    *w = '\0';
    free(token);
    return v;
}

static int draw_heatmap(const Options *o, Module *model, const TextTokenizer *tok,
                        const Tensor *ids)
{
    int64_t T = heatmap_tokens(o, ids->shape[1]), H = o->gpt.cfg.n_heads;
    long layer = o->heatmap_layer < 0 ? o->heatmap_layer + (long)o->gpt.cfg.n_layers
                                      : o->heatmap_layer;
    float *cells = heatmap_cells(o, model, ids, T);
    char **labels = calloc((size_t)T, sizeof *labels);
    char (*titles)[48] = calloc((size_t)H, sizeof *titles);
    const char **title_ptrs = calloc((size_t)H, sizeof *title_ptrs);
    int rc = cells && labels && titles && title_ptrs ? 0 : -1;
    for (int64_t t = 0; t < T && rc == 0; t++) {
        int64_t id = (int64_t)tensor_get(ids, IDX(0, ids->shape[1] - T + t));
        if (!(labels[t] = text_decode_replace(tok, &id, 1, NULL))) rc = -1;
        else labels[t] = visible(labels[t]);
    }
    if (rc) {
        fprintf(stderr, PROG ": --heatmap: %s\n", tensor_error());
    } else {
        for (int64_t h = 0; h < H; h++) {
            snprintf(titles[h], sizeof titles[h], "layer %ld, head %lld", layer, (long long)h);
            title_ptrs[h] = titles[h];
        }
        char title[160], subtitle[160];
        snprintf(title, sizeof title, "GPTModel attention weights, layer %ld of %lld (seed %llu)",
                 layer, (long long)o->gpt.cfg.n_layers, (unsigned long long)o->seed);
        int n = snprintf(subtitle, sizeof subtitle, "one colour scale for all heads: 0 to 1");
        if (T < ids->shape[1])
            snprintf(subtitle + n, sizeof subtitle - (size_t)n, "; the last %lld of %lld tokens "
                     "(the model's context_length)", (long long)T, (long long)ids->shape[1]);
        PlotHeatmapOptions p = PLOT_HEATMAP_OPTIONS(
            .title = title, .subtitle = subtitle, .xlabel = "key (attended to)",
            .ylabel = "query", .panel_titles = title_ptrs, .row_labels = (const char *const *)labels,
            .col_labels = (const char *const *)labels, .scale = PLOT_SCALE_FIXED, .min = 0,
            .max = 1);
        rc = plot_heatmap(o->heatmap, H, T, T, cells, p);
        if (rc) fprintf(stderr, PROG ": --heatmap %s\n", tensor_error());
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
        if (enc[i] >= o->gpt.cfg.vocab_size) {
            fprintf(stderr, PROG ": --prompt: token %lld is outside the vocabulary (%lld)\n",
                    (long long)enc[i], (long long)o->gpt.cfg.vocab_size);
            free(enc);
            return 2;
        }
    if (heatmap_fits(o, n)) {
        free(enc);
        return 2;
    }
    tensor_manual_seed(o->seed);
    int rc = 0;
    Module *model = make_model(o, &rc);
    if (!model) {
        free(enc);
        return rc;
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
    tensor_autocast_begin(o->bf16);
    Tensor *out = encoded ? nn_generate(model, encoded, o->max_new_tokens,
                                        o->gpt.cfg.context_length, o->temperature, o->top_k,
                                        o->eos_id)
                          : NULL;
    tensor_autocast_end();
    if (!out) {
        fprintf(stderr, PROG ": generate: %s\n", tensor_error());
        rc = 1;
    } else {
        int64_t m = out->shape[1];
        int64_t *ids = malloc((size_t)m * sizeof *ids);
        for (int64_t i = 0; i < m && ids; i++) ids[i] = (int64_t)tensor_get(out, IDX(0, i));
        size_t len = 0;
        char *text = !ids ? NULL
                     : o->raw ? text_decode(tok, ids, (size_t)m, &len)
                                   : text_decode_replace(tok, ids, (size_t)m, &len);
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
        if (rc == 0 && o->heatmap) rc = draw_heatmap(o, model, tok, out);
    }
    nn_module_free(model);
    return rc;
}

int main(int argc, char **argv)
{
    Options o = {.gpt = {.cfg = NN_GPT_CONFIG_124M, .context_124m = 1024}, .seed = 123,
                 .prompt = "Hello, I am", .max_new_tokens = 10, .eos_id = -1,
                 .heatmap_layer = -1};
    int rc = parse(argc, argv, &o);
    if (rc == 2) fprintf(stderr, "%s\n", tensor_error());
    if (rc) return rc == 1 ? 0 : rc;
    TensorPath paths[] = {{.what = "--heatmap", .path = o.heatmap, .output = true},
                          {.what = "--load", .path = o.load},
                          {.what = "--hf-gpt2", .path = o.hf}};
    if (!cli_paths_ok(PROG, 3, paths)) {
        fprintf(stderr, "%s\n", tensor_error());
        return 2;
    }
    if ((rc = o.load ? checkpoint_config(&o) : o.hf ? hf_config(&o) : 0) ||
        (rc = check_against_vocabulary(&o)))
        return rc;
    TextTokenizer *tok = cli_tokenizer(PROG, o.tokenizer ? o.tokenizer : "gpt2", o.vocab);
    if (!tok) {
        fprintf(stderr, "%s\n", tensor_error());
        return 1;
    }
    if (!cli_vocab_decodable(PROG, tok, o.gpt.cfg.vocab_size)) {
        fprintf(stderr, "%s\n", tensor_error());
        text_tokenizer_free(tok);
        return 2;
    }
    rc = generate(&o, tok);
    text_tokenizer_free(tok);
    if (fflush(stdout) != 0) {
        fprintf(stderr, PROG ": cannot write stdout\n");
        rc = 1;
    }
    return rc;
}
