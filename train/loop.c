/*
 * The book's train_model_simple (train.h), with hooks where its Python
 * prints, from wherever a TrainState says the run is, and its
 * calc_loss_batch: a training step's own code is this file.
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

Tensor *train_calc_loss_batch(const Tensor *x, const Tensor *y, Module *model)
{
    Tensor *logits = nn_forward(model, x);                                /* (B, T, V) */
    if (!logits) return NULL;
    if (logits->ndim != 3)
        return tensor_set_error("calc_loss_batch: logits %s: (B, T, vocab) expected",
                                tensor_shape_str(logits));
    int64_t rows = logits->shape[0] * logits->shape[1];                  /* flatten(0, 1) */
    return tensor_cross_entropy(tensor_reshape(logits, SHAPE(rows, logits->shape[2])),
                                tensor_flatten(y));
}

Tensor *train__loss_batch(TrainLossFn loss, void *ctx, const Tensor *x, const Tensor *y,
                          Module *model)
{
    return loss ? loss(x, y, model, ctx) : train_calc_loss_batch(x, y, model);
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
    return 0;
}

/* One optimizer step on a batch: zero_grad, loss, backward, after_backward,
 * step.  0 with *loss, 1 or -1 from the hook, -1 with a message. */
static int step(Module *model, Optimizer *opt, const TrainOptions *o, const TrainState *s,
                const Tensor *x, const Tensor *y, float *loss_value)
{
    optim_zero_grad(opt);
    Tensor *loss = train__loss_batch(o->loss, o->ctx, x, y, model);
    if (!loss || tensor_backward(loss, NULL) != 0) return -1;
    int hook = o->after_backward ? o->after_backward(s, o->ctx) : 0;
    if (hook) return hook;
    if (optim_step(opt) != 0) return -1;
    *loss_value = tensor_item(loss);
    if (!isfinite(*loss_value))
        return tensor_set_error("the loss is %g: training diverged (try a smaller lr)",
                                (double)*loss_value), -1;
    return 0;
}

/* One epoch's steps, from where s->train_it is: 0 at the pass's end, 1 when
 * a hook stopped the run, -1 with a message. */
static int epoch_steps(Module *model, DataLoader *train, DataLoader *val, Optimizer *opt,
                       const TrainOptions *o, TrainState *s)
{
    for (;;) {
        double t0 = plot_clock();
        TensorScope *scope = tensor_scope_begin();
        Tensor *x, *y;
        TrainStep info = {.loss = NAN, .eval_seconds = -1};
        int got = data_iter_next(s->train_it, &x, &y), rc = 0;
        if (got == 1) {
            info.tokens = x->numel;
            info.examples = x->ndim ? x->shape[0] : 1;
            rc = step(model, opt, o, s, x, y, &info.loss);
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
    if (check_options(model, train, val, opt, o, s)) return -1;
    while (s->epochs_done < o->num_epochs) {
        nn_train(model, true);                                /* model.train() */
        /* A new pass, unless a resumed run's pass is this epoch's. */
        if (!s->train_it || s->epoch != s->epochs_done + 1) {
            data_iter_free(s->train_it);
            s->epoch = s->epochs_done + 1;
            if (!(s->train_it = data_loader_iter(train)))
                return train__fail("epoch %lld", (long long)s->epoch);
        }
        int rc = epoch_steps(model, train, val, opt, o, s);
        if (rc == 0) rc = sample(model, o, s);
        if (rc) return rc;
        s->epochs_done = s->epoch;
        if (o->on_epoch && (rc = o->on_epoch(s, o->ctx)) != 0) return rc;
    }
    return 0;
}
