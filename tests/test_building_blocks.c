/*
 * Issue 23's building blocks against PyTorch 1.13: ids, randint, gather,
 * cross_entropy and nll_loss with ignore_index and reductions,
 * bce_with_logits with reductions and pos_weight, comparisons, SiLU,
 * LeakyReLU and Softplus, and argmax / topk indices as printed.
 *
 * reference/building_blocks.txt, building_blocks_print.txt and randint.txt
 * are written by gen_building_blocks.py; its docstring gives each case.
 * Gradients are taken with the fixtures' seed (testutil_seed_like).
 *
 * Tolerances: the losses and activations compute PyTorch's formulas in its
 * float32 operation order, but exp and log differ from its vectorised ones
 * in the last bit: values and gradients within 2e-6 relative (plus 1e-7
 * absolute for gradients that come out of cancellation).  Ids, gather,
 * comparisons, argmax, topk and randint are exact.
 */
#include "testutil.h"

#include "core/tensor_internal.h"

#define BB "building_blocks.txt"
#define F(name) testutil_fixture(BB, name)

static char name_buf[8][128];
static int name_next;

/* printf into a rotating buffer: fixture names built from a case's name. */
static const char *nm(const char *fmt, ...) TENSOR__PRINTF(1, 2);
static const char *nm(const char *fmt, ...)
{
    char *s = name_buf[name_next++ % 8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s, sizeof name_buf[0], fmt, ap);
    va_end(ap);
    return s;
}

/* out's values and, after out.backward(seed), leaf's gradient, against the
 * fixture's "<case>" and "<case>.g". */
static void check_value_and_grad(Tensor *out, Tensor *leaf, const char *c, double rtol)
{
    ck_assert_msg(out != NULL, "%s: %s", c, tensor_error());
    /* atol: subnormal results (softplus(-100) = 3.8e-44) differ in their few bits */
    ck_assert_tensor_close(out, F(c), rtol ? 1e-40 : 0, rtol);
    ck_assert_int_eq(tensor_backward(out, testutil_seed_like(out)), 0);
    ck_assert_tensor_close(leaf->grad, F(nm("%s.g", c)), 1e-7, rtol);
}

static Tensor *leaf_of(const Tensor *t) { return tensor_requires_grad_(tensor_clone(t), true); }

/* ---- ids ----------------------------------------------------------------------- */

START_TEST(test_ids_round_trip)
{
    const int64_t ids[] = {15496, 11, 314, 716, 0, -16777216, 16777216, 50256};
    Tensor *t = tensor_from_ids(ids, SHAPE(2, 4));
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->ndim, 2);
    for (int i = 0; i < 8; i++) ck_assert_float_eq(t->data[i], (float)ids[i]);
    int64_t *back, n;
    /* read through strides: the transpose's row-major order */
    ck_assert_int_eq(tensor_to_ids(tensor_t(t), &back, &n), 0);
    ck_assert_int_eq(n, 8);
    for (int i = 0; i < 8; i++) ck_assert_int_eq(back[i], ids[(i % 2) * 4 + i / 2]);
    free(back);
    /* an empty tensor: no ids, and a pointer to free all the same */
    ck_assert_int_eq(tensor_to_ids(tensor_zeros(SHAPE(0, 3)), &back, &n), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_ptr_nonnull(back);
    free(back);
    /* -0.0 is the id 0 */
    ck_assert_int_eq(tensor_to_ids(tensor_scalar(-0.0f), &back, &n), 0);
    ck_assert_int_eq(back[0], 0);
    free(back);
}
END_TEST

START_TEST(test_ids_refused)
{
    int64_t *back = (int64_t *)1, n = 7;
    Tensor *t = tensor_from_data((const float[]){1, 2.5f}, SHAPE(2));
    ck_assert_int_eq(tensor_to_ids(t, &back, &n), -1);
    ck_assert_ptr_null(back);
    ck_assert_int_eq(n, 0);
    ck_assert_str_eq(tensor_error(), "to_ids: element 1 of (2) is 2.5, not a whole number within "
                                     "+-16777216 (where float ids are exact)");
    t = tensor_from_data((const float[]){16777218.0f, NAN}, SHAPE(2));
    ck_assert_int_eq(tensor_to_ids(t, &back, &n), -1);
    ck_assert_str_eq(tensor_error(), "to_ids: element 0 of (2) is 16777218, not a whole number "
                                     "within +-16777216 (where float ids are exact)");
    ck_assert_ptr_null(tensor_from_ids((const int64_t[]){1, -16777217}, SHAPE(2)));
    ck_assert_str_eq(tensor_error(), "from_ids: ids[1] = -16777217 is outside +-16777216, where "
                                     "float ids are exact");
}
END_TEST

/* ---- randint ---------------------------------------------------------------------- */

/* A bound in a case name: 0, 50257, m5 (-5), p24 (2^24), mp31 (-2^31), p32m1 (2^32 - 1). */
static int64_t bound(const char *s)
{
    bool neg = s[0] == 'm' && (s[1] == 'p' || (s[1] >= '0' && s[1] <= '9'));
    if (neg) s++;
    uint64_t v;
    if (s[0] == 'p') {
        char *end;
        v = UINT64_C(1) << strtol(s + 1, &end, 10);
        if (strncmp(end, "m1", 2) == 0) v -= 1;
    } else {
        v = strtoull(s, NULL, 10);
    }
    return (int64_t)(neg ? 0 - v : v);
}

typedef struct {
    char name[96];
    int64_t values[32];
    int64_t n;
} IntCase;

/* The cases of randint.txt: "@name dims" then one line of decimal values. */
static int read_randint(IntCase *cases, int cap)
{
    char path[1024], line[4096];
    snprintf(path, sizeof path, "%s/randint.txt", ATTOGRAD_REFERENCE_DIR);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] != '@') continue;
        ck_assert_int_lt(n, cap);
        IntCase *c = &cases[n++];
        ck_assert_int_eq(sscanf(line + 1, "%95s", c->name), 1);
        ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
        char *p = line, *end;
        for (c->n = 0; c->n < 32; c->n++, p = end) {
            long long v = strtoll(p, &end, 10);
            if (end == p) break;
            c->values[c->n] = v;
        }
    }
    fclose(f);
    return n;
}

static const IntCase *find_case(const IntCase *cases, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(cases[i].name, name)) return &cases[i];
    ck_abort_msg("randint.txt has no @%s", name);
    return NULL;
}

/* The two floats torch.rand(2) drew next, from "<name>.next" (written %.9g). */
static void check_next(TensorGenerator *g, const char *name)
{
    ck_assert_tensor_close(tensor_rand_gen(SHAPE(2), g),
                           testutil_fixture("randint.txt", nm("%s.next", name)), 0, 0);
}

/* Every randint.s* case: the draw rule (int64 values past 2^24 included)
 * through tensor__randint_draw, and tensor_randint itself where its bounds
 * are ids; then the words used, through the next two draws. */
START_TEST(test_randint_matches_torch)
{
    static IntCase cases[128];
    int n = read_randint(cases, 128), checked = 0, public_calls = 0;
    for (int i = 0; i < n; i++) {
        const IntCase *c = &cases[i];
        unsigned seed;
        char lo[32], hi[32];
        if (sscanf(c->name, "randint.s%u.%31[^_]_%31[^.]", &seed, lo, hi) != 3 ||
            strstr(c->name, ".next"))
            continue;
        int64_t low = bound(lo), high = bound(hi);
        TensorGenerator g;
        tensor_generator_seed(&g, seed);
        for (int64_t k = 0; k < c->n; k++)
            ck_assert_msg(tensor__randint_draw(&g, low, (uint64_t)high - (uint64_t)low) ==
                              c->values[k], "@%s element %lld", c->name, (long long)k);
        check_next(&g, c->name);
        if (low >= -(1 << 24) && high <= (1 << 24) + 1) {
            tensor_manual_seed(seed);
            Tensor *t = tensor_randint(low, high, SHAPE(c->n), NULL);
            ck_assert_ptr_nonnull(t);
            for (int64_t k = 0; k < c->n; k++) ck_assert_float_eq(t->data[k], (float)c->values[k]);
            check_next(NULL, c->name);
            public_calls++;
        }
        checked++;
    }
    ck_assert_int_eq(checked, 22);
    ck_assert_int_ge(public_calls, 9);
    /* (2, 3): the shape is the call's, the draws in row-major order */
    tensor_manual_seed(0);
    Tensor *t = tensor_randint(0, 10, SHAPE(2, 3), NULL);
    ck_assert_int_eq(t->ndim, 2);
    const IntCase *c = find_case(cases, n, "randint.s0.0_10.6_2x3");
    for (int k = 0; k < 6; k++) ck_assert_float_eq(t->data[k], (float)c->values[k]);
    /* the float32 call gives the same ids where the bounds are ids */
    const char *f32[] = {"randint_f32.s0.0_10.16", "randint_f32.s123.m5_5.16",
                         "randint_f32.s123.0_p24.16"};
    const int64_t f32_bounds[][3] = {{0, 0, 10}, {123, -5, 5}, {123, 0, 1 << 24}};
    for (int i = 0; i < 3; i++) {
        tensor_manual_seed((uint64_t)f32_bounds[i][0]);
        ck_assert_tensor_close(tensor_randint(f32_bounds[i][1], f32_bounds[i][2], SHAPE(16), NULL),
                               testutil_fixture("randint.txt", f32[i]), 0, 0);
        check_next(NULL, f32[i]);
    }
}
END_TEST

/* An explicit generator draws from itself only; the default one is untouched. */
START_TEST(test_randint_generators_interleave)
{
    static IntCase cases[128];
    int n = read_randint(cases, 128);
    TensorGenerator g;
    tensor_generator_seed(&g, 99);
    tensor_manual_seed(100);
    const IntCase *x = find_case(cases, n, "randint.gen99.0_p40.3");
    for (int k = 0; k < 3; k++)
        ck_assert_int_eq(tensor__randint_draw(&g, 0, UINT64_C(1) << 40), x->values[k]);
    Tensor *y = tensor_randint(0, 7, SHAPE(3), NULL);
    Tensor *z = tensor_randint(0, 7, SHAPE(2), &g);
    const IntCase *cy = find_case(cases, n, "randint.gen99.default100.0_7.3");
    const IntCase *cz = find_case(cases, n, "randint.gen99.0_7.2");
    for (int k = 0; k < 3; k++) ck_assert_float_eq(y->data[k], (float)cy->values[k]);
    for (int k = 0; k < 2; k++) ck_assert_float_eq(z->data[k], (float)cz->values[k]);
    check_next(&g, "randint.gen99");
    check_next(NULL, "randint.default100");
}
END_TEST

/* ---- gather --------------------------------------------------------------------- */

START_TEST(test_gather_matches_torch)
{
    const struct {
        const char *name;
        int dim;
    } cases[] = {{"1d", 0},    {"2d_d0", 0},   {"2d_d1", 1},  {"3d_d0", 0},
                 {"3d_d1", 1}, {"3d_d2", 2},   {"neg_dim", -1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *c = nm("gather.%s", cases[i].name);
        Tensor *x = leaf_of(F(nm("%s.x", c)));
        check_value_and_grad(tensor_gather(x, cases[i].dim, F(nm("%s.index", c))), x, c, 0);
    }
    /* x a transposed view */
    Tensor *x = leaf_of(F("gather.nc.x"));
    check_value_and_grad(tensor_gather(tensor_t(x), 1, F("gather.nc.index")), x, "gather.nc", 0);
    /* index a transposed view */
    x = leaf_of(F("gather.nc_index.x"));
    check_value_and_grad(tensor_gather(x, 1, tensor_t(F("gather.nc_index.index"))), x,
                         "gather.nc_index", 0);
    /* x broadcast by expand: the gradient sums into the (1, 4) base */
    x = leaf_of(F("gather.expanded.x"));
    check_value_and_grad(tensor_gather(tensor_expand(x, SHAPE(3, 4)), 1,
                                       F("gather.expanded.index")), x, "gather.expanded", 0);
    /* the cross-entropy pick: log_softmax(z).gather(1, y.unsqueeze(1)) */
    x = leaf_of(F("gather.ce_pick.x"));
    Tensor *y = tensor_unsqueeze(F("gather.ce_pick.index"), 1);
    check_value_and_grad(tensor_gather(tensor_log_softmax(x, 1), 1, y), x, "gather.ce_pick",
                         2e-6);
    ck_assert_str_eq(tensor_grad_fn_name(tensor_gather(x, 1, y)), "GatherBackward0");
}
END_TEST

/* PyTorch's bad indices (the fixture's #error lines), in attograd's words. */
START_TEST(test_gather_refuses_what_torch_refuses)
{
    Tensor *x = tensor_zeros(SHAPE(3, 4));
    ck_assert_ptr_null(tensor_gather(x, 1, tensor_from_data((const float[]){4}, SHAPE(1, 1))));
    ck_assert_str_eq(tensor_error(), "gather: index 4 at position 0 is out of range for dim 1 "
                                     "of (3,4) (expected 0 to 3)");
    ck_assert_ptr_null(tensor_gather(x, 1, tensor_from_data((const float[]){-1}, SHAPE(1, 1))));
    ck_assert_str_eq(tensor_error(), "gather: index -1 at position 0 is out of range for dim 1 "
                                     "of (3,4) (expected 0 to 3)");
    ck_assert_ptr_null(tensor_gather(x, 1, tensor_zeros(SHAPE(4, 1))));
    ck_assert_str_eq(tensor_error(), "gather: index (4,1) is larger than input (3,4) in dim 0 "
                                     "(4 > 3); only dim 1, the one gathered along, may be");
    ck_assert_ptr_null(tensor_gather(x, 1, tensor_zeros(SHAPE(2))));
    ck_assert_str_eq(tensor_error(),
                     "gather: index (2) has 1 dims; it needs as many as input (3,4), 2");
    ck_assert_ptr_null(tensor_gather(x, 2, tensor_zeros(SHAPE(1, 1))));
    ck_assert_str_eq(tensor_error(),
                     "gather: dim 2 out of range for a 2-d tensor (3,4) (expected -2 to 1)");
}
END_TEST

/* ---- cross_entropy, nll_loss --------------------------------------------------------- */

static const char *const reductions[] = {"mean", "sum", "none"};

static TensorLossOptions options(int r, int64_t ignore_index)
{
    return TENSOR_LOSS_OPTIONS(.ignore_index = ignore_index, .reduction = (TensorReduction)r);
}

/* ce.<case>.<reduction>: logits (or the (C, N) storage read as .t()), target. */
static void check_ce(const char *kind, int r, int64_t ignore_index, bool transposed)
{
    const char *c = nm("ce.%s.%s", kind, reductions[r]);
    Tensor *z = leaf_of(F(nm("%s.logits", c)));
    Tensor *out = tensor_cross_entropy_ex(transposed ? tensor_t(z) : z, F(nm("%s.target", c)),
                                          options(r, ignore_index));
    check_value_and_grad(out, z, c, 2e-6);
}

START_TEST(test_cross_entropy_matches_torch)
{
    for (int r = 0; r < 3; r++) {
        check_ce("plain", r, -100, false);
        check_ce("ignored", r, -100, false);
        check_ce("ii_m1", r, -1, false);
        check_ce("all_ignored", r, -100, false);
        check_ce("nd", r, -100, false);
        check_ce("all_ignored_nd", r, -100, false);
        check_ce("1d", r, -100, false);
        check_ce("1d_ignored", r, -100, false);
        check_ce("nc", r, -100, true);
    }
    /* all ignored: the mean is NaN (0 / 0) and the gradient zero, as PyTorch */
    Tensor *z = leaf_of(F("ce.all_ignored.mean.logits"));
    Tensor *loss = tensor_cross_entropy(z, F("ce.all_ignored.mean.target"));
    ck_assert(isnan(tensor_item(loss)));
    /* the plain call is the mean with ignore_index -100 */
    z = F("ce.ignored.mean.logits");
    Tensor *y = F("ce.ignored.mean.target");
    ck_assert_float_eq(tensor_item(tensor_cross_entropy(z, y)),
                       tensor_item(tensor_cross_entropy_ex(z, y, TENSOR_LOSS_OPTIONS())));
}
END_TEST

START_TEST(test_nll_loss_matches_torch)
{
    const char *kinds[] = {"plain", "ignored", "ii_m1", "all_ignored", "nd"};
    for (int r = 0; r < 3; r++)
        for (int k = 0; k < 5; k++) {
            const char *c = nm("nll.%s.%s", kinds[k], reductions[r]);
            Tensor *x = leaf_of(F(nm("%s.input", c)));
            Tensor *out = tensor_nll_loss_ex(x, F(nm("%s.target", c)),
                                             options(r, k == 2 ? -1 : -100));
            check_value_and_grad(out, x, c, 2e-6);
        }
    Tensor *x = F("nll.ignored.mean.input"), *y = F("nll.ignored.mean.target");
    ck_assert_float_eq(tensor_item(tensor_nll_loss(x, y)),
                       tensor_item(tensor_nll_loss_ex(x, y, TENSOR_LOSS_OPTIONS())));
}
END_TEST

/* PyTorch takes ignore_index 2 for 5 classes (fixture ce.ii_2.*) and drops
 * class 2's targets; attograd refuses, since padding that collides with a
 * class silently removes that class from training. */
START_TEST(test_ignore_index_that_is_a_class_is_refused)
{
    Tensor *z = F("ce.ii_2.mean.logits"), *y = F("ce.ii_2.mean.target");
    ck_assert_ptr_null(tensor_cross_entropy_ex(z, y, TENSOR_LOSS_OPTIONS(.ignore_index = 2)));
    ck_assert_str_eq(tensor_error(),
                     "cross_entropy: ignore_index 2 is a real class (0 to 4): its targets would "
                     "silently add nothing; use a value outside the classes, such as PyTorch's "
                     "default -100 (TENSOR_LOSS_OPTIONS() starts from it)");
    /* a literal, not the macro, starts at ignore_index 0: refused the same way */
    ck_assert_ptr_null(tensor_nll_loss_ex(z, y, (TensorLossOptions){0}));
    ck_assert_error_has(NULL, "nll_loss: ignore_index 0 is a real class (0 to 4)");
    /* past the last class is no class: allowed */
    ck_assert_ptr_nonnull(tensor_cross_entropy_ex(z, y, TENSOR_LOSS_OPTIONS(.ignore_index = 5)));
}
END_TEST

/* ---- bce_with_logits ---------------------------------------------------------------- */

START_TEST(test_bce_with_logits_matches_torch)
{
    Tensor *pw = F("bcel.pos_weight.mean.pos_weight");
    for (int r = 0; r < 3; r++) {
        const char *kinds[] = {"", "pos_weight.", "nc."};
        for (int k = 0; k < 3; k++) {
            const char *c = nm("bcel.%s%s", kinds[k], reductions[r]);
            Tensor *x = leaf_of(F(nm("%s.logits", c)));
            TensorLossOptions o = TENSOR_LOSS_OPTIONS(.reduction = (TensorReduction)r,
                                                      .pos_weight = k == 1 ? pw : NULL);
            Tensor *out = tensor_bce_with_logits_ex(k == 2 ? tensor_t(x) : x,
                                                    F(nm("%s.target", c)), o);
            check_value_and_grad(out, x, c, 2e-6);
        }
    }
    Tensor *z = tensor_zeros(SHAPE(3, 4));
    ck_assert_ptr_null(
        tensor_bce_with_logits_ex(z, z, TENSOR_LOSS_OPTIONS(.pos_weight = tensor_zeros(SHAPE(3)))));
    ck_assert_str_eq(tensor_error(), "binary_cross_entropy_with_logits: pos_weight (3) does not "
                                     "broadcast to input (3,4)");
}
END_TEST

/* ---- comparisons ------------------------------------------------------------------ */

typedef Tensor *(*CmpFn)(const Tensor *, const Tensor *);
typedef Tensor *(*CmpScalarFn)(const Tensor *, float);

START_TEST(test_comparisons_match_torch)
{
    const char *names[] = {"eq", "ne", "gt", "lt", "ge", "le"};
    CmpFn fns[] = {tensor_eq, tensor_ne, tensor_gt, tensor_lt, tensor_ge, tensor_le};
    CmpScalarFn sfns[] = {tensor_eq_scalar, tensor_ne_scalar, tensor_gt_scalar,
                          tensor_lt_scalar, tensor_ge_scalar, tensor_le_scalar};
    Tensor *a = tensor_requires_grad_(F("cmp.a"), true), *b = F("cmp.b");
    for (int i = 0; i < 6; i++) {
        Tensor *tt = fns[i](a, b);
        ck_assert_tensor_close(tt, F(nm("cmp.%s.tt", names[i])), 0, 0);
        ck_assert(!tt->requires_grad && !tt->grad_fn);   /* no gradient, as PyTorch */
        ck_assert_tensor_close(fns[i](a, F("cmp.row")), F(nm("cmp.%s.row", names[i])), 0, 0);
        ck_assert_tensor_close(fns[i](a, F("cmp.col")), F(nm("cmp.%s.col", names[i])), 0, 0);
        ck_assert_tensor_close(sfns[i](a, 0.5f), F(nm("cmp.%s.s", names[i])), 0, 0);
        ck_assert_tensor_close(fns[i](tensor_t(a), tensor_t(b)), F(nm("cmp.%s.nc", names[i])),
                               0, 0);
    }
    ck_assert_ptr_null(tensor_gt(a, tensor_zeros(SHAPE(2))));
    ck_assert_str_eq(tensor_error(), "gt: shapes (3,4) and (2) cannot broadcast (dim 1: 4 vs 2)");
}
END_TEST

START_TEST(test_accuracy_in_one_line)
{
    Tensor *logits = F("cmp.accuracy.logits"), *y = F("cmp.accuracy.y");
    Tensor *accuracy = tensor_mean(tensor_eq(tensor_argmax(logits, -1, false), y));
    ck_assert_tensor_close(accuracy, F("cmp.accuracy"), 0, 0);
}
END_TEST

/* ---- activations -------------------------------------------------------------------- */

static Tensor *silu(const Tensor *x) { return tensor_silu(x); }
static Tensor *leaky(const Tensor *x) { return tensor_leaky_relu(x, 0.01f); }
static Tensor *leaky_02(const Tensor *x) { return tensor_leaky_relu(x, 0.2f); }
static Tensor *softplus(const Tensor *x) { return tensor_softplus(x, 1.0f, 20.0f); }
static Tensor *softplus_b2_t5(const Tensor *x) { return tensor_softplus(x, 2.0f, 5.0f); }

START_TEST(test_activations_match_torch)
{
    const struct {
        const char *name;
        Tensor *(*fn)(const Tensor *);
        const char *grad_fn;
    } acts[] = {{"silu", silu, "SiluBackward0"},
                {"leaky_relu", leaky, "LeakyReluBackward0"},
                {"leaky_relu_0.2", leaky_02, "LeakyReluBackward0"},
                {"softplus", softplus, "SoftplusBackward0"},
                {"softplus_b2_t5", softplus_b2_t5, "SoftplusBackward0"}};
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        Tensor *x = leaf_of(F("act.x"));
        Tensor *y = acts[i].fn(x);
        ck_assert_str_eq(tensor_grad_fn_name(y), acts[i].grad_fn);
        check_value_and_grad(y, x, nm("act.%s", acts[i].name), 2e-6);
        Tensor *xt = leaf_of(F("act.xt"));
        check_value_and_grad(acts[i].fn(tensor_t(xt)), xt, nm("act.%s.nc", acts[i].name), 2e-6);
    }
    /* the threshold switch is exact: beta x > threshold gives x itself */
    Tensor *y = tensor_softplus(F("act.x"), 2.0f, 5.0f);
    ck_assert_float_eq(y->data[7], nextafterf(2.5f, INFINITY));
    ck_assert_float_ne(y->data[6], 2.5f);
}
END_TEST

/* ---- argmax and topk indices, as torch prints an int64 tensor ------------------------ */

/* The cases of building_blocks_print.txt: "@name dims", values, ": ids",
 * "<<<", torch's repr, ">>>". */
typedef struct {
    char name[64];
    char *repr;
} PrintCase;

static int read_prints(PrintCase *cases, int cap, char **text)
{
    size_t len;
    char path[1024];
    snprintf(path, sizeof path, "%s/building_blocks_print.txt", ATTOGRAD_REFERENCE_DIR);
    char *p = *text = testutil_read_file(path, &len);
    int n = 0;
    while ((p = strstr(p, "\n@"))) {
        ck_assert_int_lt(n, cap);
        ck_assert_int_eq(sscanf(p + 2, "%63s", cases[n].name), 1);
        char *open = strstr(p, "\n<<<\n"), *close = strstr(p, "\n>>>\n");
        ck_assert(open && close && open < close);
        *close = '\0';
        cases[n++].repr = open + 5;
        p = close + 4;
        *p = '\n';
    }
    return n;
}

/* argmax.<case>: the call the case's name says, on "argmax.<case>.x". */
static Tensor *argmax_case(const char *c, const Tensor *x)
{
    if (!strcmp(c, "dim0")) return tensor_argmax(x, 0, false);
    if (!strcmp(c, "keepdim")) return tensor_argmax(x, 1, true);
    if (!strcmp(c, "all")) return tensor_argmax(tensor_flatten(x), 0, false);
    if (!strcmp(c, "3d_last")) return tensor_argmax(x, -1, false);
    if (!strcmp(c, "nc")) return tensor_argmax(tensor_t(x), 1, false);
    return tensor_argmax(x, 1, false);   /* dim1, ties, nan, wide, 3d_dim1 */
}

START_TEST(test_argmax_topk_print_as_torch)
{
    static PrintCase cases[64];
    char *text;
    int n = read_prints(cases, 64, &text), topks = 0;
    for (int i = 0; i < n; i++) {
        char c[64];
        int64_t k;
        Tensor *idx;
        if (sscanf(cases[i].name, "argmax.%63s", c) == 1) {
            idx = argmax_case(c, F(nm("%s.x", cases[i].name)));
        } else {
            ck_assert_int_eq(sscanf(cases[i].name, "topk.%63[^.].indices", c), 1);
            k = strtoll(strrchr(c, 'k') + 1, NULL, 10);
            Tensor *v = tensor_topk(F(nm("topk.%s.x", c)), k, &idx);
            ck_assert_tensor_close(v, F(nm("topk.%s.values", c)), 0, 0);
            topks++;
        }
        char *s = tensor_format_ids(idx);
        ck_assert_msg(s && !strcmp(s, cases[i].repr), "@%s:\n--- attograd\n%s\n--- torch\n%s",
                      cases[i].name, s ? s : tensor_error(), cases[i].repr);
        free(s);
    }
    ck_assert_int_eq(n, 17);
    ck_assert_int_eq(topks, 7);
    free(text);
}
END_TEST

/* topk's values carry a gradient to the places they came from. */
START_TEST(test_topk_gradient)
{
    Tensor *x = tensor_requires_grad_(
        tensor_from_data((const float[]){1, 3, 3, 0, 3, 2, 2, 2, 2, 2}, SHAPE(2, 5)), true);
    Tensor *idx, *v = tensor_topk(x, 2, &idx);
    ck_assert_str_eq(tensor_grad_fn_name(v), "TopkBackward0");
    ck_assert_int_eq(tensor_backward(tensor_sum(tensor_mul_scalar(v, 3)), NULL), 0);
    for (int r = 0; r < 2; r++)
        for (int j = 0; j < 5; j++) {
            bool picked = idx->data[r * 2] == j || idx->data[r * 2 + 1] == j;
            ck_assert_float_eq(x->grad->data[r * 5 + j], picked ? 3.0f : 0.0f);
        }
    /* torch's order of the ties: [2, 4], not [1, 2] */
    ck_assert_float_eq(idx->data[0], 2);
    ck_assert_float_eq(idx->data[1], 4);
}
END_TEST

static Suite *building_blocks_suite(void)
{
    Suite *s = suite_create("building_blocks");
    TCase *tc = tcase_create("torch");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_ids_round_trip);
    tcase_add_test(tc, test_ids_refused);
    tcase_add_test(tc, test_randint_matches_torch);
    tcase_add_test(tc, test_randint_generators_interleave);
    tcase_add_test(tc, test_gather_matches_torch);
    tcase_add_test(tc, test_gather_refuses_what_torch_refuses);
    tcase_add_test(tc, test_cross_entropy_matches_torch);
    tcase_add_test(tc, test_nll_loss_matches_torch);
    tcase_add_test(tc, test_ignore_index_that_is_a_class_is_refused);
    tcase_add_test(tc, test_bce_with_logits_matches_torch);
    tcase_add_test(tc, test_comparisons_match_torch);
    tcase_add_test(tc, test_accuracy_in_one_line);
    tcase_add_test(tc, test_activations_match_torch);
    tcase_add_test(tc, test_argmax_topk_print_as_torch);
    tcase_add_test(tc, test_topk_gradient);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(building_blocks_suite)
