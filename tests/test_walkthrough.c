/*
 * The teaching API of a walk-through (tensor.h, "Teaching: a gradient beside
 * its central difference"): tensor_grad_pair and its verdicts, the printed
 * digits and columns, tensor_as_rows, tensor_max_abs_diff, tensor_l2_norm,
 * tensor_fprint_indented and the fixture format, and their refusals.  The
 * programs that print with them (backprop_attention, backprop_block) are
 * checked whole against their PyTorch fixtures by test_teaching.c and
 * test_backprop_block.c.
 */
#include "testutil.h"

/* ---- capturing what a printing function writes --------------------------------- */

typedef struct {
    char *text;
    size_t len;
    FILE *f;
} Capture;

static FILE *capture_begin(Capture *c)
{
    *c = (Capture){0};
    c->f = open_memstream(&c->text, &c->len);
    ck_assert_ptr_nonnull(c->f);
    return c->f;
}

/* The text written, in a buffer that lives until the next call. */
static const char *capture_end(Capture *c)
{
    static char buf[1 << 14];
    fclose(c->f);
    snprintf(buf, sizeof buf, "%s", c->text);
    free(c->text);
    return buf;
}

static Tensor *from(int ndim, const int64_t *shape, const float *v)
{
    return tensor_from_data(v, ndim, shape);
}
#define T(shape, ...) from(shape, (const float[]){__VA_ARGS__})

/* ---- numbers ------------------------------------------------------------------ */

START_TEST(test_as_rows)
{
    Tensor *r = tensor_as_rows(T(SHAPE(4), 1, 2, 3, 4));
    ck_assert_str_eq(tensor_shape_str(r), "(1,4)");
    r = tensor_as_rows(tensor_arange(0, 18, 1));
    ck_assert_str_eq(tensor_shape_str(r), "(1,18)");
    Tensor *cube = tensor_view(tensor_arange(0, 18, 1), SHAPE(2, 3, 3));
    r = tensor_as_rows(cube);
    ck_assert_str_eq(tensor_shape_str(r), "(6,3)");
    for (int i = 0; i < 18; i++) ck_assert_float_eq(r->data[i], (float)i);
    ck_assert_str_eq(tensor_shape_str(tensor_as_rows(tensor_scalar(2.5f))), "(1,1)");
    ck_assert_str_eq(tensor_shape_str(tensor_as_rows(tensor_zeros(SHAPE(3, 0)))), "(3,0)");
    /* Another layout: rows of the view, contiguous. */
    Tensor *t = tensor_t(tensor_view(tensor_arange(0, 6, 1), SHAPE(2, 3)));   /* (3, 2) */
    r = tensor_as_rows(t);
    ck_assert(tensor_is_contiguous(r));
    const float want[] = {0, 3, 1, 4, 2, 5};
    for (int i = 0; i < 6; i++) ck_assert_float_eq(r->data[i], want[i]);
    tensor_clear_error();
    ck_assert_ptr_null(tensor_as_rows(NULL));
    ck_assert_str_eq(tensor_error(), "");
}
END_TEST

START_TEST(test_max_abs_diff)
{
    Tensor *a = T(SHAPE(3), 1, -5, 2), *b = T(SHAPE(3), 1.5f, -1, 2);
    ck_assert_double_eq(tensor_max_abs_diff(a, b), 4.0);
    ck_assert_double_eq(tensor_max_abs_diff(a, NULL), 5.0);
    /* In double: the float difference 1 - (1 - 2^-24) is not rounded away. */
    ck_assert_double_eq(tensor_max_abs_diff(T(SHAPE(1), 1), T(SHAPE(1), 1 - 0x1p-24f)), 0x1p-24);
    /* Any layout, element by element. */
    Tensor *m = tensor_view(tensor_arange(0, 6, 1), SHAPE(2, 3));
    Tensor *mt = tensor_t(m);
    ck_assert_double_eq(tensor_max_abs_diff(mt, tensor_contiguous(mt)), 0.0);
    ck_assert_double_eq(tensor_max_abs_diff(mt, T(SHAPE(3, 2), 0, 3, 1, 4, 2, 4)), 1.0);
    /* A NaN is the answer, not skipped. */
    ck_assert(isnan(tensor_max_abs_diff(T(SHAPE(2), NAN, 0), T(SHAPE(2), 0, 9))));
    ck_assert(isnan(tensor_max_abs_diff(T(SHAPE(2), 9, NAN), NULL)));
    ck_assert(isnan(tensor_max_abs_diff(a, T(SHAPE(1, 3), 1, 2, 3))));
    ck_assert_str_eq(tensor_error(), "max_abs_diff: shapes (3) and (1,3) differ");
    tensor_clear_error();
    ck_assert(isnan(tensor_max_abs_diff(NULL, a)));
    ck_assert_str_eq(tensor_error(), "");
}
END_TEST

START_TEST(test_l2_norm)
{
    ck_assert_double_eq(tensor_l2_norm(T(SHAPE(2), 3, 4)), 5.0);
    Tensor *m = tensor_t(tensor_view(tensor_arange(0, 6, 1), SHAPE(2, 3)));
    ck_assert_double_eq_tol(tensor_l2_norm(m), sqrt(55.0), 1e-12);
    ck_assert_double_eq(tensor_l2_norm(tensor_zeros(SHAPE(0))), 0.0);
    ck_assert(isnan(tensor_l2_norm(NULL)));
}
END_TEST

/* ---- the pair and its verdict -------------------------------------------------- */

static TensorGradPair pair(const Tensor *autograd, const Tensor *numeric)
{
    TensorGradPair p;
    ck_assert_msg(tensor_grad_pair(autograd, numeric, &p) == 0, "%s", tensor_error());
    return p;
}

static const char *shown(const TensorGradPair *p, double v)
{
    static char buf[64];
    ck_assert_int_eq(tensor_grad_pair_format(p, v, buf, sizeof buf), (int)strlen(buf));
    return buf;
}

START_TEST(test_pair_same_digits)
{
    Tensor *a = T(SHAPE(1, 2), 1.23456f, -0.5f);
    TensorGradPair p = pair(a, T(SHAPE(1, 2), 1.23457f, -0.5f));
    ck_assert(p.same_digits && p.agree);
    ck_assert_int_eq(p.exp10, 0);
    ck_assert_int_eq(p.width, 7);                        /* "-0.5000" */
    ck_assert_str_eq(tensor_grad_pair_verdict(&p), "agree: the same digits");
    ck_assert_double_eq_tol(p.diff, 1e-5, 1e-7);
    ck_assert_str_eq(shown(&p, 1.23456), "1.2346");
    ck_assert_str_eq(shown(&p, -0.00001), "0.0000");     /* never "-0.0000" */
    ck_assert_str_eq(tensor_shape_str(p.autograd), "(1,2)");
}
END_TEST

START_TEST(test_pair_last_digit_and_disagree)
{
    TensorGradPair p = pair(T(SHAPE(1), 1.00004f), T(SHAPE(1), 1.00006f));
    ck_assert(!p.same_digits && p.agree);                /* "1.0000" and "1.0001" */
    ck_assert_str_eq(tensor_grad_pair_verdict(&p), "agree within the last printed digit");
    p = pair(T(SHAPE(1), 1.0f), T(SHAPE(1), 1.001f));
    ck_assert(!p.agree);
    ck_assert_str_eq(tensor_grad_pair_verdict(&p), "DISAGREE");
    /* A NaN or an infinity never agrees and prints as such. */
    p = pair(T(SHAPE(2), NAN, 1), T(SHAPE(2), 0, 1));
    ck_assert(!p.agree && isnan(p.diff));
    ck_assert_str_eq(tensor_grad_pair_verdict(&p), "DISAGREE");
    p = pair(T(SHAPE(2), INFINITY, 1), T(SHAPE(2), 0, 1));
    ck_assert(!p.agree);
    ck_assert_int_eq(p.exp10, 0);
    ck_assert_str_eq(shown(&p, INFINITY), "inf");
}
END_TEST

/* Scaled to the largest element when it is below 0.1 or at least 100. */
START_TEST(test_pair_scale)
{
    static const struct {
        float largest;
        int exp10;
        const char *shown;
    } cases[] = {
        {0.0032f, -3, "3.2000"}, {0.099f, -2, "9.9000"}, {0.1f, 0, "0.1000"},
        {99.5f, 0, "99.5000"}, {150.0f, 2, "1.5000"}, {0.0f, 0, "0.0000"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        Tensor *small = T(SHAPE(2), 0, -cases[i].largest / 2);
        TensorGradPair p = pair(small, T(SHAPE(2), cases[i].largest, 0));   /* the larger one */
        ck_assert_int_eq(p.exp10, cases[i].exp10);
        ck_assert_str_eq(shown(&p, cases[i].largest), cases[i].shown);
    }
}
END_TEST

/* Rows of their last dim must match; NULL in, -1 out. */
START_TEST(test_pair_shapes)
{
    TensorGradPair p;
    ck_assert_int_eq(tensor_grad_pair(T(SHAPE(3), 1, 2, 3), T(SHAPE(1, 3), 1, 2, 3), &p), 0);
    ck_assert_int_eq(tensor_grad_pair(tensor_zeros(SHAPE(2, 3, 3)), tensor_zeros(SHAPE(6, 3)), &p),
                     0);
    ck_assert_str_eq(tensor_shape_str(p.numeric), "(6,3)");
    ck_assert_int_eq(tensor_grad_pair(tensor_zeros(SHAPE(2, 3)), tensor_zeros(SHAPE(3, 2)), &p),
                     -1);
    ck_assert_str_eq(tensor_error(),
                     "grad_pair: autograd (2,3) and numeric (3,2) are not rows of one shape");
    tensor_clear_error();
    ck_assert_int_eq(tensor_grad_pair(NULL, tensor_zeros(SHAPE(2)), &p), -1);
    ck_assert_ptr_null(p.autograd);
    ck_assert_str_eq(tensor_error(), "");
    ck_assert_int_eq(tensor_grad_pair(tensor_zeros(SHAPE(2)), tensor_zeros(SHAPE(2)), NULL), -1);
    ck_assert_str_eq(tensor_error(), "grad_pair: result is NULL");
}
END_TEST

/* ---- the pair printed ------------------------------------------------------------ */

static const char *printed(const TensorGradPair *p)
{
    Capture c;
    ck_assert_int_eq(tensor_fprint_grad_pair(capture_begin(&c), p), 0);
    return capture_end(&c);
}

START_TEST(test_print_side_by_side)
{
    Tensor *a = T(SHAPE(2, 2), 1.0f, -0.5f, 0.25f, 2.0f);
    TensorGradPair p = pair(a, T(SHAPE(2, 2), 1.0f, -0.5f, 0.25f, 2.00001f));
    ck_assert_str_eq(printed(&p),
                     "    autograd               numeric\n"
                     "    [  1.0000 -0.5000 ]    [  1.0000 -0.5000 ]\n"
                     "    [  0.2500  2.0000 ]    [  0.2500  2.0000 ]\n");
    p = pair(tensor_mul_scalar(a, 1e-3f), tensor_mul_scalar(a, 1e-3f));
    ck_assert_str_eq(printed(&p),
                     "    autograd, x 1e-3       numeric, x 1e-3\n"
                     "    [  1.0000 -0.5000 ]    [  1.0000 -0.5000 ]\n"
                     "    [  0.2500  2.0000 ]    [  0.2500  2.0000 ]\n");
}
END_TEST

/* Eight columns do not fit twice in 80: one above the other.  More than eight
 * print eight at a time. */
START_TEST(test_print_stacked_and_in_chunks)
{
    Tensor *a = tensor_sub_scalar(tensor_div_scalar(tensor_arange(0, 10, 1), 10), 0.5f);
    TensorGradPair p = pair(tensor_narrow(a, 0, 0, 8), tensor_narrow(a, 0, 0, 8));
    ck_assert_str_eq(printed(&p),
                     "    autograd\n"
                     "    [ -0.5000 -0.4000 -0.3000 -0.2000 -0.1000  0.0000  0.1000  0.2000 ]\n"
                     "    numeric\n"
                     "    [ -0.5000 -0.4000 -0.3000 -0.2000 -0.1000  0.0000  0.1000  0.2000 ]\n");
    p = pair(a, a);
    ck_assert_str_eq(printed(&p),
                     "    columns 0 to 7:\n"
                     "    autograd\n"
                     "    [ -0.5000 -0.4000 -0.3000 -0.2000 -0.1000  0.0000  0.1000  0.2000 ]\n"
                     "    numeric\n"
                     "    [ -0.5000 -0.4000 -0.3000 -0.2000 -0.1000  0.0000  0.1000  0.2000 ]\n"
                     "    columns 8 to 9:\n"
                     "    autograd               numeric\n"
                     "    [  0.3000  0.4000 ]    [  0.3000  0.4000 ]\n");
}
END_TEST

/* ---- printing a tensor -------------------------------------------------------- */

START_TEST(test_fprint_indented)
{
    Capture c;
    ck_assert_int_eq(tensor_fprint_indented(capture_begin(&c), T(SHAPE(2, 2), 1, 2, 3, 4), 4), 0);
    ck_assert_str_eq(capture_end(&c), "    tensor([[1., 2.],\n"
                                      "            [3., 4.]])\n");
    /* A 3-d tensor's blank line between blocks stays blank. */
    Tensor *cube = tensor_view(tensor_arange(0, 4, 1), SHAPE(2, 1, 2));
    ck_assert_int_eq(tensor_fprint_indented(capture_begin(&c), cube, 2), 0);
    ck_assert_str_eq(capture_end(&c), "  tensor([[[0., 1.]],\n"
                                      "\n"
                                      "          [[2., 3.]]])\n");
}
END_TEST

START_TEST(test_fprint_fixture)
{
    Capture c;
    Tensor *m = tensor_view(tensor_arange(0, 9, 1), SHAPE(3, 3));
    ck_assert_int_eq(tensor_fprint_fixture(capture_begin(&c), m, "%snumeric.%s", "mse.", "d_x"),
                     0);
    ck_assert_str_eq(capture_end(&c), "@mse.numeric.d_x 3 3\n0 1 2 3 4 5 6 7\n8\n");
    ck_assert_int_eq(tensor_fprint_fixture(capture_begin(&c), tensor_scalar(0.1f), "loss"), 0);
    ck_assert_str_eq(capture_end(&c), "@loss\n0.100000001\n");
    ck_assert_int_eq(tensor_fprint_fixture(capture_begin(&c), tensor_t(m), "t"), 0);
    ck_assert_str_eq(capture_end(&c), "@t 3 3\n0 3 6 1 4 7 2 5\n8\n");
    /* float32 round-trips through the text, as the tests read it back. */
    tensor_manual_seed(3);
    Tensor *r = tensor_randn(SHAPE(5, 7));
    ck_assert_int_eq(tensor_fprint_fixture(capture_begin(&c), r, "r"), 0);
    ck_assert_tensor_close(testutil_dumped(capture_end(&c), "r"), r, 0, 0);
}
END_TEST

/* A NULL FILE, a stream that refuses writes, a tensor whose scope ended. */
START_TEST(test_printing_refusals)
{
    Tensor *t = T(SHAPE(1, 2), 1, 2);
    TensorGradPair p = pair(t, t);
    ck_assert_int_eq(tensor_fprint_fixture(NULL, t, "x"), -1);
    ck_assert_str_eq(tensor_error(), "fprint_fixture: FILE or name is NULL");
    ck_assert_int_eq(tensor_fprint_indented(NULL, t, 4), -1);
    ck_assert_str_eq(tensor_error(), "fprint_indented: FILE is NULL");
    ck_assert_int_eq(tensor_fprint_grad_pair(NULL, &p), -1);
    ck_assert_str_eq(tensor_error(), "fprint_grad_pair: FILE or pair is NULL");
    FILE *ro = fopen("/dev/null", "r");
    ck_assert_ptr_nonnull(ro);
    ck_assert_int_eq(tensor_fprint_fixture(ro, t, "x"), -1);
    ck_assert_str_eq(tensor_error(), "fprint_fixture: write failed");
    ck_assert_int_eq(tensor_fprint_indented(ro, t, 4), -1);
    ck_assert_str_eq(tensor_error(), "fprint_indented: write failed");
    ck_assert_int_eq(tensor_fprint_grad_pair(ro, &p), -1);
    ck_assert_str_eq(tensor_error(), "fprint_grad_pair: write failed");
    fclose(ro);
    TensorScope *s = tensor_scope_begin();
    TensorGradPair inner = pair(T(SHAPE(1), 1), T(SHAPE(1), 1));
    tensor_scope_end(s);
    Capture c;
    ck_assert_int_eq(tensor_fprint_grad_pair(capture_begin(&c), &inner), -1);
    ck_assert_str_eq(capture_end(&c), "");
    ck_assert(strstr(tensor_error(), "scope that has ended") != NULL);
    TensorGradPair empty = {0};
    tensor_clear_error();
    ck_assert_int_eq(tensor_fprint_grad_pair(stdout, &empty), -1);
    ck_assert_str_eq(tensor_error(), "fprint_grad_pair: the pair is empty");
}
END_TEST

static Suite *walkthrough_suite(void)
{
    Suite *s = suite_create("walkthrough");
    TCase *numbers = tcase_create("numbers");
    tcase_add_test(numbers, test_as_rows);
    tcase_add_test(numbers, test_max_abs_diff);
    tcase_add_test(numbers, test_l2_norm);
    suite_add_tcase(s, numbers);
    TCase *pairs = tcase_create("pairs");
    tcase_add_test(pairs, test_pair_same_digits);
    tcase_add_test(pairs, test_pair_last_digit_and_disagree);
    tcase_add_test(pairs, test_pair_scale);
    tcase_add_test(pairs, test_pair_shapes);
    tcase_add_test(pairs, test_print_side_by_side);
    tcase_add_test(pairs, test_print_stacked_and_in_chunks);
    suite_add_tcase(s, pairs);
    TCase *printing = tcase_create("printing");
    tcase_add_test(printing, test_fprint_indented);
    tcase_add_test(printing, test_fprint_fixture);
    tcase_add_test(printing, test_printing_refusals);
    suite_add_tcase(s, printing);
    return s;
}

TESTUTIL_MAIN(walkthrough_suite)
