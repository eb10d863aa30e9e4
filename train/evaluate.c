/*
 * The book's chapter-5 functions around the loop (train.h): the text and
 * its split, the loss of a batch and of a loader, the evaluation, the
 * sample.  The loop (loop.c) calls them; they call nothing of it.  Each
 * reads as its Python does;
 * docs/listings_ch05.md sets them side by side.
 */
#include "train_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int train__fail(const char *fmt, ...)
{
    char cause[512], context[256];
    snprintf(cause, sizeof cause, "%s", tensor_error());
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(context, sizeof context, fmt, ap);
    va_end(ap);
    tensor_set_error("%s: %s", context, cause);
    return -1;
}

char *train_read_text(const char *path, size_t *len)
{
    if (len) *len = 0;
    if (!path || !len) return tensor_set_error("read_text: path or len is NULL");
    FILE *f = fopen(path, "rb");
    if (!f) return tensor_set_error("cannot open %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap + 1);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *grown = cap <= SIZE_MAX / 4 ? realloc(buf, 2 * cap + 1) : NULL;
            if (!grown) free(buf);
            buf = grown;
            cap *= 2;
        }
    }
    bool failed = ferror(f) || !buf;
    fclose(f);
    if (failed) {
        free(buf);
        return tensor_set_error("cannot read %s", path);
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* A UTF-8 sequence's first byte: what Python's len() counts. */
static bool starts_char(char c) { return ((unsigned char)c & 0xC0) != 0x80; }

size_t train_split_offset(const char *text, size_t len, double train_ratio)
{
    if (!text) return 0;
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) chars += starts_char(text[i]);
    size_t want = (size_t)(train_ratio * (double)chars), seen = 0;   /* int(0.90 * len) */
    for (size_t i = 0; i < len; i++)
        if (starts_char(text[i]) && seen++ == want) return i;
    return len;
}

/* calc_loss_loader with a loss of the caller's. */
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

static int loss_loader(DataLoader *loader, Module *model, int64_t num_batches, TrainLossFn loss,
                       void *ctx, double *out)
{
    *out = NAN;
    int64_t len = data_loader_len(loader);
    if (len < 0) return tensor_set_error("calc_loss_loader: the loader is NULL"), -1;
    if (len == 0) return 0;                                   /* float("nan") */
    if (num_batches <= 0 || num_batches > len) num_batches = len;
    DataIter *it = data_loader_iter(loader);                  /* enumerate(data_loader) */
    if (!it) return -1;
    double total = 0;
    int rc = 0;
    for (int64_t i = 0; i < num_batches && rc == 0; i++) {
        TensorScope *scope = tensor_scope_begin();
        Tensor *x, *y, *l = NULL;
        int got = data_iter_next(it, &x, &y);                 /* never 0: num_batches <= len */
        if (got == 1 && (l = train__loss_batch(loss, ctx, x, y, model))) total += tensor_item(l);
        else rc = -1;
        tensor_scope_end(scope);
    }
    data_iter_free(it);                                       /* the book's break */
    if (rc == 0) *out = total / (double)num_batches;
    return rc;
}

int train_calc_loss_loader(DataLoader *loader, Module *model, int64_t num_batches, double *loss)
{
    if (!loss) return tensor_set_error("calc_loss_loader: loss is NULL"), -1;
    return loss_loader(loader, model, num_batches, NULL, NULL, loss);
}

int train__evaluate(Module *model, DataLoader *train, DataLoader *val, int64_t eval_iter,
                    TrainLossFn loss, void *ctx, double *train_loss, double *val_loss)
{
    *val_loss = NAN;
    nn_train(model, false);                                   /* model.eval() */
    tensor_no_grad_begin();
    int rc = loss_loader(train, model, eval_iter, loss, ctx, train_loss);
    if (rc == 0 && val) rc = loss_loader(val, model, eval_iter, loss, ctx, val_loss);
    tensor_no_grad_end();
    nn_train(model, true);                                    /* model.train() */
    return rc;
}

int train_evaluate_model(Module *model, DataLoader *train, DataLoader *val, int64_t eval_iter,
                         double *train_loss, double *val_loss)
{
    if (!model || !train || !val || !train_loss || !val_loss)
        return tensor_set_error("evaluate_model: model, loaders and losses must not be NULL"),
               -1;
    return train__evaluate(model, train, val, eval_iter, NULL, NULL, train_loss, val_loss);
}

char *train_generate_sample(Module *model, const TextTokenizer *tok, const char *start_context,
                            int64_t max_new_tokens, size_t *len)
{
    if (len) *len = 0;
    if (!model || !tok || !start_context)
        return tensor_set_error("generate_sample: model, tokenizer or start_context is NULL");
    Tensor *pos_emb = nn_get_parameter(model, "pos_emb.weight");
    if (!pos_emb) return NULL;
    int64_t context_size = pos_emb->shape[0];                 /* model.pos_emb.weight.shape[0] */
    nn_train(model, false);
    TensorScope *scope = tensor_scope_begin();
    Tensor *encoded = text_to_token_ids(tok, start_context);
    Tensor *token_ids = encoded ? nn_generate_text_simple(model, encoded, max_new_tokens,
                                                          context_size)
                                : NULL;
    size_t n = 0;
    char *decoded = token_ids ? text_from_token_ids(tok, token_ids, &n) : NULL;
    tensor_scope_end(scope);
    nn_train(model, true);
    for (size_t i = 0; decoded && i < n; i++)
        if (decoded[i] == '\n') decoded[i] = ' ';             /* decoded_text.replace("\n", " ") */
    if (decoded && len) *len = n;
    return decoded;
}
