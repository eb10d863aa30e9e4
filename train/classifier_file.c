/*
 * A fine-tuned classifier on disk (train.h, "Chapter 6"): the model's
 * state_dict (checkpoint/checkpoint.h) with the GPT's config and tokenizer
 * (nn_gpt_config_to_meta) and what rebuilds the classifier around it: the
 * head's classes, the texts' length, LoRA's rank and alpha.  The book saves
 * review_classifier.pth (a state_dict); this file also says how to build
 * the model that state_dict belongs to.
 */
#include "train_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint/checkpoint.h"

enum { KEYS = 5, META = NN_GPT_META_COUNT + KEYS };
static const char *const keys[KEYS] = {"task", "num_classes", "max_length", "lora_rank",
                                       "lora_alpha"};

int train_classifier_save(const Module *model, const TrainClassifierInfo *info, const char *path)
{
    if (!model || !info || !path)
        return tensor_set_error("train_classifier_save: model, info and path must not be NULL"),
               -1;
    NNGPTMeta g;
    nn_gpt_config_to_meta(info->cfg, info->tokenizer, &g);
    TensorMeta meta[META];
    memcpy(meta, g.meta, sizeof g.meta);
    char v[KEYS][32];
    snprintf(v[0], 32, "classifier");
    snprintf(v[1], 32, "%lld", (long long)info->num_classes);
    snprintf(v[2], 32, "%lld", (long long)info->max_length);
    snprintf(v[3], 32, "%lld", (long long)info->lora_rank);
    snprintf(v[4], 32, "%.17g", info->lora_rank ? info->lora_alpha : 0.0);
    for (int k = 0; k < KEYS; k++) meta[NN_GPT_META_COUNT + k] = (TensorMeta){keys[k], v[k]};
    Checkpoint c = {.module = (Module *)model, .n_meta = META, .meta = meta};
    return checkpoint_save(&c, path);
}

bool train__meta_number(const char *s, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || !*s || *end || errno || !(v >= min && v <= max)) return false;
    *out = v;
    return true;
}

TensorFile *train__open_gpt_file(const char *path, TrainClassifierInfo *info, const char **task)
{
    TensorFile *f = tensor_file_open(path);
    if (!f || nn_gpt_config_from_meta(f, path, &info->cfg, &info->tokenizer) != 0) {
        tensor_file_close(f);
        return NULL;
    }
    *task = tensor_file_meta(f, "task");
    return f;
}

/* name in f as a 2-d tensor (d0, d1). */
static bool has_shape(const TensorFile *f, const char *path, const char *name, int64_t d0,
                      int64_t d1)
{
    const TensorEntry *e = tensor_file_find(f, name);
    if (e && e->ndim == 2 && e->shape[0] == d0 && e->shape[1] == d1) return true;
    tensor_set_error("%s: %s: not a (%lld,%lld) tensor in the file", path, name, (long long)d0,
                     (long long)d1);
    return false;
}

/* The embeddings, the last block and the head have the sizes the metadata
 * gives, so that a model of those sizes is not built for a file that does
 * not hold it (the load then checks every tensor). */
static bool shapes_ok(const TensorFile *f, const char *path, const TrainClassifierInfo *i)
{
    const NNGPTConfig *c = &i->cfg;
    const char *weight = i->lora_rank ? "linear.weight" : "weight";   /* LinearWithLoRA's */
    char last[96], head[32];
    snprintf(last, sizeof last, "trf_blocks.%lld.ff.layers.0.%s", (long long)c->n_layers - 1,
             weight);
    snprintf(head, sizeof head, "out_head.%s", weight);
    return has_shape(f, path, "tok_emb.weight", c->vocab_size, c->emb_dim) &&
           has_shape(f, path, "pos_emb.weight", c->context_length, c->emb_dim) &&
           has_shape(f, path, last, 4 * c->emb_dim, c->emb_dim) &&
           has_shape(f, path, head, i->num_classes, c->emb_dim);
}

int train_classifier_info(const char *path, TrainClassifierInfo *info)
{
    if (!path || !info)
        return tensor_set_error("train_classifier_info: path and info must not be NULL"), -1;
    TrainClassifierInfo i = {0};
    const char *task;
    TensorFile *f = train__open_gpt_file(path, &i, &task);
    if (!f) return -1;
    if (!task || strcmp(task, "classifier") != 0) {
        tensor_file_close(f);
        *info = i;                                          /* the config and tokenizer */
        return 0;
    }
    /* num_classes, max_length, lora_rank, lora_alpha */
    double n[4];
    const double min[4] = {1, 1, 0, 0};
    const double max[4] = {1 << 24, (double)i.cfg.context_length, (double)i.cfg.emb_dim, 1e6};
    int rc = 1;
    for (int k = 0; k < 4 && rc == 1; k++)
        if (!train__meta_number(tensor_file_meta(f, keys[k + 1]), min[k], max[k], &n[k]))
            rc = (tensor_set_error("%s: metadata %s is missing or not a number in [%g, %g]", path,
                                   keys[k + 1], min[k], max[k]), -1);
    if (rc == 1) {
        i.num_classes = (int64_t)n[0];
        i.max_length = (int64_t)n[1];
        i.lora_rank = (int64_t)n[2];
        i.lora_alpha = n[3];
        if (i.num_classes != n[0] || i.max_length != n[1] || i.lora_rank != n[2])
            rc = (tensor_set_error("%s: metadata num_classes, max_length and lora_rank must be "
                                   "whole numbers", path), -1);
        else if (!shapes_ok(f, path, &i))
            rc = -1;
    }
    tensor_file_close(f);
    if (rc == 1) *info = i;
    return rc;
}

Module *train_classifier_load(const char *path, const TrainClassifierInfo *info)
{
    if (!path || !info)
        return tensor_set_error("train_classifier_load: path and info must not be NULL");
    Module *m = nn_gpt_model(info->cfg);
    bool ok = m && nn_gpt_replace_head(m, info->num_classes, NULL) &&
              (!info->lora_rank ||
               (nn_requires_grad_(m, false) &&
                nn_replace_linear_with_lora(m, info->lora_rank, info->lora_alpha) >= 0)) &&
              checkpoint_load_module(m, path, 0, NULL) == 0;
    if (!ok) {
        nn_module_free(m);
        return NULL;
    }
    nn_train(m, false);                                               /* model.eval() */
    return m;
}
