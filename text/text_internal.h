/* The text room's private header: the tokenizer's tables.  Only the
 * room's files, built with ATTOGRAD_TEXT_ROOM, include it. */
#ifndef ATTOGRAD_TEXT_INTERNAL_H
#define ATTOGRAD_TEXT_INTERNAL_H

#ifndef ATTOGRAD_TEXT_ROOM
#error "text/text_internal.h is private to the text room (use text/text.h)"
#endif

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "text/text.h"

/* One merge of vocab.bpe: the pair (left, right) of ids, its rank (line
 * order, lowest merges first) and the id of the merged token.  Open
 * addressing; rank -1 marks an empty slot. */
typedef struct {
    uint64_t key;                /* left << 32 | right */
    int32_t rank;
    int32_t result;
} TextMerge;

struct TextTokenizer {
    const char *name;            /* "gpt2", "bytes" */
    int64_t vocab_size;
    /* GPT-2 only (NULL / 0 for bytes) */
    pcre2_code *pattern;         /* GPT-2's pre-tokenisation regex */
    uint8_t *token_bytes;        /* every token's bytes, back to back */
    size_t *token_start;         /* token i: token_bytes[start[i], start[i+1]) */
    int32_t byte_id[256];        /* the one-byte tokens: BPE's starting symbols */
    TextMerge *merges;
    size_t merge_mask;           /* slots - 1, a power of two minus one */
    int64_t eot_id;              /* "<|endoftext|>"'s id, -1 when the vocabulary has none */
};

/* The rank and result of merging (left, right), or NULL when vocab.bpe has no such merge. */
const TextMerge *text__merge_find(const TextTokenizer *t, int32_t left, int32_t right);
/* GPT-2's regex, compiled (JIT when available); NULL with a message. */
pcre2_code *text__gpt2_pattern(void);

#endif /* ATTOGRAD_TEXT_INTERNAL_H */
