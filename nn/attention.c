/*
 * The book's chapter 3 attention modules, forward passes written as the
 * book's Python reads.  Every forward takes x: (T, d_in) or (B, T, d_in);
 * keys are transposed on their last two dims, which is the book's keys.T
 * for one sequence and keys.transpose(1, 2) for a batch.
 *
 * Constructors draw from the default generator in the book's order (query,
 * key, value, then out_proj), so a seed gives PyTorch's weights.
 *
 * The causal modules compute the book's queries @ keys^T and weights @
 * values only where the mask lets values through (tensor_matmul_tril,
 * tensor_tril_matmul): half the products at full context, each kept value
 * with the full products' bits.
 */
#include "nn_internal.h"
#include "tensor/ops/kv_cache.h"

#include <math.h>
#include <stdlib.h>

/* ---- shared pieces -------------------------------------------------------- */

/* The number of tokens T of x: (T, d_in) or (B, T, d_in); -1 with a message
 * naming the module otherwise.  context_length 0: any T. */
static int64_t check_input(const Module *m, const Tensor *x, int64_t d_in,
                           int64_t context_length)
{
    if ((x->ndim != 2 && x->ndim != 3) || x->shape[x->ndim - 1] != d_in) {
        tensor_set_error("%s: input %s: expected (T, %lld) or (B, T, %lld)", m->type,
                         tensor_shape_str(x), (long long)d_in, (long long)d_in);
        return -1;
    }
    int64_t T = x->shape[x->ndim - 2];
    if (context_length > 0 && T > context_length) {
        tensor_set_error("%s: input %s: %lld tokens exceed context_length %lld", m->type,
                         tensor_shape_str(x), (long long)T, (long long)context_length);
        return -1;
    }
    return T;
}

/* The weights of causal attention: future scores (above the diagonal) hidden,
 * the rest scaled, softmaxed along the keys.  The book writes
 *   mask_bool = mask[:T, :T]; scores.masked_fill_(mask_bool, -inf)
 *   softmax(scores / sqrt(d), dim=-1)
 * tensor_causal_softmax gives its bits in one pass.  With a cache, scores'
 * t rows are the queries at positions [q0, q0 + t) and its T columns the
 * keys at [0, T): the book's mask[q0:q0 + t, :T].  The "mask" buffer stays in
 * the state_dict as PyTorch's and holds that pattern; being what the
 * forward applies, it is a fixed buffer: a file with another mask (zeros, a
 * NaN) is refused at load, where the book's model would apply it. */
static Tensor *causal_weights(const Tensor *scores, int64_t head_dim, int64_t q0)
{
    return tensor_causal_softmax(scores, sqrtf((float)head_dim), q0);
}

/* A child Linear / Dropout registered under name; NULL if it could not be made. */
static Linear *add_linear(Module *parent, const char *name, int64_t in, int64_t out, bool bias)
{
    return (Linear *)nn_child(parent, name, nn_linear(in, out, bias));
}

static Dropout *add_dropout(Module *parent, float p)
{
    return (Dropout *)nn_child(parent, "dropout", nn_dropout(p));
}

/* The buffer "mask" = triu(ones(context_length, context_length), diagonal=1). */
static Tensor *add_causal_mask(Module *m, int64_t context_length)
{
    TensorScope *scope = tensor_scope_begin();
    Tensor *ones = tensor_ones(SHAPE(context_length, context_length));
    Tensor *mask = nn__fixed_buffer(m, "mask", tensor_triu(ones, 1));
    tensor_scope_end(scope);
    return mask;
}

/* When k asks, a long-lived detached copy of weights replaces what k held.
 * false (a message set) when the copy cannot be made. */
static bool keep_weights(NNAttentionKept *k, const Tensor *weights)
{
    if (!k->keep || !weights) return true;
    Tensor *copy = tensor_keep(tensor_detach(weights));
    if (!copy) return false;
    tensor_free(k->weights);
    k->weights = copy;
    return true;
}

static void attention_destroy(Module *m);

static bool sizes_ok(const char *type, int64_t d_in, int64_t d_out, int64_t context_length,
                     float dropout)
{
    if (d_in <= 0 || d_out <= 0 || context_length <= 0) {
        tensor_set_error("%s: d_in %lld, d_out %lld and context_length %lld must be positive",
                         type, (long long)d_in, (long long)d_out, (long long)context_length);
        return false;
    }
    if (!(dropout >= 0.0f && dropout <= 1.0f)) {
        tensor_set_error("%s: dropout probability has to be between 0 and 1, but got %g", type,
                         (double)dropout);
        return false;
    }
    return true;
}

/* ---- Listing 3.1: SelfAttention_v1 ---------------------------------------- */

static Tensor *v1_forward(Module *m, const Tensor *x)
{
    SelfAttentionV1 *sa = (SelfAttentionV1 *)m;
    if (check_input(m, x, sa->d_in, 0) < 0) return NULL;
    Tensor *keys    = tensor_matmul(x, sa->W_key);
    Tensor *queries = tensor_matmul(x, sa->W_query);
    Tensor *values  = tensor_matmul(x, sa->W_value);
    Tensor *scores  = tensor_matmul(queries, tensor_transpose(keys, -2, -1));   /* omega */
    Tensor *weights = tensor_softmax(tensor_div_scalar(scores, sqrtf((float)sa->d_out)), -1);
    if (!keep_weights(&sa->kept, weights)) return NULL;
    return tensor_matmul(weights, values);                                       /* context */
}

Module *nn_self_attention_v1(int64_t d_in, int64_t d_out)
{
    if (d_in <= 0 || d_out <= 0)
        return tensor_set_error("SelfAttention_v1: d_in %lld and d_out %lld must be positive",
                                (long long)d_in, (long long)d_out);
    SelfAttentionV1 *sa = nn_module_new(sizeof *sa, NN_TYPE_NAME_SelfAttentionV1, v1_forward);
    if (!sa) return NULL;
    sa->base.destroy = attention_destroy;
    sa->d_in = d_in;
    sa->d_out = d_out;
    TensorScope *scope = tensor_scope_begin();
    sa->W_query = nn_parameter(NN(sa), "W_query", tensor_rand(SHAPE(d_in, d_out)));
    sa->W_key   = nn_parameter(NN(sa), "W_key", tensor_rand(SHAPE(d_in, d_out)));
    sa->W_value = nn_parameter(NN(sa), "W_value", tensor_rand(SHAPE(d_in, d_out)));
    tensor_scope_end(scope);
    return nn_module_ok(NN(sa));
}

/* ---- Listing 3.2: SelfAttention_v2 ---------------------------------------- */

static Tensor *v2_forward(Module *m, const Tensor *x)
{
    SelfAttentionV2 *sa = (SelfAttentionV2 *)m;
    if (check_input(m, x, sa->d_in, 0) < 0) return NULL;
    Tensor *keys    = nn_forward(NN(sa->W_key), x);
    Tensor *queries = nn_forward(NN(sa->W_query), x);
    Tensor *values  = nn_forward(NN(sa->W_value), x);
    Tensor *scores  = tensor_matmul(queries, tensor_transpose(keys, -2, -1));
    Tensor *weights = tensor_softmax(tensor_div_scalar(scores, sqrtf((float)sa->d_out)), -1);
    if (!keep_weights(&sa->kept, weights)) return NULL;
    return tensor_matmul(weights, values);
}

Module *nn_self_attention_v2(int64_t d_in, int64_t d_out, bool qkv_bias)
{
    if (d_in <= 0 || d_out <= 0)
        return tensor_set_error("SelfAttention_v2: d_in %lld and d_out %lld must be positive",
                                (long long)d_in, (long long)d_out);
    SelfAttentionV2 *sa = nn_module_new(sizeof *sa, NN_TYPE_NAME_SelfAttentionV2, v2_forward);
    if (!sa) return NULL;
    sa->base.destroy = attention_destroy;
    sa->d_in = d_in;
    sa->d_out = d_out;
    sa->W_query = add_linear(NN(sa), "W_query", d_in, d_out, qkv_bias);
    sa->W_key   = add_linear(NN(sa), "W_key", d_in, d_out, qkv_bias);
    sa->W_value = add_linear(NN(sa), "W_value", d_in, d_out, qkv_bias);
    return nn_module_ok(NN(sa));
}

/* ---- Exercise 3.1 ------------------------------------------------------------ */

/* Linear keeps weight as (d_out, d_in) and computes x @ weight^T; v1 keeps
 * W as (d_in, d_out) and computes x @ W.  So W = weight^T. */
int nn_self_attention_v1_load_v2(Module *v1_module, const Module *v2_module)
{
    static const char *const names[3][2] = {
        {"W_query", "W_query.weight"}, {"W_key", "W_key.weight"}, {"W_value", "W_value.weight"},
    };
    if (!v1_module || !v2_module) return -1;
    SelfAttentionV1 *v1 = NN_AS(SelfAttentionV1, v1_module);
    const SelfAttentionV2 *v2 = NN_AS(SelfAttentionV2, v2_module);
    if (!v1 || !v2) return -1;
    if (v2->W_query->bias) {
        tensor_set_error("self_attention_v1_load_v2: v2 has qkv biases, which v1 cannot hold");
        return -1;
    }
    int status = 0;
    TensorScope *scope = tensor_scope_begin();
    for (int i = 0; i < 3 && status == 0; i++) {
        Tensor *W = nn_get_parameter(NN(v1), names[i][0]);
        Tensor *weight_T = tensor_t(nn_get_parameter(NN(v2), names[i][1]));
        if (!W || !weight_T) {
            status = -1;
        } else if (!tensor_same_shape(W, weight_T)) {
            tensor_set_error("self_attention_v1_load_v2: %s: v1 holds %s, v2's weight^T is %s",
                             names[i][0], tensor_shape_str(W), tensor_shape_str(weight_T));
            status = -1;
        } else if (!tensor_copy_(W, weight_T)) {
            status = -1;
        }
    }
    tensor_scope_end(scope);
    return status;
}

/* ---- CausalAttention -------------------------------------------------------- */

static Tensor *causal_forward(Module *m, const Tensor *x)
{
    CausalAttention *ca = (CausalAttention *)m;
    int64_t T = check_input(m, x, ca->d_in, ca->context_length);
    if (T < 0) return NULL;
    Tensor *keys    = nn_forward(NN(ca->W_key), x);                  /* (..., T, d_out) */
    Tensor *queries = nn_forward(NN(ca->W_query), x);
    Tensor *values  = nn_forward(NN(ca->W_value), x);
    Tensor *keys_T  = tensor_transpose(keys, -2, -1);
    Tensor *scores  = tensor_matmul_tril(queries, keys_T, 0);        /* (..., T, T) */
    Tensor *weights = causal_weights(scores, ca->d_out, 0);
    if (!keep_weights(&ca->kept, weights)) return NULL;
    weights = nn_forward(NN(ca->dropout), weights);
    return tensor_tril_matmul(weights, values, 0);                   /* (..., T, d_out) */
}

Module *nn_causal_attention(int64_t d_in, int64_t d_out, int64_t context_length, float dropout,
                            bool qkv_bias)
{
    if (!sizes_ok("CausalAttention", d_in, d_out, context_length, dropout)) return NULL;
    CausalAttention *ca = nn_module_new(sizeof *ca, NN_TYPE_NAME_CausalAttention, causal_forward);
    if (!ca) return NULL;
    ca->base.destroy = attention_destroy;
    ca->d_in = d_in;
    ca->d_out = d_out;
    ca->context_length = context_length;
    ca->W_query = add_linear(NN(ca), "W_query", d_in, d_out, qkv_bias);
    ca->W_key   = add_linear(NN(ca), "W_key", d_in, d_out, qkv_bias);
    ca->W_value = add_linear(NN(ca), "W_value", d_in, d_out, qkv_bias);
    ca->dropout = add_dropout(NN(ca), dropout);
    ca->mask = add_causal_mask(NN(ca), context_length);
    return nn_module_ok(NN(ca));
}

/* ---- MultiHeadAttentionWrapper ---------------------------------------------- */

static Tensor *wrapper_forward(Module *m, const Tensor *x)
{
    MultiHeadAttentionWrapper *w = (MultiHeadAttentionWrapper *)m;
    if (check_input(m, x, w->d_in, w->context_length) < 0) return NULL;
    /* torch.cat([head(x) for head in self.heads], dim=-1) */
    Tensor **outs = malloc((size_t)w->num_heads * sizeof *outs);
    if (!outs) return tensor_set_error("MultiHeadAttentionWrapper: out of memory");
    for (int64_t h = 0; h < w->num_heads; h++) outs[h] = nn_forward(NN(w->heads[h]), x);
    Tensor *out = tensor_cat(w->num_heads, outs, -1);   /* (..., T, num_heads * d_out) */
    if (out && w->kept.keep) {
        /* each head kept its (..., T, T); stacked before T: (..., num_heads, T, T) */
        for (int64_t h = 0; h < w->num_heads; h++) outs[h] = w->heads[h]->kept.weights;
        Tensor *stacked = outs[0] ? tensor_stack(w->num_heads, outs, outs[0]->ndim - 2) : NULL;
        if (!stacked)
            out = tensor_set_error("MultiHeadAttentionWrapper: its heads keep no weights to "
                                   "stack (a head's nn_attention_keep_weights was cleared)");
        else if (!keep_weights(&w->kept, stacked))
            out = NULL;
    }
    free(outs);
    return out;
}

static void wrapper_destroy(Module *m)
{
    attention_destroy(m);
    free(((MultiHeadAttentionWrapper *)m)->heads);   /* the heads are children */
}

Module *nn_multi_head_attention_wrapper(int64_t d_in, int64_t d_out, int64_t context_length,
                                        float dropout, int64_t num_heads, bool qkv_bias)
{
    const char *type = NN_TYPE_NAME_MultiHeadAttentionWrapper;
    if (!sizes_ok(type, d_in, d_out, context_length, dropout)) return NULL;
    if (num_heads <= 0)
        return tensor_set_error("%s: num_heads %lld must be positive", type, (long long)num_heads);
    if (num_heads > NN_MAX_HEADS)
        return tensor_set_error("%s: num_heads %lld is more than %d", type, (long long)num_heads,
                                NN_MAX_HEADS);
    CausalAttention **heads = calloc((size_t)num_heads, sizeof *heads);
    if (!heads) return tensor_set_error("%s: out of memory", type);
    MultiHeadAttentionWrapper *w = nn_module_new(sizeof *w, type, wrapper_forward);
    if (!w) {
        free(heads);
        return NULL;
    }
    w->base.destroy = wrapper_destroy;
    w->d_in = d_in;
    w->d_out = d_out;
    w->context_length = context_length;
    w->num_heads = num_heads;
    w->heads = heads;
    /* nn.ModuleList names its items "0", "1", ...: state_dict says "heads.0.". */
    Module *list = nn_child(NN(w), "heads", nn_module_list());
    for (int64_t h = 0; h < num_heads && list; h++)
        heads[h] = (CausalAttention *)nn_append(list, nn_causal_attention(d_in, d_out,
                                                                          context_length, dropout,
                                                                          qkv_bias));
    return nn_module_ok(NN(w));
}

/* ---- MultiHeadAttention ------------------------------------------------------ */

/* (..., T, d_out) -> view (..., T, num_heads, head_dim) -> transpose (..., num_heads, T, head_dim) */
static Tensor *split_heads(const MultiHeadAttention *mha, const Tensor *t)
{
    if (!t) return NULL;
    int64_t shape[TENSOR_MAX_DIMS];
    for (int i = 0; i < t->ndim - 1; i++) shape[i] = t->shape[i];
    shape[t->ndim - 1] = mha->num_heads;
    shape[t->ndim] = mha->head_dim;
    return tensor_transpose(tensor_view(t, t->ndim + 1, shape), -3, -2);
}

/* (..., num_heads, T, head_dim) -> transpose (..., T, num_heads, head_dim) ->
 * contiguous -> view (..., T, d_out) */
static Tensor *merge_heads(const MultiHeadAttention *mha, const Tensor *t)
{
    if (!t) return NULL;
    Tensor *c = tensor_contiguous(tensor_transpose(t, -3, -2));
    if (!c) return NULL;
    int64_t shape[TENSOR_MAX_DIMS];
    for (int i = 0; i < c->ndim - 2; i++) shape[i] = c->shape[i];
    shape[c->ndim - 2] = mha->d_out;
    return tensor_view(c, c->ndim - 1, shape);
}

/* Rows of queries up to which a cached forward in an autocast region reads
 * the keys and values from their bf16 panels: a token's one, and the few
 * of a short refill (longer runs are the prompt's, in the full products). */
enum { PANEL_ROWS = 32 };

/* The attention of queries (..., H, t, hd) at positions [q0, q0 + t) over
 * keys and values (..., H, T, hd) at [0, T), through out_proj; kv: the
 * same keys and values in bf16 panels, or NULL. */
static Tensor *attend(MultiHeadAttention *mha, const Tensor *queries, const Tensor *keys,
                      const Tensor *values, int64_t q0, const TensorKVPanels *kv)
{
    if (!queries || !keys) return NULL;
    int64_t t = queries->shape[queries->ndim - 2], T = keys->shape[keys->ndim - 2];
    bool panels = kv && t <= PANEL_ROWS && tensor_is_autocast_enabled();
    Tensor *scores  = panels ? tensor__kv_scores(kv, queries, T, q0)
                             : tensor_matmul_tril(queries, tensor_transpose(keys, -2, -1), q0);
    Tensor *weights = causal_weights(scores, mha->head_dim, q0);             /* (..., H, t, T) */
    if (!keep_weights(&mha->kept, weights)) return NULL;                     /* (..., H, t, T) */
    weights = nn_forward(NN(mha->dropout), weights);
    Tensor *context = !weights ? NULL
                      : panels ? tensor__kv_context(kv, weights, T, q0)
                               : tensor_tril_matmul(weights, values, q0);   /* (..., H, t, hd) */
    context = merge_heads(mha, context);                                     /* (..., t, d_out) */
    return nn_forward(NN(mha->out_proj), context);
}

static Tensor *mha_forward(Module *m, const Tensor *x)
{
    MultiHeadAttention *mha = (MultiHeadAttention *)m;
    int64_t T = check_input(m, x, mha->d_in, mha->context_length);
    if (T < 0) return NULL;
    Tensor *keys    = split_heads(mha, nn_forward(NN(mha->W_key), x));    /* (..., H, T, hd) */
    Tensor *queries = split_heads(mha, nn_forward(NN(mha->W_query), x));
    Tensor *values  = split_heads(mha, nn_forward(NN(mha->W_value), x));
    return attend(mha, queries, keys, values, 0, NULL);
}

/* rows [n0, n0 + t) of cache (B, H, capacity, hd) = new (B, H, t, hd);
 * returns rows [0, n0 + t). */
static Tensor *cache_append(Tensor *cache, const Tensor *new_rows, int64_t n0)
{
    if (!new_rows) return NULL;
    int64_t t = new_rows->shape[2];
    if (!tensor_copy_(tensor_narrow(cache, 2, n0, t), new_rows)) return NULL;
    return tensor_narrow(cache, 2, 0, n0 + t);
}

Tensor *nn__mha_forward_cached(MultiHeadAttention *mha, const Tensor *x, Tensor *k_cache,
                               Tensor *v_cache, TensorKVPanels *kv, int64_t n0)
{
    if (!x) return NULL;
    int64_t t = check_input(NN(mha), x, mha->d_in, mha->context_length);
    if (t < 0) return NULL;
    if (x->ndim != 3 || tensor_is_grad_enabled() || n0 < 0 || n0 + t > k_cache->shape[2])
        return tensor_set_error("%s: cached forward of %s after %lld positions: needs "
                                "(B, t, %lld) under no-grad within the cache's %lld positions",
                                mha->base.type, tensor_shape_str(x), (long long)n0,
                                (long long)mha->d_in,
                                (long long)k_cache->shape[2]);
    Tensor *new_k   = split_heads(mha, nn_forward(NN(mha->W_key), x));       /* (B, H, t, hd) */
    Tensor *queries = split_heads(mha, nn_forward(NN(mha->W_query), x));
    Tensor *new_v   = split_heads(mha, nn_forward(NN(mha->W_value), x));
    Tensor *keys    = cache_append(k_cache, new_k, n0);                      /* (B, H, n0+t, hd) */
    Tensor *values  = cache_append(v_cache, new_v, n0);
    if (!keys || !values) return NULL;
    if (kv) tensor__kv_panels_append(kv, new_k, new_v, n0);
    return attend(mha, queries, keys, values, n0, kv);
}

Module *nn_multi_head_attention(int64_t d_in, int64_t d_out, int64_t context_length,
                                float dropout, int64_t num_heads, bool qkv_bias)
{
    const char *type = NN_TYPE_NAME_MultiHeadAttention;
    if (!sizes_ok(type, d_in, d_out, context_length, dropout)) return NULL;
    if (num_heads <= 0)
        return tensor_set_error("%s: num_heads %lld must be positive", type, (long long)num_heads);
    if (d_out % num_heads != 0)
        return tensor_set_error("%s: d_out %lld must be divisible by num_heads %lld", type,
                                (long long)d_out, (long long)num_heads);
    MultiHeadAttention *mha = nn_module_new(sizeof *mha, type, mha_forward);
    if (!mha) return NULL;
    mha->base.destroy = attention_destroy;
    mha->d_in = d_in;
    mha->d_out = d_out;
    mha->num_heads = num_heads;
    mha->head_dim = d_out / num_heads;
    mha->context_length = context_length;
    mha->W_query  = add_linear(NN(mha), "W_query", d_in, d_out, qkv_bias);
    mha->W_key    = add_linear(NN(mha), "W_key", d_in, d_out, qkv_bias);
    mha->W_value  = add_linear(NN(mha), "W_value", d_in, d_out, qkv_bias);
    mha->out_proj = add_linear(NN(mha), "out_proj", d_out, d_out, true);
    mha->dropout  = add_dropout(NN(mha), dropout);
    mha->mask = add_causal_mask(NN(mha), context_length);
    return nn_module_ok(NN(mha));
}

/* ---- The weights of the last forward, for pictures ----------------------------- */

/* The record m keeps, or NULL with a message naming op and m's type. */
static NNAttentionKept *kept_of(const char *op, const Module *m)
{
    if (m->forward == v1_forward) return &((SelfAttentionV1 *)m)->kept;
    if (m->forward == v2_forward) return &((SelfAttentionV2 *)m)->kept;
    if (m->forward == causal_forward) return &((CausalAttention *)m)->kept;
    if (m->forward == wrapper_forward) return &((MultiHeadAttentionWrapper *)m)->kept;
    if (m->forward == mha_forward) return &((MultiHeadAttention *)m)->kept;
    return tensor_set_error("%s: %s is not an attention module (SelfAttention_v1, "
                            "SelfAttention_v2, CausalAttention, MultiHeadAttentionWrapper, "
                            "MultiHeadAttention)", op, m->type);
}

static void attention_destroy(Module *m)
{
    NNAttentionKept *k = kept_of("destroy", m);
    tensor_free(k->weights);
    k->weights = NULL;
}

int nn_attention_keep_weights(Module *m, bool keep)
{
    if (!m) return -1;
    NNAttentionKept *k = kept_of("nn_attention_keep_weights", m);
    if (!k) return -1;
    if (m->forward == wrapper_forward) {
        MultiHeadAttentionWrapper *w = (MultiHeadAttentionWrapper *)m;
        for (int64_t h = 0; h < w->num_heads; h++)
            nn_attention_keep_weights(NN(w->heads[h]), keep);
    }
    k->keep = keep;
    if (!keep) {
        tensor_free(k->weights);
        k->weights = NULL;
    }
    return 0;
}

const Tensor *nn_attention_weights(const Module *m)
{
    if (!m) return NULL;
    NNAttentionKept *k = kept_of("nn_attention_weights", m);
    if (!k) return NULL;
    if (!k->weights)
        return tensor_set_error("nn_attention_weights: %s keeps no weights (%s)", m->type,
                                k->keep ? "no forward since nn_attention_keep_weights"
                                        : "nn_attention_keep_weights was not set");
    return k->weights;
}

Tensor *nn_example_inputs(void)
{
    static const float inputs[NN_EXAMPLE_TOKENS * NN_EXAMPLE_DIM] = {
        0.43f, 0.15f, 0.89f, /* Your     (x^1) */
        0.55f, 0.87f, 0.66f, /* journey  (x^2) */
        0.57f, 0.85f, 0.64f, /* starts   (x^3) */
        0.22f, 0.58f, 0.33f, /* with     (x^4) */
        0.77f, 0.25f, 0.10f, /* one      (x^5) */
        0.05f, 0.80f, 0.55f, /* step     (x^6) */
    };
    return tensor_from_data(inputs, SHAPE(NN_EXAMPLE_TOKENS, NN_EXAMPLE_DIM));
}
