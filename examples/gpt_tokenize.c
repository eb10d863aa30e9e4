/*
 * Text on stdin -> its token ids, printed as the book prints them:
 *
 *     $ printf 'Hello, I am' | gpt_tokenize
 *     [15496, 11, 314, 716]
 *     $ echo '[15496, 11, 314, 716]' | gpt_tokenize --decode
 *     Hello, I am
 *
 * --decode prints what Python's tokenizer.decode gives (errors="replace":
 * a character the ids cut is U+FFFD, text_decode_replace); --raw the ids'
 * bytes as they are (tiktoken's decode_bytes).
 *
 * GPT-2's tokenizer by default (its vocabulary from ./run vocab), or the
 * bytes tokenizer.  Exit 0, 1 for bad input (invalid UTF-8, an unknown id,
 * no vocabulary), 2 for bad flags.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attograd.h"

static const char PROG[] = "gpt_tokenize";

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gpt_tokenize [--decode [--raw]] [--tokenizer gpt2|bytes] [--vocab DIR]\n"
            "                    [--no-special]\n"
            "  text on stdin -> ids on stdout, as [15496, 11, 314, 716]\n"
            "  --decode           ids on stdin ([1, 2] or 1 2) -> their text on stdout, as\n"
            "                     Python's tokenizer.decode gives it (a character the ids\n"
            "                     cut is U+FFFD)\n"
            "  --raw              with --decode: the ids' bytes as they are\n"
            "  --tokenizer NAME   gpt2 (default: GPT-2's BPE) or bytes (an id per UTF-8 byte)\n"
            "  --vocab DIR        DIR/encoder.json and DIR/vocab.bpe (default: $ATTOGRAD_VOCAB_DIR,\n"
            "                     else %s; fetch with ./run vocab)\n"
            "  --no-special       <|endoftext|> as ordinary text, not id 50256\n"
            "  --help             this text\n",
            cli_vocab_dir());
}

/* All of stdin; NULL after a message. */
static char *read_stdin(size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, stdin)) > 0;) {
        n += got;
        if (n == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger) free(buf);
            buf = bigger;
        }
    }
    if (!buf || ferror(stdin)) {
        fprintf(stderr, "%s: cannot read stdin: %s\n", PROG, buf ? strerror(errno) : "out of memory");
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static int encode(const TextTokenizer *t, const char *text, size_t len, bool special)
{
    int64_t *ids;
    size_t n;
    if (text_encode(t, text, len, special, &ids, &n) != 0) {
        fprintf(stderr, "%s: %s\n", PROG, tensor_error());
        return 1;
    }
    putchar('[');
    for (size_t i = 0; i < n; i++) printf(i ? ", %lld" : "%lld", (long long)ids[i]);
    printf("]\n");
    free(ids);
    return 0;
}

/* strchr would take the string's own NUL for a separator. */
static bool is_separator(char c)
{
    return c != '\0' && strchr("[], \t\r\n", c);
}

/* Ids separated by spaces, commas, newlines, within optional brackets. */
static int decode(const TextTokenizer *t, const char *text, size_t len, bool raw)
{
    int64_t *ids = malloc((len / 2 + 1) * sizeof *ids);
    size_t n = 0;
    for (size_t i = 0; ids && i < len;) {
        if (is_separator(text[i])) { i++; continue; }
        int64_t v = 0;
        size_t start = i;
        bool too_large = false;
        for (; i < len && text[i] >= '0' && text[i] <= '9'; i++) {
            int d = text[i] - '0';
            too_large |= v > (INT64_MAX - d) / 10;
            if (!too_large) v = v * 10 + d;
        }
        if (i == start || (i < len && !is_separator(text[i]))) {
            unsigned char c = (unsigned char)text[i];
            if (c >= ' ' && c < 127)
                fprintf(stderr, "%s: --decode: byte %zu ('%c') is not part of an id\n", PROG, i, c);
            else
                fprintf(stderr, "%s: --decode: byte %zu (0x%02x) is not part of an id\n", PROG, i,
                        c);
            free(ids);
            return 1;
        }
        if (too_large) {   /* text_decode's words, for an id no int64_t holds */
            fprintf(stderr, "%s: --decode: id %.*s%s at %zu is outside the %s vocabulary [0, "
                    "%lld)\n", PROG, (int)(i - start > 40 ? 40 : i - start), text + start,
                    i - start > 40 ? "..." : "", n, text_tokenizer_name(t),
                    (long long)text_vocab_size(t));
            free(ids);
            return 1;
        }
        ids[n++] = v;
    }
    size_t out_len;
    char *out = !ids ? NULL
                : raw  ? text_decode(t, ids, n, &out_len)
                       : text_decode_replace(t, ids, n, &out_len);
    free(ids);
    if (!out) {
        fprintf(stderr, "%s: %s\n", PROG, ids ? tensor_error() : "out of memory");
        return 1;
    }
    fwrite(out, 1, out_len, stdout);
    free(out);
    return 0;
}

int main(int argc, char **argv)
{
    const char *tokenizer = "gpt2", *vocab = NULL;
    bool decoding = false, raw = false, special = true, ok = true;
    for (int i = 1; i < argc && ok; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--decode") == 0) decoding = true;
        else if (strcmp(argv[i], "--raw") == 0) raw = true;
        else if (strcmp(argv[i], "--no-special") == 0) special = false;
        else if (strcmp(argv[i], "--tokenizer") == 0) {
            ok = cli_tokenizer_flag(PROG, argc, argv, &i, &tokenizer);
        } else if (strcmp(argv[i], "--vocab") == 0) {
            ok = (vocab = cli_value(PROG, argc, argv, &i)) != NULL;
        } else {
            tensor_set_error("%s: unknown flag '%s' (see --help)", PROG, argv[i]);
            ok = false;
        }
    }
    if (ok && raw && !decoding) {
        tensor_set_error("%s: --raw needs --decode (it prints ids' bytes)", PROG);
        ok = false;
    }
    if (!ok) {
        fprintf(stderr, "%s\n", tensor_error());
        return 2;
    }
    TextTokenizer *t = cli_tokenizer(PROG, tokenizer, vocab);
    if (!t) {
        fprintf(stderr, "%s\n", tensor_error());
        return 1;
    }
    size_t len;
    char *text = read_stdin(&len);
    int rc = !text ? 1 : decoding ? decode(t, text, len, raw) : encode(t, text, len, special);
    free(text);
    text_tokenizer_free(t);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "%s: cannot write stdout: %s\n", PROG, strerror(errno));
        rc = 1;
    }
    return rc;
}
