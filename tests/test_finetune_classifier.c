/*
 * The book's chapter 6 (and appendix E's LoRA on it), suite finetune:
 * the train room's pieces against PyTorch's (tests/reference/
 * finetune_data.txt, gen_finetune.py from book_ch06.py on finetune_sms.tsv):
 * the file as pandas reads it, the balanced dataset, the split, the padded
 * batches, the head's draws; then examples/finetune_classifier as a user
 * runs it: its stdout byte for byte the fixtures' (finetune_cls_*.expected,
 * finetune_lora_count_124m.expected), and its bad input (one line naming
 * the file, line or value; nothing written).
 */
#include <sys/stat.h>
#include <unistd.h>

#include "program_run.h"
#include "testutil.h"

#define FT_DATA "finetune_data.txt"
#define SMS ATTOGRAD_REFERENCE_DIR "/finetune_sms.tsv"
#define HF ATTOGRAD_REFERENCE_DIR "/hf_gpt2_tiny.safetensors"

static const char *vocab_dir(void)
{
    const char *d = getenv("ATTOGRAD_VOCAB_DIR");
    return d && *d ? d : ATTOGRAD_VOCAB_DEFAULT;
}

/* Fixture @name as int64 values, *n of them (malloc'd). */
static int64_t *fixture_ids(const char *name, int64_t *n)
{
    TensorScope *s = tensor_scope_begin();
    Tensor *t = testutil_fixture(FT_DATA, name);
    int64_t *v = NULL;
    ck_assert_int_eq(tensor_to_ids(t, &v, n), 0);
    tensor_scope_end(s);
    return v;
}

static void assert_rows(const TrainSms *df, const char *index_name, const char *label_name)
{
    int64_t n, m;
    int64_t *index = fixture_ids(index_name, &n), *label = fixture_ids(label_name, &m);
    ck_assert_int_eq(df->n, n);
    for (int64_t i = 0; i < n; i++) {
        ck_assert_int_eq(df->rows[i].index, index[i]);
        ck_assert_int_eq(df->rows[i].label, label[i]);
    }
    free(index);
    free(label);
}

/* ---- The file, the balanced dataset, the split ----------------------------------- */

START_TEST(test_read_as_pandas)
{
    TrainSms *df = train_sms_read(SMS);
    ck_assert_msg(df != NULL, "%s", tensor_error());
    int64_t n, k;
    int64_t *first = fixture_ids("sms_first_line", &n), *label = fixture_ids("sms_label", &k);
    int64_t *nbytes = fixture_ids("sms_text_nbytes", &k);
    ck_assert_int_eq(df->n, n);
    int checked = 0;
    size_t all_len;
    char *all = testutil_read_file(ATTOGRAD_REFERENCE_DIR "/" FT_DATA, &all_len);
    for (int64_t i = 0; i < n; i++) {
        ck_assert_int_eq(df->rows[i].index, i);
        ck_assert_int_eq(df->rows[i].line, first[i]);
        ck_assert_int_eq(df->rows[i].label, label[i]);
        ck_assert_int_eq((int64_t)df->rows[i].len, nbytes[i]);
        ck_assert_int_eq((int64_t)strlen(df->rows[i].text), nbytes[i]);
        /* the texts quoting changed, and the non-ASCII ones, byte for byte */
        char name[64];
        snprintf(name, sizeof name, "@sms_text_row%lld ", (long long)i);
        bool present = strstr(all, name) != NULL;
        if (!present) continue;
        int64_t m;
        snprintf(name, sizeof name, "sms_text_row%lld", (long long)i);
        int64_t *bytes = fixture_ids(name, &m);
        ck_assert_int_eq(m, nbytes[i]);
        for (int64_t j = 0; j < m; j++)
            ck_assert_int_eq((unsigned char)df->rows[i].text[j], bytes[j]);
        free(bytes);
        checked++;
    }
    ck_assert_int_gt(checked, 5);
    free(all);
    free(first);
    free(label);
    free(nbytes);
    train_sms_free(df);
}
END_TEST

START_TEST(test_balanced_and_split)
{
    TrainSms *df = train_sms_read(SMS), *bal = train_sms_balanced(df, 123), *p[3];
    ck_assert_msg(bal != NULL, "%s", tensor_error());
    assert_rows(bal, "balanced_index", "balanced_label");
    ck_assert_int_eq(train_sms_random_split(bal, 0.7, 0.1, 123, &p[0], &p[1], &p[2]), 0);
    assert_rows(p[0], "split_train_index", "split_train_label");
    assert_rows(p[1], "split_val_index", "split_val_label");
    assert_rows(p[2], "split_test_index", "split_test_label");
    for (int k = 0; k < 3; k++) train_sms_free(p[k]);
    train_sms_free(bal);
    train_sms_free(df);
}
END_TEST

/* ---- The padded batches -------------------------------------------------------- */

static void assert_batch(const char *prefix, const char *what, const Tensor *x, const Tensor *y)
{
    char name[64];
    snprintf(name, sizeof name, "%s_%s_x", prefix, what);
    ck_assert_tensor_close(x, testutil_fixture(FT_DATA, name), 0, 0);
    snprintf(name, sizeof name, "%s_%s_y", prefix, what);
    ck_assert_tensor_close(y, testutil_fixture(FT_DATA, name), 0, 0);
}

/* The datasets and loaders of prefix (cls: GPT-2's BPE, max_length None;
 * clsb: bytes, max_length 16, pad 255): lengths, the first batch of each
 * loader after one manual_seed(123), the last short batches. */
static void check_batches(const char *prefix, TextTokenizer *tok, int64_t max_length,
                          int64_t pad)
{
    TrainSms *df = train_sms_read(SMS), *bal = train_sms_balanced(df, 123), *p[3];
    ck_assert_int_eq(train_sms_random_split(bal, 0.7, 0.1, 123, &p[0], &p[1], &p[2]), 0);
    Dataset *d[3];
    d[0] = train_spam_dataset(p[0], tok, max_length, pad);
    ck_assert_msg(d[0] != NULL, "%s", tensor_error());
    int64_t T = train_spam_dataset_max_length(d[0]);
    char name[64];
    snprintf(name, sizeof name, "%s_max_length", prefix);
    ck_assert_int_eq(T, (int64_t)tensor_item(testutil_fixture(FT_DATA, name)));
    for (int k = 1; k < 3; k++) ck_assert_ptr_nonnull(d[k] = train_spam_dataset(p[k], tok, T, pad));
    DataLoader *l[3] = {
        data_loader(d[0], DATA_LOADER_OPTIONS(.batch_size = 8, .shuffle = true,
                                              .drop_last = true)),
        data_loader(d[1], DATA_LOADER_OPTIONS(.batch_size = 8)),
        data_loader(d[2], DATA_LOADER_OPTIONS(.batch_size = 8)),
    };
    snprintf(name, sizeof name, "%s_batches", prefix);
    Tensor *lens = testutil_fixture(FT_DATA, name);
    for (int k = 0; k < 3; k++) ck_assert_int_eq(data_loader_len(l[k]), (int64_t)lens->data[k]);
    static const char *const what[3] = {"train_b0", "val_b0", "test_b0"};
    tensor_manual_seed(123);
    for (int k = 0; k < 3; k++) {
        DataIter *it = data_loader_iter(l[k]);
        Tensor *x, *y;
        ck_assert_int_eq(data_iter_next(it, &x, &y), 1);
        assert_batch(prefix, what[k], x, y);
        data_iter_free(it);
    }
    static const char *const last[2] = {"val_last", "test_last"};
    for (int k = 1; k < 3; k++) {
        DataIter *it = data_loader_iter(l[k]);
        Tensor *x, *y, *lx = NULL, *ly = NULL;
        while (data_iter_next(it, &x, &y) == 1) lx = x, ly = y;
        assert_batch(prefix, last[k - 1], lx, ly);
        data_iter_free(it);
    }
    for (int k = 0; k < 3; k++) {
        data_loader_free(l[k]);
        data_dataset_free(d[k]);
        train_sms_free(p[k]);
    }
    train_sms_free(bal);
    train_sms_free(df);
}

START_TEST(test_batches_gpt2)
{
    TextTokenizer *tok = text_tokenizer_gpt2_dir(vocab_dir());
    ck_assert_msg(tok != NULL, "%s", tensor_error());
    TensorScope *s = tensor_scope_begin();
    check_batches("cls", tok, 0, 50256);
    tensor_scope_end(s);
    text_tokenizer_free(tok);
}
END_TEST

START_TEST(test_batches_bytes)
{
    TextTokenizer *tok = text_tokenizer_bytes();
    TensorScope *s = tensor_scope_begin();
    check_batches("clsb", tok, 16, 255);
    tensor_scope_end(s);
    text_tokenizer_free(tok);
}
END_TEST

/* ---- The head, the counts, classify_review --------------------------------------- */

START_TEST(test_head_drawn_as_pytorch)
{
    NNGPTConfig cfg = {50257, 32, 16, 2, 2, 0.1, false};
    tensor_manual_seed(123);
    Module *gpt = nn_gpt_model(cfg);
    ck_assert_ptr_nonnull(gpt);
    tensor_manual_seed(123);
    Module *head = nn_gpt_replace_head(gpt, 2, NULL);
    ck_assert_ptr_nonnull(head);
    TensorScope *s = tensor_scope_begin();
    Linear *l = NN_AS(Linear, head);
    ck_assert_tensor_close(tensor_squeeze(tensor_narrow(l->weight, 0, 0, 1), 0),
                           testutil_fixture("finetune_cls_gpt2.txt", "cls_gpt2_head_w0"), 0, 0);
    ck_assert_tensor_close(l->bias, testutil_fixture("finetune_cls_gpt2.txt", "cls_gpt2_head_b"),
                           0, 0);
    tensor_scope_end(s);
    ck_assert_ptr_eq(nn_get_parameter(gpt, "out_head.weight"), l->weight);
    ck_assert_ptr_eq(nn_get_parameter(gpt, "out_head.bias"), l->bias);
    /* the book's freezing: 3,298 trainable (the fixture's count) */
    ck_assert_int_eq(train_classifier_set_trainable(gpt, TRAIN_TRAINABLE_LAST_BLOCK), 0);
    ck_assert_int_eq(nn_num_trainable_parameters(gpt),
                     (int64_t)tensor_item(testutil_fixture("finetune_cls_gpt2.txt",
                                                           "cls_gpt2_trainable")));
    ck_assert_int_eq(train_classifier_set_trainable(gpt, TRAIN_TRAINABLE_HEAD), 0);
    ck_assert_int_eq(nn_num_trainable_parameters(gpt), 16 * 2 + 2);
    ck_assert_int_eq(train_classifier_set_trainable(gpt, TRAIN_TRAINABLE_ALL), 0);
    ck_assert_int_eq(nn_num_trainable_parameters(gpt), nn_num_parameters(gpt));
    ck_assert_int_eq(nn_num_parameters(gpt), nn_gpt_num_parameters(cfg, 2, true));
    /* a text of nothing is refused */
    TextTokenizer *tok = text_tokenizer_bytes();
    ck_assert_int_eq(train_classify_review("", gpt, tok, 8, 255), -1);
    ck_assert_str_eq(tensor_error(), "classify_review: the text is empty");
    ck_assert_int_ge(train_classify_review("Win cash now", gpt, tok, 8, 255), 0);
    text_tokenizer_free(tok);
    ck_assert_ptr_null(nn_gpt_replace_head(gpt, 0, NULL));
    ck_assert_str_eq(tensor_error(), "nn_gpt_replace_head: num_classes 0 must be 1 to 2^24");
    nn_module_free(gpt);
}
END_TEST

/* A classifier saved and read back: its info, then its weights; a file
 * whose metadata claims another head is refused before a model is built. */
START_TEST(test_classifier_file)
{
    scratch_make("finetune-file");
    NNGPTConfig cfg = {256, 16, 16, 2, 1, 0.0, true};
    tensor_manual_seed(7);
    Module *gpt = nn_gpt_model(cfg);
    ck_assert_ptr_nonnull(nn_gpt_replace_head(gpt, 2, NULL));
    TrainClassifierInfo info = {.cfg = cfg, .tokenizer = "bytes", .num_classes = 2,
                                .max_length = 12};
    ck_assert_int_eq(train_classifier_save(gpt, &info, scratch_file("c.safetensors")), 0);
    TrainClassifierInfo back;
    ck_assert_int_eq(train_classifier_info(scratch_file("c.safetensors"), &back), 1);
    ck_assert_int_eq(back.max_length, 12);
    ck_assert_int_eq(back.num_classes, 2);
    ck_assert_int_eq(back.lora_rank, 0);
    ck_assert_str_eq(back.tokenizer, "bytes");
    ck_assert_int_eq(back.cfg.emb_dim, 16);
    Module *loaded = train_classifier_load(scratch_file("c.safetensors"), &back);
    ck_assert_ptr_nonnull(loaded);
    TensorScope *s = tensor_scope_begin();
    ck_assert_tensor_close(nn_get_parameter(loaded, "out_head.weight"),
                           nn_get_parameter(gpt, "out_head.weight"), 0, 0);
    tensor_scope_end(s);
    info.num_classes = 3;
    ck_assert_int_eq(train_classifier_save(gpt, &info, scratch_file("d.safetensors")), 0);
    ck_assert_int_eq(train_classifier_info(scratch_file("d.safetensors"), &back), -1);
    ck_assert_ptr_nonnull(strstr(tensor_error(), "out_head.weight: not a (3,16) tensor"));
    nn_module_free(loaded);
    nn_module_free(gpt);
    scratch_remove();
}
END_TEST

/* The book's three count lines of the 355M instruction model (exercise
 * 7.4: gpt2-medium, its vocabulary head, rank 16), from shapes alone. */
START_TEST(test_counts_355m)
{
    NNGPTConfig cfg = {50257, 1024, 1024, 16, 24, 0.0, true};
    char want[256];
    snprintf(want, sizeof want, "Total trainable parameters before: 406,286,336\n"
                                "Total trainable parameters after: 0\n"
                                "Total trainable LoRA parameters: 7,898,384\n");
    char *file = testutil_read_text(ATTOGRAD_REFERENCE_DIR "/finetune_lora_count_355m.expected");
    ck_assert_str_eq(file, want);
    ck_assert_int_eq(nn_gpt_num_parameters(cfg, 50257, false), 406286336);
    ck_assert_int_eq(nn_gpt_lora_parameters(cfg, 50257, 16), 7898384);
    ck_assert_int_eq(nn_gpt_num_parameters(NN_GPT_CONFIG_124M, 50257, false), 163009536);
}
END_TEST

/* ---- The library's bad input: NULL or -1 and one message ------------------------ */

static bool read_null(void) { return train_sms_read(NULL) == NULL; }
static bool read_missing(void) { return train_sms_read("/nonexistent/x.tsv") == NULL; }
static bool balanced_null(void) { return train_sms_balanced(NULL, 123) == NULL; }
static bool split_fracs(void)
{
    TrainSms df = {0}, *a, *b, *c;
    return train_sms_random_split(&df, 0.9, 0.2, 123, &a, &b, &c) == -1;
}
static bool split_seed(void)
{
    TrainSms df = {0}, *a, *b, *c;
    return train_sms_random_split(&df, 0.7, 0.1, -1, &a, &b, &c) == -1;
}
static bool dataset_empty(void)
{
    TrainSms df = {0};
    TextTokenizer *tok = text_tokenizer_bytes();
    bool failed = train_spam_dataset(&df, tok, 0, 255) == NULL;
    text_tokenizer_free(tok);
    return failed;
}
static bool dataset_pad(void)
{
    TrainSmsRow row = {.text = "hi", .len = 2};
    TrainSms df = {1, &row};
    TextTokenizer *tok = text_tokenizer_bytes();
    bool failed = train_spam_dataset(&df, tok, 0, 256) == NULL;
    text_tokenizer_free(tok);
    return failed;
}
static bool dataset_special(void)
{
    TrainSmsRow row = {.index = 4, .line = 7, .text = "a<|endoftext|>", .len = 14};
    TrainSms df = {1, &row};
    TextTokenizer *tok = text_tokenizer_bytes();
    bool failed = train_spam_dataset(&df, tok, 0, 255) == NULL;
    text_tokenizer_free(tok);
    return failed;
}
static bool max_length_other(void)
{
    Tensor *t = tensor_zeros(SHAPE(2, 1));
    Dataset *d = data_tensor_dataset(1, &t);
    bool failed = train_spam_dataset_max_length(d) == -1;
    data_dataset_free(d);
    return failed;
}
static bool accuracy_null(void)
{
    double a;
    return train_calc_accuracy_loader(NULL, NULL, 0, &a) == -1;
}
static bool head_not_gpt(void)
{
    Module *l = nn_linear(2, 2, true);
    bool failed = nn_gpt_replace_head(l, 2, NULL) == NULL;
    nn_module_free(l);
    return failed;
}
static bool trainable_not_gpt(void)
{
    Module *l = nn_linear(2, 2, true);
    bool failed = train_classifier_set_trainable(l, TRAIN_TRAINABLE_LAST_BLOCK) == -1;
    nn_module_free(l);
    return failed;
}
static bool count_bad_head(void) { return nn_gpt_num_parameters(NN_GPT_CONFIG_124M, 0, true) == -1; }

static const struct {
    bool (*fails)(void);
    const char *message;
} lib_rows[] = {
    {read_null, "read_text: path or len is NULL"},
    {read_missing, "cannot open /nonexistent/x.tsv: No such file or directory"},
    {balanced_null, "create_balanced_dataset: the frame is NULL"},
    {split_fracs, "random_split: train_frac 0.9 and validation_frac 0.2 must be >= 0 with a sum "
                  "<= 1"},
    {split_seed, "data_numpy_random_state_permutation: seed -1 must be between 0 and 2**32 - 1"},
    {dataset_empty, "SpamDataset: the frame has no rows"},
    {dataset_pad, "SpamDataset: pad_token_id 256 is outside the tokenizer's vocabulary (0 to 255)"},
    {dataset_special, "SpamDataset: row 4 (line 7): disallowed special token <|endoftext|>"},
    {max_length_other, "train_spam_dataset_max_length: not a SpamDataset"},
    {accuracy_null, "calc_accuracy_loader: loader, model and accuracy must not be NULL"},
    {head_not_gpt, "nn_gpt_replace_head: Linear is not a GPTModel"},
    {trainable_not_gpt, "set_trainable: the Linear has no out_head"},
    {count_bad_head, "nn_gpt_num_parameters: head_out 0 must be positive"},
};

START_TEST(test_library_bad_input)
{
    TensorScope *s = tensor_scope_begin();
    tensor_clear_error();
    ck_assert_msg(lib_rows[_i].fails(), "row %d did not fail", _i);
    ck_assert_str_eq(tensor_error(), lib_rows[_i].message);
    tensor_scope_end(s);
}
END_TEST

/* ---- The program ------------------------------------------------------------------ */

static void setup(void) { scratch_make("finetune"); }
static void teardown(void) { scratch_remove(); }

#define T1 "You are a winner you have been specially selected to receive $1000 cash or a $2000 award."
#define T2 "Hey, just wanted to check if we're still on for dinner tonight? Let me know!"
#define RUN "--epochs", "2", "--lr", "1e-3", "--eval-freq", "5", "--eval-iter", "5"
#define GPT2_CFG "--vocab-size", "50257", "--context-length", "32", "--emb-dim", "16", \
    "--n-heads", "2", "--n-layers", "2", "--drop-rate", "0.1"
#define HF_CFG "--hf-gpt2", HF, "--tokenizer", "bytes", "--n-heads", "4", "--drop-rate", "0.1", \
    "--max-length", "16"

static char out[1 << 16], err[1 << 14];

static void assert_prints(const char *expected, const char *const *args)
{
    int rc = program_run("finetune_classifier", args, out, sizeof out, err, sizeof err);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", ATTOGRAD_REFERENCE_DIR, expected);
    char *want = testutil_read_text(path);
    ck_assert_str_eq(out, want);
}

/* --csv's rows against the run's unrounded numbers (PyTorch's doubles):
 * steps and examples seen exactly, accuracies exactly (counts over
 * counts), losses to 1e-6 (the forward's last float bits may differ).
 * bf16_rtol > 0 (a --bf16 run against float32's fixture): losses within
 * that relative distance, accuracies only in [0, 1] (a prediction near
 * the boundary may flip when products round to bf16). */
static void assert_csv_tol(const char *csv, const char *fixture, const char *run,
                           double bf16_rtol)
{
    char path[1024], name[64];
    size_t len;
    snprintf(path, sizeof path, "%s", scratch_file(csv));
    char *text = testutil_read_file(path, &len);
    snprintf(path, sizeof path, "%s/%s", ATTOGRAD_REFERENCE_DIR, fixture);
    TensorScope *scope = tensor_scope_begin();
    snprintf(name, sizeof name, "%s_eval_step", run);
    Tensor *step = testutil_fixture(fixture, name);
    snprintf(name, sizeof name, "%s_seen", run);
    Tensor *seen = testutil_fixture(fixture, name);
    snprintf(name, sizeof name, "%s_train_acc", run);
    Tensor *ta = testutil_fixture(fixture, name);
    snprintf(name, sizeof name, "%s_val_acc", run);
    Tensor *va = testutil_fixture(fixture, name);
    /* the doubles: "@name n" then values over lines */
    double tl[64], vl[64];
    int64_t nl = 0;
    for (int which = 0; which < 2; which++) {
        char *all = testutil_read_file(path, &len);
        snprintf(name, sizeof name, "@%s_%s_loss ", run, which ? "val" : "train");
        char *at = strstr(all, name);
        ck_assert_ptr_nonnull(at);
        char *p = at + strlen(name), *end;
        nl = strtoll(p, &end, 10);
        p = end;
        for (int64_t i = 0; i < nl && i < 64; i++) {
            (which ? vl : tl)[i] = strtod(p, &end);
            p = end;
        }
        free(all);
    }
    int64_t evals = 0, epochs = 0, moved = 0;
    char *line = strchr(text, '\n');
    while (line && line[1]) {
        long long st, ep, ex;
        double l1, l2;
        int used = 0;
        ck_assert_int_eq(sscanf(line + 1, "%lld,%lld,%lld,%n", &st, &ep, &ex, &used), 3);
        const char *rest = line + 1 + used;
        if (*rest != ',') {
            ck_assert_int_eq(sscanf(rest, "%lf,%lf", &l1, &l2), 2);
            ck_assert_int_eq(st, (int64_t)step->data[evals]);
            ck_assert_int_eq(ex, (int64_t)seen->data[evals]);
            ck_assert_double_eq_tol(l1, tl[evals], bf16_rtol > 0 ? bf16_rtol * tl[evals] : 1e-6);
            ck_assert_double_eq_tol(l2, vl[evals], bf16_rtol > 0 ? bf16_rtol * vl[evals] : 1e-6);
            moved += fabs(l1 - tl[evals]) > 1e-6 || fabs(l2 - vl[evals]) > 1e-6;
            evals++;
        } else {
            ck_assert_int_eq(sscanf(rest, ",,%lf,%lf", &l1, &l2), 2);
            if (bf16_rtol > 0) {
                ck_assert(l1 >= 0 && l1 <= 1 && l2 >= 0 && l2 <= 1);
            } else {
                ck_assert_float_eq((float)l1, ta->data[epochs]);
                ck_assert_float_eq((float)l2, va->data[epochs]);
            }
            epochs++;
        }
        line = strchr(line + 1, '\n');
    }
    ck_assert_int_eq(evals, nl);
    ck_assert_int_eq(epochs, ta->numel);
    if (bf16_rtol > 0) ck_assert_msg(moved > 0, "a --bf16 run gave float32's losses");
    tensor_scope_end(scope);
    free(text);
}

static void assert_csv(const char *csv, const char *fixture, const char *run)
{
    assert_csv_tol(csv, fixture, run, 0);
}

START_TEST(test_program_cls_gpt2)
{
    const char *args[] = {"--data", SMS, GPT2_CFG, RUN, "--classify", T1, "--classify", T2,
                          "--csv", "run.csv", "--save", "cls.safetensors", NULL};
    assert_prints("finetune_cls_gpt2.expected", args);
    assert_csv("run.csv", "finetune_cls_gpt2.txt", "cls_gpt2");
    /* the saved classifier classifies as the run's model did */
    const char *again[] = {"--load", "cls.safetensors", "--classify", T1, "--classify", T2, NULL};
    ck_assert_int_eq(program_run("finetune_classifier", again, out, sizeof out, err, sizeof err),
                     0);
    ck_assert_str_eq(out, "not spam\nnot spam\n");
}
END_TEST

/* --bf16: the same run with bf16 products stays within 2% of float32's
 * losses at every evaluation (issue 26's accuracy bound; measured here
 * well under it), and the program's lines keep their form. */
START_TEST(test_program_cls_gpt2_bf16)
{
    const char *args[] = {"--data", SMS, GPT2_CFG, RUN, "--bf16", "--csv", "bf16.csv", NULL};
    ck_assert_int_eq(program_run("finetune_classifier", args, out, sizeof out, err, sizeof err),
                     0);
    ck_assert_ptr_nonnull(strstr(out, "Ep 1 (Step 000000): Train loss "));
    ck_assert_ptr_nonnull(strstr(out, "Test accuracy: "));
    assert_csv_tol("bf16.csv", "finetune_cls_gpt2.txt", "cls_gpt2", 0.02);
}
END_TEST

START_TEST(test_program_cls_gpt2_lora)
{
    const char *args[] = {"--data", SMS, GPT2_CFG, RUN, "--lora-rank", "4", "--lora-alpha", "8",
                          "--classify", T1, "--classify", T2, NULL};
    assert_prints("finetune_cls_gpt2_lora.expected", args);
}
END_TEST

START_TEST(test_program_cls_hf)
{
    const char *args[] = {"--data", SMS, HF_CFG, RUN, "--classify", T1, "--classify", T2,
                          "--csv", "hf.csv", NULL};
    assert_prints("finetune_cls_hf.expected", args);
    assert_csv("hf.csv", "finetune_cls_hf.txt", "cls_hf");
}
END_TEST

START_TEST(test_program_cls_hf_lora)
{
    const char *args[] = {"--data", SMS, HF_CFG, RUN, "--lora-rank", "4", "--lora-alpha", "8",
                          "--classify", T1, "--classify", T2, "--save", "lora.safetensors",
                          NULL};
    assert_prints("finetune_cls_hf_lora.expected", args);
    const char *again[] = {"--load", "lora.safetensors", "--classify", T1, "--classify", T2,
                           NULL};
    ck_assert_int_eq(program_run("finetune_classifier", again, out, sizeof out, err, sizeof err),
                     0);
    ck_assert_str_eq(out, "spam\nnot spam\n");
}
END_TEST

/* --save-lora writes the LoRA weights and the new head alone; --load-lora
 * puts them back on the same GPT-2 and prints the trained run's accuracies
 * (the whole sets) and classes, with --data or, classes only, without. */
START_TEST(test_program_lora_file)
{
    const char *args[] = {"--data", SMS, HF_CFG, RUN, "--lora-rank", "4", "--lora-alpha", "8",
                          "--classify", T1, "--classify", T2, "--save-lora", "lora.safetensors",
                          NULL};
    int rc = program_run("finetune_classifier", args, out, sizeof out, err, sizeof err);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    /* the lines from the whole sets' accuracies on: the line before the last
     * Validation line */
    const char *v = NULL, *from;
    for (const char *p = out; (p = strstr(p, "\nValidation accuracy: ")); p++) v = p;
    ck_assert_ptr_nonnull(from = v);
    while (from > out && from[-1] != '\n') from--;
    static char trained[sizeof out];
    snprintf(trained, sizeof trained, "%s", from);
    ck_assert_str_eq(trained + strlen(trained) - 14, "spam\nnot spam\n");
    const char *load[] = {"--data", SMS, HF_CFG, "--lora-rank", "4", "--lora-alpha", "8",
                          "--classify", T1, "--classify", T2, "--load-lora", "lora.safetensors",
                          "--save", "whole.safetensors", NULL};
    rc = program_run("finetune_classifier", load, out, sizeof out, err, sizeof err);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    ck_assert_str_eq(out, trained);
    const char *classes[] = {"--hf-gpt2", HF, "--tokenizer", "bytes", "--n-heads", "4",
                             "--lora-rank", "4", "--lora-alpha", "8", "--classify", T1,
                             "--classify", T2, "--load-lora", "lora.safetensors", NULL};
    rc = program_run("finetune_classifier", classes, out, sizeof out, err, sizeof err);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    ck_assert_str_eq(out, "spam\nnot spam\n");
    /* the whole classifier --save wrote from it classifies alike */
    const char *whole[] = {"--load", "whole.safetensors", "--classify", T1, "--classify", T2,
                           NULL};
    rc = program_run("finetune_classifier", whole, out, sizeof out, err, sizeof err);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    ck_assert_str_eq(out, "spam\nnot spam\n");
}
END_TEST

/* A LoRA file on a model it does not fit, or a path that cannot be
 * written: exit 2, one line naming the file and the difference, before
 * any work, nothing written. */
static const struct {
    const char *flags[12];
    const char *message;
} lora_rows[] = {
    {{"--load-lora", "lora.safetensors"},
     "finetune_classifier: --load-lora lora.safetensors: LoRA of rank 4: give --lora-rank 4 "
     "--lora-alpha 8, as it was trained"},
    {{"--load-lora", "lora.safetensors", "--lora-rank", "2", "--lora-alpha", "8"},
     "finetune_classifier: --load-lora: lora.safetensors: lora_rank 4 in the file, 2 in the "
     "model"},
    {{"--load-lora", "lora.safetensors", "--lora-rank", "4"},
     "finetune_classifier: --load-lora: lora.safetensors: lora_alpha 8 in the file, 4 in the "
     "model"},
    {{"--load-lora", "lora.safetensors", "--lora-rank", "4", "--lora-alpha", "8", "--max-length",
      "12"},
     "finetune_classifier: --max-length 12 contradicts lora.safetensors (max_length 16)"},
    {{"--load-lora", "lora.safetensors", "--lora-rank", "4", "--lora-alpha", "8", "--config",
      "book-test"},
     "finetune_classifier: the model's sizes come from --hf-gpt2 or --load: no --config, "
     "--vocab-size, --context-length, --emb-dim, --n-layers or --qkv-bias with them"},
    {{"--save-lora", "fifo", "--lora-rank", "4"},
     "finetune_classifier: --save-lora fifo: is a FIFO; only a regular file is replaced"},
    {{"--save-lora", "dangling", "--lora-rank", "4"},
     "finetune_classifier: --save-lora dangling: a symbolic link to nothing"},
    {{"--save-lora", "nowhere/l.safetensors", "--lora-rank", "4"},
     "finetune_classifier: --save-lora nowhere/l.safetensors: the folder nowhere does not exist"},
    {{"--save-lora", "l.safetensors"},
     "finetune_classifier: --save-lora needs --lora-rank N (the weights it saves)"},
    {{"--load-lora", "lora.safetensors", "--lora-rank", "4", "--plot", "p.png"},
     "finetune_classifier: --csv, --plot and --plot-accuracy show training: not with "
     "--load-lora"},
};

START_TEST(test_program_lora_file_refused)
{
    const char *args[] = {"--data", SMS, HF_CFG, "--epochs", "0", "--lora-rank", "4",
                          "--lora-alpha", "8", "--save-lora", "lora.safetensors", NULL};
    int rc = program_run("finetune_classifier", args, out, sizeof out, err, sizeof err);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    ck_assert_int_eq(mkfifo(scratch_file("fifo"), 0600), 0);
    ck_assert_int_eq(symlink("nothing", scratch_file("dangling")), 0);
    int before = scratch_count();
    const char *bad[32] = {"--data", SMS, HF_CFG};
    int n = 0;
    while (bad[n]) n++;
    for (int k = 0; lora_rows[_i].flags[k]; k++) bad[n++] = lora_rows[_i].flags[k];
    bad[n] = NULL;
    ck_assert_int_eq(program_run("finetune_classifier", bad, out, sizeof out, err, sizeof err), 2);
    char want[512];
    snprintf(want, sizeof want, "%s\n", lora_rows[_i].message);
    ck_assert_str_eq(err, want);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(scratch_count(), before);
}
END_TEST

/* On another model: a GPT of other sizes, or GPT-2's shapes with other weights. */
START_TEST(test_program_lora_file_other_model)
{
    const char *args[] = {"--data", SMS, GPT2_CFG, "--epochs", "0", "--lora-rank", "4",
                          "--lora-alpha", "8", "--save-lora", "lora.safetensors", NULL};
    int rc = program_run("finetune_classifier", args, out, sizeof out, err, sizeof err);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    const char *wider[] = {"--data", SMS, GPT2_CFG, "--emb-dim", "32", "--lora-rank", "4",
                           "--lora-alpha", "8", "--load-lora", "lora.safetensors", NULL};
    ck_assert_int_eq(program_run("finetune_classifier", wider, out, sizeof out, err, sizeof err),
                     2);
    ck_assert_str_eq(err, "finetune_classifier: --load-lora: lora.safetensors: emb_dim 16 in the "
                          "file, 32 in the model\n");
    const char *seed[] = {"--data", SMS, GPT2_CFG, "--seed", "7", "--lora-rank", "4",
                          "--lora-alpha", "8", "--load-lora", "lora.safetensors", NULL};
    ck_assert_int_eq(program_run("finetune_classifier", seed, out, sizeof out, err, sizeof err),
                     1);
    ck_assert_msg(strncmp(err, "finetune_classifier: --load-lora: lora.safetensors: trained on "
                               "other pretrained weights (base_fnv1a64 ", 92) == 0, "%s", err);
    ck_assert_ptr_eq(strchr(err, '\n'), err + strlen(err) - 1);
}
END_TEST

/* A train_gpt checkpoint fine-tuned: its config and tokenizer from its
 * metadata, its weights under the new head. */
START_TEST(test_program_from_train_gpt)
{
    const char *pre[] = {"--config", "book-test", "--tokenizer", "bytes", "--context-length",
                         "32", "--epochs", "1", "--batch", "4", "--save", "pre.safetensors",
                         "--quiet", NULL};
    ck_assert_int_eq(program_run("train_gpt", pre, out, sizeof out, err, sizeof err), 0);
    const char *args[] = {"--load", "pre.safetensors", "--data", SMS, "--max-length", "32",
                          "--epochs", "1", "--eval-freq", "10", "--lr", "1e-3", "--classify",
                          T1, NULL};
    int rc = program_run("finetune_classifier", args, out, sizeof out, err, sizeof err);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    ck_assert_ptr_nonnull(strstr(out, "Ep 1 (Step 000000): Train loss "));
    ck_assert_ptr_nonnull(strstr(out, "Ep 1 (Step 000010): Train loss "));
    ck_assert_ptr_nonnull(strstr(out, "\nTest accuracy: "));
    const char *no_data[] = {"--load", "pre.safetensors", "--classify", T1, NULL};
    ck_assert_int_eq(program_run("finetune_classifier", no_data, out, sizeof out, err,
                                 sizeof err), 2);
    ck_assert_str_eq(err, "finetune_classifier: --data FILE is needed: pre.safetensors is a "
                          "GPT, not a classifier this program saved\n");
}
END_TEST

/* The book's two figures: losses and accuracies against epochs, examples
 * seen on the top axis. */
START_TEST(test_program_figures)
{
    const char *args[] = {"--data", SMS, GPT2_CFG, RUN, "--classify", T1, "--classify", T2,
                          "--plot", "loss.svg", "--plot-accuracy", "accuracy.svg", NULL};
    assert_prints("finetune_cls_gpt2.expected", args);
    size_t len;
    for (int k = 0; k < 2; k++) {
        char *svg = testutil_read_file(scratch_file(k ? "accuracy.svg" : "loss.svg"), &len);
        ck_assert_ptr_nonnull(strstr(svg, "<svg"));
        ck_assert_ptr_nonnull(strstr(svg, "examples seen"));
        ck_assert_ptr_nonnull(strstr(svg, k ? "accuracy" : "loss"));
        free(svg);
    }
}
END_TEST

START_TEST(test_program_count_124m)
{
    const char *args[] = {"--config", "124M", "--qkv-bias", "--lora-rank", "16", "--lora-alpha",
                          "16", "--count-parameters", NULL};
    assert_prints("finetune_lora_count_124m.expected", args);
}
END_TEST

/* ---- Bad input: one line naming the file, line or value; nothing written ----------- */

typedef struct {
    const char *what;
    const char *tsv;             /* the data file's content; NULL: none written */
    const char *flags[8];        /* after --data data.tsv (or alone when tsv is NULL) */
    const char *message;         /* the whole stderr line, "{dir}" the scratch folder */
} BadRow;

static const BadRow bad_rows[] = {
    {"missing file", NULL, {"--data", "absent.tsv"},
     "finetune_classifier: --data: cannot open absent.tsv: No such file or directory"},
    {"empty file", "", {0}, "finetune_classifier: --data: data.tsv: no rows (label<TAB>text lines)"},
    {"a line without a tab", "ham\thello\nspam no tab here\n", {0},
     "finetune_classifier: --data: data.tsv: line 2: no tab: expected label<TAB>text"},
    {"a label other than ham or spam", "ham\thi\nspa\twin\n", {0},
     "finetune_classifier: --data: data.tsv: line 2: label 'spa' is not ham or spam"},
    {"a quote never closed", "ham\thi\nspam\t\"win\n", {0},
     "finetune_classifier: --data: data.tsv: line 2: a quoted field (a text starting with '\"') "
     "is never closed"},
    {"too few examples for a batch",
     "ham\ta\nham\tb\nham\tc\nham\td\nham\te\nspam\tf\nspam\tg\nspam\th\nspam\ti\nspam\tj\n",
     {"--batch-size", "8"},
     "finetune_classifier: --data data.tsv: the training part has 7 examples, fewer than "
     "--batch-size 8: too few examples for a batch"},
    {"--classify with an empty text", "ham\thi\n", {"--classify", ""},
     "finetune_classifier: --classify: the text is empty"},
    {"LoRA rank 0", "ham\thi\n", {"--lora-rank", "0"},
     "finetune_classifier: --lora-rank: 0 is out of range (1 to 16777216)"},
    {"LoRA rank larger than the layers", "ham\thi\n", {"--lora-rank", "17"},
     "finetune_classifier: --lora-rank 17: gpt_lora_parameters: rank 17 is larger than the "
     "attention's Linear(16, 16): at most max(in, out) = 16"},
    {"texts longer than the context", NULL, {0}, NULL},
};

START_TEST(test_bad_input)
{
    const BadRow *b = &bad_rows[_i];
    if (!b->message) return;
    if (b->tsv) {
        FILE *f = fopen(scratch_file("data.tsv"), "w");
        fputs(b->tsv, f);
        fclose(f);
    }
    const char *args[32];
    int n = 0;
    if (b->tsv) args[n++] = "--data", args[n++] = "data.tsv";
    for (int k = 0; k < 8 && b->flags[k]; k++) args[n++] = b->flags[k];
    const char *tail[] = {"--vocab-size", "50257", "--context-length", "32", "--emb-dim", "16",
                          "--n-heads", "2", "--n-layers", "1", "--csv", "out.csv", "--save",
                          "out.safetensors", NULL};
    for (int k = 0; tail[k]; k++) args[n++] = tail[k];
    args[n] = NULL;
    int before = scratch_count();
    int rc = program_run("finetune_classifier", args, out, sizeof out, err, sizeof err);
    ck_assert_msg(rc != 0, "%s: exit 0", b->what);
    char want[512];
    snprintf(want, sizeof want, "%s\n", b->message);
    ck_assert_msg(strcmp(err, want) == 0, "%s:\n  got      \"%s\"\n  expected \"%s\"", b->what,
                  err, want);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(scratch_count(), before);
}
END_TEST

/* A text longer than the context, without --max-length. */
START_TEST(test_text_longer_than_context)
{
    FILE *f = fopen(scratch_file("data.tsv"), "w");
    for (int i = 0; i < 20; i++)
        fprintf(f, "%s\tthis message has a good many words in it %d\n", i % 2 ? "spam" : "ham", i);
    fclose(f);
    const char *args[] = {"--data", "data.tsv", "--tokenizer", "bytes", "--context-length", "16",
                          "--emb-dim", "16", "--n-heads", "2", "--n-layers", "1", "--csv",
                          "out.csv", NULL};
    ck_assert_int_eq(program_run("finetune_classifier", args, out, sizeof out, err, sizeof err),
                     2);
    ck_assert_str_eq(err, "finetune_classifier: --data data.tsv: the longest training text is "
                          "43 tokens, more than the model's context length 16 (give "
                          "--max-length 16 or less)\n");
    ck_assert_int_eq(scratch_count(), 1);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("finetune_classifier");
    TCase *lib = tcase_create("library");
    tcase_set_timeout(lib, 120);
    tcase_add_test(lib, test_read_as_pandas);
    tcase_add_test(lib, test_balanced_and_split);
    tcase_add_test(lib, test_batches_gpt2);
    tcase_add_test(lib, test_batches_bytes);
    tcase_add_test(lib, test_head_drawn_as_pytorch);
    tcase_add_test(lib, test_counts_355m);
    tcase_add_test(lib, test_classifier_file);
    tcase_add_loop_test(lib, test_library_bad_input, 0,
                        (int)(sizeof lib_rows / sizeof *lib_rows));
    suite_add_tcase(s, lib);
    TCase *prog = tcase_create("program");
    tcase_set_timeout(prog, 300);
    tcase_add_checked_fixture(prog, setup, teardown);
    tcase_add_test(prog, test_program_cls_gpt2);
    tcase_add_test(prog, test_program_cls_gpt2_bf16);
    tcase_add_test(prog, test_program_cls_gpt2_lora);
    tcase_add_test(prog, test_program_cls_hf);
    tcase_add_test(prog, test_program_cls_hf_lora);
    tcase_add_test(prog, test_program_figures);
    tcase_add_test(prog, test_program_from_train_gpt);
    tcase_add_test(prog, test_program_lora_file);
    tcase_add_loop_test(prog, test_program_lora_file_refused, 0,
                        (int)(sizeof lora_rows / sizeof *lora_rows));
    tcase_add_test(prog, test_program_lora_file_other_model);
    tcase_add_test(prog, test_program_count_124m);
    tcase_add_loop_test(prog, test_bad_input, 0, (int)(sizeof bad_rows / sizeof *bad_rows));
    tcase_add_test(prog, test_text_longer_than_context);
    suite_add_tcase(s, prog);
    return s;
}

TESTUTIL_MAIN(make_suite)
