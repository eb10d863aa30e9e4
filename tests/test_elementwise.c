/*
 * Elementwise and reduction ops: forward values and gradients against
 * PyTorch 1.13 (tests/reference/elementwise.txt, written by
 * gen_elementwise.py), shapes, grad_fn names, gradient accumulation, and
 * the error messages.
 *
 * Tolerances, per case (|got - want| <= atol + rtol * |want|):
 *   EXACT (0, 0): IEEE operations done in PyTorch's order (+ - * /, sqrt,
 *     abs, max, x*x, 1/x ...) round the same way, so the bits must match.
 *   MATH (rtol 1e-6, atol 2e-6): exp, log, tanh and pow with a general
 *     exponent come from glibc here and from SLEEF (within 1 ulp) in
 *     PyTorch; a few ulp after the ops that follow is below 1e-6 relative.
 *     The atol covers results that cancel towards 0: gelu'(x) near x = -5,
 *     where tanh(u) leaves -1, multiplies one ulp of tanh (6e-8) by
 *     |x| b (1 + 3k x^2), about 20, so 1.2e-6 apart in absolute terms.
 *   SUM (rtol 1e-6, atol 5e-6): sums accumulate in double here and in
 *     float32 in PyTorch, whose rounding error grows like
 *     sqrt(n) 2^-24 sum|x_i|: about 3e-6 for big2's 20-term column sums
 *     (sum|x_i| about 10) that cancel to nearly 0; rtol covers the rest.
 */
#include "testutil.h"

enum { EXACT, MATH, SUM };

typedef struct {
    const char *name;              /* fixture @name; gradients @name_g0, @name_g1 */
    int n;
    const char *inputs[2];         /* fixture names of the inputs */
    Tensor *(*fn)(Tensor *const *x);
    bool grad;                     /* differentiable: check the gradients too */
    int value_tol, grad_tol;
} Case;

#define FN(name, expr) \
    static Tensor *name(Tensor *const *x) { return (expr); }

static Tensor *max_values(Tensor *a, int dim, bool keepdim)
{
    return tensor_max_dim(a, dim, keepdim, NULL);
}

static Tensor *max_indices(Tensor *a, int dim, bool keepdim)
{
    Tensor *idx;
    return tensor_max_dim(a, dim, keepdim, &idx) ? idx : NULL;
}

FN(f_add, tensor_add(x[0], x[1]))
FN(f_sub, tensor_sub(x[0], x[1]))
FN(f_mul, tensor_mul(x[0], x[1]))
FN(f_div, tensor_div(x[0], x[1]))
FN(f_add_strided, tensor_add(tensor_t(x[0]), x[1]))
FN(f_add_scalar, tensor_add_scalar(x[0], 0.5f))
FN(f_sub_scalar, tensor_sub_scalar(x[0], 0.75f))
FN(f_mul_scalar, tensor_mul_scalar(x[0], -1.5f))
FN(f_div_scalar, tensor_div_scalar(x[0], sqrtf(2.0f)))
FN(f_neg, tensor_neg(x[0]))
FN(f_pow0, tensor_pow(x[0], 0.0f))
FN(f_pow1, tensor_pow(x[0], 1.0f))
FN(f_pow2, tensor_pow(x[0], 2.0f))
FN(f_pow3, tensor_pow(x[0], 3.0f))
FN(f_pow_half, tensor_pow(x[0], 0.5f))
FN(f_pow_mhalf, tensor_pow(x[0], -0.5f))
FN(f_pow_m1, tensor_pow(x[0], -1.0f))
FN(f_pow_m2, tensor_pow(x[0], -2.0f))
FN(f_pow_1_5, tensor_pow(x[0], 1.5f))
FN(f_pow_m2_5, tensor_pow(x[0], -2.5f))
FN(f_exp, tensor_exp(x[0]))
FN(f_log, tensor_log(x[0]))
FN(f_sqrt, tensor_sqrt(x[0]))
FN(f_tanh, tensor_tanh(x[0]))
FN(f_sigmoid, tensor_sigmoid(x[0]))
FN(f_relu, tensor_relu(x[0]))
FN(f_gelu, tensor_gelu(x[0]))
FN(f_abs, tensor_abs(x[0]))
FN(f_clamp, tensor_clamp(x[0], -0.5f, 0.8f))
FN(f_clamp_min, tensor_clamp(x[0], -0.5f, INFINITY))
FN(f_clamp_max, tensor_clamp(x[0], -INFINITY, 0.8f))
FN(f_clamp_inf, tensor_clamp(x[0], -INFINITY, INFINITY))
FN(f_clamp_crossed, tensor_clamp(x[0], 1.0f, -1.0f))
FN(f_clone, tensor_clone(x[0]))
FN(f_exp_strided, tensor_exp(tensor_t(x[0])))
FN(f_gelu_strided, tensor_gelu(tensor_t(x[0])))
FN(f_sum, tensor_sum(x[0]))
FN(f_sum_d0, tensor_sum_dim(x[0], 0, false))
FN(f_sum_d1, tensor_sum_dim(x[0], 1, false))
FN(f_sum_dm1_keep, tensor_sum_dim(x[0], -1, true))
FN(f_sum_strided, tensor_sum_dim(tensor_t(x[0]), 1, false))
FN(f_mean, tensor_mean(x[0]))
FN(f_mean_d0, tensor_mean_dim(x[0], 0, false))
FN(f_mean_d1_keep, tensor_mean_dim(x[0], 1, true))
FN(f_mean_dm1_keep, tensor_mean_dim(x[0], -1, true))
FN(f_max_d1, max_values(x[0], 1, false))
FN(f_max_d1_idx, max_indices(x[0], 1, false))
FN(f_max_d0_keep, max_values(x[0], 0, true))
FN(f_max_d0_keep_idx, max_indices(x[0], 0, true))
FN(f_max_dm1, max_values(x[0], -1, false))
FN(f_max_strided, max_values(tensor_t(x[0]), 1, false))
FN(f_argmax_d2, tensor_argmax(x[0], 2, false))
FN(f_argmax_d1, tensor_argmax(x[0], 1, false))
FN(f_argmax_d0_keep, tensor_argmax(x[0], 0, true))
FN(f_var1, tensor_var(x[0], 1))
FN(f_var0, tensor_var(x[0], 0))
FN(f_var_d1, tensor_var_dim(x[0], 1, 1, false))
FN(f_var_d1_c0_keep, tensor_var_dim(x[0], 1, 0, true))
FN(f_var_strided, tensor_var_dim(tensor_t(x[0]), 0, 1, false))

/* The same cases, in the same words, as CASES in gen_elementwise.py. */
static const Case cases[] = {
    {"add", 2, {"x", "y"}, f_add, true, EXACT, EXACT},
    {"sub", 2, {"x", "y"}, f_sub, true, EXACT, EXACT},
    {"mul", 2, {"x", "y"}, f_mul, true, EXACT, EXACT},
    {"div", 2, {"x", "den"}, f_div, true, EXACT, EXACT},
    {"add_bcast", 2, {"col", "row"}, f_add, true, EXACT, SUM},
    {"sub_bcast", 2, {"row", "col"}, f_sub, true, EXACT, SUM},
    {"mul_bcast", 2, {"x3", "v"}, f_mul, true, EXACT, SUM},
    {"div_bcast", 2, {"x3", "v"}, f_div, true, EXACT, SUM},
    {"add_0d", 2, {"s", "x"}, f_add, true, EXACT, SUM},
    {"sub_0d", 2, {"x", "s"}, f_sub, true, EXACT, SUM},
    {"mul_0d", 2, {"s", "x"}, f_mul, true, EXACT, SUM},
    {"div_0d", 2, {"x", "s"}, f_div, true, EXACT, SUM},
    {"add_strided", 2, {"src43", "y"}, f_add_strided, true, EXACT, EXACT},
    {"add_scalar", 1, {"x"}, f_add_scalar, true, EXACT, EXACT},
    {"sub_scalar", 1, {"x"}, f_sub_scalar, true, EXACT, EXACT},
    {"mul_scalar", 1, {"x"}, f_mul_scalar, true, EXACT, EXACT},
    {"div_scalar", 1, {"x"}, f_div_scalar, true, EXACT, EXACT},
    {"neg", 1, {"x"}, f_neg, true, EXACT, EXACT},
    {"pow0", 1, {"x"}, f_pow0, true, EXACT, EXACT},
    {"pow1", 1, {"x"}, f_pow1, true, EXACT, EXACT},
    {"pow2", 1, {"x"}, f_pow2, true, EXACT, EXACT},
    {"pow3", 1, {"x"}, f_pow3, true, EXACT, EXACT},
    {"pow_half", 1, {"pos"}, f_pow_half, true, EXACT, EXACT},
    {"pow_mhalf", 1, {"pos"}, f_pow_mhalf, true, EXACT, MATH},
    {"pow_m1", 1, {"pos"}, f_pow_m1, true, EXACT, EXACT},
    {"pow_m2", 1, {"pos"}, f_pow_m2, true, EXACT, MATH},
    {"pow_1_5", 1, {"pos"}, f_pow_1_5, true, MATH, EXACT},
    {"pow_m2_5", 1, {"pos"}, f_pow_m2_5, true, MATH, MATH},
    {"exp", 1, {"wide"}, f_exp, true, MATH, MATH},
    {"log", 1, {"pos"}, f_log, true, MATH, EXACT},
    {"sqrt", 1, {"pos"}, f_sqrt, true, EXACT, EXACT},
    {"tanh", 1, {"wide"}, f_tanh, true, MATH, MATH},
    {"sigmoid", 1, {"wide"}, f_sigmoid, true, MATH, MATH},
    {"relu", 1, {"wide"}, f_relu, true, EXACT, EXACT},
    {"gelu", 1, {"wide"}, f_gelu, true, MATH, MATH},
    {"abs", 1, {"x"}, f_abs, true, EXACT, EXACT},
    {"clamp", 1, {"x"}, f_clamp, true, EXACT, EXACT},
    {"clamp_min", 1, {"x"}, f_clamp_min, true, EXACT, EXACT},
    {"clamp_max", 1, {"x"}, f_clamp_max, true, EXACT, EXACT},
    {"clone", 1, {"x"}, f_clone, true, EXACT, EXACT},
    {"exp_strided", 1, {"src43"}, f_exp_strided, true, MATH, MATH},
    {"gelu_strided", 1, {"src43"}, f_gelu_strided, true, MATH, MATH},
    {"sum", 1, {"x"}, f_sum, true, SUM, EXACT},
    {"sum_big", 1, {"big"}, f_sum, true, SUM, EXACT},
    {"sum_0d", 1, {"s"}, f_sum, true, EXACT, EXACT},
    {"sum_d0", 1, {"x3"}, f_sum_d0, true, SUM, EXACT},
    {"sum_d1", 1, {"x3"}, f_sum_d1, true, SUM, EXACT},
    {"sum_dm1_keep", 1, {"x3"}, f_sum_dm1_keep, true, SUM, EXACT},
    {"sum_big2_d0", 1, {"big2"}, f_sum_d0, true, SUM, EXACT},
    {"sum_big2_d1", 1, {"big2"}, f_sum_d1, true, SUM, EXACT},
    {"sum_dim_0d", 1, {"s"}, f_sum_d0, true, EXACT, EXACT},
    {"sum_strided", 1, {"src43"}, f_sum_strided, true, SUM, EXACT},
    {"mean", 1, {"x"}, f_mean, true, SUM, EXACT},
    {"mean_big", 1, {"big"}, f_mean, true, SUM, EXACT},
    {"mean_0d", 1, {"s"}, f_mean, true, EXACT, EXACT},
    {"mean_d1_keep", 1, {"x3"}, f_mean_d1_keep, true, SUM, EXACT},
    {"mean_big2_d0", 1, {"big2"}, f_mean_d0, true, SUM, EXACT},
    {"mean_dim_0d", 1, {"s"}, f_mean_dm1_keep, true, EXACT, EXACT},
    {"max_d1", 1, {"x3"}, f_max_d1, true, EXACT, EXACT},
    {"max_d1_idx", 1, {"x3"}, f_max_d1_idx, false, EXACT, EXACT},
    {"max_d0_keep", 1, {"x3"}, f_max_d0_keep, true, EXACT, EXACT},
    {"max_d0_keep_idx", 1, {"x3"}, f_max_d0_keep_idx, false, EXACT, EXACT},
    {"max_ties", 1, {"ties"}, f_max_d1, true, EXACT, EXACT},
    {"max_ties_idx", 1, {"ties"}, f_max_d1_idx, false, EXACT, EXACT},
    {"max_nans", 1, {"nans"}, f_max_d1, false, EXACT, EXACT},
    {"max_nans_idx", 1, {"nans"}, f_max_d1_idx, false, EXACT, EXACT},
    {"max_0d", 1, {"s"}, f_max_dm1, true, EXACT, EXACT},
    {"max_strided", 1, {"src43"}, f_max_strided, true, EXACT, EXACT},
    {"argmax_d2", 1, {"x3"}, f_argmax_d2, false, EXACT, EXACT},
    {"argmax_d0_keep", 1, {"x3"}, f_argmax_d0_keep, false, EXACT, EXACT},
    {"argmax_ties", 1, {"ties"}, f_argmax_d1, false, EXACT, EXACT},
    {"argmax_nans", 1, {"nans"}, f_argmax_d1, false, EXACT, EXACT},
    {"var1", 1, {"x"}, f_var1, true, EXACT, SUM},
    {"var0", 1, {"x"}, f_var0, true, EXACT, SUM},
    {"var_big2", 1, {"big2"}, f_var1, true, EXACT, SUM},
    {"var_d1", 1, {"x3"}, f_var_d1, true, EXACT, SUM},
    {"var_d1_c0_keep", 1, {"x3"}, f_var_d1_c0_keep, true, EXACT, SUM},
    {"var_big2_d1", 1, {"big2"}, f_var_d1, true, EXACT, SUM},
    {"var_strided", 1, {"src43"}, f_var_strided, true, EXACT, SUM},
    {"relu_kinks", 1, {"kinks"}, f_relu, true, EXACT, EXACT},
    {"abs_kinks", 1, {"kinks"}, f_abs, true, EXACT, EXACT},
    {"clamp_kinks", 1, {"kinks"}, f_clamp, true, EXACT, EXACT},
    {"clamp_min_kinks", 1, {"kinks"}, f_clamp_min, true, EXACT, EXACT},
    {"clamp_max_kinks", 1, {"kinks"}, f_clamp_max, true, EXACT, EXACT},
    {"clamp_inf_kinks", 1, {"kinks"}, f_clamp_inf, true, EXACT, EXACT},
    {"clamp_crossed_kinks", 1, {"kinks"}, f_clamp_crossed, true, EXACT, EXACT},
    {"max_kinks", 1, {"kinks"}, f_max_d1, true, EXACT, EXACT},
    {"max_kinks_idx", 1, {"kinks"}, f_max_d1_idx, false, EXACT, EXACT},
    {"sqrt_kinks", 1, {"kinks"}, f_sqrt, true, EXACT, EXACT},
    {"pow0_kinks", 1, {"kinks"}, f_pow0, true, EXACT, EXACT},
    {"pow2_kinks", 1, {"kinks"}, f_pow2, true, EXACT, EXACT},
    {"pow_half_kinks", 1, {"kinks"}, f_pow_half, true, EXACT, EXACT},
    {"exp_kinks", 1, {"kinks"}, f_exp, true, MATH, MATH},
    {"log_kinks", 1, {"kinks"}, f_log, true, MATH, EXACT},
    {"tanh_kinks", 1, {"kinks"}, f_tanh, true, MATH, MATH},
    {"sigmoid_kinks", 1, {"kinks"}, f_sigmoid, true, MATH, MATH},
    {"gelu_kinks", 1, {"kinks"}, f_gelu, true, MATH, MATH},
};
enum { N_CASES = sizeof cases / sizeof cases[0] };

static const char FIXTURE[] = "elementwise.txt";

static void assert_matches(const Tensor *got, const char *name, int tol)
{
    Tensor *want = testutil_fixture(FIXTURE, name);
    static const double atol[] = {[EXACT] = 0, [MATH] = 2e-6, [SUM] = 5e-6};
    static const double rtol[] = {[EXACT] = 0, [MATH] = 1e-6, [SUM] = 1e-6};
    ck_assert_msg(got != NULL, "%s: NULL (%s)", name, tensor_error());
    ck_assert_msg(tensor_same_shape(got, want), "%s: shape %s, PyTorch %s", name,
                  tensor_shape_str(got), tensor_shape_str(want));
    const Tensor *g = tensor_contiguous(got);
    for (int64_t i = 0; i < want->numel; i++) {
        double x = g->data[i], y = want->data[i];
        ck_assert_msg(x == y || fabs(x - y) <= atol[tol] + rtol[tol] * fabs(y) ||
                          (isnan(x) && isnan(y)),
                      "%s: element %lld: %.9g, PyTorch %.9g (atol %g, rtol %g)", name,
                      (long long)i, x, y, atol[tol], rtol[tol]);
    }
}

START_TEST(test_case_matches_torch)
{
    const Case *c = &cases[_i];
    TensorScope *scope = tensor_scope_begin();
    Tensor *in[2] = {0};
    for (int i = 0; i < c->n; i++) {
        in[i] = testutil_fixture(FIXTURE, c->inputs[i]);
        tensor_requires_grad_(in[i], c->grad);
    }
    Tensor *out = c->fn(in);
    assert_matches(out, c->name, c->value_tol);
    ck_assert_msg(out->requires_grad == c->grad, "%s: requires_grad %d", c->name,
                  out->requires_grad);
    if (c->grad) {
        ck_assert_int_eq(tensor_backward(out, testutil_seed_like(out)), 0);
        for (int i = 0; i < c->n; i++) {
            char name[64];
            snprintf(name, sizeof name, "%s_g%d", c->name, i);
            assert_matches(in[i]->grad, name, c->grad_tol);
        }
    }
    tensor_scope_end(scope);
}
END_TEST

/* ---- shapes ---------------------------------------------------------------- */

static void assert_shape(const Tensor *t, const char *want)
{
    ck_assert_msg(t != NULL, "NULL: %s", tensor_error());
    ck_assert_str_eq(tensor_shape_str(t), want);
}

START_TEST(test_broadcast_shapes)
{
    assert_shape(tensor_add(tensor_zeros(SHAPE(3, 1)), tensor_zeros(SHAPE(1, 4))), "(3,4)");
    assert_shape(tensor_mul(tensor_zeros(SHAPE(2, 3, 4)), tensor_zeros(SHAPE(4))), "(2,3,4)");
    assert_shape(tensor_sub(tensor_scalar(1), tensor_zeros(SHAPE(2, 3))), "(2,3)");
    assert_shape(tensor_div(tensor_scalar(1), tensor_scalar(2)), "()");
    assert_shape(tensor_add(tensor_zeros(SHAPE(5, 1, 3)), tensor_zeros(SHAPE(2, 1))), "(5,2,3)");
    assert_shape(tensor_add(tensor_zeros(SHAPE(0, 3)), tensor_zeros(SHAPE(3))), "(0,3)");
}
END_TEST

START_TEST(test_reduction_shapes)
{
    Tensor *a = tensor_zeros(SHAPE(2, 3, 4));
    assert_shape(tensor_sum(a), "()");
    assert_shape(tensor_sum_dim(a, 1, false), "(2,4)");
    assert_shape(tensor_sum_dim(a, 1, true), "(2,1,4)");
    assert_shape(tensor_mean_dim(a, -1, true), "(2,3,1)");
    assert_shape(tensor_var_dim(a, 0, 1, false), "(3,4)");
    assert_shape(tensor_argmax(a, 2, true), "(2,3,1)");
    Tensor *idx = NULL;
    assert_shape(tensor_max_dim(a, -3, true, &idx), "(1,3,4)");
    assert_shape(idx, "(1,3,4)");
    Tensor *s = tensor_scalar(4);
    assert_shape(tensor_sum_dim(s, 0, true), "()");
    assert_shape(tensor_max_dim(s, -1, true, NULL), "()");
    /* Empty reductions: sum is 0, mean and var are NaN, as in PyTorch. */
    Tensor *e = tensor_zeros(SHAPE(2, 0));
    ck_assert_float_eq(tensor_item(tensor_sum(e)), 0.0f);
    ck_assert(isnan(tensor_item(tensor_mean(e))));
    ck_assert(isnan(tensor_get(tensor_var_dim(e, 1, 1, false), IDX(0))));
}
END_TEST

START_TEST(test_max_dim_indices)
{
    const float v[] = {1, 7, 7, 2, -3, -1, -1, -5};
    Tensor *a = tensor_requires_grad_(tensor_from_data(v, SHAPE(2, 4)), true);
    Tensor *idx;
    Tensor *m = tensor_max_dim(a, 1, false, &idx);
    ck_assert_float_eq(idx->data[0], 1.0f);     /* first of the tied maxima */
    ck_assert_float_eq(idx->data[1], 1.0f);
    ck_assert(!idx->requires_grad);
    ck_assert_int_eq(tensor_backward(tensor_sum(m), NULL), 0);
    const float want[] = {0, 1, 0, 0, 0, 1, 0, 0};  /* only to the argmax position */
    ck_assert_tensor_close(a->grad, tensor_from_data(want, SHAPE(2, 4)), 0, 0);
    ck_assert_tensor_close(tensor_argmax(a, 1, false), idx, 0, 0);
}
END_TEST

/* The indices handed out are the caller's: changing them cannot steer the
 * backward (which once wrote dx at whatever index they held). */
START_TEST(test_max_dim_indices_are_a_copy)
{
    const float v[] = {1, 7, 7, 2, -3, -1, -1, -5};
    Tensor *a = tensor_requires_grad_(tensor_from_data(v, SHAPE(2, 4)), true);
    Tensor *idx;
    Tensor *m = tensor_max_dim(a, 1, false, &idx);
    tensor_fill_(idx, 1e6f);
    ck_assert_int_eq(tensor_backward(tensor_sum(m), NULL), 0);
    const float want[] = {0, 1, 0, 0, 0, 1, 0, 0};
    ck_assert_tensor_close(a->grad, tensor_from_data(want, SHAPE(2, 4)), 0, 0);
}
END_TEST

START_TEST(test_div_scalar_is_a_true_division)
{
    /* 3 / sqrt(2) and 3 * (1 / sqrt(2)) differ in the last bit in float32. */
    float s = sqrtf(2.0f), x = 3.0f;
    ck_assert(x / s != x * (1.0f / s));
    ck_assert_float_eq(tensor_item(tensor_div_scalar(tensor_scalar(x), s)), x / s);
}
END_TEST

/* ---- autograd behaviour ---------------------------------------------------- */

START_TEST(test_grad_fn_names_match_torch)
{
    /* The names torch 1.13 gives (gen_elementwise.py asserts the same list). */
    Tensor *x = tensor_requires_grad_(tensor_ones(SHAPE(2, 3)), true);
    Tensor *c = tensor_requires_grad_(tensor_ones(SHAPE(2, 1)), true);
    Tensor *three = tensor_ones(SHAPE(2, 3, 4));
    ck_assert_str_eq(tensor_grad_fn_name(tensor_add(c, x)), "AddBackward0");
    ck_assert_str_eq(tensor_grad_fn_name(tensor_sub_scalar(x, 1)), "SubBackward0");
    ck_assert_str_eq(tensor_grad_fn_name(tensor_add_scalar(x, 1)), "AddBackward0");
    ck_assert_str_eq(tensor_grad_fn_name(tensor_div_scalar(x, 2)), "DivBackward0");
    ck_assert_str_eq(tensor_grad_fn_name(tensor_pow(x, 0.5f)), "PowBackward0");
    ck_assert_str_eq(tensor_grad_fn_name(tensor_gelu(x)), "GeluBackward0");
    ck_assert_str_eq(tensor_grad_fn_name(tensor_clamp(x, -1, 1)), "ClampBackward1");
    ck_assert_str_eq(tensor_grad_fn_name(tensor_clone(x)), "CloneBackward0");
    ck_assert_str_eq(tensor_grad_fn_name(tensor_sum(x)), "SumBackward0");
    ck_assert_str_eq(tensor_grad_fn_name(tensor_sum_dim(x, 1, false)), "SumBackward1");
    ck_assert_str_eq(tensor_grad_fn_name(tensor_mean_dim(x, 1, true)), "MeanBackward1");
    ck_assert_str_eq(tensor_grad_fn_name(tensor_max_dim(x, 1, false, NULL)), "MaxBackward0");
    ck_assert_str_eq(tensor_grad_fn_name(tensor_var_dim(x, 1, 1, false)), "VarBackward0");
    /* No node without an input that requires grad, or in no-grad mode. */
    ck_assert_ptr_null(tensor_grad_fn_name(tensor_exp(three)));
    ck_assert_ptr_null(tensor_grad_fn_name(tensor_argmax(x, 1, false)));
    tensor_no_grad_begin();
    Tensor *y = tensor_mul(x, x);
    tensor_no_grad_end();
    ck_assert_ptr_null(y->grad_fn);
    ck_assert(!y->requires_grad);
}
END_TEST

START_TEST(test_gradients_accumulate)
{
    const float v[] = {1, 2, 3, 4, 5, 6};
    Tensor *x = tensor_requires_grad_(tensor_from_data(v, SHAPE(2, 3)), true);
    Tensor *b = tensor_requires_grad_(tensor_from_data(v, SHAPE(3)), true);
    Tensor *loss = tensor_mean(tensor_mul(tensor_add(x, b), x));   /* mean((x + b) x) */
    ck_assert_int_eq(tensor_backward_retain(loss, NULL), 0);
    /* d/dx = (2x + b) / 6; d/db = sum over rows of x / 6 */
    Tensor *gx = tensor_keep(x->grad), *gb = tensor_keep(b->grad);
    ck_assert_float_eq_tol(gx->data[0], (2 * 1 + 1) / 6.0f, 1e-7);
    ck_assert_float_eq_tol(gb->data[2], (3 + 6) / 6.0f, 1e-7);
    /* A second backward through the same graph (kept by the first), then a
     * new forward: adds up.
     * x receives two terms per pass, so the sums round in a different order
     * than 2g or 3g: rtol 1e-6. */
    ck_assert_int_eq(tensor_backward(loss, NULL), 0);
    ck_assert_tensor_close(x->grad, tensor_mul_scalar(gx, 2), 0, 1e-6);
    ck_assert_tensor_close(b->grad, tensor_mul_scalar(gb, 2), 0, 1e-6);
    Tensor *again = tensor_mean(tensor_mul(tensor_add(x, b), x));
    ck_assert_int_eq(tensor_backward(again, NULL), 0);
    ck_assert_tensor_close(x->grad, tensor_mul_scalar(gx, 3), 0, 1e-6);
    ck_assert_tensor_close(b->grad, tensor_mul_scalar(gb, 3), 0, 1e-6);
    tensor_free(gx);
    tensor_free(gb);
}
END_TEST

/* ---- errors ---------------------------------------------------------------- */

START_TEST(test_shape_mismatch_messages)
{
    Tensor *a = tensor_zeros(SHAPE(2, 3)), *b = tensor_zeros(SHAPE(4, 3));
    tensor_clear_error();
    ck_assert_ptr_null(tensor_add(a, b));
    ck_assert_str_eq(tensor_error(),
                     "add: shapes (2,3) and (4,3) cannot broadcast (dim 0: 2 vs 4)");
    ck_assert_ptr_null(tensor_sub(a, b));
    ck_assert_str_eq(tensor_error(),
                     "sub: shapes (2,3) and (4,3) cannot broadcast (dim 0: 2 vs 4)");
    ck_assert_ptr_null(tensor_mul(tensor_zeros(SHAPE(2, 3, 4)), tensor_zeros(SHAPE(3, 3))));
    ck_assert_str_eq(tensor_error(),
                     "mul: shapes (2,3,4) and (3,3) cannot broadcast (dim 2: 4 vs 3)");
    ck_assert_ptr_null(tensor_div(tensor_zeros(SHAPE(5)), a));
    ck_assert_str_eq(tensor_error(), "div: shapes (5) and (2,3) cannot broadcast (dim 1: 5 vs 3)");
}
END_TEST

START_TEST(test_dim_out_of_range_messages)
{
    Tensor *a = tensor_zeros(SHAPE(2, 3));
    tensor_clear_error();
    ck_assert_ptr_null(tensor_sum_dim(a, 2, false));
    ck_assert_str_eq(tensor_error(),
                     "sum_dim: dim 2 out of range for a 2-d tensor (2,3) (expected -2 to 1)");
    ck_assert_ptr_null(tensor_mean_dim(a, -3, true));
    ck_assert_str_eq(tensor_error(),
                     "mean_dim: dim -3 out of range for a 2-d tensor (2,3) (expected -2 to 1)");
    ck_assert_ptr_null(tensor_var_dim(a, 5, 1, false));
    ck_assert_str_eq(tensor_error(),
                     "var_dim: dim 5 out of range for a 2-d tensor (2,3) (expected -2 to 1)");
    Tensor *idx = a;
    ck_assert_ptr_null(tensor_max_dim(tensor_scalar(1), 1, false, &idx));
    ck_assert_ptr_null(idx);
    ck_assert_str_eq(tensor_error(),
                     "max_dim: dim 1 out of range for a 0-d tensor () (expected -1 to 0)");
    ck_assert_ptr_null(tensor_argmax(a, -3, false));
    ck_assert_str_eq(tensor_error(),
                     "argmax: dim -3 out of range for a 2-d tensor (2,3) (expected -2 to 1)");
    /* There is no maximum of an empty dim (PyTorch refuses it too). */
    ck_assert_ptr_null(tensor_max_dim(tensor_zeros(SHAPE(2, 0)), -1, false, NULL));
    ck_assert_str_eq(tensor_error(), "max_dim: dim -1 of (2,0) has size 0; the reduction "
                                     "needs at least one element");
    ck_assert_ptr_null(tensor_argmax(tensor_zeros(SHAPE(0, 2)), 0, true));
    ck_assert_str_eq(tensor_error(), "argmax: dim 0 of (0,2) has size 0; the reduction "
                                     "needs at least one element");
}
END_TEST

START_TEST(test_null_propagates_without_a_message)
{
    Tensor *a = tensor_ones(SHAPE(2, 3));
    tensor_clear_error();
    Tensor *outs[] = {
        tensor_add(NULL, a), tensor_sub(a, NULL), tensor_mul(NULL, NULL), tensor_div(NULL, a),
        tensor_add_scalar(NULL, 1), tensor_sub_scalar(NULL, 1), tensor_mul_scalar(NULL, 1),
        tensor_div_scalar(NULL, 1), tensor_neg(NULL), tensor_pow(NULL, 2), tensor_exp(NULL),
        tensor_log(NULL), tensor_sqrt(NULL), tensor_tanh(NULL), tensor_sigmoid(NULL),
        tensor_relu(NULL), tensor_gelu(NULL), tensor_abs(NULL), tensor_clamp(NULL, 0, 1),
        tensor_clone(NULL), tensor_sum(NULL), tensor_sum_dim(NULL, 0, false), tensor_mean(NULL),
        tensor_mean_dim(NULL, 0, false), tensor_max_dim(NULL, 0, false, NULL),
        tensor_argmax(NULL, 0, false), tensor_var(NULL, 1), tensor_var_dim(NULL, 0, 1, false),
    };
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) ck_assert_ptr_null(outs[i]);
    ck_assert_str_eq(tensor_error(), "");
}
END_TEST

START_TEST(test_first_message_is_kept)
{
    /* A forward pass checked once at the end reports its first failure. */
    Tensor *x = tensor_requires_grad_(tensor_ones(SHAPE(2, 3)), true);
    tensor_clear_error();
    Tensor *h = tensor_gelu(tensor_add(x, tensor_ones(SHAPE(3, 2))));
    Tensor *loss = tensor_mean(tensor_var_dim(tensor_sum_dim(h, 1, true), 0, 1, false));
    ck_assert_ptr_null(loss);
    ck_assert_int_eq(tensor_backward(loss, NULL), -1);
    ck_assert_str_eq(tensor_error(),
                     "add: shapes (2,3) and (3,2) cannot broadcast (dim 0: 2 vs 3)");
}
END_TEST

static Suite *elementwise_suite(void)
{
    Suite *s = suite_create("elementwise");
    TCase *tc = tcase_create("torch");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_case_matches_torch, 0, N_CASES);
    suite_add_tcase(s, tc);
    tc = tcase_create("behaviour");
    tcase_add_test(tc, test_broadcast_shapes);
    tcase_add_test(tc, test_reduction_shapes);
    tcase_add_test(tc, test_max_dim_indices);
    tcase_add_test(tc, test_max_dim_indices_are_a_copy);
    tcase_add_test(tc, test_div_scalar_is_a_true_division);
    tcase_add_test(tc, test_grad_fn_names_match_torch);
    tcase_add_test(tc, test_gradients_accumulate);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_shape_mismatch_messages);
    tcase_add_test(tc, test_dim_out_of_range_messages);
    tcase_add_test(tc, test_null_propagates_without_a_message);
    tcase_add_test(tc, test_first_message_is_kept);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(elementwise_suite)
