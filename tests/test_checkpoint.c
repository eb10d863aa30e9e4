/*
 * Module checkpoints (nn/state_dict.c) against PyTorch.
 *
 * tests/reference/checkpoint_<kind>.safetensors were written by PyTorch's
 * side (gen_checkpoint.py) from modules seeded with 2024.  Here each module
 * is built with another seed, loaded from that file, and must then hold
 * PyTorch's tensors bit for bit, give PyTorch's forward output (1e-6 + 1e-5
 * relative: float32 products summed in another order), and save back to the
 * very same bytes.
 *
 * The test also leaves files in <build>/interop for the other direction (the
 * chapter-3 modules and a small chapter-4 GPTModel):
 *     /usr/bin/python3 tests/reference/gen_checkpoint.py --check <build>/interop
 * loads them into PyTorch modules and compares the outputs (CI runs no
 * Python; the check's output is in the change's notes).
 */
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

static const char *const kinds[] = {"v1", "v2", "causal", "mhaw", "mha"};
enum { N_KINDS = sizeof kinds / sizeof *kinds };

static Module *make(const char *kind)
{
    if (!strcmp(kind, "v1")) return nn_self_attention_v1(3, 2);
    if (!strcmp(kind, "v2")) return nn_self_attention_v2(3, 2, true);
    if (!strcmp(kind, "causal")) return nn_causal_attention(3, 2, 6, 0.0f, false);
    if (!strcmp(kind, "mhaw")) return nn_multi_head_attention_wrapper(3, 2, 6, 0.0f, 2, false);
    return nn_multi_head_attention(3, 4, 6, 0.0f, 2, false);
}

static const char *reference(const char *kind)
{
    static char p[1024];
    snprintf(p, sizeof p, "%s/checkpoint_%s.safetensors", ATTOGRAD_REFERENCE_DIR, kind);
    return p;
}

START_TEST(test_pytorch_file_loads_exactly)
{
    const char *kind = kinds[_i];
    char name[256];
    tensor_manual_seed(123);
    Module *m = make(kind);
    ck_assert_msg(nn_module_load(m, reference(kind)) == 0, "%s", tensor_error());
    NNList p = nn_named_parameters(m), b = nn_named_buffers(m);
    for (int l = 0; l < 2; l++) {
        const NNList *list = l ? &b : &p;
        for (int i = 0; i < list->count; i++) {
            snprintf(name, sizeof name, "%s.param.%s", kind, list->names[i]);
            Tensor *expected = testutil_fixture("checkpoint.txt", name);
            ck_assert_tensor_close(list->tensors[i], expected, 0, 0);
        }
    }
    nn_list_free(&p);
    nn_list_free(&b);
    snprintf(name, sizeof name, "%s.x", kind);
    Tensor *x = testutil_fixture("checkpoint.txt", name);
    snprintf(name, sizeof name, "%s.out", kind);
    ck_assert_tensor_close(nn_forward(m, x), testutil_fixture("checkpoint.txt", name), 1e-6, 1e-5);

    /* Saved back, the file is PyTorch's, byte for byte. */
    char path[64];
    snprintf(path, sizeof path, "/tmp/attograd-ck-%d.safetensors", (int)getpid());
    ck_assert_int_eq(nn_module_save(m, path), 0);
    size_t n1, n2;
    char *mine = testutil_read_file(path, &n1);
    char *theirs = testutil_read_file(reference(kind), &n2);
    ck_assert_uint_eq(n1, n2);
    ck_assert_mem_eq(mine, theirs, n1);
    free(mine);
    free(theirs);
    remove(path);
    nn_module_free(m);
}
END_TEST

/* Files for gen_checkpoint.py --check: the module, and its input and output. */
START_TEST(test_write_files_for_pytorch)
{
    const char *kind = kinds[_i];
    char dir[1024], path[1100], name[64];
    snprintf(dir, sizeof dir, "%s/interop", ATTOGRAD_BUILD_DIR);
    mkdir(dir, 0777);
    tensor_manual_seed(7);
    Module *m = make(kind);
    snprintf(path, sizeof path, "%s/%s.safetensors", dir, kind);
    ck_assert_msg(nn_module_save(m, path) == 0, "%s", tensor_error());
    snprintf(name, sizeof name, "%s.x", kind);
    Tensor *x = testutil_fixture("checkpoint.txt", name);
    Tensor *y = nn_forward(m, x);
    ck_assert_ptr_nonnull(y);
    TensorEntry io[2] = {tensor_entry("input", x), tensor_entry("output", y)};
    snprintf(path, sizeof path, "%s/%s.io.safetensors", dir, kind);
    ck_assert_int_eq(tensor_save_entries(path, 2, io, 0, NULL), 0);
    nn_module_free(m);
}
END_TEST

/* For gen_checkpoint.py --check: a small chapter-4 GPTModel (qkv_bias on, so
 * every kind of name is there) saved by nn_module_save, and its eval-mode
 * logits on a (2, 6) batch of ids, with the config as the file's metadata. */
START_TEST(test_write_gpt_for_pytorch)
{
    const NNGPTConfig cfg = {97, 8, 16, 4, 2, 0.1, true};
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s/interop", ATTOGRAD_BUILD_DIR);
    mkdir(dir, 0777);
    tensor_manual_seed(11);
    Module *m = nn_gpt_model(cfg);
    ck_assert_msg(m != NULL, "%s", tensor_error());
    nn_train(m, false);
    snprintf(path, sizeof path, "%s/gpt.safetensors", dir);
    ck_assert_msg(nn_module_save(m, path) == 0, "%s", tensor_error());
    float ids[12];
    for (int i = 0; i < 12; i++) ids[i] = (float)((i * 13 + 5) % 97);
    Tensor *x = tensor_from_data(ids, SHAPE(2, 6));
    Tensor *logits = nn_forward(m, x);
    ck_assert_msg(logits != NULL, "%s", tensor_error());
    ck_assert_int_eq(logits->shape[2], 97);
    TensorEntry io[2] = {tensor_entry("input", x), tensor_entry("output", logits)};
    const TensorMeta meta[] = {{"vocab_size", "97"}, {"context_length", "8"}, {"emb_dim", "16"},
                               {"n_heads", "4"},     {"n_layers", "2"},       {"drop_rate", "0.1"},
                               {"qkv_bias", "true"}};
    snprintf(path, sizeof path, "%s/gpt.io.safetensors", dir);
    ck_assert_int_eq(tensor_save_entries(path, 2, io, 7, meta), 0);
    nn_module_free(m);
}
END_TEST

/* Copies of every state_dict tensor, to check a failed load changed nothing. */
static Tensor **snapshot(const Module *m, int *n)
{
    NNList p = nn_named_parameters(m), b = nn_named_buffers(m);
    *n = p.count + b.count;
    Tensor **s = malloc((size_t)*n * sizeof *s);
    for (int i = 0; i < *n; i++)
        s[i] = tensor_keep(i < p.count ? p.tensors[i] : b.tensors[i - p.count]);
    nn_list_free(&p);
    nn_list_free(&b);
    return s;
}

static void assert_unchanged(const Module *m, Tensor **s, int n)
{
    NNList p = nn_named_parameters(m), b = nn_named_buffers(m);
    for (int i = 0; i < n; i++) {
        ck_assert_tensor_close(i < p.count ? p.tensors[i] : b.tensors[i - p.count], s[i], 0, 0);
        tensor_free(s[i]);
    }
    free(s);
    nn_list_free(&p);
    nn_list_free(&b);
}

static const struct {
    const char *file, *into, *message;
} mismatches[] = {
    {"v1", "v2", "W_query.weight is missing from the file (it holds W_key, W_query, W_value)"},
    {"v2", "v1",
     "W_query is missing from the file (it holds W_key.bias, W_key.weight, "
     "W_query.bias, W_query.weight, W_value.bias, W_value.weight)"},
    {"causal", "mhaw",
     "heads.0.W_query.weight is missing from the file (it holds W_key.weight, "
     "W_query.weight, W_value.weight, mask)"},
    {"mha", "causal", "W_query.weight: shape (4,3) in file, (2,3) in module"},
};

START_TEST(test_wrong_architecture_changes_nothing)
{
    tensor_manual_seed(5);
    Module *m = make(mismatches[_i].into);
    int n;
    Tensor **s = snapshot(m, &n);
    ck_assert_int_eq(nn_module_load(m, reference(mismatches[_i].file)), -1);
    char expect[2048];
    snprintf(expect, sizeof expect, "load %s: %s", reference(mismatches[_i].file),
             mismatches[_i].message);
    ck_assert_str_eq(tensor_error(), expect);
    assert_unchanged(m, s, n);
    nn_module_free(m);
}
END_TEST

/* A causal module with a longer context: its mask differs in shape. */
START_TEST(test_buffer_shape_is_checked)
{
    Module *m = nn_causal_attention(3, 2, 8, 0.0f, false);
    int n;
    Tensor **s = snapshot(m, &n);
    ck_assert_int_eq(nn_module_load(m, reference("causal")), -1);
    char expect[2048];
    snprintf(expect, sizeof expect, "load %s: mask: shape (6,6) in file, (8,8) in module",
             reference("causal"));
    ck_assert_str_eq(tensor_error(), expect);
    assert_unchanged(m, s, n);
    nn_module_free(m);
}
END_TEST

START_TEST(test_null_module)
{
    tensor_clear_error();
    ck_assert_int_eq(nn_module_save(NULL, "x"), -1);
    ck_assert_int_eq(nn_module_load(NULL, "x"), -1);
    ck_assert_str_eq(tensor_error(), "");
}
END_TEST

static Suite *checkpoint_suite(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *tc = tcase_create("modules");
    tcase_add_loop_test(tc, test_pytorch_file_loads_exactly, 0, N_KINDS);
    tcase_add_loop_test(tc, test_write_files_for_pytorch, 0, N_KINDS);
    tcase_add_test(tc, test_write_gpt_for_pytorch);
    tcase_add_loop_test(tc, test_wrong_architecture_changes_nothing, 0,
                        sizeof mismatches / sizeof *mismatches);
    tcase_add_test(tc, test_buffer_shape_is_checked);
    tcase_add_test(tc, test_null_module);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(checkpoint_suite)
