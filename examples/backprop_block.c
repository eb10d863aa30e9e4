/*
 * Backpropagation through one TransformerBlock, one step at a time.
 *
 * The book's TransformerBlock (Listing 4.6) in a tiny config (emb_dim 4,
 * 2 heads, context 3, dropout 0) on x = torch.rand(1, 3, 4), in the order
 * of the book's block example (seed, input, block), then
 * loss = mse_loss(block(x), target) with target = torch.rand(1, 3, 4).
 * The forward is written out with every intermediate named and printed (and
 * checked against nn_forward of the block itself); then every gradient in
 * the order the chain rule reaches it, each with
 *   - the formula its op's backward uses and the forward line it comes from:
 *     the residual's + sending one gradient to both branches, the
 *     feed-forward's products, GELU's derivative, LayerNorm's backward;
 *   - autograd's value (tensor_retain_grad keeps each intermediate's);
 *   - a central difference computed by a separate double-precision forward
 *     written with plain loops (backprop_block_check.c), so it does not
 *     trust the library;
 *   - for GELU and LayerNorm, the printed formula evaluated by hand from the
 *     gradients printed before it.
 *
 *     backprop_block [--seed N] [--summary] [--html FILE.html] [--dump]
 *
 * --html writes the same walk as a page to explore in a browser
 * (plot_backward_page): the graph, a step control that runs the backward one
 * node at a time (the residual's + and norm1's three consumers add up there),
 * the attention weights with their causal mask, and each gradient beside this
 * program's own central difference, the numbers --dump prints.
 *
 * The attention inside the block is backprop_attention's, per head (its
 * derivation: docs/attention_backward.md); LayerNorm's backward is derived
 * in docs/adding_an_op.md.  The batch of 1 is left out of what is printed.
 * The numbers equal PyTorch's (tests/reference/gen_backprop_block.py,
 * checked by tests/test_backprop_block.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attograd.h"
#include "backprop_block.h"

#define PROG "backprop_block"

static const char *const param_names[] = {
    [WQ] = "att.W_query.weight", [WK] = "att.W_key.weight", [WV] = "att.W_value.weight",
    [WO] = "att.out_proj.weight", [BO] = "att.out_proj.bias",
    [W1] = "ff.layers.0.weight", [B1] = "ff.layers.0.bias",
    [W2] = "ff.layers.2.weight", [B2] = "ff.layers.2.bias",
    [SCALE1] = "norm1.scale", [SHIFT1] = "norm1.shift",
    [SCALE2] = "norm2.scale", [SHIFT2] = "norm2.shift",
};

/* Each intermediate's name and the book's Python that makes it. */
static const struct {
    const char *name, *code;
} intermediates[N_STAGES - FIRST_INTERMEDIATE] = {
    {"norm1", "x = self.norm1(x)                    # shortcut = x kept"},
    {"queries", "queries = self.W_query(x)            # in self.att"},
    {"keys", "keys = self.W_key(x)"},
    {"values", "values = self.W_value(x)"},
    {"weights", "attn_weights = softmax(masked(q_h @ k_h^T) / sqrt(2))  # head 0, head 1"},
    {"context", "context_vec = (attn_weights @ v_h) with the heads side by side"},
    {"att", "x = self.out_proj(context_vec)"},
    {"h", "x = x + shortcut                     # shortcut = x kept again"},
    {"norm2", "x = self.norm2(x)"},
    {"hidden", "x = self.ff.layers[0](x)             # Linear(4, 16)"},
    {"gelu", "x = self.ff.layers[1](x)             # GELU"},
    {"ff", "x = self.ff.layers[2](x)             # Linear(16, 4)"},
    {"out", "return x + shortcut"},
};

static const char *stage_name(Stage s)
{
    return s == X ? "x" : s < FIRST_INTERMEDIATE ? param_names[s]
                                                 : intermediates[s - FIRST_INTERMEDIATE].name;
}

typedef struct {
    uint64_t seed;                /* torch.manual_seed's */
    bool summary, dump;
    const char *html;
} Options;

/* ---- the forward pass, as Listing 4.6 -------------------------------------- */

/* (T, E) -> (HEADS, T, HD): .view(T, heads, head_dim).transpose(0, 1) */
static Tensor *split_heads(const Tensor *t)
{
    return tensor_transpose(tensor_view(t, SHAPE(T, HEADS, HD)), 0, 1);
}

static Tensor *named(Tensor *t, Stage s)
{
    return tensor_retain_grad(tensor_set_name(t, stage_name(s)));
}

/* MultiHeadAttention.forward on norm1, its steps into w->t. */
static Tensor *attention(Walk *w, Tensor *const *t)
{
    Tensor *n1 = t[NORM1];
    Tensor *q = w->t[QUERIES] = named(tensor_linear(n1, t[WQ], NULL), QUERIES);
    Tensor *k = w->t[KEYS] = named(tensor_linear(n1, t[WK], NULL), KEYS);
    Tensor *v = w->t[VALUES] = named(tensor_linear(n1, t[WV], NULL), VALUES);
    Tensor *scores = tensor_matmul(split_heads(q), tensor_transpose(split_heads(k), 1, 2));
    scores = tensor_masked_fill(scores, w->mask, -INFINITY);               /* (HEADS, T, T) */
    Tensor *weights = w->t[WEIGHTS] =
        named(tensor_softmax(tensor_div_scalar(scores, sqrtf((float)HD)), -1), WEIGHTS);
    Tensor *ctx = tensor_transpose(tensor_matmul(weights, split_heads(v)), 0, 1);
    ctx = w->t[CONTEXT] = named(tensor_view(tensor_contiguous(ctx), SHAPE(T, E)), CONTEXT);
    return w->t[ATT] = named(tensor_linear(ctx, t[WO], t[BO]), ATT);
}

/* The block's forward from the leaves in w->t, its intermediates into w->t. */
static int compute(Walk *w)
{
    Tensor **t = w->t, *x = t[X];
    t[NORM1] = named(tensor_layer_norm(x, t[SCALE1], t[SHIFT1], LN_EPS), NORM1);
    Tensor *att = attention(w, t);
    t[H] = named(tensor_add(att, x), H);
    t[NORM2] = named(tensor_layer_norm(t[H], t[SCALE2], t[SHIFT2], LN_EPS), NORM2);
    t[HIDDEN] = named(tensor_linear(t[NORM2], t[W1], t[B1]), HIDDEN);
    t[GELU] = named(tensor_gelu(t[HIDDEN]), GELU);
    t[FF] = named(tensor_linear(t[GELU], t[W2], t[B2]), FF);
    t[OUT] = named(tensor_add(t[FF], t[H]), OUT);
    w->loss = tensor_set_name(tensor_mse_loss(t[OUT], w->target), "loss");
    return w->loss ? 0 : -1;
}

static int forward(Walk *w, const Options *o)
{
    tensor_manual_seed(o->seed);
    Tensor *x = w->t[X] = tensor_requires_grad_(tensor_rand(SHAPE(T, E)), true);
    NNGPTConfig cfg = {.vocab_size = 1, .context_length = T, .emb_dim = E, .n_heads = HEADS,
                       .n_layers = 1, .drop_rate = 0.0, .qkv_bias = false};
    w->block = nn_transformer_block(cfg);
    w->target = tensor_set_name(tensor_rand(SHAPE(T, E)), "target");
    if (!x || !w->block || !w->target) return -1;
    tensor_set_name(x, "x");
    for (Stage s = WQ; s < FIRST_INTERMEDIATE; s++)
        if (!(w->t[s] = nn_get_parameter(w->block, param_names[s]))) return -1;
    if (!(w->mask = nn_get_parameter(w->block, "att.mask"))) return -1;
    if (compute(w) != 0) return -1;

    /* The steps above are the block's own forward: */
    Tensor *ref;
    tensor_no_grad_begin();
    ref = nn_forward(w->block, tensor_view(x, SHAPE(1, T, E)));
    tensor_no_grad_end();
    if (!ref) return -1;
    w->block_diff = tensor_max_abs_diff(w->t[OUT], tensor_reshape(ref, SHAPE(T, E)));
    return 0;
}

/* ---- the backward pass, step by step ------------------------------------------ */

typedef struct {
    Stage stage;                /* the gradient of this tensor */
    const char *formula;        /* how its op's backward computes it */
    const char *why;            /* the forward line and the rule */
} Step;

/* Rows: colsum(g) sums g over the tokens (rows), which a bias or a LayerNorm
 * parameter is broadcast along. */
static const Step steps[] = {
    {OUT, "2 * (out - target) / 12", "loss = mean((out - target)^2) over 12 elements"},
    {FF, "d_out", "out = ff + h: a + sends its gradient unchanged to both branches"},
    {B2, "colsum(d_ff)", "ff = gelu @ W2^T + b2: b2 is added to every token's row"},
    {W2, "d_ff^T @ gelu", "ff = gelu @ W2^T + b2: Y = X @ W^T gives dW = dY^T @ X"},
    {GELU, "d_ff @ W2", "ff = gelu @ W2^T + b2: Y = X @ W^T gives dX = dY @ W"},
    {HIDDEN, "d_gelu * gelu'(hidden)",
     "gelu = 0.5 u (1 + tanh a), a = sqrt(2/pi) (u + 0.044715 u^3), u = hidden:\n"
     "    # gelu'(u) = 0.5 (1 + tanh a)\n"
     "    #            + 0.5 u (1 - tanh^2 a) sqrt(2/pi) (1 + 3 * 0.044715 u^2)"},
    {B1, "colsum(d_hidden)", "hidden = norm2 @ W1^T + b1"},
    {W1, "d_hidden^T @ norm2", "hidden = norm2 @ W1^T + b1: dW = dY^T @ X"},
    {NORM2, "d_hidden @ W1", "hidden = norm2 @ W1^T + b1: dX = dY @ W"},
    {SHIFT2, "colsum(d_norm2)", "norm2 = scale2 * xhat + shift2, row by row"},
    {SCALE2, "colsum(d_norm2 * xhat)", "norm2 = scale2 * xhat + shift2, xhat = (h - mean) / sigma"},
    {H, "d_out + (1/sigma) * (dy_hat - mean(dy_hat) - xhat * mean(dy_hat * xhat))",
     "h reaches the loss twice: directly through out = ff + h (d_out), and\n"
     "    # through norm2 = LayerNorm(h); its backward takes dy_hat = d_norm2 * scale2\n"
     "    # row by row, sigma = sqrt(var(h) + 1e-5) (derived in docs/adding_an_op.md);\n"
     "    # the two add"},
    {ATT, "d_h", "h = att + x: the + sends d_h unchanged to both branches"},
    {BO, "colsum(d_att)", "att = context @ Wo^T + bo"},
    {WO, "d_att^T @ context", "att = context @ Wo^T + bo: dW = dY^T @ X"},
    {CONTEXT, "d_att @ Wo", "att = context @ Wo^T + bo: dX = dY @ W"},
    {WEIGHTS, "d_context_h @ values_h^T, per head",
     "context_h = weights_h @ values_h, each head its own columns of context:\n"
     "    # dA = dC @ B^T as in backprop_attention; rows 0-2 head 0, rows 3-5 head 1"},
    {VALUES, "weights_h^T @ d_context_h, the heads side by side",
     "context_h = weights_h @ values_h: dB = A^T @ dC"},
    {QUERIES, "d_scores_h @ keys_h, the heads side by side",
     "scores_h = queries_h @ keys_h^T / sqrt(2), masked; d_scores_h =\n"
     "    # weights_h * (d_weights_h - rowsum(d_weights_h * weights_h)) / sqrt(2),\n"
     "    # zero where masked (its weight is 0), as in backprop_attention"},
    {KEYS, "d_scores_h^T @ queries_h, the heads side by side",
     "scores_h = queries_h @ keys_h^T / sqrt(2):\n"
     "    # d_keys_h = (queries_h^T @ d_scores_h)^T"},
    {WV, "d_values^T @ norm1", "values = norm1 @ Wv^T: dW = dY^T @ X"},
    {WQ, "d_queries^T @ norm1", "queries = norm1 @ Wq^T: dW = dY^T @ X"},
    {WK, "d_keys^T @ norm1", "keys = norm1 @ Wk^T: dW = dY^T @ X"},
    {NORM1, "d_queries @ Wq + d_keys @ Wk + d_values @ Wv",
     "norm1 feeds three projections: their three gradients add"},
    {SHIFT1, "colsum(d_norm1)", "norm1 = scale1 * xhat + shift1"},
    {SCALE1, "colsum(d_norm1 * xhat)", "norm1 = scale1 * xhat + shift1, xhat = (x - mean) / sigma"},
    {X, "d_h + (1/sigma) * (dy_hat - mean(dy_hat) - xhat * mean(dy_hat * xhat))",
     "x reaches the loss through h = att + x (d_h) and through\n"
     "    # norm1 = LayerNorm(x), dy_hat = d_norm1 * scale1; the two add"},
};
enum { N_STEPS = sizeof steps / sizeof *steps };

static int check_step(const Walk *w, Stage s, TensorGradPair *c)
{
    return tensor_grad_pair(w->t[s]->grad, central_difference(w, s), c);
}

/* ---- the printed formulas, evaluated by hand ------------------------------------ */

/* For the steps whose formula is more than a product: the formula evaluated
 * by hand from the gradients printed before it, against autograd's part.
 * 1 when it agrees to the printed precision, 0 when not, -1 on an error,
 * 2 for a step without one. */
static int by_hand(const Walk *w, Stage s)
{
    Tensor *const *t = w->t;
    Tensor *mine, *autograd;
    const char *what;
    if (s == HIDDEN) {
        what = "gelu'(hidden) * d_gelu by hand, against d_hidden";
        mine = gelu_dx(t[HIDDEN], t[GELU]->grad);
        autograd = t[HIDDEN]->grad;
    } else if (s == H) {
        what = "the LayerNorm term by hand from d_norm2, against d_h - d_out";
        mine = layer_norm_dx(t[H], t[NORM2]->grad, t[SCALE2]);
        autograd = tensor_sub(t[H]->grad, t[OUT]->grad);
    } else if (s == X) {
        what = "the LayerNorm term by hand from d_norm1, against d_x - d_h";
        mine = layer_norm_dx(t[X], t[NORM1]->grad, t[SCALE1]);
        autograd = tensor_sub(t[X]->grad, t[H]->grad);
    } else {
        return 2;
    }
    TensorGradPair c;
    if (tensor_grad_pair(autograd, mine, &c)) return -1;
    printf("    %s:\n        %s\n", what, tensor_grad_pair_verdict(&c));
    return c.agree;
}

/* ---- printing ------------------------------------------------------------------- */

static void print_forward(const Walk *w, const Options *o)
{
    printf("Forward: one TransformerBlock (Listing 4.6), emb_dim %d, %d heads, context %d,\n"
           "dropout 0, seed %llu; the batch of 1 is left out of what is printed\n\n",
           E, HEADS, T, (unsigned long long)o->seed);
    printf("x = torch.rand(1, 3, 4)              # drawn before the block, as in the book\n");
    tensor_fprint_indented(stdout, w->t[X], 4);
    printf("block = TransformerBlock(cfg)        # its parameters, in state_dict order:\n");
    for (Stage s = WQ; s < FIRST_INTERMEDIATE; s++) {
        printf("%s\n", param_names[s]);
        tensor_fprint_indented(stdout, w->t[s], 4);
    }
    for (Stage s = FIRST_INTERMEDIATE; s < N_STAGES; s++) {
        printf("%s\n", intermediates[s - FIRST_INTERMEDIATE].code);
        tensor_fprint_indented(stdout, w->t[s], 4);
    }
    printf("block(x) itself: max |difference| from out %.1e\n", w->block_diff);
    printf("target = torch.rand(1, 3, 4)         # drawn after the block\n");
    tensor_fprint_indented(stdout, w->target, 4);
    printf("loss = F.mse_loss(out, target)\n");
    tensor_fprint_indented(stdout, w->loss, 4);
}

static int print_backward(const Walk *w)
{
    int bad = 0;
    printf("\nBackward: each gradient with the formula its op's backward uses, autograd's\n"
           "value, and a central difference (nudge each element by +-1e-6 and rerun the\n"
           "forward in double precision), both to 4 decimals after any scale shown.\n"
           "colsum(g) sums over the tokens (rows), along which a bias or a LayerNorm\n"
           "parameter is broadcast.  GELU's and LayerNorm's formulas are also evaluated\n"
           "by hand, in double, from the gradients printed before them.\n");
    for (int i = 0; i < N_STEPS; i++) {
        TensorGradPair c;
        if (check_step(w, steps[i].stage, &c)) return -1;
        printf("\nd_%s = %s\n    # %s\n", stage_name(steps[i].stage), steps[i].formula,
               steps[i].why);
        tensor_fprint_grad_pair(stdout, &c);
        printf("    %s\n", tensor_grad_pair_verdict(&c));
        int hand = by_hand(w, steps[i].stage);
        if (hand < 0) return -1;
        bad += !c.agree + !hand;
    }
    printf("\n%d of %d gradients agree with their central difference to the printed precision\n",
           N_STEPS - bad, N_STEPS);
    return bad;
}

static int print_summary(const Walk *w, const Options *o)
{
    int bad = 0;
    printf("TransformerBlock (emb_dim %d, %d heads, context %d), seed %llu: "
           "loss = mse(out, target) = %.4f\n", E, HEADS, T, (unsigned long long)o->seed,
           (double)tensor_item(w->loss));
    printf("%-22s %8s  %s\n", "gradient", "norm", "max |autograd - numeric|");
    for (int i = 0; i < N_STEPS; i++) {
        TensorGradPair c;
        if (check_step(w, steps[i].stage, &c)) return -1;
        char name[64];
        snprintf(name, sizeof name, "d_%s", stage_name(steps[i].stage));
        printf("%-22s %8.4f  %.1e\n", name, tensor_l2_norm(c.autograd), c.diff);
        bad += !c.agree;
    }
    printf("%d of %d gradients agree with their central difference to the printed precision\n",
           N_STEPS - bad, N_STEPS);
    return bad;
}

static int print_dump(const Walk *w)
{
    char name[64];
    for (Stage s = X; s < N_STAGES; s++) {
        Tensor *rows = tensor_as_rows(w->t[s]);   /* as the fixture: bias (1, n), weights (6, 3) */
        if (!rows) return -1;
        tensor_fprint_fixture(stdout, rows, "%s", stage_name(s));
    }
    tensor_fprint_fixture(stdout, w->target, "target");
    tensor_fprint_fixture(stdout, w->loss, "loss");
    printf("#block_diff %.9g\n", w->block_diff);
    int bad = 0;
    for (int i = 0; i < N_STEPS; i++) {
        TensorGradPair c;
        if (check_step(w, steps[i].stage, &c)) return -1;
        snprintf(name, sizeof name, "d_%s", stage_name(steps[i].stage));
        tensor_fprint_fixture(stdout, c.autograd, "%s", name);
        tensor_fprint_fixture(stdout, c.numeric, "numeric.%s", name);
        printf("#agree %s %d\n", name, c.agree);
        bad += !c.agree;
    }
    return bad;
}

/* ---- the page --------------------------------------------------------------------- */

/* A step's why as one line of prose for the page: the terminal's
 * continuation lines ("\n    # ") joined with a space. */
static void one_line(const char *why, char *out, size_t n)
{
    size_t k = 0;
    for (const char *p = why; *p && k + 1 < n; p++) {
        if (*p == '\n') {
            while (p[1] == ' ' || p[1] == '#') p++;
            out[k++] = ' ';
        } else {
            out[k++] = *p;
        }
    }
    out[k] = '\0';
}

/* The forward once more from the same leaves, for the page's own estimates
 * of the tensors that have no step here (the heads' views, the scores). */
static Tensor *forward_again(void *ctx)
{
    Walk again = *(const Walk *)ctx;
    return compute(&again) == 0 ? again.loss : NULL;
}

/* --html FILE: runs the backward (plot_backward_page) with each step's
 * formula and central difference as the page's notes.  0, or 1 after a
 * message. */
static int write_page(Walk *w, const Options *o)
{
    PlotPageNote notes[N_STEPS];
    char formulas[N_STEPS][128], whys[N_STEPS][400], intro[800];
    for (int i = 0; i < N_STEPS; i++) {
        Stage s = steps[i].stage;
        snprintf(formulas[i], sizeof formulas[i], "d_%s = %s", stage_name(s), steps[i].formula);
        one_line(steps[i].why, whys[i], sizeof whys[i]);
        notes[i] = (PlotPageNote){
            .tensor = w->t[s], .formula = formulas[i], .why = whys[i],
            .numeric = central_difference(w, s),
            .numeric_how = "backprop_block's own central difference: each element moved by "
                           "+-1e-6 in a double-precision forward written with plain loops"};
        if (!notes[i].numeric) return fprintf(stderr, PROG ": %s\n", tensor_error()), 1;
    }
    snprintf(intro, sizeof intro,
             "The book's TransformerBlock (Listing 4.6) with emb_dim %d, %d heads, context %d "
             "and dropout 0, on x = torch.rand(1, 3, 4) (seed %llu; the batch of 1 left out), "
             "loss = mse_loss(block(x), target) = %.4f.  Its gradients are the ones "
             "backprop_block prints, each beside the program's own central difference.  Watch "
             "the residual's + send one gradient to both branches, and x, h and norm1 add the "
             "parts of their consumers; the softmax's box shows the causal mask.  x requires "
             "grad here only so that its gradient shows: its box is drawn as a parameter's.",
             E, HEADS, T, (unsigned long long)o->seed, (double)tensor_item(w->loss));
    PlotPageOptions po = PLOT_PAGE_OPTIONS(
        .title = "Backpropagation through a TransformerBlock, step by step", .intro = intro,
        .notes = notes, .n_notes = N_STEPS, .forward = forward_again, .forward_ctx = w);
    if (plot_backward_page(w->loss, o->html, po) != 0) {
        fprintf(stderr, PROG ": --html %s\n", tensor_error());
        return 1;
    }
    return 0;
}

/* ---- main ------------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: " PROG " [options]\n"
            "Steps through the backward pass of one of the book's TransformerBlocks (emb_dim 4,\n"
            "2 heads, context 3, dropout 0): every intermediate, then every gradient with its\n"
            "formula, autograd's value and a central-difference estimate.\n"
            "  --seed N     torch.manual_seed before x, the block and the target (default 123)\n"
            "  --summary    one line per gradient instead of whole tensors\n"
            "  --html FILE.html  the backward as a page to explore in a browser: the graph,\n"
            "               a step control, every gradient beside its central difference\n"
            "  --dump       every tensor as '@name shape' and values (for tests)\n"
            "  --help       this text\n");
}

static int parse(int argc, char **argv, Options *o)
{
    *o = (Options){.seed = 123};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            usage(stdout);
            exit(0);
        } else if (strcmp(a, "--seed") == 0) {
            if (!cli_u64_flag(PROG, argc, argv, &i, &o->seed)) return -1;
        } else if (strcmp(a, "--summary") == 0) {
            o->summary = true;
        } else if (strcmp(a, "--html") == 0) {
            if (!(o->html = cli_value(PROG, argc, argv, &i))) return -1;
        } else if (strcmp(a, "--dump") == 0) {
            o->dump = true;
        } else {
            cli_unknown_option(PROG, a);
            return -1;
        }
    }
    size_t n = o->html ? strlen(o->html) : 0;
    if (o->html && (n < 5 || strcmp(o->html + n - 5, ".html") != 0)) {
        tensor_set_error(PROG ": --html %s: the name must end in .html", o->html);
        return -1;
    }
    TensorPath path = {.what = "--html", .path = o->html, .output = true};
    return cli_paths_ok(PROG, 1, &path) ? 0 : -1;
}

static int run(const Options *o)
{
    Walk w = {0};
    int rc = forward(&w, o);
    if (rc != 0) fprintf(stderr, PROG ": %s\n", tensor_error());
    else if (o->html) rc = write_page(&w, o);    /* runs the backward, keeping each step */
    else if ((rc = tensor_backward(w.loss, NULL)) != 0) fprintf(stderr, PROG ": %s\n", tensor_error());
    if (rc != 0) {
        nn_module_free(w.block);
        return 1;
    }
    int bad;
    if (o->dump) {
        bad = print_dump(&w);
    } else if (o->summary) {
        bad = print_summary(&w, o);
    } else {
        print_forward(&w, o);
        bad = print_backward(&w);
    }
    if (bad < 0) fprintf(stderr, PROG ": %s\n", tensor_error());
    if (o->html) plot_page_report(stdout, o->html);   /* after what the program prints */
    nn_module_free(w.block);
    return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
    Options o;
    if (parse(argc, argv, &o) != 0) {
        fprintf(stderr, "%s\n", tensor_error());
        return 2;
    }
    int rc = run(&o);
    tensor_cleanup();
    return rc;
}
