/*
 * The book's train_model_simple (train.h), with hooks where its Python
 * prints, from wherever a TrainState says the run is, and appendix D's
 * schedule and clipping; the losses it calls are evaluate.c's.
 */
#include "train_internal.h"

#include <math.h>
#include <stdlib.h>

#include "plot/plot.h"

void train_state_clear(TrainState *s)
{
    if (!s) return;
    data_iter_free(s->train_it);
    s->train_it = NULL;
}

static int check_options(const Module *model, const DataLoader *train, const DataLoader *val,
                         const Optimizer *opt, const TrainOptions *o, const TrainState *s)
{
    if (!model || !train || !opt || !o || !s)
        return tensor_set_error("train_model_simple: model, train loader, optimizer, options "
                                "and state must not be NULL"), -1;
    if (o->num_epochs < 0 || o->eval_freq < 0 || o->eval_iter < 1 || o->sample_tokens < 0 ||
        o->checkpoint_every < 0)
        return tensor_set_error("train_model_simple: num_epochs %lld, eval_freq %lld, eval_iter "
                                "%lld, sample_tokens %lld, checkpoint_every %lld: none may be "
                                "negative, eval_iter at least 1", (long long)o->num_epochs,
                                (long long)o->eval_freq, (long long)o->eval_iter,
                                (long long)o->sample_tokens, (long long)o->checkpoint_every), -1;
    if (o->eval_freq && !val)
        return tensor_set_error("train_model_simple: eval_freq %lld needs a validation loader",
                                (long long)o->eval_freq), -1;
    if (!(o->clip_grad_norm >= 0) || !isfinite(o->clip_grad_norm))
        return tensor_set_error("train_model_simple: clip_grad_norm %g: 0 (none) or a positive "
                                "max_norm", o->clip_grad_norm), -1;
    return 0;
}

/* Appendix D's additions to a run: the schedule with its total resolved,
 * the parameters whose gradients are clipped or measured, each group's own
 * lr (put back after every step). */
typedef struct {
    bool schedule;
    WarmupCosineOptions w;
    int64_t clip_from;           /* the first global step clipped */
    bool norms;                  /* clip or track: the norm is taken */
    NNList params;
    int64_t n_groups;
    double *group_lrs;
} BetterLoop;

/* The schedule's checks, in the book's terms: 0, or -1 with a message. */
static int check_schedule(const WarmupCosineOptions *w, const DataLoader *train,
                          const TrainOptions *o, double peak)
{
    int64_t len = data_loader_len(train);
    if (w->warmup_steps < 0)
        return tensor_set_error("train_model_simple: warmup_steps %lld must not be negative",
                                (long long)w->warmup_steps), -1;
    if (w->warmup_steps >= w->total_steps) {
        if (w->total_steps == len * o->num_epochs)
            return tensor_set_error("train_model_simple: warmup_steps %lld is not below the "
                                    "run's %lld steps (%lld batches x %lld epochs)",
                                    (long long)w->warmup_steps, (long long)w->total_steps,
                                    (long long)len, (long long)o->num_epochs), -1;
        return tensor_set_error("train_model_simple: warmup_steps %lld is not below "
                                "total_steps %lld", (long long)w->warmup_steps,
                                (long long)w->total_steps), -1;
    }
    if (w->min_lr > peak || w->initial_lr > peak)
        return tensor_set_error("train_model_simple: %s %g is above the peak lr %g (the "
                                "optimizer's)", w->min_lr > peak ? "min_lr" : "initial_lr",
                                w->min_lr > peak ? w->min_lr : w->initial_lr, peak), -1;
    if (isnan(optim_warmup_cosine_lr_at(*w, peak, 0))) return train__fail("train_model_simple");
    return 0;
}

/* b for o: 0, or -1 with a message (nothing to free then). */
static int better_loop(BetterLoop *b, const Module *model, const DataLoader *train,
                       const Optimizer *opt, const TrainOptions *o)
{
    *b = (BetterLoop){.norms = o->clip_grad_norm > 0 || o->track_grad_norm};
    if (o->lr_schedule) {
        b->schedule = true;
        b->w = *o->lr_schedule;
        if (b->w.total_steps == -1) b->w.total_steps = data_loader_len(train) * o->num_epochs;
        b->clip_from = b->w.warmup_steps;
        if (check_schedule(&b->w, train, o, optim_get_lr(opt, 0))) return -1;
        b->n_groups = opt->n_groups;
        if (!(b->group_lrs = malloc((size_t)b->n_groups * sizeof *b->group_lrs)))
            return tensor_set_error("train_model_simple: out of memory"), -1;
    }
    if (b->norms) b->params = nn_named_parameters(model);
    return 0;
}

static void better_loop_free(BetterLoop *b)
{
    free(b->group_lrs);
    nn_list_free(&b->params);
}

/* The step's lr on every group (the book's peak is group 0's), each
 * group's own kept to be put back: the lr, or NAN with a message. */
static double set_step_lr(BetterLoop *b, Optimizer *opt, int64_t global_step)
{
    if (!b->schedule) return optim_get_lr(opt, 0);
    for (int64_t g = 0; g < b->n_groups; g++) b->group_lrs[g] = optim_get_lr(opt, g);
    double lr = optim_warmup_cosine_lr_at(b->w, b->group_lrs[0], global_step);
    for (int64_t g = 0; g < b->n_groups && !isnan(lr); g++)
        if (optim_set_lr(opt, g, lr)) lr = NAN;
    return lr;
}

static void restore_lrs(const BetterLoop *b, Optimizer *opt)
{
    for (int64_t g = 0; b->schedule && g < b->n_groups; g++)
        optim_set_lr(opt, g, b->group_lrs[g]);
}

/* After the backward: the total norm, and clipping from clip_from on
 * (clip_grad_norm_ returns the norm before it clips).  0, or -1. */
static int clip(const BetterLoop *b, const TrainOptions *o, int64_t global_step, float *norm)
{
    if (!b->norms) return 0;
    Tensor *const *p = b->params.tensors;
    int64_t n = b->params.count;
    *norm = o->clip_grad_norm > 0 && global_step >= b->clip_from
                ? optim_clip_grad_norm(n, p, o->clip_grad_norm)
                : optim_grad_norm(n, p);
    return isnan(*norm) ? -1 : 0;
}

/* One optimizer step on a batch: zero_grad, the step's lr, loss, backward,
 * after_backward, the norm and clipping, step, the groups' lrs back.  0
 * with info's loss, lr and norm, 1 or -1 from the hook, -1 with a message. */
static int step(Module *model, Optimizer *opt, const TrainOptions *o, const TrainState *s,
                BetterLoop *b, const Tensor *x, const Tensor *y, TrainStep *info)
{
    optim_zero_grad(opt);
    int64_t global_step = s->global_step + 1;
    if (isnan(info->lr = set_step_lr(b, opt, global_step))) {
        restore_lrs(b, opt);
        return -1;
    }
    Tensor *loss = train__loss_batch(o->loss, o->ctx, x, y, model);
    int rc = !loss || tensor_backward(loss, NULL) != 0 ? -1 : 0;
    if (rc == 0 && o->after_backward) rc = o->after_backward(s, o->ctx);
    if (rc == 0) rc = clip(b, o, global_step, &info->grad_norm);
    if (rc == 0 && optim_step(opt) != 0) rc = -1;
    restore_lrs(b, opt);
    if (rc) return rc;
    info->loss = tensor_item(loss);
    if (!isfinite(info->loss))
        return tensor_set_error("the loss is %g: training diverged (try a smaller lr)",
                                (double)info->loss), -1;
    return 0;
}

/* One epoch's steps, from where s->train_it is: 0 at the pass's end, 1 when
 * a hook stopped the run, -1 with a message. */
static int epoch_steps(Module *model, DataLoader *train, DataLoader *val, Optimizer *opt,
                       const TrainOptions *o, BetterLoop *b, TrainState *s)
{
    for (;;) {
        double t0 = plot_clock();
        TensorScope *scope = tensor_scope_begin();
        Tensor *x, *y;
        TrainStep info = {.loss = NAN, .eval_seconds = -1, .lr = NAN, .grad_norm = NAN};
        int got = data_iter_next(s->train_it, &x, &y), rc = 0;
        if (got == 1) {
            info.tokens = x->numel;
            info.examples = x->ndim ? x->shape[0] : 1;
            rc = step(model, opt, o, s, b, x, y, &info);
        }
        tensor_scope_end(scope);
        if (got == 0) return 0;
        if (got < 0 || rc < 0)
            return train__fail("step %lld failed", (long long)s->global_step + 1);
        if (rc > 0) return rc;
        info.seconds = plot_clock() - t0;
        s->tokens_seen += info.tokens;
        s->global_step += 1;
        if (o->eval_freq && s->global_step % o->eval_freq == 0) {
            double train_loss, val_loss;
            t0 = plot_clock();
            if (train__evaluate(model, train, val, o->eval_iter, o->loss, o->ctx, &train_loss,
                                &val_loss))
                return train__fail("evaluation after step %lld", (long long)s->global_step);
            info.eval_seconds = plot_clock() - t0;
            s->evals++;
            if (o->on_eval && (rc = o->on_eval(s, train_loss, val_loss, o->ctx)) != 0) return rc;
        }
        if (o->on_step && (rc = o->on_step(s, &info, o->ctx)) != 0) return rc;
        if (o->checkpoint_every && o->on_checkpoint &&
            (s->global_step + 1) % o->checkpoint_every == 0 &&
            (rc = o->on_checkpoint(s, o->ctx)) != 0)
            return rc;
    }
}

/* generate_and_print_sample, through on_sample. */
static int sample(Module *model, const TrainOptions *o, const TrainState *s)
{
    if (!o->on_sample || !o->tokenizer || !o->start_context) return 0;
    size_t len;
    char *text = train_generate_sample(model, o->tokenizer, o->start_context, o->sample_tokens,
                                       &len);
    if (!text) return train__fail("sample after epoch %lld", (long long)s->epoch);
    int rc = o->on_sample(s, text, len, o->ctx);
    free(text);
    return rc;
}

int train_model_simple(Module *model, DataLoader *train, DataLoader *val, Optimizer *opt,
                       const TrainOptions *o, TrainState *s)
{
    BetterLoop b;
    if (check_options(model, train, val, opt, o, s) || better_loop(&b, model, train, opt, o))
        return -1;
    int rc = 0;
    while (rc == 0 && s->epochs_done < o->num_epochs) {
        nn_train(model, true);                                /* model.train() */
        /* A new pass, unless a resumed run's pass is this epoch's. */
        if (!s->train_it || s->epoch != s->epochs_done + 1) {
            data_iter_free(s->train_it);
            s->epoch = s->epochs_done + 1;
            if (!(s->train_it = data_loader_iter(train))) {
                rc = train__fail("epoch %lld", (long long)s->epoch);
                break;
            }
        }
        if ((rc = epoch_steps(model, train, val, opt, o, &b, s)) == 0) rc = sample(model, o, s);
        if (rc) break;
        s->epochs_done = s->epoch;
        if (o->on_epoch) rc = o->on_epoch(s, o->ctx);
    }
    better_loop_free(&b);
    return rc;
}
