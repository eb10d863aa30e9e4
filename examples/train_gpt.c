/*
 * The book's chapter-5 training run: GPTModel on a text file, AdamW, the
 * train/validation losses every eval_freq steps and a greedy sample after
 * every epoch, printed in the book's format.  The book's functions
 * (calc_loss_batch, calc_loss_loader, evaluate_model,
 * generate_and_print_sample, train_model_simple) are the train room's
 * (train/train.h); this program is its flags (train_gpt_flags.c), those
 * calls, and what it prints and writes: the book's lines, --csv, --plot,
 * --grad-norms and the checkpoints (--save, --save-every, --resume).
 * tests/reference/book_ch05.py is the same run in PyTorch.
 *
 * --warmup-steps, --initial-lr, --min-lr and --clip-grad-norm make it the
 * book's appendix-D train_model (linear warmup, cosine decay, gradient
 * clipping from the end of the warmup on), which prints "Iter" where chapter
 * 5 prints "Step"; tests/reference/book_appendix_d.py is that loop in
 * PyTorch.
 *
 * With no flags, the book's run: GPT_CONFIG_124M with context 256, AdamW
 * lr 0.0004, weight_decay 0.1, 10 epochs, batch 2, eval_freq 5, eval_iter 5,
 * seed 123, the-verdict.txt, start context "Every effort moves you".  A
 * 124M step takes seconds: the whole run takes about 11 minutes on one Zen 4
 * core (README, Performance).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attograd.h"
#include "train_gpt.h"

/* A checkpoint's metadata: the GPT's config and tokenizer (nn.h), then the
 * flags that change what the remaining steps compute, which a resume must
 * find equal, and a hash of the training text. */
enum { RUN_META = 9, META = NN_GPT_META_COUNT + RUN_META };

typedef struct {
    Options *o;                  /* --warmup-steps P% is resolved to steps in it */
    Module *model;
    Optimizer *optimizer;
    TextTokenizer *tokenizer;
    Dataset *train_set, *val_set;
    DataLoader *train, *val;
    TrainState state;            /* where the run is; its checkpoints hold it */
    NNGPTMeta gpt_meta;
    char values[RUN_META][160];
    TensorMeta meta[META];
    TrainCheckpoint checkpoint;
    PlotCsv *csv;                /* --csv: a row per evaluation */
    PlotCsv *lr_csv;             /* --plot with appendix D: a row per step (step, lr, norm) */
    TrainGradNorms *grad_norms;  /* --grad-norms, or NULL */
    PlotProgress *bar;           /* on stderr, drawn when it is a terminal */
    int64_t n_params;
    bool estimated;              /* the time estimate is printed */
    bool stopped;                /* --stop-after-steps ended the run early */
} Run;

/* Steps the run makes in all: its epochs, or --stop-after-steps when sooner. */
static int64_t run_steps(const Run *r, const Options *o)
{
    int64_t steps = o->train.epochs * data_loader_len(r->train);
    return o->stop_after && o->stop_after < steps ? o->stop_after : steps;
}

/* Evaluations among the first `steps` steps (at steps 0, eval_freq, ...). */
static int64_t evals_in(int64_t steps, const Options *o)
{
    return steps > 0 ? (steps - 1) / o->train.eval_freq + 1 : 0;
}

/* After this process's first step, on stderr, the time the rest will take,
 * from that step's own measured time and its evaluation's (when it made
 * none, a resumed run, an evaluation is taken as 2 * eval_iter forward
 * passes, a forward a third of a step). */
static void estimate(Run *r, const Options *o, double step_seconds, double eval_seconds)
{
    r->estimated = true;
    int64_t done = r->state.global_step + 1, steps = run_steps(r, o);
    int64_t evals = evals_in(steps, o) - evals_in(done, o);
    double eval = eval_seconds >= 0 ? eval_seconds : step_seconds * 2.0 * o->train.eval_iter / 3.0;
    double rest = (double)(steps - done) * step_seconds + (double)evals * eval;
    char when[32], evaluation[64] = "";
    if (eval_seconds >= 0)
        snprintf(evaluation, sizeof evaluation, " and its evaluation %.2f s", eval_seconds);
    int threads = tensor_get_num_threads();
    char params[32];
    if (r->n_params >= 1000000) snprintf(params, sizeof params, "%.1fM", r->n_params / 1e6);
    else snprintf(params, sizeof params, "%lld", (long long)r->n_params);
    fprintf(stderr, PROG ": %s parameters, batch %lld x %lld tokens, %d thread%s: the first "
            "step took %.2f s%s; about %s for the %lld steps and %lld evaluations left\n",
            params, (long long)o->train.batch_size, (long long)o->gpt.cfg.context_length, threads,
            threads == 1 ? "" : "s", step_seconds, evaluation,
            plot_duration(rest, when, sizeof when), (long long)(steps - done),
            (long long)evals);
}

/* The message in tensor_error() with "<what> " before it; -1. */
static int fail(const char *what)
{
    char why[512];
    snprintf(why, sizeof why, "%s", tensor_error());
    tensor_set_error("%s %s", what, why);
    return -1;
}

/* The CSVs on disk before a checkpoint is saved, so that they hold every
 * row the checkpoint covers; then the checkpoint.  0, or -1 with a message. */
static int save_checkpoint(Run *r)
{
    if ((r->csv && plot_csv_sync(r->csv)) || train_grad_norms_sync(r->grad_norms)) return -1;
    return train_checkpoint_save(&r->checkpoint, r->o->save) ? fail("--save:") : 0;
}

/* ---- train_model_simple's hooks: what this program prints and writes ---------- */

/* The step's gradient norms, before the optimizer changes them. */
static int after_backward(const TrainState *s, void *ctx)
{
    Run *r = ctx;
    return r->grad_norms ? train_grad_norms_record(r->grad_norms, s->global_step + 1) : 0;
}

/* The book's line (appendix D's train_model says "Iter"), and the
 * evaluation's row of --csv. */
static int on_eval(const TrainState *s, double train, double val, void *ctx)
{
    Run *r = ctx;
    plot_progress_clear(r->bar);
    if (!r->o->quiet)
        printf("Ep %lld (%s %06lld): Train loss %.3f, Val loss %.3f\n", (long long)s->epoch,
               r->o->warmup_steps >= 0 ? "Iter" : "Step", (long long)s->global_step, train, val);
    if (r->csv && plot_csv_row(r->csv, "%lld,%lld,%lld,%.9g,%.9g", (long long)s->global_step,
                               (long long)s->epoch, (long long)s->tokens_seen, train, val))
        return fail("--csv");
    return 0;
}

/* The step's lr and gradient norm (--plot with appendix D), the time
 * estimate after this process's first step, the progress bar, and
 * --stop-after-steps (after its step's evaluation). */
static int on_step(const TrainState *s, const TrainStep *step, void *ctx)
{
    Run *r = ctx;
    int64_t done = s->global_step + 1;
    if (r->lr_csv && plot_csv_row(r->lr_csv, "%lld,%.17g,%.9g", (long long)s->global_step,
                                  step->lr, (double)step->grad_norm))
        return fail("--plot");
    if (!r->estimated && !r->o->quiet) estimate(r, r->o, step->seconds, step->eval_seconds);
    plot_progress_step(r->bar, done, step->tokens);
    r->stopped = r->o->stop_after && done >= r->o->stop_after;
    return r->stopped ? 1 : 0;
}

/* --save-every. */
static int on_checkpoint(const TrainState *s, void *ctx)
{
    (void)s;
    return save_checkpoint(ctx);
}

/* generate_and_print_sample's print (its newlines are spaces already). */
static int on_sample(const TrainState *s, const char *text, size_t len, void *ctx)
{
    (void)s;
    plot_progress_clear(((Run *)ctx)->bar);
    fwrite(text, 1, len, stdout);
    putchar('\n');
    fflush(stdout);
    return 0;
}

/* The book's figure: losses against epochs (evaluation i of n at
 * i * epochs / (n - 1), as np.linspace), tokens seen on the top axis, read
 * back from --csv (a resumed run's file holds the rows it kept too).  An
 * evaluation's number is its step / eval_freq, and n counts the
 * evaluations of the whole run, so that a stopped or resumed run's points
 * sit where the uninterrupted run puts them. */
static int plot_losses(const Options *o, const Run *r)
{
    static const char *const columns[4] = {"step", "tokens_seen", "train_loss", "val_loss"};
    double *v[4] = {0};
    int64_t rows = 0, rc = 0;
    for (int k = 0; k < 4 && rc >= 0; k++) rc = rows = plot_csv_column(o->csv, columns[k], &v[k]);
    int64_t steps = o->train.epochs * data_loader_len(r->train);
    int64_t n = steps > 0 ? (steps - 1) / o->train.eval_freq + 1 : 0;
    for (int64_t i = 0; rc >= 0 && i < rows; i++)
        v[0][i] = n > 1 ? floor(v[0][i] / (double)o->train.eval_freq) * (double)o->train.epochs /
                              (double)(n - 1)
                        : 0;
    char title[256], subtitle[256];
    const char *text = strrchr(o->text, '/') ? strrchr(o->text, '/') + 1 : o->text;
    const NNGPTConfig *c = &o->gpt.cfg;
    snprintf(title, sizeof title, "GPTModel on %s (the book's chapter 5)", text);
    snprintf(subtitle, sizeof subtitle, "%lld layers, %lld heads, emb_dim %lld, context %lld, "
             "vocab %lld; AdamW lr %g, batch %lld", (long long)c->n_layers,
             (long long)c->n_heads, (long long)c->emb_dim, (long long)c->context_length,
             (long long)c->vocab_size, o->train.lr, (long long)o->train.batch_size);
    PlotSeries s[] = {
        {.label = "training loss", .n = rows, .x = v[0], .y = v[2], .x2 = v[1]},
        {.label = "validation loss", .n = rows, .x = v[0], .y = v[3], .dash = PLOT_DASHED},
    };
    PlotOptions p = PLOT_OPTIONS(.title = title, .subtitle = subtitle, .xlabel = "epochs",
                                 .ylabel = "loss", .x2label = "tokens seen");
    if (rc >= 0) rc = plot_lines(o->plot, 2, s, p);
    if (rc == 0 && o->ascii) {
        fflush(stdout);
        rc = plot_lines_ascii(stdout, 2, s, p);
    }
    if (rc) fprintf(stderr, PROG ": --plot %s\n", tensor_error());
    for (int k = 0; k < 4; k++) free(v[k]);
    return rc ? -1 : 0;
}

/* Appendix D's figure: the lr of every step and the gradients' total norm
 * before clipping, against the step, log scale (the book plots the lr
 * alone; the norm shows what clipping cuts), read back from FILE-lr.csv. */
static int plot_lr(const Options *o)
{
    char title[128], subtitle[256], clip[64] = "no clipping";
    if (o->clip_grad_norm > 0)
        snprintf(clip, sizeof clip, "clipped to %g from step %lld", o->clip_grad_norm,
                 (long long)(o->warmup_steps > 0 ? o->warmup_steps : 0));
    snprintf(title, sizeof title, "Learning rate and gradient norm (the book's appendix D)");
    if (o->warmup_steps >= 0)
        snprintf(subtitle, sizeof subtitle, "warmup %lld steps %g to %g, cosine to %g; %s",
                 (long long)o->warmup_steps, o->initial_lr, o->train.lr, o->min_lr, clip);
    else
        snprintf(subtitle, sizeof subtitle, "lr %g; %s", o->train.lr, clip);
    PlotSeries s[] = {
        {.label = "learning rate", .csv = o->lr_csv, .x_column = "step", .y_column = "lr"},
        {.label = "gradient norm (before clipping)", .csv = o->lr_csv, .x_column = "step",
         .y_column = "grad_norm", .dash = PLOT_DASHED},
    };
    PlotOptions p = PLOT_OPTIONS(.title = title, .subtitle = subtitle, .xlabel = "step",
                                 .ylabel = "lr, norm", .logy = true);
    int rc = plot_lines(o->lr_plot, 2, s, p);
    if (rc == 0 && o->ascii) {
        fflush(stdout);
        rc = plot_lines_ascii(stdout, 2, s, p);
    }
    if (rc) fprintf(stderr, PROG ": --plot %s\n", tensor_error());
    return rc ? -1 : 0;
}

/* Opens --csv before the first step: a resumed run keeps the rows of the
 * file already there that its checkpoint covers (the rows of the run it
 * resumes, so that one file holds the whole run; a file of another kind is
 * replaced).  0, or -1 with a message. */
static int open_csv(Run *r, const Options *o)
{
    if (!o->csv) return 0;
    r->csv = plot_csv_open(o->csv, "step,epoch,tokens_seen,train_loss,val_loss");
    if (r->csv && o->resume) plot_csv_keep(r->csv, (double)r->state.global_step);
    return r->csv ? 0 : fail("--csv");
}

/* Opens --plot's per-step CSV of appendix D (lr, gradient norm) as open_csv
 * opens --csv: 0, or -1 with a message. */
static int open_lr_csv(Run *r, const Options *o)
{
    if (!o->lr_csv[0]) return 0;
    r->lr_csv = plot_csv_open(o->lr_csv, "step,lr,grad_norm");
    if (r->lr_csv && o->resume) plot_csv_keep(r->lr_csv, (double)r->state.global_step);
    return r->lr_csv ? 0 : fail("--plot");
}

/* Opens the norms' CSV before the first step, keeping a resumed run's rows:
 * 0, or -1 with a message. */
static int open_grad_norms(Run *r, const Options *o)
{
    if (!o->grad_norms) return 0;
    r->grad_norms = train_grad_norms_open(r->model, o->grad_norms);
    if (r->grad_norms &&
        (!o->resume || train_grad_norms_resume(r->grad_norms, r->state.global_step) == 0))
        return 0;
    return fail("--grad-norms");
}

/* The book's loop with this program's hooks, from where the run is: 0 (every
 * epoch done, or --stop-after-steps), or -1 with a message. */
static int train(Run *r, const Options *o)
{
    WarmupCosineOptions w = OPTIM_WARMUP_COSINE_OPTIONS(.warmup_steps = o->warmup_steps,
                                                        .initial_lr = o->initial_lr,
                                                        .min_lr = o->min_lr);
    TrainOptions t = TRAIN_OPTIONS(.num_epochs = o->train.epochs, .eval_freq = o->train.eval_freq,
                                   .eval_iter = o->train.eval_iter, .tokenizer = r->tokenizer,
                                   .start_context = o->start_context,
                                   .checkpoint_every = o->save_every,
                                   .after_backward = after_backward, .on_eval = on_eval,
                                   .on_step = on_step, .on_checkpoint = on_checkpoint,
                                   .on_sample = on_sample, .ctx = r,
                                   .lr_schedule = o->warmup_steps >= 0 ? &w : NULL,
                                   .clip_grad_norm = o->clip_grad_norm,
                                   .track_grad_norm = r->lr_csv != NULL);
    /* --bf16: every product of the run (steps, evaluations, samples) in bf16;
     * a product's backward computes as its forward did (tensor.h). */
    tensor_autocast_begin(o->train.bf16);
    int rc = train_model_simple(r->model, r->train, r->val, r->optimizer, &t, &r->state);
    tensor_autocast_end();
    return rc < 0 ? -1 : 0;
}

/* Trains (the CSVs on disk as the rows come, whole when the run fails or
 * is killed), saves and plots: 0, or 1 after a message. */
static int train_and_write(Run *r, const Options *o)
{
    r->bar = plot_progress_new(stderr, !o->quiet && isatty(STDERR_FILENO),
                               r->state.global_step + 1, run_steps(r, o));
    int rc = !r->bar || open_csv(r, o) || open_lr_csv(r, o) || open_grad_norms(r, o) ||
             train(r, o);
    plot_progress_free(r->bar);
    r->bar = NULL;
    if (rc) fprintf(stderr, PROG ": %s\n", tensor_error());
    if (train_grad_norms_close(r->grad_norms, rc == 0) && !rc) {
        fprintf(stderr, PROG ": --grad-norms %s\n", tensor_error());
        rc = 1;
    }
    r->grad_norms = NULL;
    if (!rc && o->save && save_checkpoint(r)) {
        fprintf(stderr, PROG ": %s\n", tensor_error());
        rc = 1;
    }
    if (r->csv && plot_csv_close(r->csv) && !rc) {
        fprintf(stderr, PROG ": --csv %s\n", tensor_error());
        rc = 1;
    }
    r->csv = NULL;
    if (r->lr_csv && plot_csv_close(r->lr_csv) && !rc) {
        fprintf(stderr, PROG ": --plot %s\n", tensor_error());
        rc = 1;
    }
    r->lr_csv = NULL;
    if (!rc && o->save && !o->quiet)
        fprintf(stderr, PROG ": checkpoint %s at step %lld%s\n", o->save,
                (long long)r->state.global_step + 1, r->stopped ? " (--stop-after-steps)" : "");
    if (!rc && o->plot) rc = plot_losses(o, r) ? 1 : 0;
    if (!rc && o->lr_plot[0]) rc = plot_lr(o) ? 1 : 0;
    return rc;
}

/* The run's metadata (the GPT's config and tokenizer, the flags a resume
 * must find equal: appendix D's too, the text's hash) and its checkpoint. */
static void run_checkpoint(Run *r, uint64_t text_hash)
{
    const Options *o = r->o;
    nn_gpt_config_to_meta(o->gpt.cfg, o->tokenizer, &r->gpt_meta);
    memcpy(r->meta, r->gpt_meta.meta, sizeof r->gpt_meta.meta);
    static const char *const keys[RUN_META] = {"lr", "weight_decay", "batch", "eval_freq",
                                               "eval_iter", "text_fnv1a64", "lr_schedule",
                                               "clip_grad_norm", "autocast"};
    snprintf(r->values[0], sizeof r->values[0], "%.17g", o->train.lr);
    snprintf(r->values[1], sizeof r->values[1], "%.17g", o->train.weight_decay);
    snprintf(r->values[2], sizeof r->values[2], "%lld", (long long)o->train.batch_size);
    snprintf(r->values[3], sizeof r->values[3], "%lld", (long long)o->train.eval_freq);
    snprintf(r->values[4], sizeof r->values[4], "%lld", (long long)o->train.eval_iter);
    snprintf(r->values[5], sizeof r->values[5], "%016llx", (unsigned long long)text_hash);
    /* The schedule's total is --epochs x the loader's batches. */
    if (o->warmup_steps < 0)
        snprintf(r->values[6], sizeof r->values[6], "none");
    else
        snprintf(r->values[6], sizeof r->values[6], "warmup_steps %lld, initial_lr %.17g, "
                 "min_lr %.17g, epochs %lld", (long long)o->warmup_steps, o->initial_lr,
                 o->min_lr, (long long)o->train.epochs);
    snprintf(r->values[7], sizeof r->values[7], "%.17g", o->clip_grad_norm);
    snprintf(r->values[8], sizeof r->values[8], "%s", o->train.bf16 ? "bf16" : "fp32");
    for (int i = 0; i < RUN_META; i++)
        r->meta[NN_GPT_META_COUNT + i] = (TensorMeta){keys[i], r->values[i]};
    r->checkpoint = (TrainCheckpoint){.model = r->model, .optimizer = r->optimizer,
                                      .train = r->train, .state = &r->state, .n_meta = META,
                                      .meta = r->meta};
}

/* This run's counters beyond the loop's (train_checkpoint_load checks the
 * optimizer's and the loader's): every step takes batch x context_length
 * tokens, and evaluations fall at steps 0, eval_freq, 2 eval_freq ...  0, or
 * -1 with the first disagreement in why. */
static int counters_agree(const TrainState *s, const Options *o, char *why, size_t n)
{
    int64_t step = s->global_step + 1, tokens = o->train.batch_size * o->gpt.cfg.context_length;
    int64_t evals = step > 0 ? (step - 1) / o->train.eval_freq + 1 : 0;
    if (s->tokens_seen % tokens != 0 || s->tokens_seen / tokens != step)
        snprintf(why, n, "tokens_seen %lld is not %lld steps of %lld x %lld tokens",
                 (long long)s->tokens_seen, (long long)step, (long long)o->train.batch_size,
                 (long long)o->gpt.cfg.context_length);
    else if (s->evals != evals)
        snprintf(why, n, "evals %lld, where --eval-freq %lld evaluates %lld times in %lld steps",
                 (long long)s->evals, (long long)o->train.eval_freq, (long long)evals,
                 (long long)step);
    else
        return 0;
    return -1;
}

/* Goes on from --resume: 0; 1 for a file that cannot be read or is not a
 * sound checkpoint; 2 for another run's checkpoint or nothing left to train
 * (the flags and the file disagree).  Messages name the values. */
static int resume(Run *r, const Options *o)
{
    int rc = train_checkpoint_load(&r->checkpoint, o->resume);
    if (rc) {
        fprintf(stderr, PROG ": --resume: %s\n", tensor_error());
        return rc == TRAIN_CHECKPOINT_OTHER_RUN ? 2 : 1;
    }
    const TrainState *s = &r->state;
    int64_t step = s->global_step + 1;
    char why[256];
    if (counters_agree(s, o, why, sizeof why)) {
        fprintf(stderr, PROG ": --resume: %s: its counters disagree: step %lld, but %s\n",
                o->resume, (long long)step, why);
        return 1;
    }
    if (s->epochs_done >= o->train.epochs || (o->stop_after && step >= o->stop_after)) {
        char stop[64] = "";
        if (o->stop_after)
            snprintf(stop, sizeof stop, " --stop-after-steps %lld", (long long)o->stop_after);
        fprintf(stderr, PROG ": --resume: %s is at step %lld, epoch %lld: --epochs %lld%s leaves "
                "nothing to train\n", o->resume, (long long)step, (long long)s->epoch,
                (long long)o->train.epochs, stop);
        return 2;
    }
    return 0;
}

/* GPTDatasetV1 over one part of the text: windows of context ids, stride
 * context.  NULL after a message. */
static Dataset *windows(const Run *r, const char *text, size_t len, int64_t context,
                        const char *part)
{
    int64_t *ids = NULL;
    size_t n = 0;
    if (text_encode(r->tokenizer, text, len, true, &ids, &n) != 0) {
        fprintf(stderr, PROG ": --text: %s\n", tensor_error());
        return NULL;
    }
    Dataset *d = text_dataset_v1(ids, n, context, context);
    if (!d)
        fprintf(stderr, PROG ": --text: the %s part is too short: %zu tokens for windows of "
                        "%lld (try a smaller --context-length)\n",
                part, n, (long long)context);
    free(ids);
    return d;
}

/* The book's split (train_split_offset: 90% of the characters) and
 * create_dataloader_v1's two loaders: the training part shuffled, its last
 * short batch dropped; the validation part in order, all of it.  0, or 1
 * after a message. */
static int make_loaders(Run *r, const char *text, size_t len)
{
    const Options *o = r->o;
    int64_t context = o->gpt.cfg.context_length;
    size_t split = train_split_offset(text, len, 0.90);
    if (!(r->train_set = windows(r, text, split, context, "training")) ||
        !(r->val_set = windows(r, text + split, len - split, context, "validation")))
        return 1;
    r->train = data_loader(r->train_set, DATA_LOADER_OPTIONS(.batch_size = o->train.batch_size,
                                                            .shuffle = true, .drop_last = true));
    r->val = data_loader(r->val_set, DATA_LOADER_OPTIONS(.batch_size = o->train.batch_size));
    if (!r->train || !r->val) {
        fprintf(stderr, PROG ": %s\n", tensor_error());
        return 1;
    }
    if (data_loader_len(r->train) == 0) {
        fprintf(stderr, PROG ": --text: the training part has fewer windows than --batch %lld\n",
                (long long)o->train.batch_size);
        return 1;
    }
    return 0;
}

/* --warmup-steps P% made steps, and below the run's steps (the book's
 * total_training_steps = len(train_loader) * n_epochs), as
 * train_model_simple checks it, before anything is written: 0, or 2 after
 * a message. */
static int schedule_fits(const Run *r)
{
    Options *o = r->o;
    int64_t len = data_loader_len(r->train), total = len * o->train.epochs;
    char percent[64] = "";
    if (o->warmup_percent > 0) {
        o->warmup_steps = (int64_t)(o->warmup_percent / 100 * (double)total);
        snprintf(percent, sizeof percent, "%g%% (%lld steps)", o->warmup_percent,
                 (long long)o->warmup_steps);
    }
    if (o->warmup_steps < total) return 0;
    if (!percent[0]) snprintf(percent, sizeof percent, "%lld", (long long)o->warmup_steps);
    fprintf(stderr, PROG ": --warmup-steps %s is not below the run's %lld steps (%lld batches x "
            "%lld epochs)\n", percent, (long long)total, (long long)len,
            (long long)o->train.epochs);
    return 2;
}

/* The book's order: seed, model, optimizer (AdamW over every parameter),
 * then the loaders, whose shuffles draw from the generator after the
 * model's initialisation.  0, or 1 or 2 after a message. */
static int build(Run *r, const char *text, size_t len)
{
    const Options *o = r->o;
    if (text_vocab_size(r->tokenizer) > o->gpt.cfg.vocab_size) {
        fprintf(stderr, PROG ": --vocab-size %lld is smaller than the tokenizer's %lld\n",
                (long long)o->gpt.cfg.vocab_size, (long long)text_vocab_size(r->tokenizer));
        return 2;
    }
    if (!cli_vocab_decodable(PROG, r->tokenizer, o->gpt.cfg.vocab_size)) {
        fprintf(stderr, "%s\n", tensor_error());
        return 2;
    }
    tensor_manual_seed(o->train.seed);
    r->model = nn_gpt_model(o->gpt.cfg);
    NNList params = nn_named_parameters(r->model);
    r->n_params = r->model ? nn_num_parameters(r->model) : 0;
    if (r->model)
        r->optimizer = optim_adamw(params.count, params.tensors,
                                   OPTIM_ADAMW_OPTIONS(.lr = o->train.lr,
                                                       .weight_decay = o->train.weight_decay));
    nn_list_free(&params);
    if (!r->model || !r->optimizer) {
        fprintf(stderr, PROG ": %s\n", tensor_error());
        return 2;
    }
    int rc = make_loaders(r, text, len);
    if (rc == 0) rc = schedule_fits(r);
    run_checkpoint(r, train_text_hash(text, len));
    return rc;
}

static void run_free(Run *r)
{
    train_state_clear(&r->state);
    data_loader_free(r->train);
    data_loader_free(r->val);
    data_dataset_free(r->train_set);
    data_dataset_free(r->val_set);
    optim_free(r->optimizer);
    nn_module_free(r->model);
    text_tokenizer_free(r->tokenizer);
}

int main(int argc, char **argv)
{
    /* The book's chapter 5 shortens GPT_CONFIG_124M's context to 256. */
    NNGPTConfig cfg = NN_GPT_CONFIG_124M;
    cfg.context_length = 256;
    Options o = {.gpt = {.cfg = cfg, .context_124m = 256}, .text = ATTOGRAD_TEXT_DEFAULT,
                 .start_context = "Every effort moves you",
                 .tokenizer = "gpt2",
                 .train = {.lr = 0.0004, .weight_decay = 0.1, .epochs = 10, .batch_size = 2,
                           .eval_freq = 5, .eval_iter = 5, .seed = 123, .batch_flag = "--batch"},
                 .warmup_steps = -1, .initial_lr = 3e-5, .min_lr = 1e-6};
    int rc = parse_flags(argc, argv, &o);
    if (rc == 2) fprintf(stderr, "%s\n", tensor_error());
    if (rc) return rc == 1 ? 0 : rc;
    if (!paths_ok(&o)) return 2;

    Run r = {.o = &o, .state = TRAIN_STATE_INIT};
    size_t len = 0;
    char *text = train_read_text(o.text, &len);
    if (!text) {
        fprintf(stderr, PROG ": --text: %s\n", tensor_error());
        return 1;
    }
    if (!(r.tokenizer = cli_tokenizer(PROG, o.tokenizer, o.vocab))) {
        fprintf(stderr, "%s\n", tensor_error());
        rc = 1;
    }
    if (!rc) rc = build(&r, text, len);
    free(text);
    if (!rc && o.resume) rc = resume(&r, &o);
    if (!rc) rc = train_and_write(&r, &o);
    run_free(&r);
    return rc;
}
