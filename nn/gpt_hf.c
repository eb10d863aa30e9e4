/*
 * GPT-2's published weights (Hugging Face's model.safetensors) in the book's
 * GPTModel, mapped as the book's chapter-5 load_weights_into_gpt maps them:
 * Conv1D weights, stored (in, out), transposed into the Linear layers;
 * c_attn split in three along out (q, k, v); qkv biases; LayerNorm's
 * weight/bias as scale/shift; the head tied to wte (a copy, as the book's
 * assign makes one).  The file's other tensors (h.N.attn.bias, the causal
 * mask GPT2Model saves with its weights; lm_head.weight) are left unread.
 */
#include "nn_internal.h"
#include "tensor/safetensors.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int64_t nn_gpt2_heads(int64_t emb_dim)
{
    switch (emb_dim) {
    case 768: return 12;    /* gpt2 (124M) */
    case 1024: return 16;   /* gpt2-medium (355M) */
    case 1280: return 20;   /* gpt2-large (774M) */
    case 1600: return 25;   /* gpt2-xl (1558M) */
    default: return 0;
    }
}

/* A tensor of one block, its shape in multiples of emb_dim ((E, 3E): {1, 3}),
 * and where the book's model keeps it. */
typedef enum { COPY, TRANSPOSE, SPLIT_QKV } Kind;
static const struct {
    const char *hf, *book;
    int ndim, dims[2];
    Kind kind;
} block_tensors[] = {
    {"ln_1.weight", "norm1.scale", 1, {1}, COPY},
    {"ln_1.bias", "norm1.shift", 1, {1}, COPY},
    {"attn.c_attn.weight", "att.W_%s.weight", 2, {1, 3}, SPLIT_QKV},
    {"attn.c_attn.bias", "att.W_%s.bias", 1, {3}, SPLIT_QKV},
    {"attn.c_proj.weight", "att.out_proj.weight", 2, {1, 1}, TRANSPOSE},
    {"attn.c_proj.bias", "att.out_proj.bias", 1, {1}, COPY},
    {"ln_2.weight", "norm2.scale", 1, {1}, COPY},
    {"ln_2.bias", "norm2.shift", 1, {1}, COPY},
    {"mlp.c_fc.weight", "ff.layers.0.weight", 2, {1, 4}, TRANSPOSE},
    {"mlp.c_fc.bias", "ff.layers.0.bias", 1, {4}, COPY},
    {"mlp.c_proj.weight", "ff.layers.2.weight", 2, {4, 1}, TRANSPOSE},
    {"mlp.c_proj.bias", "ff.layers.2.bias", 1, {1}, COPY},
};
#define N_BLOCK_TENSORS ((int)(sizeof block_tensors / sizeof *block_tensors))

/* See internal.h: set only around the constructor in nn_gpt_load_hf. */
_Thread_local bool nn__skip_draws;

typedef struct {
    const char *path;
    TensorFile *f;
    const char *prefix;   /* "" or "transformer." (GPT2LMHeadModel's names) */
    NNGPTConfig cfg;
} HFFile;

#define NAME_MAX_LEN 128
/* Far past GPT-2 XL's 48 blocks; a file claiming more (h.99999999.*) is
 * refused before a model of that many blocks is built. */
#define MAX_BLOCKS 65536
/* Ids are exact in floats up to 2^24; widths past 2^16 are no GPT-2's. */
#define MAX_VOCAB (1 << 24)
#define MAX_EMB (1 << 16)

/* prefix + "h.<block>." + leaf, or prefix + leaf for block < 0. */
static const char *hf_name(const HFFile *h, char *buf, int64_t block, const char *leaf)
{
    if (block < 0) snprintf(buf, NAME_MAX_LEN, "%s%s", h->prefix, leaf);
    else snprintf(buf, NAME_MAX_LEN, "%sh.%lld.%s", h->prefix, (long long)block, leaf);
    return buf;
}

/* The file's tensor name, checked against an F32 of shape (d0) or (d0, d1);
 * data NULL checks only, else reads into data (tensor_file_read_one). */
static int check_or_read(const HFFile *h, const char *name, int ndim, int64_t d0, int64_t d1,
                         float *data)
{
    TensorEntry e = {.name = name, .dtype = TENSOR_F32, .ndim = ndim, .shape = {d0, d1},
                     .data = data};
    return tensor_file_read_one(h->f, &e, "model");
}

/* One more than the largest N of the file's "h.N." names: the block count. */
static int64_t count_blocks(const HFFile *h)
{
    char lead[NAME_MAX_LEN];
    size_t n = strlen(hf_name(h, lead, -1, "h."));
    int64_t blocks = 0;
    for (int i = 0; i < tensor_file_count(h->f); i++) {
        const char *name = tensor_file_entry(h->f, i)->name;
        if (strncmp(name, lead, n) != 0) continue;
        int64_t b = 0;
        const char *p = name + n;
        for (; *p >= '0' && *p <= '9'; p++) b = b < MAX_BLOCKS ? 10 * b + (*p - '0') : b;
        if (p == name + n || *p != '.') continue;   /* not a block's tensor */
        if (b >= MAX_BLOCKS) {
            tensor_set_error("load %s: %s: a block number of %d or more", h->path, name,
                             MAX_BLOCKS);
            return -1;
        }
        if (b + 1 > blocks) blocks = b + 1;
    }
    if (blocks == 0)
        tensor_set_error("load %s: no transformer blocks (%sh.0.*) in the file", h->path,
                         h->prefix);
    return blocks ? blocks : -1;
}

/* An embedding's table, which must be 2-d: (vocab_size, emb_dim) for wte,
 * (context_length, emb_dim) for wpe.  NULL with a message when it is not. */
static const TensorEntry *table(const HFFile *h, const char *name, const char *sizes)
{
    const TensorEntry *e = tensor_file_find(h->f, name);
    if (e->ndim == 2) return e;
    char shape[32 * TENSOR_MAX_DIMS] = "(";
    for (int i = 0; i < e->ndim; i++)
        snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%lld", i ? "," : "",
                 (long long)e->shape[i]);
    strcat(shape, ")");
    return tensor_set_error("load %s: %s: shape %s in file, %s in model", h->path, name, shape,
                            sizes);
}

/* The sizes the embeddings give: vocab and emb from wte, context from wpe. */
static int embedding_sizes(HFFile *h)
{
    char name[NAME_MAX_LEN];
    if (!tensor_file_find(h->f, "wte.weight") && tensor_file_find(h->f, "transformer.wte.weight"))
        h->prefix = "transformer.";   /* GPT2LMHeadModel's names */
    if (!tensor_file_find(h->f, hf_name(h, name, -1, "wte.weight"))) {
        tensor_set_error("load %s: no wte.weight (nor transformer.wte.weight): not GPT-2's "
                         "weights in Hugging Face's layout", h->path);
        return -1;
    }
    const TensorEntry *wte = table(h, name, "(vocab_size, emb_dim)");
    if (!wte) return -1;
    /* The bounds of the config flags: the checks below multiply emb_dim by 4. */
    if (wte->shape[0] < 1 || wte->shape[0] > MAX_VOCAB || wte->shape[1] < 1 ||
        wte->shape[1] > MAX_EMB) {
        tensor_set_error("load %s: %s: shape (%lld,%lld): vocab_size must be 1 to %d, emb_dim "
                         "1 to %d", h->path, name, (long long)wte->shape[0],
                         (long long)wte->shape[1], MAX_VOCAB, MAX_EMB);
        return -1;
    }
    h->cfg.vocab_size = wte->shape[0];
    h->cfg.emb_dim = wte->shape[1];
    const TensorEntry *wpe = tensor_file_find(h->f, hf_name(h, name, -1, "wpe.weight"));
    if (wpe && !(wpe = table(h, name, "(context_length, emb_dim)"))) return -1;
    /* A missing wpe is named by the checks that follow. */
    h->cfg.context_length = wpe ? wpe->shape[0] : 1;
    return 0;
}

/* "6.4 GB", "1.3 MB", "512 bytes": a size in a message. */
static const char *human(double bytes, char *buf, size_t n)
{
    if (bytes >= 1e9) snprintf(buf, n, "%.1f GB", bytes / 1e9);
    else if (bytes >= 1e6) snprintf(buf, n, "%.1f MB", bytes / 1e6);
    else if (bytes >= 1e3) snprintf(buf, n, "%.1f kB", bytes / 1e3);
    else snprintf(buf, n, "%.0f bytes", bytes);
    return buf;
}

/* The model's causal masks, n_layers x context_length^2 floats, are not
 * among the weights the file gives (GPT-2's file may carry its own or not),
 * so the file's word alone would size them: a 1 MB file whose wpe has
 * 40000 rows makes masks of 6.4 GB a layer.  A model whose masks would
 * outweigh its weights is refused before anything is built; GPT-2's are
 * far below (50 MB against 652 MB in the 124M model, the tied head
 * counted twice, as the book's model holds it). */
static int masks_fit(const HFFile *h)
{
    const NNGPTConfig *c = &h->cfg;
    double E = (double)c->emb_dim, C = (double)c->context_length;
    double weights = 2 * (double)c->vocab_size * E + C * E + 2 * E;
    for (int i = 0; i < N_BLOCK_TENSORS; i++)
        weights += (double)c->n_layers * block_tensors[i].dims[0] * E *
                   (block_tensors[i].ndim == 2 ? block_tensors[i].dims[1] * E : 1);
    double masks = (double)c->n_layers * C * C;
    if (masks <= weights) return 0;
    char m[32], w[32];
    tensor_set_error("load %s: context_length %lld: its causal masks (%lld x %lld floats in each "
                     "of %lld layers, %s) would outweigh the model's %s of weights: refused "
                     "(GPT-2's masks are a tenth of its weights)", h->path,
                     (long long)c->context_length, (long long)c->context_length,
                     (long long)c->context_length, (long long)c->n_layers,
                     human(4 * masks, m, sizeof m), human(4 * weights, w, sizeof w));
    return -1;
}

/* Opens path and checks every tensor GPTModel needs (names, F32, shapes),
 * the header only; h->cfg from the shapes. */
static int hf_open(HFFile *h, const char *path)
{
    *h = (HFFile){.path = path, .prefix = "",
                  .cfg = {.drop_rate = 0.1, .qkv_bias = true}};   /* the book's NEW_CONFIG */
    if (!(h->f = tensor_file_open(path)) || embedding_sizes(h)) return -1;
    NNGPTConfig *c = &h->cfg;
    int64_t E = c->emb_dim;
    char name[NAME_MAX_LEN];
    if (check_or_read(h, hf_name(h, name, -1, "wte.weight"), 2, c->vocab_size, E, NULL) ||
        check_or_read(h, hf_name(h, name, -1, "wpe.weight"), 2, c->context_length, E, NULL) ||
        check_or_read(h, hf_name(h, name, -1, "ln_f.weight"), 1, E, 0, NULL) ||
        check_or_read(h, hf_name(h, name, -1, "ln_f.bias"), 1, E, 0, NULL))
        return -1;
    if ((c->n_layers = count_blocks(h)) < 0) return -1;
    for (int64_t b = 0; b < c->n_layers; b++)
        for (int i = 0; i < N_BLOCK_TENSORS; i++) {
            const int *d = block_tensors[i].dims;
            if (check_or_read(h, hf_name(h, name, b, block_tensors[i].hf), block_tensors[i].ndim,
                              d[0] * E, d[1] * E, NULL))
                return -1;
        }
    c->n_heads = nn_gpt2_heads(E);
    return masks_fit(h);
}

int nn_gpt_hf_config(const char *path, NNGPTConfig *cfg)
{
    HFFile h;
    int rc = hf_open(&h, path);
    if (rc == 0 && cfg) *cfg = h.cfg;
    tensor_file_close(h.f);
    return rc;
}

/* ---- reading into the model ------------------------------------------------------ */

/* Weights must be finite, as nn_module_load wants them. */
static int all_finite(const HFFile *h, const char *name, const Tensor *t)
{
    for (int64_t i = 0; i < t->numel; i++)
        if (!isfinite(t->data[i]))
            return tensor_set_error("load %s: %s holds a NaN or an infinity", h->path, name), -1;
    return 0;
}

/* The file's tensor name as a tensor of the current scope; NULL with a
 * message. */
static Tensor *read_tensor(const HFFile *h, const char *name, int ndim, int64_t d0, int64_t d1)
{
    Tensor *t = tensor_empty(ndim, (int64_t[]){d0, d1});
    if (!t || check_or_read(h, name, ndim, d0, d1, t->data) || all_finite(h, name, t))
        return NULL;
    return t;
}

/* The book's assign(left, right) of a tensor stored as the model keeps it:
 * read straight into the model's tensor book_name, no copy on the way. */
static int assign_from_file(const HFFile *h, Module *gpt, const char *book_name,
                            const char *name)
{
    Tensor *p = nn_get_parameter(gpt, book_name);
    if (!p) return -1;
    return check_or_read(h, name, p->ndim, p->shape[0], p->ndim > 1 ? p->shape[1] : 0,
                         p->data) || all_finite(h, name, p) ? -1 : 0;
}

/* The book's assign(left, right): the model's tensor book_name = value. */
static int assign(Module *gpt, const char *book_name, const Tensor *value)
{
    Tensor *p = nn_get_parameter(gpt, book_name);
    if (!p || !value) return -1;
    if (!tensor_same_shape(p, value)) {
        tensor_set_error("GPT-2 weights: %s: shape mismatch, model %s, file %s", book_name,
                         tensor_shape_str(p), tensor_shape_str(value));
        return -1;
    }
    return tensor_copy_(p, value) ? 0 : -1;
}

/* One of block_tensors[i] of block b into trf_blocks.b: a COPY straight
 * into the model; a transposed or split one through a tensor of the
 * current scope (at most (E, 4E) floats). */
static int load_block_tensor(const HFFile *h, Module *gpt, int64_t b, int i)
{
    static const char *const qkv[3] = {"query", "key", "value"};
    char name[NAME_MAX_LEN], leaf[NAME_MAX_LEN], book[NAME_MAX_LEN + 32];
    int64_t E = h->cfg.emb_dim;
    const int *d = block_tensors[i].dims;
    int ndim = block_tensors[i].ndim;
    hf_name(h, name, b, block_tensors[i].hf);
    if (block_tensors[i].kind != SPLIT_QKV)
        snprintf(book, sizeof book, "trf_blocks.%lld.%s", (long long)b, block_tensors[i].book);
    if (block_tensors[i].kind == COPY) return assign_from_file(h, gpt, book, name);
    Tensor *w = read_tensor(h, name, ndim, d[0] * E, d[1] * E);
    if (block_tensors[i].kind == TRANSPOSE) return assign(gpt, book, tensor_t(w));
    /* q_w, k_w, v_w = np.split(c_attn.w, 3, axis=-1); W_query.weight = q_w.T */
    for (int j = 0; j < 3; j++) {
        snprintf(leaf, sizeof leaf, block_tensors[i].book, qkv[j]);
        snprintf(book, sizeof book, "trf_blocks.%lld.%s", (long long)b, leaf);
        Tensor *part = tensor_narrow(w, ndim - 1, j * E, E);
        if (assign(gpt, book, ndim == 2 ? tensor_t(part) : part)) return -1;
    }
    return 0;
}

static int load_all(const HFFile *h, Module *gpt)
{
    char name[NAME_MAX_LEN];
    /* weight tying: the head is wte, as the book's out_head.weight = assign(..., wte) */
    int rc = assign_from_file(h, gpt, "tok_emb.weight", hf_name(h, name, -1, "wte.weight")) ||
             assign(gpt, "out_head.weight", nn_get_parameter(gpt, "tok_emb.weight")) ||
             assign_from_file(h, gpt, "pos_emb.weight", hf_name(h, name, -1, "wpe.weight")) ||
             assign_from_file(h, gpt, "final_norm.scale", hf_name(h, name, -1, "ln_f.weight")) ||
             assign_from_file(h, gpt, "final_norm.shift", hf_name(h, name, -1, "ln_f.bias"));
    for (int64_t b = 0; rc == 0 && b < h->cfg.n_layers; b++)
        for (int i = 0; rc == 0 && i < N_BLOCK_TENSORS; i++) {
            TensorScope *scope = tensor_scope_begin();
            rc = load_block_tensor(h, gpt, b, i);
            tensor_scope_end(scope);
        }
    return rc ? -1 : 0;
}

/* The sizes cfg gives and the file's, which must agree. */
static int same_sizes(const HFFile *h, NNGPTConfig cfg)
{
    static const char *const keys[4] = {"vocab_size", "context_length", "emb_dim", "n_layers"};
    const int64_t file[4] = {h->cfg.vocab_size, h->cfg.context_length, h->cfg.emb_dim,
                             h->cfg.n_layers};
    const int64_t want[4] = {cfg.vocab_size, cfg.context_length, cfg.emb_dim, cfg.n_layers};
    for (int k = 0; k < 4; k++)
        if (file[k] != want[k]) {
            tensor_set_error("load %s: %s %lld in file, %lld in the config", h->path, keys[k],
                             (long long)file[k], (long long)want[k]);
            return -1;
        }
    if (!cfg.qkv_bias) {
        tensor_set_error("load %s: GPT-2 has qkv biases: the config needs qkv_bias", h->path);
        return -1;
    }
    return 0;
}

/* The book builds GPTModel (drawing its weights), then assigns the file's.
 * Here the model is built once, without drawing (nn__skip_draws: the
 * generator still ends where the book's is), and the file's weights are
 * read straight into it: at the peak, the model and one block tensor. */
Module *nn_gpt_load_hf(const char *path, NNGPTConfig cfg)
{
    HFFile h;
    Module *gpt = NULL;
    if (hf_open(&h, path) == 0 && same_sizes(&h, cfg) == 0) {
        nn__skip_draws = true;
        gpt = nn_gpt_model(cfg);
        nn__skip_draws = false;
        if (gpt && load_all(&h, gpt) != 0) {
            nn_module_free(gpt);
            gpt = NULL;
        }
    }
    tensor_file_close(h.f);
    return gpt;
}
