/*
 * The nn room's private header: what its files share and users do not
 * call.  Only the room's files, built with ATTOGRAD_NN_ROOM, include it.
 */
#ifndef ATTOGRAD_NN_INTERNAL_H
#define ATTOGRAD_NN_INTERNAL_H

#ifndef ATTOGRAD_NN_ROOM
#error "nn/nn_internal.h is private to the nn room (use nn/nn.h)"
#endif

#include "nn/nn.h"

/* MultiHeadAttention's forward for t new positions x (B, t, d_in) that
 * follow n0 earlier ones, whose keys and values are rows [0, n0) of
 * k_cache and v_cache (B, num_heads, capacity, head_dim); the new keys and
 * values are written to rows [n0, n0 + t) first.  No-grad only (the caches
 * are written in place).  Each new row's result has the bits the full
 * forward over n0 + t positions gives it: every product, softmax and mask
 * row sees the same values in the same order. */
Tensor *nn__mha_forward_cached(MultiHeadAttention *mha, const Tensor *x, Tensor *k_cache,
                               Tensor *v_cache, int64_t n0);

/*
 * nn_generate's fast path for a GPTModel: the logits of the last position
 * only, and keys and values kept from one token to the next.
 *
 * nn__gpt_cache_new(m, batch, capacity) makes the caches in the current
 * scope (for up to capacity positions); NULL without a message when m is
 * not a GPTModel, or capacity is not in [1, context_length].
 * nn__gpt_last_logits(m, cache, window, start) is logits[:, -1, :] (B, V)
 * of m's forward over window (B, t), which is ids [start, start + t) of
 * the sequence: while start is 0 and t fits the cache, only the positions
 * not yet cached are computed; once the window slides (start > 0) the
 * positions of the cached keys change, so the window is computed whole
 * (and the cache is not used again).  No-grad and eval mode only.
 */
typedef struct NNGPTCache NNGPTCache;
NNGPTCache *nn__gpt_cache_new(Module *m, int64_t batch, int64_t capacity);
Tensor *nn__gpt_last_logits(Module *m, NNGPTCache *cache, const Tensor *window, int64_t start);
void nn__gpt_cache_free(NNGPTCache *cache);          /* the struct; its tensors are the scope's */

#endif /* ATTOGRAD_NN_INTERNAL_H */
