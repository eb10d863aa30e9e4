/*
 * Sampling against PyTorch 1.13's CPU draws (tests/reference/sample.txt and
 * randperm_large.txt, written by gen_sample.py): randperm (float, and int64
 * past 2^24), a shuffled DataLoader's order, exponential_, multinomial (the
 * book's chapter-5 counts) and topk; and the messages for bad input.
 *
 * Tolerances: ids and counts are exact.  exponential_ is log(1 - u) in
 * double rounded to float, as PyTorch computes it, so it is compared to
 * 1 ulp (rtol 1.2e-7) in case libm's log differs in the last bit of a
 * double; softmax values to 1e-6 (float32 exp and sum).
 */
#include "testutil.h"

#include <inttypes.h>
#include <math.h>

#define SAMPLE(name) testutil_fixture("sample.txt", name)

static void assert_exact(const Tensor *got, const char *name)
{
    ck_assert_msg(got != NULL, "%s: %s", name, tensor_error());
    ck_assert_tensor_close(got, SAMPLE(name), 0, 0);
}

START_TEST(test_randperm)
{
    static const struct { uint64_t seed; int64_t n; } cases[] = {
        {123, 10}, {0, 1}, {7, 2}, {42, 100}, {123, 1000}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "randperm_s%llu_n%lld", (unsigned long long)cases[i].seed,
                 (long long)cases[i].n);
        tensor_manual_seed(cases[i].seed);
        assert_exact(tensor_randperm(cases[i].n, NULL), name);
    }
    TensorGenerator g;
    tensor_generator_seed(&g, 5);
    assert_exact(tensor_randperm(10, &g), "randperm_gen5_n10");
    Tensor *empty = tensor_randperm(0, NULL);
    ck_assert_ptr_nonnull(empty);
    ck_assert_int_eq(empty->numel, 0);
}
END_TEST

/* randperm as int64, PyTorch's default dtype, past 2^24 (a loader over more
 * windows than a float counts exactly): randperm_large.txt holds each
 * permutation's first and last 8 values and sum(p[i] * (i + 1)) mod 2^64.
 * The float randperm still stops at 2^24, as PyTorch's float randperm does. */
START_TEST(test_randperm_int64)
{
    FILE *f = fopen(ATTOGRAD_REFERENCE_DIR "/randperm_large.txt", "r");
    ck_assert_ptr_nonnull(f);
    char line[1024], name[32];
    int cases = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        long long seed, n;
        unsigned long long checksum;
        int64_t head[8], tail[8];
        int at;
        ck_assert_int_eq(sscanf(line, "%31s %lld %lld %llu%n", name, &seed, &n, &checksum, &at),
                         4);
        for (int i = 0; i < 16; i++) {
            int used;
            ck_assert_int_eq(sscanf(line + at, "%" SCNd64 "%n", i < 8 ? &head[i] : &tail[i - 8],
                                    &used), 1);
            at += used;
        }
        int64_t *p = malloc((size_t)n * sizeof *p);
        ck_assert_ptr_nonnull(p);
        TensorGenerator g;
        if (strncmp(name, "loader", 6) == 0) {
            /* a DataLoader's first pass: the iterator's base seed, then
             * RandomSampler's (the data suite runs the loader itself) */
            tensor_manual_seed((uint64_t)seed);
            tensor_generator_next_u64(NULL);
            seed = (long long)(tensor_generator_next_u64(NULL) % (UINT64_C(1) << 63));
            tensor_generator_seed(&g, (uint64_t)seed);
        } else if (seed < 0) tensor_manual_seed(123);
        else tensor_generator_seed(&g, (uint64_t)seed);
        ck_assert_int_eq(tensor_randperm_int64(n, p, seed < 0 ? NULL : &g), 0);
        uint64_t sum = 0;
        for (int64_t i = 0; i < n; i++) sum += (uint64_t)p[i] * (uint64_t)(i + 1);
        ck_assert_msg(sum == checksum, "%s: checksum %llu, expected %llu", name,
                      (unsigned long long)sum, checksum);
        for (int i = 0; i < 8; i++) {
            ck_assert_int_eq(p[i], head[i]);
            ck_assert_int_eq(p[n - 8 + i], tail[i]);
        }
        if (n <= (int64_t)1 << 24) {   /* the float randperm: the same draws */
            if (seed < 0) tensor_manual_seed(123);
            else tensor_generator_seed(&g, (uint64_t)seed);
            Tensor *t = tensor_randperm(n, seed < 0 ? NULL : &g);
            for (int64_t i = 0; i < n; i++) ck_assert_float_eq(t->data[i], (float)p[i]);
        }
        free(p);
        cases++;
    }
    fclose(f);
    ck_assert_int_eq(cases, 4);
    ck_assert_error_has(tensor_randperm(((int64_t)1 << 24) + 1, NULL),
                        "randperm: n = 16777217 must be in [0, 2^24]: a float holds every whole "
                        "number only up to 2^24 (tensor_randperm_int64 takes any n)");
    ck_assert_int_eq(tensor_randperm_int64(-1, NULL, NULL), -1);
    ck_assert_str_eq(tensor_error(), "randperm_int64: n = -1 must be >= 0");
    ck_assert_int_eq(tensor_randperm_int64(3, NULL, NULL), -1);
    ck_assert_str_eq(tensor_error(), "randperm_int64: out is NULL");
    ck_assert_int_eq(tensor_randperm_int64(0, NULL, NULL), 0);
}
END_TEST

/* A DataLoader with shuffle, each epoch: its iterator draws a base seed for
 * workers (random_() of an int64: one 64-bit draw), then RandomSampler
 * draws its seed the same way (random64 % 2^63), seeds a fresh generator
 * with it and takes randperm from that. */
START_TEST(test_loader_order_composes_from_the_generator)
{
    tensor_manual_seed(123);
    Tensor *want = SAMPLE("loader_s123_n9");
    for (int epoch = 0; epoch < 3; epoch++) {
        tensor_generator_next_u64(NULL);   /* _BaseDataLoaderIter's _base_seed */
        uint64_t seed = tensor_generator_next_u64(NULL) % (UINT64_C(1) << 63);
        TensorGenerator g;
        tensor_generator_seed(&g, seed);
        Tensor *order = tensor_randperm(9, &g);
        for (int i = 0; i < 9; i++)
            ck_assert_float_eq(order->data[i], want->data[epoch * 9 + i]);
    }
}
END_TEST

START_TEST(test_exponential)
{
    tensor_manual_seed(123);
    Tensor *e = tensor_exponential_(tensor_empty(SHAPE(3, 5)), 1.0, NULL);
    ck_assert_tensor_close(e, SAMPLE("exponential_s123"), 0, 1.2e-7);
    /* A transposed view is filled in its logical element order. */
    tensor_manual_seed(123);
    Tensor *t = tensor_exponential_(tensor_t(tensor_empty(SHAPE(5, 3))), 1.0, NULL);
    ck_assert_tensor_close(t, SAMPLE("exponential_s123"), 0, 1.2e-7);
    tensor_manual_seed(7);
    ck_assert_tensor_close(tensor_exponential_(tensor_empty(SHAPE(40)), 2.0, NULL),
                           SAMPLE("exponential_s7_lambda2"), 0, 1.2e-7);
}
END_TEST

static const float book_logits[9] = {4.51f, 0.89f, -1.90f, 6.75f, 1.63f, -1.62f, -1.89f, 6.28f,
                                      1.79f};

/* The book: 1,000 draws at temperatures 1, 0.1 and 5. */
START_TEST(test_multinomial_book_counts)
{
    static const struct { const char *name; float temperature; } cases[] = {
        {"multinomial_counts_t1", 1.0f}, {"multinomial_counts_t01", 0.1f},
        {"multinomial_counts_t5", 5.0f}};
    for (size_t c = 0; c < 3; c++) {
        Tensor *logits = tensor_from_data(book_logits, SHAPE(9));
        Tensor *probs = tensor_softmax(tensor_div_scalar(logits, cases[c].temperature), 0);
        float counts[9] = {0};
        tensor_manual_seed(123);
        for (int i = 0; i < 1000; i++) {
            TensorScope *s = tensor_scope_begin();
            Tensor *id = tensor_multinomial(probs, 1, NULL);
            ck_assert_msg(id != NULL && id->numel == 1, "%s", tensor_error());
            counts[(int)id->data[0]]++;
            tensor_scope_end(s);
        }
        ck_assert_tensor_close(tensor_from_data(counts, SHAPE(9)), SAMPLE(cases[c].name), 0, 0);
    }
    tensor_manual_seed(123);
    Tensor *first = tensor_multinomial(tensor_softmax(tensor_from_data(book_logits, SHAPE(9)), 0),
                                       1, NULL);
    assert_exact(first, "multinomial_first");
    ck_assert_float_eq(first->data[0], 3);   /* "forward" */
}
END_TEST

START_TEST(test_multinomial_rows)
{
    Tensor *probs = SAMPLE("multinomial_rows_probs");
    tensor_manual_seed(11);
    Tensor *one = tensor_multinomial(probs, 1, NULL);
    assert_exact(one, "multinomial_rows_1");
    ck_assert_int_eq(one->ndim, 2);
    tensor_manual_seed(12);
    assert_exact(tensor_multinomial(probs, 5, NULL), "multinomial_rows_5");
}
END_TEST

START_TEST(test_topk)
{
    Tensor *logits = tensor_from_data(book_logits, SHAPE(9)), *idx;
    Tensor *top = tensor_topk(logits, 3, &idx);
    assert_exact(top, "topk3_values");
    assert_exact(idx, "topk3_indices");
    /* The book's filter: below the k-th largest becomes -inf, then softmax. */
    Tensor *below = tensor_sub(logits, tensor_narrow(top, 0, 2, 1));
    Tensor *mask = tensor_zeros(SHAPE(9));
    for (int i = 0; i < 9; i++) mask->data[i] = below->data[i] < 0;
    ck_assert_tensor_close(tensor_softmax(tensor_masked_fill(logits, mask, -INFINITY), 0),
                           SAMPLE("topk3_softmax"), 1e-6, 0);
    /* Rows, ties (the lower index first), k = 0 and k = n. */
    Tensor *rows = tensor_from_data((const float[]){1, 3, 3, 2, 5, 4}, SHAPE(2, 3));
    Tensor *v = tensor_topk(rows, 2, &idx);
    ck_assert_tensor_close(v, tensor_from_data((const float[]){3, 3, 5, 4}, SHAPE(2, 2)), 0, 0);
    ck_assert_tensor_close(idx, tensor_from_data((const float[]){1, 2, 1, 2}, SHAPE(2, 2)), 0, 0);
    ck_assert_int_eq(tensor_topk(rows, 0, NULL)->numel, 0);
    ck_assert_tensor_close(tensor_topk(rows, 3, NULL),
                           tensor_from_data((const float[]){3, 3, 1, 5, 4, 2}, SHAPE(2, 3)), 0, 0);
}
END_TEST

START_TEST(test_bad_input)
{
    ck_assert_error_has(tensor_randperm(-1, NULL), "randperm: n = -1");
    ck_assert_error_has(tensor_randperm(INT64_MAX, NULL), "randperm: n = 9223372036854775807");
    ck_assert_error_has(tensor_exponential_(tensor_empty(SHAPE(2)), 0.0, NULL), "lambda 0");
    ck_assert_error_has(tensor_exponential_(tensor_empty(SHAPE(2)), NAN, NULL), "lambda nan");
    Tensor *p = tensor_from_data((const float[]){0.5f, 0.5f}, SHAPE(2));
    ck_assert_error_has(tensor_multinomial(p, 0, NULL), "num_samples 0");
    ck_assert_error_has(tensor_multinomial(p, 3, NULL), "num_samples 3 for probs (2)");
    ck_assert_error_has(tensor_multinomial(tensor_from_data((const float[]){1, -1}, SHAPE(2)), 1, NULL),
                 "holds -1");
    ck_assert_error_has(tensor_multinomial(tensor_from_data((const float[]){1, NAN}, SHAPE(2)), 1, NULL),
                 "holds nan");
    ck_assert_error_has(tensor_multinomial(tensor_zeros(SHAPE(2, 3)), 1, NULL), "row 0 sums to 0");
    ck_assert_error_has(tensor_multinomial(tensor_ones(SHAPE(2, 2, 2)), 1, NULL), "1-d or 2-d");
    ck_assert_error_has(tensor_multinomial(tensor_ones(SHAPE(0)), 1, NULL), "no categories");
    ck_assert_error_has(tensor_topk(p, 3, NULL), "topk: k = 3 out of range");
    ck_assert_error_has(tensor_topk(p, -1, NULL), "topk: k = -1");
    ck_assert_error_has(tensor_topk(tensor_scalar(1), 1, NULL), "must have a dim");
    ck_assert_ptr_null(tensor_multinomial(NULL, 1, NULL));
    ck_assert_ptr_null(tensor_topk(NULL, 1, NULL));
    ck_assert_ptr_null(tensor_exponential_(NULL, 1.0, NULL));
}
END_TEST

static Suite *sample_suite(void)
{
    Suite *s = suite_create("sample");
    TCase *tc = tcase_create("sample");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_randperm);
    tcase_add_test(tc, test_loader_order_composes_from_the_generator);
    tcase_add_test(tc, test_exponential);
    tcase_add_test(tc, test_multinomial_book_counts);
    tcase_add_test(tc, test_multinomial_rows);
    tcase_add_test(tc, test_topk);
    tcase_add_test(tc, test_bad_input);
    suite_add_tcase(s, tc);
    /* permutations of 2^24 + 3 and 2^24 + 4: seconds in a sanitizer build */
    TCase *large = tcase_create("large");
    tcase_set_timeout(large, 300);
    tcase_add_test(large, test_randperm_int64);
    suite_add_tcase(s, large);
    return s;
}

TESTUTIL_MAIN(sample_suite)
