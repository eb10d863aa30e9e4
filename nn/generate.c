/*
 * Text generation of the book's chapters 4 and 5 on ids (no tokenizer):
 * generate_text_simple (greedy) and generate (top-k, temperature, eos).
 *
 * Each new token is one forward pass over the last context_size ids, in
 * eval mode (no dropout) under no-grad, inside a scope of its own that is
 * ended before the next token: memory stays flat however many tokens are
 * made.  The ids go into one (B, T + max_new_tokens) tensor made in the
 * caller's scope; the result is a view of its first columns.
 *
 * For a GPTModel, the token's forward is nn__gpt_last_logits (gpt.c): the
 * out_head of the last position only, and the keys and values of earlier
 * positions kept in a cache while the ids fit the context.  Once the
 * window slides, every position's place in it changes, so each window is
 * computed whole, as the book's loop does: the ids stay exactly those of
 * the full forward, which gives each row the same bits.
 */
#include "nn_internal.h"

#include <math.h>

/* idx_next (B, 1) for the last position's logits (B, V), as the book's
 * generate: top-k keeps the logits >= the k-th largest (-inf elsewhere),
 * then temperature > 0 samples softmax(logits / temperature) with
 * torch.multinomial's draws, temperature 0 takes the argmax. */
static Tensor *next_ids(const Tensor *last, double temperature, int64_t top_k)
{
    const Tensor *logits = last;
    if (top_k > 0) {
        Tensor *top = tensor_topk(last, top_k, NULL);                      /* (B, k) */
        Tensor *min_val = tensor_narrow(top, 1, top_k - 1, 1);            /* (B, 1) */
        /* logits < min_val  <=>  min_val - logits > 0 */
        Tensor *below = tensor_relu(tensor_sub(min_val, last));
        logits = tensor_masked_fill(last, below, -INFINITY);
    }
    if (temperature > 0.0) {
        logits = tensor_div_scalar(logits, (float)temperature);
        logits = tensor_sub(logits, tensor_max_dim(logits, -1, true, NULL));
        return tensor_multinomial(tensor_softmax(logits, -1), 1, NULL);
    }
    return tensor_argmax(logits, -1, true);
}

/* True when every row of ids (B, 1) is eos_id (for one sequence: the
 * book's idx_next == eos_id). */
static bool all_eos(const Tensor *ids, int64_t eos_id)
{
    for (int64_t b = 0; b < ids->shape[0]; b++)
        if (tensor_get(ids, IDX(b, 0)) != (float)eos_id) return false;
    return true;
}

Tensor *nn_generate(Module *model, const Tensor *idx, int64_t max_new_tokens,
                    int64_t context_size, double temperature, int64_t top_k, int64_t eos_id)
{
    if (!model || !idx) return NULL;
    if (idx->ndim != 2 || idx->shape[1] < 1)
        return tensor_set_error("generate: idx %s must be (batch, tokens) ids",
                                tensor_shape_str(idx));
    if (max_new_tokens < 0 || context_size <= 0 || max_new_tokens > (1 << 24))
        return tensor_set_error("generate: max_new_tokens %lld must be in [0, 2^24] and "
                                "context_size %lld positive", (long long)max_new_tokens,
                                (long long)context_size);
    if (!(temperature >= 0.0) || isinf(temperature))
        return tensor_set_error("generate: temperature %g must be >= 0 (0: greedy)",
                                temperature);
    if (top_k < 0) return tensor_set_error("generate: top_k %lld must be >= 0 (0: off)",
                                           (long long)top_k);
    int64_t B = idx->shape[0], T0 = idx->shape[1];
    Tensor *out = tensor_empty(SHAPE(B, T0 + max_new_tokens));
    if (!out || !tensor_copy_(tensor_narrow(out, 1, 0, T0), idx)) return NULL;

    bool was_training = model->training;
    nn_train(model, false);
    tensor_no_grad_begin();
    TensorScope *run = tensor_scope_begin();
    int64_t total = T0 + max_new_tokens, capacity = total < context_size ? total : context_size;
    NNGPTCache *cache = max_new_tokens > 0 ? nn__gpt_cache_new(model, B, capacity) : NULL;
    int64_t n = T0;
    bool failed = false;
    while (n < total) {
        TensorScope *token = tensor_scope_begin();
        int64_t start = n > context_size ? n - context_size : 0;
        Tensor *window = tensor_narrow(out, 1, start, n - start);                /* (B, t) */
        Tensor *last;                                                             /* (B, V) */
        if (cache) {
            last = nn__gpt_last_logits(model, cache, window, start);
        } else {
            Tensor *logits = nn_forward(model, window);                          /* (B,t,V) */
            last = logits ? tensor_squeeze(tensor_narrow(logits, 1, logits->shape[1] - 1, 1),
                                           1) : NULL;
        }
        Tensor *next = NULL;
        if (last && last->ndim == 2 && top_k > last->shape[1])
            tensor_set_error("generate: top_k %lld is more than the vocabulary's %lld",
                             (long long)top_k, (long long)last->shape[1]);
        else if (last)
            next = next_ids(last, temperature, top_k);
        bool stop = !next || (eos_id >= 0 && all_eos(next, eos_id));
        failed = !next || (!stop && !tensor_copy_(tensor_narrow(out, 1, n, 1), next));
        tensor_scope_end(token);
        if (stop || failed) break;
        n++;
    }
    nn__gpt_cache_free(cache);
    tensor_scope_end(run);
    tensor_no_grad_end();
    nn_train(model, was_training);
    return failed ? NULL : tensor_narrow(out, 1, 0, n);
}

Tensor *nn_generate_text_simple(Module *model, const Tensor *idx, int64_t max_new_tokens,
                                int64_t context_size)
{
    /* argmax(softmax(logits)) is argmax(logits): softmax keeps the order. */
    return nn_generate(model, idx, max_new_tokens, context_size, 0.0, 0, -1);
}
