/*
 * nn_generate's fast path for a GPTModel (nn/gpt.c, white-box: it reads
 * nn/nn_internal.h): the logits of the last position only, with the keys and
 * values of earlier positions cached, against the last row of the full
 * forward that the book's generate_text_simple runs for every token.
 *
 * Tolerance: none.  Every product, mask row, softmax row and layer-norm
 * row of a new position sees the values the full forward gives it, in the
 * same order (the sgemm sums each element of C over p = 0 .. k-1 in the
 * same kc blocks however many rows it computes), so the logits must be
 * equal bit for bit, and the ids then too.  The wide config has emb_dim
 * 400 and a 1600-wide feed-forward, past the kernel's depth block of 384,
 * so that a row computed alone crosses the same block boundaries.
 *
 * In an autocast region the same holds: a token then reads the weights and
 * the keys and values from bf16 panels (core/autocast.c, ops/kv_cache.c),
 * the full forward packs the floats, and both round and sum alike.  The
 * long config has a context past the depth block of 384, where a token's
 * weights @ values crosses it.
 */
#include "testutil.h"
#include "nn/nn_internal.h"

#include <string.h>

static const NNGPTConfig small = {50, 8, 16, 4, 2, 0.1, false};
static const NNGPTConfig wide = {64, 12, 400, 5, 1, 0.0, true};
/* three blocks: keys and values of later blocks come from earlier blocks'
 * rows computed in earlier calls */
static const NNGPTConfig deep = {61, 40, 48, 3, 3, 0.0, true};
static const NNGPTConfig longer = {64, 400, 32, 2, 1, 0.0, false};

/* ids (B, T0) of a fixed pattern below the vocabulary */
static Tensor *start_ids(int64_t B, int64_t T0, int64_t vocab)
{
    Tensor *ids = tensor_empty(SHAPE(B, T0));
    for (int64_t i = 0; i < B * T0; i++) ids->data[i] = (float)((7 * i + 3) % vocab);
    return ids;
}

/* The book's loop: logits[:, -1, :] of the forward over the window. */
static Tensor *full_last(Module *m, const Tensor *window)
{
    Tensor *logits = nn_forward(m, window);
    ck_assert_msg(logits != NULL, "%s", tensor_error());
    return tensor_squeeze(tensor_narrow(logits, 1, logits->shape[1] - 1, 1), 1);
}

static void assert_bits(const Tensor *got, const Tensor *want, int64_t n)
{
    ck_assert_msg(got != NULL, "position %lld: %s", (long long)n, tensor_error());
    ck_assert_int_eq(got->numel, want->numel);
    Tensor *g = tensor_contiguous(got), *w = tensor_contiguous(want);
    for (int64_t i = 0; i < g->numel; i++)
        ck_assert_msg(memcmp(&g->data[i], &w->data[i], sizeof(float)) == 0,
                      "position %lld, logit %lld: cached %.9g, full %.9g", (long long)n,
                      (long long)i, g->data[i], w->data[i]);
}

/* Token by token from T0 ids up to and past the context (the window then
 * slides): each step's logits as the full forward's last row, bit for bit;
 * the next ids are their argmax, as generate_text_simple picks them. */
static void check_cached_in(NNGPTConfig cfg, int64_t B, int64_t T0, int64_t extra, bool bf16)
{
    TensorScope *scope = tensor_scope_begin();
    tensor_autocast_begin(bf16);
    tensor_manual_seed(123);
    Module *m = nn_gpt_model(cfg);
    ck_assert_ptr_nonnull(m);
    nn_train(m, false);
    tensor_no_grad_begin();
    int64_t ctx = cfg.context_length, total = ctx + extra;
    Tensor *ids = tensor_empty(SHAPE(B, total));
    tensor_copy_(tensor_narrow(ids, 1, 0, T0), start_ids(B, T0, cfg.vocab_size));
    NNGPTCache *cache = nn__gpt_cache_new(m, B, ctx);
    ck_assert_ptr_nonnull(cache);
    for (int64_t n = T0; n < total; n++) {
        int64_t start = n > ctx ? n - ctx : 0;
        Tensor *window = tensor_narrow(ids, 1, start, n - start);
        Tensor *want = full_last(m, window);
        assert_bits(nn__gpt_last_logits(m, cache, window, start), want, n);
        tensor_copy_(tensor_narrow(ids, 1, n, 1), tensor_argmax(want, -1, true));
    }
    nn__gpt_cache_free(cache);
    tensor_no_grad_end();
    tensor_autocast_end();
    nn_module_free(m);
    tensor_scope_end(scope);
}

static void check_cached(NNGPTConfig cfg, int64_t B, int64_t T0, int64_t extra)
{
    check_cached_in(cfg, B, T0, extra, false);
    check_cached_in(cfg, B, T0, extra, true);
}

START_TEST(test_cached_small) { check_cached(small, 2, 3, 4); }
END_TEST

START_TEST(test_cached_wide) { check_cached(wide, 1, 1, 2); }
END_TEST

START_TEST(test_cached_deep) { check_cached(deep, 2, 1, 2); }
END_TEST

/* From a prompt longer than one token to the end, several positions at
 * once: the first call computes T0 positions, the next one each. */
START_TEST(test_cached_prompt)
{
    check_cached(wide, 2, 5, 1);
}
END_TEST

START_TEST(test_cached_long_context) { check_cached(longer, 1, 378, 2); }
END_TEST

/* nn_generate itself: the same ids as the book's loop written out here
 * (full forward over the last context_size ids, argmax), through the
 * slide of the window, for a context_size below the model's. */
START_TEST(test_generate_as_book_loop)
{
    TensorScope *scope = tensor_scope_begin();
    tensor_manual_seed(7);
    Module *m = nn_gpt_model(small);
    int64_t B = 2, T0 = 2, new_tokens = 9, context_size = 6;
    Tensor *start = start_ids(B, T0, small.vocab_size);
    Tensor *got = nn_generate_text_simple(m, start, new_tokens, context_size);
    ck_assert_msg(got != NULL, "%s", tensor_error());
    ck_assert_msg(m->training, "generate restores the model's mode");
    nn_train(m, false);
    tensor_no_grad_begin();
    Tensor *want = tensor_empty(SHAPE(B, T0 + new_tokens));
    tensor_copy_(tensor_narrow(want, 1, 0, T0), start);
    for (int64_t n = T0; n < T0 + new_tokens; n++) {
        int64_t s = n > context_size ? n - context_size : 0;
        Tensor *last = full_last(m, tensor_narrow(want, 1, s, n - s));
        tensor_copy_(tensor_narrow(want, 1, n, 1), tensor_argmax(last, -1, true));
    }
    tensor_no_grad_end();
    ck_assert_int_eq(got->shape[1], want->shape[1]);
    for (int64_t b = 0; b < B; b++)
        for (int64_t i = 0; i < T0 + new_tokens; i++)
            ck_assert_float_eq(tensor_get(got, IDX(b, i)), tensor_get(want, IDX(b, i)));
    nn_module_free(m);
    tensor_scope_end(scope);
}
END_TEST

/* Only a GPTModel has the fast path; other models go through nn_forward. */
START_TEST(test_cache_only_for_gpt)
{
    TensorScope *scope = tensor_scope_begin();
    Module *l = nn_linear(4, 4, false);
    ck_assert_ptr_null(nn__gpt_cache_new(l, 1, 4));
    Module *m = nn_gpt_model(small);
    ck_assert_ptr_null(nn__gpt_cache_new(m, 1, small.context_length + 1));
    ck_assert_ptr_null(nn__gpt_cache_new(m, 0, 4));
    nn_module_free(l);
    nn_module_free(m);
    tensor_scope_end(scope);
}
END_TEST

static Suite *generate_suite(void)
{
    Suite *s = suite_create("generate");
    TCase *tc = tcase_create("cache");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_cached_small);
    tcase_add_test(tc, test_cached_wide);
    tcase_add_test(tc, test_cached_deep);
    tcase_add_test(tc, test_cached_prompt);
    tcase_add_test(tc, test_cached_long_context);
    tcase_add_test(tc, test_generate_as_book_loop);
    tcase_add_test(tc, test_cache_only_for_gpt);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(generate_suite)
