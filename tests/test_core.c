/* The object model: creation, element access, scopes, errors, autograd plumbing. */
#include "core/tensor_internal.h"   /* tensor__set_visit_epoch */
#include "testutil.h"

START_TEST(test_creation_shapes)
{
    Tensor *z = tensor_zeros(SHAPE(2, 3));
    ck_assert_int_eq(z->ndim, 2);
    ck_assert_int_eq(z->numel, 6);
    ck_assert_int_eq(z->stride[0], 3);
    ck_assert_int_eq(z->stride[1], 1);
    ck_assert(tensor_is_contiguous(z));
    for (int i = 0; i < 6; i++) ck_assert_float_eq(z->data[i], 0.0f);
    Tensor *f = tensor_full(2.5f, SHAPE(4));
    ck_assert_float_eq(f->data[3], 2.5f);
    Tensor *s = tensor_scalar(7.0f);
    ck_assert_int_eq(s->ndim, 0);
    ck_assert_float_eq(tensor_item(s), 7.0f);
    ck_assert_str_eq(tensor_shape_str(z), "(2,3)");
    ck_assert_str_eq(tensor_shape_str(s), "()");
}
END_TEST

START_TEST(test_from_data_and_get)
{
    const float v[] = {1, 2, 3, 4, 5, 6};
    Tensor *t = tensor_from_data(v, SHAPE(2, 3));
    ck_assert_float_eq(tensor_get(t, IDX(1, 2)), 6.0f);
    ck_assert_float_eq(tensor_get(t, IDX(-1, 0)), 4.0f);
    ck_assert_int_eq(tensor_set(t, 9.0f, IDX(0, 1)), 0);
    ck_assert_float_eq(t->data[1], 9.0f);
    tensor_clear_error();
    ck_assert(isnan(tensor_get(t, IDX(2, 0))));
    ck_assert_str_eq(tensor_error(), "get: index 2 out of range for dim 0 of (2,3)");
    ck_assert(isnan(tensor_get(t, IDX(0))));
    ck_assert_str_eq(tensor_error(), "get: 1 indices for a 2-d tensor (2,3)");
}
END_TEST

START_TEST(test_arange_matches_torch)
{
    Tensor *a = tensor_arange(0, 5, 1);
    ck_assert_int_eq(a->numel, 5);
    ck_assert_float_eq(a->data[4], 4.0f);
    Tensor *b = tensor_arange(1, 2, 0.3f);   /* torch.arange(1, 2, 0.3): 4 values */
    ck_assert_int_eq(b->numel, 4);
    ck_assert(tensor_arange(0, 1, 0) == NULL);
    ck_assert(strstr(tensor_error(), "arange") != NULL);
    ck_assert(tensor_arange(0, 5, -1) == NULL);
}
END_TEST

START_TEST(test_bad_shapes_are_errors)
{
    tensor_clear_error();
    ck_assert(tensor_zeros(SHAPE(2, -1)) == NULL);
    ck_assert_str_eq(tensor_error(), "zeros: negative size -1 in dim 1");
    ck_assert(tensor_zeros(9, (const int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1}) == NULL);
    ck_assert_str_eq(tensor_error(), "zeros: 9 dims; between 0 and 8 are supported");
    ck_assert(tensor_from_data(NULL, SHAPE(2)) == NULL);
    ck_assert_str_eq(tensor_error(), "from_data: data is NULL");
    ck_assert(isnan(tensor_item(tensor_zeros(SHAPE(2)))));
    ck_assert_str_eq(tensor_error(), "item: tensor of shape (2) has 2 elements, not 1");
}
END_TEST

/* Code built on tensors records its own errors in the library's slot. */
START_TEST(test_set_error)
{
    tensor_clear_error();
    ck_assert_ptr_null(tensor_set_error("Block: input %s must be %d-d", "(3)", 2));
    ck_assert_str_eq(tensor_error(), "Block: input (3) must be 2-d");
}
END_TEST

START_TEST(test_scope_frees_and_reuses)
{
    size_t before = tensor_scope_bytes();
    TensorScope *s = tensor_scope_begin();
    ck_assert_ptr_nonnull(s);
    Tensor *big = tensor_zeros(SHAPE(256, 256));   /* 256 KiB: grows a chunk */
    ck_assert_ptr_nonnull(big);
    ck_assert_uint_gt(tensor_scope_bytes(), before + 256 * 256 * 4 - 1);
    TensorScope *inner = tensor_scope_begin();
    tensor_zeros(SHAPE(1000));
    tensor_scope_end(s);    /* ends the inner scope too */
    (void)inner;
    ck_assert_uint_eq(tensor_scope_bytes(), before);
    tensor_clear_error();
    tensor_scope_end(s);    /* already ended */
    ck_assert_str_eq(tensor_error(), "scope_end: not an open scope (it has ended already, or is another thread's)");
}
END_TEST

START_TEST(test_keep_outlives_scope)
{
    TensorScope *s = tensor_scope_begin();
    const float v[] = {1, 2, 3};
    Tensor *k = tensor_keep(tensor_requires_grad_(tensor_from_data(v, SHAPE(3)), true));
    tensor_scope_end(s);
    ck_assert_ptr_null(k->owner);
    ck_assert(k->requires_grad);
    ck_assert_float_eq(k->data[2], 3.0f);
    tensor_clear_error();
    Tensor *scoped = tensor_zeros(SHAPE(1));
    tensor_free(scoped);    /* refused: it belongs to a scope */
    ck_assert(strstr(tensor_error(), "belongs to a scope") != NULL);
    tensor_free(k);
}
END_TEST

START_TEST(test_scope_return_outlives_its_scope)
{
    TensorScope *outer = tensor_scope_begin();
    tensor_zeros(SHAPE(1)); /* outer's first chunk, which the result then shares */
    size_t before = tensor_scope_bytes();
    TensorScope *s = tensor_scope_begin();
    const float v[] = {1, 2, 3, 4, 5, 6};
    Tensor *x = tensor_requires_grad_(tensor_from_data(v, SHAPE(2, 3)), true);
    Tensor *t = tensor_transpose(tensor_mul_scalar(x, 2.0f), 0, 1); /* a view with a graph */
    tensor_zeros(SHAPE(256, 256));                                  /* an intermediate to free */
    Tensor *r = tensor_scope_return(s, t);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->ndim, 2);
    ck_assert_int_eq(r->shape[0], 3);
    ck_assert_int_eq(r->shape[1], 2);
    ck_assert(!r->requires_grad);
    ck_assert_ptr_null(r->grad_fn);
    const float want[] = {2, 8, 4, 10, 6, 12}; /* (2 x)^T, row-major */
    for (int i = 0; i < 6; i++) ck_assert_float_eq(r->data[i], want[i]);
    /* the inner scope's 256 KiB are gone; the result lives in outer's chunk */
    ck_assert_uint_eq(tensor_scope_bytes(), before);
    tensor_clear_error();
    ck_assert_ptr_null(tensor_scope_return(s, r)); /* s has ended */
    ck_assert(strstr(tensor_error(), "not an open scope") != NULL);
    tensor_scope_end(outer);
}
END_TEST

START_TEST(test_bump_version_refuses_a_stale_backward)
{
    TensorScope *s = tensor_scope_begin();
    const float v[] = {1, 2, 3};
    Tensor *w = tensor_requires_grad_(tensor_from_data(v, SHAPE(3)), true);
    Tensor *loss = tensor_sum(tensor_mul(w, w)); /* saves w for its backward */
    for (int i = 0; i < 3; i++) w->data[i] += 1.0f; /* an optimizer's own loop */
    tensor_bump_version(w);
    tensor_clear_error();
    ck_assert_int_ne(tensor_backward(loss, NULL), 0);
    ck_assert(strstr(tensor_error(), "modified by an inplace operation") != NULL);
    tensor_scope_end(s);
}
END_TEST

START_TEST(test_backward_on_leaf_accumulates)
{
    Tensor *x = tensor_requires_grad_(tensor_scalar(3.0f), true);
    ck_assert_int_eq(tensor_backward(x, NULL), 0);
    ck_assert_int_eq(tensor_backward(x, NULL), 0);
    ck_assert_float_eq(x->grad->data[0], 2.0f);
    tensor_zero_grad(x);
    ck_assert_float_eq(x->grad->data[0], 0.0f);
}
END_TEST

/* An intermediate made once in an outer scope and backpropagated through
 * in many inner scopes (with retain, as torch's retain_graph=True): its
 * gradient buffer is reused, so memory stays flat, whether it keeps its
 * gradient or not.  Retained, it holds the latest pass's gradient, not a
 * sum of them; not retained, it holds none after each backward. */
START_TEST(test_repeated_backward_keeps_memory_flat)
{
    bool retain = _i;
    Tensor *w = tensor_requires_grad_(tensor_keep(tensor_ones(SHAPE(16, 16))), true);
    Tensor *h = tensor_mul_scalar(w, 2.0f);   /* the outer scope's, not a leaf */
    if (retain) tensor_retain_grad(h);
    Tensor *x = tensor_ones(SHAPE(4, 16));
    size_t bytes = 0;
    for (int pass = 0; pass < 2000; pass++) {
        TensorScope *s = tensor_scope_begin();
        ck_assert_int_eq(tensor_backward_retain(tensor_sum(tensor_matmul(x, h)), NULL), 0);
        tensor_scope_end(s);
        if (pass == 0) bytes = tensor_scope_bytes();
        ck_assert_msg(tensor_scope_bytes() == bytes, "pass %d: %zu bytes, %zu after pass 0",
                      pass, tensor_scope_bytes(), bytes);
        ck_assert(retain == (h->grad != NULL));
    }
    /* d sum(x @ h) / dh = x^T @ ones = 4 (the 4 rows of x) everywhere */
    for (int64_t i = 0; retain && i < h->numel; i++) ck_assert_float_eq(h->grad->data[i], 4.0f);
    /* The leaf accumulates: 2000 passes of 4 * 2 (exact in float). */
    ck_assert_float_eq(w->grad->data[0], 16000.0f);
    tensor_free(w);
}
END_TEST

/* x (2,3) -> h = 2x -> v = h viewed (3,2) -> y = exp(v) -> loss = sum(y).
 * Intermediates hold no gradient after backward unless they asked
 * (_i = 1: each retained); the leaf gets 2 exp(2x) either way. */
START_TEST(test_nonleaf_grad_released_after_use)
{
    bool retain = _i;
    const float xv[] = {-1.0f, -0.5f, 0.0f, 0.25f, 0.5f, 1.0f};
    Tensor *x = tensor_requires_grad_(tensor_from_data(xv, SHAPE(2, 3)), true);
    Tensor *h = tensor_mul_scalar(x, 2.0f);
    Tensor *v = tensor_view(h, SHAPE(3, 2));
    Tensor *y = tensor_exp(v);
    Tensor *loss = tensor_sum(y);
    Tensor *inner[] = {h, v, y, loss};
    for (int i = 0; retain && i < 4; i++) ck_assert_ptr_eq(tensor_retain_grad(inner[i]), inner[i]);
    float e[6], dx[6];
    for (int i = 0; i < 6; i++) e[i] = expf(2.0f * xv[i]), dx[i] = 2.0f * e[i];
    /* The library's exp kernel and libm's expf may differ in the last bits:
     * 1e-6 relative is a few float32 ulps (2^-23 = 1.2e-7). */
    Tensor *want_dx = tensor_from_data(dx, SHAPE(2, 3));
    for (int pass = 1; pass <= 2; pass++) {
        /* The first with retain_graph, the second without: the path a
         * reader takes who backpropagates twice through one graph. */
        int rc = pass == 1 ? tensor_backward_retain(loss, NULL) : tensor_backward(loss, NULL);
        ck_assert_msg(rc == 0, "%s", tensor_error());
        /* The leaf accumulates: pass times 2 exp(2x) (doubling is exact). */
        ck_assert_tensor_close(x->grad, tensor_mul_scalar(want_dx, (float)pass), 0, 1e-6);
        for (int i = 0; i < 4; i++) ck_assert_msg(retain == (inner[i]->grad != NULL), "%d", i);
        if (!retain) continue;
        /* What the latest pass sent each, in its own shape. */
        ck_assert_tensor_close(h->grad, tensor_from_data(e, SHAPE(2, 3)), 0, 1e-6);
        ck_assert_tensor_close(v->grad, tensor_from_data(e, SHAPE(3, 2)), 0, 1e-6);
        ck_assert_tensor_close(y->grad, tensor_ones(SHAPE(3, 2)), 0, 0);
        ck_assert_float_eq(loss->grad->data[0], 1.0f);
    }
    ck_assert_int_eq(tensor_backward(loss, NULL), -1);   /* the graph is spent */
}
END_TEST

/* A chain of 32 ops on 64 KiB tensors: a backward releases each gradient
 * once used and the next one takes its buffer, and what each node's
 * backward makes for itself ends with it, so the walk adds about two
 * gradients to the scope, not 32 (nor 32 more temporaries).  With every
 * intermediate retained (_i = 1) the 32 gradients must all stay. */
START_TEST(test_backward_reuses_released_gradients)
{
    enum { N = 32 };
    const size_t grad_bytes = 128 * 128 * sizeof(float);
    TensorScope *s = tensor_scope_begin();
    Tensor *x = tensor_requires_grad_(tensor_ones(SHAPE(128, 128)), true);
    Tensor *t = x;
    for (int i = 0; i < N; i++) {
        t = tensor_mul_scalar(t, 1.0f);
        if (_i) tensor_retain_grad(t);
    }
    Tensor *loss = tensor_sum(t);
    size_t before = tensor__scope_used_bytes();
    ck_assert_int_eq(tensor_backward(loss, NULL), 0);
    size_t added = tensor__scope_used_bytes() - before;
    ck_assert_float_eq(x->grad->data[128 * 128 - 1], 1.0f);
    if (_i)
        ck_assert_uint_ge(added, (N + 1) * grad_bytes);   /* x's and the 32 kept */
    else
        ck_assert_msg(added <= 3 * grad_bytes, "the walk added %zu bytes", added);
    tensor_scope_end(s);
}
END_TEST

/* A walk's number marks the nodes it visited; past 2^32 walks the numbers
 * must not come back to a fresh node's mark. */
START_TEST(test_backward_after_2_to_the_32_walks)
{
    tensor__set_visit_epoch(UINT32_MAX - 1);
    Tensor *x = tensor_requires_grad_(tensor_ones(SHAPE(2)), true);
    for (int walk = 1; walk <= 3; walk++) {
        ck_assert_int_eq(tensor_backward(tensor_sum(tensor_mul_scalar(x, 2)), NULL), 0);
        ck_assert_msg(x->grad && x->grad->data[0] == 2.0f * (float)walk, "walk %d", walk);
    }
}
END_TEST

START_TEST(test_backward_errors)
{
    tensor_clear_error();
    Tensor *x = tensor_zeros(SHAPE(2, 2));
    ck_assert_int_eq(tensor_backward(x, NULL), -1);
    ck_assert_str_eq(tensor_error(),
                     "backward: tensor (2,2) does not require grad and has no grad_fn");
    tensor_requires_grad_(x, true);
    ck_assert_int_eq(tensor_backward(x, NULL), -1);
    ck_assert_str_eq(tensor_error(), "backward: grad can be implicitly created only for "
                                     "scalar outputs; output has shape (2,2)");
    ck_assert_int_eq(tensor_backward(x, tensor_zeros(SHAPE(3))), -1);
    ck_assert_str_eq(tensor_error(),
                     "backward: grad_output shape (3) differs from output shape (2,2)");
    ck_assert_int_eq(tensor_backward(NULL, NULL), -1);
}
END_TEST

/* A sum over an expanded view counts the repeated values instead of reading
 * (or copying) each: 2^40 elements in a moment, no memory.  It copied the
 * view first and aborted out of memory.  Its gradient is the expand's. */
START_TEST(test_sum_of_an_expanded_view)
{
    const int64_t n = INT64_C(1) << 20;
    Tensor *x = tensor_requires_grad_(tensor_from_data((float[]){1.5f, -0.25f}, SHAPE(2, 1, 1)),
                                      true);
    Tensor *big = tensor_expand(x, SHAPE(2, n, n / 2));      /* 2^40 elements */
    Tensor *s = tensor_sum(big);
    ck_assert_msg(s != NULL, "%s", tensor_error());
    ck_assert_float_eq(tensor_item(s), 1.25f * (float)(n * n / 2));
    ck_assert_float_eq(tensor_item(tensor_mean(big)), 0.625f);
    ck_assert_int_eq(tensor_backward(tensor_sum(tensor_expand(x, SHAPE(2, 3, 4))), NULL), 0);
    ck_assert_float_eq(tensor_get(x->grad, IDX(1, 0, 0)), 12.0f);
    /* A view with a stride of 0 among others: the same sum as its copy. */
    Tensor *t = tensor_transpose(tensor_expand(tensor_arange(0, 6, 1), SHAPE(4, 6)), 0, 1);
    ck_assert_float_eq(tensor_item(tensor_sum(t)), tensor_item(tensor_sum(tensor_contiguous(t))));
}
END_TEST

START_TEST(test_no_grad_nests)
{
    ck_assert(tensor_is_grad_enabled());
    tensor_no_grad_begin();
    tensor_no_grad_begin();
    tensor_no_grad_end();
    ck_assert(!tensor_is_grad_enabled());
    tensor_no_grad_end();
    ck_assert(tensor_is_grad_enabled());
}
END_TEST

static Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_creation_shapes);
    tcase_add_test(tc, test_from_data_and_get);
    tcase_add_test(tc, test_arange_matches_torch);
    tcase_add_test(tc, test_bad_shapes_are_errors);
    tcase_add_test(tc, test_set_error);
    tcase_add_test(tc, test_sum_of_an_expanded_view);
    tcase_add_test(tc, test_scope_frees_and_reuses);
    tcase_add_test(tc, test_keep_outlives_scope);
    tcase_add_test(tc, test_scope_return_outlives_its_scope);
    tcase_add_test(tc, test_bump_version_refuses_a_stale_backward);
    tcase_add_test(tc, test_backward_on_leaf_accumulates);
    tcase_add_loop_test(tc, test_repeated_backward_keeps_memory_flat, 0, 2);   /* 1: retained */
    tcase_add_loop_test(tc, test_nonleaf_grad_released_after_use, 0, 2);   /* 1: retained */
    tcase_add_loop_test(tc, test_backward_reuses_released_gradients, 0, 2); /* 1: retained */
    tcase_add_test(tc, test_backward_after_2_to_the_32_walks);
    tcase_add_test(tc, test_backward_errors);
    tcase_add_test(tc, test_no_grad_nests);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(core_suite)
