/*
 * attograd nn room: modules built only from tensor ops.
 *
 * Every constructor returns a Module *, as every PyTorch layer is an
 * nn.Module: nn_forward, nn_named_parameters, nn_train, nn_module_free take
 * any of them.  Parameters and buffers are long-lived tensors owned by the
 * module; their dotted names match PyTorch's state_dict ("W_query.weight",
 * "heads.1.W_key.weight", "out_proj.bias") so checkpoints interoperate, and
 * each parameter's tensor carries its full dotted name from the root module
 * (t->name: "trf_blocks.0.att.W_key.weight"), which graph pictures,
 * gradcheck reports and error messages show.
 *
 * Example (the book's Listing 3.2, seed 789):
 *
 *     tensor_manual_seed(789);
 *     Module *sa_v2 = nn_self_attention_v2(3, 2, false);
 *     Tensor *x = tensor_from_data(inputs, SHAPE(6, 3));
 *     tensor_print(nn_forward(sa_v2, x));
 *     tensor_print(nn_get_parameter(sa_v2, "W_query.weight"));    sa_v2.W_query.weight
 *     nn_module_free(sa_v2);
 *
 * A concrete module's fields (a Linear's weight, an attention module's
 * sub-layers) are read through a checked downcast: NN_AS(Linear, m) is m
 * as a Linear *, or NULL with a message when m is another module.
 *
 * Every module's forward takes (T, d_in) or batched (B, T, d_in) input.
 * Modules draw their initial weights from the default generator in the
 * book's construction order, so the same seed gives PyTorch's weights.
 *
 * Errors: a constructor given bad sizes returns NULL and records a message
 * (before drawing anything); a forward given input of the wrong shape
 * returns NULL with a message naming the module type and the shape:
 *   "CausalAttention: input (2,7,3): 7 tokens exceed context_length 6".
 *
 * Writing a module: the one way (every module of this room is made so).
 * A struct with a Module header as its FIRST member, a forward, and a
 * constructor that registers children, parameters and buffers, then checks
 * once:
 *
 *     typedef struct { Module base; Module *proj; Tensor *gain; } Block;
 *     static Tensor *block_forward(Module *m, const Tensor *x)
 *     {
 *         Block *b = (Block *)m;
 *         if (x->ndim != 2)                       its own check, its own message
 *             return tensor_set_error("Block: input %s must be 2-d", tensor_shape_str(x));
 *         return tensor_mul(tensor_relu(nn_forward(b->proj, x)), b->gain);
 *     }
 *     Module *block(int64_t d)
 *     {
 *         Block *b = nn_module_new(sizeof *b, "Block", block_forward);
 *         if (!b) return NULL;
 *         b->proj = nn_child(NN(b), "proj", nn_linear(d, d, true));  "proj.weight", "proj.bias"
 *         b->gain = nn_parameter(NN(b), "gain", tensor_ones(SHAPE(d)));
 *         return nn_module_ok(NN(b));             NULL if anything above failed
 *     }
 *     ...
 *     nn_module_free(m);                          frees the children and tensors too
 *
 * NN(b) is the Module header of a concrete module (a compile error for
 * anything without a `base` member).  For NN_AS(Block, m) to work, name the
 * type: #define NN_TYPE_NAME_Block "Block".
 */
#ifndef ATTOGRAD_NN_H
#define ATTOGRAD_NN_H

#include "tensor/tensor.h"
#include "tensor/safetensors.h"

typedef struct Module Module;
typedef Tensor *(*ModuleForward)(Module *m, const Tensor *x);

typedef struct {
    char *name;                  /* local name: "weight", "W_query", "mask" */
    char *full_name;             /* dotted from the root: "heads.0.W_query.weight" */
    Tensor *tensor;              /* long-lived, owned by the module; tensor->name is full_name */
    bool fixed;                  /* a buffer its module's construction fixes (the causal
                                    masks): a load must find these very values */
} ModuleTensor;

typedef struct {
    char *name;                  /* local name: "W_query", "heads.0" */
    Module *module;              /* owned */
} ModuleChild;

struct Module {
    const char *type;            /* "Linear", "SelfAttention_v1", ... */
    ModuleForward forward;
    void (*destroy)(Module *m);  /* frees what the concrete module adds; may be NULL */
    bool training;               /* true after creation, as in PyTorch */
    int n_params, n_buffers, n_children;
    ModuleTensor *params, *buffers;
    ModuleChild *children;
    Module *parent;              /* set by nn_child; NULL for a root */
    bool failed;                 /* a registration on it failed (see nn_module_ok) */
};

/* The Module header of a concrete module; NULL stays NULL.  The sizeof is
 * never evaluated: it only makes passing something without a Module base a
 * compile error. */
#define NN(m) ((void)sizeof(&(m)->base == (Module *)0), (Module *)(void *)(m))

/* A list of named tensors (dotted names); free with nn_list_free. */
typedef struct {
    int64_t count;
    char **names;
    Tensor **tensors;
} NNList;

/* ---- Module plumbing ------------------------------------------------------ */
/* A zeroed concrete module of size bytes (its Module header first), its
 * header initialised, in training mode: Block *b = nn_module_new(sizeof *b,
 * "Block", fwd).  forward may be NULL for a container (nn_forward then
 * refuses it).  NULL with a message when out of memory. */
ATTOGRAD_API void *nn_module_new(size_t size, const char *type, ModuleForward forward);
/* Constructor errors are sticky: nn_parameter, nn_buffer and nn_child mark
 * m as failed when they refuse or are given NULL (a sub-module whose own
 * constructor failed), so a constructor registers everything and checks
 * once at the end:  return nn_module_ok(NN(b));  gives b, or, when b or any
 * module under it is marked, frees b (and what it holds) and gives NULL,
 * the first failure's message kept. */
ATTOGRAD_API void *nn_module_ok(Module *m);
/* Registers a parameter: a long-lived copy of init that requires grad.
 * NULL for a NULL init, or with a message when the copy does not fit, the
 * name is empty or holds a '.', or m already has a member of that name. */
ATTOGRAD_API Tensor *nn_parameter(Module *m, const char *name, const Tensor *init);
/* Registers a buffer (not trained, saved with the module): a long-lived
 * copy; refused as nn_parameter. */
ATTOGRAD_API Tensor *nn_buffer(Module *m, const char *name, const Tensor *init);
/* The concrete module behind m when its type is `type`, else NULL with a
 * message naming both; use NN_AS(Linear, m). */
ATTOGRAD_API void *nn_module_as(const Module *m, const char *type);
#define NN_AS(T, m) ((T *)nn_module_as((m), NN_TYPE_NAME_##T))
/* Registers a child, which the parent then owns; returns child.  Refused
 * (NULL and a message; the caller still owns child) when the name is empty
 * or taken, child already has a parent, or child is m or one of its
 * ancestors (a cycle).  Child names may hold dots ("heads.0"). */
ATTOGRAD_API Module *nn_child(Module *m, const char *name, Module *child);
/* Lists of modules, as nn.Sequential and nn.ModuleList: children named
 * "0", "1", ... in order (state_dict "layers.0.weight").  A Sequential's
 * forward runs them in turn; a ModuleList has none (index it). */
ATTOGRAD_API Module *nn_sequential(void);
ATTOGRAD_API Module *nn_module_list(void);
ATTOGRAD_API Module *nn_append(Module *list, Module *item);    /* nn_child under the next number */
ATTOGRAD_API int64_t nn_len(const Module *m);                  /* its children: len(list) */
ATTOGRAD_API Module *nn_item(const Module *m, int64_t i);      /* list[i], i < 0 from the end */
/* m->forward(m, x); NULL in, NULL out; NULL and a message without a forward. */
ATTOGRAD_API Tensor *nn_forward(Module *m, const Tensor *x);
ATTOGRAD_API void nn_train(Module *m, bool training);          /* recursive, as module.train() */
ATTOGRAD_API NNList nn_named_parameters(const Module *m);
ATTOGRAD_API NNList nn_named_buffers(const Module *m);
ATTOGRAD_API void nn_list_free(NNList *l);
ATTOGRAD_API int64_t nn_num_parameters(const Module *m);       /* elements, as sum(p.numel()) */
/* Elements of the parameters that require grad: the fine-tuning chapters'
 * "Total trainable parameters", sum(p.numel() for p in model.parameters()
 * if p.requires_grad). */
ATTOGRAD_API int64_t nn_num_trainable_parameters(const Module *m);
/* module.requires_grad_(requires_grad): every parameter of m and the modules
 * under it (not the buffers) frozen (false) or trainable again (true).  A
 * frozen parameter gets no gradient from a backward and no update, weight
 * decay or state from an optimizer (optim.h), which may be given it:
 *     nn_requires_grad_(gpt, false);                        freeze everything
 *     nn_requires_grad_(nn_item(trf_blocks, -1), true);     then train the last block
 * Returns m; NULL with a message, nothing changed, when a parameter is not a
 * leaf (a module author's slot pointed at an op's output). */
ATTOGRAD_API Module *nn_requires_grad_(Module *m, bool requires_grad);
/* A parameter or buffer by dotted name; NULL and a message when there is none. */
ATTOGRAD_API Tensor *nn_get_parameter(const Module *m, const char *dotted_name);
ATTOGRAD_API void nn_zero_grad(Module *m);
ATTOGRAD_API void nn_module_free(Module *m); /* the module, its children and tensors */

/* ---- Layers ----------------------------------------------------------------- */
typedef struct {
    Module base;
    int64_t in_features, out_features;
    Tensor *weight;              /* (out_features, in_features) */
    Tensor *bias;                /* (out_features) or NULL */
} Linear;
#define NN_TYPE_NAME_Linear "Linear"
/* PyTorch's default init: kaiming_uniform_(a=sqrt(5)) weight, then bias. */
ATTOGRAD_API Module *nn_linear(int64_t in_features, int64_t out_features, bool bias);

typedef struct {
    Module base;
    float p;
    TensorGenerator *generator;  /* NULL: the default generator */
} Dropout;
#define NN_TYPE_NAME_Dropout "Dropout"
ATTOGRAD_API Module *nn_dropout(float p);

/* Ids are whole numbers held in float tensors, as everywhere in the
 * library: exact up to 2^24 (16,777,216), far past GPT-2's 50,257. */
typedef struct {
    Module base;
    int64_t num_embeddings, embedding_dim;
    Tensor *weight;              /* (num_embeddings, embedding_dim), N(0, 1) */
} Embedding;
#define NN_TYPE_NAME_Embedding "Embedding"
/* forward: ids (...) -> (..., embedding_dim), as torch.nn.Embedding. */
ATTOGRAD_API Module *nn_embedding(int64_t num_embeddings, int64_t embedding_dim);

/* The book's LayerNorm: scale * (x - mean) / sqrt(var + eps) + shift over
 * the last dim, biased variance, eps 1e-5 (tensor_layer_norm, fused). */
typedef struct {
    Module base;
    int64_t emb_dim;
    double eps;
    Tensor *scale, *shift;       /* (emb_dim): ones, zeros */
} LayerNorm;
#define NN_TYPE_NAME_LayerNorm "LayerNorm"
ATTOGRAD_API Module *nn_layer_norm(int64_t emb_dim);

/* Activations as modules, for Sequential: no parameters. */
ATTOGRAD_API Module *nn_gelu(void);           /* the tanh approximation, as the book's GELU */
ATTOGRAD_API Module *nn_relu(void);
ATTOGRAD_API Module *nn_tanh(void);
ATTOGRAD_API Module *nn_sigmoid(void);
ATTOGRAD_API Module *nn_silu(void);           /* x * sigmoid(x) */
typedef struct {
    Module base;
    float negative_slope;
} LeakyReLU;
#define NN_TYPE_NAME_LeakyReLU "LeakyReLU"
/* nn.LeakyReLU(negative_slope): PyTorch's default slope is 0.01. */
ATTOGRAD_API Module *nn_leaky_relu(float negative_slope);
typedef struct {
    Module base;
    float beta, threshold;
} Softplus;
#define NN_TYPE_NAME_Softplus "Softplus"
/* nn.Softplus(beta, threshold): PyTorch's defaults are 1 and 20. */
ATTOGRAD_API Module *nn_softplus(float beta, float threshold);

/* ---- The book's chapter 3 attention modules -------------------------------- */
/* What an attention module keeps of its last forward when asked
 * (nn_attention_keep_weights): a long-lived, detached copy of its weights. */
typedef struct {
    bool keep;
    Tensor *weights;             /* NULL until a forward ran with keep set */
} NNAttentionKept;

typedef struct {                 /* Listing 3.1 */
    Module base;
    int64_t d_in, d_out;
    Tensor *W_query, *W_key, *W_value;   /* (d_in, d_out), torch.rand */
    NNAttentionKept kept;
} SelfAttentionV1;
#define NN_TYPE_NAME_SelfAttentionV1 "SelfAttention_v1"
ATTOGRAD_API Module *nn_self_attention_v1(int64_t d_in, int64_t d_out);

typedef struct {                 /* Listing 3.2 */
    Module base;
    int64_t d_in, d_out;
    Linear *W_query, *W_key, *W_value;
    NNAttentionKept kept;
} SelfAttentionV2;
#define NN_TYPE_NAME_SelfAttentionV2 "SelfAttention_v2"
ATTOGRAD_API Module *nn_self_attention_v2(int64_t d_in, int64_t d_out, bool qkv_bias);

/* Exercise 3.1: v1's W = v2's weight^T, after which both give the same
 * output; -1 with a message when v1 is not a SelfAttention_v1, v2 not a
 * SelfAttention_v2, their sizes differ or v2 has biases. */
ATTOGRAD_API int nn_self_attention_v1_load_v2(Module *v1, const Module *v2);

typedef struct {
    Module base;
    int64_t d_in, d_out, context_length;
    Linear *W_query, *W_key, *W_value;
    Dropout *dropout;
    Tensor *mask;                /* buffer: triu(ones(T, T), diagonal=1) */
    NNAttentionKept kept;
} CausalAttention;
#define NN_TYPE_NAME_CausalAttention "CausalAttention"
ATTOGRAD_API Module *nn_causal_attention(int64_t d_in, int64_t d_out, int64_t context_length,
                                         float dropout, bool qkv_bias);

/* Each head of the wrapper is a CausalAttention of its own (weights and a
 * (context_length)^2 mask), so its count is bounded: NN_MAX_HEADS is far
 * past any model of the book (12 heads in GPT-2 small, 25 in XL) and keeps
 * a mistyped count (2^31 - 1) from building for minutes.  The fused
 * MultiHeadAttention needs no bound of its own: d_out % num_heads == 0
 * makes num_heads <= d_out. */
#define NN_MAX_HEADS 1024
typedef struct {
    Module base;
    int64_t d_in, d_out, context_length, num_heads;
    CausalAttention **heads;     /* children "heads.0", "heads.1", ... */
    NNAttentionKept kept;        /* the heads' weights stacked: (..., num_heads, T, T) */
} MultiHeadAttentionWrapper;
#define NN_TYPE_NAME_MultiHeadAttentionWrapper "MultiHeadAttentionWrapper"
ATTOGRAD_API Module *nn_multi_head_attention_wrapper(int64_t d_in, int64_t d_out,
                                                     int64_t context_length, float dropout,
                                                     int64_t num_heads, bool qkv_bias);

typedef struct {
    Module base;
    int64_t d_in, d_out, num_heads, head_dim, context_length;
    Linear *W_query, *W_key, *W_value, *out_proj;
    Dropout *dropout;
    Tensor *mask;
    NNAttentionKept kept;
} MultiHeadAttention;
#define NN_TYPE_NAME_MultiHeadAttention "MultiHeadAttention"
ATTOGRAD_API Module *nn_multi_head_attention(int64_t d_in, int64_t d_out, int64_t context_length,
                                             float dropout, int64_t num_heads, bool qkv_bias);

/* Attention weights for pictures (the heatmaps of the example programs).
 * With keep set, each forward of m replaces a long-lived, detached copy of
 * its attention weights softmax(masked(Q K^T) / sqrt(d)), taken before
 * dropout, which m owns; clearing keep frees it.  m is a SelfAttention_v1,
 * SelfAttention_v2, CausalAttention, MultiHeadAttentionWrapper (its heads'
 * weights stacked, as MultiHeadAttention's) or MultiHeadAttention; another
 * module is refused (-1 and a message naming its type).
 *     nn_attention_keep_weights(NN(mha), true);
 *     nn_forward(NN(mha), batch);                       (2, 6, 3)
 *     const Tensor *w = nn_attention_weights(NN(mha));   (2, num_heads, 6, 6)
 * Weights: (T, T) for a (T, d_in) input, (B, T, T) for a batch, with a
 * heads dim before T for the multi-head modules; NULL with a message when
 * m keeps none (keep unset, or no forward since). */
ATTOGRAD_API int nn_attention_keep_weights(Module *m, bool keep);
ATTOGRAD_API const Tensor *nn_attention_weights(const Module *m);

/* The book's chapter-3 input: "Your journey starts with one step", six
 * tokens embedded in 3 dims, a (6, 3) tensor in the current scope (the rows
 * x^1 ... x^6 every attention listing of chapter 3 starts from). */
enum { NN_EXAMPLE_TOKENS = 6, NN_EXAMPLE_DIM = 3 };
ATTOGRAD_API Tensor *nn_example_inputs(void);

/* ---- The book's chapter 4 deep network: shortcut connections (Listing 4.5) ---- */
/*
 * ExampleDeepNeuralNetwork(layer_sizes, use_shortcut): layers.i is
 * Sequential(Linear(layer_sizes[i], layer_sizes[i + 1]), GELU()), drawn in
 * that order, named as its state_dict (layers.0.0.weight, layers.0.0.bias,
 * ...); its forward sets x = x + layers[i](x) when use_shortcut and the
 * shapes match, else x = layers[i](x).  The book's experiment, as its
 * print_gradients prints it:
 *
 *     tensor_manual_seed(123);
 *     Tensor *means = nn_shortcut_gradient_means(false);
 *     tensor_print(means);       tensor([0.0002, 0.0001, 0.0007, 0.0014, 0.0050])
 */
typedef struct {
    Module base;
    bool use_shortcut;
    Module *layers;              /* a module list of Sequential(Linear, GELU) */
} ExampleDeepNeuralNetwork;
#define NN_TYPE_NAME_ExampleDeepNeuralNetwork "ExampleDeepNeuralNetwork"
/* n_sizes - 1 layers (the book's layer_sizes: {3, 3, 3, 3, 3, 1}); refused with a
 * message: fewer than 2 sizes, a size <= 0. */
ATTOGRAD_API Module *nn_example_deep_neural_network(int64_t n_sizes, const int64_t *layer_sizes,
                                                    bool use_shortcut);
/* The book's run: ExampleDeepNeuralNetwork([3, 3, 3, 3, 3, 1], use_shortcut) from
 * the default generator, one backward of mse_loss(model([[1., 0., -1.]]), [[0.]]),
 * then each layers.i.0.weight's grad.abs().mean(): a (5) tensor in the current scope. */
ATTOGRAD_API Tensor *nn_shortcut_gradient_means(bool use_shortcut);

/* ---- The book's chapter 4 GPT ------------------------------------------------ */
/*
 * The book's config keys.  Modules draw their weights in the book's order
 * (tok_emb, pos_emb, then each block's att (W_query, W_key, W_value,
 * out_proj), ff.layers.0, ff.layers.2, then out_head) and carry its
 * state_dict names: tok_emb.weight, pos_emb.weight,
 * trf_blocks.0.att.W_query.weight, trf_blocks.0.att.mask (a buffer),
 * trf_blocks.0.ff.layers.0.weight, trf_blocks.0.norm1.scale,
 * final_norm.shift, out_head.weight (no bias).
 * Refused with a message: a size <= 0, emb_dim not divisible by n_heads,
 * drop_rate outside [0, 1), vocab_size or context_length above 2^24 (ids
 * are whole numbers held in float tensors, exact up to 2^24).
 */
typedef struct NNGPTConfig { int64_t vocab_size, context_length, emb_dim, n_heads, n_layers;
                             double drop_rate; bool qkv_bias; } NNGPTConfig;
#define NN_GPT_CONFIG_124M      ((NNGPTConfig){50257, 1024, 768, 12, 12, 0.1, false})
#define NN_GPT_CONFIG_BOOK_TEST ((NNGPTConfig){50257, 12, 32, 4, 2, 0.1, false})

/* nn_forward(ff, x): (..., emb_dim) -> (..., emb_dim); children "layers.0" (Linear),
 * "layers.1" (GELU), "layers.2" (Linear). */
ATTOGRAD_API Module *nn_feed_forward(NNGPTConfig cfg);
/* x + drop(att(norm1(x))), then h + drop(ff(norm2(h))): (B, T, emb_dim) in and out. */
ATTOGRAD_API Module *nn_transformer_block(NNGPTConfig cfg);
/* nn_forward(m, idx): (B, T) float ids, T <= context_length -> logits (B, T, vocab_size). */
ATTOGRAD_API Module *nn_gpt_model(NNGPTConfig cfg);
/* Checks the file at path against the GPTModel cfg describes, before that
 * model is built: cfg as nn_gpt_model checks it, then every tensor of its
 * state_dict (the causal masks trf_blocks.N.att.mask included) in the file
 * as F32 of its shape, from the header alone.  tensor_file_open has checked
 * the header against the file's size, so a model that passes takes no more
 * memory than the file holds: a checkpoint whose metadata claims
 * context_length 40000 or n_layers 4096 is refused, not built.  0, or -1
 * with a message naming the file and the first tensor missing or of
 * another shape:
 *   "load run.safetensors: pos_emb.weight: shape (16,16) in file, (40000,16) in model"
 * Loading into the model (nn_module_load, checkpoint_load_module) then
 * checks the values, the masks included (a mask that is not the causal
 * pattern the attention applies is refused: the forward never reads it). */
ATTOGRAD_API int nn_gpt_check_file(NNGPTConfig cfg, const char *path);
/* trf_blocks[layer].att of a GPTModel, a MultiHeadAttention (layer < 0 counts
 * from the end, as Python); NULL with a message for another module or a
 * layer out of range. */
ATTOGRAD_API Module *nn_gpt_attention(Module *gpt, int64_t layer);
/* Chapter 6: model.out_head = torch.nn.Linear(emb_dim, num_classes), with a
 * bias and PyTorch's init drawn now from gen (NULL: the default generator),
 * where the book draws it (it seeds just before).  The old head is freed;
 * the new one is trainable (freeze around it with nn_requires_grad_).
 * Returns the new head; NULL with a message, nothing changed, for a module
 * that is not a GPTModel or num_classes outside [1, 2^24]. */
ATTOGRAD_API Module *nn_gpt_replace_head(Module *gpt, int64_t num_classes, TensorGenerator *gen);
/* The parameters of GPTModel(cfg) with out_head Linear(emb_dim, head_out,
 * head_bias) from shapes alone, nothing built: the vocabulary head is
 * (vocab_size, false) (124M: 163,009,536), the book's classifier's (2, true)
 * (124M, qkv_bias: 124,441,346).  -1 with a message for a cfg nn_gpt_model
 * refuses or head_out < 1. */
ATTOGRAD_API int64_t nn_gpt_num_parameters(NNGPTConfig cfg, int64_t head_out, bool head_bias);

/* The book's generate_text_simple: max_new_tokens greedy ids appended to
 * idx (B, T), each from the last context_size ids; (B, T + max_new_tokens)
 * in the current scope.  The model runs in eval mode under no-grad (its
 * mode restored after), one scope per token, so memory stays flat.  For a
 * GPTModel only the last position goes through final_norm and out_head, and
 * while the ids fit context_size the keys and values of earlier positions
 * are cached (2 x n_layers x B x context x emb_dim floats for the call):
 * each token then costs one position's forward, with the logits, bit for
 * bit, of the full forward over the window.  Once the window slides, each
 * window is computed whole, as the book's loop does. */
ATTOGRAD_API Tensor *nn_generate_text_simple(Module *model, const Tensor *idx,
                                             int64_t max_new_tokens, int64_t context_size);
/* The book's chapter 5 generate: top_k 0 off, else only the top_k largest
 * logits stay; temperature 0 greedy, else torch.multinomial's draw from
 * softmax(logits / temperature) (default generator); eos_id -1 off, else
 * stop (without appending) when every row's next id is eos_id.  Refused
 * with a message: temperature < 0, top_k < 0 or above the vocabulary. */
ATTOGRAD_API Tensor *nn_generate(Module *model, const Tensor *idx, int64_t max_new_tokens,
                                 int64_t context_size, double temperature, int64_t top_k,
                                 int64_t eos_id);

/* ---- A GPT's configuration in a checkpoint's metadata ------------------------ */
/*
 * The "__metadata__" strings that let a program given only a checkpoint
 * rebuild its GPT (train_gpt --save writes them, gpt_generate --load reads
 * them; train_checkpoint_save in train/train.h takes them as its metadata):
 *   vocab_size, context_length, emb_dim, n_heads, n_layers   "50257" (decimal)
 *   drop_rate                                                "0.10000000000000001" (%.17g)
 *   qkv_bias                                                 "true" or "false"
 *   tokenizer                                                "gpt2" or "bytes"
 *                                                            (text_tokenizer_name's)
 *
 *     NNGPTMeta m;
 *     nn_gpt_config_to_meta(cfg, "gpt2", &m);          m.meta: NN_GPT_META_COUNT strings
 *     checkpoint_save(&(Checkpoint){.module = gpt, .n_meta = NN_GPT_META_COUNT,
 *                                   .meta = m.meta}, "gpt.safetensors");
 *
 * A load that expects them all equal (checkpoint_load with m.meta) names the
 * first key that differs: metadata "emb_dim" is "32" in file, "64" expected.
 */
enum { NN_GPT_META_COUNT = 8 };
typedef struct NNGPTMeta {
    char values[NN_GPT_META_COUNT][32];
    TensorMeta meta[NN_GPT_META_COUNT];       /* pointing into values */
} NNGPTMeta;
ATTOGRAD_API void nn_gpt_config_to_meta(NNGPTConfig cfg, const char *tokenizer, NNGPTMeta *m);
/* The configuration and the tokenizer's name ("gpt2" or "bytes", a static
 * string) from a file's metadata (label names the file in messages): 0, or
 * -1 with a message naming the key that is absent or not a value of its
 * kind.  Sizes are checked against the ranges the programs' flags accept
 * (vocab_size and context_length up to 2^24, emb_dim 2^16, n_heads and
 * n_layers 2^12), drop_rate in [0, 1); nn_gpt_model checks the rest. */
ATTOGRAD_API int nn_gpt_config_from_meta(const TensorFile *f, const char *label,
                                         NNGPTConfig *cfg, const char **tokenizer);

/* ---- GPT-2's published weights ----------------------------------------------- */
/*
 * Hugging Face's model.safetensors of GPT-2 (gpt2, gpt2-medium, -large, -xl)
 * in the book's GPTModel, mapped as the book's chapter-5
 * load_weights_into_gpt maps them: wte.weight -> tok_emb and out_head
 * (weight tying), wpe.weight -> pos_emb, h.N.ln_1/ln_2.weight|bias ->
 * norm1/norm2.scale|shift, h.N.attn.c_attn.weight|bias (Conv1D, (in, out),
 * q, k, v side by side along out) split into att.W_query/W_key/W_value,
 * h.N.attn.c_proj -> att.out_proj, h.N.mlp.c_fc -> ff.layers.0,
 * h.N.mlp.c_proj -> ff.layers.2, ln_f -> final_norm; Conv1D weights are
 * transposed into Linear's (out, in).  Names may carry GPT2LMHeadModel's
 * "transformer." prefix; the file's other tensors (the h.N.attn.bias masks,
 * lm_head.weight) are left unread.
 *
 *     NNGPTConfig cfg;
 *     if (nn_gpt_hf_config("model.safetensors", &cfg)) puts(tensor_error());
 *     Module *gpt2 = nn_gpt_load_hf("model.safetensors", cfg);   124M: cfg.n_heads 12
 */
/* GPT-2's head count for its width: 768: 12, 1024: 16, 1280: 20, 1600: 25; else 0. */
ATTOGRAD_API int64_t nn_gpt2_heads(int64_t emb_dim);
/* The config a file's shapes give: vocab_size and emb_dim from wte,
 * context_length from wpe, n_layers from the h.N names, n_heads
 * nn_gpt2_heads(emb_dim) (0 for another width: the caller chooses), qkv_bias
 * true, drop_rate 0.1 (the book's).  Every tensor GPTModel needs is checked
 * (present, F32, its shape for that width) from the header alone, nothing
 * else read: 0, or -1 with a message naming the file and the tensor, e.g.
 *   "load m.safetensors: h.1.mlp.c_fc.weight: shape (32,96) in file, (32,128) in model"
 * Refused too: a model whose causal masks (n_layers x context_length^2
 * floats, which no weight of the file bounds) would outweigh its weights.
 * GPT-2's are a tenth of them; a small file whose wpe claims 40000 rows
 * (masks of 6.4 GB a layer) is not a model to build.
 */
ATTOGRAD_API int nn_gpt_hf_config(const char *path, NNGPTConfig *cfg);
/* nn_gpt_model(cfg) with the file's weights in it; cfg's sizes must be the
 * file's (as nn_gpt_hf_config gives them, n_heads set) and qkv_bias true.
 * The model is built once, its weights read straight into it (the peak is
 * the model and one block's largest tensor), and its initial weights are
 * not drawn, but the default generator is advanced past those draws: it
 * ends where the book's is after GPTModel(cfg) and load_weights_into_gpt.
 * NULL with a message, nothing built, for a file nn_gpt_hf_config refuses
 * or sizes that differ; NULL for a NaN or an infinity in a weight. */
ATTOGRAD_API Module *nn_gpt_load_hf(const char *path, NNGPTConfig cfg);

/* ---- Appendix E: LoRA ----------------------------------------------------------- */
/*
 * Low-rank adaptation as the book's appendix E builds it.  A LoRALayer holds
 * A (in_dim, rank), drawn as kaiming_uniform_(a=sqrt 5) draws it: PyTorch
 * takes fan_in from dim 1, which is rank here, so A ~ U(-1/sqrt(rank),
 * 1/sqrt(rank)) in row-major order, as a Linear weight of that shape; and B
 * (rank, out_dim), zeros.  Its forward is (alpha / rank) * ((x @ A) @ B).
 * A LinearWithLoRA keeps its Linear as child "linear" and adds the LoRALayer
 * as child "lora": forward linear(x) + lora(x), state_dict names
 * trf_blocks.0.att.W_query.linear.weight, ...W_query.lora.A, ...W_query.lora.B.
 *
 * The wrapper takes the Linear's place in the tree IN PLACE: the Linear's own
 * struct becomes the LinearWithLoRA (nn_linear leaves room for it), its
 * weight and bias move to a new Linear, child "linear".  So every pointer to
 * the Linear (a parent's typed slot, MultiHeadAttention's W_query, as well
 * as its entry among the children) now runs the wrapper, as setattr(parent,
 * name, LinearWithLoRA(...)) does in the book; the first fields keep a
 * Linear's layout, so a parent that reads ->in_features or ->weight still
 * reads the wrapped Linear's.
 *
 *     nn_train(gpt, false);
 *     nn_requires_grad_(gpt, false);                         freeze everything
 *     int64_t n = nn_replace_linear_with_lora(gpt, 16, 16);  124M classifier: 73
 *     nn_num_trainable_parameters(gpt);                      2,666,528: the LoRA weights
 *     ... train ...
 *     nn_lora_save(gpt, "lora.safetensors");                 only the lora.A / lora.B
 *     nn_lora_merge(gpt);                                    back to plain Linears, for generation
 *
 * Bad input, refused with a message before anything is drawn or changed:
 * rank < 1; a rank larger than a layer, i.e. above max(in_features,
 * out_features) of a Linear (the book's classifier head, Linear(768, 2),
 * takes rank 16: A (768, 16), B (16, 2)); alpha not finite; a tree without a
 * Linear; a tree that already holds LoRA layers.
 */
typedef struct {
    Module base;
    int64_t in_dim, out_dim, rank;
    double alpha;                /* the scale is alpha / rank (the book's Python float) */
    Tensor *A;                   /* (in_dim, rank), U(-1/sqrt(rank), 1/sqrt(rank)) */
    Tensor *B;                   /* (rank, out_dim), zeros */
} LoRALayer;
#define NN_TYPE_NAME_LoRALayer "LoRALayer"
/* LoRALayer(in_dim, out_dim, rank, alpha): A drawn from the default generator. */
ATTOGRAD_API Module *nn_lora_layer(int64_t in_dim, int64_t out_dim, int64_t rank, double alpha);

typedef struct {
    Module base;
    int64_t in_features, out_features;   /* the wrapped Linear's (a Linear's layout) */
    Tensor *weight, *bias;               /* the wrapped Linear's: linear.weight, linear.bias */
    Linear *linear;                      /* child "linear" */
    LoRALayer *lora;                     /* child "lora" */
} LinearWithLoRA;
#define NN_TYPE_NAME_LinearWithLoRA "LinearWithLoRA"
/* LinearWithLoRA(linear, rank, alpha): linear (made by nn_linear) becomes the
 * wrapper in place and is returned; its LoRALayer draws A now.  NULL with a
 * message, linear unchanged, for another module or bad rank / alpha. */
ATTOGRAD_API Module *nn_linear_with_lora(Module *linear, int64_t rank, double alpha);
/* The book's replace_linear_with_lora: over m's direct children in
 * registration order, a Linear becomes a LinearWithLoRA (and is not descended
 * into), anything else is recursed into; so A is drawn per block W_query,
 * W_key, W_value, out_proj, ff.layers.0, ff.layers.2, then out_head.  Freezes
 * nothing: the book freezes first (nn_requires_grad_(m, false)), and the
 * new A and B train.  Returns the Linears wrapped; -1 with a message,
 * nothing changed (the generator restored) on bad input or no memory. */
ATTOGRAD_API int64_t nn_replace_linear_with_lora(Module *m, int64_t rank, double alpha);
/* What nn_replace_linear_with_lora(gpt, rank, .) adds to GPTModel(cfg) whose
 * out_head is Linear(emb_dim, head_out) (cfg.vocab_size as built, 2 for the
 * book's classifier): rank * (in + out) over its Linears, 18 * emb_dim * rank
 * a block, from cfg alone (no model built, nothing drawn).  The book's
 * "Total trainable LoRA parameters": 124M, head 2, rank 16: 2,666,528;
 * gpt2-medium, its vocabulary head, rank 16: 7,898,384.  -1 with a message
 * for a size < 1 or a rank the replacement would refuse. */
ATTOGRAD_API int64_t nn_gpt_lora_parameters(NNGPTConfig cfg, int64_t head_out, int64_t rank);
/* Only the LoRA weights of m (every ...lora.A and ...lora.B, under their
 * dotted names from m) in a safetensors file, with metadata format "pt" and
 * lora_alpha (the scale is not a tensor); saved safely (tensor_save_entries).
 * 0, or -1 with a message (m holds no LoRA layer). */
ATTOGRAD_API int nn_lora_save(const Module *m, const char *path);
/* Loads such a file into m, which must have had the same replacement: the
 * file's tensors are exactly m's LoRA tensors (names, shapes; a file without
 * lora_alpha, e.g. PyTorch's save_file of the lora entries, is taken as it
 * is, one with another alpha is refused), checked before anything changes;
 * no NaN or infinity.  0, or -1 with a message naming the file, m unchanged. */
ATTOGRAD_API int nn_lora_load(Module *m, const char *path);
/* Merges every LinearWithLoRA under m into its Linear for generation:
 * weight += (alpha / rank) * (A @ B)^T, then the wrapper becomes a plain
 * Linear again in place (its lora child freed, weight and bias back under
 * their own names, ...W_query.weight), so m is the base model's
 * architecture: nn_module_save writes a file every GPT loader reads.  Not
 * undoable.  Returns the layers merged; -1 with a message when m holds none. */
ATTOGRAD_API int64_t nn_lora_merge(Module *m);

/* ---- Checkpoints ------------------------------------------------------------ */
/*
 * A module's state_dict (its parameters and buffers under their dotted names,
 * float32) in a safetensors file, as PyTorch writes it with
 *     safetensors.torch.save_file(module.state_dict(), path, {"format": "pt"})
 * so PyTorch reads it back with load_file and load_state_dict, and files
 * written by PyTorch load here.  Saving is safe: a failed save leaves the
 * previous file intact (tensor_save_entries).  Loading checks the whole file
 * against the module first (every name present, none extra, dtype F32,
 * shapes equal), before any data is read, then the values (no NaN or
 * infinity in a parameter; the causal masks exactly the module's own, see
 * nn_check_loaded): on any error the module is unchanged and
 * tensor_error() names the file and the tensor, e.g.
 *     "load m.safetensors: W_query.weight: shape (2,3) in file, (3,2) in module"
 * Both return 0, or -1; a NULL module returns -1 without a message.
 */
ATTOGRAD_API int nn_module_save(const Module *m, const char *path);
ATTOGRAD_API int nn_module_load(Module *m, const char *path);
/* Whether a file's values for m's tensor name (its state_dict name; its
 * numel floats as a loader staged them, possibly unaligned) may be loaded
 * into it: always, but for a buffer the module fixes.  The causal masks are
 * such buffers: the attention applies its own causal pattern and never
 * reads them (PyTorch's state_dict has them, so files keep them), so a
 * file whose mask differs (zeros, a NaN) is refused, where the book's
 * model would apply it and this one would silently not.  0, or -1 with a
 * message a loader puts after "load <file>: ":
 *   "trf_blocks.0.att.mask: 0 at (0,1) in file, 1 in module: not the mask ..." */
ATTOGRAD_API int nn_check_loaded(const Module *m, const char *name, const void *values);
/* A training run's checkpoint (the module with its optimizer, generator and
 * counters) is checkpoint_save / checkpoint_load (checkpoint/checkpoint.h). */

#endif /* ATTOGRAD_NN_H */
