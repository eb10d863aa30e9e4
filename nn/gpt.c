/*
 * The book's chapter 4 GPT: FeedForward, TransformerBlock and GPTModel,
 * built in the book's construction order (the order their weights are
 * drawn) under the book's attribute names, so a seed gives PyTorch's
 * weights and nn_named_parameters gives its state_dict keys.  The
 * attention is chapter 3's MultiHeadAttention (attention.c).
 */
#include "nn_internal.h"
#include "tensor/ops/kv_cache.h"
#include "tensor/safetensors.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    Module base;
    int64_t context_length;
    Module *tok_emb, *pos_emb, *drop_emb, *trf_blocks, *final_norm, *out_head;
} GPTModel;

typedef struct {
    Module base;
    MultiHeadAttention *att;     /* typed: generation calls its cached forward */
    Module *ff, *norm1, *norm2, *drop_shortcut;
} TransformerBlock;

/* The sizes every module here needs, with a message naming the module. */
static bool config_ok(const char *type, NNGPTConfig cfg)
{
    if (cfg.vocab_size <= 0 || cfg.context_length <= 0 || cfg.emb_dim <= 0 ||
        cfg.n_heads <= 0 || cfg.n_layers <= 0) {
        tensor_set_error("%s: vocab_size %lld, context_length %lld, emb_dim %lld, n_heads %lld "
                         "and n_layers %lld must be positive", type, (long long)cfg.vocab_size,
                         (long long)cfg.context_length, (long long)cfg.emb_dim,
                         (long long)cfg.n_heads, (long long)cfg.n_layers);
        return false;
    }
    /* Ids are floats, exact up to 2^24; the feed-forward is 4 * emb_dim wide. */
    if (cfg.vocab_size > (1 << 24) || cfg.context_length > (1 << 24) ||
        cfg.emb_dim > INT_MAX / 4 || cfg.n_heads > NN_MAX_HEADS || cfg.n_layers > INT_MAX) {
        tensor_set_error("%s: vocab_size %lld and context_length %lld must be at most 2^24, "
                         "emb_dim %lld at most %d, n_heads %lld at most %d", type,
                         (long long)cfg.vocab_size, (long long)cfg.context_length,
                         (long long)cfg.emb_dim, INT_MAX / 4, (long long)cfg.n_heads,
                         NN_MAX_HEADS);
        return false;
    }
    if (cfg.emb_dim % cfg.n_heads != 0) {
        tensor_set_error("%s: emb_dim %lld must be divisible by n_heads %lld", type,
                         (long long)cfg.emb_dim, (long long)cfg.n_heads);
        return false;
    }
    if (!(cfg.drop_rate >= 0.0 && cfg.drop_rate < 1.0)) {
        tensor_set_error("%s: drop_rate %g must be in [0, 1)", type, cfg.drop_rate);
        return false;
    }
    return true;
}

/* ---- FeedForward: Linear(emb, 4 emb), GELU, Linear(4 emb, emb) ---------------- */

static Tensor *feed_forward_forward(Module *m, const Tensor *x)
{
    return nn_forward(nn_item(m, 0), x);   /* self.layers(x) */
}

Module *nn_feed_forward(NNGPTConfig cfg)
{
    if (!config_ok("FeedForward", cfg)) return NULL;
    int64_t emb = cfg.emb_dim;
    Module *ff = nn_module_new(sizeof(Module), "FeedForward", feed_forward_forward);
    if (!ff) return NULL;
    Module *layers = nn_child(ff, "layers", nn_sequential());
    if (!layers) return nn_module_ok(ff);
    nn_append(layers, nn_linear(emb, 4 * emb, true));
    nn_append(layers, nn_gelu());
    nn_append(layers, nn_linear(4 * emb, emb, true));
    return nn_module_ok(ff);
}

/* ---- TransformerBlock ------------------------------------------------------------ */

/* x + drop_shortcut(sub(norm(x))): the pre-norm residual of the book's forward. */
static Tensor *residual(TransformerBlock *b, Module *norm, Module *sub, const Tensor *x)
{
    Tensor *y = nn_forward(sub, nn_forward(norm, x));
    return tensor_add(nn_forward(b->drop_shortcut, y), x);
}

static Tensor *block_forward(Module *m, const Tensor *x)
{
    TransformerBlock *b = (TransformerBlock *)m;
    Tensor *h = residual(b, b->norm1, NN(b->att), x);
    return residual(b, b->norm2, b->ff, h);
}

Module *nn_transformer_block(NNGPTConfig cfg)
{
    if (!config_ok("TransformerBlock", cfg)) return NULL;
    TransformerBlock *b = nn_module_new(sizeof *b, "TransformerBlock", block_forward);
    if (!b) return NULL;
    float p = (float)cfg.drop_rate;
    b->att = (MultiHeadAttention *)nn_child(
        NN(b), "att", nn_multi_head_attention(cfg.emb_dim, cfg.emb_dim, cfg.context_length, p,
                                              cfg.n_heads, cfg.qkv_bias));
    b->ff = nn_child(NN(b), "ff", nn_feed_forward(cfg));
    b->norm1 = nn_child(NN(b), "norm1", nn_layer_norm(cfg.emb_dim));
    b->norm2 = nn_child(NN(b), "norm2", nn_layer_norm(cfg.emb_dim));
    b->drop_shortcut = nn_child(NN(b), "drop_shortcut", nn_dropout(p));
    return nn_module_ok(NN(b));
}

/* ---- GPTModel ---------------------------------------------------------------------- */

/* Keys and values of the positions generated so far, per block:
 * k[i], v[i] (B, n_heads, capacity, head_dim), rows [0, n) filled; kv[i]
 * the same in bf16 panels when the cache was made in an autocast region
 * (else kv is NULL), which a token reads instead: half the bytes. */
struct NNGPTCache {
    int64_t n, capacity;
    bool valid;                  /* false once the window slides */
    int layers;
    Tensor **k, **v;
    TensorKVPanels **kv;
};

/* One block over x (B, t, E) at positions [n0, n0 + t), its attention
 * reading and extending the cache of layer i; without a cache, the
 * block's forward. */
static Tensor *block_run(GPTModel *g, int i, const Tensor *x, NNGPTCache *c, int64_t n0)
{
    Module *m = nn_item(g->trf_blocks, i);
    if (!c) return nn_forward(m, x);
    TransformerBlock *b = (TransformerBlock *)m;
    Tensor *att = nn__mha_forward_cached(b->att, nn_forward(b->norm1, x), c->k[i], c->v[i],
                                         c->kv ? c->kv[i] : NULL, n0);
    Tensor *h = tensor_add(nn_forward(b->drop_shortcut, att), x);
    return residual(b, b->norm2, b->ff, h);
}

/* self.trf_blocks(x).  Under no-grad nothing needs a block's intermediates
 * once it is done, so each block runs in a scope of its own and only its
 * output is kept: generating at context 1024 holds one block's attention
 * scores (12 x 1024 x 1024 floats each), not twelve blocks'. */
static Tensor *run_blocks(GPTModel *g, Tensor *x, NNGPTCache *c, int64_t n0)
{
    if (tensor_is_grad_enabled() || !x) return nn_forward(g->trf_blocks, x);
    for (int i = 0; i < nn_len(g->trf_blocks); i++) {
        Tensor *y = tensor_empty(x->ndim, x->shape);
        if (!y) return NULL;
        TensorScope *block = tensor_scope_begin();
        Tensor *r = block_run(g, i, x, c, n0);
        bool ok = r && tensor_copy_(y, r);
        tensor_scope_end(block);
        if (!ok) return NULL;
        x = y;
    }
    return x;
}

/* The blocks' output (B, T, E) for ids idx (B, T) at positions
 * [n0, n0 + T); n0 > 0 only with a cache holding the n0 before. */
static Tensor *gpt_hidden(GPTModel *g, const Tensor *idx, NNGPTCache *c, int64_t n0)
{
    if (idx->ndim != 2)
        return tensor_set_error("GPTModel: input %s: expected (batch, tokens) ids",
                                tensor_shape_str(idx));
    int64_t T = idx->shape[1];
    if (T < 1 || n0 + T > g->context_length)
        return tensor_set_error("GPTModel: input %s: %lld tokens, expected 1 to context_length "
                                "%lld", tensor_shape_str(idx), (long long)(n0 + T),
                                (long long)g->context_length);
    Tensor *tok_embeds = nn_forward(g->tok_emb, idx);                             /* (B,T,E) */
    Tensor *pos_embeds = nn_forward(g->pos_emb,
                                    tensor_arange((float)n0, (float)(n0 + T), 1)); /* (T,E) */
    Tensor *x = nn_forward(g->drop_emb, tensor_add(tok_embeds, pos_embeds));
    return run_blocks(g, x, c, n0);
}

static Tensor *gpt_forward(Module *m, const Tensor *idx)
{
    GPTModel *g = (GPTModel *)m;
    Tensor *x = nn_forward(g->final_norm, gpt_hidden(g, idx, NULL, 0));
    return nn_forward(g->out_head, x);                                            /* (B,T,V) */
}

NNGPTCache *nn__gpt_cache_new(Module *m, int64_t batch, int64_t capacity)
{
    if (!m || m->forward != gpt_forward) return NULL;
    GPTModel *g = (GPTModel *)m;
    if (batch < 1 || capacity < 1 || capacity > g->context_length) return NULL;
    NNGPTCache *c = calloc(1, sizeof *c);
    int layers = nn_len(g->trf_blocks);
    if (!c || !(c->k = calloc((size_t)layers, sizeof *c->k)) ||
        !(c->v = calloc((size_t)layers, sizeof *c->v))) {
        nn__gpt_cache_free(c);
        return NULL;
    }
    c->capacity = capacity;
    c->layers = layers;
    c->valid = true;
    for (int i = 0; i < layers; i++) {
        MultiHeadAttention *att = ((TransformerBlock *)nn_item(g->trf_blocks, i))->att;
        int64_t shape[] = {batch, att->num_heads, capacity, att->head_dim};
        c->k[i] = tensor_empty(4, shape);
        c->v[i] = tensor_empty(4, shape);
        if (!c->k[i] || !c->v[i]) {
            nn__gpt_cache_free(c);
            return NULL;
        }
    }
    /* The panels are an extra: out of memory, the tokens read the floats. */
    if (tensor_is_autocast_enabled() && (c->kv = calloc((size_t)layers, sizeof *c->kv))) {
        for (int i = 0; i < layers && c->kv; i++) {
            MultiHeadAttention *att = ((TransformerBlock *)nn_item(g->trf_blocks, i))->att;
            c->kv[i] = tensor__kv_panels_new(batch, att->num_heads, capacity, att->head_dim);
            if (!c->kv[i]) {
                for (int j = 0; j < i; j++) tensor__kv_panels_free(c->kv[j]);
                free(c->kv);
                c->kv = NULL;
            }
        }
    }
    return c;
}

void nn__gpt_cache_free(NNGPTCache *c)
{
    if (!c) return;
    for (int i = 0; c->kv && i < c->layers; i++) tensor__kv_panels_free(c->kv[i]);
    free(c->kv);
    free(c->k);
    free(c->v);
    free(c);
}

/* The softmax sums a row of fewer than 8 values left to right and a longer
 * one in 8 lanes (PyTorch's order, tensor/kernels/lanes.c), and the masked
 * zeros of a short query's row keep it long in the full forward: keys and
 * values of a later block computed while the rows were short would differ
 * in the last bits.  So when the window first reaches 8 positions, the
 * cache is refilled from position 0 (8 positions: nearly free). */
enum { SHORT_ROW = 8 };

/* As the book's generate takes logits[:, -1, :], only the last position
 * goes through final_norm and out_head: at context 1024 the out_head of
 * every position would be 1024 x 768 x 50257 multiply-adds (79 GFLOP) for
 * one row of use. */
Tensor *nn__gpt_last_logits(Module *m, NNGPTCache *c, const Tensor *window, int64_t start)
{
    GPTModel *g = (GPTModel *)m;
    if (!window) return NULL;
    int64_t t = window->ndim == 2 ? window->shape[1] : 0;
    if (start > 0 || t > c->capacity || t <= c->n || window->shape[0] != c->k[0]->shape[0])
        c->valid = false;
    if (c->n < SHORT_ROW && t >= SHORT_ROW) c->n = 0;
    Tensor *x;
    if (c->valid) {
        x = gpt_hidden(g, tensor_narrow(window, 1, c->n, t - c->n), c, c->n);
        if (x) c->n = t;
        else c->valid = false;
    } else {
        x = gpt_hidden(g, window, NULL, 0);
    }
    if (!x) return NULL;
    Tensor *last = tensor_narrow(x, 1, x->shape[1] - 1, 1);                      /* (B,1,E) */
    Tensor *logits = nn_forward(g->out_head, nn_forward(g->final_norm, last));
    return logits ? tensor_squeeze(logits, 1) : NULL;                            /* (B,V) */
}

Module *nn_gpt_model(NNGPTConfig cfg)
{
    if (!config_ok("GPTModel", cfg)) return NULL;
    GPTModel *g = nn_module_new(sizeof *g, "GPTModel", gpt_forward);
    if (!g) return NULL;
    g->context_length = cfg.context_length;
    g->tok_emb = nn_child(NN(g), "tok_emb", nn_embedding(cfg.vocab_size, cfg.emb_dim));
    g->pos_emb = nn_child(NN(g), "pos_emb", nn_embedding(cfg.context_length, cfg.emb_dim));
    g->drop_emb = nn_child(NN(g), "drop_emb", nn_dropout((float)cfg.drop_rate));
    g->trf_blocks = nn_child(NN(g), "trf_blocks", nn_sequential());
    for (int64_t i = 0; i < cfg.n_layers && g->trf_blocks && !g->base.failed; i++)
        nn_append(g->trf_blocks, nn_transformer_block(cfg));
    g->final_norm = nn_child(NN(g), "final_norm", nn_layer_norm(cfg.emb_dim));
    g->out_head = nn_child(NN(g), "out_head", nn_linear(cfg.emb_dim, cfg.vocab_size, false));
    return nn_module_ok(NN(g));
}

/* ---- GPTModel's state_dict from its config, and a file checked against it ------- */

/* A block's tensors under trf_blocks.N., their shapes in multiples of emb_dim
 * ({4, 1}: (4E, E); d1 0: one dim), in named_parameters' order. */
static const struct {
    const char *leaf;
    int64_t d0, d1;
    bool qkv_bias;               /* present only with cfg.qkv_bias */
} block_params[] = {
    {"att.W_query.weight", 1, 1, false}, {"att.W_query.bias", 1, 0, true},
    {"att.W_key.weight", 1, 1, false},   {"att.W_key.bias", 1, 0, true},
    {"att.W_value.weight", 1, 1, false}, {"att.W_value.bias", 1, 0, true},
    {"att.out_proj.weight", 1, 1, false}, {"att.out_proj.bias", 1, 0, false},
    {"ff.layers.0.weight", 4, 1, false}, {"ff.layers.0.bias", 4, 0, false},
    {"ff.layers.2.weight", 1, 4, false}, {"ff.layers.2.bias", 1, 0, false},
    {"norm1.scale", 1, 0, false},        {"norm1.shift", 1, 0, false},
    {"norm2.scale", 1, 0, false},        {"norm2.shift", 1, 0, false},
};

int nn__gpt_state_dict(NNGPTConfig cfg, NNTensorVisit visit, void *ctx)
{
    const int64_t V = cfg.vocab_size, C = cfg.context_length, E = cfg.emb_dim;
    char name[96];
    int rc = visit(ctx, "tok_emb.weight", 2, (int64_t[]){V, E});
    if (!rc) rc = visit(ctx, "pos_emb.weight", 2, (int64_t[]){C, E});
    for (int64_t b = 0; !rc && b < cfg.n_layers; b++)
        for (size_t i = 0; !rc && i < sizeof block_params / sizeof *block_params; i++) {
            if (block_params[i].qkv_bias && !cfg.qkv_bias) continue;
            snprintf(name, sizeof name, "trf_blocks.%lld.%s", (long long)b, block_params[i].leaf);
            int64_t shape[2] = {block_params[i].d0 * E, block_params[i].d1 * E};
            rc = visit(ctx, name, block_params[i].d1 ? 2 : 1, shape);
        }
    if (!rc) rc = visit(ctx, "final_norm.scale", 1, (int64_t[]){E});
    if (!rc) rc = visit(ctx, "final_norm.shift", 1, (int64_t[]){E});
    if (!rc) rc = visit(ctx, "out_head.weight", 2, (int64_t[]){V, E});
    for (int64_t b = 0; !rc && b < cfg.n_layers; b++) {
        snprintf(name, sizeof name, "trf_blocks.%lld.att.mask", (long long)b);
        rc = visit(ctx, name, 2, (int64_t[]){C, C});
    }
    return rc;
}

/* The file's tensor name, F32 of this shape: its header says so. */
static int in_file(void *f, const char *name, int ndim, const int64_t *shape)
{
    TensorEntry e = {.name = name, .dtype = TENSOR_F32, .ndim = ndim};
    memcpy(e.shape, shape, (size_t)ndim * sizeof *shape);
    return tensor_file_read_one(f, &e, "model");
}

int nn_gpt_check_file(NNGPTConfig cfg, const char *path)
{
    if (!config_ok("GPTModel", cfg)) {
        char why[512];
        snprintf(why, sizeof why, "%s", tensor_error());
        tensor_set_error("load %s: %s", path ? path : "(null)", why);
        return -1;
    }
    TensorFile *f = tensor_file_open(path);
    int rc = f ? nn__gpt_state_dict(cfg, in_file, f) : -1;
    tensor_file_close(f);
    return rc ? -1 : 0;
}

Module *nn_gpt_attention(Module *gpt, int64_t layer)
{
    if (!gpt) return NULL;
    if (gpt->forward != gpt_forward)
        return tensor_set_error("nn_gpt_attention: %s is not a GPTModel", gpt->type);
    GPTModel *g = (GPTModel *)gpt;
    int64_t n = nn_len(g->trf_blocks);
    if (layer < -n || layer >= n)
        return tensor_set_error("nn_gpt_attention: layer %lld out of range for %lld layers",
                                (long long)layer, (long long)n);
    TransformerBlock *b = (TransformerBlock *)nn_item(g->trf_blocks, layer);
    return NN(b->att);
}

/* ---- Chapter 6: a new output head ---------------------------------------------- */

Module *nn_gpt_replace_head(Module *gpt, int64_t num_classes, TensorGenerator *gen)
{
    if (!gpt) return NULL;
    if (gpt->forward != gpt_forward)
        return tensor_set_error("nn_gpt_replace_head: %s is not a GPTModel", gpt->type);
    if (num_classes < 1 || num_classes > (1 << 24))
        return tensor_set_error("nn_gpt_replace_head: num_classes %lld must be 1 to 2^24",
                                (long long)num_classes);
    GPTModel *g = (GPTModel *)gpt;
    int64_t emb = ((LayerNorm *)g->final_norm)->emb_dim;
    /* model.out_head = torch.nn.Linear(emb_dim, num_classes): drawn now. */
    Module *head = nn__linear_drawn(emb, num_classes, true, gen);
    if (!head) return NULL;
    for (int i = 0; i < gpt->n_children; i++) {
        if (gpt->children[i].module != g->out_head) continue;
        g->out_head->parent = NULL;
        nn_module_free(g->out_head);
        gpt->children[i].module = head;
        head->parent = gpt;
        g->out_head = head;
        nn__rename_tree(head);
        return head;
    }
    nn_module_free(head);
    return tensor_set_error("nn_gpt_replace_head: the GPTModel has no out_head");
}

/* Counts the elements of each parameter's shape (the buffers, the masks, and
 * out_head.weight left out). */
static int count_param(void *ctx, const char *name, int ndim, const int64_t *shape)
{
    if (strstr(name, ".att.mask") || strcmp(name, "out_head.weight") == 0) return 0;
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    *(int64_t *)ctx += n;
    return 0;
}

int64_t nn_gpt_num_parameters(NNGPTConfig cfg, int64_t head_out, bool head_bias)
{
    if (!config_ok("GPTModel", cfg)) return -1;
    if (head_out < 1)
        return tensor_set_error("nn_gpt_num_parameters: head_out %lld must be positive",
                                (long long)head_out), -1;
    int64_t n = cfg.emb_dim * head_out + (head_bias ? head_out : 0);
    nn__gpt_state_dict(cfg, count_param, &n);
    return n;
}
