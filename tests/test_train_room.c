/*
 * The train room through its API (train/train.h; the programs' runs
 * against PyTorch are test_train.c and test_train_gpt_resume.c): the split
 * as Python counts characters, listing 5.1's ids and back, the loss of a
 * loader (an empty one NaN, a failing forward an error), train_model_simple's
 * hooks (their order, counts, stopping, errors and their messages), a
 * model of one's own with a loss of one's own, a run stopped, saved and
 * resumed giving the very numbers of the run done in one go (dropout and a
 * shuffled loader, so the generator and the loader's place both matter), a
 * checkpoint of another run refused with nothing changed, and the layers
 * of the gradient norms.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

/* ---- The text and its ids -------------------------------------------------- */

/* int(0.9 * len(text)) characters, as a byte offset: "é" is two bytes, one
 * character. */
START_TEST(test_split_counts_characters)
{
    const char *ascii = "0123456789";
    ck_assert_uint_eq(train_split_offset(ascii, 10, 0.90), 9);
    const char *text = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9" "abcde";   /* 10 characters */
    ck_assert_uint_eq(train_split_offset(text, strlen(text), 0.90), 14);  /* before 'e' */
    ck_assert_uint_eq(train_split_offset(text, strlen(text), 0.50), 10);  /* before 'a' */
    ck_assert_uint_eq(train_split_offset(text, strlen(text), 1.0), strlen(text));
    ck_assert_uint_eq(train_split_offset(text, strlen(text), 0.0), 0);
}
END_TEST

/* Python's f"{v:,}" and appendix E's three lines on a small model. */
START_TEST(test_lora_setup_prints_the_book_lines)
{
    char b[32];
    ck_assert_str_eq(train_thousands(0, b), "0");
    ck_assert_str_eq(train_thousands(999, b), "999");
    ck_assert_str_eq(train_thousands(1000, b), "1,000");
    ck_assert_str_eq(train_thousands(124441346, b), "124,441,346");
    ck_assert_str_eq(train_thousands(-1234567, b), "-1,234,567");
    ck_assert_str_eq(train_thousands(INT64_MIN, b), "-9,223,372,036,854,775,808");
    tensor_manual_seed(123);
    Module *m = nn_sequential();
    nn_append(m, nn_linear(4, 3, true));
    nn_append(m, nn_linear(3, 2, true));
    char text[512] = {0};
    FILE *f = fmemopen(text, sizeof text, "w");
    ck_assert_int_eq(train_lora_setup(m, 2, 2.0, f), 0);
    fclose(f);
    /* 4*3+3 + 3*2+2 = 23; LoRA A (in, r) and B (r, out): 4*2+2*3 + 3*2+2*2 = 24 */
    ck_assert_str_eq(text, "Total trainable parameters before: 23\n"
                           "Total trainable parameters after: 0\n"
                           "Total trainable LoRA parameters: 24\n");
    nn_module_free(m);
    tensor_clear_error();
    ck_assert_int_eq(train_lora_setup(NULL, 2, 2.0, NULL), -1);
    ck_assert_str_eq(tensor_error(), "train_lora_setup: the model is NULL");
}
END_TEST

START_TEST(test_token_ids_round_trip)
{
    TextTokenizer *t = text_tokenizer_bytes();
    Tensor *ids = text_to_token_ids(t, "Hi\n!");
    ck_assert_ptr_nonnull(ids);
    ck_assert_int_eq(ids->ndim, 2);
    ck_assert_int_eq(ids->shape[0], 1);
    ck_assert_int_eq(ids->shape[1], 4);
    ck_assert(ids->data[0] == 'H' && ids->data[2] == '\n');
    size_t len;
    char *text = text_from_token_ids(t, ids, &len);
    ck_assert_uint_eq(len, 4);
    ck_assert_str_eq(text, "Hi\n!");
    free(text);
    text = text_from_token_ids(t, tensor_flatten(ids), NULL);      /* (n) too */
    ck_assert_str_eq(text, "Hi\n!");
    free(text);
    /* tokenizer.decode's str: a character the ids cut is U+FFFD, as Python prints it */
    text = text_from_token_ids(t, tensor_from_ids((int64_t[]){99, 97, 102, 195}, SHAPE(1, 4)),
                               &len);
    ck_assert_uint_eq(len, 6);
    ck_assert_str_eq(text, "caf\xef\xbf\xbd");
    free(text);
    ck_assert_ptr_null(text_from_token_ids(t, tensor_zeros(SHAPE(2, 2)), NULL));
    ck_assert_str_eq(tensor_error(), "text_from_token_ids: ids (2,2): one sequence, (n) or (1, n)");
    ck_assert_ptr_null(text_from_token_ids(t, tensor_full(0.5f, SHAPE(1, 1)), NULL));
    ck_assert_ptr_nonnull(strstr(tensor_error(), "not a whole number"));
    text_tokenizer_free(t);
}
END_TEST

START_TEST(test_read_text)
{
    size_t len = 99;
    ck_assert_ptr_null(train_read_text("/nonexistent/x.txt", &len));
    ck_assert_str_eq(tensor_error(), "cannot open /nonexistent/x.txt: No such file or directory");
    ck_assert_uint_eq(len, 0);
    char path[64];
    snprintf(path, sizeof path, "/tmp/attograd-read-%d.txt", (int)getpid());
    FILE *f = fopen(path, "wb");
    fwrite("a\0b", 1, 3, f);
    fclose(f);
    char *text = train_read_text(path, &len);
    ck_assert_uint_eq(len, 3);
    ck_assert(text[0] == 'a' && text[1] == '\0' && text[2] == 'b' && text[3] == '\0');
    free(text);
    remove(path);
}
END_TEST

/* ---- A small GPT on ids, and a model of one's own ------------------------- */

enum { VOCAB = 16, CONTEXT = 4, WINDOWS = 12 };

static NNGPTConfig small_gpt(void)
{
    return (NNGPTConfig){.vocab_size = VOCAB, .context_length = CONTEXT, .emb_dim = 8,
                         .n_heads = 2, .n_layers = 1, .drop_rate = 0.1, .qkv_bias = false};
}

/* WINDOWS windows of CONTEXT ids and their targets (shifted by one). */
static Dataset *id_windows(int64_t n)
{
    TensorScope *s = tensor_scope_begin();
    Tensor *x = tensor_zeros(SHAPE(n, CONTEXT)), *y = tensor_zeros(SHAPE(n, CONTEXT));
    for (int64_t i = 0; i < n * CONTEXT; i++) {
        x->data[i] = (float)((i * 7 + 3) % VOCAB);
        y->data[i] = (float)((i * 7 + 10) % VOCAB);
    }
    Dataset *d = data_tensor_dataset(2, (Tensor *const[]){x, y});
    tensor_scope_end(s);
    return d;
}

typedef struct {
    Module *model;
    Optimizer *opt;
    Dataset *train_set, *val_set;
    DataLoader *train, *val;
} Run;

/* The book's order: seed, model, AdamW, loaders. */
static void run_make(Run *r)
{
    tensor_manual_seed(123);
    r->model = nn_gpt_model(small_gpt());
    NNList p = nn_named_parameters(r->model);
    r->opt = optim_adamw(p.count, p.tensors, OPTIM_ADAMW_OPTIONS(.lr = 5e-3, .weight_decay = 0.1));
    nn_list_free(&p);
    r->train_set = id_windows(WINDOWS);
    r->val_set = id_windows(3);
    r->train = data_loader(r->train_set, DATA_LOADER_OPTIONS(.batch_size = 2, .shuffle = true,
                                                             .drop_last = true));
    r->val = data_loader(r->val_set, DATA_LOADER_OPTIONS(.batch_size = 2));
    ck_assert(r->model && r->opt && r->train && r->val);
}

static void run_free(Run *r)
{
    data_loader_free(r->train);
    data_loader_free(r->val);
    data_dataset_free(r->train_set);
    data_dataset_free(r->val_set);
    optim_free(r->opt);
    nn_module_free(r->model);
}

START_TEST(test_loss_of_a_loader)
{
    Run r;
    run_make(&r);
    nn_train(r.model, false);                        /* no dropout: the same forward twice */
    double all, two;
    ck_assert_int_eq(train_calc_loss_loader(r.val, r.model, 0, &all), 0);
    ck_assert_int_eq(train_calc_loss_loader(r.val, r.model, 1, &two), 0);
    ck_assert(isfinite(all) && isfinite(two) && all != two);
    /* by hand: the mean of the two batches' losses (2 and 1 windows) */
    double by_hand = 0;
    DataIter *it = data_loader_iter(r.val);
    Tensor *x, *y;
    for (int b = 0; b < 2; b++) {
        ck_assert_int_eq(data_iter_next(it, &x, &y), 1);
        by_hand += tensor_item(train_calc_loss_batch(x, y, r.model)) / 2;
    }
    data_iter_free(it);
    ck_assert_double_eq_tol(all, by_hand, 1e-6);
    /* an empty loader: NaN, as the book's; a forward that fails: an error */
    Tensor *none[2] = {tensor_zeros(SHAPE(0, CONTEXT)), tensor_zeros(SHAPE(0, CONTEXT))};
    Dataset *empty = data_tensor_dataset(2, none);
    DataLoader *l = data_loader(empty, DATA_LOADER_OPTIONS(.batch_size = 2));
    double nan_loss = 0;
    ck_assert_int_eq(train_calc_loss_loader(l, r.model, 0, &nan_loss), 0);
    ck_assert(isnan(nan_loss));
    data_loader_free(l);
    data_dataset_free(empty);
    Tensor *wide[2] = {tensor_zeros(SHAPE(2, CONTEXT + 1)), tensor_zeros(SHAPE(2, CONTEXT + 1))};
    Dataset *too_long = data_tensor_dataset(2, wide);
    l = data_loader(too_long, DATA_LOADER_OPTIONS(.batch_size = 2));
    ck_assert_int_eq(train_calc_loss_loader(l, r.model, 0, &nan_loss), -1);
    ck_assert_ptr_nonnull(strstr(tensor_error(), "context_length"));
    data_loader_free(l);
    data_dataset_free(too_long);
    run_free(&r);
}
END_TEST

/* ---- train_model_simple's hooks --------------------------------------------- */

typedef struct {
    char log[4096];
    int after_backward, evals, steps, checkpoints, samples, epochs;
    int64_t stop_at;             /* on_step returns 1 when steps done reach it; 0: never */
    int fail_in;                 /* 1: after_backward fails at step 3; 2: on_eval at step 2 */
    float losses[64];
    double eval_train[64];
} Seen;

static void note(Seen *s, const char *fmt, long long v)
{
    size_t n = strlen(s->log);
    snprintf(s->log + n, sizeof s->log - n, fmt, v);
}

static int after_backward(const TrainState *st, void *ctx)
{
    Seen *s = ctx;
    s->after_backward++;
    if (s->fail_in == 1 && st->global_step + 1 == 3) {
        tensor_set_error("my hook failed");
        return -1;
    }
    return 0;
}

static int on_eval(const TrainState *st, double train, double val, void *ctx)
{
    Seen *s = ctx;
    ck_assert(isfinite(train) && (isnan(val) || isfinite(val)));
    s->eval_train[s->evals++] = train;
    note(s, "E%lld ", st->global_step);
    if (s->fail_in == 2 && st->global_step == 2) {
        tensor_set_error("--csv x.csv: disk full");
        return -1;
    }
    return 0;
}

static int on_step(const TrainState *st, const TrainStep *step, void *ctx)
{
    Seen *s = ctx;
    ck_assert_int_eq(step->tokens, 2 * CONTEXT);
    ck_assert_int_eq(step->examples, 2);
    ck_assert(step->seconds >= 0);
    ck_assert(st->global_step % 2 == 0 ? step->eval_seconds >= 0 : step->eval_seconds == -1);
    s->losses[s->steps++] = step->loss;
    note(s, "S%lld ", st->global_step);
    return s->stop_at && st->global_step + 1 >= s->stop_at ? 1 : 0;
}

static int on_checkpoint(const TrainState *st, void *ctx)
{
    Seen *s = ctx;
    s->checkpoints++;
    note(s, "C%lld ", st->global_step + 1);
    return 0;
}

static int on_sample(const TrainState *st, const char *text, size_t len, void *ctx)
{
    Seen *s = ctx;
    (void)text;
    ck_assert_uint_eq(len, 4 + 3);                  /* "abcd" and 3 new bytes */
    ck_assert_ptr_null(memchr(text, '\n', len));    /* newlines made spaces */
    s->samples++;
    note(s, "P%lld ", st->epoch);
    return 0;
}

static int on_epoch(const TrainState *st, void *ctx)
{
    Seen *s = ctx;
    s->epochs++;
    note(s, "D%lld ", st->epochs_done);
    return 0;
}

static TrainOptions hooked(Seen *s, const TextTokenizer *tok)
{
    return TRAIN_OPTIONS(.num_epochs = 2, .eval_freq = 2, .eval_iter = 1, .tokenizer = tok,
                         .start_context = "abcd", .sample_tokens = 3, .checkpoint_every = 4,
                         .after_backward = after_backward, .on_eval = on_eval,
                         .on_step = on_step, .on_checkpoint = on_checkpoint,
                         .on_sample = on_sample, .on_epoch = on_epoch, .ctx = s);
}

/* 6 steps an epoch (12 windows, batch 2), 2 epochs: the hooks in order.
 * The sample needs the bytes tokenizer's vocabulary: a GPT of 256 ids. */
START_TEST(test_hooks_order_and_counts)
{
    tensor_manual_seed(123);
    NNGPTConfig cfg = small_gpt();
    cfg.vocab_size = 256;
    Module *model = nn_gpt_model(cfg);
    NNList p = nn_named_parameters(model);
    Optimizer *opt = optim_adamw(p.count, p.tensors, OPTIM_ADAMW_OPTIONS(.lr = 5e-3));
    nn_list_free(&p);
    Dataset *train_set = id_windows(WINDOWS), *val_set = id_windows(3);
    DataLoader *train = data_loader(train_set, DATA_LOADER_OPTIONS(.batch_size = 2,
                                                                   .shuffle = true,
                                                                   .drop_last = true));
    DataLoader *val = data_loader(val_set, DATA_LOADER_OPTIONS(.batch_size = 2));
    TextTokenizer *tok = text_tokenizer_bytes();
    Seen s = {0};
    TrainOptions o = hooked(&s, tok);
    TrainState st = TRAIN_STATE_INIT;
    ck_assert_int_eq(train_model_simple(model, train, val, opt, &o, &st), 0);
    ck_assert_str_eq(s.log, "E0 S0 S1 E2 S2 S3 C4 E4 S4 S5 P1 D1 "
                            "E6 S6 S7 C8 E8 S8 S9 E10 S10 S11 C12 P2 D2 ");
    ck_assert_int_eq(s.after_backward, 12);
    ck_assert_int_eq(st.global_step, 11);
    ck_assert_int_eq(st.tokens_seen, 12 * 2 * CONTEXT);
    ck_assert_int_eq(st.evals, 6);
    ck_assert_int_eq(st.epoch, 2);
    ck_assert_int_eq(st.epochs_done, 2);
    /* done: a second call has nothing left to train */
    ck_assert_int_eq(train_model_simple(model, train, val, opt, &o, &st), 0);
    ck_assert_int_eq(st.global_step, 11);
    train_state_clear(&st);
    text_tokenizer_free(tok);
    data_loader_free(train);
    data_loader_free(val);
    data_dataset_free(train_set);
    data_dataset_free(val_set);
    optim_free(opt);
    nn_module_free(model);
}
END_TEST

START_TEST(test_hooks_stop_and_fail)
{
    Run r;
    run_make(&r);
    Seen s = {.stop_at = 3};
    TrainOptions o = hooked(&s, NULL);
    TrainState st = TRAIN_STATE_INIT;
    ck_assert_int_eq(train_model_simple(r.model, r.train, r.val, r.opt, &o, &st), 1);
    ck_assert_str_eq(s.log, "E0 S0 S1 E2 S2 ");
    ck_assert_int_eq(st.global_step, 2);
    ck_assert_int_eq(st.epochs_done, 0);
    /* after_backward's error: the step's, its message kept after "step 4 failed" */
    s = (Seen){.fail_in = 1};
    ck_assert_int_eq(train_model_simple(r.model, r.train, r.val, r.opt, &o, &st), -1);
    ck_assert_str_eq(tensor_error(), "step 3 failed: my hook failed");
    /* on_eval's error, as it is */
    train_state_clear(&st);
    st = TRAIN_STATE_INIT;
    s = (Seen){.fail_in = 2};
    ck_assert_int_eq(train_model_simple(r.model, r.train, r.val, r.opt, &o, &st), -1);
    ck_assert_str_eq(tensor_error(), "--csv x.csv: disk full");
    /* options checked before anything runs */
    TrainOptions bad = TRAIN_OPTIONS(.eval_iter = 0);
    ck_assert_int_eq(train_model_simple(r.model, r.train, r.val, r.opt, &bad, &st), -1);
    ck_assert_ptr_nonnull(strstr(tensor_error(), "eval_iter at least 1"));
    bad = TRAIN_OPTIONS(.eval_freq = 5);
    ck_assert_int_eq(train_model_simple(r.model, r.train, NULL, r.opt, &bad, &st), -1);
    ck_assert_str_eq(tensor_error(), "train_model_simple: eval_freq 5 needs a validation loader");
    train_state_clear(&st);
    run_free(&r);
}
END_TEST

/* A model of one's own with a loss of one's own: y = 2x + 1 by a Linear,
 * MSE, no evaluation and no validation loader. */
static Tensor *mse(const Tensor *x, const Tensor *y, Module *model, void *ctx)
{
    (void)ctx;
    return tensor_mse_loss(nn_forward(model, x), y);
}

static int last_loss(const TrainState *st, const TrainStep *step, void *ctx)
{
    (void)st;
    *(float *)ctx = step->loss;
    return 0;
}

START_TEST(test_own_model_and_loss)
{
    tensor_manual_seed(1);
    Tensor *x = tensor_rand(SHAPE(64, 1));
    Tensor *y = tensor_add_scalar(tensor_mul_scalar(x, 2), 1);
    Dataset *d = data_tensor_dataset(2, (Tensor *const[]){x, y});
    DataLoader *l = data_loader(d, DATA_LOADER_OPTIONS(.batch_size = 8, .shuffle = true));
    Module *m = nn_linear(1, 1, true);
    NNList p = nn_named_parameters(m);
    Optimizer *opt = optim_sgd(p.count, p.tensors, OPTIM_SGD_OPTIONS(.lr = 0.3));
    nn_list_free(&p);
    float loss = NAN;
    TrainOptions o = TRAIN_OPTIONS(.num_epochs = 60, .eval_freq = 0, .loss = mse,
                                   .on_step = last_loss, .ctx = &loss);
    TrainState st = TRAIN_STATE_INIT;
    ck_assert_int_eq(train_model_simple(m, l, NULL, opt, &o, &st), 0);
    ck_assert_int_eq(st.global_step + 1, 60 * 8);
    ck_assert_msg(loss < 1e-4f, "loss %g", (double)loss);
    ck_assert_double_eq_tol(nn_get_parameter(m, "weight")->data[0], 2, 0.05);
    /* train_calc_loss_batch wants the book's (B, T, V) logits */
    ck_assert_ptr_null(train_calc_loss_batch(x, y, m));
    ck_assert_str_eq(tensor_error(), "calc_loss_batch: logits (64,1): (B, T, vocab) expected");
    train_state_clear(&st);
    optim_free(opt);
    nn_module_free(m);
    data_loader_free(l);
    data_dataset_free(d);
}
END_TEST

/* ---- A run's checkpoint ---------------------------------------------------- */

static const TensorMeta run_meta[] = {{"model", "small"}, {"lr", "0.005"}};

/* 2 epochs; stopped after step `stop` (0: never) and saved to path. */
static void train_run(Seen *s, int64_t stop, const char *save, const char *resume)
{
    Run r;
    run_make(&r);
    TrainState st = TRAIN_STATE_INIT;
    TrainCheckpoint c = {.model = r.model, .optimizer = r.opt, .train = r.train, .state = &st,
                         .n_meta = 2, .meta = run_meta};
    if (resume) ck_assert_msg(train_checkpoint_load(&c, resume) == 0, "%s", tensor_error());
    s->stop_at = stop;
    TrainOptions o = TRAIN_OPTIONS(.num_epochs = 2, .eval_freq = 2, .eval_iter = 2,
                                   .on_eval = on_eval, .on_step = on_step, .ctx = s);
    int rc = train_model_simple(r.model, r.train, r.val, r.opt, &o, &st);
    ck_assert_int_eq(rc, stop ? 1 : 0);
    if (save) ck_assert_msg(train_checkpoint_save(&c, save) == 0, "%s", tensor_error());
    train_state_clear(&st);
    run_free(&r);
}

/* Stopped mid-epoch (step 3 of 6), at an epoch's end (step 6) and resumed:
 * the same losses, bit for bit, as the run done in one go. */
START_TEST(test_resume_is_exact)
{
    static const int64_t stops[] = {3, 6, 8};
    char path[64];
    snprintf(path, sizeof path, "/tmp/attograd-run-%d.safetensors", (int)getpid());
    Seen whole = {0};
    train_run(&whole, 0, NULL, NULL);
    ck_assert_int_eq(whole.steps, 12);
    for (size_t k = 0; k < sizeof stops / sizeof *stops; k++) {
        Seen first = {0}, rest = {0};
        train_run(&first, stops[k], path, NULL);
        train_run(&rest, 0, NULL, path);
        ck_assert_int_eq(first.steps + rest.steps, 12);
        for (int i = 0; i < rest.steps; i++)
            ck_assert_msg(memcmp(&rest.losses[i], &whole.losses[first.steps + i],
                                 sizeof(float)) == 0,
                          "stop %lld: step %d: %.9g, in one go %.9g", (long long)stops[k],
                          first.steps + i, (double)rest.losses[i],
                          (double)whole.losses[first.steps + i]);
        ck_assert_int_eq(first.evals + rest.evals, whole.evals);
        for (int i = 0; i < rest.evals; i++)
            ck_assert(rest.eval_train[i] == whole.eval_train[first.evals + i]);
    }
    remove(path);
}
END_TEST

/* Another run's file: TRAIN_CHECKPOINT_OTHER_RUN naming the key; a broken
 * loader place: -1; either way nothing changed. */
START_TEST(test_other_run_refused)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/attograd-other-%d.safetensors", (int)getpid());
    Seen s = {0};
    train_run(&s, 3, path, NULL);
    Run r;
    run_make(&r);
    TrainState st = TRAIN_STATE_INIT;
    static const TensorMeta other[] = {{"model", "small"}, {"lr", "0.01"}};
    TrainCheckpoint c = {.model = r.model, .optimizer = r.opt, .train = r.train, .state = &st,
                         .n_meta = 2, .meta = other};
    float before = nn_get_parameter(r.model, "tok_emb.weight")->data[0];
    TensorGenerator g = *tensor_default_generator();
    const TensorGenerator *now = tensor_default_generator();
    ck_assert_int_eq(train_checkpoint_load(&c, path), TRAIN_CHECKPOINT_OTHER_RUN);
    char expect[256];
    snprintf(expect, sizeof expect, "load %s: metadata \"lr\" is \"0.005\" in file, \"0.01\" "
             "expected", path);
    ck_assert_str_eq(tensor_error(), expect);
    /* the same file on a loader of 3 batches an epoch: its place (batch 3) fits; of 1, not */
    c.meta = run_meta;
    DataLoader *one = data_loader(r.val_set, DATA_LOADER_OPTIONS(.batch_size = 2,
                                                                .shuffle = true,
                                                                .drop_last = true));
    c.train = one;
    ck_assert_int_eq(train_checkpoint_load(&c, path), -1);
    snprintf(expect, sizeof expect, "%s: the loader's place (epoch 1, batch 3) does not fit 0 "
             "epochs done and 1 batches an epoch", path);
    ck_assert_str_eq(tensor_error(), expect);
    ck_assert(nn_get_parameter(r.model, "tok_emb.weight")->data[0] == before);
    ck_assert(memcmp(now->state, g.state, sizeof g.state) == 0 && now->index == g.index);
    ck_assert(st.global_step == -1 && st.train_it == NULL);
    c.train = r.train;
    ck_assert_int_eq(train_checkpoint_load(&c, path), 0);
    ck_assert_int_eq(st.global_step, 2);
    ck_assert_int_eq(st.epoch, 1);
    ck_assert_int_eq(data_iter_position(st.train_it).batch, 3);
    data_loader_free(one);
    train_state_clear(&st);
    run_free(&r);
    remove(path);
}
END_TEST

/* ---- Gradient norms --------------------------------------------------------- */

/* A Sequential's items are layers ("layers.0"), a top-level child is one
 * ("proj"), and so is a parameter of the root ("gain", listed first, as
 * named_parameters lists a module's own before its children's). */
typedef struct { Module base; Module *layers, *proj; Tensor *gain; } Net;
static Tensor *net_forward(Module *m, const Tensor *x)
{
    Net *n = (Net *)m;
    return tensor_mul(nn_forward(n->proj, nn_forward(n->layers, x)), n->gain);
}

START_TEST(test_grad_norms_layers)
{
    Net *n = nn_module_new(sizeof *n, "Net", net_forward);
    n->layers = nn_child(NN(n), "layers", nn_sequential());
    nn_append(n->layers, nn_linear(2, 3, true));
    nn_append(n->layers, nn_linear(3, 2, true));
    n->proj = nn_child(NN(n), "proj", nn_linear(2, 1, false));
    n->gain = nn_parameter(NN(n), "gain", tensor_ones(SHAPE(1)));
    Module *m = nn_module_ok(NN(n));
    ck_assert_ptr_nonnull(m);
    char dir[64], picture[96], csv[96];
    snprintf(dir, sizeof dir, "/tmp/attograd-norms-%d", (int)getpid());
    mkdir(dir, 0700);
    snprintf(picture, sizeof picture, "%s/norms.png", dir);
    TrainGradNorms *g = train_grad_norms_open(m, picture);
    ck_assert_msg(g != NULL, "%s", tensor_error());
    Tensor *loss = tensor_sum(nn_forward(m, tensor_ones(SHAPE(4, 2))));
    ck_assert_int_eq(tensor_backward(loss, NULL), 0);
    ck_assert_int_eq(train_grad_norms_record(g, 0), 0);
    ck_assert_int_eq(train_grad_norms_close(g, false), 0);
    ck_assert_int_eq(train_grad_norms_csv_path(picture, csv, sizeof csv), 0);
    const char *text = testutil_read_text(csv);
    ck_assert_msg(strncmp(text, "step,gain,layers.0,layers.1,proj\n0,", 35) == 0, "%s", text);
    const char *last = strrchr(text, ',');           /* proj's norm */
    ck_assert(last && strtod(last + 1, NULL) > 0);
    remove(csv);
    rmdir(dir);
    nn_module_free(m);
}
END_TEST

static Suite *train_room_suite(void)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("train");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_split_counts_characters);
    tcase_add_test(tc, test_token_ids_round_trip);
    tcase_add_test(tc, test_lora_setup_prints_the_book_lines);
    tcase_add_test(tc, test_read_text);
    tcase_add_test(tc, test_loss_of_a_loader);
    tcase_add_test(tc, test_hooks_order_and_counts);
    tcase_add_test(tc, test_hooks_stop_and_fail);
    tcase_add_test(tc, test_own_model_and_loss);
    tcase_add_test(tc, test_resume_is_exact);
    tcase_add_test(tc, test_other_run_refused);
    tcase_add_test(tc, test_grad_norms_layers);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(train_room_suite)
