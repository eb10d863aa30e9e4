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

/* nn_buffer, the buffer marked fixed: its values are the module's own
 * (the causal mask), which its forward applies without reading them, so a
 * load refuses a file whose values differ (nn_check_loaded) rather than keep
 * values the model would not honour. */
Tensor *nn__fixed_buffer(Module *m, const char *name, const Tensor *init);

/* Linear's forward: how lora.c knows a Linear that nn_linear made (the
 * only kind it may turn into a LinearWithLoRA in place). */
Tensor *nn__linear_forward(Module *m, const Tensor *x);
/* nn_linear with its initialisation drawn from gen (NULL: the default
 * generator): nn_gpt_replace_head's Linear. */
Module *nn__linear_drawn(int64_t in_features, int64_t out_features, bool bias,
                         TensorGenerator *gen);
/* What nn_linear allocates for a Linear: room for the LinearWithLoRA it may
 * become in place (lora.c), so that every pointer to it sees the wrapper. */
#define NN__LINEAR_BYTES \
    (sizeof(LinearWithLoRA) > sizeof(Linear) ? sizeof(LinearWithLoRA) : sizeof(Linear))

/* m's tensors, and those of the modules under it, get their full names
 * again (t->name, "trf_blocks.0.att.W_query.weight"): after tensors moved
 * from one module to another (lora.c). */
void nn__rename_tree(Module *m);

/* Each tensor of GPTModel(cfg)'s state_dict, its name and shape, as
 * nn_named_parameters then nn_named_buffers list them, from cfg alone (cfg
 * as nn_gpt_model accepts it); stops at, and returns, the first nonzero
 * visit. */
typedef int (*NNTensorVisit)(void *ctx, const char *name, int ndim, const int64_t *shape);
int nn__gpt_state_dict(NNGPTConfig cfg, NNTensorVisit visit, void *ctx);

/* While true (in this thread), nn_linear and nn_embedding register their
 * weights as zeros and only advance the default generator past the draws
 * they would make (tensor_uniform_skip, tensor_normal_skip): a model whose
 * weights a file is about to give (nn_gpt_load_hf) is built without
 * drawing them, and the generator ends where PyTorch's is after the same
 * constructor, which draws. */
extern _Thread_local bool nn__skip_draws;

/* MultiHeadAttention's forward for t new positions x (B, t, d_in) that
 * follow n0 earlier ones, whose keys and values are rows [0, n0) of
 * k_cache and v_cache (B, num_heads, capacity, head_dim); the new keys and
 * values are written to rows [n0, n0 + t) first, and to kv (bf16 panels of
 * the same, made in an autocast region; NULL: none), which a few new rows
 * in an autocast region then read instead.  No-grad only (the caches are
 * written in place).  Each new row's result has the bits the full forward
 * over n0 + t positions gives it: every product, softmax and mask row sees
 * the same values in the same order. */
typedef struct TensorKVPanels TensorKVPanels;
Tensor *nn__mha_forward_cached(MultiHeadAttention *mha, const Tensor *x, Tensor *k_cache,
                               Tensor *v_cache, TensorKVPanels *kv, int64_t n0);

/*
 * nn_generate's fast path for a GPTModel: the logits of the last position
 * only, and keys and values kept from one token to the next.
 *
 * nn__gpt_cache_new(m, batch, capacity) makes the caches in the current
 * scope (for up to capacity positions; in an autocast region also in bf16
 * panels, which nn__gpt_cache_free frees); NULL without a message when m is
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
