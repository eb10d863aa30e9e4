/*
 * The nn modules against PyTorch 1.13: the fixtures of
 * tests/reference/gen_nn.py and the book's printed chapter 3 outputs.
 *
 * Tolerances
 *   Parameters and buffers: bit-exact.  They come from the same MT19937
 *   draws through the same float formulas as torch's CPU kernels.
 *   Outputs: |c - torch| <= 1e-6 + 1e-5 * |torch|.  The forward passes
 *   chain about six float32 ops (matmul, softmax, matmul, ...) whose sums run
 *   in a different order than torch's kernels; each op adds a few ulps
 *   (6e-8 relative), so agreement to 1e-5 relative is expected and a real
 *   error (a wrong mask, scale or head split) is off by far more.  The 1e-6
 *   absolute term covers values near zero, where cancellation in a sum of
 *   O(1) terms leaves an absolute, not a relative, rounding error.
 *   Gradients: the same 1e-5 relative, with 1e-6 absolute for the same
 *   reason; some are zero in exact arithmetic (the key bias: adding a
 *   constant to a row of scores leaves its softmax unchanged) and come out
 *   as +-1e-10 in both libraries.  Both bounds hold with a margin of ten:
 *   the largest deviation seen is below 1e-7 + 1e-6 relative.
 */
#include "testutil.h"

#include <stdarg.h>
#include <stdint.h>

#define FIXTURES "nn.txt"
#define OUT_ATOL 1e-6
#define OUT_RTOL 1e-5

TCase *nn_torch_tcase(void);

/* ---- the cases of gen_nn.py ----------------------------------------------- */

typedef enum { K_LINEAR, K_DROPOUT, K_V1, K_V2, K_CA, K_MHAW, K_MHA } Kind;

typedef struct {
    const char *name;
    Kind kind;
    int d_in, d_out, context_length, num_heads;   /* Linear: in, out */
    float dropout;
    bool bias;
    uint64_t seed;
    bool train, mse;
} Case;

static const Case cases[] = {
    {"book_v1", K_V1, 3, 2, 0, 0, 0, false, 123, true, false},
    {"book_v2", K_V2, 3, 2, 0, 0, 0, false, 789, true, false},
    {"book_ca", K_CA, 3, 2, 6, 0, 0, false, 123, true, false},
    {"book_mhaw", K_MHAW, 3, 2, 6, 2, 0, false, 123, true, false},
    {"book_mha", K_MHA, 3, 2, 6, 2, 0, false, 123, true, false},
    {"dropout_book", K_DROPOUT, 0, 0, 0, 0, 0.5f, false, 123, true, false},
    {"dropout_eval", K_DROPOUT, 0, 0, 0, 0, 0.5f, false, 123, false, false},
    {"linear_in1", K_LINEAR, 1, 3, 0, 0, 0, true, 1, true, true},
    {"linear_in2", K_LINEAR, 2, 3, 0, 0, 0, true, 2, true, true},
    {"linear_in3", K_LINEAR, 3, 3, 0, 0, 0, true, 3, true, true},
    {"linear_in5", K_LINEAR, 5, 3, 0, 0, 0, true, 5, true, true},
    {"linear_in7", K_LINEAR, 7, 3, 0, 0, 0, true, 7, true, true},
    {"linear_in10", K_LINEAR, 10, 3, 0, 0, 0, true, 10, true, true},
    {"linear_in16", K_LINEAR, 16, 3, 0, 0, 0, true, 16, true, true},
    {"linear_in64", K_LINEAR, 64, 3, 0, 0, 0, true, 64, true, true},
    {"linear_in100", K_LINEAR, 100, 3, 0, 0, 0, true, 100, true, true},
    {"linear_in768", K_LINEAR, 768, 3, 0, 0, 0, true, 768, true, true},
    {"linear_nobias", K_LINEAR, 7, 5, 0, 0, 0, false, 11, true, true},
    {"v1_batch", K_V1, 5, 4, 0, 0, 0, false, 1, true, true},
    {"v1_d6", K_V1, 6, 3, 0, 0, 0, false, 21, true, true},
    {"v2_bias", K_V2, 4, 3, 0, 0, 0, true, 2, true, true},
    {"v2_batch", K_V2, 6, 8, 0, 0, 0, false, 3, true, true},
    {"v2_batch_bias", K_V2, 3, 2, 0, 0, 0, true, 31, true, false},
    {"ca_bias", K_CA, 5, 3, 8, 0, 0, true, 4, true, true},
    {"ca_unbatched", K_CA, 5, 3, 8, 0, 0, false, 41, true, true},
    {"ca_drop_train", K_CA, 3, 2, 6, 0, 0.5f, false, 5, true, true},
    {"ca_drop_eval", K_CA, 3, 2, 6, 0, 0.5f, false, 5, false, true},
    {"mhaw_drop", K_MHAW, 4, 2, 5, 3, 0.5f, true, 6, true, true},
    {"mhaw_unbatched", K_MHAW, 3, 4, 6, 2, 0, false, 61, true, false},
    {"mha_bias", K_MHA, 6, 8, 10, 4, 0, true, 7, true, true},
    {"mha_drop_train", K_MHA, 4, 6, 5, 3, 0.5f, false, 8, true, true},
    {"mha_drop_eval", K_MHA, 4, 6, 5, 3, 0.3f, false, 8, false, true},
    {"mha_unbatched", K_MHA, 4, 6, 5, 3, 0.5f, false, 9, true, true},
    {"mha_one_head", K_MHA, 3, 4, 6, 1, 0, false, 10, true, false},
};
enum { N_CASES = sizeof cases / sizeof cases[0] };

static Module *build(const Case *c)
{
    switch (c->kind) {
    case K_LINEAR: return nn_linear(c->d_in, c->d_out, c->bias);
    case K_DROPOUT: return nn_dropout(c->dropout);
    case K_V1: return nn_self_attention_v1(c->d_in, c->d_out);
    case K_V2: return nn_self_attention_v2(c->d_in, c->d_out, c->bias);
    case K_CA:
        return nn_causal_attention(c->d_in, c->d_out, c->context_length, c->dropout,
                                      c->bias);
    case K_MHAW:
        return nn_multi_head_attention_wrapper(c->d_in, c->d_out, c->context_length,
                                                  c->dropout, c->num_heads, c->bias);
    case K_MHA:
        return nn_multi_head_attention(c->d_in, c->d_out, c->context_length, c->dropout,
                                          c->num_heads, c->bias);
    }
    return NULL;
}

static Module *build_seeded(const Case *c)
{
    tensor_manual_seed(c->seed);
    Module *m = build(c);
    ck_assert_msg(m != NULL, "%s: %s", c->name, tensor_error());
    nn_train(m, c->train);
    return m;
}

/* The fixture tensor named by a printf format: fixture("%s.grad.%s", case, name). */
static Tensor *fixture(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static Tensor *fixture(const char *fmt, ...)
{
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    return testutil_fixture(FIXTURES, name);
}

/* The rest of the fixture line "#<tag> <case> ..." (names separated by
 * spaces), malloc'd; NULL when there is none. */
static char *find_comment(const char *tag, const char *case_name)
{
    char path[1024], prefix[256];
    snprintf(path, sizeof path, "%s/%s", ATTOGRAD_REFERENCE_DIR, FIXTURES);
    snprintf(prefix, sizeof prefix, "#%s %s ", tag, case_name);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char *line = NULL, *found = NULL;
    size_t cap = 0;
    ssize_t len;
    while (!found && (len = getline(&line, &cap, f)) > 0) {
        if (strncmp(line, prefix, strlen(prefix)) != 0) continue;
        if (line[len - 1] == '\n') line[len - 1] = '\0';
        found = strdup(line + strlen(prefix));
    }
    free(line);
    fclose(f);
    return found;
}

static char *fixture_comment(const char *tag, const char *case_name)
{
    char *found = find_comment(tag, case_name);
    ck_assert_msg(found != NULL, "no #%s line for %s", tag, case_name);
    return found;
}

static char *joined_names(const NNList *l)
{
    size_t n = 1;
    for (int i = 0; i < l->count; i++) n += strlen(l->names[i]) + 1;
    char *s = calloc(1, n);
    for (int i = 0; i < l->count; i++) {
        if (i) strcat(s, " ");
        strcat(s, l->names[i]);
    }
    return s;
}

static void assert_names(const char *tag, const char *case_name, const NNList *l)
{
    char *want = fixture_comment(tag, case_name), *got = joined_names(l);
    ck_assert_msg(strcmp(want, got) == 0, "%s %s: torch [%s], attograd [%s]", case_name, tag,
                  want, got);
    free(want);
    free(got);
}

static void assert_bits_equal(const Tensor *got, const Tensor *want, const char *what)
{
    ck_assert_msg(got && tensor_same_shape(got, want), "%s: shape %s, torch %s", what,
                  tensor_shape_str(got), tensor_shape_str(want));
    ck_assert(tensor_is_contiguous(got));
    for (int64_t i = 0; i < want->numel; i++)
        ck_assert_msg(memcmp(&got->data[i], &want->data[i], sizeof(float)) == 0,
                      "%s: element %lld: %.9g, torch %.9g", what, (long long)i,
                      (double)got->data[i], (double)want->data[i]);
}

/* ---- construction: parameters, buffers, names, counts -------------------- */

START_TEST(test_construction_matches_torch)
{
    const Case *c = &cases[_i];
    TensorScope *scope = tensor_scope_begin();
    Module *m = build_seeded(c);
    char what[256];

    NNList params = nn_named_parameters(m);
    assert_names("names", c->name, &params);
    for (int i = 0; i < params.count; i++) {
        snprintf(what, sizeof what, "%s.param.%s", c->name, params.names[i]);
        assert_bits_equal(params.tensors[i], fixture("%s.param.%s", c->name, params.names[i]),
                          what);
        ck_assert(params.tensors[i]->requires_grad);
        ck_assert(nn_get_parameter(m, params.names[i]) == params.tensors[i]);
    }
    NNList buffers = nn_named_buffers(m);
    assert_names("buffers", c->name, &buffers);
    for (int i = 0; i < buffers.count; i++) {
        snprintf(what, sizeof what, "%s.buffer.%s", c->name, buffers.names[i]);
        assert_bits_equal(buffers.tensors[i],
                          fixture("%s.buffer.%s", c->name, buffers.names[i]), what);
        ck_assert(!buffers.tensors[i]->requires_grad);
        ck_assert(nn_get_parameter(m, buffers.names[i]) == buffers.tensors[i]);
    }
    ck_assert_int_eq(nn_num_parameters(m),
                     (int64_t)tensor_item(fixture("%s.num_parameters", c->name)));
    nn_list_free(&params);
    nn_list_free(&buffers);
    nn_module_free(m);
    tensor_scope_end(scope);
}
END_TEST

/* ---- forward and backward ---------------------------------------------- */

START_TEST(test_forward_backward_matches_torch)
{
    const Case *c = &cases[_i];
    TensorScope *scope = tensor_scope_begin();
    Module *m = build_seeded(c);
    Tensor *x = fixture("%s.x", c->name);
    Tensor *y = nn_forward(m, x);
    ck_assert_msg(y != NULL, "%s: %s", c->name, tensor_error());
    ck_assert_tensor_close(y, fixture("%s.out", c->name), OUT_ATOL, OUT_RTOL);
    /* The grad_fn torch prints (none for the unbatched runs of the batched
     * classes, which torch can only run as a batch of one). */
    char *grad_fn = find_comment("grad_fn", c->name);
    if (grad_fn) {
        const char *ours = tensor_grad_fn_name(y);
        ck_assert_str_eq(ours ? ours : "None", grad_fn);
        free(grad_fn);
    }

    NNList params = nn_named_parameters(m);
    if (params.count) {
        Tensor *loss = c->mse ? tensor_mse_loss(y, fixture("%s.target", c->name))
                              : tensor_sum(y);
        ck_assert_msg(tensor_backward(loss, NULL) == 0, "%s: %s", c->name, tensor_error());
    }
    for (int i = 0; i < params.count; i++) {
        Tensor *want = fixture("%s.grad.%s", c->name, params.names[i]);
        ck_assert_msg(params.tensors[i]->grad != NULL, "%s: %s has no grad", c->name,
                      params.names[i]);
        ck_assert_tensor_close(params.tensors[i]->grad, want, OUT_ATOL, OUT_RTOL);
    }
    nn_zero_grad(m);
    for (int i = 0; i < params.count; i++) {
        const Tensor *g = params.tensors[i]->grad;
        for (int64_t k = 0; k < g->numel; k++) ck_assert_float_eq(g->data[k], 0.0f);
    }
    nn_list_free(&params);
    nn_module_free(m);
    tensor_scope_end(scope);
}
END_TEST

/* ---- the book's printed values ------------------------------------------- */

static void assert_prints(const Tensor *y, int64_t rows, int64_t cols, const char *const *want,
                          const char *what)
{
    ck_assert_msg(y != NULL, "%s: %s", what, tensor_error());
    const Tensor *c = tensor_contiguous(y);
    for (int64_t item = 0; item < y->numel / (rows * cols); item++) {
        for (int64_t k = 0; k < rows * cols; k++) {
            char got[32];
            snprintf(got, sizeof got, "%.4f", (double)c->data[item * rows * cols + k]);
            ck_assert_msg(strcmp(got, want[k]) == 0, "%s: item %lld element %lld: %s, book %s",
                          what, (long long)item, (long long)k, got, want[k]);
        }
    }
}

static Tensor *book_batch(void)
{
    Tensor *x = nn_example_inputs();
    return tensor_stack(2, (Tensor *const[]){x, x}, 0);
}

START_TEST(test_book_printed_outputs)
{
    static const char *const v1[] = {"0.2996", "0.8053", "0.3061", "0.8210", "0.3058", "0.8203",
                                     "0.2948", "0.7939", "0.2927", "0.7891", "0.2990", "0.8040"};
    static const char *const v2[] = {"-0.0739", "0.0713", "-0.0748", "0.0703",
                                     "-0.0749", "0.0702", "-0.0760", "0.0685",
                                     "-0.0763", "0.0679", "-0.0754", "0.0693"};
    static const char *const ca[] = {"-0.4519", "0.2216",  "-0.5874", "0.0058",
                                     "-0.6300", "-0.0632", "-0.5675", "-0.0843",
                                     "-0.5526", "-0.0981", "-0.5299", "-0.1081"};
    static const char *const mhaw[] = {
        "-0.4519", "0.2216",  "0.4772", "0.1063", "-0.5874", "0.0058",  "0.5891", "0.3257",
        "-0.6300", "-0.0632", "0.6202", "0.3860", "-0.5675", "-0.0843", "0.5478", "0.3589",
        "-0.5526", "-0.0981", "0.5321", "0.3428", "-0.5299", "-0.1081", "0.5077", "0.3493"};
    static const char *const mha[] = {"0.3190", "0.4858", "0.2943", "0.3897", "0.2856", "0.3593",
                                      "0.2693", "0.3873", "0.2639", "0.3928", "0.2575", "0.4028"};
    static const char *const drop[] = {"2", "2", "0", "2", "2", "0", "0", "0", "0", "2", "0", "2",
                                       "2", "2", "2", "2", "0", "2", "0", "2", "2", "0", "0", "2",
                                       "0", "2", "0", "2", "0", "2", "0", "2", "2", "2", "2", "0"};
    TensorScope *scope = tensor_scope_begin();
    Tensor *inputs = nn_example_inputs(), *batch = book_batch();

    tensor_manual_seed(123);
    Module *sa_v1 = nn_self_attention_v1(3, 2);
    Tensor *y = nn_forward(sa_v1, inputs);
    assert_prints(y, 6, 2, v1, "SelfAttention_v1");
    ck_assert_str_eq(tensor_grad_fn_name(y), "MmBackward0");   /* as the book prints */

    tensor_manual_seed(789);
    Module *sa_v2 = nn_self_attention_v2(3, 2, false);
    y = nn_forward(sa_v2, inputs);
    assert_prints(y, 6, 2, v2, "SelfAttention_v2");
    ck_assert_str_eq(tensor_grad_fn_name(y), "MmBackward0");

    tensor_manual_seed(123);
    Module *c = nn_causal_attention(3, 2, 6, 0.0f, false);
    assert_prints(nn_forward(c, batch), 6, 2, ca, "CausalAttention");
    tensor_manual_seed(123);
    Module *w = nn_multi_head_attention_wrapper(3, 2, 6, 0.0f, 2, false);
    assert_prints(nn_forward(w, batch), 6, 4, mhaw, "MultiHeadAttentionWrapper");
    tensor_manual_seed(123);
    Module *m = nn_multi_head_attention(3, 2, 6, 0.0f, 2, false);
    assert_prints(nn_forward(m, batch), 6, 2, mha, "MultiHeadAttention");

    tensor_manual_seed(123);
    Module *d = nn_dropout(0.5f);
    y = nn_forward(d, tensor_ones(SHAPE(6, 6)));
    for (int k = 0; k < 36; k++)
        ck_assert_msg(y->data[k] == (float)atof(drop[k]), "dropout %d: %g", k, (double)y->data[k]);

    nn_module_free(sa_v1);
    nn_module_free(sa_v2);
    nn_module_free(c);
    nn_module_free(w);
    nn_module_free(m);
    nn_module_free(d);
    tensor_scope_end(scope);
}
END_TEST

/* ---- Exercise 3.1 -------------------------------------------------------------- */

START_TEST(test_exercise_3_1)
{
    TensorScope *scope = tensor_scope_begin();
    Tensor *inputs = nn_example_inputs();
    tensor_manual_seed(123);
    Module *sa_v1 = nn_self_attention_v1(3, 2);
    tensor_manual_seed(789);
    Module *sa_v2 = nn_self_attention_v2(3, 2, false);
    ck_assert_int_eq(nn_self_attention_v1_load_v2(sa_v1, sa_v2), 0);
    /* The copies are exact: W[i][j] == weight[j][i]. */
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++)
            ck_assert_float_eq(tensor_get(NN_AS(SelfAttentionV1, sa_v1)->W_key, IDX(i, j)),
                               tensor_get(NN_AS(SelfAttentionV2, sa_v2)->W_key->weight, IDX(j, i)));
    Tensor *y1 = nn_forward(sa_v1, inputs), *y2 = nn_forward(sa_v2, inputs);
    /* Same weights, same input: only the products' summation order may differ. */
    ck_assert_tensor_close(y1, y2, 1e-7, 1e-6);
    ck_assert_tensor_close(y1, testutil_fixture(FIXTURES, "ex31.out"), OUT_ATOL, OUT_RTOL);

    Module *wide = nn_self_attention_v2(4, 2, false);
    ck_assert_int_eq(nn_self_attention_v1_load_v2(sa_v1, wide), -1);
    ck_assert_str_eq(tensor_error(),
                     "self_attention_v1_load_v2: W_query: v1 holds (3,2), v2's weight^T is (4,2)");
    Module *biased = nn_self_attention_v2(3, 2, true);
    ck_assert_int_eq(nn_self_attention_v1_load_v2(sa_v1, biased), -1);
    ck_assert_str_eq(tensor_error(),
                     "self_attention_v1_load_v2: v2 has qkv biases, which v1 cannot hold");
    ck_assert_int_eq(nn_self_attention_v1_load_v2(NULL, sa_v2), -1);
    ck_assert_int_eq(nn_self_attention_v1_load_v2(sa_v1, NULL), -1);
    nn_module_free(sa_v1);
    nn_module_free(sa_v2);
    nn_module_free(wide);
    nn_module_free(biased);
    tensor_scope_end(scope);
}
END_TEST

START_TEST(test_book_parameter_count)
{
    TensorScope *scope = tensor_scope_begin();
    tensor_manual_seed(0);
    Module *m = nn_multi_head_attention(768, 768, 1024, 0.0f, 12, false);
    ck_assert_msg(m != NULL, "%s", tensor_error());
    ck_assert_int_eq(nn_num_parameters(m), 2360064);
    ck_assert_int_eq(nn_num_parameters(m),
                     (int64_t)tensor_item(testutil_fixture(FIXTURES, "mha768.num_parameters")));
    ck_assert_int_eq(NN_AS(MultiHeadAttention, m)->mask->shape[0], 1024);
    ck_assert_int_eq(NN_AS(MultiHeadAttention, m)->head_dim, 64);
    nn_module_free(m);
    tensor_scope_end(scope);
}
END_TEST

/* A forward or a constructor that failed with this message. */
TCase *nn_torch_tcase(void)
{
    TCase *tc = tcase_create("torch");
    tcase_set_timeout(tc, 30);   /* Linear(768, 3) and the (1024, 1024) mask */
    tcase_add_loop_test(tc, test_construction_matches_torch, 0, N_CASES);
    tcase_add_loop_test(tc, test_forward_backward_matches_torch, 0, N_CASES);
    tcase_add_test(tc, test_book_printed_outputs);
    tcase_add_test(tc, test_exercise_3_1);
    tcase_add_test(tc, test_book_parameter_count);
    return tc;
}
