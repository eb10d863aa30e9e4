/*
 * The ops a PyTorch user reaches for when porting the book's code, against
 * PyTorch 1.13 (tests/reference/porting.txt, written by gen_porting.py):
 * each case's inputs come from the file, its output and the gradients of
 * sum(out * w) (w: testutil_seed_like, as the script) are compared; and
 * the book's appendix-D learning-rate schedule.
 *
 * Tolerances: atol 1e-6 with rtol 1e-6 for the ops that compute the same
 * float32 operations as PyTorch (selection, negation, scalar arithmetic,
 * sums of a few elements whose order may differ by one rounding); 1e-5
 * relative where exp, log or sqrt meet (glibc against SLEEF, a few ulps).
 */
#include "testutil.h"

#include <math.h>

#define FIX(name) testutil_fixture("porting.txt", name)

typedef Tensor *(*CaseFn)(Tensor *const *x);

/* Runs case name on its n inputs; inputs listed in no_grad get none. */
static void check_case(const char *name, CaseFn fn, int n, double rtol, bool first_no_grad)
{
    char key[64];
    Tensor *x[3];
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "%s_in%d", name, i);
        x[i] = FIX(key);
        if (!(i == 0 && first_no_grad)) tensor_requires_grad_(x[i], true);
    }
    Tensor *out = fn(x);
    ck_assert_msg(out != NULL, "%s: %s", name, tensor_error());
    snprintf(key, sizeof key, "%s_out", name);
    ck_assert_tensor_close(out, FIX(key), 1e-6, rtol);
    Tensor *loss = tensor_sum(tensor_mul(out, testutil_seed_like(out)));
    ck_assert_int_eq(tensor_backward(loss, NULL), 0);
    for (int i = first_no_grad; i < n; i++) {
        snprintf(key, sizeof key, "%s_grad%d", name, i);
        ck_assert_msg(x[i]->grad != NULL, "%s: input %d has no grad", name, i);
        ck_assert_tensor_close(x[i]->grad, FIX(key), 1e-6, rtol);
    }
}

static Tensor *f_rsub(Tensor *const *x) { return tensor_rsub_scalar(x[0], 1); }
static Tensor *f_rdiv(Tensor *const *x) { return tensor_rdiv_scalar(x[0], 10); }
static Tensor *f_reciprocal(Tensor *const *x) { return tensor_reciprocal(x[0]); }
static Tensor *f_where(Tensor *const *x) { return tensor_where(x[0], x[1], x[2]); }
static Tensor *f_maximum(Tensor *const *x) { return tensor_maximum(x[0], x[1]); }
static Tensor *f_minimum(Tensor *const *x) { return tensor_minimum(x[0], x[1]); }
static Tensor *f_sum_dims(Tensor *const *x) { return tensor_sum_dims(x[0], IDX(0, 2), false); }
static Tensor *f_mean_dims(Tensor *const *x) { return tensor_mean_dims(x[0], IDX(-1, 0), true); }
static Tensor *f_amax_02(Tensor *const *x) { return tensor_amax(x[0], IDX(0, 2), false); }
static Tensor *f_amax_1(Tensor *const *x) { return tensor_amax(x[0], IDX(1), true); }
static Tensor *f_min_dim(Tensor *const *x) { return tensor_min_dim(x[0], 1, false, NULL); }
static Tensor *f_lse(Tensor *const *x) { return tensor_logsumexp(x[0], -1, false); }
static Tensor *f_lse_keep(Tensor *const *x) { return tensor_logsumexp(x[0], 0, true); }
static Tensor *f_std_1(Tensor *const *x) { return tensor_std_dim(x[0], 1, 1, false); }
static Tensor *f_std_all(Tensor *const *x) { return tensor_std(x[0], 0); }
static Tensor *f_squeeze(Tensor *const *x) { return tensor_mul_scalar(tensor_squeeze_all(x[0]), 2); }
static Tensor *f_bce(Tensor *const *x) { return tensor_binary_cross_entropy(x[0], x[1]); }
static Tensor *f_bce_logits(Tensor *const *x) { return tensor_bce_with_logits(x[0], x[1]); }

START_TEST(test_arithmetic_and_selection)
{
    check_case("rsub", f_rsub, 1, 1e-6, false);
    check_case("rdiv", f_rdiv, 1, 1e-6, false);
    check_case("reciprocal", f_reciprocal, 1, 1e-6, false);
    check_case("where", f_where, 3, 1e-6, true);
    check_case("where_bcast", f_where, 3, 1e-6, true);
    check_case("maximum", f_maximum, 2, 1e-6, false);   /* ties planted: half each */
    check_case("minimum", f_minimum, 2, 1e-6, false);
    ck_assert_str_eq(tensor_grad_fn_name(f_rsub((Tensor *[]){tensor_requires_grad_(
                         tensor_ones(SHAPE(2)), true)})), "RsubBackward1");
}
END_TEST

START_TEST(test_reductions)
{
    check_case("sum_dims", f_sum_dims, 1, 1e-6, false);
    check_case("mean_dims_keep", f_mean_dims, 1, 1e-6, false);
    check_case("amax_02", f_amax_02, 1, 1e-6, false);   /* a tie: the gradient shared */
    check_case("amax_1_keep", f_amax_1, 1, 1e-6, false);
    check_case("min_dim", f_min_dim, 1, 1e-6, false);
    check_case("logsumexp", f_lse, 1, 1e-5, false);
    check_case("logsumexp_keep", f_lse_keep, 1, 1e-5, false);
    check_case("std_1", f_std_1, 1, 1e-5, false);
    check_case("std_all_biased", f_std_all, 1, 1e-5, false);
    Tensor *a = FIX("min_dim_in0");
    ck_assert_tensor_close(tensor_argmin(a, 1, false), FIX("argmin_1"), 0, 0);
    ck_assert_tensor_close(tensor_argmin(a, 0, true), FIX("argmin_0_keep"), 0, 0);
    /* An all -inf row: logsumexp is -inf (PyTorch's), not NaN. */
    Tensor *inf = tensor_full(-INFINITY, SHAPE(1, 3));
    ck_assert(isinf(tensor_item(tensor_logsumexp(inf, 1, false))));
}
END_TEST

START_TEST(test_shape_and_losses)
{
    check_case("squeeze_all", f_squeeze, 1, 1e-6, false);
    ck_assert_int_eq(tensor_squeeze_all(tensor_ones(SHAPE(1, 3, 1, 2)))->ndim, 2);
    ck_assert_int_eq(tensor_squeeze_all(tensor_ones(SHAPE(1, 1)))->ndim, 0);
    check_case("bce", f_bce, 2, 1e-5, false);
    check_case("bce_logits", f_bce_logits, 2, 1e-5, false);
    /* log clamped at -100: p = 0 with t = 1 gives 100, not inf. */
    Tensor *edge = tensor_binary_cross_entropy(tensor_from_data((const float[]){0, 1, 1}, SHAPE(3)),
                                               tensor_from_data((const float[]){1, 0, 1}, SHAPE(3)));
    ck_assert_tensor_close(edge, FIX("bce_edges"), 1e-5, 1e-6);
}
END_TEST

/* The values after "@name n" in porting.txt, as doubles (the schedule's
 * are Python floats, printed with repr). */
static int read_doubles(const char *name, double *out, int cap)
{
    char path[1024], line[128];
    snprintf(path, sizeof path, "%s/porting.txt", ATTOGRAD_REFERENCE_DIR);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    int n = -1;
    while (n < 0 && fgets(line, sizeof line, f))
        if (line[0] == '@' && strncmp(line + 1, name, strlen(name)) == 0) n = atoi(line + 2 + strlen(name));
    ck_assert_int_gt(n, 0);
    ck_assert_int_le(n, cap);
    for (int i = 0; i < n; i++) ck_assert_int_eq(fscanf(f, "%lf", &out[i]), 1);
    fclose(f);
    return n;
}

/* The book's appendix D schedule, step by step, to the last bit of a double
 * but for cos (within 1e-15 relative). */
START_TEST(test_lr_warmup_cosine)
{
    double want[128];
    int n = read_doubles("lr_warmup_cosine", want, 128);
    WarmupCosineOptions s = OPTIM_WARMUP_COSINE_OPTIONS(.initial_lr = 3e-5, .min_lr = 3e-6,
                                                        .warmup_steps = 18, .total_steps = 90);
    ck_assert_int_eq(n, 90);
    Tensor *w = tensor_keep(tensor_ones(SHAPE(2)));
    tensor_requires_grad_(w, true);
    Optimizer *o = optim_adamw(1, &w, OPTIM_ADAMW_OPTIONS(.lr = 5e-4)); /* the peak */
    OptimScheduler *sched = optim_warmup_cosine_lr(o, s);
    ck_assert_ptr_nonnull(sched);
    for (int step = 0; step < n; step++) {
        double lr = optim_get_lr(o, 0);
        ck_assert_msg(fabs(lr - want[step]) <= 1e-15 * want[step], "step %d: %.17g, want %.17g",
                      step, lr, want[step]);
        ck_assert(optim_scheduler_last_lr(sched, 0) == lr);
        ck_assert_int_eq(optim_scheduler_step(sched), 0);
    }
    optim_scheduler_free(sched);
    ck_assert_int_eq(optim_set_lr(o, 0, want[50]), 0);
    ck_assert(optim_get_lr(o, 0) == want[50]);
    ck_assert_int_eq(optim_set_lr(o, 0, -1), -1);
    ck_assert_str_eq(tensor_error(), "AdamW: invalid learning rate -1");
    tensor_clear_error();
    ck_assert(optim_get_lr(o, 0) == want[50]);
    optim_free(o);
    Optimizer *sgd = optim_sgd(1, &w, optim_sgd_defaults(0.1));
    ck_assert_int_eq(optim_set_lr(sgd, 0, 0.5), 0);
    ck_assert(sgd->groups[0].sgd.lr == 0.5 && optim_get_lr(sgd, 0) == 0.5);
    WarmupCosineOptions bad = s;
    bad.total_steps = 18;
    ck_assert_ptr_null(optim_warmup_cosine_lr(sgd, bad));
    ck_assert_ptr_nonnull(strstr(tensor_error(), "warmup 18, total 18"));
    tensor_clear_error();
    optim_free(sgd);
    tensor_free(w);
}
END_TEST

START_TEST(test_bad_input)
{
    Tensor *a = tensor_ones(SHAPE(2, 3)), *b = tensor_ones(SHAPE(3, 2));
    ck_assert_error_has(tensor_where(tensor_ones(SHAPE(4)), a, a), "where: shapes (4) and (2,3)");
    ck_assert_error_has(tensor_maximum(a, b), "maximum: shapes (2,3) and (3,2) cannot broadcast");
    ck_assert_error_has(tensor_minimum(a, b), "minimum: shapes (2,3) and (3,2)");
    ck_assert_error_has(tensor_sum_dims(a, IDX(0, 0), false), "sum_dims: dim 0 appears more than once");
    ck_assert_error_has(tensor_mean_dims(a, IDX(2), false), "mean_dims: dim 2 out of range");
    ck_assert_error_has(tensor_amax(tensor_ones(SHAPE(2, 0)), IDX(1), false), "amax: dim 1 of (2,0) has size 0");
    ck_assert_error_has(tensor_min_dim(tensor_ones(SHAPE(0, 2)), 0, false, NULL), "min_dim: dim 0 of (0,2)");
    ck_assert_error_has(tensor_argmin(a, 5, false), "argmin: dim 5 out of range");
    ck_assert_error_has(tensor_logsumexp(a, -3, false), "amax: dim -3 out of range");
    ck_assert_error_has(tensor_binary_cross_entropy(tensor_full(1.5f, SHAPE(2)), tensor_ones(SHAPE(2))),
                 "holds 1.5 at element 0");
    ck_assert_error_has(tensor_binary_cross_entropy(a, b), "input (2,3) and target (3,2)");
    ck_assert_error_has(tensor_bce_with_logits(a, b), "binary_cross_entropy_with_logits: input (2,3)");
    ck_assert_ptr_null(tensor_where(NULL, a, a));
    ck_assert_ptr_null(tensor_reciprocal(NULL));
    ck_assert_ptr_null(tensor_squeeze_all(NULL));
    ck_assert_ptr_null(tensor_amax(NULL, 0, NULL, false));
}
END_TEST

static Suite *porting_suite(void)
{
    Suite *s = suite_create("porting");
    TCase *tc = tcase_create("porting");
    tcase_add_test(tc, test_arithmetic_and_selection);
    tcase_add_test(tc, test_reductions);
    tcase_add_test(tc, test_shape_and_losses);
    tcase_add_test(tc, test_lr_warmup_cosine);
    tcase_add_test(tc, test_bad_input);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(porting_suite)
