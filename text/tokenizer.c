/*
 * Encoding and decoding: GPT-2's byte-level BPE and the bytes tokenizer.
 * The tables come from vocab.c.
 */
#define _GNU_SOURCE   /* memmem */
#include "text/text_internal.h"

#include <stdlib.h>
#include <string.h>

static const char ENDOFTEXT[] = "<|endoftext|>";

/* The offset of the first byte that is not strict UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF), or len when all is. */
static size_t utf8_invalid_at(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (k == 0 || i + k > len) return i;
        uint32_t cp = k == 1 ? c : c & (0x7F >> k);
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return i;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < least[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) return i;
        i += k;
    }
    return len;
}

/* BPE on one piece of m bytes: its ids appended at out, their count returned.
 * Each round merges every occurrence, left to right, of the adjacent pair of
 * lowest rank (OpenAI's encoder.py); a piece of m bytes takes at most m - 1
 * rounds of O(m). */
static size_t bpe_piece(const TextTokenizer *t, const uint8_t *p, size_t m, int64_t *out,
                        int32_t *sym)
{
    for (size_t i = 0; i < m; i++) sym[i] = t->byte_id[p[i]];
    size_t k = m;
    while (k > 1) {
        const TextMerge *best = NULL;
        for (size_t i = 0; i + 1 < k; i++) {
            const TextMerge *mg = text__merge_find(t, sym[i], sym[i + 1]);
            if (mg && (!best || mg->rank < best->rank)) best = mg;
        }
        if (!best) break;
        int32_t left = (int32_t)(best->key >> 32), right = (int32_t)(uint32_t)best->key;
        size_t j = 0;
        for (size_t i = 0; i < k;) {
            if (i + 1 < k && sym[i] == left && sym[i + 1] == right) {
                sym[j++] = best->result;
                i += 2;
            } else sym[j++] = sym[i++];
        }
        k = j;
    }
    for (size_t i = 0; i < k; i++) out[i] = sym[i];
    return k;
}

/* Ordinary text (no special tokens) -> ids at out; returns the count, or
 * -1 with a message.  The regex's alternatives cover every character, so
 * the pieces tile the text. */
static long encode_ordinary(const TextTokenizer *t, const uint8_t *s, size_t len, int64_t *out,
                            int32_t *sym, pcre2_match_data *md)
{
    size_t n = 0, at = 0;
    while (at < len) {
        int rc = pcre2_match(t->pattern, s, len, at, PCRE2_NO_UTF_CHECK, md, NULL);
        if (rc < 0) {
            PCRE2_UCHAR msg[120];
            pcre2_get_error_message(rc, msg, sizeof msg);
            tensor_set_error("text_encode: PCRE2 at byte %zu: %s", at, (const char *)msg);
            return -1;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        n += bpe_piece(t, s + ov[0], ov[1] - ov[0], out + n, sym);
        at = ov[1];
    }
    return (long)n;
}

static int encode_gpt2(const TextTokenizer *t, const uint8_t *s, size_t len, bool allow_special,
                       int64_t *out, size_t *n)
{
    int32_t *sym = malloc((len ? len : 1) * sizeof *sym);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(t->pattern, NULL);
    int rc = sym && md ? 0 : -1;
    if (rc) tensor_set_error("text_encode: out of memory for %zu bytes", len);
    size_t count = 0, at = 0;
    const size_t eot_len = sizeof ENDOFTEXT - 1;
    while (rc == 0 && at <= len) {
        /* the next "<|endoftext|>", when it is special */
        const uint8_t *eot = allow_special && t->eot_id >= 0
            ? memmem(s + at, len - at, ENDOFTEXT, eot_len) : NULL;
        size_t end = eot ? (size_t)(eot - s) : len;
        long got = encode_ordinary(t, s + at, end - at, out + count, sym, md);
        if (got < 0) rc = -1;
        else count += (size_t)got;
        if (!eot) break;
        out[count++] = t->eot_id;
        at = end + eot_len;
    }
    pcre2_match_data_free(md);
    free(sym);
    *n = count;
    return rc;
}

int text_encode(const TextTokenizer *t, const char *text, size_t len, bool allow_special,
                int64_t **ids, size_t *n)
{
    if (!t || !ids || !n || (!text && len))
        return tensor_set_error("text_encode: NULL %s", !t ? "tokenizer" : !text ? "text"
                                : "output"), -1;
    *ids = NULL;
    *n = 0;
    const uint8_t *s = (const uint8_t *)text;
    size_t bad = utf8_invalid_at(s, len);
    if (bad < len)
        return tensor_set_error("text_encode: invalid UTF-8 at byte %zu (0x%02x)", bad, s[bad]), -1;
    /* every id takes at least one byte of text */
    int64_t *out = malloc((len ? len : 1) * sizeof *out);
    if (!out) return tensor_set_error("text_encode: out of memory for %zu bytes", len), -1;
    size_t count = len;
    if (t->pattern) {
        if (encode_gpt2(t, s, len, allow_special, out, &count) != 0) {
            free(out);
            return -1;
        }
    } else {
        for (size_t i = 0; i < len; i++) out[i] = s[i];
    }
    *ids = out;
    *n = count;
    return 0;
}

static size_t token_len(const TextTokenizer *t, int64_t id)
{
    return t->pattern ? t->token_start[id + 1] - t->token_start[id] : 1;
}

char *text_decode(const TextTokenizer *t, const int64_t *ids, size_t n, size_t *len)
{
    if (!t || (!ids && n)) return tensor_set_error("text_decode: NULL %s", t ? "ids" : "tokenizer");
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= t->vocab_size)
            return tensor_set_error("text_decode: id %lld at %zu is outside the %s vocabulary "
                                    "[0, %lld)", (long long)ids[i], i, t->name,
                                    (long long)t->vocab_size);
        total += token_len(t, ids[i]);
    }
    char *out = malloc(total + 1);
    if (!out) return tensor_set_error("text_decode: out of memory for %zu bytes", total);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (t->pattern) {
            size_t k = token_len(t, ids[i]);
            memcpy(out + at, t->token_bytes + t->token_start[ids[i]], k);
            at += k;
        } else out[at++] = (char)ids[i];
    }
    out[at] = '\0';
    if (len) *len = at;
    return out;
}

TextTokenizer *text_tokenizer_bytes(void)
{
    TextTokenizer *t = calloc(1, sizeof *t);
    if (!t) return tensor_set_error("text_tokenizer_bytes: out of memory");
    t->name = "bytes";
    t->vocab_size = 256;
    t->eot_id = -1;
    return t;
}

int64_t text_vocab_size(const TextTokenizer *t)
{
    return t ? t->vocab_size : -1;
}

const char *text_tokenizer_name(const TextTokenizer *t)
{
    return t ? t->name : "";
}
