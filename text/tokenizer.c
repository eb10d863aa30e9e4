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

/*
 * BPE on one piece, with OpenAI's encoder.py's answer in O(m log m) for m
 * bytes.  encoder.py works in rounds: find the adjacent pair of lowest rank
 * and merge every occurrence of it, left to right (in "a a a" the first
 * two), until no pair has a rank; that is O(m) a round and up to m rounds,
 * minutes for a megabyte of letters without a space.
 *
 * Here, as in Hugging Face's tokenizers (Word::merge_all), the symbols are
 * a linked list (a symbol is named by the offset of its first byte) and
 * the adjacent pairs that have a rank wait in a min-heap ordered by (rank,
 * offset).  A round pops every pair of the lowest rank, left to right, and
 * merges each that is still there (a pair goes stale when a neighbour
 * merged first; it is then dropped).  The pairs a merge makes are held back
 * until the round ends: with a vocab.bpe whose ranks are not in the order
 * training made them, a new pair can rank below the round's own, and
 * encoder.py merges the round's other occurrences first.
 */
/* A pair: rank << 32 | the offset of its left symbol, so that < is (rank, offset) order. */
typedef uint64_t Pair;
#define PAIR(rank, at) ((uint64_t)(rank) << 32 | (uint64_t)(at))
#define PAIR_RANK(p) ((int32_t)((p) >> 32))
#define PAIR_AT(p) ((size_t)(uint32_t)(p))
#define BPE_PIECE_MAX ((size_t)UINT32_MAX)   /* offsets fit a Pair's low 32 bits */

/* Scratch for the longest piece so far: every array holds cap entries, the
 * heap 2 cap (it never holds more than 2m - 2: the m - 1 first pairs, then
 * at most two for each merge, and each merge pops one). */
typedef struct {
    size_t cap;
    int32_t *id;                 /* the symbol starting at byte i; -1 once merged into its left */
    uint32_t *next, *prev;       /* live neighbours; next == m: the last */
    Pair *heap;                  /* [0, n): the heap; the round's new pairs wait at the top end */
} Bpe;

static void heap_push(Pair *h, size_t *n, Pair p)
{
    size_t i = (*n)++;
    for (; i > 0 && p < h[(i - 1) / 2]; i = (i - 1) / 2) h[i] = h[(i - 1) / 2];
    h[i] = p;
}

static Pair heap_pop(Pair *h, size_t *n)
{
    Pair top = h[0], last = h[--*n];
    size_t i = 0;
    for (size_t c; (c = 2 * i + 1) < *n; i = c) {
        if (c + 1 < *n && h[c + 1] < h[c]) c++;
        if (h[c] >= last) break;
        h[i] = h[c];
    }
    h[i] = last;
    return top;
}

static int bpe_reserve(Bpe *b, size_t m)
{
    if (m <= b->cap) return 0;
    if (m > BPE_PIECE_MAX)
        return tensor_set_error("text_encode: a run of %zu bytes without a break; BPE takes runs "
                                "under 4 GiB", m), -1;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < m) cap *= 2;
    int32_t *id = realloc(b->id, cap * sizeof *id);
    if (id) b->id = id;
    uint32_t *next = realloc(b->next, cap * sizeof *next);
    if (next) b->next = next;
    uint32_t *prev = realloc(b->prev, cap * sizeof *prev);
    if (prev) b->prev = prev;
    Pair *heap = realloc(b->heap, 2 * cap * sizeof *heap);
    if (heap) b->heap = heap;
    if (!id || !next || !prev || !heap)
        return tensor_set_error("text_encode: out of memory for a piece of %zu bytes", m), -1;
    b->cap = cap;
    return 0;
}

static void bpe_free(Bpe *b)
{
    free(b->id);
    free(b->next);
    free(b->prev);
    free(b->heap);
}

/* The merge of the symbols at a and its right neighbour, or NULL. */
static const TextMerge *merge_at(const TextTokenizer *t, const Bpe *b, size_t a, size_t m)
{
    size_t c = b->next[a];
    return c < m ? text__merge_find(t, b->id[a], b->id[c]) : NULL;
}

/* The pair (a, its right neighbour), held back at the top end of the heap's
 * array until the round ends. */
static void hold_pair(const TextTokenizer *t, Bpe *b, size_t a, size_t m, size_t *held)
{
    const TextMerge *mg = merge_at(t, b, a, m);
    if (mg) b->heap[2 * b->cap - ++*held] = PAIR(mg->rank, a);
}

/* encoder.py's rounds as they are, for a piece of at most BPE_SHORT bytes
 * (most of prose's): the same ids without the heap's set-up, which makes
 * prose a third slower (bench_tokenizer). */
#define BPE_SHORT 16
static size_t bpe_short(const TextTokenizer *t, int32_t *sym, const uint8_t *p, size_t m,
                        int64_t *out)
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

/* The ids of the piece's m bytes appended at out; their count returned. */
static size_t bpe_piece(const TextTokenizer *t, Bpe *b, const uint8_t *p, size_t m, int64_t *out)
{
    if (m <= BPE_SHORT) return bpe_short(t, b->id, p, m, out);
    for (size_t i = 0; i < m; i++) {
        b->id[i] = t->byte_id[p[i]];
        b->next[i] = (uint32_t)(i + 1);
        b->prev[i] = (uint32_t)(i - 1);      /* unused for i = 0 */
    }
    size_t n = 0, held = 0;
    for (size_t i = 0; i + 1 < m; i++) {
        const TextMerge *mg = merge_at(t, b, i, m);
        if (mg) heap_push(b->heap, &n, PAIR(mg->rank, i));
    }
    while (n > 0) {
        int32_t rank = PAIR_RANK(b->heap[0]);
        while (n > 0 && PAIR_RANK(b->heap[0]) == rank) {
            size_t a = PAIR_AT(heap_pop(b->heap, &n));
            const TextMerge *mg = b->id[a] >= 0 ? merge_at(t, b, a, m) : NULL;
            if (!mg || mg->rank != rank) continue;     /* stale */
            size_t c = b->next[a];
            b->id[a] = mg->result;
            b->id[c] = -1;
            b->next[a] = b->next[c];
            if (b->next[c] < m) b->prev[b->next[c]] = (uint32_t)a;
            if (a > 0) hold_pair(t, b, b->prev[a], m, &held);
            hold_pair(t, b, a, m, &held);
        }
        for (; held > 0; held--) heap_push(b->heap, &n, b->heap[2 * b->cap - held]);
    }
    size_t k = 0;
    for (size_t i = 0; i < m; i = b->next[i]) out[k++] = b->id[i];
    return k;
}

/* Ordinary text (no special tokens) -> ids at out; returns the count, or
 * -1 with a message.  The regex's alternatives cover every character, so
 * the pieces tile the text. */
static long encode_ordinary(const TextTokenizer *t, const uint8_t *s, size_t len, int64_t *out,
                            Bpe *b, pcre2_match_data *md)
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
        if (bpe_reserve(b, ov[1] - ov[0]) != 0) return -1;
        n += bpe_piece(t, b, s + ov[0], ov[1] - ov[0], out + n);
        at = ov[1];
    }
    return (long)n;
}

static int encode_gpt2(const TextTokenizer *t, const uint8_t *s, size_t len, bool allow_special,
                       int64_t *out, size_t *n)
{
    Bpe b = {0};
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(t->pattern, NULL);
    int rc = md ? 0 : -1;
    if (rc) tensor_set_error("text_encode: out of memory for %zu bytes", len);
    size_t count = 0, at = 0;
    const size_t eot_len = sizeof ENDOFTEXT - 1;
    while (rc == 0 && at <= len) {
        /* the next "<|endoftext|>", when it is special */
        const uint8_t *eot = allow_special && t->eot_id >= 0
            ? memmem(s + at, len - at, ENDOFTEXT, eot_len) : NULL;
        size_t end = eot ? (size_t)(eot - s) : len;
        long got = encode_ordinary(t, s + at, end - at, out + count, &b, md);
        if (got < 0) rc = -1;
        else count += (size_t)got;
        if (!eot) break;
        out[count++] = t->eot_id;
        at = end + eot_len;
    }
    pcre2_match_data_free(md);
    bpe_free(&b);
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
