/*
 * The data room against tests/reference/data_loader.txt (gen_data_loader.py:
 * PyTorch 1.13's DataLoader, num_workers 0): evaluation on the training
 * loader inside its own epoch (issue 23), when the shuffle's seed is drawn,
 * TensorDataset batches with and without shuffle and drop_last, the book's
 * chapter-7 collate, a shuffle over more than 2^24 items (randperm_large.txt,
 * gen_sample.py); then lengths, iterators and bad input.  Values and
 * orders are compared exactly, and so are the generator's draws along the
 * way (torch.rand is exact: 24 random bits times 2^-24).
 */
#include <limits.h>

#include "testutil.h"

#define FIXTURE "data_loader.txt"

/* t's elements, row-major, are line `name`'s values, exactly. */
static void assert_line(const char *name, const Tensor *t)
{
    size_t n;
    double *want = testutil_fixture_line(FIXTURE, name, &n);
    ck_assert_ptr_nonnull(t);
    ck_assert_msg((size_t)t->numel == n, "%s: %lld values, PyTorch %zu", name,
                  (long long)t->numel, n);
    Tensor *c = tensor_contiguous(t);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(c->data[i] == (float)want[i], "%s: element %zu is %.9g, PyTorch %.9g", name,
                      i, (double)c->data[i], want[i]);
    free(want);
}

static int64_t line_int(const char *name, size_t i)
{
    size_t n;
    double *v = testutil_fixture_line(FIXTURE, name, &n);
    ck_assert_uint_gt(n, i);
    int64_t x = (int64_t)v[i];
    free(v);
    return x;
}

/* gen_data_loader.py's rows(n): X (n, 2, 3) = arange(6n) / 4, y (n) =
 * arange(n), w (n, 1) = -arange(n) - 0.5, in the current scope. */
static void rows(int64_t n, Tensor **X, Tensor **y, Tensor **w)
{
    *X = tensor_div_scalar(tensor_reshape(tensor_arange(0, (float)(6 * n), 1), SHAPE(n, 2, 3)), 4);
    *y = tensor_arange(0, (float)n, 1);
    *w = tensor_sub_scalar(tensor_neg(tensor_reshape(tensor_arange(0, (float)n, 1), SHAPE(n, 1))),
                           0.5f);
}

/* t[..., i, ...] along dim: a view */
static Tensor *select_(const Tensor *t, int dim, int64_t i)
{
    return tensor_squeeze(tensor_narrow(t, dim, i, 1), dim);
}

/* ---- The test ------------------------------------------------------ */

/* The batches calc_loss_loader(loader, model, num_batches) reads: a new pass,
 * left after num_batches.  Each batch's rows: x's first value is 6 y / 4. */
static void eval_pass(DataLoader *l, int64_t num_batches, const char *fmt, int64_t step)
{
    if (num_batches > data_loader_len(l)) num_batches = data_loader_len(l);
    DataIter *it = data_loader_iter(l);
    ck_assert_ptr_nonnull(it);
    for (int64_t i = 0; i < num_batches; i++) {
        TensorScope *s = tensor_scope_begin();
        Tensor *x, *y;
        ck_assert_int_eq(data_iter_next(it, &x, &y), 1);
        char name[64];
        snprintf(name, sizeof name, fmt, (long long)step, (long long)i);
        assert_line(name, y);
        for (int64_t b = 0; b < y->numel; b++) ck_assert_float_eq(x->data[2 * b], 1.5f * y->data[b]);
        tensor_scope_end(s);
    }
    data_iter_free(it);
}

/* The book's train_model_simple on a shuffled, drop_last training loader,
 * evaluated at even steps on that same loader (a second iterator inside
 * the epoch's) and on a validation loader; each step draws torch.rand(1)
 * where dropout would draw.  Two epochs: every batch of every pass, the
 * draws between them and the generator afterwards are PyTorch's. */
START_TEST(test_evaluation_inside_the_training_epoch)
{
    Tensor *X, *y, *w;
    rows(11, &X, &y, &w);
    Tensor *X2 = tensor_narrow(select_(X, 1, 0), 1, 0, 2);     /* X[:, 0, :2] */
    tensor_manual_seed(123);
    Dataset *train_set = data_tensor_dataset(2, (Tensor *[]){X2, y});
    Dataset *val_set = data_tensor_dataset(2, (Tensor *[]){tensor_narrow(X2, 0, 0, 5),
                                                           tensor_narrow(y, 0, 0, 5)});
    ck_assert_msg(train_set && val_set, "%s", tensor_error());
    DataLoader *train = data_loader(train_set, DATA_LOADER_OPTIONS(.batch_size = 2,
                                                                   .shuffle = true,
                                                                   .drop_last = true));
    DataLoader *val = data_loader(val_set, DATA_LOADER_OPTIONS(.batch_size = 2));
    ck_assert_int_eq(data_loader_len(train), line_int("issue_len", 0));
    ck_assert_int_eq(data_loader_len(val), line_int("issue_len", 1));
    int64_t step = -1;
    for (int epoch = 0; epoch < 2; epoch++) {
        DataIter *it = data_loader_iter(train);
        int got;
        for (;;) {
            TensorScope *s = tensor_scope_begin();
            Tensor *xb, *yb;
            got = data_iter_next(it, &xb, &yb);
            if (got == 1) {
                char name[64];
                step++;
                snprintf(name, sizeof name, "issue_step%lld", (long long)step);
                assert_line(name, yb);
                snprintf(name, sizeof name, "issue_step%lld_rand", (long long)step);
                assert_line(name, tensor_rand(SHAPE(1)));
                if (step % 2 == 0) {
                    int64_t eval_iter = step % 4 == 0 ? 2 : data_loader_len(train);
                    eval_pass(train, eval_iter, "issue_step%lld_train%lld", step);
                    eval_pass(val, eval_iter, "issue_step%lld_val%lld", step);
                }
            }
            tensor_scope_end(s);
            if (got != 1) break;
        }
        ck_assert_int_eq(got, 0);
        ck_assert_int_eq(data_iter_position(it).batch, data_loader_len(train));
        data_iter_free(it);
    }
    ck_assert_int_eq(step + 1, line_int("issue_steps", 0));
    assert_line("issue_rand", tensor_rand(SHAPE(4)));
    ck_assert_str_eq(tensor_error(), "");
    data_loader_free(train);
    data_loader_free(val);
    data_dataset_free(train_set);
    data_dataset_free(val_set);
}
END_TEST

/* Two iterators made before either takes a batch: each draws its base seed
 * when made and its shuffle seed at its first batch, in the order the
 * batches are asked for. */
START_TEST(test_seed_drawn_at_the_first_batch)
{
    Tensor *X, *y, *w;
    rows(11, &X, &y, &w);
    tensor_manual_seed(5);
    Dataset *d = data_tensor_dataset(2, (Tensor *[]){X, y});
    DataLoader *l = data_loader(d, DATA_LOADER_OPTIONS(.batch_size = 4, .shuffle = true));
    DataIter *a = data_loader_iter(l), *b = data_loader_iter(l);
    Tensor *x, *yb;
    ck_assert_int_eq(data_iter_next(b, &x, &yb), 1);
    assert_line("lazy_b0", yb);
    ck_assert_int_eq(data_iter_next(a, &x, &yb), 1);
    assert_line("lazy_a0", yb);
    assert_line("lazy_mid", tensor_rand(SHAPE(2)));
    DataIter *its[2] = {a, b};
    const char *names[2] = {"lazy_a", "lazy_b"};
    for (int k = 0; k < 2; k++) {
        Tensor *rest[8];
        int n = 0, got;
        while ((got = data_iter_next(its[k], &x, &yb)) == 1) rest[n++] = yb;
        ck_assert_int_eq(got, 0);
        assert_line(names[k], tensor_cat(n, rest, 0));
        ck_assert_int_eq(data_iter_next(its[k], &x, &yb), 0);      /* and on every call after */
    }
    assert_line("lazy_rand", tensor_rand(SHAPE(4)));
    data_iter_free(a);
    data_iter_free(b);
    data_loader_free(l);
    data_dataset_free(d);
}
END_TEST

/* ---- TensorDataset ----------------------------------------------------------- */

static const struct {
    const char *name;
    int64_t n, batch_size;
    bool shuffle, drop_last, defaults;
    uint64_t seed;
} TD[] = {
    {"b3_shuffle", 10, 3, true, false, false, 123},
    {"b3_shuffle_drop", 10, 3, true, true, false, 123},
    {"b5_shuffle", 10, 5, true, false, false, 7},
    {"b5_ordered_drop", 10, 5, false, true, false, 7},
    {"b4_ordered", 10, 4, false, false, false, 7},
    {"b12_shuffle", 10, 12, true, false, false, 1},
    {"b12_shuffle_drop", 10, 12, true, true, false, 1},
    {"defaults", 3, 1, false, false, true, 1},
};

START_TEST(test_tensor_dataset_matches_pytorch)
{
    char name[96];
    const char *c = TD[_i].name;
    Tensor *f[3];
    rows(TD[_i].n, &f[0], &f[1], &f[2]);
    tensor_manual_seed(TD[_i].seed);
    Dataset *d = data_tensor_dataset(3, f);
    ck_assert_int_eq(data_dataset_len(d), TD[_i].n);
    DataLoader *l = TD[_i].defaults
                        ? data_loader(d, DATA_LOADER_OPTIONS())
                        : data_loader(d, DATA_LOADER_OPTIONS(.batch_size = TD[_i].batch_size,
                                                             .shuffle = TD[_i].shuffle,
                                                             .drop_last = TD[_i].drop_last));
    snprintf(name, sizeof name, "td_%s_len", c);
    ck_assert_int_eq(data_loader_len(l), line_int(name, 0));
    for (int e = 0; e < 2; e++) {
        TensorScope *scope = tensor_scope_begin();
        DataIter *it = data_loader_iter(l);
        DataBatch b;
        int k = 0, got;
        for (; (got = data_iter_next_batch(it, &b)) == 1; k++) {
            ck_assert_int_eq(b.n, 3);
            int64_t B = b.field[1]->shape[0];
            ck_assert(B >= 1 && B <= TD[_i].batch_size);
            ck_assert_int_eq(b.field[0]->ndim, 3);
            ck_assert(b.field[0]->shape[0] == B && b.field[0]->shape[1] == 2 &&
                      b.field[0]->shape[2] == 3);
            ck_assert_int_eq(b.field[1]->ndim, 1);
            ck_assert(b.field[2]->ndim == 2 && b.field[2]->shape[0] == B &&
                      b.field[2]->shape[1] == 1);
            for (int j = 0; j < 3; j++) {
                snprintf(name, sizeof name, "td_%s_e%d_b%d_%d", c, e, k, j);
                assert_line(name, b.field[j]);
                ck_assert(!b.field[j]->requires_grad && !b.field[j]->grad_fn);
            }
        }
        ck_assert_int_eq(got, 0);
        snprintf(name, sizeof name, "td_%s_e%d_batches", c, e);
        ck_assert_int_eq(k, line_int(name, 0));
        ck_assert_int_eq(k, data_loader_len(l));
        data_iter_free(it);
        tensor_scope_end(scope);
    }
    snprintf(name, sizeof name, "td_%s_rand", c);
    assert_line(name, tensor_rand(SHAPE(4)));
    ck_assert_str_eq(tensor_error(), "");
    data_loader_free(l);
    data_dataset_free(d);
}
END_TEST

/* ---- A custom collate: the book's chapter 7 ----------------------------------- */

/* A dataset of id lists of different lengths (the book's InstructionDataset). */
typedef struct {
    Dataset base;
    const int64_t *const *items;
    const int64_t *lens;
} ListDataset;

static int list_get(Dataset *d, int64_t i, DataItem *item)
{
    const ListDataset *ld = (const ListDataset *)d;
    Tensor *t = tensor_empty(SHAPE(ld->lens[i]));
    if (!t) return -1;
    for (int64_t j = 0; j < ld->lens[i]; j++) t->data[j] = (float)ld->items[i][j];
    item->n = 1;
    item->field[0] = t;
    return 0;
}

typedef struct {
    float pad_token_id, ignore_index;
    int64_t allowed_max_length;
} CollateOptions;

/* custom_collate_fn: each item, one pad appended, padded to the longest + 1;
 * inputs all but the last, targets all but the first; in a target row every
 * pad but the first is ignore_index; both cut to allowed_max_length.  Also
 * the items' lengths: (inputs (n, W), targets (n, W), lengths (n)). */
static int custom_collate(int64_t n, const DataItem *items, DataBatch *batch, void *ctx)
{
    const CollateOptions *o = ctx;
    int64_t batch_max_length = 0;
    for (int64_t b = 0; b < n; b++)
        if (items[b].field[0]->shape[0] + 1 > batch_max_length)
            batch_max_length = items[b].field[0]->shape[0] + 1;
    int64_t W = batch_max_length - 1 < o->allowed_max_length ? batch_max_length - 1
                                                             : o->allowed_max_length;
    Tensor *inputs = tensor_empty(SHAPE(n, W)), *targets = tensor_empty(SHAPE(n, W));
    Tensor *lengths = tensor_empty(SHAPE(n));
    float *padded = malloc((size_t)batch_max_length * sizeof *padded);
    if (!inputs || !targets || !lengths || !padded) {
        free(padded);
        return -1;
    }
    for (int64_t b = 0; b < n; b++) {
        const Tensor *item = items[b].field[0];
        for (int64_t j = 0; j < batch_max_length; j++)
            padded[j] = j < item->shape[0] ? item->data[j] : o->pad_token_id;
        int pads = 0;
        for (int64_t j = 0; j < batch_max_length - 1; j++) {
            float target = padded[j + 1];
            if (target == o->pad_token_id && pads++ > 0) target = o->ignore_index;
            if (j < W) {
                inputs->data[b * W + j] = padded[j];
                targets->data[b * W + j] = target;
            }
        }
        lengths->data[b] = (float)item->shape[0];
    }
    free(padded);
    *batch = (DataBatch){3, {inputs, targets, lengths}};
    return 0;
}

START_TEST(test_custom_collate_matches_pytorch)
{
    static const int64_t i0[] = {1, 2, 3, 4, 5}, i1[] = {6, 7}, i2[] = {8, 9, 10}, i3[] = {11},
                         i4[] = {12, 13, 14, 15, 16, 17}, i5[] = {18, 19}, i6[] = {20, 21, 22, 23};
    static const int64_t *const items[] = {i0, i1, i2, i3, i4, i5, i6};
    static const int64_t lens[] = {5, 2, 3, 1, 6, 2, 4};
    for (int i = 0; i < 7; i++) ck_assert_int_eq(lens[i], line_int("collate_items", (size_t)i));
    ListDataset *ld = data_dataset_new(sizeof *ld, "ListDataset", 7, list_get);
    ck_assert_ptr_nonnull(ld);
    ld->items = items;
    ld->lens = lens;
    CollateOptions opts = {50256, -100, 5};
    tensor_manual_seed(123);
    DataLoader *l = data_loader(DATA(ld), DATA_LOADER_OPTIONS(.batch_size = 3, .shuffle = true,
                                                              .collate = custom_collate,
                                                              .collate_ctx = &opts));
    ck_assert_int_eq(data_loader_len(l), 3);
    for (int e = 0; e < 2; e++) {
        DataIter *it = data_loader_iter(l);
        DataBatch b;
        int k = 0, got;
        for (; (got = data_iter_next_batch(it, &b)) == 1; k++) {
            char name[64];
            ck_assert_int_eq(b.n, 3);
            snprintf(name, sizeof name, "collate_e%d_b%d_shape", e, k);
            ck_assert_int_eq(b.field[0]->shape[0], line_int(name, 0));
            ck_assert_int_eq(b.field[0]->shape[1], line_int(name, 1));
            snprintf(name, sizeof name, "collate_e%d_b%d_x", e, k);
            assert_line(name, b.field[0]);
            snprintf(name, sizeof name, "collate_e%d_b%d_y", e, k);
            assert_line(name, b.field[1]);
            snprintf(name, sizeof name, "collate_e%d_b%d_len", e, k);
            assert_line(name, b.field[2]);
        }
        ck_assert_int_eq(got, 0);
        ck_assert_int_eq(k, 3);
        /* three fields do not unpack into x, y */
        data_iter_free(it);
    }
    assert_line("collate_rand", tensor_rand(SHAPE(4)));
    DataIter *it = data_loader_iter(l);
    Tensor *x, *y;
    ck_assert_int_eq(data_iter_next(it, &x, &y), -1);
    ck_assert_str_eq(tensor_error(), "data_iter_next: the batch has 3 fields, not 2 "
                     "(data_iter_next_batch takes any number)");
    tensor_clear_error();
    ck_assert_ptr_null(x);
    ck_assert_ptr_null(y);
    data_iter_free(it);
    /* the default collate cannot stack rows of different lengths */
    DataLoader *plain = data_loader(DATA(ld), DATA_LOADER_OPTIONS(.batch_size = 3));
    it = data_loader_iter(plain);
    ck_assert_int_eq(data_iter_next(it, &x, NULL), -1);
    ck_assert_str_eq(tensor_error(), "data_default_collate: field 0 is (2) in item 1 but (5) in "
                     "item 0: stack needs one shape (pad them in a collate of your own)");
    tensor_clear_error();
    data_iter_free(it);
    data_loader_free(plain);
    data_loader_free(l);
    data_dataset_free(DATA(ld));
}
END_TEST

/* ---- Lengths, iterators, positions --------------------------------------------- */

START_TEST(test_len)
{
    static const struct {
        int64_t n, batch_size;
        bool drop_last;
        int64_t len;
    } cases[] = {
        {10, 3, false, 4}, {10, 3, true, 3}, {10, 5, false, 2}, {10, 5, true, 2},
        {10, 10, false, 1}, {10, 11, true, 0}, {0, 1, false, 0}, {0, 4, true, 0},
        {10, INT64_MAX, false, 1}, {10, INT64_MAX, true, 0}, {INT64_MAX, INT64_MAX, false, 1},
        {INT64_MAX, 2, false, INT64_MAX / 2 + 1}, {INT64_MAX, INT64_MAX - 1, false, 2},
    };
    Dataset *d = data_tensor_dataset(1, (Tensor *[]){tensor_zeros(SHAPE(10))});
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        d->len = cases[i].n;      /* the header's len, as a dataset of that size would have */
        DataLoader *l = data_loader(d, DATA_LOADER_OPTIONS(.batch_size = cases[i].batch_size,
                                                           .drop_last = cases[i].drop_last));
        ck_assert_msg(data_loader_len(l) == cases[i].len, "n %lld, batch_size %lld: len %lld",
                      (long long)cases[i].n, (long long)cases[i].batch_size,
                      (long long)data_loader_len(l));
        data_loader_free(l);
    }
    d->len = 10;
    /* A batch of 10 with batch_size INT64_MAX: what is left, without overflow. */
    DataLoader *l = data_loader(d, DATA_LOADER_OPTIONS(.batch_size = INT64_MAX));
    DataIter *it = data_loader_iter(l);
    Tensor *x;
    ck_assert_int_eq(data_iter_next(it, &x, NULL), 1);
    ck_assert_int_eq(x->shape[0], 10);
    ck_assert_int_eq(data_iter_next(it, &x, NULL), 0);
    data_iter_free(it);
    data_loader_free(l);
    data_dataset_free(d);
    ck_assert_int_eq(data_loader_len(NULL), -1);
    ck_assert_int_eq(data_dataset_len(NULL), -1);
}
END_TEST

/* Several iterators of one loader at once: each its own pass; positions and
 * iterators made at them; an unshuffled loader draws only the base seeds. */
START_TEST(test_iterators_are_independent)
{
    Tensor *X, *y, *w;
    rows(7, &X, &y, &w);
    Dataset *d = data_tensor_dataset(2, (Tensor *[]){w, y});
    DataLoader *l = data_loader(d, DATA_LOADER_OPTIONS(.batch_size = 2));
    tensor_manual_seed(3);
    TensorGenerator g;
    tensor_generator_seed(&g, 3);
    DataIter *a = data_loader_iter(l), *b = data_loader_iter(l);
    tensor_generator_next_u64(&g);
    tensor_generator_next_u64(&g);
    Tensor *xb, *yb;
    for (int k = 0; k < 3; k++) ck_assert_int_eq(data_iter_next(a, &xb, &yb), 1);
    ck_assert_float_eq(yb->data[0], 4);                   /* a's third batch: rows 4, 5 */
    ck_assert_int_eq(data_iter_next(b, &xb, &yb), 1);
    ck_assert_float_eq(yb->data[0], 0);                   /* b's first: rows 0, 1 */
    ck_assert_float_eq(xb->data[1], -1.5f);
    ck_assert_int_eq(data_iter_position(a).batch, 3);
    ck_assert_int_eq(data_iter_position(a).sampler_seed, 0);
    ck_assert_int_eq(data_iter_position(b).batch, 1);
    ck_assert_int_eq(memcmp(g.state, tensor_default_generator()->state, sizeof g.state), 0);
    ck_assert_int_eq(g.index, tensor_default_generator()->index);
    DataIter *c = data_loader_iter_at(l, data_iter_position(a));
    ck_assert_int_eq(data_iter_next(c, &xb, &yb), 1);
    ck_assert_int_eq(yb->numel, 1);                       /* the last, short batch: row 6 */
    ck_assert_float_eq(yb->data[0], 6);
    ck_assert_int_eq(data_iter_next(c, &xb, &yb), 0);
    ck_assert_int_eq(memcmp(g.state, tensor_default_generator()->state, sizeof g.state), 0);
    ck_assert_int_eq(g.index, tensor_default_generator()->index);
    ck_assert_error_has(data_loader_iter_at(l, (DataIterPosition){1, 5}),
                        "data_loader_iter_at: batch 1, seed 5 is not a position of this loader "
                        "(4 batches, shuffle off)");
    ck_assert_error_has(data_loader_iter_at(l, (DataIterPosition){5, 0}), "batch 5, seed 0");
    ck_assert_error_has(data_loader_iter_at(NULL, (DataIterPosition){0, 0}),
                        "data_loader_iter_at: NULL loader");
    /* Freeing the loader detaches its iterators: next says so, free still works. */
    data_loader_free(l);
    ck_assert_int_eq(data_iter_next(a, &xb, &yb), -1);
    ck_assert_str_eq(tensor_error(), "data_iter_next: the iterator's loader was freed");
    tensor_clear_error();
    DataBatch batch;
    ck_assert_int_eq(data_iter_next_batch(b, &batch), -1);
    ck_assert_str_eq(tensor_error(), "data_iter_next_batch: the iterator's loader was freed");
    tensor_clear_error();
    data_iter_free(b);
    data_iter_free(a);
    data_iter_free(c);
    data_dataset_free(d);
    ck_assert_int_eq(data_iter_position(NULL).batch, 0);
}
END_TEST

/* A dataset of one's own, as data.h shows it: 0-d fields become (B). */
typedef struct {
    Dataset base;
    const float *x;
    int *destroyed;
} Squares;

static int squares_get(Dataset *d, int64_t i, DataItem *item)
{
    float v = ((Squares *)d)->x[i];
    item->n = 2;
    item->field[0] = tensor_scalar(v);
    item->field[1] = tensor_scalar(v * v);
    return item->field[0] && item->field[1] ? 0 : -1;
}

static void squares_destroy(Dataset *d)
{
    (*((Squares *)d)->destroyed)++;
}

START_TEST(test_dataset_of_ones_own)
{
    static const float xs[5] = {1, 2, 3, 4, 5};
    int destroyed = 0;
    Squares *s = data_dataset_new(sizeof *s, "Squares", 5, squares_get);
    ck_assert_ptr_nonnull(s);
    s->x = xs;
    s->destroyed = &destroyed;
    s->base.destroy = squares_destroy;
    ck_assert_str_eq(s->base.type, "Squares");
    DataItem item;
    ck_assert_int_eq(data_dataset_get(DATA(s), 2, &item), 0);
    ck_assert_int_eq(item.field[0]->ndim, 0);
    ck_assert_float_eq(tensor_item(item.field[1]), 9);
    DataLoader *l = data_loader(DATA(s), DATA_LOADER_OPTIONS(.batch_size = 4));
    DataIter *it = data_loader_iter(l);
    Tensor *x, *y;
    ck_assert_int_eq(data_iter_next(it, &x, &y), 1);
    ck_assert(x->ndim == 1 && x->shape[0] == 4 && y->shape[0] == 4);
    ck_assert_float_eq(y->data[3], 16);
    ck_assert_int_eq(data_iter_next(it, &x, &y), 1);
    ck_assert(x->shape[0] == 1 && y->data[0] == 25);
    ck_assert_int_eq(data_iter_next(it, &x, &y), 0);
    data_iter_free(it);
    data_loader_free(l);
    data_dataset_free(DATA(s));
    ck_assert_int_eq(destroyed, 1);
}
END_TEST

/* A shuffled pass over more items than a float counts (2^24 + 4): the
 * order is PyTorch's int64 randperm, its first two batches and its last two
 * (from an iterator put there) as randperm_large.txt has them
 * (gen_sample.py: DataLoader(range(n), batch_size=4, shuffle=True) after
 * manual_seed(123)).  An item is its index as two exact floats. */
static int index_get(Dataset *d, int64_t i, DataItem *item)
{
    (void)d;
    item->n = 2;
    item->field[0] = tensor_scalar((float)(i / 4096));
    item->field[1] = tensor_scalar((float)(i % 4096));
    return item->field[0] && item->field[1] ? 0 : -1;
}

static void assert_indices(DataIter *it, const double *want)
{
    Tensor *hi, *lo;
    ck_assert_msg(data_iter_next(it, &hi, &lo) == 1, "%s", tensor_error());
    ck_assert_int_eq(hi->numel, 4);
    for (int k = 0; k < 4; k++)
        ck_assert_int_eq((int64_t)hi->data[k] * 4096 + (int64_t)lo->data[k], (int64_t)want[k]);
}

START_TEST(test_shuffle_past_2_24_items)
{
    size_t n;
    double *want = testutil_fixture_line("randperm_large.txt", "loader_s123_b4", &n);
    ck_assert_uint_eq(n, 19);    /* seed, n, checksum, the first 8, the last 8 */
    ck_assert_int_eq((int64_t)want[1], ((int64_t)1 << 24) + 4);
    Dataset *d = data_dataset_new(sizeof(Dataset), "Indices", (int64_t)want[1], index_get);
    DataLoader *l = data_loader(d, DATA_LOADER_OPTIONS(.batch_size = 4, .shuffle = true));
    tensor_manual_seed(123);
    DataIter *it = data_loader_iter(l);
    TensorScope *s = tensor_scope_begin();
    assert_indices(it, want + 3);
    assert_indices(it, want + 7);
    DataIterPosition at = data_iter_position(it);
    at.batch = data_loader_len(l) - 2;
    DataIter *end = data_loader_iter_at(l, at);
    ck_assert_ptr_nonnull(end);
    assert_indices(end, want + 11);
    assert_indices(end, want + 15);
    Tensor *x, *y;
    ck_assert_int_eq(data_iter_next(end, &x, &y), 0);
    tensor_scope_end(s);
    data_iter_free(end);
    data_iter_free(it);
    data_loader_free(l);
    data_dataset_free(d);
    free(want);
}
END_TEST

/* ---- Bad input ----------------------------------------------------------------- */

/* Collates that break the rules the loader checks. */
static int collate_mismatched(int64_t n, const DataItem *items, DataBatch *batch, void *ctx)
{
    (void)ctx;
    if (data_default_collate(n, items, batch, NULL)) return -1;
    batch->field[1] = tensor_narrow(batch->field[1], 0, 0, n - 1);     /* a row short */
    return 0;
}

static int collate_scalar(int64_t n, const DataItem *items, DataBatch *batch, void *ctx)
{
    (void)ctx;
    if (data_default_collate(n, items, batch, NULL)) return -1;
    batch->field[1] = tensor_sum(batch->field[1]);
    return 0;
}

static int collate_fails(int64_t n, const DataItem *items, DataBatch *batch, void *ctx)
{
    (void)n, (void)items, (void)batch;
    tensor_set_error("collate_fails: %s", (const char *)ctx);
    return -1;
}

static int collate_null_field(int64_t n, const DataItem *items, DataBatch *batch, void *ctx)
{
    (void)ctx;
    if (data_default_collate(n, items, batch, NULL)) return -1;
    batch->field[0] = NULL;
    return 0;
}

static int collate_too_many(int64_t n, const DataItem *items, DataBatch *batch, void *ctx)
{
    (void)ctx;
    if (data_default_collate(n, items, batch, NULL)) return -1;
    batch->n = DATA_MAX_FIELDS + 1;
    return 0;
}

static const struct {
    DataCollateFn collate;
    const char *message;
} BAD_COLLATES[] = {
    {collate_mismatched, "data_iter_next: collate gave fields of different batch sizes: "
                         "field 0 is (3,3), field 1 is (2)"},
    {collate_scalar, "data_iter_next: collate gave a 0-d field 1: a batch's fields have the "
                     "batch dim first"},
    {collate_fails, "collate_fails: a reason of its own"},
    {collate_null_field, "data_iter_next: collate's batch: field 0 is NULL"},
    {collate_too_many, "data_iter_next: collate's batch has 9 fields (1 to 8)"},
};

START_TEST(test_bad_collate)
{
    Tensor *X, *y, *w;
    rows(7, &X, &y, &w);
    Dataset *d = data_tensor_dataset(2, (Tensor *[]){select_(X, 1, 0), y});
    DataLoader *l = data_loader(d, DATA_LOADER_OPTIONS(.batch_size = 3,
                                                       .collate = BAD_COLLATES[_i].collate,
                                                       .collate_ctx = "a reason of its own"));
    DataIter *it = data_loader_iter(l);
    Tensor *x, *yb;
    tensor_clear_error();
    ck_assert_int_eq(data_iter_next(it, &x, &yb), -1);
    ck_assert_str_eq(tensor_error(), BAD_COLLATES[_i].message);
    ck_assert_ptr_null(x);
    ck_assert_ptr_null(yb);
    tensor_clear_error();
    ck_assert_int_eq(data_iter_position(it).batch, 1);      /* the pass goes on */
    data_iter_free(it);
    data_loader_free(l);
    data_dataset_free(d);
}
END_TEST

static int get_fails(Dataset *d, int64_t i, DataItem *item)
{
    (void)d, (void)item;
    tensor_set_error("get_fails: item %lld is unreadable", (long long)i);
    return -1;
}

static int get_no_fields(Dataset *d, int64_t i, DataItem *item)
{
    (void)d, (void)i;
    item->n = 0;
    return 0;
}

START_TEST(test_bad_input)
{
    Tensor *X, *y, *w;
    rows(4, &X, &y, &w);
    /* TensorDataset */
    ck_assert_error_has(data_tensor_dataset(2, (Tensor *[]){X, tensor_narrow(y, 0, 0, 3)}),
                        "data_tensor_dataset: size mismatch in dim 0: tensor 0 is (4,2,3), "
                        "tensor 1 is (3)");
    ck_assert_error_has(data_tensor_dataset(2, (Tensor *[]){X, tensor_scalar(1)}),
                        "data_tensor_dataset: tensor 1 is 0-d: its first dim is the item dim");
    ck_assert_error_has(data_tensor_dataset(0, (Tensor *[]){X}),
                        "data_tensor_dataset: 0 tensors (1 to 8)");
    ck_assert_error_has(data_tensor_dataset(9, (Tensor *[]){X, X, X, X, X, X, X, X, X}),
                        "data_tensor_dataset: 9 tensors (1 to 8)");
    ck_assert_error_has(data_tensor_dataset(1, NULL),
                        "data_tensor_dataset: the list of tensors is NULL");
    ck_assert_error_has(data_tensor_dataset(2, (Tensor *[]){X, NULL}),
                        "data_tensor_dataset: tensor 1 is NULL");
    /* a NULL from a failed op keeps that op's message */
    ck_assert_error_has(data_tensor_dataset(1, (Tensor *[]){tensor_reshape(y, SHAPE(3))}),
                        "reshape");
    /* datasets */
    ck_assert_error_has(data_dataset_new(sizeof(Dataset), "D", -1, get_fails),
                        "data_dataset_new: D: len -1 must be >= 0");
    ck_assert_error_has(data_dataset_new(sizeof(Dataset), "D", 1, NULL),
                        "data_dataset_new: D: no get function");
    ck_assert_error_has(data_dataset_new(4, "D", 1, get_fails),
                        "data_dataset_new: size 4 is smaller than the Dataset header");
    Dataset *d = data_tensor_dataset(2, (Tensor *[]){X, y});
    DataItem item;
    ck_assert_int_eq(data_dataset_get(d, 4, &item), -1);
    ck_assert_str_eq(tensor_error(), "data_dataset_get: TensorDataset index 4 of 4");
    ck_assert_int_eq(data_dataset_get(d, -1, &item), -1);
    ck_assert_str_eq(tensor_error(), "data_dataset_get: TensorDataset index -1 of 4");
    ck_assert_int_eq(data_dataset_get(NULL, 0, &item), -1);
    ck_assert_str_eq(tensor_error(), "data_dataset_get: NULL dataset");
    ck_assert_int_eq(data_dataset_get(d, 0, NULL), -1);
    ck_assert_str_eq(tensor_error(), "data_dataset_get: NULL item");
    tensor_clear_error();
    /* loaders */
    ck_assert_error_has(data_loader(NULL, DATA_LOADER_OPTIONS()), "data_loader: NULL dataset");
    ck_assert_error_has(data_loader(d, DATA_LOADER_OPTIONS(.batch_size = 0)),
                        "data_loader: batch_size 0 must be >= 1 (options start from "
                        "DATA_LOADER_OPTIONS(...))");
    ck_assert_error_has(data_loader(d, (DataLoaderOptions){.shuffle = true}),
                        "batch_size 0 must be >= 1");
    ck_assert_error_has(data_loader(d, DATA_LOADER_OPTIONS(.batch_size = -5)),
                        "batch_size -5 must be >= 1");
    Dataset *empty = data_tensor_dataset(1, (Tensor *[]){tensor_zeros(SHAPE(0, 3))});
    ck_assert_int_eq(data_dataset_len(empty), 0);
    ck_assert_error_has(data_loader(empty, DATA_LOADER_OPTIONS(.shuffle = true)),
                        "data_loader: shuffle needs a dataset with at least one item "
                        "(TensorDataset has none)");
    DataLoader *none = data_loader(empty, DATA_LOADER_OPTIONS(.batch_size = 2));
    DataIter *it = data_loader_iter(none);
    Tensor *x = tensor_scalar(0), *yb = x;
    ck_assert_int_eq(data_iter_next(it, &x, &yb), 0);          /* no batch, no error */
    ck_assert_ptr_null(x);
    ck_assert_ptr_null(yb);
    ck_assert_str_eq(tensor_error(), "");
    data_iter_free(it);
    data_loader_free(none);
    data_dataset_free(empty);
    /* iterators */
    ck_assert_error_has(data_loader_iter(NULL), "data_loader_iter: NULL loader");
    ck_assert_int_eq(data_iter_next(NULL, &x, &yb), -1);
    ck_assert_str_eq(tensor_error(), "data_iter_next: NULL iterator");
    DataLoader *l = data_loader(d, DATA_LOADER_OPTIONS(.batch_size = 3));
    it = data_loader_iter(l);
    ck_assert_int_eq(data_iter_next(it, NULL, &yb), -1);
    ck_assert_str_eq(tensor_error(), "data_iter_next: x is NULL");
    ck_assert_int_eq(data_iter_next_batch(it, NULL), -1);
    ck_assert_str_eq(tensor_error(), "data_iter_next_batch: NULL batch");
    ck_assert_int_eq(data_iter_next(it, &x, NULL), -1);        /* two fields, one asked for */
    ck_assert_str_eq(tensor_error(), "data_iter_next: the batch has 2 fields, not 1 "
                     "(data_iter_next_batch takes any number)");
    tensor_clear_error();
    data_iter_free(it);
    data_loader_free(l);
    data_dataset_free(d);
    /* a dataset whose get fails, or gives no fields */
    Dataset *bad = data_dataset_new(sizeof(Dataset), "Bad", 3, get_fails);
    l = data_loader(bad, DATA_LOADER_OPTIONS(.batch_size = 2, .shuffle = true));
    it = data_loader_iter(l);
    ck_assert_int_eq(data_iter_next(it, &x, &yb), -1);
    ck_assert_msg(strncmp(tensor_error(), "get_fails: item ", 16) == 0, "%s", tensor_error());
    ck_assert_int_eq(data_iter_next(it, &x, &yb), -1);         /* the next batch */
    ck_assert_int_eq(data_iter_next(it, &x, &yb), 0);
    tensor_clear_error();
    data_iter_free(it);
    data_loader_free(l);
    bad->get = get_no_fields;
    ck_assert_int_eq(data_dataset_get(bad, 1, &item), -1);
    ck_assert_str_eq(tensor_error(), "data_dataset_get: Bad item 1 has 0 fields (1 to 8)");
    tensor_clear_error();
    data_dataset_free(bad);
    data_dataset_free(NULL);
    data_loader_free(NULL);
    data_iter_free(NULL);
    /* default collate, called directly */
    ck_assert_int_eq(data_default_collate(0, &item, &(DataBatch){0}, NULL), -1);
    ck_assert_str_eq(tensor_error(), "data_default_collate: 0 items (1 to 2147483647)");
    DataItem two[2] = {{1, {tensor_zeros(SHAPE(2))}}, {2, {tensor_zeros(SHAPE(2)), X}}};
    ck_assert_int_eq(data_default_collate(2, two, &(DataBatch){0}, NULL), -1);
    ck_assert_str_eq(tensor_error(), "data_default_collate: item 1 has 2 fields, item 0 has 1");
    tensor_clear_error();
}
END_TEST

/* numpy's RandomState(123) against finetune_data.txt (gen_finetune.py,
 * numpy 1.24): its first eight 32-bit outputs (init_genrand: the tensor
 * room's seeding), permutation(n) whole for small n and for the synthetic
 * SMS file's balanced frame (the split's shuffle), and the specification's heads
 * of permutation(4825) (the ham rows' sample) and permutation(1494). */
START_TEST(test_numpy_permutation_matches_numpy)
{
    const char *fx = "finetune_data.txt";
    Tensor *hi = testutil_fixture(fx, "mt19937_123_hi16");
    Tensor *lo = testutil_fixture(fx, "mt19937_123_lo16");
    TensorGenerator g;
    tensor_generator_seed(&g, 123);
    for (int i = 0; i < 8; i++) {
        uint32_t want = (uint32_t)hi->data[i] << 16 | (uint32_t)lo->data[i];
        ck_assert_uint_eq(tensor_generator_next_u32(&g), want);
    }
    /* perm_N, then split_perm: the synthetic file's balanced frame (140 rows) */
    static const int64_t N[] = {1, 2, 3, 5, 16, 17, 100, 257, 0};
    for (size_t k = 0; k < sizeof N / sizeof *N; k++) {
        char name[32];
        snprintf(name, sizeof name, N[k] ? "perm_%lld" : "split_perm", (long long)N[k]);
        Tensor *want = testutil_fixture(fx, name);
        int64_t n = N[k] ? N[k] : want->numel, got[257];
        ck_assert_int_eq(want->numel, n);
        ck_assert_int_le(n, 257);
        ck_assert_int_eq(data_numpy_random_state_permutation(123, n, got), 0);
        for (int64_t i = 0; i < n; i++)
            ck_assert_msg(got[i] == (int64_t)want->data[i], "%s[%lld] = %lld, numpy %g", name,
                          (long long)i, (long long)got[i], (double)want->data[i]);
    }
    static const int64_t heads[2][6] = {{4825, 3720, 3580, 4182, 3858, 4713},
                                        {1494, 263, 627, 887, 925, 1050}};
    for (int k = 0; k < 2; k++) {
        int64_t *got = malloc((size_t)heads[k][0] * sizeof *got);
        ck_assert_int_eq(data_numpy_random_state_permutation(123, heads[k][0], got), 0);
        for (int i = 0; i < 5; i++) ck_assert_int_eq(got[i], heads[k][i + 1]);
        /* a permutation: every index once */
        char *seen = calloc((size_t)heads[k][0], 1);
        for (int64_t i = 0; i < heads[k][0]; i++) {
            ck_assert(got[i] >= 0 && got[i] < heads[k][0] && !seen[got[i]]);
            seen[got[i]] = 1;
        }
        free(seen);
        free(got);
    }
    /* the default generator is not touched */
    tensor_manual_seed(7);
    uint32_t first = tensor_generator_next_u32(NULL);
    tensor_manual_seed(7);
    int64_t p[4];
    ck_assert_int_eq(data_numpy_random_state_permutation(0, 4, p), 0);
    ck_assert_uint_eq(tensor_generator_next_u32(NULL), first);
    /* n = 0 writes nothing, and may have no array */
    ck_assert_int_eq(data_numpy_random_state_permutation(123, 0, NULL), 0);
}
END_TEST

static Suite *data_suite(void)
{
    Suite *s = suite_create("data");
    TCase *torch = tcase_create("pytorch");
    tcase_set_timeout(torch, 60);   /* a sanitizer build reads the fixture lines slowly */
    tcase_add_test(torch, test_evaluation_inside_the_training_epoch);
    tcase_add_test(torch, test_seed_drawn_at_the_first_batch);
    tcase_add_loop_test(torch, test_tensor_dataset_matches_pytorch, 0, sizeof TD / sizeof *TD);
    tcase_add_test(torch, test_custom_collate_matches_pytorch);
    tcase_add_test(torch, test_numpy_permutation_matches_numpy);
    suite_add_tcase(s, torch);
    /* two orders of 2^24 + 4 items: seconds in a sanitizer build */
    TCase *large = tcase_create("large");
    tcase_set_timeout(large, 300);
    tcase_add_test(large, test_shuffle_past_2_24_items);
    suite_add_tcase(s, large);
    TCase *api = tcase_create("api");
    tcase_add_test(api, test_len);
    tcase_add_test(api, test_iterators_are_independent);
    tcase_add_test(api, test_dataset_of_ones_own);
    tcase_add_loop_test(api, test_bad_collate, 0, sizeof BAD_COLLATES / sizeof *BAD_COLLATES);
    tcase_add_test(api, test_bad_input);
    suite_add_tcase(s, api);
    return s;
}

TESTUTIL_MAIN(data_suite)
