/*
 * tensor_matmul_tril and tensor_tril_matmul (tensor/ops/triangular.c): each
 * kept element, and every gradient, with the bits of the composite they
 * replace (tril of the full product, the full product of tril), in float32
 * and in an autocast region, on one thread and two, at sizes of several
 * bands and with depths across the kernel's blocks of 384; errors.
 */
#include "testutil.h"

#include <stdint.h>

static Tensor *uniform(int ndim, const int64_t *shape, uint64_t seed)
{
    TensorGenerator g;
    tensor_generator_seed(&g, seed);
    return tensor_uniform_(tensor_empty(ndim, shape), -1.0f, 1.0f, &g);
}

static Tensor *leaf(Tensor *t) { return tensor_requires_grad_(tensor_detach(t), true); }

static void same_bits(const Tensor *got, const Tensor *want, const char *what)
{
    ck_assert_msg(got && want, "%s: %s", what, tensor_error());
    ck_assert_msg(tensor_same_shape(got, want), "%s: %s vs %s", what, tensor_shape_str(got),
                  tensor_shape_str(want));
    Tensor *g = tensor_contiguous(got), *w = tensor_contiguous(want);
    for (int64_t i = 0; i < g->numel; i++)
        ck_assert_msg(memcmp(&g->data[i], &w->data[i], sizeof(float)) == 0,
                      "%s: element %lld: %a, want %a", what, (long long)i, (double)g->data[i],
                      (double)w->data[i]);
}

typedef struct {
    int64_t batch, m, k, n, d;
    bool tb;                 /* b read through a transposed view (keys^T) */
} Case;

static const Case cases[] = {
    {1, 6, 2, 6, 0, true},      {2, 100, 16, 100, 0, true}, {3, 60, 7, 70, 5, false},
    {1, 50, 9, 40, -3, false},  {2, 500, 64, 500, 0, true}, {1, 40, 30, 800, 700, true},
    /* a cached forward's query row against 600 keys, 12 heads: on the threads */
    {12, 1, 64, 600, 599, true},
};
enum { N_CASES = sizeof cases / sizeof *cases };

/* The scores: tril(a @ b) against matmul_tril, forward and gradients. */
static void check_scores(const Case *c, bool bf16)
{
    TensorScope *s = tensor_scope_begin();
    Tensor *a = uniform(SHAPE(c->batch, c->m, c->k), 1);
    Tensor *bs = c->tb ? uniform(SHAPE(c->batch, c->n, c->k), 2)
                       : uniform(SHAPE(c->batch, c->k, c->n), 2);
    Tensor *R = uniform(SHAPE(c->batch, c->m, c->n), 3);
    Tensor *out[2], *ga[2], *gb[2];
    for (int fused = 0; fused < 2; fused++) {
        Tensor *x = leaf(a), *ys = leaf(bs);
        Tensor *y = c->tb ? tensor_transpose(ys, -2, -1) : ys;
        tensor_autocast_begin(bf16);
        out[fused] = fused ? tensor_matmul_tril(x, y, c->d)
                           : tensor_tril(tensor_matmul(x, y), (int)c->d);
        Tensor *loss = tensor_sum(tensor_mul(out[fused], R));
        tensor_autocast_end();
        ck_assert_int_eq(tensor_backward(loss, NULL), 0);
        ga[fused] = x->grad;
        gb[fused] = ys->grad;
    }
    same_bits(out[1], out[0], "matmul_tril");
    same_bits(ga[1], ga[0], "matmul_tril da");
    same_bits(gb[1], gb[0], "matmul_tril db");
    tensor_scope_end(s);
}

/* The context: tril(a) @ b against tril_matmul. */
static void check_context(const Case *c, bool bf16)
{
    TensorScope *s = tensor_scope_begin();
    Tensor *a = uniform(SHAPE(c->batch, c->m, c->n), 4);
    Tensor *b = uniform(SHAPE(c->batch, c->n, c->k), 5);
    Tensor *R = uniform(SHAPE(c->batch, c->m, c->k), 6);
    Tensor *out[2], *ga[2], *gb[2];
    for (int fused = 0; fused < 2; fused++) {
        Tensor *x = leaf(a), *y = leaf(b);
        tensor_autocast_begin(bf16);
        out[fused] = fused ? tensor_tril_matmul(x, y, c->d)
                           : tensor_matmul(tensor_tril(x, (int)c->d), y);
        Tensor *loss = tensor_sum(tensor_mul(out[fused], R));
        tensor_autocast_end();
        ck_assert_int_eq(tensor_backward(loss, NULL), 0);
        ga[fused] = x->grad;
        gb[fused] = y->grad;
    }
    same_bits(out[1], out[0], "tril_matmul");
    same_bits(ga[1], ga[0], "tril_matmul da");
    same_bits(gb[1], gb[0], "tril_matmul db");
    tensor_scope_end(s);
}

START_TEST(test_same_bits_as_the_composite)
{
    for (int threads = 1; threads <= 2; threads++) {
        tensor_set_num_threads(threads);
        for (int bf16 = 0; bf16 < 2; bf16++) {
            check_scores(&cases[_i], bf16);
            check_context(&cases[_i], bf16);
        }
    }
    tensor_set_num_threads(0);
}
END_TEST

/* What tril's definition says of the masked part: the output's is 0, and
 * a's is never read (NaN there changes nothing). */
START_TEST(test_masked_part)
{
    Tensor *a = uniform(SHAPE(5, 5), 7), *b = uniform(SHAPE(5, 3), 8);
    Tensor *scores = tensor_matmul_tril(a, tensor_t(a), 1);
    for (int64_t i = 0; i < 5; i++)
        for (int64_t j = i + 2; j < 5; j++) ck_assert(tensor_get(scores, IDX(i, j)) == 0.0f);
    Tensor *clean = tensor_tril_matmul(a, b, 0);
    Tensor *dirty = tensor_clone(tensor_detach(a));
    for (int64_t i = 0; i < 5; i++)
        for (int64_t j = i + 1; j < 5; j++) tensor_set(dirty, NAN, IDX(i, j));
    same_bits(tensor_tril_matmul(dirty, b, 0), clean, "NaN above the diagonal");
}
END_TEST

START_TEST(test_errors)
{
    Tensor *a = tensor_zeros(SHAPE(2, 3)), *b = tensor_zeros(SHAPE(4, 2));
    Tensor *v = tensor_zeros(SHAPE(3));
    ck_assert_ptr_null(tensor_matmul_tril(a, b, 0));
    ck_assert_str_eq(tensor_error(), "matmul_tril: (2,3) @ (4,2): inner sizes differ (3 != 4)");
    ck_assert_ptr_null(tensor_tril_matmul(a, v, 0));
    ck_assert_str_eq(tensor_error(),
                     "tril_matmul: (2,3) @ (3): both operands need at least 2 dims");
    ck_assert_ptr_null(
        tensor_tril_matmul(tensor_zeros(SHAPE(2, 2, 3)), tensor_zeros(SHAPE(3, 3, 1)), 0));
    ck_assert_str_eq(tensor_error(),
                     "tril_matmul: (2,2,3) @ (3,3,1): batch dims do not broadcast");
    ck_assert_ptr_null(tensor_matmul_tril(NULL, b, 0));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("triangular");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_same_bits_as_the_composite, 0, N_CASES);
    tcase_add_test(tc, test_masked_part);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    tensor_cleanup();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
