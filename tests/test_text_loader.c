/*
 * GPTDatasetV1 and data_loader over it against tests/reference/text_loader.txt
 * (gen_text_loader.py: the book's dataset and PyTorch 1.13's DataLoader for
 * seed 123).  The ids are the-verdict.txt's, from the "verdict" line of
 * tokenizer.txt, so this suite needs no vocabulary.  Ids and orders are
 * compared exactly; the generator's next draws too (torch.rand is exact:
 * 24 random bits times 2^-24).
 */
#include "testutil.h"

static int64_t *verdict_ids(size_t *n)
{
    double *v = testutil_fixture_line("tokenizer.txt", "verdict", n);   /* verdict 0 file ids... */
    *n -= 1;
    int64_t *ids = malloc(*n * sizeof *ids);
    for (size_t i = 0; i < *n; i++) ids[i] = (int64_t)v[i + 1];
    free(v);
    ck_assert_int_eq(*n, 5145);
    return ids;
}

static void assert_line_ids(const char *name, const Tensor *t)
{
    size_t n;
    double *want = testutil_fixture_line("text_loader.txt", name, &n);
    ck_assert_msg((size_t)t->numel == n, "%s: %lld ids, expected %zu", name, (long long)t->numel, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(t->data[i] == (float)want[i], "%s: element %zu is %g, expected %g", name, i,
                      (double)t->data[i], want[i]);
    free(want);
}

static int64_t line_int(const char *name)
{
    size_t n;
    double *v = testutil_fixture_line("text_loader.txt", name, &n);
    ck_assert_int_eq(n, 1);
    int64_t x = (int64_t)v[0];
    free(v);
    return x;
}

static const struct {
    const char *name;
    size_t prefix;          /* ids used: the first prefix (0: all) */
    int64_t T, stride, B;
    bool shuffle, drop_last, every_batch;
    int epochs;
} CASES[] = {
    {"ctx256_shuffle", 0, 256, 256, 2, true, true, false, 2},
    {"ctx256_ordered", 0, 256, 256, 3, false, false, false, 1},
    {"small_shuffle", 50, 4, 2, 3, true, false, true, 2},
    {"small_ordered", 50, 4, 2, 3, false, true, true, 1},
};

/* Window i's input ids as a tensor (the dataset's item 0 field), in the current scope. */
static Tensor *window_input(Dataset *d, int64_t i)
{
    DataItem item;
    ck_assert_msg(data_dataset_get(d, i, &item) == 0, "%s", tensor_error());
    ck_assert_int_eq(item.n, 2);
    return item.field[0];
}

/* Each case as the book's loop runs it: tensor_manual_seed(123), then
 * `for x, y in loader` per epoch; orders, batches, then the next draws. */
START_TEST(test_loader_matches_pytorch)
{
    size_t n;
    int64_t *ids = verdict_ids(&n);
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        char name[128];
        tensor_manual_seed(123);
        Dataset *d = text_dataset_v1(ids, CASES[c].prefix ? CASES[c].prefix : n, CASES[c].T,
                                     CASES[c].stride);
        ck_assert_msg(d != NULL, "%s", tensor_error());
        snprintf(name, sizeof name, "%s_windows", CASES[c].name);
        ck_assert_int_eq(data_dataset_len(d), line_int(name));
        DataLoader *l = data_loader(d, DATA_LOADER_OPTIONS(.batch_size = CASES[c].B,
                                                           .shuffle = CASES[c].shuffle,
                                                           .drop_last = CASES[c].drop_last));
        snprintf(name, sizeof name, "%s_len", CASES[c].name);
        ck_assert_int_eq(data_loader_len(l), line_int(name));
        for (int e = 0; e < CASES[c].epochs; e++) {
            TensorScope *scope = tensor_scope_begin();
            snprintf(name, sizeof name, "%s_e%d_order", CASES[c].name, e);
            size_t rows;
            double *order = testutil_fixture_line("text_loader.txt", name, &rows);
            DataIter *it = data_loader_iter(l);
            ck_assert_ptr_nonnull(it);
            Tensor *x, *y;
            size_t row = 0;
            int got, k = 0;
            for (; (got = data_iter_next(it, &x, &y)) == 1; k++) {
                ck_assert_int_eq(x->ndim, 2);
                ck_assert_int_eq(x->shape[1], CASES[c].T);
                ck_assert(tensor_same_shape(x, y));
                /* each row is the window the fixture names */
                for (int64_t b = 0; b < x->shape[0]; b++, row++) {
                    ck_assert_int_lt(row, rows);
                    Tensor *window = window_input(d, (int64_t)order[row]);
                    for (int64_t t = 0; t < CASES[c].T; t++)
                        ck_assert_float_eq(x->data[b * CASES[c].T + t], window->data[t]);
                }
                if (CASES[c].every_batch || k == 0) {
                    snprintf(name, sizeof name, "%s_e%d_b%d_x", CASES[c].name, e, k);
                    assert_line_ids(name, x);
                    snprintf(name, sizeof name, "%s_e%d_b%d_y", CASES[c].name, e, k);
                    assert_line_ids(name, y);
                }
            }
            ck_assert_int_eq(got, 0);
            ck_assert_int_eq(k, data_loader_len(l));
            ck_assert_int_eq(row, rows);
            ck_assert_str_eq(tensor_error(), "");
            data_iter_free(it);
            free(order);
            tensor_scope_end(scope);
        }
        snprintf(name, sizeof name, "%s_rand", CASES[c].name);
        assert_line_ids(name, tensor_rand(SHAPE(4)));   /* exact: 24-bit multiples of 2^-24 */
        data_loader_free(l);
        data_dataset_free(d);
    }
    free(ids);
}
END_TEST

/* The windows as the book defines them, with a partial last batch. */
START_TEST(test_dataset_windows)
{
    int64_t ids[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    /* range(0, 10 - 4, 3): windows at 0 and 3 */
    Dataset *d = text_dataset_v1(ids, 10, 4, 3);
    ck_assert_int_eq(data_dataset_len(d), 2);
    ck_assert_str_eq(d->type, "GPTDatasetV1");
    DataItem item;
    ck_assert_int_eq(data_dataset_get(d, 1, &item), 0);
    ck_assert_int_eq(item.n, 2);
    ck_assert_int_eq(item.field[0]->ndim, 1);
    ck_assert_int_eq(item.field[0]->shape[0], 4);
    ck_assert(tensor_same_shape(item.field[0], item.field[1]));
    for (int t = 0; t < 4; t++) {
        ck_assert_float_eq(item.field[0]->data[t], 3 + t);
        ck_assert_float_eq(item.field[1]->data[t], 4 + t);
    }
    ck_assert_int_eq(data_dataset_get(d, 2, &item), -1);
    ck_assert_str_eq(tensor_error(), "data_dataset_get: GPTDatasetV1 index 2 of 2");
    tensor_clear_error();
    /* the fewest tokens for one window: max_length + 1; a stride past the end */
    Dataset *one = text_dataset_v1(ids, 5, 4, INT64_MAX);
    ck_assert_int_eq(data_dataset_len(one), 1);
    DataLoader *l = data_loader(one, DATA_LOADER_OPTIONS(.batch_size = 2));
    ck_assert_int_eq(data_loader_len(l), 1);
    DataIter *it = data_loader_iter(l);
    Tensor *x, *y;
    ck_assert_int_eq(data_iter_next(it, &x, &y), 1);
    ck_assert_int_eq(x->shape[0], 1);   /* what is left: one window */
    ck_assert_int_eq(data_iter_next(it, &x, &y), 0);
    ck_assert_ptr_null(x);
    data_iter_free(it);
    data_loader_free(l);
    /* drop_last: no batch at all */
    l = data_loader(one, DATA_LOADER_OPTIONS(.batch_size = 2, .shuffle = true, .drop_last = true));
    ck_assert_int_eq(data_loader_len(l), 0);
    it = data_loader_iter(l);
    ck_assert_int_eq(data_iter_next(it, &x, &y), 0);
    ck_assert_str_eq(tensor_error(), "");
    data_iter_free(it);
    data_loader_free(l);
    data_dataset_free(one);
    data_dataset_free(d);
}
END_TEST

/* An iterator made at another's position gives the same rest of the epoch,
 * drawing nothing from the generator. */
START_TEST(test_position)
{
    size_t n;
    int64_t *ids = verdict_ids(&n);
    Dataset *d = text_dataset_v1(ids, n, 16, 16);
    DataLoader *l = data_loader(d, DATA_LOADER_OPTIONS(.batch_size = 4, .shuffle = true,
                                                       .drop_last = true));
    tensor_manual_seed(7);
    Tensor *x, *y, *x2, *y2;
    data_iter_free(data_loader_iter(l));       /* a first epoch that took no batch */
    DataIter *a = data_loader_iter(l);
    ck_assert_int_eq(data_iter_position(a).sampler_seed, -1);   /* not drawn yet */
    for (int k = 0; k < 3; k++) ck_assert_int_eq(data_iter_next(a, &x, &y), 1);
    DataIterPosition p = data_iter_position(a);
    ck_assert_int_eq(p.batch, 3);
    ck_assert_int_ge(p.sampler_seed, 0);
    TensorGenerator saved = *tensor_default_generator();
    DataIter *b = data_loader_iter_at(l, p);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(memcmp(&saved, tensor_default_generator(), sizeof saved), 0);
    int64_t rest = 0;
    while (data_iter_next(a, &x, &y) == 1) {
        ck_assert_int_eq(data_iter_next(b, &x2, &y2), 1);
        ck_assert_tensor_close(x2, x, 0, 0);
        ck_assert_tensor_close(y2, y, 0, 0);
        rest++;
    }
    ck_assert_int_eq(data_iter_next(b, &x2, &y2), 0);
    ck_assert_int_eq(rest, data_loader_len(l) - 3);
    ck_assert_int_eq(memcmp(&saved, tensor_default_generator(), sizeof saved), 0);
    /* positions that are not this loader's */
    ck_assert_error_has(data_loader_iter_at(l, (DataIterPosition){99, 5}),
                        "data_loader_iter_at: batch 99, seed 5 is not a position of this loader "
                        "(80 batches, shuffle on)");
    ck_assert_error_has(data_loader_iter_at(l, (DataIterPosition){1, -1}), "batch 1, seed -1");
    ck_assert_error_has(data_loader_iter_at(l, (DataIterPosition){0, -2}), "batch 0, seed -2");
    ck_assert_error_has(data_loader_iter_at(l, (DataIterPosition){-1, 0}), "batch -1, seed 0");
    data_iter_free(a);
    data_iter_free(b);
    data_loader_free(l);
    data_dataset_free(d);
    free(ids);
}
END_TEST

START_TEST(test_bad_input)
{
    int64_t ids[4] = {1, 2, 3, 4};
    ck_assert_error_has(text_dataset_v1(ids, 4, 4, 1),
                        "text_dataset_v1: 4 tokens make no window: max_length 4 needs at least 5");
    ck_assert_error_has(text_dataset_v1(ids, 4, 0, 1),
                        "text_dataset_v1: max_length 0 and stride 1 must be >= 1");
    ck_assert_error_has(text_dataset_v1(ids, 4, 2, -3), "stride -3 must be >= 1");
    ck_assert_error_has(text_dataset_v1(NULL, 0, 2, 1), "0 tokens make no window");
    /* extreme sizes: the message's arithmetic does not wrap, a huge stride is one window */
    ck_assert_error_has(text_dataset_v1(ids, 4, INT64_MAX, 1),
                        "max_length 9223372036854775807 needs at least 9223372036854775808");
    Dataset *one = text_dataset_v1(ids, 4, 2, INT64_MAX);
    ck_assert_ptr_nonnull(one);
    ck_assert_int_eq(data_dataset_len(one), 1);
    data_dataset_free(one);
    int64_t big[3] = {1, (INT64_C(1) << 24) + 1, 3};
    ck_assert_error_has(text_dataset_v1(big, 3, 2, 1),
                        "text_dataset_v1: id 16777217 at 1 is not exact as a float");
    int64_t edge[3] = {-(INT64_C(1) << 24), INT64_C(1) << 24, 0};   /* exact: accepted */
    Dataset *d = text_dataset_v1(edge, 3, 2, 1);
    ck_assert_ptr_nonnull(d);
    data_dataset_free(d);
}
END_TEST

static Suite *text_loader_suite(void)
{
    Suite *s = suite_create("text_loader");
    TCase *tc = tcase_create("loader");
    tcase_set_timeout(tc, 60);   /* a sanitizer build reads the fixture lines slowly */
    tcase_add_test(tc, test_loader_matches_pytorch);
    tcase_add_test(tc, test_dataset_windows);
    tcase_add_test(tc, test_position);
    tcase_add_test(tc, test_bad_input);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(text_loader_suite)
