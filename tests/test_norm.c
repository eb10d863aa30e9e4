/*
 * layer_norm against PyTorch 1.13 (tests/reference/norm.txt, written by
 * gen_norm.py): the output of F.layer_norm and of the book's LayerNorm
 * composite (mean, biased var, sqrt, div), the gradients of sum(out * w)
 * for x, weight and bias; and its messages for bad input.
 *
 * Tolerances: the fused op takes each row's mean and variance in double and
 * rounds once; PyTorch rounds its float sums, the composite at every step.
 * xhat then differs by a few float32 ulps of |x - mean| / sigma, at most
 * about 1e-6 for these inputs (the "offset" rows sit at 50 with sigma 3,
 * where a mean's rounding is 50 * 6e-8 = 3e-6 before division by 3), and
 * the weights (|w| < 3) scale that: atol 1e-5 + rtol 1e-5 on outputs.
 * Gradients sum the same products over a row (n <= 768) or over the rows
 * (for dw, db), in another order: atol 1e-5 + rtol 1e-5 as well.
 */
#include "testutil.h"

#define FIX(name) testutil_fixture("norm.txt", name)

static void check_case(const char *name)
{
    char key[64];
#define GET(suffix) (snprintf(key, sizeof key, "%s_%s", name, suffix), FIX(key))
    Tensor *x = tensor_requires_grad_(GET("x"), true);
    Tensor *w = tensor_requires_grad_(GET("w"), true);
    Tensor *b = tensor_requires_grad_(GET("b"), true);
    Tensor *out = tensor_layer_norm(x, w, b, 1e-5);
    ck_assert_msg(out != NULL, "%s: %s", name, tensor_error());
    ck_assert_str_eq(tensor_grad_fn_name(out), "NativeLayerNormBackward0");
    ck_assert_tensor_close(out, GET("out"), 1e-5, 1e-5);
    ck_assert_tensor_close(out, GET("book"), 1e-5, 1e-5);
    ck_assert_int_eq(tensor_backward(tensor_sum(tensor_mul(out, testutil_seed_like(out))), NULL), 0);
    ck_assert_tensor_close(x->grad, GET("dx"), 1e-5, 1e-5);
    ck_assert_tensor_close(w->grad, GET("dw"), 1e-5, 1e-5);
    ck_assert_tensor_close(b->grad, GET("db"), 1e-5, 1e-5);
#undef GET
}

START_TEST(test_layer_norm_matches_pytorch)
{
    check_case("small");
    check_case("rows");
    check_case("offset");
}
END_TEST

/* Without weight and bias the rows have mean 0 and biased variance 1 - eps/var. */
START_TEST(test_layer_norm_plain_rows)
{
    Tensor *x = tensor_from_data((const float[]){1, 2, 3, 4, -5, 0, 5, 10}, SHAPE(2, 4));
    Tensor *y = tensor_layer_norm(x, NULL, NULL, 0);
    ck_assert_ptr_nonnull(y);
    Tensor *mean = tensor_mean_dim(y, -1, false), *var = tensor_var_dim(y, -1, 0, false);
    for (int r = 0; r < 2; r++) {
        ck_assert_float_eq_tol(tensor_get(mean, IDX(r)), 0, 1e-6);
        ck_assert_float_eq_tol(tensor_get(var, IDX(r)), 1, 1e-6);
    }
    /* A transposed input normalises its own last dim, not the storage's. */
    Tensor *xt = tensor_transpose(x, 0, 1);
    ck_assert_tensor_close(tensor_layer_norm(xt, NULL, NULL, 1e-5),
                           tensor_layer_norm(tensor_contiguous(xt), NULL, NULL, 1e-5), 0, 0);
}
END_TEST

START_TEST(test_layer_norm_bad_input)
{
    Tensor *x = tensor_ones(SHAPE(2, 4));
    ck_assert_error_has(tensor_layer_norm(x, tensor_ones(SHAPE(3)), NULL, 1e-5),
                        "layer_norm: weight (3) must be (4) for input (2,4)");
    ck_assert_error_has(tensor_layer_norm(x, NULL, tensor_ones(SHAPE(4, 1)), 1e-5),
                        "layer_norm: bias (4,1) must be (4)");
    ck_assert_error_has(tensor_layer_norm(x, NULL, NULL, -1), "layer_norm: eps = -1");
    ck_assert_error_has(tensor_layer_norm(tensor_scalar(1), NULL, NULL, 1e-5),
                        "layer_norm: input () must have at least one dim");
    ck_assert_ptr_null(tensor_layer_norm(NULL, NULL, NULL, 1e-5));
    ck_assert_str_eq(tensor_error(), "");
}
END_TEST

static Suite *norm_suite(void)
{
    Suite *s = suite_create("norm");
    TCase *tc = tcase_create("layer_norm");
    tcase_add_test(tc, test_layer_norm_matches_pytorch);
    tcase_add_test(tc, test_layer_norm_plain_rows);
    tcase_add_test(tc, test_layer_norm_bad_input);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(norm_suite)
