/*
 * The backward, step by step (tensor_trace_graph, tensor_trace_backward)
 * and central differences for any tensor of a graph (tensor_numeric_grad).
 *
 * The trace only copies what the engine computes: its gradients are
 * compared bit for bit with a plain tensor_backward of the same graph built
 * again, its ids with tensor_graph_dot's, and its steps with the engine's
 * rule (an op's backward runs only once every consumer of its output has
 * sent its part).  A tensor used twice gets two parts, and what it had plus
 * the second part is what it ends with.
 *
 * tensor_numeric_grad against autograd on the book's TransformerBlock (emb
 * 4, 2 heads, context 3) for every tensor of its graph, leaves and
 * intermediates (views among them), and on SelfAttention_v1's sum loss:
 * within 1e-3 of the tensor's largest gradient plus 1e-4 of the loss, the
 * bound plot_backward_page judges by.  Measured: at most 1.2e-4 of the
 * largest gradient, a tenth of the bound.  A wrong formula, or a nudge that
 * missed its tensor, is off by the gradient itself.
 */
#include <math.h>

#include "core/tensor_internal.h"
#include "testutil.h"

/* Every op has its backward in symbols and words (a new op without them fails here). */
START_TEST(test_every_op_has_a_formula)
{
    for (int op = 0; op < OP_COUNT; op++)
        ck_assert_msg(tensor__op_has_formula(op), "op %s has no formula in debug/formulas.c",
                      tensor__op_names[op]);
}
END_TEST

/* ---- a small graph: a used twice, x * x, a broadcast bias ------------------------- */

typedef struct {
    Tensor *a, *w, *b;
} Small;

/* loss = sum((a @ w + b) * 2 + a @ w) : "a @ w" once, used twice, and b broadcast. */
static Tensor *small_loss(void *ctx)
{
    Small *s = ctx;
    Tensor *aw = tensor_set_name(tensor_matmul(s->a, s->w), "aw");
    Tensor *y = tensor_add(tensor_mul_scalar(tensor_add(aw, s->b), 2.0f), aw);
    return tensor_set_name(tensor_sum(tensor_mul(y, y)), "loss");
}

static Small small(void)
{
    tensor_manual_seed(7);
    Small s = {tensor_set_name(tensor_requires_grad_(tensor_rand(SHAPE(3, 2)), true), "a"),
               tensor_set_name(tensor_requires_grad_(tensor_rand(SHAPE(2, 4)), true), "w"),
               tensor_set_name(tensor_requires_grad_(tensor_rand(SHAPE(4)), true), "b")};
    return s;
}

static int64_t id_named(const TensorTrace *tr, const char *name)
{
    for (int64_t i = 0; i < tr->n_tensors; i++)
        if (tr->tensors[i].name && strcmp(tr->tensors[i].name, name) == 0) return i;
    ck_abort_msg("no tensor %s in the trace", name);
    return -1;
}

START_TEST(test_trace_copies_what_the_engine_computes)
{
    Small s = small();
    Tensor *loss = small_loss(&s);
    TensorTrace *tr = tensor_trace_graph(loss, TENSOR_TRACE_OPTIONS());
    ck_assert_msg(tr != NULL, "%s", tensor_error());
    ck_assert_int_eq(tr->n_steps, 0);
    ck_assert_ptr_eq(tr->tensors[tr->n_tensors - 1].tensor, loss);   /* the root last */
    ck_assert_int_eq(tensor_trace_backward(tr), 0);
    ck_assert_int_eq(tensor_trace_backward(tr), -1);                 /* once */
    ck_assert_str_eq(tensor_error(), "trace_backward: this trace's backward has run");

    /* The same graph again, a plain backward: the same bits. */
    Small again = small();
    Tensor *loss2 = small_loss(&again);
    ck_assert_int_eq(tensor_backward(loss2, NULL), 0);
    Tensor *leaves[][2] = {{s.a, again.a}, {s.w, again.w}, {s.b, again.b}};
    for (int i = 0; i < 3; i++) {
        const TensorTraceTensor *t = &tr->tensors[id_named(tr, leaves[i][0]->name)];
        ck_assert(t->parameter && !t->op && t->step == -1 && t->n_inputs == 0);
        ck_assert_int_eq(memcmp(t->grad->data, leaves[i][1]->grad->data,
                                (size_t)t->grad->numel * sizeof(float)), 0);
        ck_assert_double_eq(t->grad_norm, tensor_l2_norm(leaves[i][1]->grad));
        ck_assert_int_eq(memcmp(t->value->data, leaves[i][1]->data,
                                (size_t)t->value->numel * sizeof(float)), 0);
    }
    /* Ids are tensor_graph_dot's: t<id> is the box of the same name. */
    char *dot = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&dot, &len);
    ck_assert_int_eq(tensor_graph_dot(loss, f), 0);
    fclose(f);
    for (int64_t i = 0; i < tr->n_tensors; i++) {
        if (!tr->tensors[i].name) continue;
        char want[160];
        snprintf(want, sizeof want, "t%lld [label=<<TABLE BORDER=\"0\" CELLBORDER=\"0\" "
                 "CELLSPACING=\"0\" CELLPADDING=\"0\"><TR><TD>%s</TD>",
                 (long long)i, tr->tensors[i].name);
        ck_assert_msg(strstr(dot, want) != NULL, "no %s in\n%s", want, dot);
    }
    free(dot);
    /* The engine's rule: the root's op first; an op's backward after every
     * step that sent its output a part. */
    ck_assert_int_eq(tr->steps[0].tensor, tr->n_tensors - 1);
    for (int64_t st = 0; st < tr->n_steps; st++) {
        ck_assert_int_eq(tr->tensors[tr->steps[st].tensor].step, st);
        for (int i = 0; i < tr->steps[st].n_sent; i++) {
            const TensorTraceTensor *to = &tr->tensors[tr->steps[st].sent[i].to];
            if (to->op) ck_assert_int_gt(to->step, st);
        }
    }
    /* aw is used twice: two parts, the second added to the first. */
    int64_t aw = id_named(tr, "aw");
    int parts = 0;
    for (int64_t st = 0; st < tr->n_steps; st++)
        for (int i = 0; i < tr->steps[st].n_sent; i++) {
            const TensorTraceSent *d = &tr->steps[st].sent[i];
            if (d->to != aw) continue;
            ck_assert(d->accumulated == (parts > 0));
            ck_assert(parts ? d->before != NULL : d->before == NULL);
            if (parts) {
                /* had + part = now, elementwise, in float: the part is 2x the first */
                for (int64_t k = 0; k < d->after->numel; k++)
                    ck_assert_float_eq_tol(d->after->data[k] - d->before->data[k],
                                           2 * d->before->data[k], 1e-5f);
            }
            parts++;
        }
    ck_assert_int_eq(parts, 2);
    /* Its whole gradient is the last part's after. */
    const TensorTraceTensor *awt = &tr->tensors[aw];
    ck_assert_str_eq(awt->op, "MmBackward0");
    ck_assert_str_eq(awt->forward, "C = A @ B");
    ck_assert_str_eq(awt->backward, "dA = dC @ B^T, dB = A^T @ dC");
    ck_assert_ptr_nonnull(awt->words);
    tensor_trace_free(tr);
}
END_TEST

/* x * x: one input given twice is one part of the step; a leaf root; keep. */
START_TEST(test_trace_edges)
{
    Tensor *x = tensor_requires_grad_(tensor_full(3.0f, SHAPE(2)), true);
    TensorTrace *tr = tensor_trace_graph(tensor_sum(tensor_mul(x, x)), TENSOR_TRACE_OPTIONS());
    ck_assert_int_eq(tensor_trace_backward(tr), 0);
    ck_assert_int_eq(tr->n_steps, 2);
    ck_assert_int_eq(tr->steps[1].n_sent, 1);
    ck_assert_float_eq(x->grad->data[0], 6.0f);          /* 2 x, both halves of x * x */
    tensor_trace_free(tr);

    /* A leaf as the root: no step, its gradient the seed. */
    Tensor *leaf = tensor_requires_grad_(tensor_scalar(2.0f), true);
    tr = tensor_trace_graph(leaf, TENSOR_TRACE_OPTIONS());
    ck_assert_int_eq(tensor_trace_backward(tr), 0);
    ck_assert_int_eq(tr->n_steps, 0);
    ck_assert_float_eq(tr->tensors[0].grad->data[0], 1.0f);
    tensor_trace_free(tr);

    /* Past keep, the norms only. */
    Tensor *big = tensor_requires_grad_(tensor_ones(SHAPE(100)), true);
    tr = tensor_trace_graph(tensor_sum(big), TENSOR_TRACE_OPTIONS(.keep = 10));
    ck_assert_int_eq(tensor_trace_backward(tr), 0);
    ck_assert_ptr_null(tr->tensors[0].value);
    ck_assert_ptr_null(tr->tensors[0].grad);
    ck_assert_double_eq_tol(tr->tensors[0].value_norm, 10.0, 1e-12);
    ck_assert_double_eq_tol(tr->tensors[0].grad_norm, 10.0, 1e-12);
    ck_assert_ptr_null(tr->steps[0].sent[0].after);
    ck_assert_double_eq_tol(tr->steps[0].sent[0].after_norm, 10.0, 1e-12);
    tensor_trace_free(tr);
    tensor_trace_free(NULL);
}
END_TEST

START_TEST(test_trace_refusals)
{
    /* A graph larger than asked: refused before any backward. */
    Tensor *p = tensor_requires_grad_(tensor_zeros(SHAPE(1)), true), *t = p;
    for (int i = 0; i < 20; i++) t = tensor_add_scalar(t, 1.0f);
    ck_assert_ptr_null(tensor_trace_graph(t, TENSOR_TRACE_OPTIONS(.max_tensors = 10)));
    ck_assert_str_eq(tensor_error(), "trace_graph: the graph behind the root has 21 tensors, "
                                     "more than the 10 asked for");
    ck_assert_ptr_null(p->grad);
    ck_assert_ptr_null(tensor_trace_graph(t, TENSOR_TRACE_OPTIONS(.keep = -1)));
    ck_assert_int_eq(tensor_trace_backward(NULL), -1);
    /* A failed forward's NULL keeps its message. */
    tensor_set_error("matmul: the first cause");
    ck_assert_ptr_null(tensor_trace_graph(NULL, TENSOR_TRACE_OPTIONS()));
    ck_assert_str_eq(tensor_error(), "matmul: the first cause");
    /* A root of more than one element has no implicit seed. */
    TensorTrace *tr = tensor_trace_graph(tensor_mul_scalar(p, 2.0f), TENSOR_TRACE_OPTIONS());
    Tensor *two = tensor_requires_grad_(tensor_zeros(SHAPE(2)), true);
    TensorTrace *tr2 = tensor_trace_graph(tensor_mul_scalar(two, 2.0f), TENSOR_TRACE_OPTIONS());
    ck_assert_int_eq(tensor_trace_backward(tr), 0);
    ck_assert_int_eq(tensor_trace_backward(tr2), -1);
    ck_assert_ptr_nonnull(strstr(tensor_error(), "only for scalar outputs"));
    tensor_trace_free(tr);
    tensor_trace_free(tr2);
}
END_TEST

/* ---- tensor_numeric_grad ------------------------------------------------------------ */

/* plot_backward_page's bound for an estimate of its own. */
static void assert_estimate_close(const Tensor *autograd, const Tensor *numeric, double loss,
                                  const char *what)
{
    double big = fmax(tensor_max_abs_diff(autograd, NULL), tensor_max_abs_diff(numeric, NULL));
    double diff = tensor_max_abs_diff(autograd, tensor_reshape(numeric, autograd->ndim,
                                                               autograd->shape));
    double allowed = 1e-3 * big + 1e-4 * fmax(1.0, fabs(loss));
    ck_assert_msg(diff <= allowed, "%s: max |autograd - numeric| %.2e, allowed %.2e", what, diff,
                  allowed);
}

typedef struct {
    Module *block;
    Tensor *x, *target;
} Block;

static Tensor *block_loss(void *ctx)
{
    Block *b = ctx;
    return tensor_mse_loss(nn_forward(b->block, b->x), b->target);
}

START_TEST(test_numeric_grad_of_every_tensor_of_a_block)
{
    tensor_manual_seed(123);
    Block b;
    b.x = tensor_set_name(tensor_requires_grad_(tensor_rand(SHAPE(1, 3, 4)), true), "x");
    NNGPTConfig cfg = {.vocab_size = 1, .context_length = 3, .emb_dim = 4, .n_heads = 2,
                       .n_layers = 1, .drop_rate = 0.0, .qkv_bias = false};
    b.block = nn_transformer_block(cfg);
    b.target = tensor_rand(SHAPE(1, 3, 4));
    Tensor *loss = block_loss(&b);
    TensorTrace *tr = tensor_trace_graph(loss, TENSOR_TRACE_OPTIONS());
    ck_assert_int_eq(tensor_trace_backward(tr), 0);
    float x_before = b.x->data[5];
    int checked = 0;
    for (int64_t i = 0; i < tr->n_tensors; i++) {
        const TensorTraceTensor *t = &tr->tensors[i];
        if (!t->grad) continue;
        Tensor *n = tensor_numeric_grad(block_loss, &b, loss, t->tensor);
        ck_assert_msg(n != NULL, "t%lld %s: %s", (long long)i, t->op ? t->op : "leaf",
                      tensor_error());
        char what[96];
        snprintf(what, sizeof what, "t%lld %s %s", (long long)i, t->name ? t->name : "",
                 t->op ? t->op : "leaf");
        assert_estimate_close(t->grad, n, tensor_item(loss), what);
        checked++;
    }
    ck_assert_int_eq(checked, 39);                 /* all but the target */
    ck_assert(b.x->data[5] == x_before);           /* the leaves put back exactly */
    tensor_trace_free(tr);
    nn_module_free(b.block);
}
END_TEST

typedef struct {
    Tensor *x, *wq, *wk, *wv;
} V1;

static Tensor *v1_loss(void *ctx)
{
    V1 *m = ctx;
    Tensor *k = tensor_matmul(m->x, m->wk), *q = tensor_matmul(m->x, m->wq);
    Tensor *v = tensor_matmul(m->x, m->wv);
    Tensor *w = tensor_softmax(tensor_div_scalar(tensor_matmul(q, tensor_t(k)), sqrtf(2.0f)), -1);
    return tensor_sum(tensor_matmul(w, v));
}

/* SelfAttention_v1's sum loss (near 6.6): a larger loss, so float32's
 * rounding counts for more. */
START_TEST(test_numeric_grad_of_attention)
{
    tensor_manual_seed(123);
    V1 m = {nn_example_inputs(),
            tensor_requires_grad_(tensor_rand(SHAPE(3, 2)), true),
            tensor_requires_grad_(tensor_rand(SHAPE(3, 2)), true),
            tensor_requires_grad_(tensor_rand(SHAPE(3, 2)), true)};
    Tensor *loss = v1_loss(&m);
    TensorTrace *tr = tensor_trace_graph(loss, TENSOR_TRACE_OPTIONS());
    ck_assert_int_eq(tensor_trace_backward(tr), 0);
    for (int64_t i = 0; i < tr->n_tensors; i++) {
        const TensorTraceTensor *t = &tr->tensors[i];
        if (!t->grad) continue;
        Tensor *n = tensor_numeric_grad(v1_loss, &m, loss, t->tensor);
        ck_assert_msg(n != NULL, "%s", tensor_error());
        assert_estimate_close(t->grad, n, tensor_item(loss), t->op ? t->op : "leaf");
    }
    tensor_trace_free(tr);
}
END_TEST

static Tensor *dropout_loss(void *ctx)
{
    Tensor *w = ctx;
    return tensor_sum(tensor_dropout(w, 0.5f, true, NULL));
}

static Tensor *other_graph(void *ctx)
{
    Tensor *w = ctx;
    return tensor_sum(tensor_exp(w));
}

static Tensor *fresh_leaf(void *ctx)
{
    (void)ctx;
    return tensor_sum(tensor_requires_grad_(tensor_ones(SHAPE(3)), true));
}

START_TEST(test_numeric_grad_refusals)
{
    Tensor *w = tensor_requires_grad_(tensor_ones(SHAPE(3)), true);
    /* A dropout that draws afresh gives another loss. */
    tensor_manual_seed(1);
    Tensor *loss = dropout_loss(w);
    tensor_manual_seed(2);
    ck_assert_ptr_null(tensor_numeric_grad(dropout_loss, w, loss, w));
    ck_assert_ptr_nonnull(strstr(tensor_error(), "must compute the same loss again"));
    /* Another graph of the same loss value. */
    Tensor *s = tensor_mul_scalar(w, 2.0f);
    Tensor *loss2 = tensor_sum(tensor_exp(tensor_mul_scalar(s, 0.5f)));
    ck_assert_ptr_null(tensor_numeric_grad(other_graph, w, loss2, s));
    ck_assert_ptr_nonnull(strstr(tensor_error(), "does not record the ops"));
    /* A leaf the forward does not use. */
    Tensor *own = tensor_requires_grad_(tensor_ones(SHAPE(3)), true);
    ck_assert_ptr_null(tensor_numeric_grad(fresh_leaf, NULL, tensor_sum(own), own));
    ck_assert_ptr_nonnull(strstr(tensor_error(), "does not use the leaf (3)"));
    /* Not in the graph; an expanded view; no forward. */
    ck_assert_ptr_null(tensor_numeric_grad(other_graph, w, loss2, own));
    ck_assert_ptr_nonnull(strstr(tensor_error(), "is not in the loss's graph"));
    Tensor *e = tensor_expand(tensor_view(w, SHAPE(1, 3)), SHAPE(2, 3));
    ck_assert_ptr_null(tensor_numeric_grad(other_graph, w, tensor_sum(e), e));
    ck_assert_ptr_nonnull(strstr(tensor_error(), "expanded view"));
    ck_assert_ptr_null(tensor_numeric_grad(NULL, w, loss2, w));
    ck_assert_ptr_null(tensor_numeric_grad(other_graph, w, s, w));    /* not a scalar */
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("trace");
    TCase *tc = tcase_create("trace");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_every_op_has_a_formula);
    tcase_add_test(tc, test_trace_copies_what_the_engine_computes);
    tcase_add_test(tc, test_trace_edges);
    tcase_add_test(tc, test_trace_refusals);
    tcase_add_test(tc, test_numeric_grad_of_every_tensor_of_a_block);
    tcase_add_test(tc, test_numeric_grad_of_attention);
    tcase_add_test(tc, test_numeric_grad_refusals);
    suite_add_tcase(s, tc);
    return s;
}
TESTUTIL_MAIN(make_suite)
