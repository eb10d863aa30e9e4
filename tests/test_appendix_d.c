/*
 * The book's appendix D (linear warmup, cosine decay, gradient clipping)
 * against PyTorch (tests/reference/book_appendix_d.py through
 * gen_finetune.py): the schedule's learning rates step by step, bit for bit
 * (finetune_schedule.txt); the short run of finetune_d_run.{txt,expected}
 * through train_model_simple (each step's lr exactly, its loss and gradient
 * norm before clipping, the printed "Iter" lines and samples byte for byte);
 * the run stopped, saved and resumed going on with the schedule; the same
 * run as train_gpt prints it, with its lr figure and its resume; bad
 * options refused with one line and nothing changed.  The clipping demo
 * (train_find_highest_gradient before and after optim_clip_grad_norm)
 * against clip_demo.{txt,expected} (gen_clip_demo.py; the book's 124M lines
 * are docs/listings_appendix_d.md's check).  And the samples' text as Python
 * prints it (U+FFFD for a character the ids cut).
 */
#include <sys/stat.h>
#include <unistd.h>

#include "program_run.h"
#include "testutil.h"

/* Record @name of a fixture whose values are Python float reprs (doubles),
 * read with strtod: malloc'd, *n values. */
static double *doubles(const char *file, const char *name, int64_t *n)
{
    char path[1024], line[512], want[128];
    snprintf(path, sizeof path, "%s/%s", ATTOGRAD_REFERENCE_DIR, file);
    snprintf(want, sizeof want, "@%s ", name);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, want, strlen(want)) != 0) continue;
        *n = strtoll(line + strlen(want), NULL, 10);
        double *v = malloc((size_t)*n * sizeof *v);
        ck_assert_ptr_nonnull(v);
        for (int64_t i = 0; i < *n; i++) {
            char word[64];
            ck_assert_int_eq(fscanf(f, "%63s", word), 1);
            v[i] = strtod(word, NULL);
        }
        fclose(f);
        return v;
    }
    fclose(f);
    ck_abort_msg("%s has no @%s", file, name);
    return NULL;
}

/* ---- The schedule ------------------------------------------------------------ */

/* Each of the book's schedules (the first demo's has no cosine: not this rule). */
static const struct {
    const char *name;
    int64_t total, warmup;
    double initial, peak, min;
} schedules[] = {
    {"d_book_run_lr", 135, 27, 1e-5, 0.001, 1e-5},
    {"d_cosine_demo_lr", 135, 27, 0.0001, 0.01, 0.1 * 0.0001},
    {"d_run_lr", 70, 14, 3e-5, 0.005, 1e-6},
};

START_TEST(test_schedule_is_pythons)
{
    int64_t n;
    double *want = doubles("finetune_schedule.txt", schedules[_i].name, &n);
    ck_assert_int_eq(n, schedules[_i].total);
    WarmupCosineOptions w = OPTIM_WARMUP_COSINE_OPTIONS(
        .warmup_steps = schedules[_i].warmup, .total_steps = schedules[_i].total,
        .initial_lr = schedules[_i].initial, .min_lr = schedules[_i].min);
    for (int64_t s = 0; s < n; s++) {
        double lr = optim_warmup_cosine_lr_at(w, schedules[_i].peak, s);
        ck_assert_msg(lr == want[s], "%s step %lld: %.17g, Python %.17g", schedules[_i].name,
                      (long long)s, lr, want[s]);
    }
    free(want);
}
END_TEST

/* ---- The short run: finetune_d_run ------------------------------------------- */

#define STEPS 70

typedef struct {
    char out[1 << 14];           /* what the book's train_model prints */
    size_t len;
    int64_t steps, first;        /* steps seen; the first one's global step */
    double lr[STEPS];
    float loss[STEPS], norm[STEPS];
    int64_t stop_at;             /* on_step returns 1 after this step (0: never) */
} Seen;

static int on_eval(const TrainState *s, double train, double val, void *ctx)
{
    Seen *seen = ctx;
    seen->len += (size_t)snprintf(seen->out + seen->len, sizeof seen->out - seen->len,
                                  "Ep %lld (Iter %06lld): Train loss %.3f, Val loss %.3f\n",
                                  (long long)s->epoch, (long long)s->global_step, train, val);
    return 0;
}

static int on_sample(const TrainState *s, const char *text, size_t len, void *ctx)
{
    Seen *seen = ctx;
    (void)s;
    ck_assert_uint_lt(seen->len + len + 1, sizeof seen->out);
    memcpy(seen->out + seen->len, text, len);
    seen->len += len;
    seen->out[seen->len++] = '\n';
    seen->out[seen->len] = '\0';
    return 0;
}

static int on_step(const TrainState *s, const TrainStep *step, void *ctx)
{
    Seen *seen = ctx;
    if (seen->steps == 0) seen->first = s->global_step;
    seen->lr[seen->steps] = step->lr;
    seen->loss[seen->steps] = step->loss;
    seen->norm[seen->steps++] = step->grad_norm;
    return seen->stop_at && s->global_step + 1 >= seen->stop_at ? 1 : 0;
}

/* gen_finetune.py's configuration: book-test with the bytes tokenizer
 * (vocab 256), context 64, the-verdict.txt split 90/10, windows of 64 with
 * stride 64, batch 8 (35 training batches), AdamW(lr 0.005, wd 0.1). */
typedef struct {
    TextTokenizer *tok;
    Module *model;
    Optimizer *opt;
    Dataset *train_set, *val_set;
    DataLoader *train, *val;
} Run;

static Dataset *windows(const TextTokenizer *tok, const char *text, size_t len)
{
    int64_t *ids;
    size_t n;
    ck_assert_int_eq(text_encode(tok, text, len, true, &ids, &n), 0);
    Dataset *d = text_dataset_v1(ids, n, 64, 64);
    free(ids);
    ck_assert_ptr_nonnull(d);
    return d;
}

static NNGPTConfig run_config(void)
{
    NNGPTConfig cfg = NN_GPT_CONFIG_BOOK_TEST;
    cfg.vocab_size = 256;
    cfg.context_length = 64;
    return cfg;
}

static void run_make(Run *r)
{
    size_t len;
    char *text = train_read_text(ATTOGRAD_REFERENCE_DIR "/../../examples/data/the-verdict.txt",
                                 &len);
    ck_assert_ptr_nonnull(text);
    r->tok = text_tokenizer_bytes();
    size_t split = train_split_offset(text, len, 0.90);
    r->train_set = windows(r->tok, text, split);
    r->val_set = windows(r->tok, text + split, len - split);
    free(text);
    tensor_manual_seed(123);
    r->model = nn_gpt_model(run_config());
    NNList p = nn_named_parameters(r->model);
    r->opt = optim_adamw(p.count, p.tensors, OPTIM_ADAMW_OPTIONS(.lr = 0.005, .weight_decay = 0.1));
    nn_list_free(&p);
    r->train = data_loader(r->train_set, DATA_LOADER_OPTIONS(.batch_size = 8, .shuffle = true,
                                                            .drop_last = true));
    r->val = data_loader(r->val_set, DATA_LOADER_OPTIONS(.batch_size = 8));
    ck_assert(r->model && r->opt && r->train && r->val);
    ck_assert_int_eq(data_loader_len(r->train), 35);
}

static void run_free(Run *r)
{
    data_loader_free(r->train);
    data_loader_free(r->val);
    data_dataset_free(r->train_set);
    data_dataset_free(r->val_set);
    optim_free(r->opt);
    nn_module_free(r->model);
    text_tokenizer_free(r->tok);
}

/* The book's train_model call: 2 epochs, eval_freq 5, eval_iter 1, warmup 14
 * (int(0.2 * 70)), initial_lr and min_lr the function's defaults, clipping
 * to 1.0. */
static int train_d(Run *r, TrainState *st, Seen *seen)
{
    WarmupCosineOptions w = OPTIM_WARMUP_COSINE_OPTIONS(.warmup_steps = 14);
    TrainOptions o = TRAIN_OPTIONS(.num_epochs = 2, .eval_freq = 5, .eval_iter = 1,
                                   .tokenizer = r->tok, .on_eval = on_eval, .on_step = on_step,
                                   .on_sample = on_sample, .ctx = seen, .lr_schedule = &w,
                                   .clip_grad_norm = 1.0);
    return train_model_simple(r->model, r->train, r->val, r->opt, &o, st);
}

/* The per-step numbers of steps [first, first + n) against the fixture:
 * every lr exactly; losses and norms to float32 sums in two libraries. */
static void check_steps(const Seen *seen)
{
    int64_t n;
    double *lrs = doubles("finetune_schedule.txt", "d_run_lr", &n);
    ck_assert_int_eq(n, STEPS);
    Tensor *loss = testutil_fixture("finetune_d_run.txt", "d_run_step_loss");
    Tensor *norm = testutil_fixture("finetune_d_run.txt", "d_run_grad_norm");
    for (int64_t i = 0; i < seen->steps; i++) {
        int64_t s = seen->first + i;
        ck_assert_msg(seen->lr[i] == lrs[s], "step %lld: lr %.17g, PyTorch %.17g",
                      (long long)s, seen->lr[i], lrs[s]);
        ck_assert_msg(fabsf(seen->loss[i] - loss->data[s]) <= 2e-4f * loss->data[s],
                      "step %lld: loss %.9g, PyTorch %.9g", (long long)s,
                      (double)seen->loss[i], (double)loss->data[s]);
        ck_assert_msg(fabsf(seen->norm[i] - norm->data[s]) <= 2e-3f * norm->data[s],
                      "step %lld: grad norm %.9g, PyTorch %.9g", (long long)s,
                      (double)seen->norm[i], (double)norm->data[s]);
    }
    free(lrs);
}

static const char *expected(void)
{
    return testutil_read_text(ATTOGRAD_REFERENCE_DIR "/finetune_d_run.expected");
}

/* Stopped after n steps, saved and resumed into a new model and optimizer
 * (path): the rest of the run in *rest. */
static void stop_and_resume(int64_t n, const char *path, Seen *first, Seen *rest)
{
    memset(first, 0, sizeof *first);
    memset(rest, 0, sizeof *rest);
    first->stop_at = n;
    Run r;
    run_make(&r);
    TrainState st = TRAIN_STATE_INIT;
    TrainCheckpoint c = {.model = r.model, .optimizer = r.opt, .train = r.train, .state = &st};
    ck_assert_int_eq(train_d(&r, &st, first), 1);
    ck_assert_msg(train_checkpoint_save(&c, path) == 0, "%s", tensor_error());
    train_state_clear(&st);
    run_free(&r);

    run_make(&r);
    st = TRAIN_STATE_INIT;
    c = (TrainCheckpoint){.model = r.model, .optimizer = r.opt, .train = r.train, .state = &st};
    ck_assert_msg(train_checkpoint_load(&c, path) == 0, "%s", tensor_error());
    ck_assert(optim_get_lr(r.opt, 0) == 0.005);
    ck_assert_int_eq(train_d(&r, &st, rest), 0);
    train_state_clear(&st);
    run_free(&r);
}

/* The run against PyTorch; then stopped at the warmup's end (the first
 * clipped step comes next) and in the decay, saved and resumed: the rest
 * of the run's lrs, losses and lines are those of the run done in one go,
 * bit for bit. */
START_TEST(test_run_matches_pytorch_and_resumes)
{
    Run r;
    run_make(&r);
    TrainState st = TRAIN_STATE_INIT;
    static Seen whole, first, rest;
    memset(&whole, 0, sizeof whole);
    ck_assert_msg(train_d(&r, &st, &whole) == 0, "%s", tensor_error());
    ck_assert_int_eq(whole.steps, STEPS);
    check_steps(&whole);
    /* The norm passes 1 before the warmup ends: steps 12 and 13 unclipped,
     * 14 clipped (the book's >=), which the losses after it show. */
    ck_assert(whole.norm[12] > 1 && whole.norm[13] > 1 && whole.norm[14] > 1);
    ck_assert_str_eq(whole.out, expected());
    /* Between steps the optimizer holds the peak. */
    ck_assert(optim_get_lr(r.opt, 0) == 0.005);
    train_state_clear(&st);
    run_free(&r);

    static const int64_t stops[] = {14, 40};
    char path[64];
    snprintf(path, sizeof path, "/tmp/attograd-appd-%d.safetensors", (int)getpid());
    for (size_t k = 0; k < sizeof stops / sizeof *stops; k++) {
        stop_and_resume(stops[k], path, &first, &rest);
        ck_assert_int_eq(first.steps + rest.steps, STEPS);
        ck_assert_int_eq(rest.first, stops[k]);
        for (int64_t i = 0; i < rest.steps; i++) {
            ck_assert(rest.lr[i] == whole.lr[stops[k] + i]);
            ck_assert_msg(memcmp(&rest.loss[i], &whole.loss[stops[k] + i], sizeof(float)) == 0,
                          "stop %lld: step %lld: %.9g, in one go %.9g", (long long)stops[k],
                          (long long)(stops[k] + i), (double)rest.loss[i],
                          (double)whole.loss[stops[k] + i]);
        }
        char both[sizeof first.out * 2];
        snprintf(both, sizeof both, "%s%s", first.out, rest.out);
        ck_assert_str_eq(both, whole.out);
    }
    remove(path);
}
END_TEST

/* Without the options, chapter 5's loop: each step's lr is the optimizer's,
 * no norm is taken unless asked; track_grad_norm measures without clipping. */
START_TEST(test_defaults_and_tracking)
{
    Run r;
    run_make(&r);
    TrainState st = TRAIN_STATE_INIT;
    static Seen seen;
    memset(&seen, 0, sizeof seen);
    seen.stop_at = 3;
    TrainOptions o = TRAIN_OPTIONS(.num_epochs = 1, .on_step = on_step, .ctx = &seen);
    ck_assert(o.lr_schedule == NULL && o.clip_grad_norm == 0 && !o.track_grad_norm);
    ck_assert_int_eq(train_model_simple(r.model, r.train, r.val, r.opt, &o, &st), 1);
    ck_assert(seen.lr[0] == 0.005 && seen.lr[2] == 0.005 && isnan(seen.norm[0]));
    o.track_grad_norm = true;
    seen.stop_at = 5;
    ck_assert_int_eq(train_model_simple(r.model, r.train, r.val, r.opt, &o, &st), 1);
    ck_assert(seen.norm[3] > 0 && seen.norm[4] > 0);
    train_state_clear(&st);
    run_free(&r);
}
END_TEST

/* Bad options: one line each, nothing changed (the state, the lr, the weights). */
static const struct {
    int64_t warmup, total;
    double initial, min, clip;
    const char *message;
} bad[] = {
    {70, -1, 3e-5, 1e-6, 0,
     "train_model_simple: warmup_steps 70 is not below the run's 70 steps (35 batches x 2 "
     "epochs)"},
    {14, 10, 3e-5, 1e-6, 0, "train_model_simple: warmup_steps 14 is not below total_steps 10"},
    {-1, -1, 3e-5, 1e-6, 0, "train_model_simple: warmup_steps -1 must not be negative"},
    {14, -1, 3e-5, 0.01, 0,
     "train_model_simple: min_lr 0.01 is above the peak lr 0.005 (the optimizer's)"},
    {14, -1, 0.5, 1e-6, 0,
     "train_model_simple: initial_lr 0.5 is above the peak lr 0.005 (the optimizer's)"},
    {14, -1, NAN, 1e-6, 0, "train_model_simple: warmup_cosine_lr: invalid initial_lr nan"},
    {14, -1, 3e-5, 1e-6, -1,
     "train_model_simple: clip_grad_norm -1: 0 (none) or a positive max_norm"},
    {14, -1, 3e-5, 1e-6, NAN,
     "train_model_simple: clip_grad_norm nan: 0 (none) or a positive max_norm"},
};

START_TEST(test_bad_options)
{
    Run r;
    run_make(&r);
    TrainState st = TRAIN_STATE_INIT;
    Seen seen = {0};
    WarmupCosineOptions w = OPTIM_WARMUP_COSINE_OPTIONS(
        .warmup_steps = bad[_i].warmup, .total_steps = bad[_i].total,
        .initial_lr = bad[_i].initial, .min_lr = bad[_i].min);
    TrainOptions o = TRAIN_OPTIONS(.num_epochs = 2, .on_step = on_step, .ctx = &seen,
                                   .lr_schedule = &w, .clip_grad_norm = bad[_i].clip);
    Tensor *wte = nn_get_parameter(r.model, "tok_emb.weight");
    float before = wte->data[0];
    ck_assert_int_eq(train_model_simple(r.model, r.train, r.val, r.opt, &o, &st), -1);
    ck_assert_str_eq(tensor_error(), bad[_i].message);
    ck_assert_int_eq(seen.steps, 0);
    ck_assert_int_eq(st.global_step, -1);
    ck_assert_ptr_null(st.train_it);
    ck_assert(optim_get_lr(r.opt, 0) == 0.005 && wte->data[0] == before);
    run_free(&r);
}
END_TEST

/* ---- The clipping demo: clip_demo.{txt,expected} ----------------------------- */

/* What the demo gives for one max_norm: the loss, the total norm
 * clip_grad_norm_ returns, the largest gradient element before and after
 * clipping, and those as tensor_print prints them (malloc'd). */
typedef struct {
    float loss, norm, before, after;
    char *before_text, *after_text;
} Clip;

/* gen_clip_demo.py's demo (the book's, in this run's configuration) on
 * run_make's loaders: torch.manual_seed(123) after the model (run_make's,
 * as the book's), the warmup and cosine demos' 30 passes over the training
 * loader, torch.manual_seed(123), a fresh model in training mode, the last
 * batch's loss, backward, train_find_highest_gradient, clipping to max_norm,
 * train_find_highest_gradient. */
static Clip clip_demo(double max_norm)
{
    Run r;
    run_make(&r);
    TensorScope *scope = tensor_scope_begin();
    tensor_manual_seed(123);
    Tensor *x = NULL, *y = NULL, *bx, *by;
    for (int pass = 0; pass < 15 + 15; pass++) {
        DataIter *it = data_loader_iter(r.train);
        int got;
        while ((got = data_iter_next(it, &bx, &by)) == 1) {
            x = bx;
            y = by;
        }
        ck_assert_int_eq(got, 0);
        data_iter_free(it);
    }
    tensor_manual_seed(123);
    Module *model = nn_gpt_model(run_config());
    Tensor *loss = train_calc_loss_batch(x, y, model);
    ck_assert_msg(loss && tensor_backward(loss, NULL) == 0, "%s", tensor_error());
    Clip c = {.loss = tensor_item(loss)};
    Tensor *before = train_find_highest_gradient(model);
    ck_assert_msg(before != NULL, "%s", tensor_error());
    NNList p = nn_named_parameters(model);
    c.norm = optim_clip_grad_norm(p.count, p.tensors, max_norm);
    nn_list_free(&p);
    Tensor *after = train_find_highest_gradient(model);
    ck_assert_msg(after != NULL, "%s", tensor_error());
    ck_assert(before->ndim == 0 && !before->requires_grad && !after->requires_grad);
    c.before = tensor_item(before);
    c.after = tensor_item(after);
    c.before_text = tensor_format(before);
    c.after_text = tensor_format(after);
    tensor_scope_end(scope);
    nn_module_free(model);
    run_free(&r);
    return c;
}

/* Line k (0-based) of clip_demo.expected: malloc'd, without its newline. */
static char *expected_line(int k)
{
    const char *all = testutil_read_text(ATTOGRAD_REFERENCE_DIR "/clip_demo.expected");
    for (int i = 0; i < k; i++) {
        all = strchr(all, '\n');
        ck_assert_ptr_nonnull(all);
        all++;
    }
    return strndup(all, strcspn(all, "\n"));
}

/* Each max_norm of the fixture (1.0 above the small model's norm: nothing
 * changes; 0.5 and 0.25 scale): the printed lines equal PyTorch's, the
 * numbers agree to float32 sums in two libraries (the loss to 2e-6, the norm
 * and the gradient elements to 1e-5, relative), and the element after is the
 * one before times max_norm / (norm + 1e-6) when that is below 1, else the
 * same: clipping with another max_norm, or per tensor, or not at all, fails. */
START_TEST(test_clip_demo_matches_pytorch)
{
    static const char *const reprs[] = {"1.0", "0.5", "0.25"};
    const char *fx = "clip_demo.txt";
    Tensor *max_norm = testutil_fixture(fx, "clip_small_max_norm");
    ck_assert_int_eq(max_norm->numel, 3);
    float want_loss = tensor_item(testutil_fixture(fx, "clip_small_loss"));
    float want_norm = tensor_item(testutil_fixture(fx, "clip_small_norm"));
    float want_before = testutil_fixture(fx, "clip_small_before")->data[_i];
    float want_after = testutil_fixture(fx, "clip_small_after")->data[_i];
    ck_assert(max_norm->data[_i] == strtof(reprs[_i], NULL));
    Clip c = clip_demo(max_norm->data[_i]);
    ck_assert_msg(fabsf(c.loss - want_loss) <= 2e-6f * want_loss, "loss %.9g, PyTorch %.9g",
                  (double)c.loss, (double)want_loss);
    ck_assert_msg(fabsf(c.norm - want_norm) <= 1e-5f * want_norm, "norm %.9g, PyTorch %.9g",
                  (double)c.norm, (double)want_norm);
    ck_assert_msg(fabsf(c.before - want_before) <= 1e-5f * want_before,
                  "before %.9g, PyTorch %.9g", (double)c.before, (double)want_before);
    ck_assert_msg(fabsf(c.after - want_after) <= 1e-5f * want_after,
                  "after %.9g, PyTorch %.9g", (double)c.after, (double)want_after);
    double coef = max_norm->data[_i] / (c.norm + 1e-6);
    if (coef < 1)
        ck_assert_msg(fabs(c.after - c.before * coef) <= 1e-6 * c.before,
                      "after %.9g, before %.9g x %.9g", (double)c.after, (double)c.before, coef);
    else
        ck_assert(c.after == c.before);
    char head[64];
    snprintf(head, sizeof head, "small max_norm=%s", reprs[_i]);
    char *lines[3] = {expected_line(3 * _i), expected_line(3 * _i + 1),
                      expected_line(3 * _i + 2)};
    ck_assert_str_eq(lines[0], head);
    ck_assert_str_eq(c.before_text, lines[1]);
    ck_assert_str_eq(c.after_text, lines[2]);
    for (int k = 0; k < 3; k++) free(lines[k]);
    free(c.before_text);
    free(c.after_text);
}
END_TEST

/* The book's find_highest_gradient: the largest element with its sign (not
 * the largest magnitude), over the parameters that have a gradient, the
 * others skipped; NaN as torch's max and the book's comparison take it. */
START_TEST(test_highest_gradient_is_signed)
{
    tensor_manual_seed(123);
    Module *seq = nn_sequential();
    nn_append(seq, nn_linear(2, 2, true));
    nn_append(seq, nn_linear(2, 2, true));      /* not in the loss: no gradient */
    ck_assert_ptr_nonnull(seq);
    TensorScope *scope = tensor_scope_begin();
    Tensor *x = tensor_from_data((float[]){1, 2}, SHAPE(1, 2));
    Tensor *loss = tensor_neg(tensor_sum(nn_forward(nn_item(seq, 0), x)));
    ck_assert_int_eq(tensor_backward(loss, NULL), 0);  /* dW = [[-1, -2], [-1, -2]], db = -1 */
    ck_assert_ptr_null(nn_get_parameter(seq, "1.weight")->grad);
    Tensor *h = train_find_highest_gradient(seq);
    ck_assert_ptr_nonnull(h);
    ck_assert(tensor_item(h) == -1.0f);
    char *text = tensor_format(h);
    ck_assert_str_eq(text, "tensor(-1.)");
    free(text);
    /* A NaN makes its parameter's max NaN, which the book's `>` then passes
     * over unless it comes first. */
    nn_get_parameter(seq, "0.bias")->grad->data[1] = NAN;
    ck_assert(tensor_item(train_find_highest_gradient(seq)) == -1.0f);
    nn_get_parameter(seq, "0.weight")->grad->data[3] = NAN;
    ck_assert(isnan(tensor_item(train_find_highest_gradient(seq))));
    tensor_scope_end(scope);
    nn_module_free(seq);
}
END_TEST

/* Nothing to find: one line each, no crash (the book's None); a NULL model
 * (a constructor that failed) keeps the first cause. */
START_TEST(test_highest_gradient_bad_input)
{
    tensor_manual_seed(123);
    Module *model = nn_gpt_model(run_config());
    ck_assert_ptr_null(train_find_highest_gradient(model));
    ck_assert_str_eq(tensor_error(), "find_highest_gradient: none of the model's 31 parameters "
                                     "has a gradient (call tensor_backward on a loss first)");
    Module *empty = nn_sequential();
    ck_assert_ptr_null(train_find_highest_gradient(empty));
    ck_assert_str_eq(tensor_error(), "find_highest_gradient: the model has no parameters");
    tensor_set_error("the first cause");
    ck_assert_ptr_null(train_find_highest_gradient(NULL));
    ck_assert_str_eq(tensor_error(), "the first cause");
    nn_module_free(empty);
    nn_module_free(model);
}
END_TEST

/* ---- Printed text as the book's Python prints it ------------------------------- */

/* generate_and_print_sample's text is tokenizer.decode's str: the greedy
 * bytes of a random book-test model (seed 123, vocab 256) cut characters,
 * and the sample has Python's U+FFFD where gpt_generate's fixture does
 * (gen_gpt_generate.py, the same model and ids). */
START_TEST(test_sample_prints_pythons_text)
{
    const char *fixture =
        testutil_read_text(ATTOGRAD_REFERENCE_DIR "/gpt_generate_bytes_replace.expected");
    const char *line = strstr(fixture, "Output text: ");
    ck_assert_ptr_nonnull(line);
    line += strlen("Output text: ");
    size_t want = strcspn(line, "\n");
    NNGPTConfig cfg = NN_GPT_CONFIG_BOOK_TEST;
    cfg.vocab_size = 256;
    tensor_manual_seed(123);
    Module *model = nn_gpt_model(cfg);
    TextTokenizer *tok = text_tokenizer_bytes();
    size_t len;
    char *text = train_generate_sample(model, tok, "Every effort moves you", 12, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(len, want);
    ck_assert_mem_eq(text, line, want);
    ck_assert_ptr_nonnull(strstr(text, "\xef\xbf\xbd"));
    free(text);
    text_tokenizer_free(tok);
    nn_module_free(model);
}
END_TEST

/* ---- train_gpt: the same run as a user runs it ------------------------------- */

#define D_RUN "--config book-test --tokenizer bytes --context-length 64 --batch 8 --epochs 2 " \
              "--lr 0.005 --eval-iter 1 --clip-grad-norm 1"
#define D_FLAGS D_RUN " --warmup-steps 14"

static void setup(void) { scratch_make("appendix-d"); }
static void teardown(void) { scratch_remove(); }

/* The lines byte for byte; with --plot, the lr figure and its CSV (each
 * step's lr exactly as %.17g prints Python's). */
START_TEST(test_train_gpt_prints_the_book)
{
    static char out[1 << 14], args[1024];
    snprintf(args, sizeof args, D_FLAGS " --csv %s --plot %s", scratch_file("loss.csv"),
             scratch_file("loss.png"));
    ck_assert_int_eq(program_capture("train_gpt", args, out, sizeof out), 0);
    ck_assert_str_eq(out, expected());
    ck_assert(scratch_exists("loss.png") && scratch_exists("loss-lr.png"));
    double *lr = NULL, *step = NULL, *norm = NULL;
    const char *csv = scratch_file("loss-lr.csv");
    ck_assert_int_eq(plot_csv_column(csv, "lr", &lr), STEPS);
    ck_assert_int_eq(plot_csv_column(csv, "step", &step), STEPS);
    ck_assert_int_eq(plot_csv_column(csv, "grad_norm", &norm), STEPS);
    int64_t n;
    double *want = doubles("finetune_schedule.txt", "d_run_lr", &n);
    Tensor *want_norm = testutil_fixture("finetune_d_run.txt", "d_run_grad_norm");
    for (int64_t s = 0; s < STEPS; s++) {
        ck_assert(step[s] == (double)s && lr[s] == want[s]);
        ck_assert(fabs(norm[s] - want_norm->data[s]) <= 2e-3 * want_norm->data[s]);
    }
    free(lr);
    free(step);
    free(norm);
    free(want);
}
END_TEST

/* Stopped at step 20 and resumed (with the warmup as the book computes it,
 * 20% of the steps: the same 14): the lines of the run in one go; a resume
 * with another schedule is another run's checkpoint. */
START_TEST(test_train_gpt_resumes_the_schedule)
{
    static char first[1 << 14], rest[1 << 14], args[1024], both[1 << 15];
    const char *ck = scratch_file("run.safetensors");
    snprintf(args, sizeof args, D_FLAGS " --stop-after-steps 20 --save %s", ck);
    ck_assert_int_eq(program_capture("train_gpt", args, first, sizeof first), 0);
    snprintf(args, sizeof args, D_RUN " --warmup-steps 20%% --resume %s", ck);
    ck_assert_int_eq(program_capture("train_gpt", args, rest, sizeof rest), 0);
    snprintf(both, sizeof both, "%s%s", first, rest);
    ck_assert_str_eq(both, expected());
    snprintf(args, sizeof args, D_FLAGS " --min-lr 1e-5 --resume %s", ck);
    ck_assert_int_eq(program_capture_stderr("train_gpt", args, rest, sizeof rest), 2);
    char want[1024];
    snprintf(want, sizeof want, "train_gpt: --resume: load %s: metadata \"lr_schedule\" is "
             "\"warmup_steps 14, initial_lr 3.0000000000000001e-05, min_lr "
             "9.9999999999999995e-07, epochs 2\" in file, \"warmup_steps 14, initial_lr "
             "3.0000000000000001e-05, min_lr 1.0000000000000001e-05, epochs 2\" expected\n", ck);
    ck_assert_str_eq(rest, want);
    snprintf(args, sizeof args, D_FLAGS " --clip-grad-norm 0.5 --resume %s", ck);
    ck_assert_int_eq(program_capture_stderr("train_gpt", args, rest, sizeof rest), 2);
    ck_assert_ptr_nonnull(strstr(rest, "metadata \"clip_grad_norm\" is \"1\" in file, \"0.5\" "
                                       "expected"));
}
END_TEST

/* Bad flags: one line naming the flag and value, exit 2, nothing written. */
static const struct {
    const char *args, *message;
} bad_flags[] = {
    {"--warmup-steps 70", "train_gpt: --warmup-steps 70 is not below the run's 70 steps (35 "
                          "batches x 2 epochs)\n"},
    {"--warmup-steps 14 --min-lr 0.01", "train_gpt: --min-lr 0.01 is above the peak --lr 0.005\n"},
    {"--warmup-steps 14 --initial-lr 0.1",
     "train_gpt: --initial-lr 0.1 is above the peak --lr 0.005\n"},
    {"--min-lr 1e-6", "train_gpt: --min-lr needs --warmup-steps N (the schedule it ends)\n"},
    {"--initial-lr 1e-6",
     "train_gpt: --initial-lr needs --warmup-steps N (the schedule it ends)\n"},
    {"--warmup-steps -1", "train_gpt: --warmup-steps: -1 is out of range (0 to 1099511627776)\n"},
    {"--warmup-steps 100%", "train_gpt: --warmup-steps 100% (70 steps) is not below the run's 70 "
                            "steps (35 batches x 2 epochs)\n"},
    {"--warmup-steps 150%", "train_gpt: --warmup-steps: 150 is out of range (0 to 100)\n"},
    {"--warmup-steps 20x", "train_gpt: --warmup-steps: '20x' is not a whole number\n"},
    {"--clip-grad-norm -1", "train_gpt: --clip-grad-norm: -1 is out of range (0 to 1e+06)\n"},
    {"--clip-grad-norm nan", "train_gpt: --clip-grad-norm: 'nan' is not a number\n"},
    {"--min-lr x --warmup-steps 3", "train_gpt: --min-lr: 'x' is not a number\n"},
};

START_TEST(test_train_gpt_bad_flags)
{
    char args[1024], out[1024];
    snprintf(args, sizeof args, "--config book-test --tokenizer bytes --context-length 64 "
             "--batch 8 --epochs 2 --lr 0.005 %s --csv %s --save %s",
             bad_flags[_i].args, scratch_file("x.csv"), scratch_file("x.safetensors"));
    ck_assert_int_eq(program_capture_stderr("train_gpt", args, out, sizeof out), 2);
    ck_assert_str_eq(out, bad_flags[_i].message);
    ck_assert_int_eq(scratch_count(), 0);
}
END_TEST

static Suite *appendix_d_suite(void)
{
    Suite *s = suite_create("appendix_d");
    TCase *tc = tcase_create("library");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_schedule_is_pythons, 0,
                        (int)(sizeof schedules / sizeof *schedules));
    tcase_add_test(tc, test_run_matches_pytorch_and_resumes);
    tcase_add_test(tc, test_defaults_and_tracking);
    tcase_add_test(tc, test_sample_prints_pythons_text);
    tcase_add_loop_test(tc, test_clip_demo_matches_pytorch, 0, 3);
    tcase_add_test(tc, test_highest_gradient_is_signed);
    tcase_add_test(tc, test_highest_gradient_bad_input);
    tcase_add_loop_test(tc, test_bad_options, 0, (int)(sizeof bad / sizeof *bad));
    suite_add_tcase(s, tc);
    TCase *prog = tcase_create("train_gpt");
    tcase_set_timeout(prog, 600);
    tcase_add_checked_fixture(prog, setup, teardown);
    tcase_add_test(prog, test_train_gpt_prints_the_book);
    tcase_add_test(prog, test_train_gpt_resumes_the_schedule);
    tcase_add_loop_test(prog, test_train_gpt_bad_flags, 0,
                        (int)(sizeof bad_flags / sizeof *bad_flags));
    suite_add_tcase(s, prog);
    return s;
}

TESTUTIL_MAIN(appendix_d_suite)
