/*
 * libFuzzer target: the vocabulary reader (text/vocab.c): encoder.json
 * (json-c, strict), vocab.bpe and the checks between them, then BPE with
 * whatever merges they hold.  An input is the two files, split at its first
 * NUL byte (neither file holds one): encoder.json before it, vocab.bpe
 * after.  Any pair must be refused with a message naming one of the two
 * files, or give a tokenizer whose encode of a few texts decodes back to
 * the same bytes; never a crash, a leak or an out-of-bounds read (the fuzz
 * build adds ASan and UBSan).
 *
 *   build-fuzz/tests/fuzz/fuzz_vocab corpus_dir tests/fuzz/corpus_vocab
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "attograd.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fds[2];
static char paths[2][64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (fds[0] > 0) return 0;   /* the replay test calls this for each file */
    for (int k = 0; k < 2; k++) {
        fds[k] = memfd_create(k ? "vocab.bpe" : "encoder.json", 0);
        if (fds[k] < 0) abort();
        snprintf(paths[k], sizeof paths[k], "/proc/self/fd/%d", fds[k]);
    }
    return 0;
}

static void put(int k, const uint8_t *data, size_t size)
{
    if (ftruncate(fds[k], 0) != 0 || (size && pwrite(fds[k], data, size, 0) != (ssize_t)size))
        abort();
}

/* Texts whose pieces the merges of a small vocabulary reach: letters,
 * repeats, spaces, the special token, two-byte letters. */
static const char *const texts[] = {
    "abcab a", "aaaaaaaaaaaaaaaaa", "abababababa", "  a  b   c\n\n", "<|endoftext|>x<|endoftext|>",
    "h\xc3\xa9llo w\xc3\xb6rld 123 !!", "ab ab ab abc abc", "",
};

static void round_trips(const TextTokenizer *t)
{
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        size_t len = strlen(texts[i]), n, back_len;
        for (int special = 0; special < 2; special++) {
            int64_t *ids;
            if (text_encode(t, texts[i], len, special, &ids, &n) != 0) abort();
            for (size_t j = 0; j < n; j++)
                if (ids[j] < 0 || ids[j] >= text_vocab_size(t)) abort();
            char *back = text_decode(t, ids, n, &back_len);
            if (!back || back_len != len || memcmp(back, texts[i], len) != 0) abort();
            free(back);
            free(ids);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fds[0]) LLVMFuzzerInitialize(NULL, NULL);
    const uint8_t *nul = memchr(data, 0, size);
    size_t first = nul ? (size_t)(nul - data) : size;
    put(0, data, first);
    put(1, nul ? nul + 1 : data, nul ? size - first - 1 : 0);
    TextTokenizer *t = text_tokenizer_gpt2(paths[0], paths[1]);
    if (t) {
        if (strcmp(text_tokenizer_name(t), "gpt2") != 0) abort();
        round_trips(t);
        text_tokenizer_free(t);
    } else if (!strstr(tensor_error(), paths[0]) && !strstr(tensor_error(), paths[1])) {
        abort();   /* every refusal names the file */
    }
    tensor_clear_error();
    return 0;
}
