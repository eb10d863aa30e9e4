/*
 * The book's appendix E (LoRA) against PyTorch: lora.txt (gen_lora.py) for
 * one LinearWithLoRA's draws, forward, gradients and merge, and for a small
 * GPT whose Linears were all replaced (draw order, forward, gradients,
 * merged forward); the fine-tuning runs' first A rows (finetune_*_lora.txt,
 * gen_finetune.py) and the specification's values for the 124M classifier;
 * the book's trainable-parameter counts (finetune_lora_count_*.expected);
 * the LoRA weights saved, loaded and merged.  Drawn values are compared
 * exactly (uniform draws are PyTorch's bit for bit), computed ones to
 * float32 rounding.
 */
#include <unistd.h>

#include "testutil.h"

#define FIXTURE "lora.txt"

static NNGPTConfig small_config(void)
{
    return (NNGPTConfig){.vocab_size = 50, .context_length = 8, .emb_dim = 8, .n_heads = 2,
                         .n_layers = 2, .drop_rate = 0.0, .qkv_bias = true};
}

/* t against lora.txt's @name: |t - want| <= atol + rtol |want| */
#define ck_assert_fixture(t, name, atol, rtol) \
    ck_assert_tensor_close((t), testutil_fixture(FIXTURE, (name)), (atol), (rtol))

/* backward of sum(out * w), w the fixtures' seed (testutil_seed_like) */
static void backward_weighted(Tensor *out)
{
    ck_assert_int_eq(tensor_backward(tensor_sum(tensor_mul(out, testutil_seed_like(out))), NULL), 0);
}

/* The LoRA layers under m in the order their A was drawn (named_parameters'
 * order): their A tensors, then B; returns the count (at most max). */
static int64_t lora_tensors(const Module *m, Tensor **A, Tensor **B, int64_t max)
{
    NNList l = nn_named_parameters(m);
    int64_t n = 0, nb = 0;
    for (int64_t i = 0; i < l.count; i++) {
        size_t len = strlen(l.names[i]);
        const char *tail = len > 7 ? l.names[i] + len - 7 : "";
        if (strcmp(tail, ".lora.A") == 0 && n < max) A[n++] = l.tensors[i];
        if (strcmp(tail, ".lora.B") == 0 && nb < max) B[nb++] = l.tensors[i];
    }
    nn_list_free(&l);
    ck_assert_int_eq(n, nb);
    return n;
}

/* gen_lora.py's B of the k-th layer: 0.01 * ((7 k + 5 r + 3 o) % 11 - 5). */
static void set_B(Module *m)
{
    Tensor *A[32], *B[32];
    int64_t n = lora_tensors(m, A, B, 32);
    for (int64_t k = 0; k < n; k++) {
        int64_t rank = B[k]->shape[0], out = B[k]->shape[1];
        for (int64_t r = 0; r < rank; r++)
            for (int64_t o = 0; o < out; o++)
                B[k]->data[r * out + o] = (float)(0.01 * ((7 * k + 5 * r + 3 * o) % 11 - 5));
    }
}

/* "Total trainable LoRA parameters: 2,666,528" -> 2666528: the number on
 * the line of file (a .expected of gen_finetune.py) that starts with prefix. */
static int64_t expected_count(const char *file, const char *prefix)
{
    char path[1024], line[256];
    snprintf(path, sizeof path, "%s/%s", ATTOGRAD_REFERENCE_DIR, file);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, prefix, strlen(prefix)) != 0) continue;
        fclose(f);
        int64_t v = 0;
        for (const char *p = line + strlen(prefix); *p && *p != '\n'; p++)
            if (*p >= '0' && *p <= '9') v = 10 * v + (*p - '0');
        return v;
    }
    fclose(f);
    ck_abort_msg("%s: no line \"%s\"", file, prefix);
    return -1;
}

/* ---- one LinearWithLoRA ------------------------------------------------------------ */

static Module *one_layer(void)
{
    tensor_manual_seed(123);
    Module *lin = nn_linear(5, 3, true);
    Module *w = nn_linear_with_lora(lin, 2, 3);
    ck_assert_msg(w == lin, "%s", tensor_error());   /* in place */
    LinearWithLoRA *lw = NN_AS(LinearWithLoRA, w);
    ck_assert_ptr_nonnull(lw);
    for (int r = 0; r < 2; r++)
        for (int o = 0; o < 3; o++)
            lw->lora->B->data[r * 3 + o] = (float)(0.1 * (3 * r + o) - 0.25);
    return w;
}

START_TEST(test_linear_with_lora_matches_pytorch)
{
    Module *w = one_layer();
    LinearWithLoRA *lw = NN_AS(LinearWithLoRA, w);
    NNList names = nn_named_parameters(w);
    ck_assert_int_eq(names.count, 4);
    static const char *const want_names[] = {"linear.weight", "linear.bias", "lora.A", "lora.B"};
    for (int i = 0; i < 4; i++) ck_assert_str_eq(names.names[i], want_names[i]);
    nn_list_free(&names);
    /* A Linear's layout: its weight and bias are the wrapped Linear's */
    ck_assert_ptr_eq(lw->weight, lw->linear->weight);
    ck_assert_int_eq(((Linear *)w)->in_features, 5);
    ck_assert_fixture(lw->weight, "one_weight", 0, 0);
    ck_assert_fixture(lw->bias, "one_bias", 0, 0);
    ck_assert_fixture(lw->lora->A, "one_A", 0, 0);

    Tensor *x = tensor_requires_grad_(testutil_fixture(FIXTURE, "one_x"), true);
    Tensor *out = nn_forward(w, x);
    ck_assert_fixture(out, "one_out", 1e-6, 1e-5);
    backward_weighted(out);
    ck_assert_fixture(lw->weight->grad, "one_grad_weight", 1e-6, 1e-5);
    ck_assert_fixture(lw->bias->grad, "one_grad_bias", 1e-6, 1e-5);
    ck_assert_fixture(lw->lora->A->grad, "one_grad_A", 1e-6, 1e-5);
    ck_assert_fixture(lw->lora->B->grad, "one_grad_B", 1e-6, 1e-5);
    ck_assert_fixture(x->grad, "one_grad_x", 1e-6, 1e-5);

    /* merged: W += (alpha / rank) (A B)^T, and the wrapper is a Linear again */
    ck_assert_int_eq(nn_lora_merge(w), 1);
    Linear *l = NN_AS(Linear, w);
    ck_assert_ptr_nonnull(l);
    ck_assert_fixture(l->weight, "one_merged_weight", 1e-6, 1e-6);
    ck_assert_fixture(nn_forward(w, x), "one_merged_out", 1e-6, 1e-5);
    names = nn_named_parameters(w);
    ck_assert_int_eq(names.count, 2);
    ck_assert_str_eq(names.names[0], "weight");
    ck_assert_str_eq(names.names[1], "bias");
    ck_assert_str_eq(l->weight->name, "weight");
    nn_list_free(&names);
    ck_assert_int_eq(w->n_children, 0);
    ck_assert_int_eq(nn_num_parameters(w), 18);
    nn_module_free(w);
}
END_TEST

/* The Linear frozen, as the book's runs have it: only A and B get gradients. */
START_TEST(test_frozen_linear_trains_only_lora)
{
    Module *w = one_layer();
    LinearWithLoRA *lw = NN_AS(LinearWithLoRA, w);
    nn_requires_grad_(NN(lw->linear), false);
    ck_assert_int_eq(nn_num_trainable_parameters(w), 5 * 2 + 2 * 3);
    Tensor *out = nn_forward(w, testutil_fixture(FIXTURE, "one_x"));
    backward_weighted(out);
    ck_assert_ptr_null(lw->weight->grad);
    ck_assert_ptr_null(lw->bias->grad);
    ck_assert_fixture(lw->lora->A->grad, "one_frozen_grad_A", 1e-6, 1e-5);
    ck_assert_fixture(lw->lora->B->grad, "one_frozen_grad_B", 1e-6, 1e-5);
    nn_module_free(w);
}
END_TEST

/* ---- a GPT with every Linear replaced ------------------------------------------------- */

/* GPTModel(cfg) after seed base, eval, frozen; after seed lora_seed and the
 * four int64 draws of appendix E's accuracy loaders, its Linears replaced. */
static Module *lora_gpt(NNGPTConfig cfg, uint64_t base, uint64_t lora_seed, int64_t rank,
                        double alpha)
{
    tensor_manual_seed(base);
    Module *gpt = nn_gpt_model(cfg);
    ck_assert_msg(gpt != NULL, "%s", tensor_error());
    nn_train(gpt, false);
    nn_requires_grad_(gpt, false);
    tensor_manual_seed(lora_seed);
    for (int i = 0; i < 4; i++) tensor_generator_next_u64(NULL);
    int64_t n = nn_replace_linear_with_lora(gpt, rank, alpha);
    ck_assert_msg(n == 6 * cfg.n_layers + 1, "%lld: %s", (long long)n, tensor_error());
    return gpt;
}

static Tensor *fixture_logits(Module *gpt)
{
    return nn_forward(gpt, testutil_fixture(FIXTURE, "gpt_idx"));
}

START_TEST(test_gpt_with_lora_matches_pytorch)
{
    Module *gpt = lora_gpt(small_config(), 123, 123, 2, 4);
    ck_assert_int_eq(nn_num_trainable_parameters(gpt),
                     (int64_t)tensor_item(testutil_fixture(FIXTURE, "gpt_trainable")));
    /* the draw order: every layer's A, exactly */
    Tensor *A[16], *B[16];
    ck_assert_int_eq(lora_tensors(gpt, A, B, 16), 13);
    for (int k = 0; k < 13; k++) {
        char name[32];
        snprintf(name, sizeof name, "gpt_A_%d", k);
        ck_assert_tensor_close(A[k], testutil_fixture(FIXTURE, name), 0, 0);
    }
    ck_assert_str_eq(A[0]->name, "trf_blocks.0.att.W_query.lora.A");
    ck_assert_str_eq(A[12]->name, "out_head.lora.A");
    ck_assert_ptr_nonnull(nn_get_parameter(gpt, "trf_blocks.1.ff.layers.2.linear.bias"));
    /* the attention's typed slot is the wrapper: its forward runs LoRA */
    MultiHeadAttention *mha = NN_AS(MultiHeadAttention, nn_gpt_attention(gpt, 0));
    ck_assert_str_eq(NN(mha->W_query)->type, "LinearWithLoRA");
    ck_assert_ptr_eq(NN(mha->W_query), nn_item(NN(mha), 0));

    set_B(gpt);
    Tensor *logits = fixture_logits(gpt);
    ck_assert_fixture(logits, "gpt_logits", 1e-5, 1e-5);
    Tensor *targets = tensor_reshape(testutil_fixture(FIXTURE, "gpt_targets"), SHAPE(-1));
    Tensor *loss = tensor_cross_entropy(tensor_reshape(logits, SHAPE(-1, 50)), targets);
    ck_assert_fixture(loss, "gpt_loss", 1e-6, 1e-6);
    ck_assert_int_eq(tensor_backward(loss, NULL), 0);
    ck_assert_fixture(A[0]->grad, "gpt_grad_A_0", 1e-6, 1e-4);
    ck_assert_fixture(B[0]->grad, "gpt_grad_B_0", 1e-6, 1e-4);
    ck_assert_fixture(A[12]->grad, "gpt_grad_A_12", 1e-6, 1e-4);
    ck_assert_fixture(B[12]->grad, "gpt_grad_B_12", 1e-6, 1e-4);
    /* the base model stays frozen */
    ck_assert_ptr_null(nn_get_parameter(gpt, "trf_blocks.0.att.W_query.linear.weight")->grad);
    nn_module_free(gpt);
}
END_TEST

/* Generation (the cached path: one position's forward a token) honours the
 * LoRA layers: the ids a full forward's argmax gives, step by step. */
START_TEST(test_generation_runs_lora)
{
    Module *gpt = lora_gpt(small_config(), 123, 123, 2, 4);
    set_B(gpt);
    Tensor *start = tensor_from_data((float[]){1, 7, 49}, SHAPE(1, 3));
    Tensor *got = nn_generate_text_simple(gpt, start, 5, 8);
    ck_assert_msg(got != NULL, "%s", tensor_error());
    Tensor *idx = start;
    tensor_no_grad_begin();
    for (int step = 0; step < 5; step++) {
        Tensor *logits = nn_forward(gpt, idx);
        Tensor *last = tensor_narrow(logits, 1, idx->shape[1] - 1, 1);          /* (1,1,V) */
        Tensor *next = tensor_argmax(tensor_reshape(last, SHAPE(1, -1)), -1, true);
        idx = tensor_cat(2, (Tensor *[]){idx, next}, 1);
    }
    tensor_no_grad_end();
    ck_assert_tensor_close(got, idx, 0, 0);
    nn_module_free(gpt);
}
END_TEST

START_TEST(test_merge_gives_the_base_architecture)
{
    NNGPTConfig cfg = small_config();
    Module *gpt = lora_gpt(cfg, 123, 123, 2, 4);
    set_B(gpt);
    Tensor *before = fixture_logits(gpt);
    int64_t base_params = nn_num_parameters(gpt) - nn_gpt_lora_parameters(cfg, 50, 2);
    ck_assert_int_eq(nn_lora_merge(gpt), 13);
    Tensor *merged = fixture_logits(gpt);
    ck_assert_fixture(merged, "gpt_merged_logits", 1e-5, 1e-5);
    ck_assert_tensor_close(merged, before, 1e-5, 1e-5);
    ck_assert_int_eq(nn_num_parameters(gpt), base_params);
    ck_assert_int_eq(nn_num_trainable_parameters(gpt), 0);   /* frozen as it was */
    MultiHeadAttention *mha = NN_AS(MultiHeadAttention, nn_gpt_attention(gpt, 1));
    ck_assert_str_eq(NN(mha->out_proj)->type, "Linear");
    ck_assert_str_eq(mha->out_proj->weight->name, "trf_blocks.1.att.out_proj.weight");
    ck_assert_error_has(nn_get_parameter(gpt, "trf_blocks.0.att.W_query.lora.A"),
                        "no parameter or buffer \"trf_blocks.0.att.W_query.lora.A\"");
    /* nothing left to merge */
    ck_assert_int_eq(nn_lora_merge(gpt), -1);
    ck_assert_str_eq(tensor_error(), "lora_merge: GPTModel holds no LinearWithLoRA");
    tensor_clear_error();
    /* its file is a plain GPTModel's: checked and loaded as one */
    char dir[] = "/tmp/attograd_lora_XXXXXX", path[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/merged.safetensors", dir);
    ck_assert_int_eq(nn_module_save(gpt, path), 0);
    ck_assert_msg(nn_gpt_check_file(cfg, path) == 0, "%s", tensor_error());
    Module *plain = nn_gpt_model(cfg);
    ck_assert_msg(nn_module_load(plain, path) == 0, "%s", tensor_error());
    nn_train(plain, false);
    ck_assert_tensor_close(fixture_logits(plain), merged, 0, 0);
    unlink(path);
    rmdir(dir);
    nn_module_free(plain);
    nn_module_free(gpt);
}
END_TEST

/* ---- the book's runs: first rows of A, the counts -------------------------------------- */

static void assert_first_row(const Tensor *A, const float *want, int n, double atol)
{
    for (int j = 0; j < n; j++)
        ck_assert_msg(fabs((double)A->data[j] - want[j]) <= atol, "A[0,%d] = %.9g, PyTorch %.9g",
                      j, (double)A->data[j], (double)want[j]);
}

static const float *fixture_values(const char *file, const char *name)
{
    return testutil_fixture(file, name)->data;
}

/* Appendix E's 124M classifier: after manual_seed(123) and the accuracy
 * loaders' four int64 draws, W_query of block 0 draws first (rank 16: the
 * same draws in any model, so a small one shows them) and out_head last,
 * after 12 blocks of A: 12 * (5 * 768 + 3072) * 16 draws, which the
 * generator skips here (the small model checks that arithmetic). */
START_TEST(test_book_classifier_draws)
{
    NNGPTConfig cfg = small_config();
    cfg.emb_dim = 16;
    Module *gpt = lora_gpt(cfg, 7, 123, 16, 16);
    Tensor *A[16], *B[16];
    ck_assert_int_eq(lora_tensors(gpt, A, B, 16), 13);
    static const float spec_wq[] = {-0.157972f, 0.113223f, -0.092373f, 0.093553f};
    assert_first_row(A[0], spec_wq, 4, 5e-7);
    /* out_head's A: the blocks' draws skipped, then its LoRALayer */
    tensor_manual_seed(123);
    for (int i = 0; i < 4; i++) tensor_generator_next_u64(NULL);
    int64_t per_block = (5 * cfg.emb_dim + 4 * cfg.emb_dim) * 16;   /* 5 (E, r), one (4E, r) */
    ck_assert_int_eq(tensor_uniform_skip(cfg.n_layers * per_block, NULL), 0);
    Module *head = nn_lora_layer(cfg.emb_dim, cfg.vocab_size, 16, 16);
    ck_assert_tensor_close(NN_AS(LoRALayer, head)->A, A[12], 0, 0);
    nn_module_free(head);
    nn_module_free(gpt);

    tensor_manual_seed(123);
    for (int i = 0; i < 4; i++) tensor_generator_next_u64(NULL);
    ck_assert_int_eq(tensor_uniform_skip(12 * (5 * 768 + 3072) * 16, NULL), 0);
    head = nn_lora_layer(768, 2, 16, 16);
    static const float spec_head[] = {-0.014967f, -0.208123f, 0.004472f, 0.102051f};
    assert_first_row(NN_AS(LoRALayer, head)->A, spec_head, 4, 5e-7);
    nn_module_free(head);
}
END_TEST

/* The fine-tuning runs of gen_finetune.py: the first LoRA layer's A[0, :]
 * and the trainable count.  The classifier's replaced head has no C
 * counterpart yet (its LoRA layer is drawn as the wrapper's: rank 4 after
 * the seed and four int64 draws); the instruction runs build the whole GPT. */
START_TEST(test_finetune_runs_draw_as_pytorch)
{
    tensor_manual_seed(123);
    for (int i = 0; i < 4; i++) tensor_generator_next_u64(NULL);
    Module *first = nn_lora_layer(16, 16, 4, 8);
    const char *run = "finetune_cls_gpt2_lora.txt";
    assert_first_row(NN_AS(LoRALayer, first)->A, fixture_values(run, "cls_gpt2_lora_lora_A0_row0"),
                     4, 0);
    nn_module_free(first);

    /* ins_gpt2_lora: torch.manual_seed(123); GPTModel; eval; the three count lines */
    NNGPTConfig cfg = {50257, 64, 16, 2, 2, 0.1, true};
    tensor_manual_seed(123);
    Module *gpt = nn_gpt_model(cfg);
    nn_train(gpt, false);
    const char *expected = "finetune_ins_gpt2_lora.expected";
    ck_assert_int_eq(nn_num_trainable_parameters(gpt),
                     expected_count(expected, "Total trainable parameters before: "));
    nn_requires_grad_(gpt, false);
    ck_assert_int_eq(nn_num_trainable_parameters(gpt),
                     expected_count(expected, "Total trainable parameters after: "));
    ck_assert_int_eq(nn_replace_linear_with_lora(gpt, 4, 4), 13);
    ck_assert_int_eq(nn_num_trainable_parameters(gpt),
                     expected_count(expected, "Total trainable LoRA parameters: "));
    ck_assert_int_eq(nn_num_trainable_parameters(gpt), nn_gpt_lora_parameters(cfg, 50257, 4));
    run = "finetune_ins_gpt2_lora.txt";
    assert_first_row(nn_get_parameter(gpt, "trf_blocks.0.att.W_query.lora.A"),
                     fixture_values(run, "ins_gpt2_lora_lora_A0_row0"), 4, 0);
    nn_module_free(gpt);

    /* ins_hf_lora: the tiny GPT-2's weights, loaded as the book loads them */
    NNGPTConfig hf;
    const char *file = ATTOGRAD_REFERENCE_DIR "/hf_gpt2_tiny.safetensors";
    ck_assert_int_eq(nn_gpt_hf_config(file, &hf), 0);
    hf.n_heads = 4;
    tensor_manual_seed(123);
    gpt = nn_gpt_load_hf(file, hf);
    ck_assert_msg(gpt != NULL, "%s", tensor_error());
    nn_train(gpt, false);
    nn_requires_grad_(gpt, false);
    ck_assert_int_eq(nn_replace_linear_with_lora(gpt, 4, 4), 13);
    ck_assert_int_eq(nn_num_trainable_parameters(gpt),
                     (int64_t)tensor_item(testutil_fixture("finetune_ins_hf_lora.txt",
                                                           "ins_hf_lora_trainable")));
    assert_first_row(nn_get_parameter(gpt, "trf_blocks.0.att.W_query.lora.A"),
                     fixture_values("finetune_ins_hf_lora.txt", "ins_hf_lora_lora_A0_row0"), 4, 0);
    nn_module_free(gpt);
}
END_TEST

/* The book's counts from the config alone (gpt2-small is 650 MB of
 * weights, gpt2-medium 1.6 GB: neither is built), each checked against a
 * tree the replacement made where one fits: the runs' classifiers (head 2). */
START_TEST(test_book_counts)
{
    NNGPTConfig small = {50257, 1024, 768, 12, 12, 0.0, true};
    NNGPTConfig medium = {50257, 1024, 1024, 16, 24, 0.0, true};
    ck_assert_int_eq(nn_gpt_lora_parameters(small, 2, 16),
                     expected_count("finetune_lora_count_124m.expected",
                                    "Total trainable LoRA parameters: "));
    ck_assert_int_eq(nn_gpt_lora_parameters(small, 2, 16), 2666528);
    ck_assert_int_eq(nn_gpt_lora_parameters(medium, 50257, 16),
                     expected_count("finetune_lora_count_355m.expected",
                                    "Total trainable LoRA parameters: "));
    ck_assert_int_eq(nn_gpt_lora_parameters(medium, 50257, 16), 7898384);
    /* the runs' classifiers: cls_gpt2 (emb 16) and cls_hf (emb 32), rank 4, head 2 */
    NNGPTConfig cls = {50257, 32, 16, 2, 2, 0.1, false}, cls_hf = {256, 16, 32, 4, 2, 0.1, true};
    ck_assert_int_eq(nn_gpt_lora_parameters(cls, 2, 4),
                     (int64_t)tensor_item(testutil_fixture("finetune_cls_gpt2_lora.txt",
                                                           "cls_gpt2_lora_trainable")));
    ck_assert_int_eq(nn_gpt_lora_parameters(cls_hf, 2, 4),
                     (int64_t)tensor_item(testutil_fixture("finetune_cls_hf_lora.txt",
                                                           "cls_hf_lora_trainable")));
    /* and a tree: the count the replacement adds */
    NNGPTConfig cfg = small_config();
    Module *gpt = lora_gpt(cfg, 1, 1, 3, 1);
    ck_assert_int_eq(nn_num_trainable_parameters(gpt), nn_gpt_lora_parameters(cfg, 50, 3));
    nn_module_free(gpt);
}
END_TEST

/* ---- the LoRA weights alone ------------------------------------------------------------ */

static char tmp_dir[64];

static const char *tmp_path(const char *name)
{
    static char path[128];
    if (!tmp_dir[0]) {
        snprintf(tmp_dir, sizeof tmp_dir, "/tmp/attograd_lora_XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmp_dir));
    }
    snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
    return path;
}

static void remove_tmp_dir(void)
{
    if (!tmp_dir[0]) return;
    static const char *const names[] = {"lora.safetensors", "full.safetensors", "nan.safetensors",
                                        "train_lora.safetensors"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) unlink(tmp_path(names[i]));
    rmdir(tmp_dir);
    tmp_dir[0] = '\0';
}

START_TEST(test_save_load_round_trip)
{
    NNGPTConfig cfg = small_config();
    Module *trained = lora_gpt(cfg, 1, 2, 2, 4);
    set_B(trained);
    char path[128];
    snprintf(path, sizeof path, "%s", tmp_path("lora.safetensors"));
    ck_assert_msg(nn_lora_save(trained, path) == 0, "%s", tensor_error());
    TensorFile *f = tensor_file_open(path);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(tensor_file_count(f), 26);
    ck_assert_str_eq(tensor_file_meta(f, "format"), "pt");
    ck_assert_str_eq(tensor_file_meta(f, "lora_alpha"), "4");
    ck_assert_ptr_nonnull(tensor_file_find(f, "trf_blocks.0.att.W_query.lora.A"));
    ck_assert_ptr_nonnull(tensor_file_find(f, "out_head.lora.B"));
    ck_assert_ptr_null(tensor_file_find(f, "out_head.linear.weight"));
    tensor_file_close(f);

    /* the same base, other A draws: after the load, the same model */
    Module *other = lora_gpt(cfg, 1, 99, 2, 4);
    Tensor *before = fixture_logits(other);
    ck_assert_msg(nn_lora_load(other, path) == 0, "%s", tensor_error());
    ck_assert_tensor_close(fixture_logits(other), fixture_logits(trained), 0, 0);
    ck_assert_double_gt(tensor_max_abs_diff(fixture_logits(other), before), 1e-3);

    /* refused, the model unchanged */
    Module *alpha8 = lora_gpt(cfg, 1, 99, 2, 8);
    Tensor *alpha8_logits = fixture_logits(alpha8);
    ck_assert_int_eq(nn_lora_load(alpha8, path), -1);
    char want[512];
    snprintf(want, sizeof want, "load %s: lora_alpha 4 in file, 8 in model", path);
    ck_assert_str_eq(tensor_error(), want);
    ck_assert_tensor_close(fixture_logits(alpha8), alpha8_logits, 0, 0);
    Module *rank3 = lora_gpt(cfg, 1, 99, 3, 4);
    ck_assert_int_eq(nn_lora_load(rank3, path), -1);
    ck_assert_msg(strstr(tensor_error(), "shape (8,2) in file, (8,3) in model"), "%s",
                  tensor_error());
    Module *plain = nn_gpt_model(cfg);
    ck_assert_int_eq(nn_lora_load(plain, path), -1);
    snprintf(want, sizeof want, "load %s: GPTModel holds no LoRA layer (replace its Linears first, "
             "as the model that saved the file)", path);
    ck_assert_str_eq(tensor_error(), want);
    /* a whole state_dict is not a LoRA file */
    char full[128];
    snprintf(full, sizeof full, "%s", tmp_path("full.safetensors"));
    ck_assert_int_eq(nn_module_save(trained, full), 0);
    ck_assert_int_eq(nn_lora_load(other, full), -1);
    ck_assert_msg(strstr(tensor_error(), "which the model does not"), "%s", tensor_error());
    tensor_clear_error();
    nn_module_free(alpha8);
    nn_module_free(rank3);
    nn_module_free(plain);
    nn_module_free(other);
    nn_module_free(trained);
}
END_TEST

START_TEST(test_load_refuses_nan)
{
    NNGPTConfig cfg = small_config();
    Module *m = lora_gpt(cfg, 1, 2, 2, 4);
    Tensor *A[16], *B[16];
    lora_tensors(m, A, B, 16);
    B[3]->data[1] = NAN;
    char path[128];
    snprintf(path, sizeof path, "%s", tmp_path("nan.safetensors"));
    ck_assert_int_eq(nn_lora_save(m, path), 0);
    B[3]->data[1] = 0;
    ck_assert_int_eq(nn_lora_load(m, path), -1);
    char want[512];
    snprintf(want, sizeof want, "load %s: trf_blocks.0.att.out_proj.lora.B holds a NaN or an "
             "infinity", path);
    ck_assert_str_eq(tensor_error(), want);
    ck_assert_float_eq(B[3]->data[1], 0);
    tensor_clear_error();
    nn_module_free(m);
}
END_TEST

/* ---- the replacement's rules ----------------------------------------------------------- */

START_TEST(test_replacement_walk)
{
    /* the book's walk: a Linear is replaced, not descended into; a
     * Sequential is recursed into; activations are left alone */
    Module *seq = nn_sequential();
    nn_append(seq, nn_linear(3, 4, true));
    nn_append(seq, nn_relu());
    Module *inner = nn_append(seq, nn_sequential());
    nn_append(inner, nn_linear(4, 2, false));
    nn_train(seq, false);
    ck_assert_int_eq(nn_replace_linear_with_lora(seq, 2, 1), 2);
    ck_assert_str_eq(nn_item(seq, 0)->type, "LinearWithLoRA");
    ck_assert_str_eq(nn_item(seq, 1)->type, "ReLU");
    ck_assert_str_eq(nn_item(inner, 0)->type, "LinearWithLoRA");
    LinearWithLoRA *w = NN_AS(LinearWithLoRA, nn_item(inner, 0));
    ck_assert_ptr_null(w->bias);
    ck_assert_str_eq(w->lora->A->name, "2.0.lora.A");
    ck_assert_str_eq(w->weight->name, "2.0.linear.weight");
    /* new modules train (PyTorch's default); the wrapped Linear keeps its mode */
    ck_assert(NN(w)->training && NN(w->lora)->training && !NN(w->linear)->training);
    /* B = 0: the output is the Linears' alone */
    Tensor *x = tensor_from_data((float[]){1, -2, 3}, SHAPE(1, 3));
    Tensor *y = nn_forward(seq, x);
    ck_assert_int_eq(nn_lora_merge(seq), 2);
    ck_assert_tensor_close(nn_forward(seq, x), y, 0, 0);
    ck_assert_str_eq(NN_AS(Linear, nn_item(inner, 0))->weight->name, "2.0.weight");
    nn_module_free(seq);
    /* a failed replacement changes nothing, the generator included */
    Module *tree = nn_sequential();
    nn_append(tree, nn_linear(8, 8, true));
    nn_append(tree, nn_linear(8, 2, true));
    tensor_manual_seed(5);
    ck_assert_int_eq(nn_replace_linear_with_lora(tree, 9, 1), -1);
    ck_assert_str_eq(tensor_error(), "replace_linear_with_lora: rank 9 is larger than 0, a "
                                     "Linear(8, 8): at most max(in, out) = 8");
    tensor_clear_error();
    ck_assert_str_eq(nn_item(tree, 0)->type, "Linear");
    uint32_t next = tensor_generator_next_u32(NULL);
    tensor_manual_seed(5);
    ck_assert_uint_eq(tensor_generator_next_u32(NULL), next);
    /* rank 8 fits both: Linear(8, 2) takes it, as the book's head takes 16 */
    ck_assert_int_eq(nn_replace_linear_with_lora(tree, 8, 1), 2);
    nn_module_free(tree);
}
END_TEST

/* train_lora_save / _info / _check / _load: the LoRA weights with the
 * description of the model they fit, refused on another. */
START_TEST(test_train_lora_file)
{
    NNGPTConfig cfg = small_config();
    Module *trained = lora_gpt(cfg, 1, 2, 2, 4);
    set_B(trained);
    char path[128];
    snprintf(path, sizeof path, "%s", tmp_path("train_lora.safetensors"));
    TrainClassifierInfo info = {.cfg = cfg, .tokenizer = "gpt2", .lora_rank = 2, .lora_alpha = 4};
    ck_assert_msg(train_lora_save(trained, &info, path) == 0, "%s", tensor_error());
    TrainClassifierInfo read;
    ck_assert_int_eq(train_lora_info(path, &read), 0);
    ck_assert_int_eq(read.cfg.emb_dim, cfg.emb_dim);
    ck_assert_str_eq(read.tokenizer, "gpt2");
    ck_assert_int_eq(read.num_classes, 0);
    ck_assert_int_eq(read.lora_rank, 2);
    ck_assert_double_eq(read.lora_alpha, 4);
    /* the same base, other A draws: the trained model after the load; and
     * the LoRA tensors alone are nn_lora_load's file too */
    Module *other = lora_gpt(cfg, 1, 99, 2, 4);
    ck_assert_msg(train_lora_load(other, &info, path) == 0, "%s", tensor_error());
    ck_assert_tensor_close(fixture_logits(other), fixture_logits(trained), 0, 0);
    Module *plain_load = lora_gpt(cfg, 1, 99, 2, 4);
    ck_assert_msg(nn_lora_load(plain_load, path) == 0, "%s", tensor_error());
    /* another rank or config: named before the model is touched */
    char want[512];
    TrainClassifierInfo rank3 = info;
    rank3.lora_rank = 3;
    ck_assert_int_eq(train_lora_check(path, &rank3), -1);
    snprintf(want, sizeof want, "%s: lora_rank 2 in the file, 3 in the model", path);
    ck_assert_str_eq(tensor_error(), want);
    TrainClassifierInfo bytes = info;
    bytes.tokenizer = "bytes";
    ck_assert_int_eq(train_lora_check(path, &bytes), -1);
    snprintf(want, sizeof want, "%s: tokenizer gpt2 in the file, bytes in the model", path);
    ck_assert_str_eq(tensor_error(), want);
    /* the same shapes over other pretrained weights: the hash, model unchanged */
    Module *base5 = lora_gpt(cfg, 5, 99, 2, 4);
    Tensor *before = fixture_logits(base5);
    ck_assert_int_eq(train_lora_load(base5, &info, path), -1);
    snprintf(want, sizeof want, "%s: trained on other pretrained weights (base_fnv1a64 ", path);
    ck_assert_msg(strncmp(tensor_error(), want, strlen(want)) == 0, "%s", tensor_error());
    ck_assert_tensor_close(fixture_logits(base5), before, 0, 0);
    /* nn_lora_save's file has no description */
    char bare[128];
    snprintf(bare, sizeof bare, "%s", tmp_path("lora.safetensors"));
    ck_assert_int_eq(nn_lora_save(trained, bare), 0);
    ck_assert_int_eq(train_lora_info(bare, &read), -1);
    ck_assert_ptr_nonnull(strstr(tensor_error(), bare));
    /* a model without LoRA layers has nothing to save */
    Module *none = nn_gpt_model(cfg);
    ck_assert_int_eq(train_lora_save(none, &info, path), -1);
    snprintf(want, sizeof want, "%s: the model holds no LoRA layer", path);
    ck_assert_str_eq(tensor_error(), want);
    ck_assert_int_eq(train_lora_load(NULL, &info, path), -1);
    ck_assert_int_eq(train_lora_save(trained, NULL, path), -1);
    tensor_clear_error();
    nn_module_free(trained);
    nn_module_free(other);
    nn_module_free(plain_load);
    nn_module_free(base5);
    nn_module_free(none);
}
END_TEST

static Suite *lora_suite(void)
{
    Suite *s = suite_create("lora");
    TCase *torch = tcase_create("pytorch");
    tcase_set_timeout(torch, 120);   /* a 50257-token GPT under a sanitizer */
    tcase_add_test(torch, test_linear_with_lora_matches_pytorch);
    tcase_add_test(torch, test_frozen_linear_trains_only_lora);
    tcase_add_test(torch, test_gpt_with_lora_matches_pytorch);
    tcase_add_test(torch, test_generation_runs_lora);
    tcase_add_test(torch, test_merge_gives_the_base_architecture);
    tcase_add_test(torch, test_book_classifier_draws);
    tcase_add_test(torch, test_finetune_runs_draw_as_pytorch);
    tcase_add_test(torch, test_book_counts);
    suite_add_tcase(s, torch);
    TCase *files = tcase_create("files");
    tcase_add_checked_fixture(files, NULL, remove_tmp_dir);
    tcase_add_test(files, test_save_load_round_trip);
    tcase_add_test(files, test_load_refuses_nan);
    tcase_add_test(files, test_train_lora_file);
    suite_add_tcase(s, files);
    TCase *api = tcase_create("api");
    tcase_add_test(api, test_replacement_walk);
    suite_add_tcase(s, api);
    return s;
}

TESTUTIL_MAIN(lora_suite)
