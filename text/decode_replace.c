/*
 * What the book prints for ids: Python's tokenizer.decode(ids), tiktoken's
 * bytes decoded with errors="replace".  CPython replaces each maximal
 * subpart of an ill-formed sequence with one U+FFFD (the Unicode Standard's
 * recommended practice, chapter 3, "U+FFFD Substitution of Maximal
 * Subparts"): a lead byte and the continuation bytes that could still
 * belong to it, up to the first byte that cannot.
 */
#include "text_internal.h"

#include <stdlib.h>
#include <string.h>

static const char REPLACEMENT[3] = {(char)0xEF, (char)0xBF, (char)0xBD};   /* U+FFFD */

/* How many bytes a sequence led by c has, and the range its second byte
 * must be in (the ranges that exclude overlong forms, surrogates and code
 * points above U+10FFFF); 0 for a byte that starts nothing (a continuation
 * byte, C0, C1, F5-FF). */
static int sequence(unsigned char c, unsigned char *lo, unsigned char *hi)
{
    *lo = 0x80;
    *hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) return 2;
    if (c == 0xE0) *lo = 0xA0;
    else if (c == 0xED) *hi = 0x9F;
    if (c >= 0xE0 && c <= 0xEF) return 3;
    if (c == 0xF0) *lo = 0x90;
    else if (c == 0xF4) *hi = 0x8F;
    if (c >= 0xF0 && c <= 0xF4) return 4;
    return 0;
}

/* The bytes of s[0, n) at out, ill-formed parts replaced; returns the bytes written
 * (at most 3n: a byte becomes at most one U+FFFD). */
static size_t replace_invalid(const unsigned char *s, size_t n, char *out)
{
    size_t at = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] < 0x80) {
            out[at++] = (char)s[i++];
            continue;
        }
        unsigned char lo, hi;
        int need = sequence(s[i], &lo, &hi);
        int k = 1;   /* bytes of the maximal subpart so far */
        if (need && i + 1 < n && s[i + 1] >= lo && s[i + 1] <= hi) {
            k = 2;
            while (k < need && i + (size_t)k < n && (s[i + k] & 0xC0) == 0x80) k++;
        }
        if (need && k == need) memcpy(out + at, s + i, (size_t)k), at += (size_t)k;
        else memcpy(out + at, REPLACEMENT, sizeof REPLACEMENT), at += sizeof REPLACEMENT;
        i += (size_t)k;
    }
    return at;
}

char *text_decode_replace(const TextTokenizer *t, const int64_t *ids, size_t n, size_t *len)
{
    size_t raw_len;
    char *raw = text_decode(t, ids, n, &raw_len);
    if (!raw) return NULL;
    char *out = raw_len <= (SIZE_MAX - 1) / 3 ? malloc(3 * raw_len + 1) : NULL;
    if (!out) {
        free(raw);
        return tensor_set_error("text_decode_replace: out of memory for %zu bytes", raw_len);
    }
    size_t at = replace_invalid((const unsigned char *)raw, raw_len, out);
    free(raw);
    out[at] = '\0';
    if (len) *len = at;
    return out;
}
