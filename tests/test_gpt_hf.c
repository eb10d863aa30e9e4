/*
 * GPT-2's published weights in the book's GPTModel (nn/gpt_hf.c), on a small
 * random GPT-2 in Hugging Face's layout (tests/reference/gen_hf_gpt2.py):
 * the ids the book's GPTModel generates from it after the book's
 * load_weights_into_gpt, greedy, sampled and stopped at an eos id; the same
 * file under GPT2LMHeadModel's "transformer." names; broken copies of it,
 * each refused with a message naming the tensor.  Also a model out of a
 * whole training checkpoint (checkpoint_load_module).
 *
 * Ids are compared exactly: the fixture's weights are drawn wide enough that
 * each step's top logits are far apart (gen_hf_gpt2.py), so float32
 * rounding differences between the two libraries cannot change an argmax;
 * sampling draws the same uniforms as torch for the same seed.
 */
#include <sys/resource.h>
#include <unistd.h>

#include "program_run.h"
#include "testutil.h"

#define FIXTURE ATTOGRAD_REFERENCE_DIR "/hf_gpt2_tiny.safetensors"

static NNGPTConfig fixture_config(const char *path)
{
    NNGPTConfig cfg;
    ck_assert_msg(nn_gpt_hf_config(path, &cfg) == 0, "%s", tensor_error());
    cfg.n_heads = 4;   /* emb 32 is none of GPT-2's widths */
    return cfg;
}

/* The fixture's ids of case name, generated from gpt as gen_hf_gpt2.py does. */
static void assert_generates(Module *gpt, const char *name, int64_t max_new, double temperature,
                             int64_t top_k, int64_t eos_id)
{
    static const char prompt[] = "Every effort";
    float ids[sizeof prompt - 1];
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) ids[i] = (unsigned char)prompt[i];
    Tensor *x = tensor_from_data(ids, SHAPE(1, (int64_t)(sizeof ids / sizeof *ids)));
    tensor_manual_seed(123);   /* the book re-seeds right before generating */
    Tensor *out = nn_generate(gpt, x, max_new, 16, temperature, top_k, eos_id);
    ck_assert_msg(out != NULL, "%s", tensor_error());
    Tensor *want = testutil_fixture("hf_gpt2.txt", name);
    ck_assert_tensor_close(tensor_reshape(out, SHAPE(-1)), want, 0, 0);
}

START_TEST(test_generates_pytorch_ids)
{
    NNGPTConfig cfg = fixture_config(FIXTURE);
    ck_assert(cfg.vocab_size == 256 && cfg.context_length == 16 && cfg.emb_dim == 32 &&
              cfg.n_layers == 2 && cfg.qkv_bias);
    Module *gpt = nn_gpt_load_hf(FIXTURE, cfg);
    ck_assert_msg(gpt != NULL, "%s", tensor_error());
    assert_generates(gpt, "greedy", 10, 0, 0, -1);
    assert_generates(gpt, "sampled", 12, 1.5, 50, -1);
    assert_generates(gpt, "eos", 10, 0, 0, 237);
    /* The head is tied: a copy of wte, as the book's assign makes it. */
    ck_assert_tensor_close(nn_get_parameter(gpt, "out_head.weight"),
                           nn_get_parameter(gpt, "tok_emb.weight"), 0, 0);
    nn_module_free(gpt);
}
END_TEST

START_TEST(test_gpt2_widths_give_heads)
{
    ck_assert_int_eq(nn_gpt2_heads(768), 12);
    ck_assert_int_eq(nn_gpt2_heads(1024), 16);
    ck_assert_int_eq(nn_gpt2_heads(1280), 20);
    ck_assert_int_eq(nn_gpt2_heads(1600), 25);
    ck_assert_int_eq(nn_gpt2_heads(32), 0);
    NNGPTConfig cfg;
    ck_assert_int_eq(nn_gpt_hf_config(FIXTURE, &cfg), 0);
    ck_assert_int_eq(cfg.n_heads, 0);
}
END_TEST

/* ---- copies of the fixture, edited ------------------------------------------------ */

typedef enum { PREFIX, DROP, RESHAPE, NAN_IN, ONE_DIM_WTE, BIG_BLOCK, HUGE_WIDTH } Edit;

static float scratch[1 << 17];

/* Writes the fixture to path with one edit to the tensor called target. */
static void write_edited(const char *path, Edit edit, const char *target)
{
    FILE *in = fopen(FIXTURE, "rb");
    ck_assert_ptr_nonnull(in);
    static unsigned char bytes[1 << 18];
    size_t size = fread(bytes, 1, sizeof bytes, in);
    fclose(in);
    TensorFile *f = tensor_file_parse(bytes, size, "fixture");
    ck_assert_msg(f != NULL, "%s", tensor_error());
    int n = tensor_file_count(f);
    TensorEntry *e = calloc((size_t)n + 1, sizeof *e);
    static char names[64][64];
    for (int i = 0; i < n; i++) {
        e[i] = *tensor_file_entry(f, i);
        bool hit = target && strcmp(e[i].name, target) == 0;
        if (edit == PREFIX) {
            snprintf(names[i], sizeof names[i], "transformer.%s", e[i].name);
            e[i].name = names[i];
        } else if (hit && edit == RESHAPE) {
            e[i].shape[1] = e[i].shape[1] * 2 / 3;   /* (32,96) -> (32,64) */
            e[i].data = scratch;
        } else if (hit && edit == NAN_IN) {
            memcpy(scratch, e[i].data, (size_t)e[i].shape[0] * e[i].shape[1] * 4);
            scratch[5] = NAN;
            e[i].data = scratch;
        } else if (hit && edit == ONE_DIM_WTE) {
            e[i].ndim = 1;
            e[i].shape[0] *= e[i].shape[1];
        } else if (hit && edit == HUGE_WIDTH) {
            /* One past the widest width a loader takes. */
            e[i].shape[0] = 1;
            e[i].shape[1] = 65537;
            e[i].data = scratch;
        } else if (hit && edit == BIG_BLOCK) {
            e[i].name = "h.99999999.ln_1.weight";
        }
    }
    int m = n;
    if (edit == DROP)
        for (int i = 0; i < m; i++)
            if (strcmp(e[i].name, target) == 0) e[i] = e[--m];
    if (edit == PREFIX) {
        /* GPT2LMHeadModel also saves its head, which a loader leaves unread. */
        e[m] = *tensor_file_find(f, "wte.weight");
        e[m++].name = "lm_head.weight";
    }
    ck_assert_msg(tensor_save_entries(path, m, e, 0, NULL) == 0, "%s", tensor_error());
    free(e);
    tensor_file_close(f);
}

START_TEST(test_transformer_prefix_and_extra_head)
{
    scratch_make("hf");
    write_edited(scratch_file("lm.safetensors"), PREFIX, NULL);
    NNGPTConfig cfg = fixture_config(scratch_file("lm.safetensors"));
    Module *gpt = nn_gpt_load_hf(scratch_file("lm.safetensors"), cfg);
    ck_assert_msg(gpt != NULL, "%s", tensor_error());
    assert_generates(gpt, "greedy", 10, 0, 0, -1);
    nn_module_free(gpt);
    scratch_remove();
}
END_TEST

static const struct {
    Edit edit;
    const char *target, *message;
} broken[] = {
    {DROP, "h.1.mlp.c_fc.bias", ": h.1.mlp.c_fc.bias is missing from the file (it holds "},
    {DROP, "wpe.weight", ": wpe.weight is missing from the file"},
    {DROP, "wte.weight", ": no wte.weight (nor transformer.wte.weight): not GPT-2's weights "
                         "in Hugging Face's layout"},
    {RESHAPE, "h.0.attn.c_attn.weight",
     ": h.0.attn.c_attn.weight: shape (32,64) in file, (32,96) in model"},
    {ONE_DIM_WTE, "wte.weight", ": wte.weight: shape (8192) in file, (vocab_size, emb_dim) in "
                                "model"},
    {NAN_IN, "h.1.attn.c_proj.weight", ": h.1.attn.c_proj.weight holds a NaN or an infinity"},
    {HUGE_WIDTH, "wte.weight", ": wte.weight: shape (1,65537): vocab_size must be 1 to "
                               "16777216, emb_dim 1 to 65536"},
    {BIG_BLOCK, "h.1.ln_1.weight", ": h.99999999.ln_1.weight: a block number of 65536 or more"},
};

START_TEST(test_broken_file_names_the_tensor)
{
    scratch_make("hf");
    const char *path = scratch_file("broken.safetensors");
    write_edited(path, broken[_i].edit, broken[_i].target);
    /* Every check but the values' is made from the header, before a model is built. */
    NNGPTConfig cfg = {0};
    int config_rc = nn_gpt_hf_config(path, &cfg);
    if (broken[_i].edit == NAN_IN) {
        ck_assert_int_eq(config_rc, 0);
        cfg.n_heads = 4;
        ck_assert_ptr_null(nn_gpt_load_hf(path, cfg));
    } else {
        ck_assert_int_eq(config_rc, -1);
    }
    char expect[512];
    snprintf(expect, sizeof expect, "load %s%s", path, broken[_i].message);
    ck_assert_msg(strncmp(tensor_error(), expect, strlen(expect)) == 0, "%s", tensor_error());
    tensor_clear_error();
    scratch_remove();
}
END_TEST

START_TEST(test_not_a_gpt2_file)
{
    scratch_make("hf");
    const char *path = scratch_file("t.safetensors");
    /* Truncated: the header promises more data than the file holds. */
    FILE *in = fopen(FIXTURE, "rb"), *out = fopen(path, "wb");
    static unsigned char bytes[4096];
    size_t n = fread(bytes, 1, sizeof bytes, in);
    fwrite(bytes, 1, n, out);
    fclose(in);
    fclose(out);
    NNGPTConfig cfg;
    ck_assert_int_eq(nn_gpt_hf_config(path, &cfg), -1);
    ck_assert_msg(strstr(tensor_error(), path) != NULL, "%s", tensor_error());
    /* Not safetensors at all. */
    out = fopen(path, "wb");
    fputs("Every effort moves you\n", out);
    fclose(out);
    ck_assert_ptr_null(nn_gpt_load_hf(path, NN_GPT_CONFIG_124M));
    ck_assert_msg(strstr(tensor_error(), path) != NULL, "%s", tensor_error());
    /* A config that is not the file's. */
    cfg = fixture_config(FIXTURE);
    cfg.emb_dim = 64;
    ck_assert_error_has(nn_gpt_load_hf(FIXTURE, cfg), ": emb_dim 32 in file, 64 in the config");
    cfg = fixture_config(FIXTURE);
    cfg.qkv_bias = false;
    ck_assert_error_has(nn_gpt_load_hf(FIXTURE, cfg), "GPT-2 has qkv biases");
    cfg = fixture_config(FIXTURE);
    cfg.n_heads = 3;
    ck_assert_error_has(nn_gpt_load_hf(FIXTURE, cfg), "emb_dim 32 must be divisible by n_heads 3");
    scratch_remove();
}
END_TEST

/* ---- a file's word against the model it sizes ---------------------------------------- */

/* A GPT-2 in Hugging Face's layout at path, every weight zero (no masks). */
static void write_hf(const char *path, int64_t V, int64_t C, int64_t E, int64_t L)
{
    static const struct {
        const char *leaf;
        int64_t d0, d1;          /* in multiples of E; d1 0: one dim */
    } block[] = {
        {"ln_1.weight", 1, 0}, {"ln_1.bias", 1, 0}, {"attn.c_attn.weight", 1, 3},
        {"attn.c_attn.bias", 3, 0}, {"attn.c_proj.weight", 1, 1}, {"attn.c_proj.bias", 1, 0},
        {"ln_2.weight", 1, 0}, {"ln_2.bias", 1, 0}, {"mlp.c_fc.weight", 1, 4},
        {"mlp.c_fc.bias", 4, 0}, {"mlp.c_proj.weight", 4, 1}, {"mlp.c_proj.bias", 1, 0},
    };
    enum { PER_BLOCK = sizeof block / sizeof *block };
    int n = 4 + (int)L * PER_BLOCK;
    TensorEntry *e = calloc((size_t)n, sizeof *e);
    char (*names)[48] = calloc((size_t)n, sizeof *names);
    int64_t most = V > C ? V : C;
    float *zeros = calloc((size_t)(most > 4 * E ? most : 4 * E) * (size_t)E, sizeof *zeros);
    e[0] = (TensorEntry){"wte.weight", TENSOR_F32, 2, {V, E}, zeros};
    e[1] = (TensorEntry){"wpe.weight", TENSOR_F32, 2, {C, E}, zeros};
    e[2] = (TensorEntry){"ln_f.weight", TENSOR_F32, 1, {E}, zeros};
    e[3] = (TensorEntry){"ln_f.bias", TENSOR_F32, 1, {E}, zeros};
    for (int64_t b = 0; b < L; b++)
        for (int i = 0; i < PER_BLOCK; i++) {
            int k = 4 + (int)b * PER_BLOCK + i;
            snprintf(names[k], sizeof names[k], "h.%lld.%s", (long long)b, block[i].leaf);
            e[k] = (TensorEntry){names[k], TENSOR_F32, block[i].d1 ? 2 : 1,
                                 {block[i].d0 * E, block[i].d1 * E}, zeros};
        }
    ck_assert_msg(tensor_save_entries(path, n, e, 0, NULL) == 0, "%s", tensor_error());
    free(zeros);
    free(names);
    free(e);
}

/* /proc/self/status's field (VmRSS, VmHWM) in KiB. */
static long status_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') kib = atol(line + n + 1);
    if (f) fclose(f);
    ck_assert_msg(kib >= 0, "no %s in /proc/self/status", field);
    return kib;
}

/* The peak RSS from now on: the high-water mark reset to the current RSS
 * (clear_refs 5); returns that RSS. */
static long peak_reset(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    ck_assert_msg(f != NULL, "cannot reset the peak RSS");
    fputs("5", f);
    fclose(f);
    return status_kib("VmRSS");
}

/* A small file whose wpe claims many rows sized masks of context_length^2
 * floats a layer, allocated before anything else was checked (a 1 MB file
 * with 40000 rows: 6.4 GB a layer, until the kernel killed the program).
 * Refused now, with a message naming the file, before anything is built. */
START_TEST(test_masks_cannot_outweigh_the_weights)
{
    scratch_make("hf");
    const char *path = scratch_file("long.safetensors");
    write_hf(path, 256, 4096, 8, 2);                  /* 154 kB of weights, masks 134 MB */
    char expect[512];
    snprintf(expect, sizeof expect, "load %s: context_length 4096: its causal masks (4096 x 4096 "
             "floats in each of 2 layers, 134.2 MB) would outweigh the model's 154.5 kB of "
             "weights: refused", path);
    NNGPTConfig cfg;
    ck_assert_int_eq(nn_gpt_hf_config(path, &cfg), -1);
    ck_assert_msg(strncmp(tensor_error(), expect, strlen(expect)) == 0, "%s", tensor_error());
    cfg = (NNGPTConfig){256, 4096, 8, 2, 2, 0.0, true};
    long rss = peak_reset();
    ck_assert_ptr_null(nn_gpt_load_hf(path, cfg));
    ck_assert_msg(strncmp(tensor_error(), expect, strlen(expect)) == 0, "%s", tensor_error());
    long grew = status_kib("VmHWM") - rss;
    ck_assert_msg(grew < 8 << 10, "a refused load grew the peak RSS by %ld KiB", grew);
    scratch_remove();
}
END_TEST

/* The model is built once and the file read straight into it: at the
 * peak, the model and one block tensor, not a second copy of wte on the
 * way (a model of 2 x 51 MB of embeddings peaked 51 MB higher). */
START_TEST(test_load_builds_the_model_once)
{
    scratch_make("hf");
    const char *path = scratch_file("wide.safetensors");
    write_hf(path, 50257, 64, 256, 1);
    NNGPTConfig cfg;
    ck_assert_msg(nn_gpt_hf_config(path, &cfg) == 0, "%s", tensor_error());
    cfg.n_heads = 4;
    long rss = peak_reset();
    Module *gpt = nn_gpt_load_hf(path, cfg);
    ck_assert_msg(gpt != NULL, "%s", tensor_error());
    long grew = status_kib("VmHWM") - rss;
    long model = (long)((nn_num_parameters(gpt) + 64 * 64) * 4 / 1024);
    /* Slack: a sanitizer's shadow (an eighth) and 8 MiB of the rest. */
    ck_assert_msg(grew <= model + model / 8 + (8 << 10), "peak RSS grew %ld KiB for a model of "
                  "%ld KiB", grew, model);
    nn_module_free(gpt);
    scratch_remove();
}
END_TEST

static bool same_generator(const TensorGenerator *a, const TensorGenerator *b)
{
    return memcmp(a->state, b->state, sizeof a->state) == 0 && a->index == b->index &&
           a->has_next_double_normal == b->has_next_double_normal &&
           (!a->has_next_double_normal || a->next_double_normal == b->next_double_normal);
}

/* The book builds GPTModel (drawing) and then assigns the file's weights;
 * the loader draws nothing but leaves the generator where the book's is:
 * torch.rand after the book's load (hf_gpt2.txt), and the state of
 * nn_gpt_model's draws, on the fixture and on a model whose embeddings are
 * under 16 elements (randn's other path, which caches a normal). */
START_TEST(test_generator_after_load_is_the_books)
{
    NNGPTConfig cfg = fixture_config(FIXTURE);
    tensor_manual_seed(123);
    Module *gpt = nn_gpt_load_hf(FIXTURE, cfg);
    ck_assert_msg(gpt != NULL, "%s", tensor_error());
    ck_assert_tensor_close(tensor_rand(SHAPE(4)), testutil_fixture("hf_gpt2.txt", "rand_after_load"),
                           0, 0);
    nn_module_free(gpt);

    scratch_make("hf");
    const char *small = scratch_file("small.safetensors");
    write_hf(small, 3, 2, 3, 2);                      /* wte 9, wpe 6 elements */
    const char *paths[] = {FIXTURE, small};
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(nn_gpt_hf_config(paths[k], &cfg), 0);
        cfg.n_heads = k == 0 ? 4 : 3;
        tensor_manual_seed(7);
        gpt = nn_gpt_load_hf(paths[k], cfg);
        ck_assert_msg(gpt != NULL, "%s", tensor_error());
        TensorGenerator loaded = *tensor_default_generator();
        nn_module_free(gpt);
        tensor_manual_seed(7);
        gpt = nn_gpt_model(cfg);
        ck_assert_msg(same_generator(&loaded, tensor_default_generator()), "%s", paths[k]);
        /* 15 serial normals: the last one's pair is cached */
        ck_assert(k == 0 || tensor_default_generator()->has_next_double_normal);
        nn_module_free(gpt);
    }
    scratch_remove();
}
END_TEST

/* ---- a model out of a training checkpoint -------------------------------------------- */

START_TEST(test_module_out_of_a_checkpoint)
{
    scratch_make("hf");
    const char *path = scratch_file("run.safetensors");
    NNGPTConfig cfg = {256, 8, 16, 2, 1, 0.0, true};
    tensor_manual_seed(1);
    Module *a = nn_gpt_model(cfg);
    NNList params = nn_named_parameters(a);
    Optimizer *opt = optim_adamw(params.count, params.tensors,
                                 OPTIM_ADAMW_OPTIONS(.lr = 1e-3, .weight_decay = 0.1));
    nn_list_free(&params);
    int64_t step = 7;
    TensorMeta meta[] = {{"tokenizer", "bytes"}};
    Checkpoint c = {.module = a, .optimizer = opt, .step = &step, .n_meta = 1, .meta = meta};
    ck_assert_msg(checkpoint_save(&c, path) == 0, "%s", tensor_error());
    Module *b = nn_gpt_model(cfg);
    tensor_manual_seed(5);
    /* The other meta value is refused, and b is unchanged. */
    TensorMeta other[] = {{"tokenizer", "gpt2"}};
    ck_assert_int_eq(checkpoint_load_module(b, path, 1, other), -1);
    ck_assert_msg(strstr(tensor_error(), "\"tokenizer\" is \"bytes\" in file, \"gpt2\" expected"),
                  "%s", tensor_error());
    ck_assert_msg(checkpoint_load_module(b, path, 1, meta) == 0, "%s", tensor_error());
    NNList pa = nn_named_parameters(a), pb = nn_named_parameters(b);
    ck_assert_int_eq(pa.count, pb.count);
    for (int i = 0; i < pa.count; i++) ck_assert_tensor_close(pb.tensors[i], pa.tensors[i], 0, 0);
    nn_list_free(&pa);
    nn_list_free(&pb);
    /* The generator is the caller's still: not the checkpoint's. */
    float draw = tensor_rand(SHAPE(1))->data[0];
    tensor_manual_seed(5);
    ck_assert_float_eq(draw, tensor_rand(SHAPE(1))->data[0]);
    /* A model of another config: the message names the tensor and both shapes. */
    Module *wide = nn_gpt_model((NNGPTConfig){256, 8, 32, 2, 1, 0.0, true});
    ck_assert_int_eq(checkpoint_load_module(wide, path, 0, NULL), -1);
    ck_assert_msg(strstr(tensor_error(), "tok_emb.weight: shape (256,16) in file, (256,32) in "
                                         "module"), "%s", tensor_error());
    nn_module_free(wide);
    nn_module_free(b);
    optim_free(opt);
    nn_module_free(a);
    scratch_remove();
}
END_TEST

/* ---- gpt_generate --hf-gpt2 and --load, as a user runs them ----------------------- */

/* Runs gpt_generate with args (stdout and stderr in out); its exit status. */
static int run_generate(const char *args, char *out, size_t cap)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s/examples/gpt_generate %s 2>&1", ATTOGRAD_BUILD_DIR, args);
    return testutil_capture(cmd, out, cap);
}

/* The ids of the "Output: tensor([[...]])" block, as a (n) tensor. */
static Tensor *output_ids(const char *out)
{
    const char *p = strstr(out, "Output: tensor([[");
    ck_assert_msg(p != NULL, "no output ids in: %s", out);
    p += strlen("Output: tensor([[");
    float ids[256];
    int64_t n = 0;
    while (n < 256) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p) break;
        ids[n++] = (float)v;
        p = end + strspn(end, ", \n");
    }
    ck_assert_msg(strncmp(p, "]])", 3) == 0, "ids end badly: %s", p);
    return tensor_from_data(ids, SHAPE(n));
}

static const struct {
    const char *name, *flags;
} hf_runs[] = {
    {"greedy", "--prompt 'Every effort' --max-new-tokens 10"},
    {"sampled", "--prompt 'Every effort' --max-new-tokens 12 --temperature 1.5 --top-k 50 "
                "--seed 123"},
    {"eos", "--prompt 'Every effort' --max-new-tokens 10 --eos-id 237"},
};

START_TEST(test_hf_gpt2_program_gives_pytorch_ids)
{
    char args[1024];
    static char out[1 << 14];
    snprintf(args, sizeof args, "--hf-gpt2 %s --tokenizer bytes --n-heads 4 %s", FIXTURE,
             hf_runs[_i].flags);
    ck_assert_msg(run_generate(args, out, sizeof out) == 0, "%s", out);
    ck_assert_tensor_close(output_ids(out), testutil_fixture("hf_gpt2.txt", hf_runs[_i].name), 0,
                           0);
}
END_TEST

/* A small model trained for nothing: its weights come from seed 99, so a
 * program that built its own (seed 123) instead of loading would differ. */
static const NNGPTConfig tiny = {256, 16, 16, 2, 2, 0.1, true};

/* Saves m as train_gpt --save does (AdamW state, step, generator) with the
 * meta keys of gpt_generate --load, but for the one called drop (NULL: none)
 * and emb_dim given as emb (NULL: m's). */
static void save_run(Module *m, const char *path, const char *drop, const char *emb)
{
    NNList params = nn_named_parameters(m);
    Optimizer *opt = optim_adamw(params.count, params.tensors, OPTIM_ADAMW_OPTIONS(.lr = 4e-4));
    nn_list_free(&params);
    int64_t step = 3, tokens = 96;
    CheckpointExtra extra[] = {{"tokens_seen", &tokens, 0, INT32_MAX}};
    TensorMeta all[] = {{"vocab_size", "256"}, {"context_length", "16"},
                        {"emb_dim", emb ? emb : "16"}, {"n_heads", "2"}, {"n_layers", "2"},
                        {"drop_rate", "0.10000000000000001"}, {"qkv_bias", "true"}, {"tokenizer", "bytes"}};
    TensorMeta meta[8];
    int n = 0;
    for (int i = 0; i < 8; i++)
        if (!drop || strcmp(all[i].key, drop) != 0) meta[n++] = all[i];
    Checkpoint c = {.module = m, .optimizer = opt, .step = &step, .n_extra = 1, .extra = extra,
                    .n_meta = n, .meta = meta};
    ck_assert_msg(checkpoint_save(&c, path) == 0, "%s", tensor_error());
    optim_free(opt);
}

START_TEST(test_load_program_gives_the_models_ids)
{
    scratch_make("hf");
    const char *path = scratch_file("run.safetensors");
    tensor_manual_seed(99);
    Module *m = nn_gpt_model(tiny);
    save_run(m, path, NULL, NULL);
    static const char prompt[] = "Every effort";
    float p[sizeof prompt - 1];
    for (size_t i = 0; i < sizeof p / sizeof *p; i++) p[i] = (unsigned char)prompt[i];
    Tensor *x = tensor_from_data(p, SHAPE(1, (int64_t)(sizeof p / sizeof *p)));
    static const struct {
        const char *flags;
        double temperature;
        int64_t top_k;
        bool bf16;               /* --bf16: the same call in an autocast region */
    } runs[] = {
        {"--max-new-tokens 10", 0, 0, false},
        {"--max-new-tokens 10 --temperature 1.0 --top-k 20 --seed 5", 1.0, 20, false},
        {"--max-new-tokens 10 --bf16", 0, 0, true},
    };
    for (int r = 0; r < 3; r++) {
        tensor_manual_seed(5);   /* as --seed 5 re-seeds before sampling */
        tensor_autocast_begin(runs[r].bf16);
        Tensor *want = nn_generate(m, x, 10, tiny.context_length, runs[r].temperature,
                                   runs[r].top_k, -1);
        tensor_autocast_end();
        ck_assert_msg(want != NULL, "%s", tensor_error());
        char args[1024];
        static char out[1 << 14];
        snprintf(args, sizeof args, "--load %s --prompt 'Every effort' %s", path, runs[r].flags);
        ck_assert_msg(run_generate(args, out, sizeof out) == 0, "%s", out);
        ck_assert_tensor_close(output_ids(out), tensor_reshape(want, SHAPE(-1)), 0, 0);
    }
    nn_module_free(m);
    scratch_remove();
}
END_TEST

/* What train_gpt --save writes, gpt_generate --load runs: the ids of the
 * trained model loaded in this process (checkpoint_load_module). */
START_TEST(test_train_gpt_save_then_load)
{
    scratch_make("hf");
    const char *path = scratch_file("trained.safetensors");
    char cmd[2048];
    static char out[1 << 14];
    snprintf(cmd, sizeof cmd, "%s/examples/train_gpt --config book-test --tokenizer bytes "
             "--context-length 16 --emb-dim 16 --n-heads 2 --n-layers 1 --qkv-bias --batch 4 "
             "--epochs 1 --stop-after-steps 3 --quiet --seed 3 --save %s 2>&1",
             ATTOGRAD_BUILD_DIR, path);
    ck_assert_msg(testutil_capture(cmd, out, sizeof out) == 0, "%s", out);
    Module *m = nn_gpt_model((NNGPTConfig){256, 16, 16, 2, 1, 0.1, true});
    ck_assert_msg(checkpoint_load_module(m, path, 0, NULL) == 0, "%s", tensor_error());
    float p[] = {'E', 'v', 'e', 'r', 'y'};
    Tensor *want = nn_generate(m, tensor_from_data(p, SHAPE(1, 5)), 8, 16, 0, 0, -1);
    char args[1024];
    snprintf(args, sizeof args, "--load %s --prompt Every --max-new-tokens 8", path);
    ck_assert_msg(run_generate(args, out, sizeof out) == 0, "%s", out);
    ck_assert_tensor_close(output_ids(out), tensor_reshape(want, SHAPE(-1)), 0, 0);
    nn_module_free(m);
    scratch_remove();
}
END_TEST

/* The model of cfg saved with the metadata gpt_generate --load reads, which
 * claims meta_cfg. */
static void save_claiming(NNGPTConfig cfg, NNGPTConfig meta_cfg, const char *path)
{
    char v[5][24];
    const int64_t sizes[5] = {meta_cfg.vocab_size, meta_cfg.context_length, meta_cfg.emb_dim,
                              meta_cfg.n_heads, meta_cfg.n_layers};
    for (int k = 0; k < 5; k++) snprintf(v[k], sizeof v[k], "%lld", (long long)sizes[k]);
    TensorMeta meta[] = {{"vocab_size", v[0]}, {"context_length", v[1]}, {"emb_dim", v[2]},
                         {"n_heads", v[3]}, {"n_layers", v[4]}, {"drop_rate", "0"},
                         {"qkv_bias", "true"}, {"tokenizer", "bytes"}};
    Module *m = nn_gpt_model(cfg);
    Checkpoint c = {.module = m, .n_meta = 8, .meta = meta};
    ck_assert_msg(checkpoint_save(&c, path) == 0, "%s", tensor_error());
    nn_module_free(m);
}

/* A checkpoint's metadata sized the model gpt_generate --load built before
 * its tensors were checked: context_length 8192 made 2 masks of 268 MB (at
 * 40000, 6.4 GB each, until the kernel killed it), n_layers 4096 built 4096
 * blocks; the load failed only then.  Refused now from the header, the
 * model never built: the program's peak RSS stays small. */
static const struct {
    NNGPTConfig saved, claimed;
    const char *message;
} oversized[] = {
    {{256, 16, 16, 2, 2, 0.0, true}, {256, 8192, 16, 2, 2, 0.0, true},
     ": pos_emb.weight: shape (16,16) in file, (8192,16) in model\n"},
    {{256, 16, 64, 2, 2, 0.0, true}, {256, 16, 64, 2, 4096, 0.0, true},
     ": trf_blocks.2.att.W_query.weight is missing from the file"},
};

START_TEST(test_load_metadata_cannot_size_the_model)
{
    scratch_make("hf");
    const char *path = scratch_file("claims.safetensors");
    save_claiming(oversized[_i].saved, oversized[_i].claimed, path);
    char args[1024], expect[1024];
    static char out[1 << 14];
    snprintf(args, sizeof args, "--load %s --max-new-tokens 1", path);
    ck_assert_int_eq(run_generate(args, out, sizeof out), 1);
    snprintf(expect, sizeof expect, "gpt_generate: --load: load %s%s", path,
             oversized[_i].message);
    ck_assert_msg(strncmp(out, expect, strlen(expect)) == 0, "%s", out);
    struct rusage ru;
    ck_assert_int_eq(getrusage(RUSAGE_CHILDREN, &ru), 0);
    ck_assert_msg(ru.ru_maxrss < 100 << 10, "gpt_generate peaked at %ld KiB", ru.ru_maxrss);
    scratch_remove();
}
END_TEST

/* The same through --hf-gpt2: wpe's rows size the masks. */
START_TEST(test_hf_gpt2_context_cannot_size_the_masks)
{
    scratch_make("hf");
    const char *path = scratch_file("long.safetensors");
    write_hf(path, 256, 8192, 8, 1);
    char args[1024], expect[1024];
    static char out[1 << 14];
    snprintf(args, sizeof args, "--hf-gpt2 %s --tokenizer bytes --n-heads 2 --max-new-tokens 1",
             path);
    ck_assert_int_eq(run_generate(args, out, sizeof out), 1);
    snprintf(expect, sizeof expect, "gpt_generate: --hf-gpt2: load %s: context_length 8192: its "
             "causal masks (8192 x 8192 floats in each of 1 layers, 268.4 MB)", path);
    ck_assert_msg(strncmp(out, expect, strlen(expect)) == 0, "%s", out);
    struct rusage ru;
    ck_assert_int_eq(getrusage(RUSAGE_CHILDREN, &ru), 0);
    ck_assert_msg(ru.ru_maxrss < 100 << 10, "gpt_generate peaked at %ld KiB", ru.ru_maxrss);
    scratch_remove();
}
END_TEST

/* Each a one-line reason and its status: %s is the file. */
static const struct {
    const char *file, *args, *message;
    int status;
} bad_runs[] = {
    {"run", "--load %s --emb-dim 32", "gpt_generate: --emb-dim (emb_dim 32) contradicts %s "
                                      "(emb_dim 16)\n", 2},
    {"run", "--load %s --config book-test", "gpt_generate: --config (vocab_size 50257) "
                                            "contradicts %s (vocab_size 256)\n", 2},
    {"run", "--load %s --tokenizer gpt2", "gpt_generate: --tokenizer gpt2 contradicts %s "
                                          "(tokenizer bytes)\n", 2},
    {"run", "--load %s --top-k 300", "gpt_generate: --top-k: 300 is larger than the vocabulary "
                                     "(256)\n", 2},
    {"run", "--load %s --hf-gpt2 %s", "gpt_generate: --load and --hf-gpt2 exclude each other "
                                      "(one model)\n", 2},
    {"no_emb", "--load %s", "gpt_generate: --load: load %s: no metadata \"emb_dim\" (not a "
                            "train_gpt checkpoint?)\n", 1},
    {"wide", "--load %s", "gpt_generate: --load: load %s: tok_emb.weight: shape (256,16) in "
                          "file, (256,32) in model\n", 1},
    {"cut", "--load %s", NULL, 1},
    {"missing", "--load %s", "gpt_generate: --load: load %s: No such file or directory\n", 1},
    {"hf", "--hf-gpt2 %s --tokenizer bytes", "gpt_generate: --hf-gpt2 %s: emb_dim 32 is none of "
                                             "GPT-2's widths (768, 1024, 1280, 1600): give "
                                             "--n-heads\n", 2},
    {"hf", "--hf-gpt2 %s --n-heads 3", "gpt_generate: --n-heads 3 does not divide %s's emb_dim "
                                       "32\n", 2},
    {"hf", "--hf-gpt2 %s --n-heads 4 --n-layers 3", "gpt_generate: --n-layers (n_layers 3) "
                                                    "contradicts %s (n_layers 2)\n", 2},
    {"hf", "--hf-gpt2 %s --n-heads 4 --eos-id 256", "gpt_generate: --eos-id: 256 is outside the "
                                                    "vocabulary (0 to 255)\n", 2},
    {"hf_missing", "--hf-gpt2 %s --n-heads 4", "gpt_generate: --hf-gpt2: load %s: "
                                               "h.1.mlp.c_fc.bias is missing from the file", 1},
    {"hf_shape", "--hf-gpt2 %s --n-heads 4", "gpt_generate: --hf-gpt2: load %s: "
                                             "h.0.attn.c_attn.weight: shape (32,64) in file, "
                                             "(32,96) in model\n", 1},
    {"hf_nan", "--hf-gpt2 %s --tokenizer bytes --n-heads 4", "gpt_generate: load %s: "
                                         "h.1.attn.c_proj.weight holds a NaN or an infinity\n", 1},
    {"cut", "--hf-gpt2 %s --n-heads 4", NULL, 1},
};

/* The file bad_runs[i].file names, written into the scratch directory; its path. */
static const char *bad_file(const char *kind)
{
    const char *path = scratch_file(kind);
    if (strcmp(kind, "hf") == 0) return FIXTURE;
    if (strcmp(kind, "hf_missing") == 0) write_edited(path, DROP, "h.1.mlp.c_fc.bias");
    if (strcmp(kind, "hf_shape") == 0) write_edited(path, RESHAPE, "h.0.attn.c_attn.weight");
    if (strcmp(kind, "hf_nan") == 0) write_edited(path, NAN_IN, "h.1.attn.c_proj.weight");
    if (strcmp(kind, "missing") == 0) return path;
    tensor_manual_seed(99);
    Module *m = nn_gpt_model(tiny);
    if (strcmp(kind, "run") == 0 || strcmp(kind, "cut") == 0) save_run(m, path, NULL, NULL);
    if (strcmp(kind, "no_emb") == 0) save_run(m, path, "emb_dim", NULL);
    if (strcmp(kind, "wide") == 0) save_run(m, path, NULL, "32");
    nn_module_free(m);
    if (strcmp(kind, "cut") == 0) ck_assert_int_eq(truncate(path, 3000), 0);
    return path;
}

START_TEST(test_bad_files_and_flags_one_line)
{
    scratch_make("hf");
    const char *file = bad_file(bad_runs[_i].file);
    char path[256], args[1024], expect[1024];
    static char out[1 << 14];
    snprintf(path, sizeof path, "%s", file);
    snprintf(args, sizeof args, bad_runs[_i].args, path, path);
    ck_assert_int_eq(run_generate(args, out, sizeof out), bad_runs[_i].status);
    /* One line, naming the file when the cause is in it. */
    ck_assert_msg(strchr(out, '\n') == out + strlen(out) - 1, "%s", out);
    const char *m = bad_runs[_i].message;
    if (!m || strstr(m, "%s")) ck_assert_msg(strstr(out, path) != NULL, "%s", out);
    if (bad_runs[_i].message) {
        snprintf(expect, sizeof expect, bad_runs[_i].message, path, path);
        ck_assert_msg(strncmp(out, expect, strlen(expect)) == 0, "%s", out);
    }
    scratch_remove();
}
END_TEST

static Suite *gpt_hf_suite(void)
{
    Suite *s = suite_create("gpt_hf");
    TCase *tc = tcase_create("hf");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_generates_pytorch_ids);
    tcase_add_test(tc, test_gpt2_widths_give_heads);
    tcase_add_test(tc, test_transformer_prefix_and_extra_head);
    tcase_add_loop_test(tc, test_broken_file_names_the_tensor, 0, sizeof broken / sizeof *broken);
    tcase_add_test(tc, test_not_a_gpt2_file);
    tcase_add_test(tc, test_module_out_of_a_checkpoint);
    tcase_add_test(tc, test_masks_cannot_outweigh_the_weights);
    tcase_add_test(tc, test_load_builds_the_model_once);
    tcase_add_test(tc, test_generator_after_load_is_the_books);
    suite_add_tcase(s, tc);
    TCase *progs = tcase_create("gpt_generate");
    tcase_set_timeout(progs, 120);
    tcase_add_loop_test(progs, test_hf_gpt2_program_gives_pytorch_ids, 0,
                        sizeof hf_runs / sizeof *hf_runs);
    tcase_add_test(progs, test_load_program_gives_the_models_ids);
    tcase_add_test(progs, test_train_gpt_save_then_load);
    tcase_add_loop_test(progs, test_load_metadata_cannot_size_the_model, 0,
                        sizeof oversized / sizeof *oversized);
    tcase_add_test(progs, test_hf_gpt2_context_cannot_size_the_masks);
    tcase_add_loop_test(progs, test_bad_files_and_flags_one_line, 0,
                        sizeof bad_runs / sizeof *bad_runs);
    suite_add_tcase(s, progs);
    return s;
}

TESTUTIL_MAIN(gpt_hf_suite)
