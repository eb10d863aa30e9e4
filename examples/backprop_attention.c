/*
 * Backpropagation through self-attention, one step at a time.
 *
 * The book's SelfAttention_v1 (Listing 3.1) on the book's six input tokens:
 * the forward pass with every intermediate named and printed, a loss, then
 * every gradient in the order the chain rule reaches it, each with
 *   - the formula that produced it (and the forward line it comes from),
 *   - autograd's value (each intermediate asks to keep its .grad with
 *     tensor_retain_grad, as torch's retain_grad(); the graph draws them),
 *   - a central-difference estimate: d loss / d element by nudging that
 *     element up and down, computed by a separate double-precision forward
 *     written with plain loops below, so it does not trust the library.
 *
 *     backprop_attention [--seed N] [--loss sum|mse] [--summary] [--dot FILE.png]
 *                        [--html FILE.html] [--dump]
 *
 * --html writes the same walk as a page to explore in a browser
 * (plot_backward_page): the graph, a step control that runs the backward one
 * node at a time, and each gradient beside this program's own central
 * difference, the numbers --dump prints.
 *
 * Derivations: docs/attention_backward.md; the same walk through a whole
 * TransformerBlock: backprop_block.  The numbers equal PyTorch's
 * (tests/reference/gen_backprop.py, checked by tests/test_teaching.c).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attograd.h"

#define PROG "backprop_attention"


enum { T = 6, D_IN = 3, D_OUT = 2, MAX_ELEMS = T * T };

/* The tensors of the forward pass, in the order it makes them. */
typedef enum { W_QUERY, W_KEY, W_VALUE, KEYS, QUERIES, VALUES, SCORES, SCALED, WEIGHTS, CONTEXT,
               N_STAGES } Stage;

/* The book's Python for each stage. */
static const char *const stage_code[N_STAGES] = {
    "W_query = nn.Parameter(torch.rand(d_in, d_out))",
    "W_key = nn.Parameter(torch.rand(d_in, d_out))",
    "W_value = nn.Parameter(torch.rand(d_in, d_out))",
    "keys = x @ W_key",
    "queries = x @ W_query",
    "values = x @ W_value",
    "scores = queries @ keys.T          # omega",
    "scaled = scores / keys.shape[-1]**0.5",
    "weights = torch.softmax(scaled, dim=-1)",
    "context = weights @ values",
};

typedef struct {
    uint64_t seed;                 /* torch.manual_seed's */
    bool summary, dump, mse;
    const char *dot, *html;
} Options;

typedef struct {
    const Options *opt;
    Tensor *x, *target;            /* target: the mse loss's */
    Tensor *t[N_STAGES];
    Tensor *loss;
} Walk;

/* ---- the forward pass, as Listing 3.1 ---------------------------------------- */

static Tensor *parameter(const char *name)
{
    return tensor_set_name(tensor_requires_grad_(tensor_rand(SHAPE(D_IN, D_OUT)), true), name);
}

static int forward(Walk *w)
{
    tensor_manual_seed(w->opt->seed);
    /* __init__: three torch.rand(d_in, d_out) in the module's order. */
    Tensor *W_query = parameter("W_query");
    Tensor *W_key   = parameter("W_key");
    Tensor *W_value = parameter("W_value");
    w->target = tensor_set_name(tensor_rand(SHAPE(T, D_OUT)), "target");
    Tensor *x = w->x = tensor_set_name(nn_example_inputs(), "x");
    if (!W_query || !W_key || !W_value || !w->target || !x) return -1;
    int64_t d_k = W_key->shape[1];

    /* forward(self, x) */
    Tensor *keys    = tensor_set_name(tensor_matmul(x, W_key), "keys");
    Tensor *queries = tensor_set_name(tensor_matmul(x, W_query), "queries");
    Tensor *values  = tensor_set_name(tensor_matmul(x, W_value), "values");
    Tensor *keys_t  = tensor_t(keys);
    Tensor *scores  = tensor_set_name(tensor_matmul(queries, keys_t), "scores");
    Tensor *scaled  = tensor_set_name(tensor_div_scalar(scores, sqrtf((float)d_k)), "scaled");
    Tensor *weights = tensor_set_name(tensor_softmax(scaled, -1), "weights");
    Tensor *context = tensor_set_name(tensor_matmul(weights, values), "context");

    w->loss = w->opt->mse ? tensor_mse_loss(context, w->target) : tensor_sum(context);
    tensor_set_name(w->loss, "loss");
    Tensor *all[N_STAGES] = {W_query, W_key, W_value, keys, queries, values,
                             scores, scaled, weights, context};
    memcpy(w->t, all, sizeof all);
    /* Intermediates, printed and drawn with their gradients after backward. */
    Tensor *kept[] = {keys, queries, values, keys_t, scores, scaled, weights, context, w->loss};
    for (size_t i = 0; i < sizeof kept / sizeof *kept; i++) tensor_retain_grad(kept[i]);
    return w->loss ? 0 : -1;
}

/* ---- the same forward in double precision, for central differences ---------- */

typedef struct {
    int rows, cols;
    double v[MAX_ELEMS];
} Mat;

static Mat mat_of(const Tensor *t)
{
    Mat m = {(int)t->shape[0], (int)t->shape[1], {0}};
    for (int i = 0; i < m.rows; i++)
        for (int j = 0; j < m.cols; j++) m.v[i * m.cols + j] = tensor_get(t, IDX(i, j));
    return m;
}

/* a @ b, or a @ b^T when b_t. */
static Mat mat_mul(const Mat *a, const Mat *b, bool b_t)
{
    Mat c = {a->rows, b_t ? b->rows : b->cols, {0}};
    for (int i = 0; i < c.rows; i++)
        for (int j = 0; j < c.cols; j++)
            for (int k = 0; k < a->cols; k++)
                c.v[i * c.cols + j] += a->v[i * a->cols + k] *
                                       (b_t ? b->v[j * b->cols + k] : b->v[k * b->cols + j]);
    return c;
}

static Mat mat_scale(Mat m, double s)
{
    for (int i = 0; i < m.rows * m.cols; i++) m.v[i] *= s;
    return m;
}

static Mat mat_softmax_rows(Mat m)
{
    for (int i = 0; i < m.rows; i++) {
        double *r = &m.v[i * m.cols], max = r[0], sum = 0;
        for (int j = 1; j < m.cols; j++) max = fmax(max, r[j]);
        for (int j = 0; j < m.cols; j++) sum += r[j] = exp(r[j] - max);
        for (int j = 0; j < m.cols; j++) r[j] /= sum;
    }
    return m;
}

/* The loss with element k of stage s moved by delta: the forward from the
 * leaves, nudging s as soon as it is made. */
static double nudged_loss(const Walk *w, Stage s, int k, double delta)
{
    Mat m[N_STAGES], x = mat_of(w->x);
#define MAKE(stage, value) (m[stage] = (value), m[stage].v[k] += (s == (stage)) * delta)
    MAKE(W_QUERY, mat_of(w->t[W_QUERY]));
    MAKE(W_KEY, mat_of(w->t[W_KEY]));
    MAKE(W_VALUE, mat_of(w->t[W_VALUE]));
    MAKE(KEYS, mat_mul(&x, &m[W_KEY], false));
    MAKE(QUERIES, mat_mul(&x, &m[W_QUERY], false));
    MAKE(VALUES, mat_mul(&x, &m[W_VALUE], false));
    MAKE(SCORES, mat_mul(&m[QUERIES], &m[KEYS], true));
    MAKE(SCALED, mat_scale(m[SCORES], 1 / sqrt(m[KEYS].cols)));
    MAKE(WEIGHTS, mat_softmax_rows(m[SCALED]));
    MAKE(CONTEXT, mat_mul(&m[WEIGHTS], &m[VALUES], false));
#undef MAKE
    const Mat *c = &m[CONTEXT];
    Mat target = mat_of(w->target);
    double loss = 0;
    for (int i = 0; i < c->rows * c->cols; i++) {
        double e = c->v[i] - target.v[i];
        loss += w->opt->mse ? e * e : c->v[i];
    }
    return w->opt->mse ? loss / (c->rows * c->cols) : loss;
}

/* d loss / d stage, element by element: (L(v + h) - L(v - h)) / 2h.  In
 * double, h = 1e-6 leaves a truncation error near h^2 and a rounding error
 * near 1e-16 / h, both far below float32's resolution. */
static Tensor *central_difference(const Walk *w, Stage s)
{
    const double h = 1e-6;
    Tensor *g = tensor_zeros_like(w->t[s]);
    if (!g) return NULL;
    for (int k = 0; k < g->numel; k++)
        g->data[k] = (float)((nudged_loss(w, s, k, h) - nudged_loss(w, s, k, -h)) / (2 * h));
    return g;
}

/* ---- the backward pass, step by step ------------------------------------------ */

typedef struct {
    Stage stage;                /* the gradient of this tensor ... */
    const char *grad;           /* ... called this */
    const char *formula;        /* how its op's backward computes it */
    const char *why;            /* the forward line and the rule */
} Step;

/* The loss's own step, for the sum and the mse loss. */
static const Step loss_steps[2] = {
    {CONTEXT, "d_context", "1 for every element", "loss = sum(context): each element counts once"},
    {CONTEXT, "d_context", "2 * (context - target) / 12",
     "loss = mean((context - target)^2) over 12 elements"},
};

/* In the order the chain rule reaches them: each forward line in reverse. */
static const Step steps[] = {
    {CONTEXT, "d_context", NULL, NULL},   /* one of loss_steps */
    {WEIGHTS, "d_weights", "d_context @ values^T",
     "context = weights @ values; matmul C = A @ B gives dA = dC @ B^T"},
    {VALUES, "d_values", "weights^T @ d_context",
     "context = weights @ values; matmul C = A @ B gives dB = A^T @ dC"},
    {SCALED, "d_scaled", "weights * (d_weights - rowsum(d_weights * weights))",
     "weights = softmax(scaled) row by row; dS = W * (dW - rowsum(dW * W))"},
    {SCORES, "d_scores", "d_scaled / sqrt(d_k)",
     "scaled = scores / sqrt(d_k), d_k = 2: a constant factor passes through"},
    {QUERIES, "d_queries", "d_scores @ keys",
     "scores = queries @ keys^T; dA = dC @ B^T with B^T = keys"},
    {KEYS, "d_keys", "d_scores^T @ queries",
     "scores = queries @ keys^T; d_keys = (queries^T @ d_scores)^T"},
    {W_VALUE, "dW_value", "x^T @ d_values", "values = x @ W_value; dB = A^T @ dC"},
    {W_QUERY, "dW_query", "x^T @ d_queries", "queries = x @ W_query; dB = A^T @ dC"},
    {W_KEY, "dW_key", "x^T @ d_keys", "keys = x @ W_key; dB = A^T @ dC"},
};
enum { N_STEPS = sizeof steps / sizeof *steps };

static const Step *step_at(const Walk *w, int i)
{
    return i ? &steps[i] : &loss_steps[w->opt->mse];
}

static int check_step(const Walk *w, Stage s, TensorGradPair *c)
{
    return tensor_grad_pair(w->t[s]->grad, central_difference(w, s), c);
}

/* ---- printing ------------------------------------------------------------------- */

static void print_forward(const Walk *w)
{
    printf("Forward: SelfAttention_v1 (Listing 3.1), d_in = %d, d_out = %d, seed %llu\n\n",
           D_IN, D_OUT, (unsigned long long)w->opt->seed);
    printf("x = inputs                        # the book's six tokens\n");
    tensor_fprint_indented(stdout, w->x, 4);
    for (int s = 0; s < N_STAGES; s++) {
        printf("%s\n", stage_code[s]);
        tensor_fprint_indented(stdout, w->t[s], 4);
    }
    if (w->opt->mse) {
        printf("target = torch.rand(6, 2)         # drawn after the weights\n");
        tensor_fprint_indented(stdout, w->target, 4);
    }
    printf("loss = %s\n", w->opt->mse ? "F.mse_loss(context, target)" : "context.sum()");
    tensor_fprint_indented(stdout, w->loss, 4);
}

static int print_backward(const Walk *w)
{
    int bad = 0;
    printf("\nBackward: each gradient with the formula its op's backward uses, autograd's\n"
           "value, and a central difference (nudge each element by +-1e-6 and rerun the\n"
           "forward in double precision), both to 4 decimals after any scale shown.\n");
    for (int i = 0; i < N_STEPS; i++) {
        const Step *st = step_at(w, i);
        TensorGradPair c;
        if (check_step(w, st->stage, &c)) return -1;
        printf("\n%s = %s\n    # %s\n", st->grad, st->formula, st->why);
        tensor_fprint_grad_pair(stdout, &c);
        printf("    %s (max |difference| %.1e)\n", tensor_grad_pair_verdict(&c), c.diff);
        bad += !c.agree;
    }
    printf("\nThe same steps as tensor ops, checked against autograd: "
           "docs/attention_backward.md\n");
    return bad;
}

static int print_summary(const Walk *w)
{
    int bad = 0;
    printf("SelfAttention_v1 on the book's inputs, seed %llu: loss = %s = %.4f\n",
           (unsigned long long)w->opt->seed,
           w->opt->mse ? "mse(context, target)" : "sum(context)", (double)tensor_item(w->loss));
    printf("%-9s  %-52s %8s  %s\n", "gradient", "formula", "norm", "max |autograd - numeric|");
    for (int i = 0; i < N_STEPS; i++) {
        const Step *st = step_at(w, i);
        TensorGradPair c;
        if (check_step(w, st->stage, &c)) return -1;
        printf("%-9s  %-52s %8.4f  %.1e\n", st->grad, st->formula, tensor_l2_norm(c.autograd),
               c.diff);
        bad += !c.agree;
    }
    printf("%d of %d gradients agree with their central difference to the printed precision\n",
           N_STEPS - bad, N_STEPS);
    return bad;
}

static int print_dump(const Walk *w)
{
    const char *kind = w->opt->mse ? "mse." : "sum.";
    for (int s = 0; s < N_STAGES; s++) tensor_fprint_fixture(stdout, w->t[s], "%s", w->t[s]->name);
    tensor_fprint_fixture(stdout, w->target, "target");
    tensor_fprint_fixture(stdout, w->loss, "%sloss", kind);
    int bad = 0;
    for (int i = 0; i < N_STEPS; i++) {
        TensorGradPair c;
        if (check_step(w, steps[i].stage, &c)) return -1;
        tensor_fprint_fixture(stdout, c.autograd, "%s%s", kind, steps[i].grad);
        tensor_fprint_fixture(stdout, c.numeric, "%snumeric.%s", kind, steps[i].grad);
        printf("#agree %s %d\n", steps[i].grad, c.agree);
        bad += !c.agree;
    }
    return bad;
}

/* ---- the graph picture --------------------------------------------------------- */

/* FILE.dot when path is a picture's name (FILE.png), else NULL; malloc'd. */
static char *dot_beside(const char *path)
{
    size_t n = strlen(path);
    if (n < 4 || strcmp(path + n - 4, ".dot") == 0) return NULL;
    char *dot = malloc(n + 1);
    if (dot) snprintf(dot, n + 1, "%.*s.dot", (int)(n - 4), path);
    return dot;
}

/* --dot FILE.dot: the DOT source only; FILE.png, .svg, .pdf: the picture
 * drawn by Graphviz's dot (plot_graph), with its DOT source beside it as
 * FILE.dot.  0, or 1 after a message. */
static int write_graph(const Walk *w, const char *path)
{
    char *dot = dot_beside(path);
    if (plot_graph(w->loss, dot ? dot : path) != 0) {
        fprintf(stderr, PROG ": --dot %s\n", tensor_error());
        free(dot);
        return 1;
    }
    int rc = 0;
    if (!dot) {
        printf("graph: %s (draw it with: dot -Tpng %s -o graph.png)\n", path, path);
    } else if (plot_graph(w->loss, path) != 0) {
        fprintf(stderr, PROG ": --dot %s; its DOT source is in %s\n", tensor_error(), dot);
        rc = 1;
    } else {
        printf("graph: %s (DOT source: %s)\n", path, dot);
    }
    free(dot);
    return rc;
}

/* --dot's file (and the DOT source beside a picture) and --html's, checked
 * before any work. */
static bool paths_ok(const Options *o)
{
    const char *path = o->dot;
    size_t n = path ? strlen(path) : 0;
    const char *ext = n >= 4 ? path + n - 4 : "";
    if (path && strcmp(ext, ".dot") && strcmp(ext, ".png") && strcmp(ext, ".svg") &&
        strcmp(ext, ".pdf")) {
        tensor_set_error(PROG ": --dot %s: the name must end in .dot, .png, .svg or .pdf", path);
        return false;
    }
    n = o->html ? strlen(o->html) : 0;
    if (o->html && (n < 5 || strcmp(o->html + n - 5, ".html") != 0)) {
        tensor_set_error(PROG ": --html %s: the name must end in .html", o->html);
        return false;
    }
    char *dot = path ? dot_beside(path) : NULL;
    TensorPath paths[] = {{.what = "--dot", .path = path, .output = true},
                          {.what = "--dot's DOT source", .path = dot, .output = true},
                          {.what = "--html", .path = o->html, .output = true}};
    bool ok = cli_paths_ok(PROG, 3, paths);
    free(dot);
    return ok;
}

/* ---- the page ----------------------------------------------------------------- */

/* The forward once more, for the page's own estimates of the tensors that
 * have no step here (keys^T, the loss): the same seed, the same graph. */
static Tensor *forward_again(void *ctx)
{
    Walk again = *(const Walk *)ctx;
    return forward(&again) == 0 ? again.loss : NULL;
}

/* --html FILE: runs the backward (plot_backward_page) with each step's
 * formula and central difference as the page's notes.  0, or 1 after a
 * message. */
static int write_page(Walk *w, const char *path)
{
    PlotPageNote notes[N_STEPS];
    char formulas[N_STEPS][96], intro[640];
    for (int i = 0; i < N_STEPS; i++) {
        const Step *st = step_at(w, i);
        snprintf(formulas[i], sizeof formulas[i], "%s = %s", st->grad, st->formula);
        notes[i] = (PlotPageNote){
            .tensor = w->t[st->stage], .formula = formulas[i], .why = st->why,
            .numeric = central_difference(w, st->stage),
            .numeric_how = "backprop_attention's own central difference: each element moved by "
                           "+-1e-6 in a double-precision forward written with plain loops"};
        if (!notes[i].numeric) return fprintf(stderr, PROG ": %s\n", tensor_error()), 1;
    }
    snprintf(intro, sizeof intro,
             "The book's SelfAttention_v1 (Listing 3.1) on its six input tokens, d_in %d, "
             "d_out %d, seed %llu, loss = %s = %.4f.  Its gradients are the ones "
             "backprop_attention prints, each beside the program's own central difference.  "
             "SelfAttention_v1 has no causal mask: every token attends to every token "
             "(backprop_block's page shows the mask).",
             D_IN, D_OUT, (unsigned long long)w->opt->seed,
             w->opt->mse ? "mse_loss(context, target)" : "context.sum()",
             (double)tensor_item(w->loss));
    PlotPageOptions o = PLOT_PAGE_OPTIONS(
        .title = "Backpropagation through SelfAttention_v1, step by step", .intro = intro,
        .notes = notes, .n_notes = N_STEPS, .forward = forward_again, .forward_ctx = w);
    if (plot_backward_page(w->loss, path, o) != 0) {
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
            "Steps through the backward pass of the book's SelfAttention_v1: every\n"
            "intermediate, then every gradient with its formula, autograd's value and a\n"
            "central-difference estimate.\n"
            "  --seed N         torch.manual_seed for the weights (default 123, the book's)\n"
            "  --loss sum|mse   loss = context.sum() (default) or mse_loss(context, target),\n"
            "                   target = torch.rand(6, 2) drawn after the weights\n"
            "  --summary        one line per gradient instead of whole tensors\n"
            "  --dot FILE.png   draw the graph (.png, .svg, .pdf) with Graphviz's dot and\n"
            "                   keep its source as FILE.dot (FILE.dot: only the DOT)\n"
            "  --html FILE.html the backward as a page to explore in a browser: the graph,\n"
            "                   a step control, every gradient beside its central difference\n"
            "  --dump           every tensor as '@name shape' and values (for tests)\n"
            "  --help           this text\n");
}

static int parse(int argc, char **argv, Options *o)
{
    *o = (Options){.seed = 123};
    for (int i = 1; i < argc; i++) {            /* the flags in --help's order */
        const char *a = argv[i], *v;
        if (cli_is_help(a)) {
            usage(stdout);
            exit(0);
        } else if (strcmp(a, "--seed") == 0) {
            if (!cli_u64_flag(PROG, argc, argv, &i, &o->seed)) return -1;
        } else if (strcmp(a, "--loss") == 0) {
            if (!(v = cli_value(PROG, argc, argv, &i))) return -1;
            if (strcmp(v, "sum") != 0 && strcmp(v, "mse") != 0) {
                tensor_set_error(PROG ": --loss: unknown loss '%s' (sum, mse)", v);
                return -1;
            }
            o->mse = strcmp(v, "mse") == 0;
        } else if (strcmp(a, "--summary") == 0) {
            o->summary = true;
        } else if (strcmp(a, "--dot") == 0) {
            if (!(o->dot = cli_value(PROG, argc, argv, &i))) return -1;
        } else if (strcmp(a, "--html") == 0) {
            if (!(o->html = cli_value(PROG, argc, argv, &i))) return -1;
        } else if (strcmp(a, "--dump") == 0) {
            o->dump = true;
        } else {
            cli_unknown_option(PROG, a);
            return -1;
        }
    }
    return paths_ok(o) ? 0 : -1;
}

static int run(const Options *o)
{
    Walk w = {.opt = o};
    if (forward(&w) != 0) {
        fprintf(stderr, PROG ": %s\n", tensor_error());
        return 1;
    }
    /* The page runs the backward itself, keeping each step. */
    if (o->html) {
        if (write_page(&w, o->html) != 0) return 1;
    } else if (tensor_backward(w.loss, NULL) != 0) {
        fprintf(stderr, PROG ": %s\n", tensor_error());
        return 1;
    }
    int bad;
    if (o->dump) {
        bad = print_dump(&w);
    } else if (o->summary) {
        bad = print_summary(&w);
    } else {
        print_forward(&w);
        bad = print_backward(&w);
    }
    if (bad < 0) {
        fprintf(stderr, PROG ": %s\n", tensor_error());
        return 1;
    }
    if (o->dot && write_graph(&w, o->dot) != 0) return 1;
    if (o->html) plot_page_report(stdout, o->html);   /* after what the program prints */
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
