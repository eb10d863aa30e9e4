/*
 * The book's listing 5.1: text to a (1, n) tensor of ids and back (text.h).
 */
#include "text/text.h"

#include <stdlib.h>
#include <string.h>

Tensor *text_to_token_ids(const TextTokenizer *t, const char *text)
{
    if (!t || !text) return tensor_set_error("text_to_token_ids: tokenizer or text is NULL");
    int64_t *ids;
    size_t n;
    if (text_encode(t, text, strlen(text), true, &ids, &n) != 0) return NULL;
    Tensor *encoded = tensor_from_ids(ids, SHAPE(1, (int64_t)n));     /* unsqueeze(0) */
    free(ids);
    return encoded;
}

char *text_from_token_ids(const TextTokenizer *t, const Tensor *token_ids, size_t *len)
{
    if (len) *len = 0;
    if (!t) return tensor_set_error("text_from_token_ids: the tokenizer is NULL");
    if (!token_ids) return NULL;
    if (token_ids->ndim < 1 || token_ids->ndim > 2 ||
        (token_ids->ndim == 2 && token_ids->shape[0] != 1))
        return tensor_set_error("text_from_token_ids: ids %s: one sequence, (n) or (1, n)",
                                tensor_shape_str(token_ids));
    int64_t *ids, n;
    if (tensor_to_ids(token_ids, &ids, &n) != 0) return NULL;     /* squeeze(0).tolist() */
    char *text = text_decode_replace(t, ids, (size_t)n, len);   /* tokenizer.decode: a str */
    free(ids);
    return text;
}
