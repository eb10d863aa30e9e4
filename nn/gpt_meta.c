/*
 * A GPT's configuration in a checkpoint's metadata (nn.h): the strings
 * train_gpt --save writes and gpt_generate --load reads back, beside the
 * GPT they describe.
 */
#include "nn_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const keys[NN_GPT_META_COUNT] = {
    "vocab_size", "context_length", "emb_dim", "n_heads", "n_layers", "drop_rate", "qkv_bias",
    "tokenizer"};
/* The ranges a program's flags accept, so that a file holds no
 * configuration a user could not type. */
static const long long size_max[5] = {1LL << 24, 1LL << 24, 1LL << 16, 1LL << 12, 1LL << 12};

static bool is_tokenizer(const char *name)
{
    return name && (strcmp(name, "gpt2") == 0 || strcmp(name, "bytes") == 0);
}

void nn_gpt_config_to_meta(NNGPTConfig cfg, const char *tokenizer, NNGPTMeta *m)
{
    const int64_t sizes[5] = {cfg.vocab_size, cfg.context_length, cfg.emb_dim, cfg.n_heads,
                              cfg.n_layers};
    for (int k = 0; k < 5; k++)
        snprintf(m->values[k], sizeof m->values[k], "%lld", (long long)sizes[k]);
    snprintf(m->values[5], sizeof m->values[5], "%.17g", cfg.drop_rate);
    snprintf(m->values[6], sizeof m->values[6], "%s", cfg.qkv_bias ? "true" : "false");
    snprintf(m->values[7], sizeof m->values[7], "%s", tokenizer ? tokenizer : "");
    for (int k = 0; k < NN_GPT_META_COUNT; k++) m->meta[k] = (TensorMeta){keys[k], m->values[k]};
}

/* One size key: a whole number in [1, max], or -1 with a message. */
static int read_size(const char *label, int k, const char *v, int64_t *out)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || errno || n < 1 || n > size_max[k])
        return tensor_set_error("load %s: metadata \"%s\" is \"%s\", not a whole number from 1 "
                                "to %lld", label, keys[k], v, size_max[k]),
               -1;
    *out = n;
    return 0;
}

int nn_gpt_config_from_meta(const TensorFile *f, const char *label, NNGPTConfig *cfg,
                            const char **tokenizer)
{
    if (!f || !cfg || !tokenizer)
        return tensor_set_error("gpt_config_from_meta: f, cfg or tokenizer is NULL"), -1;
    const char *v[NN_GPT_META_COUNT];
    for (int k = 0; k < NN_GPT_META_COUNT; k++)
        if (!(v[k] = tensor_file_meta(f, keys[k])))
            return tensor_set_error("load %s: no metadata \"%s\" (not a train_gpt checkpoint?)",
                                    label, keys[k]),
                   -1;
    NNGPTConfig c = {0};
    int64_t *sizes[5] = {&c.vocab_size, &c.context_length, &c.emb_dim, &c.n_heads, &c.n_layers};
    for (int k = 0; k < 5; k++)
        if (read_size(label, k, v[k], sizes[k])) return -1;
    char *end;
    errno = 0;
    c.drop_rate = strtod(v[5], &end);
    if (!*v[5] || *end || errno || !(c.drop_rate >= 0 && c.drop_rate < 1))
        return tensor_set_error("load %s: metadata \"drop_rate\" is \"%s\", not a number in "
                                "[0, 1)", label, v[5]),
               -1;
    if (strcmp(v[6], "true") != 0 && strcmp(v[6], "false") != 0)
        return tensor_set_error("load %s: metadata \"qkv_bias\" is \"%s\", not true or false",
                                label, v[6]),
               -1;
    c.qkv_bias = strcmp(v[6], "true") == 0;
    if (!is_tokenizer(v[7]))
        return tensor_set_error("load %s: metadata \"tokenizer\" is \"%s\", not gpt2 or bytes",
                                label, v[7]),
               -1;
    *cfg = c;
    *tokenizer = strcmp(v[7], "gpt2") == 0 ? "gpt2" : "bytes";
    return 0;
}
