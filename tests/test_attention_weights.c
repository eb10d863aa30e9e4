/*
 * The attention weights a module keeps for pictures (nn_attention_keep_weights,
 * nn_attention_weights, nn_gpt_attention) against PyTorch: the fixtures of
 * tests/reference/gen_attention_weights.py, the input of each torch module's
 * dropout, i.e. softmax(masked(Q K^T) / sqrt(d)).
 *
 * Tolerance: |c - torch| <= 1e-6 + 1e-5 * |torch|, as the module outputs in
 * test_nn_torch.c: the weights are three or four float32 ops deep (matmul,
 * scale, softmax), summed in another order than torch's kernels, a few ulps
 * each; a wrong mask, scale or head order is off by 1e-2 or more.  The
 * masked entries must be exactly 0 (exp(-inf)).
 */
#include "testutil.h"

#define FIXTURES "attention_weights.txt"
#define W_ATOL 1e-6
#define W_RTOL 1e-5

static Tensor *book_batch(void)
{
    Tensor *x = nn_example_inputs();
    return tensor_stack(2, (Tensor *const[]){x, x}, 0);
}

/* Every entry of w (..., T, T) above the diagonal is exactly 0. */
static void assert_causal(const Tensor *w)
{
    int64_t T = w->shape[w->ndim - 1];
    for (int64_t i = 0; i < w->numel; i++) {
        int64_t col = i % T, row = (i / T) % T;
        if (col > row) ck_assert_msg(w->data[i] == 0.0f, "entry %lld (row %lld, col %lld) is %g",
                                     (long long)i, (long long)row, (long long)col,
                                     (double)w->data[i]);
    }
}

/* m keeps its weights; one forward on x; they equal the fixture. */
static const Tensor *kept_after(Module *m, const Tensor *x, const char *fixture)
{
    ck_assert_int_eq(nn_attention_keep_weights(m, true), 0);
    ck_assert_ptr_nonnull(nn_forward(m, x));
    const Tensor *w = nn_attention_weights(m);
    ck_assert_tensor_close(w, testutil_fixture(FIXTURES, fixture), W_ATOL, W_RTOL);
    ck_assert(tensor_is_long_lived(w));
    ck_assert(!w->requires_grad);
    return w;
}

START_TEST(test_modules_keep_torch_weights)
{
    TensorScope *scope = tensor_scope_begin();
    Tensor *x = nn_example_inputs();
    Tensor *batch = book_batch();

    tensor_manual_seed(123);
    Module *v1 = nn_self_attention_v1(3, 2);
    kept_after(v1, x, "v1");
    tensor_manual_seed(789);
    Module *v2 = nn_self_attention_v2(3, 2, false);
    kept_after(v2, x, "v2");
    tensor_manual_seed(123);
    Module *ca = nn_causal_attention(3, 2, 6, 0.0f, false);
    assert_causal(kept_after(ca, batch, "causal"));
    tensor_manual_seed(123);
    Module *w = nn_multi_head_attention_wrapper(3, 2, 6, 0.0f, 2, false);
    assert_causal(kept_after(w, batch, "wrapper"));
    tensor_manual_seed(123);
    Module *mha = nn_multi_head_attention(3, 2, 6, 0.0f, 2, false);
    assert_causal(kept_after(mha, batch, "mha"));
    tensor_scope_end(scope);

    /* long-lived: still readable after the forward's scope ended */
    ck_assert_tensor_close(nn_attention_weights(mha),
                           testutil_fixture(FIXTURES, "mha"), W_ATOL, W_RTOL);
    nn_module_free(v1);
    nn_module_free(v2);
    nn_module_free(ca);
    nn_module_free(w);
    nn_module_free(mha);
}
END_TEST

/* Dropout acts after the weights are kept: a training forward with p = 0.5
 * keeps the same weights as the book's eval forward (rows summing to 1),
 * while its output differs. */
START_TEST(test_weights_are_taken_before_dropout)
{
    TensorScope *scope = tensor_scope_begin();
    tensor_manual_seed(123);
    Module *mha = nn_multi_head_attention(3, 2, 6, 0.5f, 2, false);
    ck_assert(mha->training);
    kept_after(mha, book_batch(), "mha");
    Tensor *sums = tensor_sum_dim(nn_attention_weights(mha), -1, false);
    ck_assert_tensor_close(sums, tensor_ones(SHAPE(2, 2, 6)), 1e-6, 0);
    tensor_scope_end(scope);
    nn_module_free(mha);
}
END_TEST

START_TEST(test_gpt_layers_keep_torch_weights)
{
    NNGPTConfig cfg = {50, 8, 16, 4, 2, 0.1, false};
    tensor_manual_seed(123);
    Module *model = nn_gpt_model(cfg);
    ck_assert_ptr_nonnull(model);
    nn_train(model, false);
    TensorScope *scope = tensor_scope_begin();
    Tensor *idx = testutil_fixture(FIXTURES, "gpt.idx");
    Module *first = nn_gpt_attention(model, 0), *last = nn_gpt_attention(model, -1);
    ck_assert_ptr_nonnull(first);
    ck_assert_ptr_eq(last, nn_gpt_attention(model, 1));
    ck_assert_int_eq(nn_attention_keep_weights(first, true), 0);
    ck_assert_int_eq(nn_attention_keep_weights(last, true), 0);
    /* both paths of the model: with autograd, and under no-grad (where each
     * block runs in a scope of its own that ends before the next) */
    for (int grad = 1; grad >= 0; grad--) {
        if (!grad) tensor_no_grad_begin();
        ck_assert_ptr_nonnull(nn_forward(model, idx));
        if (!grad) tensor_no_grad_end();
        ck_assert_tensor_close(nn_attention_weights(first),
                               testutil_fixture(FIXTURES, "gpt.layer0"), W_ATOL, W_RTOL);
        ck_assert_tensor_close(nn_attention_weights(last),
                               testutil_fixture(FIXTURES, "gpt.layer1"), W_ATOL, W_RTOL);
        assert_causal(nn_attention_weights(last));
    }
    ck_assert_error_has(nn_gpt_attention(model, 2), "layer 2 out of range for 2 layers");
    ck_assert_error_has(nn_gpt_attention(model, -3), "layer -3 out of range");
    ck_assert_error_has(nn_gpt_attention(first, 0), "MultiHeadAttention is not a GPTModel");
    ck_assert_ptr_null(nn_gpt_attention(NULL, 0));
    tensor_scope_end(scope);
    nn_module_free(model);
}
END_TEST

START_TEST(test_keep_weights_errors)
{
    TensorScope *scope = tensor_scope_begin();
    tensor_manual_seed(123);
    Module *ca = nn_causal_attention(3, 2, 6, 0.0f, false);
    Module *lin = nn_linear(3, 2, true);
    ck_assert_error_has(nn_attention_weights(ca), "nn_attention_keep_weights was not set");
    ck_assert_int_eq(nn_attention_keep_weights(ca, true), 0);
    ck_assert_error_has(nn_attention_weights(ca), "CausalAttention keeps no weights");
    ck_assert_ptr_nonnull(nn_forward(ca, book_batch()));
    ck_assert_ptr_nonnull(nn_attention_weights(ca));
    /* clearing keep frees the copy (ASan sees a leak otherwise) */
    ck_assert_int_eq(nn_attention_keep_weights(ca, false), 0);
    ck_assert_error_has(nn_attention_weights(ca), "was not set");
    ck_assert_int_eq(nn_attention_keep_weights(lin, true), -1);
    ck_assert(strstr(tensor_error(), "Linear is not an attention module") != NULL);
    tensor_clear_error();
    ck_assert_error_has(nn_attention_weights(lin), "Linear is not an attention module");
    ck_assert_int_eq(nn_attention_keep_weights(NULL, true), -1);
    ck_assert_ptr_null(nn_attention_weights(NULL));
    /* a head cleared by hand: the wrapper has nothing to stack and says so */
    tensor_manual_seed(123);
    Module *w = nn_multi_head_attention_wrapper(3, 2, 6, 0.0f, 2, false);
    ck_assert_int_eq(nn_attention_keep_weights(w, true), 0);
    ck_assert_int_eq(nn_attention_keep_weights(nn_item(nn_item(w, 0), 0), false), 0);
    ck_assert_error_has(nn_forward(w, book_batch()), "heads keep no weights");
    tensor_scope_end(scope);
    nn_module_free(ca);
    nn_module_free(lin);
    nn_module_free(w);
}
END_TEST

TCase *nn_attention_weights_tcase(void)
{
    TCase *tc = tcase_create("attention_weights");
    tcase_add_test(tc, test_modules_keep_torch_weights);
    tcase_add_test(tc, test_weights_are_taken_before_dropout);
    tcase_add_test(tc, test_gpt_layers_keep_torch_weights);
    tcase_add_test(tc, test_keep_weights_errors);
    return tc;
}
