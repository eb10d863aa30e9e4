/*
 * The book's chapter 4 GPTModel and chapter 5 generate against PyTorch 1.13:
 * the fixtures of tests/reference/gen_gpt.py (the book's modules of
 * book_ch04.py), for a small config (vocab 50, context 8, emb 16, 4 heads,
 * 2 layers, dropout 0.1) without and with qkv biases, seed 123.
 *
 * Tolerances
 *   Parameters: bit-exact (the same MT19937 draws through the same float
 *   formulas as torch's kernels; ones and zeros for the norms).
 *   Logits: |c - torch| <= 2e-6 + 2e-5 * |torch|.  Two blocks chain some
 *   twenty float32 ops (embedding sum, two layer norms, four matmuls,
 *   softmax, GELU, the residual sums per block) whose sums run in another
 *   order than torch's kernels; each adds a few ulps (6e-8 relative) and the
 *   layer norms divide by standard deviations below 1, which amplifies the
 *   differences.  The largest deviation measured is 3e-7 (logits are O(1)),
 *   a tenth of the bound, while a real error (a wrong mask, a missing
 *   residual, dropout in the wrong place) changes logits by 1e-2 or more.
 *   Gradients: |c - torch| <= 5e-7 + 2e-5 * |torch|: the same chains run
 *   backwards (largest deviation measured 6e-8, a twentieth of the bound);
 *   the absolute term covers gradients that are zero in exact arithmetic
 *   (the key bias: a constant added to a row of scores leaves its softmax
 *   unchanged) and come out as rounding noise in both.
 *   Ids (greedy, sampled, eos): exact.  The logits differ by far less than
 *   the gaps between the candidates the fixtures' draws choose among.
 */
#include "testutil.h"

#include <stdint.h>
#include <sys/resource.h>
#include <unistd.h>

#define FIXTURES "gpt.txt"
#define LOGIT_ATOL 2e-6
#define LOGIT_RTOL 2e-5
#define GRAD_ATOL 5e-7
#define GRAD_RTOL 2e-5

static NNGPTConfig small_config(bool qkv_bias)
{
    return (NNGPTConfig){50, 8, 16, 4, 2, 0.1, qkv_bias};
}

static Tensor *fix(const char *c, const char *what)
{
    char name[256];
    snprintf(name, sizeof name, "%s.%s", c, what);
    return testutil_fixture(FIXTURES, name);
}

static Tensor *fix2(const char *c, const char *what, const char *param)
{
    char name[256];
    snprintf(name, sizeof name, "%s.%s.%s", c, what, param);
    return testutil_fixture(FIXTURES, name);
}

/* Every element equal, as floats. */
static void assert_equal(const Tensor *a, const Tensor *b, const char *what)
{
    ck_assert_msg(a != NULL, "%s: NULL (%s)", what, tensor_error());
    ck_assert_msg(tensor_same_shape(a, b), "%s: shape %s, torch %s", what, tensor_shape_str(a),
                  tensor_shape_str(b));
    Tensor *ac = tensor_contiguous(a), *bc = tensor_contiguous(b);
    for (int64_t i = 0; i < a->numel; i++)
        ck_assert_msg(ac->data[i] == bc->data[i], "%s: element %lld: %.9g, torch %.9g", what,
                      (long long)i, (double)ac->data[i], (double)bc->data[i]);
}

static Tensor *loss_of(const Tensor *logits, const Tensor *target)
{
    Tensor *flat = tensor_view(logits, SHAPE(-1, logits->shape[2]));
    return tensor_cross_entropy(flat, tensor_flatten(target));
}

/* The names of the fixture's "#names <c> ..." line, in order; count in *n. */
static char **fixture_names(const char *c, int *n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", ATTOGRAD_REFERENCE_DIR, FIXTURES);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    static char line[1 << 14];
    char prefix[128];
    snprintf(prefix, sizeof prefix, "#names %s ", c);
    char **names = NULL;
    *n = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, prefix, strlen(prefix)) != 0) continue;
        for (char *tok = strtok(line + strlen(prefix), " \n"); tok; tok = strtok(NULL, " \n")) {
            names = realloc(names, (size_t)(*n + 1) * sizeof *names);
            names[(*n)++] = strdup(tok);
        }
        break;
    }
    fclose(f);
    ck_assert_msg(*n > 0, "no #names line for %s", c);
    return names;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* Parameters after construction, eval logits, their loss's gradients, and the
 * same in train mode with torch's dropout draws. */
static void check_case(const char *c, bool qkv_bias)
{
    TensorScope *scope = tensor_scope_begin();
    tensor_manual_seed(123);
    Module *m = nn_gpt_model(small_config(qkv_bias));
    ck_assert_msg(m != NULL, "%s", tensor_error());

    int n_names;
    char **names = fixture_names(c, &n_names);
    NNList params = nn_named_parameters(m);
    ck_assert_int_eq(params.count, n_names);
    for (int i = 0; i < n_names; i++) {
        ck_assert_str_eq(params.names[i], names[i]);
        assert_equal(params.tensors[i], fix2(c, "param", names[i]), names[i]);
    }

    Tensor *idx = fix(c, "idx"), *target = fix(c, "target");
    nn_train(m, false);
    Tensor *logits = nn_forward(m, idx);
    ck_assert_tensor_close(logits, fix(c, "logits_eval"), LOGIT_ATOL, LOGIT_RTOL);
    ck_assert_int_eq(tensor_backward(loss_of(logits, target), NULL), 0);
    for (int i = 0; i < n_names; i++)
        ck_assert_tensor_close(params.tensors[i]->grad, fix2(c, "grad", names[i]), GRAD_ATOL,
                               GRAD_RTOL);

    nn_zero_grad(m);
    nn_train(m, true);
    tensor_manual_seed(321);
    logits = nn_forward(m, idx);
    ck_assert_tensor_close(logits, fix(c, "logits_train"), LOGIT_ATOL, LOGIT_RTOL);
    ck_assert_int_eq(tensor_backward(loss_of(logits, target), NULL), 0);
    for (int i = 0; i < n_names; i++)
        ck_assert_tensor_close(params.tensors[i]->grad, fix2(c, "grad_train", names[i]),
                               GRAD_ATOL, GRAD_RTOL);

    nn_list_free(&params);
    free_names(names, n_names);
    nn_module_free(m);
    tensor_scope_end(scope);
}

START_TEST(test_small) { check_case("small", false); }
END_TEST

START_TEST(test_small_bias) { check_case("small_bias", true); }
END_TEST

/* Greedy ids, sampled ids (torch.multinomial's draws) and an eos stop. */
static void check_generate(const char *c, bool qkv_bias)
{
    TensorScope *scope = tensor_scope_begin();
    tensor_manual_seed(123);
    Module *m = nn_gpt_model(small_config(qkv_bias));
    ck_assert_ptr_nonnull(m);
    Tensor *start = fix(c, "start");
    /* 4 + 6 ids with context 8: the last steps see only the last 8. */
    assert_equal(nn_generate_text_simple(m, start, 6, 8), fix(c, "greedy"), "greedy");
    ck_assert_msg(m->training, "generate restores the model's mode");
    tensor_manual_seed(456);
    assert_equal(nn_generate(m, start, 6, 8, 1.4, 3, -1), fix(c, "sample"), "sample");
    int64_t eos_id = (int64_t)tensor_item(fix(c, "eos_id"));
    assert_equal(nn_generate(m, start, 6, 8, 0.0, 0, eos_id), fix(c, "eos"), "eos");
    /* Zero new tokens: idx itself. */
    assert_equal(nn_generate(m, start, 0, 8, 0.0, 0, -1), start, "no new tokens");
    nn_module_free(m);
    tensor_scope_end(scope);
}

START_TEST(test_generate) { check_generate("small", false); }
END_TEST

START_TEST(test_generate_bias) { check_generate("small_bias", true); }
END_TEST

/* Each token's intermediates are freed: the scope bytes after 40 tokens are
 * those after 1 token plus the ids, whatever the count. */
START_TEST(test_generate_memory_flat)
{
    tensor_manual_seed(123);
    Module *m = nn_gpt_model(small_config(false));
    Tensor *start = tensor_zeros(SHAPE(1, 4));
    TensorScope *s1 = tensor_scope_begin();
    size_t before = tensor_scope_bytes();
    ck_assert_ptr_nonnull(nn_generate(m, start, 1, 8, 1.0, 5, -1));
    size_t one = tensor_scope_bytes() - before;
    tensor_scope_end(s1);
    TensorScope *s40 = tensor_scope_begin();
    ck_assert_ptr_nonnull(nn_generate(m, start, 40, 8, 1.0, 5, -1));
    size_t forty = tensor_scope_bytes() - before;
    tensor_scope_end(s40);
    /* 39 more ids are 156 bytes; one forward's intermediates are many KiB. */
    ck_assert_msg(forty <= one + 4096, "40 tokens hold %zu bytes, 1 token %zu", forty, one);
    nn_module_free(m);
}
END_TEST

/* PyTorch's state_dict (checkpoint_gpt.safetensors, seed 999) loads into a
 * model built with another seed and gives PyTorch's logits; what
 * nn_module_save writes loads into a third model with the same logits,
 * bit for bit (the same weights, the same ops). */
START_TEST(test_checkpoint)
{
    TensorScope *scope = tensor_scope_begin();
    tensor_manual_seed(123);
    Module *m = nn_gpt_model(small_config(true));
    char path[1024];
    snprintf(path, sizeof path, "%s/checkpoint_gpt.safetensors", ATTOGRAD_REFERENCE_DIR);
    ck_assert_msg(nn_module_load(m, path) == 0, "%s", tensor_error());
    nn_train(m, false);
    Tensor *idx = fix("small_bias", "idx");
    Tensor *logits = nn_forward(m, idx);
    ck_assert_tensor_close(logits, testutil_fixture(FIXTURES, "ckpt.logits"), LOGIT_ATOL,
                           LOGIT_RTOL);

    snprintf(path, sizeof path, "%s/test_gpt_%d.safetensors", ATTOGRAD_BUILD_DIR, (int)getpid());
    ck_assert_msg(nn_module_save(m, path) == 0, "%s", tensor_error());
    tensor_manual_seed(5);
    Module *m2 = nn_gpt_model(small_config(true));
    ck_assert_msg(nn_module_load(m2, path) == 0, "%s", tensor_error());
    nn_train(m2, false);
    assert_equal(nn_forward(m2, idx), logits, "reloaded logits");
    /* A config that differs refuses the file and names the tensor. */
    Module *m3 = nn_gpt_model(small_config(false));
    ck_assert_int_eq(nn_module_load(m3, path), -1);
    ck_assert_msg(strstr(tensor_error(), "bias") != NULL, "%s", tensor_error());
    tensor_clear_error();
    remove(path);
    nn_module_free(m);
    nn_module_free(m2);
    nn_module_free(m3);
    tensor_scope_end(scope);
}
END_TEST

/* ---- files checked against the model they describe --------------------------------- */

/* A copy of the safetensors file src at dst: the tensor called target
 * dropped (index < 0) or with element index set to value. */
static void copy_edited(const char *src, const char *dst, const char *target, int64_t index,
                        float value)
{
    size_t len;
    char *bytes = testutil_read_file(src, &len);
    TensorFile *f = tensor_file_parse(bytes, len, src);
    ck_assert_msg(f != NULL, "%s", tensor_error());
    int n = tensor_file_count(f), m = 0;
    TensorEntry *e = calloc((size_t)n + 1, sizeof *e);
    float *edited = NULL;
    for (int i = 0; i < n; i++) {
        const TensorEntry *in = tensor_file_entry(f, i);
        if (strcmp(in->name, target) != 0) {
            e[m++] = *in;
            continue;
        }
        if (index < 0) continue;
        size_t bytes_of = 4;
        for (int d = 0; d < in->ndim; d++) bytes_of *= (size_t)in->shape[d];
        edited = malloc(bytes_of);
        memcpy(edited, in->data, bytes_of);
        edited[index] = value;
        e[m] = *in;
        e[m++].data = edited;
    }
    ck_assert_msg(tensor_save_entries(dst, m, e, 0, NULL) == 0, "%s", tensor_error());
    free(edited);
    free(e);
    tensor_file_close(f);
    free(bytes);
}

/* The forward applies its own causal pattern (tensor_causal_softmax) and
 * never reads the mask buffer, so a file whose mask differs (zeros, a NaN,
 * a 1 below the diagonal) is refused, with the model unchanged; the book's
 * model would apply that mask, this one would silently ignore it. */
START_TEST(test_masks_must_be_causal)
{
    char path[256], bad[256];
    snprintf(path, sizeof path, "%s/test_gpt_mask_%d.safetensors", ATTOGRAD_BUILD_DIR,
             (int)getpid());
    snprintf(bad, sizeof bad, "%s/test_gpt_mask_bad_%d.safetensors", ATTOGRAD_BUILD_DIR,
             (int)getpid());
    tensor_manual_seed(1);
    Module *m = nn_gpt_model(small_config(true));
    ck_assert_int_eq(nn_module_save(m, path), 0);
    tensor_manual_seed(2);
    Module *other = nn_gpt_model(small_config(true));
    Tensor *before = tensor_keep(nn_get_parameter(other, "tok_emb.weight"));
    static const struct {
        int64_t index;   /* in the (8, 8) mask */
        float value;
        const char *message;
    } cases[] = {
        {1, 0.0f, "trf_blocks.1.att.mask: 0 at (0,1) in file, 1 in module: not the mask the "
                  "module applies"},
        {3 * 8 + 5, NAN, "trf_blocks.1.att.mask: nan at (3,5) in file, 1 in module"},
        {7 * 8 + 0, 1.0f, "trf_blocks.1.att.mask: 1 at (7,0) in file, 0 in module"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        copy_edited(path, bad, "trf_blocks.1.att.mask", cases[c].index, cases[c].value);
        ck_assert_int_eq(nn_module_load(other, bad), -1);
        ck_assert_msg(strstr(tensor_error(), bad) && strstr(tensor_error(), cases[c].message),
                      "%s", tensor_error());
        /* and out of a training checkpoint (gpt_generate --load) */
        ck_assert_int_eq(checkpoint_load_module(other, bad, 0, NULL), -1);
        ck_assert_msg(strstr(tensor_error(), bad) && strstr(tensor_error(), cases[c].message),
                      "%s", tensor_error());
        ck_assert_tensor_close(nn_get_parameter(other, "tok_emb.weight"), before, 0, 0);
    }
    ck_assert_msg(nn_module_load(other, path) == 0, "%s", tensor_error());
    ck_assert_msg(checkpoint_load_module(other, path, 0, NULL) == 0, "%s", tensor_error());
    /* The chapter-3 module keeps the same rule. */
    Module *ca = nn_causal_attention(3, 2, 4, 0.0f, false);
    ck_assert_int_eq(nn_module_save(ca, path), 0);
    copy_edited(path, bad, "mask", 2, 0.0f);
    ck_assert_int_eq(nn_module_load(ca, bad), -1);
    ck_assert_msg(strstr(tensor_error(), "mask: 0 at (0,2) in file, 1 in module"), "%s",
                  tensor_error());
    nn_module_free(ca);
    tensor_free(before);
    nn_module_free(other);
    nn_module_free(m);
    remove(path);
    remove(bad);
}
END_TEST

/* nn_gpt_check_file: a model's own file passes; every tensor of the model
 * is asked for (dropping any one is named); a config the file does not
 * hold (the metadata's word: context 40000, 4096 layers) is refused before
 * anything is built. */
START_TEST(test_check_file)
{
    char path[256], bad[256];
    snprintf(path, sizeof path, "%s/test_gpt_check_%d.safetensors", ATTOGRAD_BUILD_DIR,
             (int)getpid());
    snprintf(bad, sizeof bad, "%s/test_gpt_check_bad_%d.safetensors", ATTOGRAD_BUILD_DIR,
             (int)getpid());
    for (int bias = 0; bias < 2; bias++) {
        NNGPTConfig cfg = small_config(bias);
        Module *m = nn_gpt_model(cfg);
        ck_assert_int_eq(nn_module_save(m, path), 0);
        ck_assert_msg(nn_gpt_check_file(cfg, path) == 0, "%s", tensor_error());
        NNList lists[2] = {nn_named_parameters(m), nn_named_buffers(m)};
        for (int k = 0; k < 2; k++)
            for (int64_t i = 0; i < lists[k].count; i++) {
                copy_edited(path, bad, lists[k].names[i], -1, 0);
                ck_assert_int_eq(nn_gpt_check_file(cfg, bad), -1);
                char expect[1024];
                snprintf(expect, sizeof expect, "load %s: %s is missing from the file", bad,
                         lists[k].names[i]);
                ck_assert_msg(strncmp(tensor_error(), expect, strlen(expect)) == 0, "%s",
                              tensor_error());
            }
        nn_list_free(&lists[0]);
        nn_list_free(&lists[1]);
        nn_module_free(m);
    }
    NNGPTConfig cfg = small_config(true);
    cfg.context_length = 40000;
    ck_assert_int_eq(nn_gpt_check_file(cfg, path), -1);
    ck_assert_msg(strstr(tensor_error(), ": pos_emb.weight: shape (8,16) in file, (40000,16) in "
                                         "model"), "%s", tensor_error());
    cfg = small_config(true);
    cfg.n_layers = 4096;
    ck_assert_int_eq(nn_gpt_check_file(cfg, path), -1);
    ck_assert_msg(strstr(tensor_error(), ": trf_blocks.2.att.W_query.weight is missing"), "%s",
                  tensor_error());
    cfg = small_config(true);
    cfg.n_heads = 3;
    ck_assert_int_eq(nn_gpt_check_file(cfg, path), -1);
    char expect[512];
    snprintf(expect, sizeof expect, "load %s: GPTModel: emb_dim 16 must be divisible by n_heads "
             "3", path);
    ck_assert_str_eq(tensor_error(), expect);
    ck_assert_int_eq(nn_gpt_check_file(small_config(true), "/nonexistent/x"), -1);
    ck_assert_str_eq(tensor_error(), "load /nonexistent/x: No such file or directory");
    remove(path);
    remove(bad);
}
END_TEST

static bool has_name(const NNList *l, const char *name)
{
    for (int i = 0; i < l->count; i++)
        if (strcmp(l->names[i], name) == 0) return true;
    return false;
}

/* The book's state_dict names, and its parameter counts: by the config's
 * arithmetic, by torch (the fixture) and by building the model. */
START_TEST(test_names_and_counts)
{
    NNGPTConfig cfg = NN_GPT_CONFIG_BOOK_TEST;
    tensor_manual_seed(123);
    Module *m = nn_gpt_model(cfg);
    ck_assert_msg(m != NULL, "%s", tensor_error());
    NNList p = nn_named_parameters(m), b = nn_named_buffers(m);
    const char *expected[] = {"tok_emb.weight", "pos_emb.weight",
                              "trf_blocks.0.att.W_query.weight",
                              "trf_blocks.0.att.out_proj.bias", "trf_blocks.0.norm1.scale",
                              "trf_blocks.0.ff.layers.0.weight",
                              "trf_blocks.1.ff.layers.2.bias", "final_norm.shift",
                              "out_head.weight"};
    for (size_t i = 0; i < sizeof expected / sizeof *expected; i++)
        ck_assert_msg(has_name(&p, expected[i]), "no parameter %s", expected[i]);
    ck_assert(!has_name(&p, "out_head.bias"));
    ck_assert(!has_name(&p, "trf_blocks.0.att.W_query.bias"));
    ck_assert_int_eq(b.count, 2);
    ck_assert_str_eq(b.names[0], "trf_blocks.0.att.mask");
    ck_assert_str_eq(p.names[0], "tok_emb.weight");
    ck_assert_str_eq(p.names[p.count - 1], "out_head.weight");
    nn_list_free(&p);
    nn_list_free(&b);

    /* Per block: 4 (E x E) attention weights and out_proj's bias, two
     * Linear layers of the feed-forward (E x 4E + 4E, 4E x E + E), two
     * norms (2E each); around them the embeddings, the final norm and the
     * head (V x E, no bias). */
    int64_t per_block_124m = 4 * 768 * 768 + 768 + (768 * 3072 + 3072) + (3072 * 768 + 768) +
                             4 * 768;
    int64_t count_124m = 50257 * 768 + 1024 * 768 + 12 * per_block_124m + 2 * 768 + 768 * 50257;
    ck_assert_int_eq(count_124m, 163009536);
    ck_assert_int_eq(count_124m, (int64_t)tensor_item(testutil_fixture(FIXTURES, "124m.num_parameters")));
    int64_t E = 32, V = 50257;
    int64_t per_block = 4 * E * E + E + (E * 4 * E + 4 * E) + (4 * E * E + E) + 4 * E;
    int64_t count = V * E + 12 * E + 2 * per_block + 2 * E + E * V;
    ck_assert_int_eq(nn_num_parameters(m), count);
    ck_assert_int_eq(nn_num_parameters(m),
                     (int64_t)tensor_item(testutil_fixture(FIXTURES, "book_test.num_parameters")));
    nn_module_free(m);
}
END_TEST

START_TEST(test_bad_config)
{
    NNGPTConfig cfg = small_config(false);
    cfg.n_heads = 3;
    ck_assert_error_has(nn_gpt_model(cfg), "emb_dim 16 must be divisible by n_heads 3");
    cfg = small_config(false);
    cfg.n_layers = 0;
    ck_assert_error_has(nn_gpt_model(cfg), "GPTModel: vocab_size 50");
    cfg = small_config(false);
    cfg.vocab_size = -1;
    ck_assert_error_has(nn_gpt_model(cfg), "must be positive");
    cfg = small_config(false);
    cfg.drop_rate = 1.0;
    ck_assert_error_has(nn_gpt_model(cfg), "drop_rate 1 must be in [0, 1)");
    cfg.drop_rate = -0.1;
    ck_assert_error_has(nn_gpt_model(cfg), "drop_rate -0.1");
    cfg = small_config(false);
    cfg.vocab_size = (1 << 24) + 1;
    ck_assert_error_has(nn_gpt_model(cfg), "at most 2^24");
    cfg = small_config(false);
    cfg.emb_dim = 0;
    ck_assert_error_has(nn_feed_forward(cfg), "FeedForward");
    ck_assert_error_has(nn_transformer_block(cfg), "TransformerBlock");
}
END_TEST

START_TEST(test_bad_input)
{
    tensor_manual_seed(123);
    Module *m = nn_gpt_model(small_config(false));
    Tensor *ids = tensor_zeros(SHAPE(1, 4));
    ck_assert_error_has(nn_forward(m, tensor_zeros(SHAPE(4))), "GPTModel: input (4)");
    ck_assert_error_has(nn_forward(m, tensor_zeros(SHAPE(1, 9))),
                        "9 tokens, expected 1 to context_length 8");
    ck_assert_error_has(nn_generate(m, ids, 3, 8, -1.0, 0, -1), "temperature -1 must be >= 0");
    ck_assert_error_has(nn_generate(m, ids, 3, 8, NAN, 0, -1), "temperature nan");
    ck_assert_error_has(nn_generate(m, ids, 3, 8, 1.0, -2, -1), "top_k -2 must be >= 0");
    ck_assert_error_has(nn_generate(m, ids, 3, 8, 1.0, 51, -1),
                        "top_k 51 is more than the vocabulary's 50");
    ck_assert_error_has(nn_generate(m, ids, -1, 8, 1.0, 0, -1), "max_new_tokens -1");
    ck_assert_error_has(nn_generate(m, ids, 3, 0, 1.0, 0, -1), "context_size 0");
    ck_assert_error_has(nn_generate(m, tensor_zeros(SHAPE(4)), 3, 8, 1.0, 0, -1), "idx (4)");
    ck_assert(m->training);   /* a refusal mid-way restores the mode too */
    nn_module_free(m);
}
END_TEST

/* The 124M model, built for real (3 s in the release build): 163,009,536
 * parameters, and no full-size temporary on the way.  Check runs each test
 * in a child of its own, so ru_maxrss is this test's peak. */
START_TEST(test_124m)
{
    tensor_manual_seed(123);
    Module *m = nn_gpt_model(NN_GPT_CONFIG_124M);
    ck_assert_msg(m != NULL, "%s", tensor_error());
    ck_assert_int_eq(nn_num_parameters(m), 163009536);
    struct rusage ru;
    ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
    double model_mib = (163009536.0 + 12 * 1024.0 * 1024.0) * 4 / (1 << 20);   /* + masks */
    double peak_mib = (double)ru.ru_maxrss / 1024;
    /* Measured 680 MiB (release) and 713 MiB (ASan) for 670 MiB of parameters
     * and masks; one full-size temporary (the head's 147 MiB of zeros) made
     * it 822 MiB.  The bound lies between: the model plus 128 MiB. */
    ck_assert_msg(peak_mib <= model_mib + 128, "124M: peak RSS %.0f MiB for %.0f MiB of "
                  "parameters and buffers", peak_mib, model_mib);
    nn_module_free(m);
}
END_TEST

static Suite *gpt_suite(void)
{
    Suite *s = suite_create("gpt");
    TCase *tc = tcase_create("torch");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_small);
    tcase_add_test(tc, test_small_bias);
    tcase_add_test(tc, test_generate);
    tcase_add_test(tc, test_generate_bias);
    tcase_add_test(tc, test_generate_memory_flat);
    tcase_add_test(tc, test_names_and_counts);
    tcase_add_test(tc, test_checkpoint);
    tcase_add_test(tc, test_masks_must_be_causal);
    tcase_add_test(tc, test_check_file);
    tcase_add_test(tc, test_bad_config);
    tcase_add_test(tc, test_bad_input);
    suite_add_tcase(s, tc);
    TCase *big = tcase_create("124m");
    tcase_set_timeout(big, 120);
    tcase_add_test(big, test_124m);
    suite_add_tcase(s, big);
    return s;
}

TESTUTIL_MAIN(gpt_suite)
