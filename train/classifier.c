/*
 * The book's chapter 6 (train.h, "Chapter 6"): SpamDataset, the last
 * token's loss and accuracy, the training loop with accuracies after each
 * epoch, classify_review and the freezing; the data file and its split are
 * sms.c.  tests/reference/book_ch06.py is the same code in Python.
 */
#include "train_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- SpamDataset ------------------------------------------------------------------ */

typedef struct {
    Dataset base;
    int64_t max_length;
    int64_t *ids;                /* (len, max_length), padded */
    int *labels;
} SpamDataset;

static int spam_get(Dataset *d, int64_t i, DataItem *item)
{
    SpamDataset *s = (SpamDataset *)d;
    item->n = 2;
    item->field[0] = tensor_from_ids(s->ids + i * s->max_length, SHAPE(s->max_length));
    item->field[1] = tensor_scalar((float)s->labels[i]);
    return item->field[0] && item->field[1] ? 0 : -1;
}

static void spam_destroy(Dataset *d)
{
    SpamDataset *s = (SpamDataset *)d;
    free(s->ids);
    free(s->labels);
}

/* Each row's plain encoding (ids[k], n[k]): 0, or -1 with a message naming
 * the row. */
static int encode_rows(const TrainSms *df, const TextTokenizer *tok, int64_t **ids, size_t *n)
{
    for (int64_t k = 0; k < df->n; k++) {
        const TrainSmsRow *r = &df->rows[k];
        /* tiktoken's encode refuses the special token in plain text */
        if (strstr(r->text, "<|endoftext|>"))
            return tensor_set_error("SpamDataset: row %lld (line %lld): disallowed special "
                                    "token <|endoftext|>", (long long)r->index,
                                    (long long)r->line), -1;
        if (text_encode(tok, r->text, r->len, false, &ids[k], &n[k]))
            return train__fail("SpamDataset: row %lld (line %lld)", (long long)r->index,
                               (long long)r->line);
    }
    return 0;
}

Dataset *train_spam_dataset(const TrainSms *df, const TextTokenizer *tok, int64_t max_length,
                            int64_t pad_token_id)
{
    if (!df || !tok) return tensor_set_error("SpamDataset: the frame or tokenizer is NULL");
    if (df->n == 0) return tensor_set_error("SpamDataset: the frame has no rows");
    if (pad_token_id < 0 || pad_token_id >= text_vocab_size(tok))
        return tensor_set_error("SpamDataset: pad_token_id %lld is outside the tokenizer's "
                                "vocabulary (0 to %lld)", (long long)pad_token_id,
                                (long long)text_vocab_size(tok) - 1);
    int64_t **ids = calloc((size_t)df->n, sizeof *ids);
    size_t *n = calloc((size_t)df->n, sizeof *n);
    SpamDataset *s = NULL;
    if (!ids || !n) {
        tensor_set_error("SpamDataset: out of memory");
        goto done;
    }
    if (encode_rows(df, tok, ids, n)) goto done;
    int64_t longest = 0;
    for (int64_t k = 0; k < df->n; k++)
        if ((int64_t)n[k] > longest) longest = (int64_t)n[k];
    int64_t T = max_length > 0 ? max_length : longest;     /* None: the longest encoding */
    if (T < 1) {
        tensor_set_error("SpamDataset: every text encodes to no tokens");
        goto done;
    }
    s = data_dataset_new(sizeof *s, "SpamDataset", df->n, spam_get);
    if (!s) goto done;
    s->base.destroy = spam_destroy;
    s->max_length = T;
    s->ids = malloc((size_t)(df->n * T) * sizeof *s->ids);
    s->labels = malloc((size_t)df->n * sizeof *s->labels);
    if (!s->ids || !s->labels) {
        data_dataset_free(DATA(s));
        s = tensor_set_error("SpamDataset: out of memory");
        goto done;
    }
    for (int64_t k = 0; k < df->n; k++) {
        int64_t *row = s->ids + k * T, keep = (int64_t)n[k] < T ? (int64_t)n[k] : T;
        memcpy(row, ids[k], (size_t)keep * sizeof *row);          /* cut to max_length */
        for (int64_t j = keep; j < T; j++) row[j] = pad_token_id; /* right-padded */
        s->labels[k] = df->rows[k].label;
    }
done:
    for (int64_t k = 0; ids && k < df->n; k++) free(ids[k]);
    free(ids);
    free(n);
    return s ? DATA(s) : NULL;
}

int64_t train_spam_dataset_max_length(const Dataset *d)
{
    if (!d || !d->type || strcmp(d->type, "SpamDataset") != 0)
        return tensor_set_error("train_spam_dataset_max_length: not a SpamDataset"), -1;
    return ((const SpamDataset *)d)->max_length;
}

/* ---- The last token's loss and accuracy ------------------------------------------- */

/* model(x)[:, -1, :]: (B, classes) */
static Tensor *last_logits(const Tensor *x, Module *model)
{
    Tensor *logits = nn_forward(model, x);                             /* (B, T, classes) */
    if (!logits) return NULL;
    if (logits->ndim != 3)
        return tensor_set_error("classifier: logits %s: (B, T, classes) expected",
                                tensor_shape_str(logits));
    return tensor_squeeze(tensor_narrow(logits, 1, logits->shape[1] - 1, 1), 1);
}

Tensor *train_calc_loss_batch_classifier(const Tensor *x, const Tensor *y, Module *model)
{
    return tensor_cross_entropy(last_logits(x, model), y);
}

static Tensor *classifier_loss(const Tensor *x, const Tensor *y, Module *model, void *ctx)
{
    (void)ctx;
    return train_calc_loss_batch_classifier(x, y, model);
}

int train_calc_accuracy_loader(DataLoader *loader, Module *model, int64_t num_batches,
                               double *accuracy)
{
    if (!loader || !model || !accuracy)
        return tensor_set_error("calc_accuracy_loader: loader, model and accuracy must not be "
                                "NULL"), -1;
    *accuracy = NAN;
    nn_train(model, false);                                   /* model.eval(), left on */
    int64_t len = data_loader_len(loader);
    if (num_batches <= 0 || num_batches > len) num_batches = len;
    DataIter *it = data_loader_iter(loader);                  /* enumerate(data_loader) */
    if (!it) return -1;
    int64_t correct = 0, seen = 0;
    int rc = 0;
    tensor_no_grad_begin();
    for (int64_t i = 0; i < num_batches && rc == 0; i++) {
        TensorScope *scope = tensor_scope_begin();
        Tensor *x, *y;
        int got = data_iter_next(it, &x, &y);
        Tensor *hit = got == 1 ? tensor_eq(tensor_argmax(last_logits(x, model), -1, false), y)
                               : NULL;
        Tensor *sum = tensor_sum(hit);
        if (sum) {
            correct += (int64_t)tensor_item(sum);
            seen += hit->numel;
        } else {
            rc = -1;
        }
        tensor_scope_end(scope);
    }
    tensor_no_grad_end();
    data_iter_free(it);
    if (rc) return train__fail("calc_accuracy_loader");
    if (seen) *accuracy = (double)correct / (double)seen;
    return 0;
}

/* ---- train_classifier_simple -------------------------------------------------------- */

/* The caller's options and hooks behind the loop's: every hook gets the
 * caller's ctx back; on_epoch first measures the accuracies. */
typedef struct {
    const TrainOptions *user;
    TrainAccuracyFn on_accuracy;
    Module *model;
    DataLoader *train, *val;
} Classifier;

static Tensor *wrap_loss(const Tensor *x, const Tensor *y, Module *model, void *ctx)
{
    const Classifier *c = ctx;
    return c->user->loss ? c->user->loss(x, y, model, c->user->ctx)
                         : train_calc_loss_batch_classifier(x, y, model);
}

static int wrap_after_backward(const TrainState *s, void *ctx)
{
    const Classifier *c = ctx;
    return c->user->after_backward(s, c->user->ctx);
}

static int wrap_eval(const TrainState *s, double train_loss, double val_loss, void *ctx)
{
    const Classifier *c = ctx;
    return c->user->on_eval(s, train_loss, val_loss, c->user->ctx);
}

static int wrap_step(const TrainState *s, const TrainStep *step, void *ctx)
{
    const Classifier *c = ctx;
    return c->user->on_step(s, step, c->user->ctx);
}

static int wrap_checkpoint(const TrainState *s, void *ctx)
{
    const Classifier *c = ctx;
    return c->user->on_checkpoint(s, c->user->ctx);
}

/* After each epoch: calc_accuracy_loader on eval_iter batches of train and
 * validation (the model left in eval mode), on_accuracy, then on_epoch. */
static int wrap_epoch(const TrainState *s, void *ctx)
{
    const Classifier *c = ctx;
    double train_acc, val_acc;
    if (train_calc_accuracy_loader(c->train, c->model, c->user->eval_iter, &train_acc) ||
        train_calc_accuracy_loader(c->val, c->model, c->user->eval_iter, &val_acc))
        return train__fail("accuracy after epoch %lld", (long long)s->epoch);
    int rc = c->on_accuracy ? c->on_accuracy(s, train_acc, val_acc, c->user->ctx) : 0;
    if (rc == 0 && c->user->on_epoch) rc = c->user->on_epoch(s, c->user->ctx);
    return rc;
}

int train_classifier_simple(Module *model, DataLoader *train, DataLoader *val, Optimizer *opt,
                            const TrainOptions *o, TrainAccuracyFn on_accuracy, TrainState *s)
{
    if (!o) return tensor_set_error("train_classifier_simple: options must not be NULL"), -1;
    if (!val) return tensor_set_error("train_classifier_simple: a validation loader is needed "
                                      "for the accuracies"), -1;
    Classifier c = {.user = o, .on_accuracy = on_accuracy, .model = model, .train = train,
                    .val = val};
    TrainOptions t = *o;
    t.tokenizer = NULL;                                       /* no text sample */
    t.start_context = NULL;
    t.on_sample = NULL;
    t.loss = o->loss ? wrap_loss : classifier_loss;
    t.after_backward = o->after_backward ? wrap_after_backward : NULL;
    t.on_eval = o->on_eval ? wrap_eval : NULL;
    t.on_step = o->on_step ? wrap_step : NULL;
    t.on_checkpoint = o->on_checkpoint ? wrap_checkpoint : NULL;
    t.on_epoch = wrap_epoch;
    t.ctx = &c;
    return train_model_simple(model, train, val, opt, &t, s);
}

/* ---- classify_review ------------------------------------------------------------- */

int64_t train_classify_review(const char *text, Module *model, const TextTokenizer *tok,
                              int64_t max_length, int64_t pad_token_id)
{
    if (!text || !model || !tok)
        return tensor_set_error("classify_review: text, model and tokenizer must not be NULL"),
               -1;
    if (!*text) return tensor_set_error("classify_review: the text is empty"), -1;
    Tensor *pos = nn_get_parameter(model, "pos_emb.weight");
    if (!pos) return -1;
    int64_t context = pos->shape[0];                  /* model.pos_emb.weight.shape[0] */
    if (max_length < 1 || max_length > context)
        return tensor_set_error("classify_review: max_length %lld must be 1 to the model's "
                                "context length %lld", (long long)max_length,
                                (long long)context), -1;
    int64_t *ids = NULL, *row = malloc((size_t)max_length * sizeof *row);
    size_t n = 0;
    if (!row) return tensor_set_error("classify_review: out of memory"), -1;
    if (text_encode(tok, text, strlen(text), false, &ids, &n)) {
        free(row);
        return train__fail("classify_review");
    }
    int64_t keep = (int64_t)n < max_length ? (int64_t)n : max_length;
    memcpy(row, ids, (size_t)keep * sizeof *row);
    for (int64_t j = keep; j < max_length; j++) row[j] = pad_token_id;
    free(ids);
    nn_train(model, false);                                           /* model.eval() */
    tensor_no_grad_begin();
    TensorScope *scope = tensor_scope_begin();
    Tensor *x = tensor_from_ids(row, SHAPE(1, max_length));           /* unsqueeze(0) */
    Tensor *label = tensor_argmax(last_logits(x, model), -1, false);
    int64_t predicted = label ? (int64_t)tensor_item(label) : -1;
    tensor_scope_end(scope);
    tensor_no_grad_end();
    free(row);
    return predicted;
}

/* ---- Which parameters train ------------------------------------------------------ */

static Module *child(Module *m, const char *name)
{
    for (int i = 0; m && i < m->n_children; i++)
        if (strcmp(m->children[i].name, name) == 0) return m->children[i].module;
    return tensor_set_error("set_trainable: the %s has no %s", m ? m->type : "model", name);
}

int train_classifier_set_trainable(Module *gpt, TrainTrainable which)
{
    if (!gpt) return tensor_set_error("set_trainable: the model is NULL"), -1;
    Module *head, *blocks, *norm;
    if (!(head = child(gpt, "out_head")) || !(blocks = child(gpt, "trf_blocks")) ||
        !(norm = child(gpt, "final_norm")))
        return -1;
    if (!nn_requires_grad_(gpt, which == TRAIN_TRAINABLE_ALL)) return -1;
    if (!nn_requires_grad_(head, true)) return -1;
    if (which == TRAIN_TRAINABLE_LAST_BLOCK &&
        (!nn_requires_grad_(nn_item(blocks, -1), true) || !nn_requires_grad_(norm, true)))
        return -1;
    return 0;
}
