/*
 * Random numbers and dropout against PyTorch 1.13 (tests/reference/random.txt,
 * written by gen_random.py; each case below repeats its seed and calls).
 *
 * Tolerance: none.  PyTorch's CPU kernels are reproduced operation for
 * operation, so every value is compared bit for bit, randn included (the
 * double Box-Muller path uses the same libm as the installed torch).
 */
#include "core/tensor_internal.h"
#include "testutil.h"

#include <stdint.h>

#define FIXTURE "random.txt"

/* Element i (row-major logical order) of a possibly strided tensor. */
static float logical_at(const Tensor *t, int64_t i)
{
    int64_t off = 0;
    for (int d = t->ndim - 1; d >= 0; d--) {
        off += (i % t->shape[d]) * t->stride[d];
        i /= t->shape[d];
    }
    return t->data[off];
}

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* got equals fixture @name bit for bit, shape included. */
#define ck_assert_fixture(got, name) assert_fixture((got), (name), __FILE__, __LINE__)
static void assert_fixture(const Tensor *got, const char *name, const char *file, int line)
{
    ck_assert_msg(got != NULL, "%s:%d: @%s: result is NULL (%s)", file, line, name,
                  tensor_error());
    Tensor *want = testutil_fixture(FIXTURE, name);
    ck_assert_msg(tensor_same_shape(got, want), "%s:%d: @%s: shape %s, want %s", file, line,
                  name, tensor_shape_str(got), tensor_shape_str(want));
    for (int64_t i = 0; i < want->numel; i++) {
        float g = logical_at(got, i), w = want->data[i];
        ck_assert_msg(float_bits(g) == float_bits(w), "%s:%d: @%s[%lld]: %.9g, want %.9g", file,
                      line, name, (long long)i, (double)g, (double)w);
    }
}

/* An uninitialised (rows, cols) view with strides (1, rows): a transposed (cols, rows). */
static Tensor *transposed(int64_t rows, int64_t cols)
{
    Tensor *base = tensor_empty(SHAPE(cols, rows));
    return tensor__view_of(base, 2, (const int64_t[]){rows, cols}, (const int64_t[]){1, rows}, 0);
}

/* ---- the generator ------------------------------------------------------- */

START_TEST(test_mt19937_reference_outputs)
{
    /* The reference MT19937 (std::mt19937) with seed 5489: first and 10000th outputs. */
    TensorGenerator g;
    tensor_generator_seed(&g, 5489);
    ck_assert_uint_eq(tensor_generator_next_u32(&g), 3499211612u);
    for (int i = 2; i < 10000; i++) tensor_generator_next_u32(&g);
    ck_assert_uint_eq(tensor_generator_next_u32(&g), 4123659995u);
    /* A 64-bit draw is the first 32-bit draw in the high half. */
    tensor_generator_seed(&g, 1);
    uint64_t hi = tensor_generator_next_u32(&g), lo = tensor_generator_next_u32(&g);
    tensor_generator_seed(&g, 1);
    ck_assert_uint_eq(tensor_generator_next_u64(&g), hi << 32 | lo);
}
END_TEST

START_TEST(test_seed_uses_low_32_bits)
{
    TensorGenerator a, b;
    tensor_generator_seed(&a, 5);
    tensor_generator_seed(&b, (1ULL << 32) + 5);
    ck_assert_uint_eq(b.seed, (1ULL << 32) + 5);   /* kept whole, as torch.initial_seed() */
    for (int i = 0; i < 1000; i++)
        ck_assert_uint_eq(tensor_generator_next_u32(&a), tensor_generator_next_u32(&b));
}
END_TEST

START_TEST(test_null_generator_is_the_default)
{
    tensor_manual_seed(77);
    uint32_t x = tensor_generator_next_u32(NULL);
    tensor_manual_seed(77);
    ck_assert_uint_eq(tensor_generator_next_u32(tensor_default_generator()), x);
    ck_assert_ptr_eq(tensor_default_generator(), tensor_default_generator());
}
END_TEST

START_TEST(test_seed_clears_the_cached_normal)
{
    tensor_manual_seed(123);
    float first = tensor_randn(SHAPE(1))->data[0];
    ck_assert(tensor_default_generator()->has_next_double_normal);
    tensor_manual_seed(123);
    ck_assert(!tensor_default_generator()->has_next_double_normal);
    ck_assert_uint_eq(float_bits(tensor_randn(SHAPE(1))->data[0]), float_bits(first));
}
END_TEST

/* ---- rand and uniform_ --------------------------------------------------- */

START_TEST(test_rand_matches_torch)
{
    const uint64_t seeds[] = {0, 5, 123, 789, (1ULL << 32) + 5};
    char name[64];
    for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
        tensor_manual_seed(seeds[k]);
        snprintf(name, sizeof name, "rand_s%llu_a", (unsigned long long)seeds[k]);
        ck_assert_fixture(tensor_rand(SHAPE(3, 2)), name);
        snprintf(name, sizeof name, "rand_s%llu_b", (unsigned long long)seeds[k]);
        ck_assert_fixture(tensor_rand(SHAPE(100)), name);
    }
}
END_TEST

START_TEST(test_rand_book_values)
{
    /* The book: torch.manual_seed(123); torch.rand(3, 2), printed to 8 digits. */
    const double book[] = {0.29611194, 0.51656228, 0.25167072,
                           0.68855679, 0.07397246, 0.86652195};
    tensor_manual_seed(123);
    Tensor *w = tensor_rand(SHAPE(3, 2));
    for (int i = 0; i < 6; i++) ck_assert_double_eq_tol(w->data[i], book[i], 5e-9);
}
END_TEST

START_TEST(test_uniform_as_linear_init)
{
    float b = tensor_item(testutil_fixture(FIXTURE, "uniform_bound"));
    tensor_manual_seed(123);
    ck_assert_fixture(tensor_uniform_(tensor_empty(SHAPE(6, 3)), -b, b, NULL),
                      "uniform_linear_w");
    ck_assert_fixture(tensor_uniform_(tensor_empty(SHAPE(6)), -b, b, NULL), "uniform_linear_b");
    /* About half of these differ in the last bit without the fused multiply-add. */
    tensor_manual_seed(123);
    ck_assert_fixture(tensor_uniform_(tensor_empty(SHAPE(1000)), -b, b, NULL), "uniform_many");
    tensor_manual_seed(4);
    ck_assert_fixture(tensor_uniform_(tensor_empty(SHAPE(200)), -3.3f, 7.1f, NULL),
                      "uniform_wide");
}
END_TEST

START_TEST(test_uniform_fills_in_memory_order)
{
    tensor_manual_seed(9);
    Tensor *t = transposed(3, 4);
    ck_assert_ptr_eq(tensor_uniform_(t, -1, 1, NULL), t);
    ck_assert_fixture(t, "uniform_transposed");
    /* columns 2..5 of a (3, 8) tensor */
    tensor_manual_seed(9);
    Tensor *base = tensor_zeros(SHAPE(3, 8));
    Tensor *s = tensor__view_of(base, 2, (const int64_t[]){3, 4}, (const int64_t[]){8, 1}, 2);
    ck_assert_fixture(tensor_uniform_(s, -1, 1, NULL), "uniform_sliced");
    ck_assert_float_eq(base->data[0], 0.0f);   /* outside the view: untouched */
    ck_assert_float_eq(base->data[23], 0.0f);
}
END_TEST

/* ---- randn and normal_ ---------------------------------------------------- */

START_TEST(test_randn_both_paths)
{
    const int64_t sizes[] = {1, 5, 15, 16, 17, 20, 33, 100};
    char name[32];
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        tensor_manual_seed(123);
        snprintf(name, sizeof name, "randn_%lld", (long long)sizes[k]);
        ck_assert_fixture(tensor_randn(SHAPE(sizes[k])), name);
    }
    tensor_manual_seed(123);
    ck_assert_fixture(tensor_randn(SHAPE(4, 6)), "randn_2d");
}
END_TEST

START_TEST(test_randn_book_values)
{
    const double book20[] = {0.3374,  -0.1778, -0.3035, -0.5880, 1.5810,  1.3010, 1.2753,
                             -0.2010, -0.1606, -0.4015, 0.6957,  -1.8061, -1.1589, 0.3255,
                             -0.6315, -2.8400, -0.7849, -1.4096, -0.4076, 0.7953};
    const double book5[] = {-0.1115, 0.1204, -0.3696, -0.2404, -1.1969};
    tensor_manual_seed(123);
    Tensor *a = tensor_randn(SHAPE(20));
    for (int i = 0; i < 20; i++) ck_assert_double_eq_tol(a->data[i], book20[i], 5e-5);
    tensor_manual_seed(123);
    Tensor *b = tensor_randn(SHAPE(5));
    for (int i = 0; i < 5; i++) ck_assert_double_eq_tol(b->data[i], book5[i], 5e-5);
}
END_TEST

START_TEST(test_randn_twice_carries_state)
{
    tensor_manual_seed(123);
    ck_assert_fixture(tensor_randn(SHAPE(5)), "randn_twice5_a");
    ck_assert_fixture(tensor_randn(SHAPE(5)), "randn_twice5_b");   /* starts from the cache */
    tensor_manual_seed(123);
    ck_assert_fixture(tensor_randn(SHAPE(20)), "randn_twice20_a");
    ck_assert_fixture(tensor_randn(SHAPE(20)), "randn_twice20_b");
}
END_TEST

START_TEST(test_normal_mean_std)
{
    tensor_manual_seed(11);
    ck_assert_fixture(tensor_normal_(tensor_empty(SHAPE(7)), 0.5f, 2.0f, NULL), "normal_a");
    ck_assert_fixture(tensor_normal_(tensor_empty(SHAPE(40)), -1.0f, 0.25f, NULL), "normal_b");
    /* 20 elements but not contiguous: the per-element path, in memory order */
    ck_assert_fixture(tensor_normal_(transposed(4, 5), 0.3f, 1.7f, NULL), "normal_c");
}
END_TEST

/* The MT19937 state word whose tempered output is y (tempering inverted). */
static uint32_t untemper(uint32_t y)
{
    y ^= y >> 18;
    y ^= (y << 15) & 0xefc60000u;
    uint32_t r = y;
    for (int i = 0; i < 5; i++) r = y ^ ((r << 7) & 0x9d2c5680u);
    y = r;
    for (int i = 0; i < 3; i++) r = y ^ (r >> 11);
    return r;
}

START_TEST(test_normal_on_crafted_uniforms)
{
    /* Uniforms chosen to reach the rare angles where the kernel's fused
     * multiply-adds change the result (see gen_random.py). */
    Tensor *words = testutil_fixture(FIXTURE, "crafted_words");
    TensorGenerator g;
    tensor_generator_seed(&g, 0);
    for (int i = 0; i < 16; i++) g.state[i] = untemper((uint32_t)words->data[i]);
    g.index = 0;
    ck_assert_uint_eq(tensor_generator_next_u32(&g), (uint32_t)words->data[0]);
    g.index = 0;
    ck_assert_fixture(tensor_normal_(tensor_empty(SHAPE(16)), 0.0f, 1.0f, &g), "normal_crafted");
}
END_TEST

/* ---- bernoulli_ ------------------------------------------------------------ */

START_TEST(test_bernoulli)
{
    tensor_manual_seed(3);
    ck_assert_fixture(tensor_bernoulli_(tensor_empty(SHAPE(50)), 0.3f, NULL), "bernoulli_a");
    ck_assert_fixture(tensor_bernoulli_(transposed(3, 4), 0.5f, NULL), "bernoulli_b");
    Tensor *ones = tensor_bernoulli_(tensor_empty(SHAPE(64)), 1.0f, NULL);
    Tensor *zeros = tensor_bernoulli_(tensor_empty(SHAPE(64)), 0.0f, NULL);
    for (int i = 0; i < 64; i++) {
        ck_assert_float_eq(ones->data[i], 1.0f);
        ck_assert_float_eq(zeros->data[i], 0.0f);
    }
}
END_TEST

/* ---- dropout ----------------------------------------------------------------- */

START_TEST(test_dropout_book)
{
    tensor_manual_seed(123);
    Tensor *x = tensor_ones(SHAPE(6, 6));
    Tensor *y = tensor_dropout(x, 0.5f, true, NULL);
    ck_assert_fixture(y, "dropout_book");
    ck_assert_ptr_null(y->grad_fn);   /* no input requires grad: no node */
}
END_TEST

START_TEST(test_dropout_other_p_and_shapes)
{
    tensor_manual_seed(5);
    Tensor *x = tensor_rand(SHAPE(5, 7));
    ck_assert_fixture(x, "dropout_p01_x");
    ck_assert_fixture(tensor_dropout(x, 0.1f, true, NULL), "dropout_p01");
    tensor_manual_seed(6);
    ck_assert_fixture(tensor_dropout(tensor_full(3.0f, SHAPE(8)), 0.9f, true, NULL),
                      "dropout_p09");
    tensor_manual_seed(7);   /* 1 / (1 - p) rounds differently in float and double */
    ck_assert_fixture(tensor_dropout(tensor_ones(SHAPE(3, 4, 5)), 0.15f, true, NULL),
                      "dropout_p015");
    /* a transposed input: the noise is drawn in the output's logical order */
    tensor_manual_seed(8);
    Tensor *b = tensor_rand(SHAPE(4, 3));
    ck_assert_fixture(b, "dropout_t_x");
    Tensor *bt = tensor__view_of(b, 2, (const int64_t[]){3, 4}, (const int64_t[]){1, 3}, 0);
    ck_assert_fixture(tensor_dropout(bt, 0.5f, true, NULL), "dropout_t");
}
END_TEST

START_TEST(test_dropout_backward)
{
    tensor_manual_seed(10);
    Tensor *x = tensor_requires_grad_(tensor_rand(SHAPE(4, 5)), true);
    ck_assert_fixture(x, "dropout_grad_x");
    Tensor *y = tensor_dropout(x, 0.45f, true, NULL);
    ck_assert_fixture(y, "dropout_grad_y");
    ck_assert_str_eq(tensor_grad_fn_name(y), tensor__op_names[OP_DROPOUT]);
    Tensor *dy = tensor_empty(SHAPE(4, 5));
    for (int i = 0; i < 20; i++) dy->data[i] = (float)(1 + i % 7);
    ck_assert_int_eq(tensor_backward_retain(y, dy), 0);
    ck_assert_fixture(x->grad, "dropout_grad_dx");
    /* the saved noise is 0 or 1 / (1 - p), matching the output */
    const Tensor *noise = y->grad_fn->saved[0];
    for (int i = 0; i < 20; i++)
        ck_assert_float_eq(y->data[i], x->data[i] * noise->data[i]);
    /* gradients accumulate */
    ck_assert_int_eq(tensor_backward(y, dy), 0);
    for (int i = 0; i < 20; i++)
        ck_assert_float_eq(x->grad->data[i], 2 * (dy->data[i] * noise->data[i]));
}
END_TEST

static Tensor *dropout_fn(Tensor *const *in, void *ctx)
{
    (void)ctx;
    TensorGenerator g;   /* the same mask on every call */
    tensor_generator_seed(&g, 99);
    return tensor_dropout(in[0], 0.4f, true, &g);
}

START_TEST(test_dropout_gradcheck)
{
    /* Linear in x, so central differences are exact up to float rounding. */
    tensor_manual_seed(1);
    Tensor *x = tensor_requires_grad_(tensor_rand(SHAPE(3, 4)), true);
    TensorGradcheckResult res;
    ck_assert_int_eq(tensor_gradcheck(dropout_fn, NULL, 1, &x, 1e-2, 1e-3, 1e-2, &res), 1);
}
END_TEST

START_TEST(test_dropout_identity_and_p1)
{
    Tensor *x = tensor_requires_grad_(tensor_rand(SHAPE(2, 3)), true);
    ck_assert_ptr_eq(tensor_dropout(x, 0.0f, true, NULL), x);
    ck_assert_ptr_eq(tensor_dropout(x, 0.5f, false, NULL), x);
    Tensor *empty = tensor_empty(SHAPE(0, 3));
    ck_assert_ptr_eq(tensor_dropout(empty, 0.5f, true, NULL), empty);
    /* p == 1 zeroes everything and, as PyTorch, draws nothing */
    TensorGenerator g, copy;
    tensor_generator_seed(&g, 4);
    copy = g;
    Tensor *y = tensor_dropout(x, 1.0f, true, &g);
    for (int i = 0; i < 6; i++) ck_assert_float_eq(y->data[i], 0.0f);
    ck_assert_ptr_nonnull(y->grad_fn);
    ck_assert_uint_eq(tensor_generator_next_u32(&g), tensor_generator_next_u32(&copy));
}
END_TEST

/* ---- generator state across calls ----------------------------------------- */

START_TEST(test_mixed_sequence)
{
    tensor_manual_seed(42);
    ck_assert_fixture(tensor_rand(SHAPE(3)), "mix_a");
    ck_assert_fixture(tensor_randn(SHAPE(3)), "mix_b");
    ck_assert(tensor_default_generator()->has_next_double_normal);
    ck_assert_fixture(tensor_rand(SHAPE(2)), "mix_c");
    ck_assert_fixture(tensor_randn(SHAPE(1)), "mix_d");
    ck_assert_fixture(tensor_randn(SHAPE(16)), "mix_e");
    ck_assert_fixture(tensor_randn(SHAPE(1)), "mix_f");
    ck_assert_fixture(tensor_randn(SHAPE(17)), "mix_g");
    ck_assert_fixture(tensor_randn(SHAPE(1)), "mix_h");
    ck_assert_fixture(tensor_rand(SHAPE(2)), "mix_i");
}
END_TEST

START_TEST(test_explicit_generator_is_independent)
{
    TensorGenerator g;
    tensor_generator_seed(&g, 7);
    tensor_manual_seed(8);
    ck_assert_fixture(tensor_rand_gen(SHAPE(4), &g), "gen_a");
    ck_assert_fixture(tensor_rand(SHAPE(4)), "gen_b");
    ck_assert_fixture(tensor_randn_gen(SHAPE(3), &g), "gen_c");
    ck_assert_fixture(tensor_randn(SHAPE(3)), "gen_d");
    ck_assert_fixture(tensor_randn_gen(SHAPE(1), &g), "gen_e");
    ck_assert_fixture(tensor_randn(SHAPE(1)), "gen_f");
}
END_TEST

/* ---- draws skipped ------------------------------------------------------------ */

static bool same_generator(const TensorGenerator *a, const TensorGenerator *b)
{
    return memcmp(a->state, b->state, sizeof a->state) == 0 && a->index == b->index &&
           a->seed == b->seed && a->has_next_double_normal == b->has_next_double_normal &&
           (!a->has_next_double_normal || a->next_double_normal == b->next_double_normal) &&
           a->has_next_float_normal == b->has_next_float_normal;
}

/* A skip leaves the generator as the fill of a contiguous tensor would:
 * across state boundaries (624 words), both normal paths (the cache of the
 * serial one, 16-blocks and the redrawn last 16 of the other). */
START_TEST(test_skip_is_the_fill)
{
    static const int64_t sizes[] = {0, 1, 2, 3, 15, 16, 17, 31, 32, 623, 624, 625, 1248, 5000};
    for (int lead = 0; lead < 3; lead++)
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
            for (int normal = 0; normal < 2; normal++) {
                TensorGenerator a, b;
                tensor_generator_seed(&a, 11);
                /* start mid-state, and with a cached normal (lead 2) */
                Tensor *pre = tensor_empty(SHAPE(lead == 2 ? 1 : 600 * lead + 1));
                if (lead == 2) tensor_normal_(pre, 0, 1, &a);
                else tensor_uniform_(pre, 0, 1, &a);
                b = a;
                Tensor *t = tensor_empty(SHAPE(sizes[i]));
                if (normal) {
                    ck_assert_ptr_nonnull(tensor_normal_(t, 0, 1, &a));
                    ck_assert_int_eq(tensor_normal_skip(sizes[i], &b), 0);
                } else {
                    ck_assert_ptr_nonnull(tensor_uniform_(t, -1, 1, &a));
                    ck_assert_int_eq(tensor_uniform_skip(sizes[i], &b), 0);
                }
                ck_assert_msg(same_generator(&a, &b), "%s of %lld after lead %d",
                              normal ? "normal" : "uniform", (long long)sizes[i], lead);
            }
    tensor_manual_seed(3);
    TensorGenerator before = *tensor_default_generator();
    ck_assert_int_eq(tensor_normal_skip(-1, NULL), -1);
    ck_assert_str_eq(tensor_error(), "normal_skip: numel -1 is negative");
    ck_assert_int_eq(tensor_uniform_skip(-2, NULL), -1);
    ck_assert(same_generator(&before, tensor_default_generator()));
}
END_TEST

/* ---- errors ------------------------------------------------------------------ */

START_TEST(test_errors)
{
    Tensor *x = tensor_ones(SHAPE(2, 3));
    tensor_clear_error();
    ck_assert_ptr_null(tensor_dropout(x, 1.5f, true, NULL));
    ck_assert_str_eq(tensor_error(), "dropout: probability p = 1.5 for (2,3) is not between 0 "
                                     "and 1");
    ck_assert_ptr_null(tensor_dropout(x, -0.1f, false, NULL));
    ck_assert(strstr(tensor_error(), "p = -0.1") != NULL);
    ck_assert_ptr_null(tensor_dropout(x, NAN, true, NULL));
    ck_assert_ptr_null(tensor_bernoulli_(x, 2.0f, NULL));
    ck_assert_str_eq(tensor_error(), "bernoulli_: p = 2 for (2,3) is not in [0, 1]");
    ck_assert_ptr_null(tensor_normal_(x, 0.0f, -1.0f, NULL));
    ck_assert_str_eq(tensor_error(),
                     "normal_: mean 0, std -1 for (2,3): need a finite mean and std >= 0");
    ck_assert_ptr_null(tensor_uniform_(x, 2.0f, 1.0f, NULL));
    ck_assert_str_eq(tensor_error(), "uniform_: from 2 > to 1 for (2,3)");
    ck_assert_ptr_null(tensor_uniform_(x, 0.0f, INFINITY, NULL));
    ck_assert(strstr(tensor_error(), "not finite") != NULL);
    ck_assert_ptr_null(tensor_rand(SHAPE(2, -1)));
    ck_assert_str_eq(tensor_error(), "rand: negative size -1 in dim 1");
    ck_assert_ptr_null(tensor_randn(9, (const int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1}));
    ck_assert_str_eq(tensor_error(), "randn: 9 dims; between 0 and 8 are supported");
    /* NULL inputs give NULL and keep the first message */
    tensor_clear_error();
    ck_assert_ptr_null(tensor_dropout(NULL, 0.5f, true, NULL));
    ck_assert_ptr_null(tensor_uniform_(NULL, 0, 1, NULL));
    ck_assert_ptr_null(tensor_normal_(NULL, 0, 1, NULL));
    ck_assert_ptr_null(tensor_bernoulli_(NULL, 0.5f, NULL));
    ck_assert_str_eq(tensor_error(), "");
}
END_TEST

static Suite *random_suite(void)
{
    Suite *s = suite_create("random");
    TCase *gen = tcase_create("generator");
    tcase_add_test(gen, test_mt19937_reference_outputs);
    tcase_add_test(gen, test_seed_uses_low_32_bits);
    tcase_add_test(gen, test_null_generator_is_the_default);
    tcase_add_test(gen, test_seed_clears_the_cached_normal);
    tcase_add_test(gen, test_mixed_sequence);
    tcase_add_test(gen, test_explicit_generator_is_independent);
    tcase_add_test(gen, test_skip_is_the_fill);
    suite_add_tcase(s, gen);
    TCase *dist = tcase_create("distributions");
    tcase_add_test(dist, test_rand_matches_torch);
    tcase_add_test(dist, test_rand_book_values);
    tcase_add_test(dist, test_uniform_as_linear_init);
    tcase_add_test(dist, test_uniform_fills_in_memory_order);
    tcase_add_test(dist, test_randn_both_paths);
    tcase_add_test(dist, test_randn_book_values);
    tcase_add_test(dist, test_randn_twice_carries_state);
    tcase_add_test(dist, test_normal_mean_std);
    tcase_add_test(dist, test_normal_on_crafted_uniforms);
    tcase_add_test(dist, test_bernoulli);
    suite_add_tcase(s, dist);
    TCase *drop = tcase_create("dropout");
    tcase_add_test(drop, test_dropout_book);
    tcase_add_test(drop, test_dropout_other_p_and_shapes);
    tcase_add_test(drop, test_dropout_backward);
    tcase_add_test(drop, test_dropout_gradcheck);
    tcase_add_test(drop, test_dropout_identity_and_p1);
    tcase_add_test(drop, test_errors);
    suite_add_tcase(s, drop);
    return s;
}

TESTUTIL_MAIN(random_suite)
