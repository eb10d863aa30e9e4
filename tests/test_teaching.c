/*
 * The teaching aids: tensor_set_name, tensor_graph_dot, and the walk-through
 * program examples/backprop_attention against PyTorch.
 *
 * reference/backprop.txt (gen_backprop.py) holds SelfAttention_v1's
 * intermediates and every gradient for the book's inputs and seed 123, for
 * the sum and the mse loss.  The program prints its numbers in that format
 * with --dump, so the test compares exactly what the program computed.
 *
 * Tolerance for forward values and gradients against PyTorch: 1e-5 relative
 * to each element plus 1e-5 of the tensor's largest element.  The same
 * float32 ops summed in another order differ by a few ulp (~1e-7 relative);
 * elements produced by cancellation (a softmax backward row sums to zero)
 * keep the absolute error of the larger terms they came from, hence the part
 * scaled by the largest element.  A wrong formula is off by far more.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "program_run.h"
#include "testutil.h"

static const char *const grads[] = {
    "d_context", "d_weights", "d_values", "d_scaled", "d_scores",
    "d_queries", "d_keys", "dW_value", "dW_query", "dW_key",
};
enum { N_GRADS = sizeof grads / sizeof *grads };

#define ck_assert_matches_pytorch(a, ref) \
    ck_assert_tensor_close((a), (ref), 1e-5 * testutil_max_abs(ref), 1e-5)

/* ---- the graph of Listing 3.1's forward, built in this process -------------- */

typedef struct {
    Tensor *x, *W_query, *W_key, *W_value;
    Tensor *keys, *queries, *values, *keys_t, *scores, *scaled, *weights, *context, *loss;
} Attention;

static Tensor *fixture_param(const char *name)
{
    Tensor *W = testutil_fixture("backprop.txt", name);
    return tensor_set_name(tensor_requires_grad_(W, true), name);
}

/* The walk-through's forward and sum loss, weights from the fixture. */
static Attention attention(void)
{
    Attention a;
    a.W_query = fixture_param("W_query");
    a.W_key = fixture_param("W_key");
    a.W_value = fixture_param("W_value");
    a.x = tensor_set_name(nn_example_inputs(), "x");
    a.keys = tensor_set_name(tensor_matmul(a.x, a.W_key), "keys");
    a.queries = tensor_set_name(tensor_matmul(a.x, a.W_query), "queries");
    a.values = tensor_set_name(tensor_matmul(a.x, a.W_value), "values");
    a.keys_t = tensor_t(a.keys);
    a.scores = tensor_set_name(tensor_matmul(a.queries, a.keys_t), "scores");
    a.scaled = tensor_set_name(tensor_div_scalar(a.scores, sqrtf(2.0f)), "scaled");
    a.weights = tensor_set_name(tensor_softmax(a.scaled, -1), "weights");
    a.context = tensor_set_name(tensor_matmul(a.weights, a.values), "context");
    a.loss = tensor_set_name(tensor_sum(a.context), "loss");
    ck_assert_msg(a.loss != NULL, "%s", tensor_error());
    return a;
}

/* tensor_graph_dot's text (malloc'd). */
static char *dot_text(const Tensor *root)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_msg(tensor_graph_dot(root, f) == 0, "%s", tensor_error());
    fclose(f);
    return text;
}

static int count(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)); p += strlen(what)) n++;
    return n;
}

/* A node's label is a table, one row a line: "<TR><TD>queries</TD></TR>". */
#define ROW(text) "<TR><TD>" text "</TD></TR>"
#define LABEL "[label=<<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"0\">"
/* The thin row under a name (W_key's underscore no longer touches the shape). */
#define GAP "<TR><TD HEIGHT=\"4\"></TD></TR>"

/* The line of the node whose label starts with name, e.g. "    t3 [label=<<TABLE ...>
 * <TR><TD>queries</TD></TR>...". */
static const char *node_line(const char *text, const char *name, int *id)
{
    char label[256];
    snprintf(label, sizeof label, LABEL ROW("%s") GAP, name);
    const char *p = strstr(text, label);
    ck_assert_msg(p != NULL, "no node labelled %s in:\n%s", name, text);
    while (p > text && p[-1] != '\n') p--;
    ck_assert_int_eq(sscanf(p, " t%d", id), 1);
    return p;
}

static bool line_has(const char *line, const char *what)
{
    const char *end = strchr(line, '\n'), *hit = strstr(line, what);
    return hit && (!end || hit < end);
}

START_TEST(test_set_name)
{
    Tensor *t = tensor_zeros(SHAPE(6, 2));
    ck_assert_ptr_eq(tensor_set_name(t, "queries"), t);
    ck_assert_str_eq(t->name, "queries");
    ck_assert_ptr_eq(tensor_set_name(t, NULL), t);
    ck_assert_ptr_null(t->name);
    ck_assert_ptr_null(tensor_set_name(NULL, "queries"));
    /* A long-lived copy keeps the name, as it keeps requires_grad. */
    Tensor *kept = tensor_keep(tensor_set_name(t, "W_query"));
    ck_assert_str_eq(kept->name, "W_query");
    tensor_free(kept);
}
END_TEST

START_TEST(test_dot_structure)
{
    Attention a = attention();
    char *text = dot_text(a.loss);
    ck_assert_msg(strncmp(text, "digraph attograd {\n", 19) == 0, "%s", text);
    ck_assert_msg(text[strlen(text) - 2] == '}', "%s", text);
    /* x, three weights, keys, queries, values, keys^T, scores, scaled,
     * weights, context, loss; an edge per op input. */
    ck_assert_int_eq(count(text, " " LABEL), 13);
    ck_assert_int_eq(count(text, " -> "), 14);
    ck_assert(strstr(text, "// 13 tensors, 14 edges") != NULL);
    /* The picture says what it shows, in sentences: a heading and a legend
     * as the graph's label. */
    ck_assert(strstr(text, "    label=\"Autograd recorded this graph while computing the bold "
                           "box; the backward pass walks it from there, against the arrows.\\l")
              != NULL);
    ck_assert(strstr(text, "Each arrow carries a tensor into the op that used it") != NULL);
    ck_assert(strstr(text, "Blue boxes are parameters") != NULL);
    ck_assert(strstr(text, "the L2 norm of its gradient to 4 significant digits.") != NULL);

    int wq, q, x, scores, keys_t;
    const char *wq_line = node_line(text, "W_query", &wq);
    node_line(text, "queries", &q);
    const char *x_line = node_line(text, "x", &x);
    const char *scores_line = node_line(text, "scores", &scores);
    char edge[64];
    snprintf(edge, sizeof edge, "t%d -> t%d;", wq, q);
    ck_assert_msg(strstr(text, edge) != NULL, "no edge %s in:\n%s", edge, text);
    snprintf(edge, sizeof edge, "t%d -> t%d;", q, wq);
    ck_assert_msg(strstr(text, edge) == NULL, "edge against the data flow: %s", edge);
    /* The unnamed keys^T: shape and op, and it feeds scores. */
    const char *kt = strstr(text, LABEL ROW("(2,6)"));
    ck_assert_ptr_nonnull(kt);
    while (kt > text && kt[-1] != '\n') kt--;
    ck_assert_int_eq(sscanf(kt, " t%d", &keys_t), 1);
    snprintf(edge, sizeof edge, "t%d -> t%d;", keys_t, scores);
    ck_assert(strstr(text, edge) != NULL);

    ck_assert(line_has(wq_line, ROW("(3,2)") ROW("parameter")));
    ck_assert(line_has(wq_line, "fillcolor"));
    ck_assert(line_has(x_line, ROW("(6,3)") ROW("input")));
    ck_assert(line_has(x_line, "dashed"));
    ck_assert(!line_has(x_line, "fillcolor"));
    ck_assert(line_has(scores_line, ROW("(6,6)") ROW("MmBackward0") "</TABLE>>"));
    ck_assert(!line_has(scores_line, "fillcolor"));
    ck_assert(strstr(text, "SoftmaxBackward0") != NULL);
    ck_assert_int_eq(count(text, "fillcolor"), 3);
    ck_assert_int_eq(count(text, "penwidth=2"), 1);       /* the root */
    ck_assert_int_eq(count(text, "grad norm"), 0);        /* no backward yet */
    free(text);
}
END_TEST

/* After backward the parameters' gradients are drawn; the intermediates'
 * were released once used, unless each asked to keep its own (_i = 1). */
START_TEST(test_dot_grad_norms_after_backward)
{
    Attention a = attention();
    Tensor *kept[] = {a.keys, a.queries, a.values, a.keys_t, a.scores,
                      a.scaled, a.weights, a.context, a.loss};
    for (size_t i = 0; _i && i < sizeof kept / sizeof *kept; i++) tensor_retain_grad(kept[i]);
    ck_assert_int_eq(tensor_backward(a.loss, NULL), 0);
    Tensor *expected = testutil_fixture("backprop.txt", "sum.dW_query");
    ck_assert_matches_pytorch(a.W_query->grad, expected);
    char *text = dot_text(a.loss);
    /* Retained: every tensor but x (which does not require grad) has one;
     * else the three parameters alone. */
    ck_assert_int_eq(count(text, "grad norm"), _i ? 12 : 3);
    int id;
    ck_assert(!line_has(node_line(text, "x", &id), "grad norm"));
    double norm = 0;
    for (int i = 0; i < 6; i++) norm += (double)a.W_query->grad->data[i] * a.W_query->grad->data[i];
    char want[64];
    /* 4 significant digits, a trailing zero kept (dW_key's is 0.3570, not 0.357). */
    snprintf(want, sizeof want, ROW("grad norm %#.4g") "</TABLE>>", sqrt(norm));
    ck_assert_msg(line_has(node_line(text, "W_query", &id), want), "want %s in\n%s", want, text);
    ck_assert(_i == line_has(node_line(text, "loss", &id), ROW("grad norm 1.000")));
    ck_assert(_i == line_has(node_line(text, "scores", &id), "grad norm"));
    free(text);
}
END_TEST

/* Node ids come from the walk, not from addresses: the same program writes
 * the same file, whatever memory its tensors landed in. */
START_TEST(test_dot_deterministic)
{
    TensorScope *s1 = tensor_scope_begin();
    tensor_zeros(SHAPE(97));   /* shifts every later allocation */
    char *first = dot_text(attention().loss);
    tensor_scope_end(s1);
    char *second = dot_text(attention().loss);
    ck_assert_str_eq(first, second);
    free(first);
    free(second);
}
END_TEST

START_TEST(test_dot_bad_input)
{
    tensor_clear_error();
    ck_assert_int_eq(tensor_graph_dot(NULL, stdout), -1);
    ck_assert_str_eq(tensor_error(), "graph_dot: root tensor is NULL");
    /* A failed forward's message is the first cause: it stays. */
    Tensor *bad = tensor_matmul(tensor_zeros(SHAPE(6, 3)), tensor_zeros(SHAPE(2, 3)));
    ck_assert_ptr_null(bad);
    char cause[512];
    snprintf(cause, sizeof cause, "%s", tensor_error());
    ck_assert_int_eq(tensor_graph_dot(bad, stdout), -1);
    ck_assert_str_eq(tensor_error(), cause);

    Tensor *leaf = tensor_zeros(SHAPE(2));
    ck_assert_int_eq(tensor_graph_dot(leaf, NULL), -1);
    ck_assert_str_eq(tensor_error(), "graph_dot: FILE is NULL");
    FILE *ro = fopen("/dev/null", "r");
    ck_assert_ptr_nonnull(ro);
    ck_assert_int_eq(tensor_graph_dot(leaf, ro), -1);
    ck_assert_str_eq(tensor_error(), "graph_dot: write failed");
    fclose(ro);
}
END_TEST

START_TEST(test_dot_leaf_and_names_escaped)
{
    /* An HTML-like label: markup escaped, a newline a line break. */
    Tensor *leaf = tensor_set_name(tensor_zeros(SHAPE(2)), "a \"b\" \\c\nd <e> & f\x01");
    char *text = dot_text(leaf);
    ck_assert_int_eq(count(text, " " LABEL), 1);
    ck_assert_int_eq(count(text, " -> "), 0);
    ck_assert_msg(strstr(text, "t0 " LABEL ROW("a &quot;b&quot; \\c<BR/>d &lt;e&gt; &amp; f?") GAP
                               ROW("(2)") ROW("input") "</TABLE>>") != NULL,
                  "%s", text);
    free(text);
}
END_TEST

/* The walk is iterative: a graph far deeper than the C stack allows. */
START_TEST(test_dot_deep_graph)
{
    enum { DEPTH = 100000 };
    Tensor *t = tensor_requires_grad_(tensor_zeros(SHAPE(1)), true);
    for (int i = 0; i < DEPTH; i++) t = tensor_add_scalar(t, 1.0f);
    char *text = dot_text(tensor_add(t, t));
    ck_assert(strstr(text, "// 100002 tensors, 100002 edges") != NULL);
    free(text);
}
END_TEST

/* x @ (W * W), with one factor of W detached: autograd sees half of W's
 * gradient, so gradcheck must point at W and not at x. */
static Tensor *half_gradient_of_W(Tensor *const *in, void *ctx)
{
    (void)ctx;
    return tensor_matmul(in[0], tensor_mul(in[1], tensor_detach(in[1])));
}

START_TEST(test_gradcheck_report_names_the_element)
{
    tensor_manual_seed(123);
    Tensor *x = tensor_set_name(tensor_requires_grad_(tensor_rand(SHAPE(6, 3)), true), "x");
    Tensor *W = tensor_set_name(tensor_requires_grad_(tensor_rand(SHAPE(3, 2)), true), "W_query");
    TensorGradcheckResult r;
    ck_assert_int_eq(tensor_gradcheck(half_gradient_of_W, NULL, 2, (Tensor *const[]){x, W}, 1e-2,
                                      1e-3, 1e-2, &r), 0);
    ck_assert_int_eq(r.input, 1);
    ck_assert_msg(strncmp(r.report, "MISMATCH at input 1 \"W_query\" (3,2) element [", 45) == 0,
                  "%s", r.report);
    ck_assert_msg(strstr(r.report, "allowed") != NULL, "%s", r.report);
    /* The element named is the one in index: row-major [index / 2, index % 2]. */
    char coords[32];
    snprintf(coords, sizeof coords, "element [%d,%d]", (int)r.index / 2, (int)r.index % 2);
    ck_assert_msg(strstr(r.report, coords) != NULL, "%s lacks %s", r.report, coords);
    /* Half the true gradient: numeric is twice analytic. */
    ck_assert_double_eq_tol(r.numeric, 2 * r.analytic, 1e-2 * fabs(r.numeric));
    tensor_set_name(W, NULL);
    ck_assert_int_eq(tensor_gradcheck(half_gradient_of_W, NULL, 2, (Tensor *const[]){x, W}, 1e-2,
                                      1e-3, 1e-2, &r), 0);
    ck_assert_msg(strncmp(r.report, "MISMATCH at input 1 (3,2) element [", 35) == 0, "%s",
                  r.report);
}
END_TEST

/* ---- the walk-through program --------------------------------------------------- */

static int run_example(const char *args, char *out, size_t cap)
{
    return program_capture("backprop_attention", args, out, cap);
}

static const char *const losses[] = {"sum", "mse"};
static char dump[1 << 18];

START_TEST(test_walkthrough_matches_pytorch)
{
    const char *loss = losses[_i];
    char args[64], name[64];
    snprintf(args, sizeof args, "--dump --loss %s", loss);
    ck_assert_int_eq(run_example(args, dump, sizeof dump), 0);
    /* The weights are torch.rand's, bit for bit. */
    const char *leaves[] = {"W_query", "W_key", "W_value", "target"};
    for (int i = 0; i < 4; i++)
        ck_assert_tensor_close(testutil_dumped(dump, leaves[i]),
                               testutil_fixture("backprop.txt", leaves[i]), 0, 0);
    const char *forward[] = {"keys", "queries", "values", "scores", "scaled", "weights",
                             "context"};
    for (int i = 0; i < 7; i++)
        ck_assert_matches_pytorch(testutil_dumped(dump, forward[i]),
                                  testutil_fixture("backprop.txt", forward[i]));
    snprintf(name, sizeof name, "%s.loss", loss);
    ck_assert_matches_pytorch(testutil_dumped(dump, name),
                              testutil_fixture("backprop.txt", name));
    for (int i = 0; i < N_GRADS; i++) {
        snprintf(name, sizeof name, "%s.%s", loss, grads[i]);
        ck_assert_matches_pytorch(testutil_dumped(dump, name),
                                  testutil_fixture("backprop.txt", name));
    }
}
END_TEST

/* The central differences equal PyTorch's gradients, and the program judged
 * every pair to agree to the printed precision. */
START_TEST(test_walkthrough_checks_agree)
{
    const char *loss = losses[_i];
    char args[64], name[96];
    snprintf(args, sizeof args, "--dump --loss %s", loss);
    ck_assert_int_eq(run_example(args, dump, sizeof dump), 0);
    for (int i = 0; i < N_GRADS; i++) {
        snprintf(name, sizeof name, "%s.%s", loss, grads[i]);
        Tensor *pytorch = testutil_fixture("backprop.txt", name);
        snprintf(name, sizeof name, "%s.numeric.%s", loss, grads[i]);
        ck_assert_matches_pytorch(testutil_dumped(dump, name), pytorch);
        snprintf(name, sizeof name, "\n#agree %s 1\n", grads[i]);
        ck_assert_msg(strstr(dump, name) != NULL, "%s: %s disagrees", loss, grads[i]);
    }
}
END_TEST

START_TEST(test_walkthrough_prints_every_step)
{
    static char out[1 << 16];
    ck_assert_int_eq(run_example("--loss mse", out, sizeof out), 0);
    const char *lines[] = {
        "keys = x @ W_key\n",
        "scores = queries @ keys.T",
        "weights = torch.softmax(scaled, dim=-1)\n",
        "    tensor([[0.2996, 0.8053],\n",          /* context, as the book prints it */
        "d_context = 2 * (context - target) / 12\n",
        "d_weights = d_context @ values^T\n",
        "d_scaled = weights * (d_weights - rowsum(d_weights * weights))\n",
        "d_scores = d_scaled / sqrt(d_k)\n",
        "d_keys = d_scores^T @ queries\n",
        "dW_query = x^T @ d_queries\n",
        "autograd, x 1e-3       numeric, x 1e-3\n",
    };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
        ck_assert_msg(strstr(out, lines[i]) != NULL, "no \"%s\" in:\n%s", lines[i], out);
    ck_assert_int_eq(count(out, "\n    agree"), N_GRADS);
    ck_assert_int_eq(count(out, "DISAGREE"), 0);
    /* Gradients come in backward order. */
    const char *order[] = {"\nd_context =", "\nd_weights =", "\nd_values =", "\nd_scaled =",
                           "\nd_scores =", "\nd_queries =", "\nd_keys =", "\ndW_value =",
                           "\ndW_query =", "\ndW_key ="};
    for (int i = 1; i < N_GRADS; i++) {
        const char *before = strstr(out, order[i - 1]), *after = strstr(out, order[i]);
        ck_assert_msg(before && after && before < after, "%s not before %s", order[i - 1],
                      order[i]);
    }
}
END_TEST

START_TEST(test_summary_is_short)
{
    char out[4096];
    ck_assert_int_eq(run_example("--summary", out, sizeof out), 0);
    ck_assert_int_eq(count(out, "\n"), 13);
    ck_assert(strstr(out, "loss = sum(context) = 6.6316\n") != NULL);
    ck_assert(strstr(out, "\n10 of 10 gradients agree with their central difference to the "
                          "printed precision\n") != NULL);
}
END_TEST

START_TEST(test_dot_flag_writes_the_graph)
{
    char args[256], out[4096], path[128];
    snprintf(path, sizeof path, "/tmp/attograd-teaching-%d", (int)getpid());
    snprintf(args, sizeof args, "--summary --dot %s.dot", path);
    ck_assert_int_eq(run_example(args, out, sizeof out), 0);
    strcat(path, ".dot");
    const char *text = testutil_read_text(path);
    ck_assert(strstr(text, "// 13 tensors, 14 edges") != NULL);
    ck_assert_int_eq(count(text, "grad norm"), 12);
    remove(path);
}
END_TEST

/* FILE.png: the DOT beside it, and either the PNG (Graphviz installed) or
 * a message saying how to install it and exit status 1 (no picture); both are checked, the second with an
 * empty PATH, so the test asserts the same things on any machine. */
START_TEST(test_dot_flag_renders_png_or_says_how)
{
    char cmd[512], out[4096], png[128], dot[128];
    snprintf(png, sizeof png, "/tmp/attograd-teaching-%d.png", (int)getpid());
    snprintf(dot, sizeof dot, "/tmp/attograd-teaching-%d.dot", (int)getpid());
    bool have_dot = system("command -v dot >/dev/null 2>&1") == 0;
    const char *path_env = _i == 0 ? "" : "PATH=/nonexistent ";
    snprintf(cmd, sizeof cmd, "%s%s/examples/backprop_attention --summary --dot %s 2>&1", path_env,
             ATTOGRAD_BUILD_DIR, png);
    ck_assert_int_eq(testutil_capture(cmd, out, sizeof out), _i == 0 && have_dot ? 0 : 1);
    ck_assert(strstr(testutil_read_text(dot), "digraph attograd {") != NULL);
    if (_i == 0 && have_dot) {
        ck_assert(strstr(out, "graph: ") != NULL && strstr(out, png) != NULL);
        FILE *f = fopen(png, "rb");
        ck_assert_ptr_nonnull(f);
        unsigned char magic[8];
        ck_assert_int_eq(fread(magic, 1, 8, f), 8);
        fclose(f);
        ck_assert_mem_eq(magic, "\x89PNG\r\n\x1a\n", 8);
    } else {
        ck_assert_msg(strstr(out, "apt-get install graphviz") != NULL, "%s", out);
    }
    remove(png);
    remove(dot);
}
END_TEST

static const struct {
    const char *args, *message;
} bad_flags[] = {
    {"--loss l1", "backprop_attention: --loss: unknown loss 'l1' (sum, mse)\n"},
    {"--seed x", "backprop_attention: --seed: 'x' is not a non-negative whole number\n"},
    {"--dot", "backprop_attention: --dot needs a value (see --help)\n"},
    {"--frobnicate", "backprop_attention: unknown option '--frobnicate' (see --help)\n"},
};

START_TEST(test_bad_flags_exit_2_with_one_line)
{
    char err[1024];
    ck_assert_int_eq(program_capture_stderr("backprop_attention", bad_flags[_i].args, err,
                                            sizeof err), 2);
    ck_assert_str_eq(err, bad_flags[_i].message);
}
END_TEST

static Suite *teaching_suite(void)
{
    Suite *s = suite_create("teaching");
    TCase *graph = tcase_create("names and graphs");
    tcase_set_timeout(graph, 30);
    tcase_add_test(graph, test_set_name);
    tcase_add_test(graph, test_dot_structure);
    tcase_add_loop_test(graph, test_dot_grad_norms_after_backward, 0, 2);
    tcase_add_test(graph, test_dot_deterministic);
    tcase_add_test(graph, test_dot_bad_input);
    tcase_add_test(graph, test_dot_leaf_and_names_escaped);
    tcase_add_test(graph, test_dot_deep_graph);
    tcase_add_test(graph, test_gradcheck_report_names_the_element);
    suite_add_tcase(s, graph);
    TCase *prog = tcase_create("backprop_attention");
    tcase_set_timeout(prog, 60);
    tcase_add_loop_test(prog, test_walkthrough_matches_pytorch, 0, 2);
    tcase_add_loop_test(prog, test_walkthrough_checks_agree, 0, 2);
    tcase_add_test(prog, test_walkthrough_prints_every_step);
    tcase_add_test(prog, test_summary_is_short);
    tcase_add_test(prog, test_dot_flag_writes_the_graph);
    tcase_add_loop_test(prog, test_dot_flag_renders_png_or_says_how, 0, 2);
    tcase_add_loop_test(prog, test_bad_flags_exit_2_with_one_line, 0,
                        sizeof bad_flags / sizeof *bad_flags);
    suite_add_tcase(s, prog);
    return s;
}

TESTUTIL_MAIN(teaching_suite)
