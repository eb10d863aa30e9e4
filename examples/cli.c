/* Small command-line helpers shared by the example programs (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <math.h>
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
