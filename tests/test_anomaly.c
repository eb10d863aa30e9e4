/*
 * Anomaly mode (tensor_set_detect_anomaly): the op that produces the first
 * NaN or Inf, forward or backward, is named and the pass stops there.
 */
#include "testutil.h"

static Tensor *vec(int n, const float *v) { return tensor_from_data(v, 1, (const int64_t[]){n}); }

static Tensor *leaf(int n, const float *v) { return tensor_requires_grad_(vec(n, v), true); }

/* ---- forward: one row per op that can produce a NaN or Inf ---------------- */

static const float big[2] = {3e38f, -3e38f}, zero[2] = {0, 0}, minus[2] = {1, -1}, one[2] = {1, 1},
                   large[2] = {100, 1};

static Tensor *f_log(void) { return tensor_log(tensor_reshape(vec(2, minus), SHAPE(1, 2))); }
static Tensor *f_log0(void) { return tensor_log(vec(2, zero)); }
static Tensor *f_sqrt(void) { return tensor_sqrt(vec(2, minus)); }
static Tensor *f_div(void) { return tensor_div(vec(2, one), vec(2, zero)); }
static Tensor *f_exp(void) { return tensor_exp(vec(2, large)); }
static Tensor *f_pow(void) { return tensor_pow(vec(2, minus), 0.5f); }
static Tensor *f_mul(void) { return tensor_mul(vec(2, big), vec(2, big)); }
static Tensor *f_add(void) { return tensor_add(vec(2, big), vec(2, big)); }
static Tensor *f_sub(void) { return tensor_sub(vec(2, big), tensor_neg(vec(2, big))); }
static Tensor *f_add_scalar(void) { return tensor_add_scalar(vec(2, big), 3e38f); }
static Tensor *f_sub_scalar(void) { return tensor_sub_scalar(vec(2, big), -3e38f); }
static Tensor *f_mul_scalar(void) { return tensor_mul_scalar(vec(2, big), 10); }
static Tensor *f_div_scalar(void) { return tensor_div_scalar(vec(2, one), 0); }
static Tensor *f_sum(void) { return tensor_sum(tensor_expand(vec(1, big), SHAPE(4))); }
static Tensor *f_mean_empty(void) { return tensor_mean(tensor_zeros(SHAPE(0))); }
static Tensor *f_var_one(void) { return tensor_var(vec(1, one), 1); }
static const float huge[2] = {3.4e38f, 3.4e38f};
/* p = 0.01: kept elements are scaled by 1/0.99, past FLT_MAX. */
static Tensor *f_dropout(void) { return tensor_dropout(vec(2, huge), 0.01f, true, NULL); }

static Tensor *f_matmul(void) { return tensor_matmul(vec(2, big), vec(2, big)); }
/* Every product 3.4e38 * 2 overflows, whatever the kernel's order of summing. */
static Tensor *f_linear(void)
{
    return tensor_linear(tensor_reshape(vec(2, huge), SHAPE(1, 2)), tensor_full(2, SHAPE(3, 2)),
                         NULL);
}
/* x - max(x) overflows: -3e38 - 3e38. */
static Tensor *f_log_softmax(void) { return tensor_log_softmax(vec(2, big), 0); }
static Tensor *f_mse(void) { return tensor_mse_loss(vec(2, big), tensor_neg(vec(2, big))); }
/* log_softmax inside gives -inf for class 1: the loss of class 1 is inf. */
static Tensor *f_cross_entropy(void)
{
    return tensor_cross_entropy(tensor_reshape(vec(2, big), SHAPE(1, 2)), vec(1, (float[]){1}));
}

static const struct {
    const char *what;
    Tensor *(*run)(void);
    const char *message;
} forward[] = {
    {"log(-1)", f_log, "anomaly: log produced nan at element 1 of output (1,2)"},
    {"log(0)", f_log0, "anomaly: log produced -inf at element 0 of output (2)"},
    {"sqrt(-1)", f_sqrt, "anomaly: sqrt produced nan at element 1 of output (2)"},
    {"1 / 0", f_div, "anomaly: div produced inf at element 0 of output (2)"},
    {"exp(100)", f_exp, "anomaly: exp produced inf at element 0 of output (2)"},
    {"(-1)^0.5", f_pow, "anomaly: pow produced nan at element 1 of output (2)"},
    {"3e38 * 3e38", f_mul, "anomaly: mul produced inf at element 0 of output (2)"},
    {"3e38 + 3e38", f_add, "anomaly: add produced inf at element 0 of output (2)"},
    {"3e38 - -3e38", f_sub, "anomaly: sub produced inf at element 0 of output (2)"},
    {"3e38 + 3e38 (scalar)", f_add_scalar,
     "anomaly: add_scalar produced inf at element 0 of output (2)"},
    {"3e38 - -3e38 (scalar)", f_sub_scalar,
     "anomaly: sub_scalar produced inf at element 0 of output (2)"},
    {"3e38 * 10", f_mul_scalar, "anomaly: mul_scalar produced inf at element 0 of output (2)"},
    {"1 / 0 (scalar)", f_div_scalar, "anomaly: div_scalar produced inf at element 0 of output (2)"},
    {"sum of 4 x 3e38", f_sum, "anomaly: sum produced inf at element 0 of output ()"},
    {"mean of nothing", f_mean_empty, "anomaly: mean produced nan at element 0 of output ()"},
    {"var of one value", f_var_one, "anomaly: var produced nan at element 0 of output ()"},
    {"dropout of 3e38", f_dropout, "anomaly: dropout produced inf at element 0 of output (2)"},
    {"matmul overflow", f_matmul, "anomaly: matmul produced inf at element 0 of output ()"},
    {"linear overflow", f_linear, "anomaly: linear produced inf at element 0 of output (1,3)"},
    {"log_softmax overflow", f_log_softmax,
     "anomaly: log_softmax produced -inf at element 1 of output (2)"},
    {"mse_loss overflow", f_mse, "anomaly: mse_loss produced inf at element 0 of output ()"},
    {"cross_entropy overflow", f_cross_entropy,
     "anomaly: cross_entropy produced inf at element 0 of output ()"},
};

START_TEST(test_forward_names_the_op)
{
    tensor_manual_seed(0); /* dropout keeps element 0 with this seed */
    tensor_set_detect_anomaly(true);
    tensor_clear_error();
    Tensor *out = forward[_i].run();
    tensor_set_detect_anomaly(false);
    ck_assert_msg(out == NULL, "%s: not refused", forward[_i].what);
    ck_assert_str_eq(tensor_error(), forward[_i].message);
    /* Off, the same op just returns its NaN or Inf. */
    tensor_manual_seed(0);
    tensor_clear_error();
    out = forward[_i].run();
    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(tensor_error(), "");
}
END_TEST

/* Only the op that makes a NaN is named: later ops get NULL and keep the
 * message; ops fed a NaN that was already there are not anomalies. */
START_TEST(test_only_the_producer_is_named)
{
    tensor_set_detect_anomaly(true);
    Tensor *y = tensor_sum(tensor_exp(tensor_log(vec(2, minus))));
    ck_assert_ptr_null(y);
    ck_assert_str_eq(tensor_error(), "anomaly: log produced nan at element 1 of output (2)");
    tensor_clear_error();
    const float nan_in[2] = {NAN, 1};
    Tensor *z = tensor_exp(vec(2, nan_in));
    ck_assert_ptr_nonnull(z);
    ck_assert_str_eq(tensor_error(), "");
    tensor_set_detect_anomaly(false);
}
END_TEST

/* The -inf of class 1 inside cross_entropy is not seen by a target of 0:
 * the loss is finite, and so not an anomaly. */
START_TEST(test_inner_ops_are_not_checked)
{
    tensor_set_detect_anomaly(true);
    Tensor *loss =
        tensor_cross_entropy(tensor_reshape(vec(2, big), SHAPE(1, 2)), vec(1, (float[]){0}));
    tensor_set_detect_anomaly(false);
    ck_assert_msg(loss != NULL, "%s", tensor_error());
    ck_assert(tensor_item(loss) == 0);
}
END_TEST

/* masked_fill's -inf is what the caller asked for (causal attention). */
START_TEST(test_masked_fill_value_is_not_an_anomaly)
{
    tensor_set_detect_anomaly(true);
    ck_assert(tensor_is_anomaly_enabled());
    Tensor *mask = tensor_triu(tensor_ones(SHAPE(3, 3)), 1);
    Tensor *s = tensor_masked_fill(tensor_rand(SHAPE(3, 3)), mask, -INFINITY);
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_nonnull(tensor_softmax(s, -1));
    tensor_set_detect_anomaly(false);
    ck_assert(!tensor_is_anomaly_enabled());
}
END_TEST

/* ---- backward ---------------------------------------------------------------- */

/* sqrt(0) is 0, but its derivative 1 / (2 sqrt(0)) is inf. */
START_TEST(test_backward_names_the_function)
{
    tensor_set_detect_anomaly(true);
    Tensor *x = leaf(2, zero);
    Tensor *y = tensor_sum(tensor_sqrt(x));
    ck_assert_ptr_nonnull(y);
    ck_assert_int_eq(tensor_backward(y, NULL), -1);
    ck_assert_str_eq(tensor_error(),
                     "anomaly: SqrtBackward0 produced inf in the gradient of input 0 (2)");
    tensor_set_detect_anomaly(false);
    ck_assert_int_eq(tensor_backward(y, NULL), 0); /* off: the inf is just stored */
    ck_assert(isinf(tensor_get(x->grad, IDX(0))));
}
END_TEST

/* a / b is finite (1e30) but d(a/b)/db = -a / b^2 overflows: input 1. */
START_TEST(test_backward_names_the_input)
{
    const float a_v[1] = {1e20f}, b_v[1] = {1e-10f};
    tensor_set_detect_anomaly(true);
    Tensor *a = leaf(1, a_v), *b = leaf(1, b_v);
    Tensor *y = tensor_sum(tensor_div(a, b));
    ck_assert_ptr_nonnull(y);
    ck_assert_int_eq(tensor_backward(y, NULL), -1);
    ck_assert_str_eq(tensor_error(),
                     "anomaly: DivBackward0 produced -inf in the gradient of input 1 (1)");
    tensor_set_detect_anomaly(false);
}
END_TEST

/* A NaN seed flows through without blaming anyone. */
START_TEST(test_backward_of_a_nan_seed_is_not_an_anomaly)
{
    tensor_set_detect_anomaly(true);
    Tensor *x = leaf(2, one);
    Tensor *y = tensor_mul_scalar(x, 2);
    ck_assert_int_eq(tensor_backward(y, tensor_full(NAN, SHAPE(2))), 0);
    ck_assert(isnan(tensor_get(x->grad, IDX(0))));
    tensor_set_detect_anomaly(false);
}
END_TEST

/* The toy task of every model trains the same with anomaly mode on. */
START_TEST(test_training_is_unchanged)
{
    static const char *const models[] = {"v1", "v2", "causal", "mha"};
    TrainToyConfig c = TRAIN_TOY_CONFIG();
    c.model = models[_i];
    float plain[20];
    TrainToyRun run;
    ck_assert_int_eq(train_toy_init(&run, &c), 0);
    for (int s = 0; s < 20; s++) plain[s] = train_toy_step(&run);
    train_toy_free(&run);
    tensor_set_detect_anomaly(true);
    ck_assert_int_eq(train_toy_init(&run, &c), 0);
    for (int s = 0; s < 20; s++) {
        float loss = train_toy_step(&run);
        ck_assert_msg(loss == plain[s], "%s step %d: %g vs %g (%s)", models[_i], s, (double)loss,
                      (double)plain[s], tensor_error());
    }
    train_toy_free(&run);
    tensor_set_detect_anomaly(false);
}
END_TEST

static Suite *anomaly_suite(void)
{
    Suite *s = suite_create("anomaly");
    TCase *tc = tcase_create("anomaly");
    tcase_add_loop_test(tc, test_forward_names_the_op, 0, sizeof forward / sizeof *forward);
    tcase_add_test(tc, test_only_the_producer_is_named);
    tcase_add_test(tc, test_inner_ops_are_not_checked);
    tcase_add_test(tc, test_masked_fill_value_is_not_an_anomaly);
    tcase_add_test(tc, test_backward_names_the_function);
    tcase_add_test(tc, test_backward_names_the_input);
    tcase_add_test(tc, test_backward_of_a_nan_seed_is_not_an_anomaly);
    tcase_add_loop_test(tc, test_training_is_unchanged, 0, 4);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(anomaly_suite)
