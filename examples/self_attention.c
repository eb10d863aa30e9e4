/*
 * The book's chapter-3 attention modules, printed as PyTorch prints them.
 * Every tensor below comes out digit for digit as in the book (and as
 * tests/reference/gen_self_attention.py prints it with PyTorch).
 *
 *     self_attention [--seed N] [--heatmap FILE.png]
 *
 * --heatmap draws the attention weights of SelfAttention_v2, CausalAttention
 * and MultiHeadAttention's two heads on the book's six tokens, one panel
 * each (nn_attention_weights), the causal mask's future tokens left empty.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "attograd.h"

static bool override_seed;
static uint64_t seed_value;

/* The book's seed, or --seed's. */
static uint64_t seed(uint64_t book) { return override_seed ? seed_value : book; }

static int show(const char *header, const Tensor *t)
{
    if (!t) {
        fprintf(stderr, "self_attention: %s: %s\n", header ? header : "tensor", tensor_error());
        return -1;
    }
    if (header) printf("%s\n\n", header);
    tensor_print(t);
    return 0;
}

static int run(void)
{
    char header[128];
    int d_in = 3, d_out = 2, rc = 0;
    Tensor *inputs = nn_example_inputs();
    Tensor *batch = tensor_stack(2, (Tensor *const[]){inputs, inputs}, 0);   /* (2, 6, 3) */
    int64_t context_length = batch->shape[1];

    tensor_manual_seed(seed(123));
    snprintf(header, sizeof header, "torch.rand(3, 2) (seed %llu)", (unsigned long long)seed(123));
    rc |= show(header, tensor_rand(SHAPE(3, 2)));

    /* Listing 3.1 */
    tensor_manual_seed(seed(123));
    Module *sa_v1 = nn_self_attention_v1(d_in, d_out);
    snprintf(header, sizeof header, "\nSelfAttention_v1 (seed %llu)", (unsigned long long)seed(123));
    rc |= show(header, nn_forward(sa_v1, inputs));

    /* Listing 3.2 */
    tensor_manual_seed(seed(789));
    Module *sa_v2 = nn_self_attention_v2(d_in, d_out, false);
    snprintf(header, sizeof header, "\nSelfAttention_v2 (seed %llu)", (unsigned long long)seed(789));
    rc |= show(header, nn_forward(sa_v2, inputs));

    /* Exercise 3.1: v1 takes v2's weights (transposed); both then agree. */
    rc |= nn_self_attention_v1_load_v2(sa_v1, sa_v2);
    rc |= show("\nExercise 3.1: SelfAttention_v1 with the weights of SelfAttention_v2",
               nn_forward(sa_v1, inputs));
    printf("\n");
    rc |= show(NULL, nn_forward(sa_v2, inputs));
    nn_module_free(sa_v1);
    nn_module_free(sa_v2);

    tensor_manual_seed(seed(123));
    Module *ca = nn_causal_attention(d_in, d_out, context_length, 0.0f, false);
    snprintf(header, sizeof header, "\nCausalAttention (seed %llu)", (unsigned long long)seed(123));
    rc |= show(header, nn_forward(ca, batch));
    nn_module_free(ca);

    tensor_manual_seed(seed(123));
    Module *wrapper = nn_multi_head_attention_wrapper(d_in, d_out, context_length, 0.0f, 2, false);
    snprintf(header, sizeof header, "\nMultiHeadAttentionWrapper (seed %llu)",
             (unsigned long long)seed(123));
    rc |= show(header, nn_forward(wrapper, batch));
    nn_module_free(wrapper);

    tensor_manual_seed(seed(123));
    Module *mha = nn_multi_head_attention(d_in, d_out, context_length, 0.0f, 2, false);
    snprintf(header, sizeof header, "\nMultiHeadAttention (seed %llu)", (unsigned long long)seed(123));
    rc |= show(header, nn_forward(mha, batch));
    nn_module_free(mha);

    tensor_manual_seed(seed(123));
    Module *dropout = nn_dropout(0.5f);
    snprintf(header, sizeof header, "\nDropout(0.5) on ones(6, 6) (seed %llu)",
             (unsigned long long)seed(123));
    rc |= show(header, nn_forward(dropout, tensor_ones(SHAPE(6, 6))));
    nn_module_free(dropout);
    return rc ? 1 : 0;
}

/* ---- --heatmap ------------------------------------------------------------------ */

enum { HEATMAP_PANELS = 4 };

/* Copies T x T weights of batch row 0 (and head h of a multi-head module)
 * into cells, the entries above the diagonal as NaN (empty) when causal. */
static void copy_panel(const Tensor *w, int head, bool causal, float *cells)
{
    for (int64_t r = 0; r < NN_EXAMPLE_TOKENS; r++)
        for (int64_t c = 0; c < NN_EXAMPLE_TOKENS; c++) {
            float v = w->ndim == 2   ? tensor_get(w, IDX(r, c))
                      : w->ndim == 3 ? tensor_get(w, IDX(0, r, c))
                                     : tensor_get(w, IDX(0, head, r, c));
            cells[r * NN_EXAMPLE_TOKENS + c] = causal && c > r ? NAN : v;
        }
}

/* One forward of m on x, keeping its weights; NULL with a message on failure. */
static const Tensor *weights_of(Module *m, const Tensor *x)
{
    if (!m || nn_attention_keep_weights(m, true) || !nn_forward(m, x)) return NULL;
    return nn_attention_weights(m);
}

static int draw_heatmap(const char *path)
{
    static const char *const tokens[NN_EXAMPLE_TOKENS] = {"Your", "journey", "starts", "with", "one", "step"};
    char titles[HEATMAP_PANELS][96];
    float cells[HEATMAP_PANELS * NN_EXAMPLE_TOKENS * NN_EXAMPLE_TOKENS];
    TensorScope *scope = tensor_scope_begin();
    Tensor *inputs = nn_example_inputs();
    Tensor *batch = tensor_stack(2, (Tensor *const[]){inputs, inputs}, 0);

    tensor_manual_seed(seed(789));
    Module *v2 = nn_self_attention_v2(NN_EXAMPLE_DIM, 2, false);
    tensor_manual_seed(seed(123));
    Module *ca = nn_causal_attention(NN_EXAMPLE_DIM, 2, NN_EXAMPLE_TOKENS, 0.0f, false);
    tensor_manual_seed(seed(123));
    Module *mha = nn_multi_head_attention(NN_EXAMPLE_DIM, 2, NN_EXAMPLE_TOKENS, 0.0f, 2, false);
    const Tensor *w_v2 = weights_of(v2, inputs), *w_ca = weights_of(ca, batch),
                 *w_mha = weights_of(mha, batch);
    int rc = w_v2 && w_ca && w_mha ? 0 : -1;
    if (rc) {
        fprintf(stderr, "self_attention: --heatmap: %s\n", tensor_error());
    } else {
        copy_panel(w_v2, 0, false, cells);
        copy_panel(w_ca, 0, true, cells + NN_EXAMPLE_TOKENS * NN_EXAMPLE_TOKENS);
        copy_panel(w_mha, 0, true, cells + 2 * NN_EXAMPLE_TOKENS * NN_EXAMPLE_TOKENS);
        copy_panel(w_mha, 1, true, cells + 3 * NN_EXAMPLE_TOKENS * NN_EXAMPLE_TOKENS);
        snprintf(titles[0], sizeof titles[0], "SelfAttention_v2 (seed %llu): no mask",
                 (unsigned long long)seed(789));
        snprintf(titles[1], sizeof titles[1], "CausalAttention (seed %llu)",
                 (unsigned long long)seed(123));
        for (int h = 0; h < 2; h++)
            snprintf(titles[2 + h], sizeof titles[2 + h], "MultiHeadAttention (seed %llu), head %d",
                     (unsigned long long)seed(123), h);
        const char *const panel_titles[HEATMAP_PANELS] = {titles[0], titles[1], titles[2],
                                                          titles[3]};
        /* Weights are probabilities: one colour scale, 0 to 1, for every panel. */
        PlotHeatmapOptions o = PLOT_HEATMAP_OPTIONS(
            .title = "Attention weights on \"Your journey starts with one step\"",
            .subtitle = "one colour scale for all panels: 0 to 1",
            .xlabel = "key (attended to)", .ylabel = "query", .panel_titles = panel_titles,
            .row_labels = tokens, .col_labels = tokens, .scale = PLOT_SCALE_FIXED, .min = 0,
            .max = 1);
        rc = plot_heatmap(path, HEATMAP_PANELS, NN_EXAMPLE_TOKENS, NN_EXAMPLE_TOKENS, cells, o);
        if (rc) fprintf(stderr, "self_attention: --heatmap %s\n", tensor_error());
    }
    nn_module_free(v2);
    nn_module_free(ca);
    nn_module_free(mha);
    tensor_scope_end(scope);
    return rc;
}

int main(int argc, char **argv)
{
    const char *heatmap = NULL;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            printf("usage: self_attention [--seed N] [--heatmap FILE.png|svg|pdf]\n"
                   "Prints the attention outputs of the book's chapter 3 as PyTorch prints\n"
                   "them. --seed N replaces every seed the book uses with N.\n"
                   "--heatmap draws the attention weights of SelfAttention_v2,\n"
                   "CausalAttention and MultiHeadAttention's heads (gnuplot).\n");
            return 0;
        }
        bool ok;
        if (strcmp(argv[i], "--seed") == 0) {
            ok = cli_u64_flag("self_attention", argc, argv, &i, &seed_value);
            override_seed = true;
        } else if (strcmp(argv[i], "--heatmap") == 0) {
            ok = cli_picture_flag("self_attention", argc, argv, &i, &heatmap);
        } else {
            ok = cli_unknown_option("self_attention", argv[i]);
        }
        if (!ok) {
            fprintf(stderr, "%s\n", tensor_error());
            return 2;
        }
    }
    int rc = run();
    if (heatmap && draw_heatmap(heatmap)) rc = 1;
    tensor_cleanup();
    return rc;
}
