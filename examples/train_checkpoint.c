/* train_gpt's checkpoints (see train_checkpoint.h). */
#include "train_checkpoint.h"

#include <stdio.h>
#include <string.h>

enum { RUN_META = 6 };
typedef struct {
    int64_t step, loader_epoch, loader_batch, sampler_seed;
    CheckpointExtra extra[6];
    CliGPTMeta gpt;
    char values[RUN_META][32];
    TensorMeta meta[CLI_GPT_META_COUNT + RUN_META];
    Checkpoint c;
} RunCheckpoint;

uint64_t train_text_hash(const char *p, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

/* What a save writes from r and a load fills into it (k must not move). */
static void run_checkpoint(Run *r, const Options *o, uint64_t text_hash, RunCheckpoint *k)
{
    DataIterPosition p = data_iter_position(r->train_it);
    k->step = r->global_step + 1;
    k->loader_epoch = r->train_epoch;
    k->loader_batch = p.batch;
    k->sampler_seed = p.sampler_seed;          /* RandomSampler's seeds are below 2^63 */
    const CheckpointExtra extra[6] = {
        {"tokens_seen", &r->tokens_seen, 0, CHECKPOINT_MAX_COUNT},
        {"evals", &r->evals, 0, CHECKPOINT_MAX_COUNT},
        {"epochs_done", &r->epochs_done, 0, 1L << 20},
        {"loader.epoch", &k->loader_epoch, 0, (1L << 20) + 1},
        {"loader.batch", &k->loader_batch, 0, CHECKPOINT_MAX_COUNT},
        {"loader.sampler_seed", &k->sampler_seed, 0, INT64_MAX},
    };
    memcpy(k->extra, extra, sizeof extra);
    cli_gpt_config_to_meta(o->gpt.cfg, o->tokenizer, &k->gpt);
    memcpy(k->meta, k->gpt.meta, sizeof k->gpt.meta);
    static const char *const keys[RUN_META] = {"lr", "weight_decay", "batch", "eval_freq",
                                               "eval_iter", "text_fnv1a64"};
    snprintf(k->values[0], sizeof k->values[0], "%.17g", o->lr);
    snprintf(k->values[1], sizeof k->values[1], "%.17g", o->weight_decay);
    snprintf(k->values[2], sizeof k->values[2], "%ld", o->batch);
    snprintf(k->values[3], sizeof k->values[3], "%ld", o->eval_freq);
    snprintf(k->values[4], sizeof k->values[4], "%ld", o->eval_iter);
    snprintf(k->values[5], sizeof k->values[5], "%016llx", (unsigned long long)text_hash);
    for (int i = 0; i < RUN_META; i++)
        k->meta[CLI_GPT_META_COUNT + i] = (TensorMeta){keys[i], k->values[i]};
    k->c = (Checkpoint){.module = r->model, .optimizer = r->optimizer, .step = &k->step,
                        .n_extra = 6, .extra = k->extra,
                        .n_meta = CLI_GPT_META_COUNT + RUN_META, .meta = k->meta};
}

int train_checkpoint_save(Run *r, const Options *o)
{
    RunCheckpoint k;
    run_checkpoint(r, o, r->text_hash, &k);
    if (checkpoint_save(&k.c, o->save)) {
        fprintf(stderr, PROG ": --save: %s\n", tensor_error());
        return -1;
    }
    return 0;
}

/* A run's counters, read from one file, must tell one story: train_gpt
 * takes one optimizer step per batch of batch x context_length tokens, the
 * loader hands out data_loader_len batches an epoch, and evaluations fall
 * at steps 0, eval_freq, 2 eval_freq ...  A file whose counters disagree
 * (step 0 while the optimizer and the loader are at 3) would resume with
 * shifted steps.  0, or -1 with the first disagreement in why. */
static int counters_agree(const Run *r, const Options *o, const RunCheckpoint *k, char *why,
                          size_t n)
{
    int64_t step = k->step, len = data_loader_len(r->train);
    int64_t loader = k->loader_epoch > 0 ? (k->loader_epoch - 1) * len + k->loader_batch
                                         : k->loader_batch;
    int64_t tokens = o->batch * o->gpt.cfg.context_length;
    int64_t evals = step > 0 ? (step - 1) / o->eval_freq + 1 : 0;
    if (r->optimizer->steps != step)
        snprintf(why, n, "the optimizer has taken %lld steps", (long long)r->optimizer->steps);
    else if (loader != step)
        snprintf(why, n, "the loader's place (epoch %lld, batch %lld of %lld) is %lld steps in",
                 (long long)k->loader_epoch, (long long)k->loader_batch, (long long)len,
                 (long long)loader);
    else if (r->tokens_seen % tokens != 0 || r->tokens_seen / tokens != step)
        snprintf(why, n, "tokens_seen %lld is not %lld steps of %ld x %lld tokens",
                 (long long)r->tokens_seen, (long long)step, o->batch,
                 (long long)o->gpt.cfg.context_length);
    else if (r->evals != evals)
        snprintf(why, n, "evals %lld, where --eval-freq %ld evaluates %lld times in %lld steps",
                 (long long)r->evals, o->eval_freq, (long long)evals, (long long)step);
    else
        return 0;
    return -1;
}

int train_checkpoint_resume(Run *r, const Options *o)
{
    RunCheckpoint k;
    run_checkpoint(r, o, r->text_hash, &k);
    TensorFile *f = tensor_file_open(o->resume);
    if (!f) {
        fprintf(stderr, PROG ": --resume: %s\n", tensor_error());
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < k.c.n_meta && !rc; i++)
        rc = tensor_file_expect_meta(f, k.meta[i].key, k.meta[i].value) ? 2 : 0;
    tensor_file_close(f);
    if (!rc && checkpoint_load(&k.c, o->resume)) rc = 1;
    if (rc) {
        fprintf(stderr, PROG ": --resume: %s\n", tensor_error());
        return rc;
    }
    r->global_step = k.step - 1;
    r->first_eval = r->evals;
    /* The training pass the file was in, placed where it was: it goes on
     * when that epoch was not over, and only checks the place when it was. */
    int64_t epoch = k.loader_epoch;
    DataIterPosition p = {k.loader_batch, k.sampler_seed};
    if ((epoch != r->epochs_done && epoch != r->epochs_done + 1) || (epoch == 0 && p.batch) ||
        !(r->train_it = data_loader_iter_at(r->train, p))) {
        fprintf(stderr, PROG ": --resume: %s: the loader's place (epoch %lld, batch %lld) does "
                "not fit %lld epochs done and %lld batches an epoch\n", o->resume,
                (long long)epoch, (long long)p.batch, (long long)r->epochs_done,
                (long long)data_loader_len(r->train));
        return 1;
    }
    char why[256];
    if (counters_agree(r, o, &k, why, sizeof why)) {
        fprintf(stderr, PROG ": --resume: %s: its counters disagree: step %lld, but %s\n",
                o->resume, (long long)k.step, why);
        return 1;
    }
    r->train_epoch = epoch;
    r->mid_epoch = epoch == r->epochs_done + 1;
    if (r->epochs_done >= o->epochs || (o->stop_after && k.step >= o->stop_after)) {
        char stop[64] = "";
        if (o->stop_after) snprintf(stop, sizeof stop, " --stop-after-steps %ld", o->stop_after);
        fprintf(stderr, PROG ": --resume: %s is at step %lld, epoch %lld: --epochs %ld%s leaves "
                "nothing to train\n", o->resume, (long long)k.step,
                (long long)r->epochs_done + r->mid_epoch, o->epochs, stop);
        return 2;
    }
    return 0;
}
