/*
 * Your own op with its own backward (tensor_function_apply, PyTorch's
 * torch.autograd.Function): a softmax by hand against PyTorch's
 * HandSoftmax (reference/custom_function.txt, gen_custom_function.py) and
 * against tensor_softmax, its node's name, gradcheck, and every misuse with
 * its message.
 *
 * Tolerances: the hand softmax rounds as PyTorch's HandSoftmax does (the
 * same ops), and differs from the fused built-in by at most 2e-7 absolute,
 * as the fixture's two columns do.
 */
#include "testutil.h"

#define CF "custom_function.txt"

/* ---- the hand softmax of docs/custom_function.md ------------------------------ */

static Tensor *softmax_forward(TensorFunctionCtx *ctx, Tensor *const *in, const void *arg)
{
    int dim = *(const int *)arg;
    Tensor *m = tensor_amax(in[0], 1, (const int64_t[]){dim}, true);
    Tensor *e = tensor_exp(tensor_sub(in[0], m));
    Tensor *y = tensor_div(e, tensor_sum_dim(e, dim, true));
    ctx->ints[0] = dim;
    return tensor_save_for_backward(ctx, y) == 0 ? y : NULL;
}

static void softmax_backward(TensorFunctionCtx *ctx, const Tensor *dy, Tensor **dx)
{
    const Tensor *y = ctx->saved[0];
    int dim = (int)ctx->ints[0];
    dx[0] = tensor_mul(y, tensor_sub(dy, tensor_sum_dim(tensor_mul(dy, y), dim, true)));
}

static const TensorFunction hand_softmax = {"HandSoftmax", softmax_forward, softmax_backward};

static Tensor *apply_softmax(Tensor *x, int dim)
{
    return tensor_function_apply(&hand_softmax, 1, &x, &dim);
}

START_TEST(test_hand_softmax_matches_torch)
{
    const struct {
        const char *name;
        int dim;
        bool transposed;
    } cases[] = {{"last", -1, false}, {"dim0", 0, false}, {"nc", -1, true}};
    char key[64];
    for (int i = 0; i < 3; i++) {
        for (int builtin = 0; builtin < 2; builtin++) {
            snprintf(key, sizeof key, "%s.x", cases[i].name);
            Tensor *leaf = tensor_requires_grad_(testutil_fixture(CF, key), true);
            Tensor *x = cases[i].transposed ? tensor_t(leaf) : leaf;
            Tensor *y = builtin ? tensor_softmax(x, cases[i].dim) : apply_softmax(x, cases[i].dim);
            ck_assert_str_eq(tensor_grad_fn_name(y),
                             builtin ? "SoftmaxBackward0" : "HandSoftmaxBackward");
            ck_assert_int_eq(tensor_backward(y, testutil_seed_like(y)), 0);
            const char *kind = builtin ? "builtin" : "custom";
            snprintf(key, sizeof key, "%s.%s", cases[i].name, kind);
            ck_assert_tensor_close(y, testutil_fixture(CF, key), 2e-7, 0);
            snprintf(key, sizeof key, "%s.%s.g", cases[i].name, kind);
            ck_assert_tensor_close(leaf->grad, testutil_fixture(CF, key), 2e-7, 0);
        }
    }
}
END_TEST

START_TEST(test_hand_softmax_agrees_with_the_builtin)
{
    tensor_manual_seed(7);
    Tensor *x = tensor_requires_grad_(tensor_mul_scalar(tensor_randn(SHAPE(4, 9)), 3), true);
    Tensor *y = apply_softmax(x, 1);
    ck_assert_tensor_close(y, tensor_softmax(x, 1), 2e-7, 0);
    char *s = tensor_format(y);
    ck_assert_ptr_nonnull(strstr(s, "grad_fn=<HandSoftmaxBackward>)"));
    free(s);
}
END_TEST

static Tensor *softmax_fn(Tensor *const *in, void *ctx)
{
    return apply_softmax(in[0], *(int *)ctx);
}

START_TEST(test_gradcheck_of_a_custom_op)
{
    tensor_manual_seed(3);
    Tensor *x = tensor_requires_grad_(tensor_randn(SHAPE(3, 5)), true);
    TensorGradcheckResult r;
    int dim = -1;
    ck_assert_msg(tensor_gradcheck(softmax_fn, &dim, 1, &x, 1e-2, 1e-3, 1e-2, &r) == 1, "%s",
                  r.report);
}
END_TEST

/* ---- the context: needs_input_grad, several inputs, no grad mode ------------------ */

/* y = a * b; records what the forward saw. */
static bool seen_needs[2];
static Tensor *mul_forward(TensorFunctionCtx *ctx, Tensor *const *in, const void *arg)
{
    (void)arg;
    seen_needs[0] = ctx->needs_input_grad[0];
    seen_needs[1] = ctx->needs_input_grad[1];
    ck_assert(!tensor_is_grad_enabled());   /* the forward records nothing */
    tensor_save_for_backward(ctx, in[0]);
    tensor_save_for_backward(ctx, in[1]);
    return tensor_mul(in[0], in[1]);
}

static void mul_backward(TensorFunctionCtx *ctx, const Tensor *dy, Tensor **dx)
{
    ck_assert_int_eq(ctx->n_inputs, 2);
    ck_assert_int_eq(ctx->n_saved, 2);
    if (ctx->needs_input_grad[0]) dx[0] = tensor_mul(dy, ctx->saved[1]);
    if (ctx->needs_input_grad[1]) dx[1] = tensor_mul(dy, ctx->saved[0]);
}

static const TensorFunction my_mul = {"MyMul", mul_forward, mul_backward};

START_TEST(test_context)
{
    Tensor *a = tensor_requires_grad_(tensor_full(2, SHAPE(3)), true);
    Tensor *b = tensor_full(5, SHAPE(3));
    Tensor *y = tensor_function_apply(&my_mul, 2, (Tensor *[]){a, b}, NULL);
    ck_assert(seen_needs[0] && !seen_needs[1]);
    ck_assert_int_eq(tensor_backward(tensor_sum(y), NULL), 0);
    ck_assert_float_eq(a->grad->data[0], 5);
    ck_assert_ptr_null(b->grad);
    /* in no-grad mode: a plain result, no node */
    tensor_no_grad_begin();
    y = tensor_function_apply(&my_mul, 2, (Tensor *[]){a, b}, NULL);
    tensor_no_grad_end();
    ck_assert(!seen_needs[0] && !y->requires_grad && !y->grad_fn);
}
END_TEST

/* A forward that returns its input: the node hangs on a header of its own. */
static Tensor *same_forward(TensorFunctionCtx *ctx, Tensor *const *in, const void *arg)
{
    (void)ctx, (void)arg;
    return in[0];
}

static void same_backward(TensorFunctionCtx *ctx, const Tensor *dy, Tensor **dx)
{
    (void)ctx;
    dx[0] = tensor_mul_scalar(dy, 2);   /* a made-up gradient, to see it arrive */
}

static const TensorFunction same = {"Same", same_forward, same_backward};

START_TEST(test_forward_returning_its_input)
{
    Tensor *x = tensor_requires_grad_(tensor_ones(SHAPE(2)), true);
    Tensor *y = tensor_function_apply(&same, 1, &x, NULL);
    ck_assert_ptr_ne(y, x);
    ck_assert_ptr_null(x->grad_fn);
    ck_assert_str_eq(tensor_grad_fn_name(y), "SameBackward");
    ck_assert_int_eq(tensor_backward(tensor_sum(y), NULL), 0);
    ck_assert_float_eq(x->grad->data[1], 2);
}
END_TEST

/* ---- misuse --------------------------------------------------------------------- */

static void wrong_shape_backward(TensorFunctionCtx *ctx, const Tensor *dy, Tensor **dx)
{
    (void)ctx;
    dx[0] = tensor_sum_dim(dy, 0, false);
}

static void null_backward(TensorFunctionCtx *ctx, const Tensor *dy, Tensor **dx)
{
    (void)ctx, (void)dy, (void)dx;
}

static void failing_backward(TensorFunctionCtx *ctx, const Tensor *dy, Tensor **dx)
{
    (void)ctx;
    dx[0] = tensor_matmul(dy, dy);   /* (2,3) @ (2,3): fails with a message */
}

static Tensor *null_forward(TensorFunctionCtx *ctx, Tensor *const *in, const void *arg)
{
    (void)ctx, (void)in, (void)arg;
    return NULL;
}

static Tensor *failing_forward(TensorFunctionCtx *ctx, Tensor *const *in, const void *arg)
{
    (void)ctx, (void)arg;
    return tensor_matmul(in[0], in[0]);
}

static Tensor *saving_forward(TensorFunctionCtx *ctx, Tensor *const *in, const void *arg)
{
    (void)arg;
    tensor_save_for_backward(ctx, in[0]);
    return tensor_exp(in[0]);
}

static int backward_of(const TensorFunction *f)
{
    Tensor *x = tensor_requires_grad_(tensor_ones(SHAPE(2, 3)), true);
    Tensor *y = tensor_function_apply(f, 1, &x, NULL);
    ck_assert_ptr_nonnull(y);
    return tensor_backward(tensor_sum(y), NULL);
}

START_TEST(test_misuse_has_messages)
{
    const TensorFunction wrong = {"Wrong", same_forward, wrong_shape_backward};
    ck_assert_int_eq(backward_of(&wrong), -1);
    ck_assert_str_eq(tensor_error(), "WrongBackward: backward gave a gradient of shape (3) for "
                                     "input 0, which has shape (2,3)");
    const TensorFunction none = {"None", same_forward, null_backward};
    ck_assert_int_eq(backward_of(&none), -1);
    ck_assert_str_eq(tensor_error(), "NoneBackward: backward gave no gradient (NULL) for input 0 "
                                     "(2,3), which requires grad");
    const TensorFunction failing = {"Failing", same_forward, failing_backward};
    ck_assert_int_eq(backward_of(&failing), -1);
    ck_assert_str_eq(tensor_error(), "FailingBackward: backward gave no gradient (NULL) for "
                                     "input 0 (2,3), which requires grad: matmul: (2,3) @ (2,3): "
                                     "inner sizes differ (3 != 2)");
    Tensor *x = tensor_requires_grad_(tensor_ones(SHAPE(2, 3)), true);
    const TensorFunction nf = {"NullForward", null_forward, null_backward};
    ck_assert_ptr_null(tensor_function_apply(&nf, 1, &x, NULL));
    ck_assert_str_eq(tensor_error(), "NullForward: forward returned NULL without a message");
    const TensorFunction ff = {"FailingForward", failing_forward, null_backward};
    ck_assert_ptr_null(tensor_function_apply(&ff, 1, &x, NULL));
    ck_assert_str_eq(tensor_error(), "matmul: (2,3) @ (2,3): inner sizes differ (3 != 2)");
    /* a saved tensor changed in place before the backward */
    const TensorFunction saving = {"Saving", saving_forward, same_backward};
    Tensor *a = tensor_requires_grad_(tensor_ones(SHAPE(2)), true);
    Tensor *s = tensor_mul_scalar(a, 1);
    Tensor *y = tensor_function_apply(&saving, 1, &s, NULL);
    tensor_fill_(s, 3);
    ck_assert_int_eq(tensor_backward(tensor_sum(y), NULL), -1);
    ck_assert_str_eq(tensor_error(), "backward: one of the variables needed for gradient "
                                     "computation has been modified by an inplace operation: the "
                                     "saved tensor 0 (2) of SavingBackward is at version 1; "
                                     "expected version 0 instead");
    /* the apply itself */
    tensor_clear_error();
    ck_assert_ptr_null(tensor_function_apply(&hand_softmax, 1, (Tensor *[]){NULL}, NULL));
    ck_assert_str_eq(tensor_error(), "");   /* a NULL input passes through, no message */
    ck_assert_ptr_null(tensor_function_apply(NULL, 1, &x, NULL));
    ck_assert_str_eq(tensor_error(), "function_apply: the function, its name, forward or "
                                     "backward is NULL");
    ck_assert_ptr_null(tensor_function_apply(&hand_softmax, 9, NULL, NULL));
    ck_assert_str_eq(tensor_error(), "HandSoftmax: 9 inputs given as NULL; 1 to 8 are supported");
    ck_assert_int_eq(tensor_save_for_backward(NULL, x), -1);
    ck_assert_str_eq(tensor_error(), "save_for_backward: ctx is NULL");
}
END_TEST

static Suite *function_suite(void)
{
    Suite *s = suite_create("function");
    TCase *tc = tcase_create("custom backward");
    tcase_add_test(tc, test_hand_softmax_matches_torch);
    tcase_add_test(tc, test_hand_softmax_agrees_with_the_builtin);
    tcase_add_test(tc, test_gradcheck_of_a_custom_op);
    tcase_add_test(tc, test_context);
    tcase_add_test(tc, test_forward_returning_its_input);
    tcase_add_test(tc, test_misuse_has_messages);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(function_suite)
