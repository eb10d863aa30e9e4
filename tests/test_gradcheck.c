/*
 * Runs the gradcheck table (tests/gradcheck_*.c) and checks that every op in
 * tensor/core/ops.def has at least one row, so an op cannot land without one.
 *
 * Tolerances: float32 forward values, central differences with eps = 1e-2
 * have truncation error O(eps^2 * f''') and rounding error about
 * 1e-7 * |L| / eps; for the O(1) inputs used here both stay below the
 * default atol 1e-3 + rtol 1e-2.  Rows with sharper curvature say so.
 */
#include "gradcheck.h"
#include "testutil.h"

static const GradcheckRow *const families[] = {
#define FAMILY(f) gradcheck_##f,
#define OP(id, name, backward)
#include "core/ops.def"
#undef OP
#undef FAMILY
};
enum { N_FAMILIES = sizeof families / sizeof families[0] };

static const GradcheckRow *row_at(int k)
{
    for (int f = 0; f < N_FAMILIES; f++) {
        for (const GradcheckRow *r = families[f]; r->name; r++)
            if (k-- == 0) return r;
    }
    return NULL;
}

static int row_count(void)
{
    int n = 0;
    while (row_at(n)) n++;
    return n;
}

/* Parses "3,4", "4,3T", "3,4S" or "" into a leaf input requiring grad. */
static Tensor *make_input(const char *spec, float lo, float hi, TensorGenerator *g)
{
    int64_t shape[TENSOR_MAX_DIMS];
    int ndim = 0;
    const char *p = spec;
    while (*p && *p != 'T' && *p != 'S') {
        char *end;
        shape[ndim++] = strtoll(p, &end, 10);
        p = *end == ',' ? end + 1 : end;
    }
    Tensor *x;
    if (*p == 'T') {
        ck_assert_int_ge(ndim, 2);
        int64_t s[TENSOR_MAX_DIMS];
        memcpy(s, shape, sizeof s);
        s[ndim - 1] = shape[ndim - 2];
        s[ndim - 2] = shape[ndim - 1];
        x = tensor_transpose(tensor_uniform_(tensor_empty(ndim, s), lo, hi, g), -1, -2);
    } else if (*p == 'S') {
        int64_t s[TENSOR_MAX_DIMS];
        memcpy(s, shape, sizeof s);
        s[ndim - 1] = 8;
        ck_assert_int_le(shape[ndim - 1], 6);
        x = tensor_narrow(tensor_uniform_(tensor_empty(ndim, s), lo, hi, g), ndim - 1, 2,
                          shape[ndim - 1]);
    } else {
        x = tensor_uniform_(tensor_empty(ndim, shape), lo, hi, g);
    }
    ck_assert_msg(x != NULL, "input %s: %s", spec, tensor_error());
    if (*p) ck_assert(!tensor_is_contiguous(x) || x->numel <= 1);
    return tensor_requires_grad_(tensor_detach(x), true);
}

/* Each row draws its inputs from a seed of its own name (FNV-1a), so adding
 * or moving a row never changes what the other rows draw. */
static uint64_t row_seed(const char *name)
{
    uint64_t h = 14695981039346656037ull;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return h;
}

START_TEST(test_row)
{
    const GradcheckRow *r = row_at(_i);
    TensorGenerator g;
    tensor_generator_seed(&g, row_seed(r->name));
    float lo = r->lo, hi = r->hi;
    if (lo == 0 && hi == 0) lo = -1, hi = 1;
    Tensor *in[4] = {0};
    for (int i = 0; i < r->n; i++) {
        in[i] = make_input(r->shapes[i], lo, hi, &g);
        if (r->no_grad[i]) in[i]->requires_grad = false;
    }
    TensorGradcheckResult res;
    int ok = tensor_gradcheck(r->fn, NULL, r->n, in, r->eps ? r->eps : 1e-2,
                              r->atol ? r->atol : 1e-3, r->rtol ? r->rtol : 1e-2, &res);
    ck_assert_msg(ok >= 0, "row '%s': %s", r->name, tensor_error());
    ck_assert_msg(ok == 1, "row '%s': %s", r->name, res.report);
    /* The output must be the row's op's own node: the row tests that op's
     * backward, and test_every_op_has_a_row can trust r->op. */
    Tensor *y = r->fn(in, NULL);
    ck_assert_msg(y && y->grad_fn, "row '%s': output has no grad_fn", r->name);
    ck_assert_msg(y->grad_fn->op == r->op, "row '%s': output made by op %d (%s), not op %d (%s)",
                  r->name, (int)y->grad_fn->op, y->grad_fn->name, (int)r->op,
                  tensor__op_names[r->op]);
}
END_TEST

START_TEST(test_every_op_has_a_row)
{
    bool covered[OP_COUNT] = {0};
    for (int k = 0; row_at(k); k++) covered[row_at(k)->op] = true;
    for (int op = 0; op < OP_COUNT; op++)
        ck_assert_msg(covered[op], "op %d (%s) has no gradcheck row", op, tensor__op_names[op]);
}
END_TEST

START_TEST(test_every_op_has_a_name_and_backward)
{
    for (int op = 0; op < OP_COUNT; op++) {
        ck_assert_ptr_nonnull(tensor__op_names[op]);
        ck_assert_msg(tensor__op_backward[op] != NULL, "op %d has no backward", op);
    }
}
END_TEST

static Tensor *square_sum(Tensor *const *in, void *ctx)
{
    (void)ctx;
    return tensor_mul(in[0], in[0]);
}

/* A wrong backward must be caught: the check itself can fail. */
static Tensor *wrong_gradient(Tensor *const *in, void *ctx)
{
    (void)ctx;
    /* detach one factor: forward is x*x, backward sees only one x */
    return tensor_mul(in[0], tensor_detach(in[0]));
}

START_TEST(test_gradcheck_catches_a_wrong_backward)
{
    Tensor *x = tensor_requires_grad_(tensor_arange(1, 4, 1), true);
    TensorGradcheckResult res;
    ck_assert_int_eq(tensor_gradcheck(square_sum, NULL, 1, &x, 1e-2, 1e-3, 1e-2, &res), 1);
    ck_assert_int_eq(tensor_gradcheck(wrong_gradient, NULL, 1, &x, 1e-2, 1e-3, 1e-2, &res), 0);
    ck_assert(strstr(res.report, "MISMATCH") != NULL);
}
END_TEST

/* The report names an input by its full dotted name, up to 200 characters;
 * a longer name keeps its first 197 and "...". */
START_TEST(test_report_names_the_input_in_full)
{
    Tensor *x = tensor_set_name(tensor_requires_grad_(tensor_arange(1, 4, 1), true),
                                "trf_blocks.11.att.W_key.weight");
    TensorGradcheckResult res;
    ck_assert_int_eq(tensor_gradcheck(wrong_gradient, NULL, 1, &x, 1e-2, 1e-3, 1e-2, &res), 0);
    ck_assert_msg(strstr(res.report, "MISMATCH at input 0 \"trf_blocks.11.att.W_key.weight\" (3) "
                                     "element [") == res.report,
                  "%s", res.report);
    char name[260];
    memset(name, 'a', 250);
    name[250] = '\0';
    tensor_set_name(x, name);
    ck_assert_int_eq(tensor_gradcheck(wrong_gradient, NULL, 1, &x, 1e-2, 1e-3, 1e-2, &res), 0);
    char want[260];
    snprintf(want, sizeof want, "MISMATCH at input 0 \"%.197s...\" (3) element", name);
    ck_assert_msg(strstr(res.report, want) == res.report, "%s", res.report);
    ck_assert_ptr_nonnull(strstr(res.report, "allowed"));   /* the numbers still fit */
    name[200] = '\0';
    tensor_set_name(x, name);
    ck_assert_int_eq(tensor_gradcheck(wrong_gradient, NULL, 1, &x, 1e-2, 1e-3, 1e-2, &res), 0);
    snprintf(want, sizeof want, "MISMATCH at input 0 \"%.200s\" (3)", name);
    ck_assert_msg(strstr(res.report, want) == res.report, "%s", res.report);
}
END_TEST

static Suite *gradcheck_suite(void)
{
    Suite *s = suite_create("gradcheck");
    TCase *tc = tcase_create("table");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_row, 0, row_count());
    tcase_add_test(tc, test_every_op_has_a_row);
    tcase_add_test(tc, test_every_op_has_a_name_and_backward);
    tcase_add_test(tc, test_gradcheck_catches_a_wrong_backward);
    tcase_add_test(tc, test_report_names_the_input_in_full);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(gradcheck_suite)
