/*
 * The layers without a file of their own: Dropout (torch.nn.Dropout), the
 * ones chapter 4 of the book adds: Embedding (torch.nn.Embedding), the
 * book's LayerNorm (scale and shift, biased variance, eps 1e-5), and
 * activations as modules (GELU, ReLU, Tanh, Sigmoid, SiLU, LeakyReLU,
 * Softplus) for Sequential.
 */
#include "nn_internal.h"

#include <math.h>
#include <stdint.h>

/* ---- Dropout ------------------------------------------------------------------- */

/* Zeroes each element with probability p and scales the rest by 1 / (1 - p)
 * in training mode; the identity in eval mode. */
static Tensor *dropout_forward(Module *m, const Tensor *x)
{
    Dropout *d = (Dropout *)m;
    return tensor_dropout(x, d->p, m->training, d->generator);
}

Module *nn_dropout(float p)
{
    if (!(p >= 0.0f && p <= 1.0f))
        return tensor_set_error("Dropout: probability has to be between 0 and 1, but got %g",
                                (double)p);
    Dropout *d = nn_module_new(sizeof *d, NN_TYPE_NAME_Dropout, dropout_forward);
    if (!d) return NULL;
    d->p = p;
    return NN(d);
}

/* ---- Embedding --------------------------------------------------------------- */

static Tensor *embedding_forward(Module *m, const Tensor *ids)
{
    return tensor_embedding(((Embedding *)m)->weight, ids);
}

Module *nn_embedding(int64_t num_embeddings, int64_t embedding_dim)
{
    if (num_embeddings <= 0 || embedding_dim <= 0)
        return tensor_set_error("Embedding: num_embeddings %lld and embedding_dim %lld must be "
                                "positive", (long long)num_embeddings, (long long)embedding_dim);
    Embedding *e = nn_module_new(sizeof *e, NN_TYPE_NAME_Embedding, embedding_forward);
    if (!e) return NULL;
    e->num_embeddings = num_embeddings;
    e->embedding_dim = embedding_dim;
    /* Registered as zeros (one expanded zero: no full-size temporary), then
     * drawn in place (normal_, randn's paths), as reset_parameters() does. */
    TensorScope *scope = tensor_scope_begin();
    e->weight = nn_parameter(NN(e), "weight", tensor_expand(tensor_zeros(SHAPE(1, 1)),
                                                            SHAPE(num_embeddings, embedding_dim)));
    tensor_scope_end(scope);
    if (e->weight && nn__skip_draws) tensor_normal_skip(e->weight->numel, NULL);
    else if (e->weight) tensor_normal_(e->weight, 0.0f, 1.0f, NULL);
    return nn_module_ok(NN(e));
}

/* ---- LayerNorm ------------------------------------------------------------------ */

static Tensor *layer_norm_forward(Module *m, const Tensor *x)
{
    LayerNorm *ln = (LayerNorm *)m;
    if (x->ndim < 1 || x->shape[x->ndim - 1] != ln->emb_dim)
        return tensor_set_error("LayerNorm: input %s: expected last dim emb_dim = %lld",
                                tensor_shape_str(x), (long long)ln->emb_dim);
    return tensor_layer_norm(x, ln->scale, ln->shift, ln->eps);
}

Module *nn_layer_norm(int64_t emb_dim)
{
    if (emb_dim <= 0)
        return tensor_set_error("LayerNorm: emb_dim %lld must be positive", (long long)emb_dim);
    LayerNorm *ln = nn_module_new(sizeof *ln, NN_TYPE_NAME_LayerNorm, layer_norm_forward);
    if (!ln) return NULL;
    ln->emb_dim = emb_dim;
    ln->eps = 1e-5;
    TensorScope *scope = tensor_scope_begin();
    ln->scale = nn_parameter(NN(ln), "scale", tensor_ones(SHAPE(emb_dim)));
    ln->shift = nn_parameter(NN(ln), "shift", tensor_zeros(SHAPE(emb_dim)));
    tensor_scope_end(scope);
    return nn_module_ok(NN(ln));
}

/* ---- activations ------------------------------------------------------------------ */

static Tensor *gelu_forward(Module *m, const Tensor *x) { (void)m; return tensor_gelu(x); }
static Tensor *relu_forward(Module *m, const Tensor *x) { (void)m; return tensor_relu(x); }
static Tensor *tanh_forward(Module *m, const Tensor *x) { (void)m; return tensor_tanh(x); }
static Tensor *sigmoid_forward(Module *m, const Tensor *x) { (void)m; return tensor_sigmoid(x); }

Module *nn_gelu(void) { return nn_module_new(sizeof(Module), "GELU", gelu_forward); }
Module *nn_relu(void) { return nn_module_new(sizeof(Module), "ReLU", relu_forward); }
Module *nn_tanh(void) { return nn_module_new(sizeof(Module), "Tanh", tanh_forward); }
Module *nn_sigmoid(void) { return nn_module_new(sizeof(Module), "Sigmoid", sigmoid_forward); }

static Tensor *silu_forward(Module *m, const Tensor *x) { (void)m; return tensor_silu(x); }

Module *nn_silu(void) { return nn_module_new(sizeof(Module), "SiLU", silu_forward); }

static Tensor *leaky_relu_forward(Module *m, const Tensor *x)
{
    return tensor_leaky_relu(x, ((LeakyReLU *)m)->negative_slope);
}

Module *nn_leaky_relu(float negative_slope)
{
    if (!isfinite(negative_slope))
        return tensor_set_error("LeakyReLU: negative_slope %g must be finite",
                                (double)negative_slope);
    LeakyReLU *r = nn_module_new(sizeof *r, NN_TYPE_NAME_LeakyReLU, leaky_relu_forward);
    if (r) r->negative_slope = negative_slope;
    return NN(r);
}

static Tensor *softplus_forward(Module *m, const Tensor *x)
{
    Softplus *s = (Softplus *)m;
    return tensor_softplus(x, s->beta, s->threshold);
}

Module *nn_softplus(float beta, float threshold)
{
    if (!isfinite(beta) || beta == 0 || isnan(threshold))
        return tensor_set_error("Softplus: beta %g, threshold %g: beta must be finite and not "
                                "0, threshold a number", (double)beta, (double)threshold);
    Softplus *s = nn_module_new(sizeof *s, NN_TYPE_NAME_Softplus, softplus_forward);
    if (s) s->beta = beta, s->threshold = threshold;
    return NN(s);
}
