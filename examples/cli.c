/* Small command-line helpers shared by the example programs (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool cli_int(const char *prog, const char *flag, const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno) {
        fprintf(stderr, "%s: %s: '%s' is not a whole number\n", prog, flag, s);
        return false;
    }
    if (v < min || v > max) {
        fprintf(stderr, "%s: %s: %ld is out of range (%ld to %ld)\n", prog, flag, v, min, max);
        return false;
    }
    *out = v;
    return true;
}

bool cli_u64(const char *prog, const char *flag, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || *s == '-') {
        fprintf(stderr, "%s: %s: '%s' is not a non-negative whole number\n", prog, flag, s);
        return false;
    }
    *out = v;
    return true;
}

bool cli_double(const char *prog, const char *flag, const char *s, double min, double max,
                double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v)) {
        fprintf(stderr, "%s: %s: '%s' is not a number\n", prog, flag, s);
        return false;
    }
    if (v < min || v > max) {
        fprintf(stderr, "%s: %s: %g is out of range (%g to %g)\n", prog, flag, v, min, max);
        return false;
    }
    *out = v;
    return true;
}

const char *cli_value(const char *prog, int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: %s needs a value (see --help)\n", prog, argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

const char *cli_vocab_dir(void)
{
    const char *env = getenv("ATTOGRAD_VOCAB_DIR");
    return env && *env ? env : ATTOGRAD_VOCAB_DEFAULT;
}

const char *cli_default_text(void)
{
    return ATTOGRAD_TEXT_DEFAULT;
}

bool cli_is_tokenizer(const char *name)
{
    return strcmp(name, "gpt2") == 0 || strcmp(name, "bytes") == 0;
}

TextTokenizer *cli_tokenizer(const char *prog, const char *name, const char *vocab_dir)
{
    if (strcmp(name, "bytes") == 0) return text_tokenizer_bytes();
    if (strcmp(name, "gpt2") != 0) {
        fprintf(stderr, "%s: --tokenizer: '%s' is not gpt2 or bytes\n", prog, name);
        return NULL;
    }
    const char *dir = vocab_dir ? vocab_dir : cli_vocab_dir();
    TextTokenizer *t = text_tokenizer_gpt2_dir(dir);
    if (!t)
        fprintf(stderr, "%s: GPT-2's vocabulary: %s (fetch it with ./run vocab, or pass --vocab "
                "DIR)\n", prog, tensor_error());
    return t;
}

/* A size flag's value into *out; false after a message. */
static bool size_value(const char *prog, const char *flag, int argc, char **argv, int *i,
                       long max, int64_t *out)
{
    const char *v = cli_value(prog, argc, argv, i);
    long n;
    if (!v || !cli_int(prog, flag, v, 1, max, &n)) return false;
    *out = n;
    return true;
}

int cli_gpt_config_flag(const char *prog, int argc, char **argv, int *i, CliGPTConfig *c)
{
    static const struct {
        const char *flag;
        long max;
        size_t offset;
    } sizes[] = {
        {"--vocab-size", 1L << 24, offsetof(NNGPTConfig, vocab_size)},
        {"--context-length", 1L << 24, offsetof(NNGPTConfig, context_length)},
        {"--emb-dim", 1L << 16, offsetof(NNGPTConfig, emb_dim)},
        {"--n-heads", 1L << 12, offsetof(NNGPTConfig, n_heads)},
        {"--n-layers", 1L << 12, offsetof(NNGPTConfig, n_layers)},
    };
    const char *a = argv[*i], *v;
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        if (strcmp(a, sizes[k].flag) != 0) continue;
        int64_t *field = (int64_t *)((char *)&c->cfg + sizes[k].offset);
        if (!size_value(prog, a, argc, argv, i, sizes[k].max, field)) return -1;
        if (k == 0) c->vocab_set = true;
        return 1;
    }
    if (strcmp(a, "--qkv-bias") == 0) {
        c->cfg.qkv_bias = true;
        return 1;
    }
    if (strcmp(a, "--drop-rate") == 0) {
        v = cli_value(prog, argc, argv, i);
        return v && cli_double(prog, a, v, 0, 0.999999, &c->cfg.drop_rate) ? 1 : -1;
    }
    if (strcmp(a, "--config") != 0) return 0;
    if (!(v = cli_value(prog, argc, argv, i))) return -1;
    if (strcmp(v, "124M") == 0) {
        c->cfg = NN_GPT_CONFIG_124M;
        c->cfg.context_length = c->context_124m;
    } else if (strcmp(v, "book-test") == 0) {
        c->cfg = NN_GPT_CONFIG_BOOK_TEST;
    } else {
        fprintf(stderr, "%s: --config: unknown config '%s' (124M, book-test)\n", prog, v);
        return -1;
    }
    return 1;
}
