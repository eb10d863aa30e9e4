/*
 * A run's checkpoint (train.h): checkpoint/checkpoint.h's file with the
 * loop's counters and the training loader's place, loaded all or nothing.
 */
#include "train_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint/checkpoint.h"

enum { N_EXTRA = 6 };

/* The counters as a checkpoint saves and loads them: the state's, and the
 * loader's place in locals of k. */
typedef struct {
    int64_t step, tokens_seen, evals, epochs_done, loader_epoch, loader_batch, sampler_seed;
    CheckpointExtra extra[N_EXTRA];
    Checkpoint c;
} RunFile;

/* k's entries; for a save, filled from the state (k must not move). */
static void run_file(const TrainCheckpoint *t, RunFile *k)
{
    const TrainState *s = t->state;
    DataIterPosition p = data_iter_position(s->train_it);
    k->step = s->global_step + 1;
    k->tokens_seen = s->tokens_seen;
    k->evals = s->evals;
    k->epochs_done = s->epochs_done;
    k->loader_epoch = s->epoch;
    k->loader_batch = p.batch;
    k->sampler_seed = p.sampler_seed;        /* RandomSampler's seeds are below 2^63 */
    const CheckpointExtra extra[N_EXTRA] = {
        {"tokens_seen", &k->tokens_seen, 0, CHECKPOINT_MAX_COUNT},
        {"evals", &k->evals, 0, CHECKPOINT_MAX_COUNT},
        {"epochs_done", &k->epochs_done, 0, 1L << 20},
        {"loader.epoch", &k->loader_epoch, 0, (1L << 20) + 1},
        {"loader.batch", &k->loader_batch, 0, CHECKPOINT_MAX_COUNT},
        {"loader.sampler_seed", &k->sampler_seed, 0, INT64_MAX},
    };
    memcpy(k->extra, extra, sizeof extra);
    k->c = (Checkpoint){.module = t->model, .optimizer = t->optimizer, .step = &k->step,
                        .n_extra = N_EXTRA, .extra = k->extra, .n_meta = t->n_meta,
                        .meta = t->meta};
}

static int check(const TrainCheckpoint *c, const char *path, const char *op)
{
    if (!c || !c->model || !c->state || !path || (c->n_meta && !c->meta) || c->n_meta < 0)
        return tensor_set_error("%s %s: model, state and path must be given (and meta for "
                                "n_meta %d)", op, path ? path : "(null)", c ? c->n_meta : 0),
               -1;
    return 0;
}

int train_checkpoint_save(const TrainCheckpoint *c, const char *path)
{
    if (check(c, path, "save")) return -1;
    RunFile k;
    run_file(c, &k);
    return checkpoint_save(&k.c, path);
}

/* An I64 scalar of the file, read before the checkpoint is loaded. */
static int peek(const TensorFile *f, const char *name, int64_t *v)
{
    TensorEntry e = {.name = name, .dtype = TENSOR_I64, .ndim = 0, .data = v};
    return tensor_file_read_one(f, &e, "run");
}

/* The file's training pass, placed on the loader: it goes on when its epoch
 * was not over, and only has its place checked when it was.  Its counters
 * must then tell one story, train_model_simple's: one optimizer step per
 * batch, data_loader_len batches an epoch (a file whose step is 0 while
 * its optimizer and loader are at 3 would resume with shifted steps).
 * NULL with a message naming what does not fit. */
static DataIter *place(const TrainCheckpoint *c, const TensorFile *f, const char *path)
{
    int64_t step, epochs_done, epoch, batch, seed, steps = 0;
    if (peek(f, "step", &step) || peek(f, "epochs_done", &epochs_done) ||
        peek(f, "loader.epoch", &epoch) || peek(f, "loader.batch", &batch) ||
        peek(f, "loader.sampler_seed", &seed) ||
        (c->optimizer && peek(f, "optimizer.steps", &steps)))
        return NULL;
    int64_t len = data_loader_len(c->train);
    DataIter *it = NULL;
    if ((epoch != epochs_done && epoch != epochs_done + 1) || (epoch == 0 && batch != 0) ||
        !(it = data_loader_iter_at(c->train, (DataIterPosition){batch, seed})))
        return tensor_set_error("%s: the loader's place (epoch %lld, batch %lld) does not fit "
                                "%lld epochs done and %lld batches an epoch", path,
                                (long long)epoch, (long long)batch, (long long)epochs_done,
                                (long long)len);
    int64_t loader = epoch > 0 ? (epoch - 1) * len + batch : batch;
    if (c->optimizer && steps != step)
        tensor_set_error("%s: its counters disagree: step %lld, but the optimizer has taken "
                         "%lld steps", path, (long long)step, (long long)steps);
    else if (loader != step)
        tensor_set_error("%s: its counters disagree: step %lld, but the loader's place (epoch "
                         "%lld, batch %lld of %lld) is %lld steps in", path, (long long)step,
                         (long long)epoch, (long long)batch, (long long)len, (long long)loader);
    else
        return it;
    data_iter_free(it);
    return NULL;
}

int train_checkpoint_load(const TrainCheckpoint *c, const char *path)
{
    if (check(c, path, "load")) return -1;
    if (!c->train) return tensor_set_error("load %s: the training loader is NULL", path), -1;
    TensorFile *f = tensor_file_open(path);
    if (!f) return -1;
    for (int i = 0; i < c->n_meta; i++)
        if (tensor_file_expect_meta(f, c->meta[i].key, c->meta[i].value)) {
            tensor_file_close(f);
            return TRAIN_CHECKPOINT_OTHER_RUN;
        }
    DataIter *it = place(c, f, path);
    tensor_file_close(f);
    RunFile k;
    run_file(c, &k);
    if (!it || checkpoint_load(&k.c, path)) {
        data_iter_free(it);
        return -1;
    }
    TrainState *s = c->state;
    data_iter_free(s->train_it);
    *s = (TrainState){.global_step = k.step - 1, .tokens_seen = k.tokens_seen,
                      .evals = k.evals, .epoch = k.loader_epoch,
                      .epochs_done = k.epochs_done, .train_it = it};
    return 0;
}

uint64_t train_text_hash(const char *p, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; p && i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}
