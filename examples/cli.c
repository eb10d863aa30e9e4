/* Small command-line helpers shared by the example programs (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot/plot.h"


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
    if (!*s || *end || isnan(v) || (isinf(v) && errno != ERANGE)) {
        fprintf(stderr, "%s: %s: '%s' is not a number\n", prog, flag, s);
        return false;
    }
    if (errno == ERANGE) {   /* a number a double cannot hold */
        fprintf(stderr, "%s: %s: '%s' %s\n", prog, flag, s,
                isinf(v) ? "overflows a double (its magnitude is over 1.8e308)"
                         : "underflows a double (its magnitude is under 2.2e-308)");
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

bool cli_int_flag(const char *prog, int argc, char **argv, int *i, long min, long max,
                  long *out)
{
    const char *flag = argv[*i], *v = cli_value(prog, argc, argv, i);
    return v && cli_int(prog, flag, v, min, max, out);
}

bool cli_u64_flag(const char *prog, int argc, char **argv, int *i, uint64_t *out)
{
    const char *flag = argv[*i], *v = cli_value(prog, argc, argv, i);
    return v && cli_u64(prog, flag, v, out);
}

bool cli_double_flag(const char *prog, int argc, char **argv, int *i, double min, double max,
                     double *out)
{
    const char *flag = argv[*i], *v = cli_value(prog, argc, argv, i);
    return v && cli_double(prog, flag, v, min, max, out);
}

bool cli_tokenizer_flag(const char *prog, int argc, char **argv, int *i, const char **out)
{
    const char *v = cli_value(prog, argc, argv, i);
    if (!v) return false;
    if (!cli_is_tokenizer(v)) {
        fprintf(stderr, "%s: --tokenizer: '%s' is not gpt2 or bytes\n", prog, v);
        return false;
    }
    *out = v;
    return true;
}

bool cli_picture_flag(const char *prog, int argc, char **argv, int *i, const char **out)
{
    const char *flag = argv[*i], *v = cli_value(prog, argc, argv, i);
    if (!v) return false;
    if (plot_check_path(v)) {
        fprintf(stderr, "%s: %s %s\n", prog, flag, tensor_error());
        return false;
    }
    *out = v;
    return true;
}

bool cli_paths_ok(const char *prog, int64_t n, const TensorPath *paths)
{
    if (tensor_paths_check(n, paths) == 0) return true;
    fprintf(stderr, "%s: %s\n", prog, tensor_error());
    return false;
}

bool cli_is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

void cli_unknown_option(const char *prog, const char *arg)
{
    fprintf(stderr, "%s: unknown option '%s' (see --help)\n", prog, arg);
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
        long n;
        if (!cli_int_flag(prog, argc, argv, i, 1, sizes[k].max, &n)) return -1;
        *(int64_t *)((char *)&c->cfg + sizes[k].offset) = n;
        if (k == 0) c->vocab_set = true;
        return 1;
    }
    if (strcmp(a, "--qkv-bias") == 0) {
        c->cfg.qkv_bias = true;
        return 1;
    }
    if (strcmp(a, "--drop-rate") == 0)
        return cli_double_flag(prog, argc, argv, i, 0, 0.999999, &c->cfg.drop_rate) ? 1 : -1;
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

static const char *const gpt_meta_keys[CLI_GPT_META_COUNT] = {
    "vocab_size", "context_length", "emb_dim", "n_heads", "n_layers", "drop_rate", "qkv_bias",
    "tokenizer"};
/* The flags' ranges, so that a file holds no configuration a user could not type. */
static const long gpt_meta_max[5] = {1L << 24, 1L << 24, 1L << 16, 1L << 12, 1L << 12};

void cli_gpt_config_to_meta(NNGPTConfig cfg, const char *tokenizer, CliGPTMeta *m)
{
    const int64_t sizes[5] = {cfg.vocab_size, cfg.context_length, cfg.emb_dim, cfg.n_heads,
                              cfg.n_layers};
    for (int k = 0; k < 5; k++)
        snprintf(m->values[k], sizeof m->values[k], "%lld", (long long)sizes[k]);
    snprintf(m->values[5], sizeof m->values[5], "%.17g", cfg.drop_rate);
    snprintf(m->values[6], sizeof m->values[6], "%s", cfg.qkv_bias ? "true" : "false");
    snprintf(m->values[7], sizeof m->values[7], "%s", tokenizer);
    for (int k = 0; k < CLI_GPT_META_COUNT; k++)
        m->meta[k] = (TensorMeta){gpt_meta_keys[k], m->values[k]};
}

int cli_gpt_config_from_meta(const TensorFile *f, const char *label, NNGPTConfig *cfg,
                             const char **tokenizer)
{
    const char *v[CLI_GPT_META_COUNT];
    for (int k = 0; k < CLI_GPT_META_COUNT; k++)
        if (!(v[k] = tensor_file_meta(f, gpt_meta_keys[k])))
            return tensor_set_error("load %s: no metadata \"%s\" (not a train_gpt checkpoint?)",
                                    label, gpt_meta_keys[k]),
                   -1;
    NNGPTConfig c = {0};
    int64_t *sizes[5] = {&c.vocab_size, &c.context_length, &c.emb_dim, &c.n_heads, &c.n_layers};
    for (int k = 0; k < 5; k++) {
        char *end;
        errno = 0;
        long long n = strtoll(v[k], &end, 10);
        if (!*v[k] || *end || errno || n < 1 || n > gpt_meta_max[k])
            return tensor_set_error("load %s: metadata \"%s\" is \"%s\", not a whole number "
                                    "from 1 to %ld", label, gpt_meta_keys[k], v[k],
                                    gpt_meta_max[k]),
                   -1;
        *sizes[k] = n;
    }
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
    if (!cli_is_tokenizer(v[7]))
        return tensor_set_error("load %s: metadata \"tokenizer\" is \"%s\", not gpt2 or bytes",
                                label, v[7]),
               -1;
    *cfg = c;
    *tokenizer = strcmp(v[7], "gpt2") == 0 ? "gpt2" : "bytes";
    return 0;
}

void cli_float_repr(double v, char *buf, size_t n)
{
    if (isnan(v)) {
        snprintf(buf, n, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, n, v < 0 ? "-inf" : "inf");
        return;
    }
    char e[40];
    for (int p = 1; p <= 17; p++) {   /* 17 significant digits always read back */
        snprintf(e, sizeof e, "%.*e", p - 1, v);
        if (strtod(e, NULL) == v) break;
    }
    /* e is "-d.ddde+XX": its digits and exponent */
    char digits[24];
    int nd = 0, exp10 = 0;
    const char *c = e;
    bool negative = *c == '-';
    if (negative) c++;
    for (; *c && *c != 'e'; c++)
        if (*c != '.') digits[nd++] = *c;
    if (*c == 'e') exp10 = atoi(c + 1);
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    digits[nd] = '\0';
    if (exp10 < -4 || exp10 >= 16) {
        snprintf(buf, n, "%s%c%s%se%c%02d", negative ? "-" : "", digits[0], nd > 1 ? "." : "",
                 digits + 1, exp10 < 0 ? '-' : '+', abs(exp10));
        return;
    }
    /* positional: the digits with the point after digit exp10 + 1, zeros
     * before them (exp10 < 0) or after them up to the point */
    char out[48];
    int k = 0;
    if (negative) out[k++] = '-';
    if (exp10 < 0) {
        out[k++] = '0';
        out[k++] = '.';
        for (int z = 0; z < -exp10 - 1; z++) out[k++] = '0';
        for (int d = 0; d < nd; d++) out[k++] = digits[d];
    } else {
        for (int d = 0; d <= exp10; d++) out[k++] = d < nd ? digits[d] : '0';
        out[k++] = '.';
        if (nd <= exp10 + 1) out[k++] = '0';
        for (int d = exp10 + 1; d < nd; d++) out[k++] = digits[d];
    }
    out[k] = '\0';
    snprintf(buf, n, "%s", out);
}
