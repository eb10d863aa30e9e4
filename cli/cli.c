/* The programs' command line (see cli.h): every failure is one line in
 * tensor_error(), never printed here. */
#include "cli/cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot/plot.h"

/* Records the message; false, for `return fail(...)`. */
static bool fail(const char *fmt, ...) TENSOR__PRINTF(1, 2);
static bool fail(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    tensor_set_error("%s", line);
    return false;
}

/* The message already in tensor_error() with "<prog>: <context>" before it. */
static bool fail_because(const char *prog, const char *context)
{
    char why[768];
    snprintf(why, sizeof why, "%s", tensor_error());
    return fail("%s: %s%s", prog, context, why);
}

bool cli_int(const char *prog, const char *flag, const char *s, int64_t min, int64_t max,
             int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno) return fail("%s: %s: '%s' is not a whole number", prog, flag, s);
    if (v < min || v > max)
        return fail("%s: %s: %lld is out of range (%lld to %lld)", prog, flag, v,
                    (long long)min, (long long)max);
    *out = v;
    return true;
}

bool cli_u64(const char *prog, const char *flag, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || *s == '-')
        return fail("%s: %s: '%s' is not a non-negative whole number", prog, flag, s);
    *out = v;
    return true;
}

bool cli_double(const char *prog, const char *flag, const char *s, double min, double max,
                double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || isnan(v) || (isinf(v) && errno != ERANGE))
        return fail("%s: %s: '%s' is not a number", prog, flag, s);
    if (errno == ERANGE)   /* a number a double cannot hold */
        return fail("%s: %s: '%s' %s", prog, flag, s,
                    isinf(v) ? "overflows a double (its magnitude is over 1.8e308)"
                             : "underflows a double (its magnitude is under 2.2e-308)");
    if (v < min || v > max)
        return fail("%s: %s: %g is out of range (%g to %g)", prog, flag, v, min, max);
    *out = v;
    return true;
}

const char *cli_value(const char *prog, int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fail("%s: %s needs a value (see --help)", prog, argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

bool cli_int_flag(const char *prog, int argc, char **argv, int *i, int64_t min, int64_t max,
                  int64_t *out)
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
    if (!cli_is_tokenizer(v)) return fail("%s: --tokenizer: '%s' is not gpt2 or bytes", prog, v);
    *out = v;
    return true;
}

bool cli_picture_flag(const char *prog, int argc, char **argv, int *i, const char **out)
{
    const char *flag = argv[*i], *v = cli_value(prog, argc, argv, i);
    if (!v) return false;
    char context[256];
    snprintf(context, sizeof context, "%s ", flag);
    if (plot_check_path(v)) return fail_because(prog, context);
    *out = v;
    return true;
}

bool cli_paths_ok(const char *prog, int64_t n, const TensorPath *paths)
{
    return tensor_paths_check(n, paths) == 0 || fail_because(prog, "");
}

bool cli_is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

bool cli_unknown_option(const char *prog, const char *arg)
{
    return fail("%s: unknown option '%s' (see --help)", prog, arg);
}

const char *cli_vocab_dir(void)
{
    const char *env = getenv("ATTOGRAD_VOCAB_DIR");
    return env && *env ? env : ATTOGRAD_VOCAB_DEFAULT;
}

void cli_vocab_paths(const char *tokenizer, const char *vocab_dir, CliVocabPaths *v)
{
    bool gpt2 = !tokenizer || strcmp(tokenizer, "gpt2") == 0;
    const char *dir = vocab_dir ? vocab_dir : cli_vocab_dir();
    snprintf(v->encoder, sizeof v->encoder, "%s/encoder.json", dir);
    snprintf(v->merges, sizeof v->merges, "%s/vocab.bpe", dir);
    v->paths[0] = (TensorPath){.what = "--vocab", .path = gpt2 ? v->encoder : NULL};
    v->paths[1] = (TensorPath){.what = "--vocab", .path = gpt2 ? v->merges : NULL};
}

bool cli_is_tokenizer(const char *name)
{
    return name && (strcmp(name, "gpt2") == 0 || strcmp(name, "bytes") == 0);
}

TextTokenizer *cli_tokenizer(const char *prog, const char *name, const char *vocab_dir)
{
    if (name && strcmp(name, "bytes") == 0) return text_tokenizer_bytes();
    if (!name || strcmp(name, "gpt2") != 0) {
        fail("%s: --tokenizer: '%s' is not gpt2 or bytes", prog, name ? name : "(null)");
        return NULL;
    }
    TextTokenizer *t = text_tokenizer_gpt2_dir(vocab_dir ? vocab_dir : cli_vocab_dir());
    if (!t) {
        char why[768];
        snprintf(why, sizeof why, "%s", tensor_error());
        fail("%s: GPT-2's vocabulary: %s (fetch it with ./run vocab, or pass --vocab DIR)", prog,
             why);
    }
    return t;
}

bool cli_vocab_decodable(const char *prog, const TextTokenizer *tok, int64_t vocab_size)
{
    int64_t n = text_vocab_size(tok);
    if (vocab_size <= n) return true;
    return fail("%s: --vocab-size %lld is larger than the %s tokenizer's %lld ids: a generated "
                "id could not be decoded", prog, (long long)vocab_size, text_tokenizer_name(tok),
                (long long)n);
}

int cli_gpt_config_flag(const char *prog, int argc, char **argv, int *i, CliGPTConfig *c)
{
    static const struct {
        const char *flag;
        int64_t max;
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
        int64_t n;
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
        fail("%s: --config: unknown config '%s' (124M, book-test)", prog, v);
        return -1;
    }
    return 1;
}

int cli_train_flag(const char *prog, int argc, char **argv, int *i, CliTrainOptions *t)
{
    static const struct {
        const char *flag;
        int64_t min, max;
        size_t offset;
    } counts[] = {
        {"--epochs", 1, 1L << 20, offsetof(CliTrainOptions, epochs)},
        {"--batch-size", 1, 1L << 20, offsetof(CliTrainOptions, batch_size)},
        {"--eval-freq", 1, 1L << 30, offsetof(CliTrainOptions, eval_freq)},
        {"--eval-iter", 1, 1L << 30, offsetof(CliTrainOptions, eval_iter)},
    };
    const char *a = argv[*i];
    for (size_t k = 0; k < sizeof counts / sizeof *counts; k++) {
        const char *flag = k == 1 && t->batch_flag ? t->batch_flag : counts[k].flag;
        if (strcmp(a, flag) != 0) continue;
        int64_t min = k == 0 && t->allow_zero_epochs ? 0 : counts[k].min;
        int64_t *out = (int64_t *)((char *)t + counts[k].offset);
        return cli_int_flag(prog, argc, argv, i, min, counts[k].max, out) ? 1 : -1;
    }
    if (strcmp(a, "--lr") == 0)
        return cli_double_flag(prog, argc, argv, i, 0, 1e3, &t->lr) ? 1 : -1;
    if (strcmp(a, "--weight-decay") == 0)
        return cli_double_flag(prog, argc, argv, i, 0, 1e3, &t->weight_decay) ? 1 : -1;
    if (strcmp(a, "--seed") == 0) return cli_u64_flag(prog, argc, argv, i, &t->seed) ? 1 : -1;
    if (strcmp(a, "--bf16") != 0) return 0;
    t->bf16 = true;
    return 1;
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
