/*
 * libFuzzer target: the tokenizers (text/).  Any bytes given to text_encode
 * must either be refused as invalid UTF-8 or give ids that decode back to
 * the very same bytes, with GPT-2's BPE and with the bytes tokenizer; the
 * same bytes read as ids (two bytes each) must decode exactly when every id
 * is in the vocabulary.  GPT-2's vocabulary comes from ./run vocab.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attograd.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static TextTokenizer *toks[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    toks[0] = cli_tokenizer("fuzz_text", "gpt2", NULL);
    toks[1] = text_tokenizer_bytes();
    if (!toks[0] || !toks[1]) abort();
    return 0;
}

static void round_trip(const TextTokenizer *t, const uint8_t *data, size_t size, bool special)
{
    int64_t *ids;
    size_t n;
    if (text_encode(t, (const char *)data, size, special, &ids, &n) != 0) {
        if (strncmp(tensor_error(), "text_encode: invalid UTF-8 at byte ", 35) != 0) abort();
        tensor_clear_error();
        return;
    }
    if (n > size) abort();
    size_t len;
    char *back = text_decode(t, ids, n, &len);
    if (!back || len != size || memcmp(back, data, size) != 0) abort();
    free(back);
    free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!toks[0]) LLVMFuzzerInitialize(NULL, NULL);
    bool special = size && (data[0] & 1);
    for (int k = 0; k < 2; k++) round_trip(toks[k], data, size, special);
    size_t n = size / 2;
    int64_t *ids = malloc((n ? n : 1) * sizeof *ids);
    bool in_vocab = true;
    for (size_t i = 0; i < n; i++) {
        ids[i] = (int64_t)(data[2 * i] | data[2 * i + 1] << 8) - 1000;   /* some negative */
        in_vocab &= ids[i] >= 0 && ids[i] < TEXT_GPT2_VOCAB_SIZE;
    }
    size_t len;
    char *text = text_decode(toks[0], ids, n, &len);
    if ((text != NULL) != in_vocab) abort();
    if (!text) tensor_clear_error();
    free(text);
    free(ids);
    return 0;
}
