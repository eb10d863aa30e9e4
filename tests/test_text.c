/*
 * The text room: GPT-2's tokenizer against tests/reference/tokenizer.txt
 * (gen_tokenizer.py, with gpt2_bpe.py as the reference: Debian has no
 * tiktoken), the bytes tokenizer, bad vocabularies and bad text.  Ids are
 * integers: every comparison is exact.
 *
 * The vocabulary is OpenAI's, fetched by `./run vocab` into build/vocab
 * (ATTOGRAD_VOCAB_DIR elsewhere); ./run test fetches it before testing.
 */
#include "testutil.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

static char vocab_dir[1024];

static TextTokenizer *gpt2(void)
{
    TextTokenizer *t = text_tokenizer_gpt2_dir(vocab_dir);
    ck_assert_msg(t != NULL, "%s (fetch the vocabulary with ./run vocab)", tensor_error());
    return t;
}

typedef struct {
    char name[64];
    int special;
    char *text;          /* decoded from hex; NUL bytes allowed */
    size_t len;
    int64_t *ids;
    size_t n;
} Case;

/* One line of tokenizer.txt or tokenizer_long.txt: name special hex ids...
 * ("-": empty text, "file": examples/data/the-verdict.txt). */
static bool read_case(FILE *f, Case *c)
{
    static char *line;
    static size_t cap;
    while (getline(&line, &cap, f) > 0) {
        if (line[0] == '#') continue;
        char *fields[3], *rest = line;
        for (int k = 0; k < 3; k++) {
            fields[k] = strsep(&rest, " \n");
            ck_assert_msg(fields[k] && *fields[k], "a fixture line has fewer than 3 fields");
        }
        snprintf(c->name, sizeof c->name, "%s", fields[0]);
        c->special = atoi(fields[1]);
        const char *hex = fields[2];
        if (strcmp(hex, "file") == 0) {
            c->text = strdup(testutil_read_text(ATTOGRAD_REFERENCE_DIR
                                                "/../../examples/data/the-verdict.txt"));
            c->len = strlen(c->text);
        } else {
            c->len = strcmp(hex, "-") == 0 ? 0 : strlen(hex) / 2;
            c->text = malloc(c->len + 1);
            for (size_t i = 0; i < c->len; i++) {
                unsigned b;
                sscanf(hex + 2 * i, "%2x", &b);
                c->text[i] = (char)b;
            }
            c->text[c->len] = '\0';
        }
        c->ids = malloc((strlen(rest ? rest : "") / 2 + 1) * sizeof *c->ids);
        c->n = 0;
        for (char *p = rest, *end; p; p = end) {
            long long v = strtoll(p, &end, 10);
            if (end == p) break;
            c->ids[c->n++] = v;
        }
        return true;
    }
    free(line);
    line = NULL;
    cap = 0;
    return false;
}

/* Every case of a fixture file: the ids exactly, and decode(encode(t)) == t
 * byte for byte; the number of cases. */
static int check_fixtures(TextTokenizer *t, const char *path, bool *saw_verdict)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    Case c;
    int cases = 0;
    while (read_case(f, &c)) {
        int64_t *ids;
        size_t n;
        ck_assert_msg(text_encode(t, c.text, c.len, c.special, &ids, &n) == 0, "%s: %s", c.name,
                      tensor_error());
        ck_assert_msg(n == c.n, "%s: %zu ids, expected %zu", c.name, n, c.n);
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(ids[i] == c.ids[i], "%s: id %zu is %lld, expected %lld", c.name, i,
                          (long long)ids[i], (long long)c.ids[i]);
        size_t len;
        char *back = text_decode(t, ids, n, &len);
        ck_assert_ptr_nonnull(back);
        ck_assert_msg(len == c.len && memcmp(back, c.text, len) == 0, "%s: decode differs", c.name);
        if (strcmp(c.name, "verdict") == 0) {
            *saw_verdict = true;
            ck_assert_int_eq(n, 5145);     /* the book's count */
            ck_assert_int_eq(c.len, 20479);
        }
        free(back);
        free(ids);
        free(c.text);
        free(c.ids);
        cases++;
    }
    fclose(f);
    return cases;
}

START_TEST(test_gpt2_fixtures)
{
    TextTokenizer *t = gpt2();
    ck_assert_int_eq(text_vocab_size(t), TEXT_GPT2_VOCAB_SIZE);
    ck_assert_str_eq(text_tokenizer_name(t), "gpt2");
    bool saw_verdict = false;
    ck_assert_int_ge(check_fixtures(t, ATTOGRAD_REFERENCE_DIR "/tokenizer.txt", &saw_verdict), 25);
    ck_assert(saw_verdict);
    text_tokenizer_free(t);
}
END_TEST

/* Long runs without a break, each one piece of thousands of bytes: random
 * letters (ASCII, two-byte, CJK), digits, symbols, one letter repeated
 * (every round merges overlapping occurrences), spaces.  BPE must give the
 * reference's ids however it orders its merges (bench_tokenizer times it). */
START_TEST(test_gpt2_long_runs)
{
    TextTokenizer *t = gpt2();
    bool saw_verdict = false;
    ck_assert_int_ge(check_fixtures(t, ATTOGRAD_REFERENCE_DIR "/tokenizer_long.txt",
                                    &saw_verdict), 9);
    text_tokenizer_free(t);
}
END_TEST

/* The book's ids, independent of the fixture file. */
START_TEST(test_gpt2_book_ids)
{
    TextTokenizer *t = gpt2();
    int64_t *ids;
    size_t n;
    ck_assert_int_eq(text_encode(t, "Hello, I am", 11, false, &ids, &n), 0);
    int64_t want[] = {15496, 11, 314, 716};
    ck_assert_int_eq(n, 4);
    for (int i = 0; i < 4; i++) ck_assert_int_eq(ids[i], want[i]);
    free(ids);
    /* special only when allowed */
    ck_assert_int_eq(text_encode(t, "a<|endoftext|>", 14, true, &ids, &n), 0);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(ids[1], TEXT_GPT2_EOT);
    free(ids);
    ck_assert_int_eq(text_encode(t, "a<|endoftext|>", 14, false, &ids, &n), 0);
    ck_assert_int_gt(n, 2);
    for (size_t i = 0; i < n; i++) ck_assert_int_ne(ids[i], TEXT_GPT2_EOT);
    free(ids);
    /* decoding a cut through a character gives its raw bytes: "é" is one
     * token of two bytes; "😀" takes several tokens */
    ck_assert_int_eq(text_encode(t, "\xf0\x9f\x98\x80", 4, false, &ids, &n), 0);
    ck_assert_int_gt(n, 1);
    size_t len;
    char *part = text_decode(t, ids, 1, &len);
    ck_assert_int_lt(len, 4);
    ck_assert_int_eq(memcmp(part, "\xf0\x9f\x98\x80", len), 0);
    free(part);
    free(ids);
    char *empty = text_decode(t, NULL, 0, &len);
    ck_assert_str_eq(empty, "");
    ck_assert_int_eq(len, 0);
    free(empty);
    text_tokenizer_free(t);
}
END_TEST

START_TEST(test_bytes_tokenizer)
{
    TextTokenizer *t = text_tokenizer_bytes();
    ck_assert_int_eq(text_vocab_size(t), 256);
    ck_assert_str_eq(text_tokenizer_name(t), "bytes");
    const char text[] = "h\xc3\xa9 <|endoftext|>\0!";
    int64_t *ids;
    size_t n;
    ck_assert_int_eq(text_encode(t, text, sizeof text - 1, true, &ids, &n), 0);
    ck_assert_int_eq(n, sizeof text - 1);   /* no special tokens: 20 bytes, 20 ids */
    ck_assert_int_eq(ids[1], 0xc3);
    ck_assert_int_eq(ids[2], 0xa9);
    ck_assert_int_eq(ids[17], 0);
    size_t len;
    char *back = text_decode(t, ids, n, &len);
    ck_assert_int_eq(len, sizeof text - 1);
    ck_assert_int_eq(memcmp(back, text, len), 0);
    free(back);
    free(ids);
    ck_assert_error_has(text_decode(t, (int64_t[]){65, 256}, 2, NULL),
                        "text_decode: id 256 at 1 is outside the bytes vocabulary [0, 256)");
    text_tokenizer_free(t);
}
END_TEST

/* Invalid UTF-8, named by its byte offset, for both tokenizers. */
START_TEST(test_invalid_utf8)
{
    TextTokenizer *toks[2] = {gpt2(), text_tokenizer_bytes()};
    static const struct { const char *s; const char *want; } bad[] = {
        {"ab\xff" "cd", "invalid UTF-8 at byte 2 (0xff)"},
        {"\xc0\xaf", "invalid UTF-8 at byte 0 (0xc0)"},           /* overlong '/' */
        {"ok \xed\xa0\x80", "invalid UTF-8 at byte 3 (0xed)"},     /* a surrogate */
        {"x\xe2\x82", "invalid UTF-8 at byte 1 (0xe2)"},           /* cut short */
        {"\xf4\x90\x80\x80", "invalid UTF-8 at byte 0 (0xf4)"},    /* above U+10FFFF */
        {"a\x80", "invalid UTF-8 at byte 1 (0x80)"},               /* a lone continuation */
    };
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            int64_t *ids = (int64_t *)1;
            size_t n = 7;
            ck_assert_int_eq(text_encode(toks[k], bad[i].s, strlen(bad[i].s), false, &ids, &n), -1);
            ck_assert_ptr_null(ids);
            ck_assert_int_eq(n, 0);
            ck_assert_msg(strstr(tensor_error(), bad[i].want), "%s", tensor_error());
        }
    ck_assert_error_has(text_decode(toks[0], (int64_t[]){-1}, 1, NULL),
                        "text_decode: id -1 at 0 is outside the gpt2 vocabulary [0, 50257)");
    int64_t *ids;
    size_t n;
    ck_assert_int_eq(text_encode(NULL, "a", 1, false, &ids, &n), -1);
    ck_assert_str_eq(tensor_error(), "text_encode: NULL tokenizer");
    text_tokenizer_free(toks[0]);
    text_tokenizer_free(toks[1]);
}
END_TEST

/* A small vocabulary of its own in a temporary directory: the 256 byte
 * tokens (GPT-2's alphabet) and the merges given. */
static char tmpdir[256];

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* encoder.json of the 256 byte tokens, then extra tokens at 256, 257, ... */
static void write_encoder(const char *extra)
{
    char *buf = malloc(1 << 16);
    size_t at = (size_t)sprintf(buf, "{");
    for (int b = 0, extra_chars = 0; b < 256; b++) {
        bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        unsigned c = printable ? (unsigned)b : 256u + (unsigned)extra_chars++;
        if (c == '"' || c == '\\') at += (size_t)sprintf(buf + at, "\"\\%c\": %d, ", c, b);
        else at += (size_t)sprintf(buf + at, "\"\\u%04x\": %d, ", c, b);
    }
    sprintf(buf + at, "%s}", extra);
    write_file("encoder.json", buf);
    free(buf);
}

static char *tmp_path(const char *name)
{
    static char path[2][512];
    static int k;
    k ^= 1;
    snprintf(path[k], sizeof path[k], "%s/%s", tmpdir, name);
    return path[k];
}

static TextTokenizer *small(void)
{
    return text_tokenizer_gpt2(tmp_path("encoder.json"), tmp_path("vocab.bpe"));
}

START_TEST(test_own_vocabulary)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/attograd_text_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    /* "ab" = 256, "abc" = 257, "\u0120a" (" a") = 258; merges in rank order */
    write_encoder("\"ab\": 256, \"abc\": 257, \"\\u0120a\": 258");
    /* "b" and "c" are tokens but "bc" is not: the error names the merged token */
    write_file("vocab.bpe", "#version: 0.2\na b\nab c\n\xc4\xa0 a\nb c\n");
    ck_assert_error_has(small(), "vocab.bpe: line 5: \"bc\" is not a token of encoder.json");
    write_file("vocab.bpe", "#version: 0.2\na b\nab c\n\xc4\xa0 a\n");
    TextTokenizer *t = small();
    ck_assert_msg(t != NULL, "%s", tensor_error());
    ck_assert_int_eq(text_vocab_size(t), 259);
    int64_t *ids;
    size_t n;
    /* "abcab a": pieces "abcab", " a"; "abcab" -> ab c ab -> abc ab */
    ck_assert_int_eq(text_encode(t, "abcab a", 7, false, &ids, &n), 0);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(ids[0], 257);
    ck_assert_int_eq(ids[1], 256);
    ck_assert_int_eq(ids[2], 258);
    free(ids);
    /* no "<|endoftext|>" in this vocabulary: always ordinary text */
    ck_assert_int_eq(text_encode(t, "<|endoftext|>", 13, true, &ids, &n), 0);
    ck_assert_int_eq(n, 13);   /* "<|", "endoftext", "|>": no merge applies, a byte each */
    free(ids);
    text_tokenizer_free(t);
    /* A merge ranked before the merge that makes its left part ("ab a"
     * before "a b"): OpenAI's encoder.py merges every "a b" of a round
     * before it looks at the pairs they made ("ababa" -> ab ab a -> ab
     * aba), so a merge loop that took the new, lower-ranked "ab a" at once
     * would give aba b a.  The ids are gpt2_bpe.py's for this vocabulary. */
    write_encoder("\"ab\": 256, \"aba\": 257");
    write_file("vocab.bpe", "#version: 0.2\nab a\na b\n");
    t = small();
    ck_assert_msg(t != NULL, "%s", tensor_error());
    static const struct { const char *text; int64_t ids[3]; size_t n; } rounds[] = {
        {"ababa", {256, 257}, 2}, {"abab", {256, 256}, 2}, {"abababa", {256, 256, 257}, 3},
        {"aba", {257}, 1},
    };
    for (size_t i = 0; i < sizeof rounds / sizeof *rounds; i++) {
        ck_assert_int_eq(text_encode(t, rounds[i].text, strlen(rounds[i].text), false, &ids, &n),
                         0);
        ck_assert_msg(n == rounds[i].n, "%s: %zu ids", rounds[i].text, n);
        for (size_t j = 0; j < n; j++) ck_assert_int_eq(ids[j], rounds[i].ids[j]);
        free(ids);
    }
    text_tokenizer_free(t);
}
END_TEST

START_TEST(test_bad_vocabulary)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/attograd_text_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    ck_assert_error_has(small(), "encoder.json: cannot open: No such file or directory");
    write_file("encoder.json", "{\"a\": 0,}");
    ck_assert_error_has(small(), "encoder.json: not a JSON object of tokens");
    write_file("encoder.json", "[1, 2]");
    ck_assert_error_has(small(), "not an object");
    write_file("encoder.json", "{\"a\": 0} x");
    ck_assert_error_has(small(), "unexpected character at byte 9");
    write_file("encoder.json", "{\"a\": 0, \"b\": 5}");
    ck_assert_error_has(small(), "token \"b\": id 5 must be a whole number in [0, 2)");
    write_file("encoder.json", "{\"a\": 0, \"b\": 0}");
    ck_assert_error_has(small(), "id 0 is both \"a\" and \"b\"");
    write_file("encoder.json", "{\"a\": 0, \"b\": 1}");
    ck_assert_error_has(small(), "no token for byte 0x00");
    write_file("encoder.json", "{\"a\": 0, \"\\u0400\": 1}");
    ck_assert_error_has(small(), "token 1 \"\xd0\x80\" is not in GPT-2's byte alphabet");
    write_encoder("\"ab\": 256");
    ck_assert_error_has(small(), "vocab.bpe: cannot open");
    write_file("vocab.bpe", "#version: 0.2\na  b\n");
    ck_assert_error_has(small(), "vocab.bpe: line 2: \"a  b\" is not two tokens split by one space");
    write_file("vocab.bpe", "#version: 0.2\na b\na b\n");
    ck_assert_error_has(small(), "vocab.bpe: line 3: merge \"a b\" repeats merge 1");
    /* the _dir form checks OpenAI's sha256 */
    write_file("vocab.bpe", "#version: 0.2\na b\n");
    TextTokenizer *ok = small();
    ck_assert_msg(ok != NULL, "%s", tensor_error());
    text_tokenizer_free(ok);
    ck_assert_error_has(text_tokenizer_gpt2_dir(tmpdir), "encoder.json: sha256 ");
    ck_assert_error_has(text_tokenizer_gpt2_dir(tmpdir), ", expected 196139668be63f3b5d6574427317"
                        "ae82f612a97c5d1cdaf36ed2256dbf636783: not OpenAI's file");
    /* a program gives the hint once (the library's message had one of its own) */
    char cmd[1024], out[2048];
    snprintf(cmd, sizeof cmd, "%s/examples/gpt_tokenize --vocab '%s' </dev/null 2>&1",
             ATTOGRAD_BUILD_DIR, tmpdir);
    ck_assert_int_eq(testutil_capture(cmd, out, sizeof out), 1);
    const char *hint = strstr(out, "./run vocab");
    ck_assert_msg(hint && !strstr(hint + 1, "./run vocab"), "%s", out);
    ck_assert_error_has(text_tokenizer_gpt2_dir("/nonexistent"),
                        "/nonexistent/encoder.json: cannot open");
    ck_assert_error_has(text_tokenizer_gpt2(NULL, "x"), "text_tokenizer_gpt2: a NULL path");
}
END_TEST

/* Vocabulary files are checked before any of them is read, as checkpoints
 * are: a FIFO is refused at once (it blocked every program for ever), a
 * device is not read until memory runs out, a file over the cap is refused
 * by its size; each message names the file. */
START_TEST(test_vocabulary_files_checked)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/attograd_text_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    write_encoder("\"ab\": 256");
    write_file("vocab.bpe", "#version: 0.2\na b\n");
    TextTokenizer *ok = small();
    ck_assert_msg(ok != NULL, "%s", tensor_error());
    text_tokenizer_free(ok);
    static const char *const names[] = {"encoder.json", "vocab.bpe"};
    for (int k = 0; k < 2; k++) {
        char *path = strdup(tmp_path(names[k])), want[700];
        ck_assert_int_eq(rename(path, tmp_path("kept")), 0);
        ck_assert_int_eq(mkfifo(path, 0600), 0);
        snprintf(want, sizeof want, "%s: is a FIFO; a vocabulary file must be a regular file",
                 path);
        ck_assert_error_has(small(), want);
        ck_assert_error_has(text_tokenizer_gpt2_dir(tmpdir), k == 0 ? want : "sha256");
        unlink(path);
        ck_assert_int_eq(symlink("/dev/zero", path), 0);
        snprintf(want, sizeof want, "%s: is a device; a vocabulary file must be a regular file",
                 path);
        ck_assert_error_has(small(), want);
        unlink(path);
        ck_assert_int_eq(mkdir(path, 0700), 0);
        ck_assert_error_has(small(), "is a folder; a vocabulary file must be a regular file");
        rmdir(path);
        /* a sparse file one byte over the cap: refused by its size, unread */
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(ftruncate(fileno(f), TEXT_VOCAB_FILE_MAX + 1), 0);
        fclose(f);
        snprintf(want, sizeof want, "%s: 16777217 bytes; a vocabulary file holds at most "
                 "16777216 (TEXT_VOCAB_FILE_MAX)", path);
        ck_assert_error_has(small(), want);
        ck_assert_int_eq(rename(tmp_path("kept"), path), 0);
        free(path);
    }
    ok = small();
    ck_assert_msg(ok != NULL, "%s", tensor_error());
    text_tokenizer_free(ok);
}
END_TEST

/* examples/gpt_tokenize as a user runs it; commands of fixed strings only. */
static int run_tokenize(const char *input, const char *args, char *out, size_t cap)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "printf '%s' | %s/examples/gpt_tokenize --vocab '%s' %s 2>&1", input,
             ATTOGRAD_BUILD_DIR, vocab_dir, args);
    return testutil_capture(cmd, out, cap);
}

START_TEST(test_gpt_tokenize_program)
{
    char out[4096];
    ck_assert_int_eq(run_tokenize("Hello, I am", "", out, sizeof out), 0);
    ck_assert_str_eq(out, "[15496, 11, 314, 716]\n");
    ck_assert_int_eq(run_tokenize("[15496, 11, 314, 716]", "--decode", out, sizeof out), 0);
    ck_assert_str_eq(out, "Hello, I am");
    ck_assert_int_eq(run_tokenize("a<|endoftext|>", "", out, sizeof out), 0);
    ck_assert_str_eq(out, "[64, 50256]\n");
    ck_assert_int_eq(run_tokenize("<|endoftext|>", "--no-special", out, sizeof out), 0);
    ck_assert_str_eq(out, "[27, 91, 437, 1659, 5239, 91, 29]\n");
    ck_assert_int_eq(run_tokenize("h\\303\\251", "--tokenizer bytes", out, sizeof out), 0);
    ck_assert_str_eq(out, "[104, 195, 169]\n");
    ck_assert_int_eq(run_tokenize("", "", out, sizeof out), 0);
    ck_assert_str_eq(out, "[]\n");
    /* bad input: 1; bad flags: 2; one line each */
    ck_assert_int_eq(run_tokenize("ab\\377", "", out, sizeof out), 1);
    ck_assert_str_eq(out, "gpt_tokenize: text_encode: invalid UTF-8 at byte 2 (0xff)\n");
    ck_assert_int_eq(run_tokenize("1 50257", "--decode", out, sizeof out), 1);
    ck_assert_str_eq(out, "gpt_tokenize: text_decode: id 50257 at 1 is outside the gpt2 "
                     "vocabulary [0, 50257)\n");
    ck_assert_int_eq(run_tokenize("1 x", "--decode", out, sizeof out), 1);
    ck_assert_str_eq(out, "gpt_tokenize: --decode: byte 2 ('x') is not part of an id\n");
    /* a NUL ends no id: "15496\0 11" is not two ids */
    ck_assert_int_eq(run_tokenize("15496\\000 11", "--decode", out, sizeof out), 1);
    ck_assert_str_eq(out, "gpt_tokenize: --decode: byte 5 (0x00) is not part of an id\n");
    /* INT64_MAX is an id outside the vocabulary, and so is a longer one */
    ck_assert_int_eq(run_tokenize("9223372036854775807", "--decode", out, sizeof out), 1);
    ck_assert_str_eq(out, "gpt_tokenize: text_decode: id 9223372036854775807 at 0 is outside "
                     "the gpt2 vocabulary [0, 50257)\n");
    ck_assert_int_eq(run_tokenize("[1, 99999999999999999999]", "--decode", out, sizeof out), 1);
    ck_assert_str_eq(out, "gpt_tokenize: --decode: id 99999999999999999999 at 1 is outside the "
                     "gpt2 vocabulary [0, 50257)\n");
    ck_assert_int_eq(run_tokenize("", "--tokenizer words", out, sizeof out), 2);
    ck_assert_str_eq(out, "gpt_tokenize: --tokenizer: 'words' is not gpt2 or bytes\n");
    ck_assert_int_eq(run_tokenize("", "--frobnicate", out, sizeof out), 2);
    ck_assert_str_eq(out, "gpt_tokenize: unknown flag '--frobnicate' (see --help)\n");
    ck_assert_int_eq(run_tokenize("", "--help", out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "usage: gpt_tokenize"));
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/examples/gpt_tokenize --vocab /nonexistent </dev/null 2>&1",
             ATTOGRAD_BUILD_DIR);
    ck_assert_int_eq(testutil_capture(cmd, out, sizeof out), 1);
    ck_assert_ptr_nonnull(strstr(out, "/nonexistent/encoder.json: cannot open"));
}
END_TEST

static void remove_tmpdir(void)
{
    if (!tmpdir[0]) return;
    unlink(tmp_path("encoder.json"));
    unlink(tmp_path("vocab.bpe"));
    rmdir(tmpdir);
    tmpdir[0] = '\0';
}

/* gpt_tokenize --decode prints what Python's tokenizer.decode gives for
 * every dec_<case> of finetune_decode.txt (as test_decode_replace_matches_python
 * reads them), byte for byte; --raw the ids' bytes. */
START_TEST(test_gpt_tokenize_decode_matches_python)
{
    FILE *f = fopen(ATTOGRAD_REFERENCE_DIR "/finetune_decode.txt", "r");
    ck_assert_ptr_nonnull(f);
    char line[256];
    int cases = 0;
    while (fgets(line, sizeof line, f)) {
        char name[128];
        size_t len;
        if (sscanf(line, "@dec_%120s", name) != 1 || (len = strlen(name)) < 3 ||
            strcmp(name + len - 3, "_in") != 0)
            continue;
        name[len - 3] = '\0';
        char in_name[140], out_name[140], ids[4096] = "", args[64], out[4096];
        snprintf(in_name, sizeof in_name, "dec_%s_in", name);
        snprintf(out_name, sizeof out_name, "dec_%s_out", name);
        TensorScope *scope = tensor_scope_begin();
        Tensor *in = testutil_fixture("finetune_decode.txt", in_name);
        Tensor *want = testutil_fixture("finetune_decode.txt", out_name);
        for (int64_t i = 0, at = 0; i < in->numel; i++)
            at += snprintf(ids + at, sizeof ids - (size_t)at, " %lld", (long long)in->data[i]);
        bool is_gpt2 = strncmp(name, "gpt2_", 5) == 0;
        snprintf(args, sizeof args, "--decode --tokenizer %s", is_gpt2 ? "gpt2" : "bytes");
        ck_assert_int_eq(run_tokenize(ids, args, out, sizeof out), 0);
        ck_assert_msg(strlen(out) == (size_t)want->numel, "%s: %zu bytes, Python %lld", name,
                      strlen(out), (long long)want->numel);
        for (int64_t i = 0; i < want->numel; i++)
            ck_assert_msg((unsigned char)out[i] == (unsigned char)want->data[i],
                          "%s: byte %lld is 0x%02x, Python's 0x%02x", name, (long long)i,
                          (unsigned char)out[i], (unsigned)want->data[i]);
        tensor_scope_end(scope);
        cases++;
    }
    fclose(f);
    ck_assert_int_eq(cases, 26);
    char out[256];
    ck_assert_int_eq(run_tokenize("99 97 102 195", "--decode --raw --tokenizer bytes", out,
                                  sizeof out), 0);
    ck_assert_str_eq(out, "caf\xc3");
    ck_assert_int_eq(run_tokenize("", "--raw", out, sizeof out), 2);
    ck_assert_str_eq(out, "gpt_tokenize: --raw needs --decode (it prints ids' bytes)\n");
}
END_TEST

/* finetune_decode.txt (gen_finetune.py): for every dec_<case>, the ids
 * (bytes tokenizer: the bytes; gpt2_ cases: GPT-2 ids that cut a non-ASCII
 * text) and what Python's tokenizer.decode gives, as UTF-8 bytes:
 * text_decode_replace gives those bytes exactly. */
START_TEST(test_decode_replace_matches_python)
{
    TextTokenizer *bytes = text_tokenizer_bytes(), *bpe = gpt2();
    FILE *f = fopen(ATTOGRAD_REFERENCE_DIR "/finetune_decode.txt", "r");
    ck_assert_ptr_nonnull(f);
    char line[256];
    int cases = 0, gpt2_cases = 0;
    while (fgets(line, sizeof line, f)) {
        char name[128];
        size_t len;
        if (sscanf(line, "@dec_%120s", name) != 1 || (len = strlen(name)) < 3 ||
            strcmp(name + len - 3, "_in") != 0)
            continue;
        name[len - 3] = '\0';
        char in_name[140], out_name[140];
        snprintf(in_name, sizeof in_name, "dec_%s_in", name);
        snprintf(out_name, sizeof out_name, "dec_%s_out", name);
        TensorScope *scope = tensor_scope_begin();
        Tensor *in = testutil_fixture("finetune_decode.txt", in_name);
        Tensor *want = testutil_fixture("finetune_decode.txt", out_name);
        int64_t *ids = malloc((size_t)in->numel * sizeof *ids);
        for (int64_t i = 0; i < in->numel; i++) ids[i] = (int64_t)in->data[i];
        bool is_gpt2 = strncmp(name, "gpt2_", 5) == 0;
        size_t n;
        char *got = text_decode_replace(is_gpt2 ? bpe : bytes, ids, (size_t)in->numel, &n);
        ck_assert_msg(got != NULL, "%s: %s", name, tensor_error());
        ck_assert_msg(n == (size_t)want->numel, "%s: %zu bytes, Python %lld", name, n,
                      (long long)want->numel);
        for (size_t i = 0; i < n; i++)
            ck_assert_msg((unsigned char)got[i] == (unsigned char)want->data[i],
                          "%s: byte %zu is 0x%02x, Python's 0x%02x", name, i,
                          (unsigned char)got[i], (unsigned)want->data[i]);
        ck_assert_int_eq(got[n], '\0');
        free(got);
        free(ids);
        tensor_scope_end(scope);
        cases++;
        gpt2_cases += is_gpt2;
    }
    fclose(f);
    ck_assert_int_eq(cases, 26);
    ck_assert_int_eq(gpt2_cases, 8);
    /* valid text is text_decode's bytes; a NULL len is allowed; bad ids fail as text_decode */
    int64_t hello[] = {72, 105, 0, 33};
    char *got = text_decode_replace(bytes, hello, 4, NULL);
    ck_assert_mem_eq(got, "Hi\0!", 5);
    free(got);
    ck_assert_error_has(text_decode_replace(bytes, (int64_t[]){300}, 1, NULL),
                        "text_decode: id 300 at 0 is outside the bytes vocabulary [0, 256)");
    got = text_decode_replace(bytes, NULL, 0, &(size_t){0});
    ck_assert_str_eq(got, "");
    free(got);
    text_tokenizer_free(bytes);
    text_tokenizer_free(bpe);
}
END_TEST

static Suite *text_suite(void)
{
    const char *env = getenv("ATTOGRAD_VOCAB_DIR");
    snprintf(vocab_dir, sizeof vocab_dir, "%s", env && *env ? env : ATTOGRAD_VOCAB_DEFAULT);
    Suite *s = suite_create("text");
    TCase *tc = tcase_create("tokenizer");
    tcase_set_timeout(tc, 60);   /* loading the vocabulary under a sanitizer takes seconds */
    tcase_add_test(tc, test_gpt2_fixtures);
    tcase_add_test(tc, test_gpt2_long_runs);
    tcase_add_test(tc, test_gpt2_book_ids);
    tcase_add_test(tc, test_bytes_tokenizer);
    tcase_add_test(tc, test_invalid_utf8);
    tcase_add_test(tc, test_decode_replace_matches_python);
    tcase_add_test(tc, test_gpt_tokenize_program);
    tcase_add_test(tc, test_gpt_tokenize_decode_matches_python);
    tcase_add_checked_fixture(tc, NULL, remove_tmpdir);
    tcase_add_test(tc, test_own_vocabulary);
    tcase_add_test(tc, test_bad_vocabulary);
    tcase_add_test(tc, test_vocabulary_files_checked);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(text_suite)
