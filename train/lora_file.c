/*
 * Appendix E's LoRA weights alone on disk (train.h, "Appendix E"): what
 * fine-tuning with LoRA trained (every ...lora.A and ...lora.B), a
 * classifier's new head (GPT-2's file lacks it), and metadata that says
 * which model they fit: the GPT's config and tokenizer, the rank and alpha,
 * the classifier's classes and text length, and a hash of the pretrained
 * weights they were trained on.  A load checks all of it before a value
 * changes, so a LoRA file never lands silently on another model.
 */
#include "train_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { KEYS = 7, META = NN_GPT_META_COUNT + KEYS };
static const char *const keys[KEYS] = {"format", "task", "num_classes", "max_length",
                                       "lora_rank", "lora_alpha", "base_fnv1a64"};

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && strcmp(s + n - k, tail) == 0;
}

/* A tensor the file holds: a LoRA weight, or a classifier's head. */
static bool in_file(const char *name, bool head)
{
    return ends_with(name, ".lora.A") || ends_with(name, ".lora.B") ||
           (head && strncmp(name, "out_head.", 9) == 0);
}

/* FNV-1a, 64 bits, over the bytes of every parameter the file does not
 * hold, in named_parameters' order: the pretrained weights. */
static uint64_t base_hash(const NNList *l, bool head)
{
    uint64_t h = 14695981039346656037ull;
    for (int64_t i = 0; i < l->count; i++) {
        if (in_file(l->names[i], head)) continue;
        const unsigned char *p = (const unsigned char *)l->tensors[i]->data;
        size_t n = (size_t)l->tensors[i]->numel * sizeof(float);
        for (size_t k = 0; k < n; k++) h = (h ^ p[k]) * 1099511628211ull;
    }
    return h;
}

/* The file's entries of model (names valid while l lives): their count, or
 * -1 with a message when the model holds no LoRA layer. */
static int64_t file_entries(const NNList *l, bool head, TensorEntry *e, Tensor **t,
                            const char *path)
{
    int64_t n = 0, lora = 0;
    for (int64_t i = 0; i < l->count; i++) {
        if (!in_file(l->names[i], head)) continue;
        lora += ends_with(l->names[i], ".lora.A") || ends_with(l->names[i], ".lora.B");
        if (e) e[n] = tensor_entry(l->names[i], l->tensors[i]);
        if (t) t[n] = l->tensors[i];
        n++;
    }
    if (lora == 0)
        return tensor_set_error("%s: the model holds no LoRA layer", path), -1;
    return n;
}

int train_lora_save(const Module *model, const TrainClassifierInfo *info, const char *path)
{
    if (!model || !info || !path)
        return tensor_set_error("train_lora_save: model, info and path must not be NULL"), -1;
    NNList l = nn_named_parameters(model);
    bool head = info->num_classes > 0;
    TensorEntry *e = malloc((size_t)(l.count + 1) * sizeof *e);
    int64_t n = e ? file_entries(&l, head, e, NULL, path) : -1;
    int rc = -1;
    if (!e) tensor_set_error("%s: out of memory", path);
    if (n > 0) {
        NNGPTMeta g;
        nn_gpt_config_to_meta(info->cfg, info->tokenizer, &g);
        TensorMeta meta[META];
        memcpy(meta, g.meta, sizeof g.meta);
        char v[KEYS][32];
        snprintf(v[0], 32, "pt");
        snprintf(v[1], 32, "lora");
        snprintf(v[2], 32, "%lld", (long long)info->num_classes);
        snprintf(v[3], 32, "%lld", (long long)info->max_length);
        snprintf(v[4], 32, "%lld", (long long)info->lora_rank);
        snprintf(v[5], 32, "%.17g", info->lora_alpha);
        snprintf(v[6], 32, "%016" PRIx64, base_hash(&l, head));
        for (int k = 0; k < KEYS; k++) meta[NN_GPT_META_COUNT + k] = (TensorMeta){keys[k], v[k]};
        rc = tensor_save_entries(path, (int)n, e, META, meta);
    }
    free(e);
    nn_list_free(&l);
    return rc;
}

int train_lora_info(const char *path, TrainClassifierInfo *info)
{
    if (!path || !info)
        return tensor_set_error("train_lora_info: path and info must not be NULL"), -1;
    TrainClassifierInfo i = {0};
    const char *task;
    TensorFile *f = train__open_gpt_file(path, &i, &task);
    if (!f) return -1;
    int rc = 0;
    if (!task || strcmp(task, "lora") != 0)
        rc = (tensor_set_error("%s: not a LoRA file (metadata task is %s%s%s, not \"lora\")",
                               path, task ? "\"" : "", task ? task : "absent",
                               task ? "\"" : ""),
              -1);
    /* num_classes, max_length, lora_rank, lora_alpha */
    double n[4];
    const double min[4] = {0, 0, 1, -1e6};
    const double max[4] = {1 << 24, (double)i.cfg.context_length, (double)(1 << 24), 1e6};
    for (int k = 0; k < 4 && rc == 0; k++)
        if (!train__meta_number(tensor_file_meta(f, keys[k + 2]), min[k], max[k], &n[k]))
            rc = (tensor_set_error("%s: metadata %s is missing or not a number in [%g, %g]",
                                   path, keys[k + 2], min[k], max[k]),
                  -1);
    if (rc == 0) {
        i.num_classes = (int64_t)n[0];
        i.max_length = (int64_t)n[1];
        i.lora_rank = (int64_t)n[2];
        i.lora_alpha = n[3];
        if (i.num_classes != n[0] || i.max_length != n[1] || i.lora_rank != n[2])
            rc = (tensor_set_error("%s: metadata num_classes, max_length and lora_rank must be "
                                   "whole numbers", path),
                  -1);
    }
    tensor_file_close(f);
    if (rc == 0) *info = i;
    return rc;
}

/* The file's description against the model's: 0, or -1 naming the first
 * difference, "<path>: lora_rank 4 in the file, 8 in the model". */
static int agree(const char *path, const TrainClassifierInfo *file,
                 const TrainClassifierInfo *model)
{
    const struct {
        const char *key;
        int64_t file, model;
    } sizes[] = {
        {"vocab_size", file->cfg.vocab_size, model->cfg.vocab_size},
        {"context_length", file->cfg.context_length, model->cfg.context_length},
        {"emb_dim", file->cfg.emb_dim, model->cfg.emb_dim},
        {"n_heads", file->cfg.n_heads, model->cfg.n_heads},
        {"n_layers", file->cfg.n_layers, model->cfg.n_layers},
        {"qkv_bias", file->cfg.qkv_bias, model->cfg.qkv_bias},
        {"num_classes", file->num_classes, model->num_classes},
        {"lora_rank", file->lora_rank, model->lora_rank},
    };
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++)
        if (sizes[k].file != sizes[k].model)
            return tensor_set_error("%s: %s %lld in the file, %lld in the model", path,
                                    sizes[k].key, (long long)sizes[k].file,
                                    (long long)sizes[k].model),
                   -1;
    if (strcmp(file->tokenizer, model->tokenizer) != 0)
        return tensor_set_error("%s: tokenizer %s in the file, %s in the model", path,
                                file->tokenizer, model->tokenizer),
               -1;
    if (file->lora_alpha != model->lora_alpha)
        return tensor_set_error("%s: lora_alpha %.17g in the file, %.17g in the model", path,
                                file->lora_alpha, model->lora_alpha),
               -1;
    return 0;
}

/* The file's tensors into buffers of our own, checked finite, then into
 * the model's: 0, or -1 with a message, the model unchanged. */
static int read_into(const TensorFile *f, const char *path, int64_t n, TensorEntry *e,
                     Tensor **t)
{
    int rc = 0;
    for (int64_t i = 0; i < n; i++) e[i].data = NULL;
    for (int64_t i = 0; i < n && rc == 0; i++)
        if (!(e[i].data = malloc((size_t)t[i]->numel * sizeof(float))))
            rc = (tensor_set_error("%s: %s: out of memory", path, e[i].name), -1);
    if (rc == 0) rc = tensor_file_read(f, (int)n, e, "model");
    for (int64_t i = 0; i < n && rc == 0; i++) {
        const float *v = e[i].data;
        for (int64_t j = 0; j < t[i]->numel && rc == 0; j++)
            if (!isfinite(v[j]))
                rc = (tensor_set_error("%s: %s holds a NaN or an infinity", path, e[i].name), -1);
    }
    for (int64_t i = 0; i < n && rc == 0; i++) {
        memcpy(t[i]->data, e[i].data, (size_t)t[i]->numel * sizeof(float));
        tensor_bump_version(t[i]);
    }
    for (int64_t i = 0; i < n; i++) free(e[i].data);
    return rc;
}

int train_lora_check(const char *path, const TrainClassifierInfo *info)
{
    if (!path || !info)
        return tensor_set_error("train_lora_check: path and info must not be NULL"), -1;
    TrainClassifierInfo file;
    return train_lora_info(path, &file) || agree(path, &file, info) ? -1 : 0;
}

int train_lora_load(Module *model, const TrainClassifierInfo *info, const char *path)
{
    if (!model) return tensor_set_error("train_lora_load: the model is NULL"), -1;
    if (train_lora_check(path, info)) return -1;
    TensorFile *f = tensor_file_open(path);
    NNList l = nn_named_parameters(model);
    bool head = info->num_classes > 0;
    TensorEntry *e = malloc((size_t)(l.count + 1) * sizeof *e);
    Tensor **t = malloc((size_t)(l.count + 1) * sizeof *t);
    int64_t n = f && e && t ? file_entries(&l, head, e, t, path) : -1;
    int rc = -1;
    if (f && (!e || !t)) tensor_set_error("%s: out of memory", path);
    char want[32];
    snprintf(want, sizeof want, "%016" PRIx64, n > 0 ? base_hash(&l, head) : 0);
    const char *got = f ? tensor_file_meta(f, "base_fnv1a64") : NULL;
    if (n > 0 && (!got || strcmp(got, want) != 0))
        tensor_set_error("%s: trained on other pretrained weights (base_fnv1a64 %s in the "
                         "file, %s in the model)", path, got ? got : "absent", want);
    else if (n > 0)
        rc = read_into(f, path, n, e, t);
    free(e);
    free(t);
    nn_list_free(&l);
    tensor_file_close(f);
    return rc;
}
