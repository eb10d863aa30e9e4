/*
 * Softmax, masking and losses: forward values and gradients against
 * PyTorch 1.13 (tests/reference/softmax_loss.txt, written by
 * gen_softmax_loss.py), the causal attention pattern of the book's chapter 3,
 * fully masked rows, grad_fn names, and the error messages.
 *
 * Tolerances, per case (|got - want| <= atol + rtol * |want|):
 *   EXACT (0, 0): softmax along the last dim does PyTorch's operations in
 *     PyTorch's order (its exp, its sums, its fused multiply-adds in the
 *     backward), so the bits match; so do the selects of masked_fill, triu
 *     and tril, and mse's gradient.
 *   NEAR (rtol 1e-6, atol 1e-7): log_softmax and cross-entropy take glibc's
 *     logf (within an ulp of PyTorch's SLEEF log), and along other dims
 *     PyTorch's exp is glibc's for some lanes: a few ulp, below 1e-6
 *     relative.  The atol is for log_softmax values near 0.
 *   GRAD (rtol 1e-6, atol 5e-6): gradients that start from such outputs, or
 *     whose sums along other dims go in another order.  dy - exp(y) sum(dy)
 *     cancels terms as large as |sum(dy)|, up to 46 over the 37-long rows:
 *     one ulp of y moves the result by up to 2^-23 * 46 = 5e-6, however
 *     small the result.
 *   SUM (rtol 1e-6, atol 1e-6): losses sum in double here and in float32 in
 *     PyTorch: 1000 squares of size 0.3 sum to 330 with a float32 rounding
 *     error of about sqrt(1000) 2^-24 330 = 6e-4 absolute, 2e-6 of the sum
 *     in the worst case, typically far less.
 */
#include "testutil.h"

enum { EXACT, NEAR, GRAD, SUM };

typedef struct {
    const char *name;              /* fixture @name; gradients @name_g0, @name_g1 */
    int n;
    const char *inputs[2];         /* fixture names of the inputs */
    Tensor *(*fn)(Tensor *const *x);
    bool grad[2];                  /* which inputs require grad */
    int value_tol, grad_tol;
} Case;

#define FN(name, expr) \
    static Tensor *name(Tensor *const *x) { return (expr); }

/* mask[:rows, :cols], a non-contiguous view as the book's mask[:T, :T] */
static Tensor *top_left(Tensor *mask, int64_t rows, int64_t cols)
{
    return tensor_narrow(tensor_narrow(mask, 0, 0, rows), 1, 0, cols);
}

static Tensor *masked_log_softmax(Tensor *a, Tensor *m)
{
    /* -inf where masked; zeroed there, as a loss over the rows ignores them */
    return tensor_masked_fill(tensor_log_softmax(tensor_masked_fill(a, m, -INFINITY), -1), m,
                              0.0f);
}

FN(f_softmax_d0, tensor_softmax(x[0], 0))
FN(f_softmax_d1, tensor_softmax(x[0], 1))
FN(f_softmax_dm1, tensor_softmax(x[0], -1))
FN(f_softmax_strided, tensor_softmax(tensor_t(x[0]), -1))
FN(f_softmax_strided_d0, tensor_softmax(tensor_t(x[0]), 0))
FN(f_log_softmax_d0, tensor_log_softmax(x[0], 0))
FN(f_log_softmax_d1, tensor_log_softmax(x[0], 1))
FN(f_log_softmax_dm1, tensor_log_softmax(x[0], -1))
FN(f_log_softmax_strided, tensor_log_softmax(tensor_t(x[0]), -1))
FN(f_log_softmax_strided_d0, tensor_log_softmax(tensor_t(x[0]), 0))
FN(f_masked_fill, tensor_masked_fill(x[0], x[1], -1.5f))
FN(f_masked_fill_cols, tensor_masked_fill(x[0], x[1], 2.5f))
FN(f_masked_fill_strided, tensor_masked_fill(tensor_t(x[0]), top_left(x[1], 3, 4), 0.0f))
FN(f_masked_softmax, tensor_softmax(tensor_masked_fill(x[0], x[1], -INFINITY), -1))
FN(f_masked_log_softmax, masked_log_softmax(x[0], x[1]))
FN(f_triu, tensor_triu(x[0], 0))
FN(f_triu_1, tensor_triu(x[0], 1))
FN(f_triu_m1_strided, tensor_triu(tensor_t(x[0]), -1))
FN(f_triu_5, tensor_triu(x[0], 5))
FN(f_tril, tensor_tril(x[0], 0))
FN(f_tril_1, tensor_tril(x[0], 1))
FN(f_tril_m2_strided, tensor_tril(tensor_t(x[0]), -2))
FN(f_mse, tensor_mse_loss(x[0], x[1]))
FN(f_mse_strided, tensor_mse_loss(tensor_t(x[0]), x[1]))
FN(f_ce, tensor_cross_entropy(x[0], x[1]))
FN(f_ce_strided, tensor_cross_entropy(tensor_t(x[0]), x[1]))

#define ONE {true, false}
#define BOTH {true, true}

/* The same cases, in the same words, as CASES in gen_softmax_loss.py. */
static const Case cases[] = {
    {"softmax_d0", 1, {"x"}, f_softmax_d0, ONE, NEAR, GRAD},
    {"softmax_d1", 1, {"x"}, f_softmax_d1, ONE, EXACT, EXACT},
    {"softmax_x3_dm1", 1, {"x3"}, f_softmax_dm1, ONE, EXACT, EXACT},
    {"softmax_x3_d1", 1, {"x3"}, f_softmax_d1, ONE, NEAR, GRAD},
    {"softmax_x3_d0", 1, {"x3"}, f_softmax_d0, ONE, NEAR, GRAD},
    {"softmax_strided", 1, {"src43"}, f_softmax_strided, ONE, EXACT, EXACT},
    {"softmax_strided_d0", 1, {"src43"}, f_softmax_strided_d0, ONE, NEAR, GRAD},
    {"softmax_long", 1, {"long"}, f_softmax_dm1, ONE, EXACT, EXACT},
    {"softmax_long_d0", 1, {"long"}, f_softmax_d0, ONE, NEAR, GRAD},
    {"softmax_big", 1, {"big"}, f_softmax_dm1, ONE, EXACT, EXACT},
    {"softmax_big_d0", 1, {"big"}, f_softmax_d0, ONE, NEAR, GRAD},
    {"softmax_0d", 1, {"s"}, f_softmax_d0, ONE, EXACT, EXACT},
    {"log_softmax_d0", 1, {"x"}, f_log_softmax_d0, ONE, NEAR, GRAD},
    {"log_softmax_d1", 1, {"x"}, f_log_softmax_d1, ONE, NEAR, GRAD},
    {"log_softmax_x3_dm1", 1, {"x3"}, f_log_softmax_dm1, ONE, NEAR, GRAD},
    {"log_softmax_x3_d1", 1, {"x3"}, f_log_softmax_d1, ONE, NEAR, GRAD},
    {"log_softmax_strided", 1, {"src43"}, f_log_softmax_strided, ONE, NEAR, GRAD},
    {"log_softmax_strided_d0", 1, {"src43"}, f_log_softmax_strided_d0, ONE, NEAR, GRAD},
    {"log_softmax_long", 1, {"long"}, f_log_softmax_dm1, ONE, NEAR, GRAD},
    {"log_softmax_long_d0", 1, {"long"}, f_log_softmax_d0, ONE, NEAR, GRAD},
    {"log_softmax_big", 1, {"big"}, f_log_softmax_dm1, ONE, NEAR, GRAD},
    {"log_softmax_0d", 1, {"s"}, f_log_softmax_d0, ONE, EXACT, EXACT},
    {"masked_fill", 2, {"x3", "upper34"}, f_masked_fill, ONE, EXACT, EXACT},
    {"masked_fill_cols", 2, {"x", "cols4"}, f_masked_fill_cols, ONE, EXACT, EXACT},
    {"masked_fill_strided", 2, {"src43", "causal6"}, f_masked_fill_strided, ONE, EXACT, EXACT},
    {"masked_softmax", 2, {"scores", "causal6"}, f_masked_softmax, ONE, EXACT, EXACT},
    {"masked_log_softmax", 2, {"scores", "causal6"}, f_masked_log_softmax, ONE, NEAR,
     GRAD},
    {"fully_masked", 2, {"scores3", "mask_full"}, f_masked_softmax, ONE, EXACT, EXACT},
    {"triu", 1, {"x"}, f_triu, ONE, EXACT, EXACT},
    {"triu_1", 1, {"x3"}, f_triu_1, ONE, EXACT, EXACT},
    {"triu_m1_strided", 1, {"src43"}, f_triu_m1_strided, ONE, EXACT, EXACT},
    {"triu_5", 1, {"x"}, f_triu_5, ONE, EXACT, EXACT},
    {"tril", 1, {"x"}, f_tril, ONE, EXACT, EXACT},
    {"tril_1", 1, {"x3"}, f_tril_1, ONE, EXACT, EXACT},
    {"tril_m2_strided", 1, {"src43"}, f_tril_m2_strided, ONE, EXACT, EXACT},
    {"mse", 2, {"x", "y"}, f_mse, BOTH, SUM, EXACT},
    {"mse_strided", 2, {"src43", "x"}, f_mse_strided, ONE, SUM, EXACT},
    {"mse_big", 2, {"bigv", "bigw"}, f_mse, BOTH, SUM, EXACT},
    {"mse_0d", 2, {"s", "s2"}, f_mse, BOTH, EXACT, EXACT},
    {"ce", 2, {"logits", "target"}, f_ce, ONE, NEAR, GRAD},
    {"ce_long", 2, {"logits11", "target11"}, f_ce, ONE, NEAR, GRAD},
    {"ce_strided", 2, {"x", "target4"}, f_ce_strided, ONE, NEAR, GRAD},
    {"ce_1d", 2, {"v5", "t0d"}, f_ce, ONE, NEAR, GRAD},
    {"ce_big", 2, {"biglogits", "bigtarget"}, f_ce, ONE, NEAR, GRAD},
};
enum { N_CASES = sizeof cases / sizeof cases[0] };

static const char FIXTURE[] = "softmax_loss.txt";

static void assert_matches(const Tensor *got, const char *name, int tol)
{
    Tensor *want = testutil_fixture(FIXTURE, name);
    static const double atol[] = {[EXACT] = 0, [NEAR] = 1e-7, [GRAD] = 5e-6, [SUM] = 1e-6};
    static const double rtol[] = {[EXACT] = 0, [NEAR] = 1e-6, [GRAD] = 1e-6, [SUM] = 1e-6};
    ck_assert_msg(got != NULL, "%s: NULL (%s)", name, tensor_error());
    ck_assert_msg(tensor_same_shape(got, want), "%s: shape %s, PyTorch %s", name,
                  tensor_shape_str(got), tensor_shape_str(want));
    ck_assert_tensor_close(got, want, atol[tol], rtol[tol]);
}

START_TEST(test_case_matches_torch)
{
    const Case *c = &cases[_i];
    TensorScope *scope = tensor_scope_begin();
    Tensor *in[2] = {0};
    for (int i = 0; i < c->n; i++) {
        in[i] = testutil_fixture(FIXTURE, c->inputs[i]);
        tensor_requires_grad_(in[i], c->grad[i]);
    }
    Tensor *out = c->fn(in);
    assert_matches(out, c->name, c->value_tol);
    ck_assert_msg(out->requires_grad, "%s: output does not require grad", c->name);
    ck_assert_int_eq(tensor_backward(out, testutil_seed_like(out)), 0);
    for (int i = 0; i < c->n; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s_g%d", c->name, i);
        if (c->grad[i]) assert_matches(in[i]->grad, name, c->grad_tol);
        else ck_assert_msg(in[i]->grad == NULL, "%s: input %d got a gradient", c->name, i);
    }
    tensor_scope_end(scope);
}
END_TEST

/* ---- masking, as causal attention uses it ---------------------------------- */

START_TEST(test_causal_attention_weights)
{
    /* The book: attn_scores.masked_fill_(mask.bool()[:T, :T], -inf), with
     * mask = triu(ones(context, context), diagonal=1), then softmax(dim=-1).
     * A context of 6 cut to T = 4 reads the mask through strides. */
    Tensor *mask = tensor_triu(tensor_ones(SHAPE(6, 6)), 1);
    Tensor *scores = tensor_narrow(tensor_narrow(testutil_fixture(FIXTURE, "scores"), 1, 0, 4),
                                   2, 0, 4);
    Tensor *w = tensor_softmax(tensor_masked_fill(scores, top_left(mask, 4, 4), -INFINITY), -1);
    ck_assert_msg(w != NULL, "%s", tensor_error());
    for (int64_t b = 0; b < 2; b++) {
        for (int64_t i = 0; i < 4; i++) {
            float sum = 0;
            for (int64_t j = 0; j < 4; j++) {
                float v = tensor_get(w, IDX(b, i, j));
                if (j > i) ck_assert_msg(v == 0.0f, "w[%lld,%lld,%lld] = %g above the diagonal",
                                         (long long)b, (long long)i, (long long)j, (double)v);
                else ck_assert_msg(v > 0.0f, "w[%lld,%lld,%lld] = %g", (long long)b,
                                   (long long)i, (long long)j, (double)v);
                sum += v;
            }
            ck_assert_float_eq_tol(sum, 1.0f, 1e-6);
        }
    }
    ck_assert_float_eq(tensor_get(w, IDX(1, 0, 0)), 1.0f);
}
END_TEST

START_TEST(test_fully_masked_row_is_nan_and_stays_there)
{
    /* torch.softmax of an all -inf row is NaN; the NaN must not reach the
     * scores' gradient: masked_fill's backward selects zero under the mask. */
    Tensor *x = tensor_requires_grad_(tensor_arange(0, 18, 1), true);
    Tensor *scores = tensor_view(x, SHAPE(2, 3, 3));
    Tensor *mask = tensor_from_data((const float[]){1, 1, 1, 0, 1, 1, 0, 0, 0}, SHAPE(3, 3));
    Tensor *w = tensor_softmax(tensor_masked_fill(scores, mask, -INFINITY), -1);
    ck_assert_msg(w != NULL, "%s", tensor_error());
    for (int64_t b = 0; b < 2; b++) {
        for (int64_t j = 0; j < 3; j++) ck_assert(isnan(tensor_get(w, IDX(b, 0, j))));
        ck_assert_float_eq(tensor_get(w, IDX(b, 1, 0)), 1.0f);
        ck_assert_float_eq(tensor_get(w, IDX(b, 1, 1)), 0.0f);
        for (int64_t j = 0; j < 3; j++) ck_assert(isfinite(tensor_get(w, IDX(b, 2, j))));
    }
    ck_assert_int_eq(tensor_backward(w, testutil_seed_like(w)), 0);
    for (int64_t i = 0; i < x->numel; i++) {
        float g = x->grad->data[i];
        ck_assert_msg(isfinite(g), "grad[%lld] = %g", (long long)i, (double)g);
        if (i % 9 < 3) ck_assert_float_eq(g, 0.0f);   /* the fully masked rows */
    }
    /* A partially masked row alone: exact zeros forward, finite backward. */
    Tensor *y = tensor_requires_grad_(tensor_from_data((const float[]){2, -INFINITY, 1, -INFINITY},
                                                       SHAPE(4)), true);
    Tensor *p = tensor_softmax(y, 0);
    ck_assert_float_eq(p->data[1], 0.0f);
    ck_assert_float_eq(p->data[3], 0.0f);
    ck_assert_int_eq(tensor_backward(p, testutil_seed_like(p)), 0);
    for (int i = 0; i < 4; i++) ck_assert(isfinite(y->grad->data[i]));
    ck_assert_float_eq(y->grad->data[1], 0.0f);
}
END_TEST

START_TEST(test_softmax_is_stable_for_large_inputs)
{
    /* exp(1000) overflows float32; subtracting the row max keeps it finite,
     * and softmax is shift-invariant: rows 1000 + k and k agree. */
    Tensor *a = tensor_arange(1000, 1004, 1), *b = tensor_arange(0, 4, 1);
    ck_assert_tensor_close(tensor_softmax(a, 0), tensor_softmax(b, 0), 0, 0);
    Tensor *ls = tensor_log_softmax(tensor_arange(-1e4f, -1e4f + 3, 1), 0);
    ck_assert_tensor_close(ls, tensor_log_softmax(tensor_arange(0, 3, 1), 0), 0, 0);
    /* One huge logit: cross-entropy stays finite. */
    Tensor *logits = tensor_from_data((const float[]){1e4f, 0, -1e4f}, SHAPE(1, 3));
    ck_assert_float_eq(tensor_item(tensor_cross_entropy(logits, tensor_zeros(SHAPE(1)))), 0.0f);
    ck_assert_float_eq(tensor_item(tensor_cross_entropy(logits, tensor_full(2, SHAPE(1)))), 2e4f);
}
END_TEST

/* masked log_softmax of rows [first, first + rows) of a (256,256) causal
 * pattern, forward and backward with the seed of the whole (256,256) case */
static void causal_log_softmax(int64_t first, int64_t rows, Tensor **y, Tensor **grad)
{
    int64_t n = rows * 256;
    Tensor *x = tensor_requires_grad_(
        tensor_view(tensor_arange((float)(first * 256), (float)(first * 256 + n), 1),
                    SHAPE(rows, 256)), true);
    Tensor *mask = tensor_narrow(tensor_triu(tensor_ones(SHAPE(256, 256)), 1), 0, first, rows);
    *y = tensor_log_softmax(tensor_div_scalar(tensor_masked_fill(x, mask, -INFINITY), 1000.0f),
                            -1);
    Tensor *seed = tensor_zeros(SHAPE(rows, 256));
    for (int64_t i = 0; i < n; i++) seed->data[i] = 0.5f + (float)((first * 256 + i) % 7) / 8.0f;
    ck_assert_int_eq(tensor_backward(*y, seed), 0);
    *grad = x->grad;
}

START_TEST(test_big_tensors_give_the_same_bits)
{
    /* (256,256) is past the size from which rows are spread over threads
     * (when built with OpenMP): each row must come out as it does alone. */
    Tensor *y, *g;
    causal_log_softmax(0, 256, &y, &g);
    for (int64_t r = 0; r < 256; r += 51) {
        Tensor *y1, *g1;
        causal_log_softmax(r, 1, &y1, &g1);
        ck_assert_mem_eq(y1->data, y->data + r * 256, 256 * sizeof(float));
        ck_assert_mem_eq(g1->data, g->data + r * 256, 256 * sizeof(float));
    }
}
END_TEST

START_TEST(test_mask_and_target_get_no_gradient)
{
    Tensor *x = tensor_requires_grad_(tensor_ones(SHAPE(2, 2)), true);
    Tensor *m = tensor_requires_grad_(tensor_from_data((const float[]){0, 1}, SHAPE(2)), true);
    Tensor *y = tensor_masked_fill(x, m, 7.0f);
    ck_assert_int_eq(tensor_backward(y, testutil_seed_like(y)), 0);
    ck_assert_ptr_null(m->grad);
    ck_assert_float_eq(x->grad->data[0], 0.5f);
    ck_assert_float_eq(x->grad->data[1], 0.0f);
    /* Only the mask requiring grad: the output is a constant. */
    ck_assert(!tensor_masked_fill(tensor_ones(SHAPE(2)), m, 1)->requires_grad);
    Tensor *t = tensor_requires_grad_(tensor_zeros(SHAPE(2)), true);
    Tensor *logits = tensor_requires_grad_(tensor_zeros(SHAPE(2, 3)), true);
    Tensor *loss = tensor_cross_entropy(logits, t);
    t->data[0] = 2;   /* changed in place after the forward: the backward uses class 0 */
    ck_assert_int_eq(tensor_backward(loss, NULL), 0);
    ck_assert_ptr_null(t->grad);
    /* (softmax - onehot) / N with uniform softmax 1/3 and N = 2 */
    ck_assert_float_eq_tol(logits->grad->data[0], (1.0f / 3 - 1) / 2, 1e-7);
    ck_assert_float_eq_tol(logits->grad->data[1], (1.0f / 3) / 2, 1e-7);
}
END_TEST

/* Empty tensors go through forward and backward: an empty softmax dim
 * (rows of length 0), and empty dims before or after it. */
START_TEST(test_empty_tensors)
{
    static const struct {
        int ndim;
        int64_t shape[3];
        int dim;
    } cases[] = {
        {2, {3, 0}, -1},   {2, {0, 3}, -1},   {2, {0, 3}, 0},
        {3, {3, 0, 2}, 1}, {3, {2, 3, 0}, 1}, {2, {0, 0}, 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        for (int log = 0; log < 2; log++) {
            Tensor *x = tensor_requires_grad_(tensor_zeros(cases[c].ndim, cases[c].shape), true);
            Tensor *y = log ? tensor_log_softmax(x, cases[c].dim) : tensor_softmax(x, cases[c].dim);
            ck_assert_msg(y && tensor_same_shape(x, y), "case %zu: %s", c, tensor_error());
            ck_assert_int_eq(tensor_backward(y, tensor_zeros_like(y)), 0);
            ck_assert(x->grad && tensor_same_shape(x->grad, x));
        }
    }
}
END_TEST

START_TEST(test_grad_fn_names_match_torch)
{
    /* The names torch 1.13 gives (gen_softmax_loss.py asserts the same list). */
    Tensor *x = tensor_requires_grad_(tensor_ones(SHAPE(2, 3)), true);
    Tensor *m = tensor_zeros(SHAPE(3));
    ck_assert_str_eq(tensor_grad_fn_name(tensor_softmax(x, 1)), "SoftmaxBackward0");
    ck_assert_str_eq(tensor_grad_fn_name(tensor_log_softmax(x, 1)), "LogSoftmaxBackward0");
    ck_assert_str_eq(tensor_grad_fn_name(tensor_masked_fill(x, m, 0)), "MaskedFillBackward0");
    ck_assert_str_eq(tensor_grad_fn_name(tensor_triu(x, 0)), "TriuBackward0");
    ck_assert_str_eq(tensor_grad_fn_name(tensor_tril(x, 0)), "TrilBackward0");
    ck_assert_str_eq(tensor_grad_fn_name(tensor_mse_loss(x, x)), "MseLossBackward0");
    ck_assert_str_eq(tensor_grad_fn_name(tensor_cross_entropy(x, tensor_zeros(SHAPE(2)))),
                     "NllLossBackward0");
    /* No node without an input that requires grad, or in no-grad mode. */
    Tensor *c = tensor_ones(SHAPE(2, 3));
    ck_assert_ptr_null(tensor_grad_fn_name(tensor_softmax(c, 1)));
    ck_assert_ptr_null(tensor_grad_fn_name(tensor_cross_entropy(c, tensor_zeros(SHAPE(2)))));
    tensor_no_grad_begin();
    Tensor *y = tensor_log_softmax(x, 0);
    tensor_no_grad_end();
    ck_assert_ptr_null(y->grad_fn);
}
END_TEST

START_TEST(test_gradients_accumulate)
{
    Tensor *x = tensor_requires_grad_(testutil_fixture(FIXTURE, "x"), true);
    Tensor *y = tensor_softmax(x, 1);
    ck_assert_int_eq(tensor_backward_retain(y, testutil_seed_like(y)), 0);
    Tensor *g = tensor_keep(x->grad);
    ck_assert_int_eq(tensor_backward(y, testutil_seed_like(y)), 0);
    for (int64_t i = 0; i < g->numel; i++) ck_assert_float_eq(x->grad->data[i], 2 * g->data[i]);
    tensor_free(g);
}
END_TEST

/* ---- causal_softmax: the composite's bits in one op -------------------------- */

typedef struct {
    int64_t B, H, t, T, q0;
} CausalShape;

/* The book's composite: softmax(masked_fill(scores, mask[q0:q0 + t, :T], -inf) / d). */
static Tensor *causal_composite(Tensor *scores, const CausalShape *c, float d)
{
    Tensor *mask = tensor_zeros(SHAPE(c->t, c->T));
    for (int64_t i = 0; i < c->t; i++)
        for (int64_t j = c->q0 + i + 1; j < c->T; j++) mask->data[i * c->T + j] = 1.0f;
    return tensor_softmax(tensor_div_scalar(tensor_masked_fill(scores, mask, -INFINITY), d), -1);
}

/* Shapes: the book's T = 6 and a 12-token context, a tail past 8 lanes (19),
 * GPT rows of 64 and 128 over enough heads to spread over threads, rows
 * longer than a softmax block (2500), and cached queries (q0 > 0, one query
 * or several, T > q0 + t too). */
static const CausalShape causal_shapes[] = {
    {2, 1, 6, 6, 0},   {2, 4, 12, 12, 0}, {1, 2, 19, 19, 0}, {2, 12, 64, 64, 0},
    {2, 4, 128, 128, 0}, {1, 1, 3, 2500, 0}, {1, 1, 2, 2500, 2497}, {2, 3, 1, 7, 6},
    {2, 2, 3, 9, 4},   {1, 2, 4, 20, 3},
};

START_TEST(test_causal_softmax_is_the_composite_bit_for_bit)
{
    const CausalShape *c = &causal_shapes[_i];
    tensor_manual_seed(13 + (uint64_t)_i);
    float d = sqrtf(64.0f / (float)(1 + _i % 3));   /* sqrt(head_dim), 8 or not a power of 2 */
    Tensor *data = tensor_mul_scalar(tensor_randn(SHAPE(c->B, c->H, c->t, c->T)), 4.0f);
    Tensor *seed = tensor_randn(SHAPE(c->B, c->H, c->t, c->T));
    Tensor *x0 = tensor_requires_grad_(tensor_clone(data), true);
    Tensor *x1 = tensor_requires_grad_(tensor_clone(data), true);
    Tensor *y0 = causal_composite(x0, c, d), *y1 = tensor_causal_softmax(x1, d, c->q0);
    ck_assert_msg(y0 && y1, "%s", tensor_error());
    ck_assert_int_eq(tensor_backward(y0, seed), 0);
    ck_assert_int_eq(tensor_backward(y1, seed), 0);
    ck_assert_str_eq(tensor_grad_fn_name(y1), "SoftmaxBackward0");
    ck_assert_mem_eq(y1->data, y0->data, (size_t)y0->numel * sizeof(float));
    ck_assert_mem_eq(x1->grad->data, x0->grad->data, (size_t)y0->numel * sizeof(float));
}
END_TEST

START_TEST(test_causal_softmax_nan_and_strides)
{
    /* A NaN the query sees makes its whole row NaN, as in the composite; one
     * in its future is hidden.  A transposed input reads through strides. */
    CausalShape c = {1, 1, 4, 4, 0};
    Tensor *x = tensor_randn(SHAPE(1, 1, 4, 4));
    x->data[1 * 4 + 3] = NAN;   /* row 1's future */
    x->data[2 * 4 + 1] = NAN;   /* seen by row 2 */
    Tensor *y = tensor_causal_softmax(x, 2.0f, 0), *want = causal_composite(x, &c, 2.0f);
    for (int64_t k = 0; k < 16; k++) {
        ck_assert_msg(isnan(y->data[k]) == (k / 4 == 2), "element %lld: %g", (long long)k,
                      (double)y->data[k]);
        if (!isnan(want->data[k])) ck_assert_float_eq(y->data[k], want->data[k]);
    }
    Tensor *xt = tensor_transpose(tensor_randn(SHAPE(2, 5, 5)), -2, -1);
    CausalShape ct = {1, 2, 5, 5, 0};
    Tensor *yt = tensor_causal_softmax(xt, 3.0f, 0), *wt = causal_composite(xt, &ct, 3.0f);
    ck_assert_mem_eq(yt->data, tensor_contiguous(wt)->data, 50 * sizeof(float));
}
END_TEST

/* A first query's position near INT64_MAX sees every key: the same bits
 * forward and backward as any q0 past the keys, no overflow, no NaN. */
START_TEST(test_causal_softmax_q0_near_int64_max)
{
    CausalShape c = {1, 2, 3, 5, 5};
    Tensor *data = tensor_randn(SHAPE(1, 2, 3, 5)), *seed = tensor_randn(SHAPE(1, 2, 3, 5));
    Tensor *x0 = tensor_requires_grad_(tensor_clone(data), true);
    Tensor *y0 = causal_composite(x0, &c, 2.0f);
    ck_assert_int_eq(tensor_backward(y0, seed), 0);
    static const int64_t q0s[] = {INT64_MAX, INT64_MAX - 1, INT64_MAX - 2, INT64_MAX - 5};
    for (size_t k = 0; k < sizeof q0s / sizeof *q0s; k++) {
        Tensor *x1 = tensor_requires_grad_(tensor_clone(data), true);
        Tensor *y1 = tensor_causal_softmax(x1, 2.0f, q0s[k]);
        ck_assert_msg(y1 != NULL, "%s", tensor_error());
        ck_assert_int_eq(tensor_backward(y1, seed), 0);
        ck_assert_mem_eq(y1->data, y0->data, 30 * sizeof(float));
        ck_assert_mem_eq(x1->grad->data, x0->grad->data, 30 * sizeof(float));
    }
}
END_TEST

START_TEST(test_causal_softmax_errors)
{
    tensor_clear_error();
    ck_assert_ptr_null(tensor_causal_softmax(NULL, 1.0f, 0));
    ck_assert_str_eq(tensor_error(), "");
    ck_assert_ptr_null(tensor_causal_softmax(tensor_zeros(SHAPE(4)), 1.0f, 0));
    ck_assert_str_eq(tensor_error(), "causal_softmax: scores (4) must be (..., queries, keys)");
    ck_assert_ptr_null(tensor_causal_softmax(tensor_zeros(SHAPE(2, 4)), 1.0f, -1));
    ck_assert_str_eq(tensor_error(),
                     "causal_softmax: scores (2,4): the first query's position -1 must be >= 0");
    ck_assert_ptr_null(tensor_causal_softmax(tensor_zeros(SHAPE(2, 4)), 0.0f, 0));
    ck_assert_str_eq(tensor_error(), "causal_softmax: divisor 0 must be positive and finite");
    ck_assert_ptr_null(tensor_causal_softmax(tensor_zeros(SHAPE(2, 4)), NAN, 0));
    ck_assert_str_eq(tensor_error(), "causal_softmax: divisor nan must be positive and finite");
    Tensor *e = tensor_causal_softmax(tensor_zeros(SHAPE(2, 0, 4)), 1.0f, 0);
    ck_assert(e != NULL && e->numel == 0);
}
END_TEST

/* ---- errors ---------------------------------------------------------------- */

START_TEST(test_error_messages)
{
    Tensor *a = tensor_zeros(SHAPE(2, 3));
    tensor_clear_error();
    ck_assert_ptr_null(tensor_softmax(a, 2));
    ck_assert_str_eq(tensor_error(),
                     "softmax: dim 2 out of range for a 2-d tensor (2,3) (expected -2 to 1)");
    ck_assert_ptr_null(tensor_log_softmax(a, -3));
    ck_assert_str_eq(tensor_error(),
                     "log_softmax: dim -3 out of range for a 2-d tensor (2,3) (expected -2 to 1)");
    ck_assert_ptr_null(tensor_masked_fill(a, tensor_zeros(SHAPE(3, 3)), 0));
    ck_assert_str_eq(tensor_error(), "masked_fill: mask (3,3) is not broadcastable to input (2,3)");
    ck_assert_ptr_null(tensor_masked_fill(a, tensor_zeros(SHAPE(1, 2, 3)), 0));
    ck_assert_str_eq(tensor_error(),
                     "masked_fill: mask (1,2,3) is not broadcastable to input (2,3)");
    ck_assert_ptr_null(tensor_triu(tensor_zeros(SHAPE(5)), 0));
    ck_assert_str_eq(tensor_error(), "triu: input (5) must have at least 2 dims");
    ck_assert_ptr_null(tensor_tril(tensor_scalar(1), 0));
    ck_assert_str_eq(tensor_error(), "tril: input () must have at least 2 dims");
    ck_assert_ptr_null(tensor_mse_loss(a, tensor_zeros(SHAPE(3))));
    ck_assert_str_eq(tensor_error(), "mse_loss: pred (2,3) and target (3) have different shapes");
}
END_TEST

START_TEST(test_cross_entropy_errors)
{
    Tensor *logits = tensor_zeros(SHAPE(2, 3));
    tensor_clear_error();
    Tensor *t = tensor_from_data((const float[]){0, 3}, SHAPE(2));
    ck_assert_ptr_null(tensor_cross_entropy(logits, t));
    ck_assert_str_eq(tensor_error(),
                     "cross_entropy: target[1] = 3 is out of range for 3 classes (0 to 2)");
    t = tensor_from_data((const float[]){-1, 0}, SHAPE(2));
    ck_assert_ptr_null(tensor_cross_entropy(logits, t));
    ck_assert_str_eq(tensor_error(),
                     "cross_entropy: target[0] = -1 is out of range for 3 classes (0 to 2)");
    t = tensor_from_data((const float[]){1, 1.5f}, SHAPE(2));
    ck_assert_ptr_null(tensor_cross_entropy(logits, t));
    ck_assert_str_eq(tensor_error(), "cross_entropy: target[1] = 1.5 is not a class index "
                                     "(a whole number from 0 to 2)");
    t = tensor_from_data((const float[]){NAN, 1}, SHAPE(2));
    ck_assert_ptr_null(tensor_cross_entropy(logits, t));
    ck_assert_str_eq(tensor_error(), "cross_entropy: target[0] = nan is not a class index "
                                     "(a whole number from 0 to 2)");
    ck_assert_ptr_null(tensor_cross_entropy(logits, tensor_zeros(SHAPE(3))));
    ck_assert_str_eq(tensor_error(),
                     "cross_entropy: logits (2,3) need a target of shape (2), got (3)");
    ck_assert_ptr_null(tensor_cross_entropy(logits, tensor_zeros(SHAPE(2, 1))));
    ck_assert_str_eq(tensor_error(),
                     "cross_entropy: logits (2,3) need a target of shape (2), got (2,1)");
    ck_assert_ptr_null(tensor_cross_entropy(tensor_zeros(SHAPE(3)), tensor_zeros(SHAPE(1))));
    ck_assert_str_eq(tensor_error(),
                     "cross_entropy: logits (3) need a target of shape (), got (1)");
    ck_assert_ptr_null(tensor_cross_entropy(tensor_zeros(SHAPE(2, 3, 4)), tensor_zeros(SHAPE(2))));
    ck_assert_str_eq(tensor_error(),
                     "cross_entropy: logits (2,3,4) need a target of shape (2,4), got (2)");
    ck_assert_ptr_null(tensor_cross_entropy(tensor_scalar(1), tensor_scalar(0)));
    ck_assert_str_eq(tensor_error(),
                     "cross_entropy: logits () need a class dim: (C), (N,C) or (N,C,d1,...)");
}
END_TEST

START_TEST(test_null_propagates_without_a_message)
{
    Tensor *a = tensor_ones(SHAPE(2, 3));
    tensor_clear_error();
    Tensor *outs[] = {
        tensor_softmax(NULL, 0),          tensor_log_softmax(NULL, -1),
        tensor_masked_fill(NULL, a, 0),   tensor_masked_fill(a, NULL, 0),
        tensor_triu(NULL, 0),             tensor_tril(NULL, 1),
        tensor_mse_loss(NULL, a),         tensor_mse_loss(a, NULL),
        tensor_cross_entropy(NULL, a),    tensor_cross_entropy(a, NULL),
    };
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) ck_assert_ptr_null(outs[i]);
    ck_assert_str_eq(tensor_error(), "");
}
END_TEST

static Suite *softmax_loss_suite(void)
{
    Suite *s = suite_create("softmax_loss");
    TCase *tc = tcase_create("torch");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_case_matches_torch, 0, N_CASES);
    suite_add_tcase(s, tc);
    tc = tcase_create("behaviour");
    tcase_add_test(tc, test_causal_attention_weights);
    tcase_add_test(tc, test_fully_masked_row_is_nan_and_stays_there);
    tcase_add_test(tc, test_softmax_is_stable_for_large_inputs);
    tcase_add_test(tc, test_big_tensors_give_the_same_bits);
    tcase_add_test(tc, test_mask_and_target_get_no_gradient);
    tcase_add_test(tc, test_empty_tensors);
    tcase_add_test(tc, test_grad_fn_names_match_torch);
    tcase_add_test(tc, test_gradients_accumulate);
    tcase_add_loop_test(tc, test_causal_softmax_is_the_composite_bit_for_bit, 0,
                        (int)(sizeof causal_shapes / sizeof causal_shapes[0]));
    tcase_add_test(tc, test_causal_softmax_nan_and_strides);
    tcase_add_test(tc, test_causal_softmax_errors);
    tcase_add_test(tc, test_causal_softmax_q0_near_int64_max);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_error_messages);
    tcase_add_test(tc, test_cross_entropy_errors);
    tcase_add_test(tc, test_null_propagates_without_a_message);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(softmax_loss_suite)
