/*
 * The book's appendix E: LoRALayer, LinearWithLoRA and
 * replace_linear_with_lora, and what a LoRA run needs around them: the
 * count from a config, the LoRA weights saved and loaded alone, and merged
 * into the base weights for generation (nn.h says what each one does).
 *
 * A Linear becomes its wrapper in place: the parent's typed slots
 * (MultiHeadAttention's W_query, GPTModel's out_head) hold the Linear's
 * address, as Python attributes hold the object setattr replaces, so the
 * wrapper must live at that address.  nn_linear allocates room for it
 * (NN__LINEAR_BYTES); the weight and bias move to a new Linear, the
 * wrapper's child "linear".  Merging moves them back.
 */
#include "nn_internal.h"
#include "tensor/safetensors.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A parent that holds a Linear * reads these fields of the wrapper. */
_Static_assert(offsetof(LinearWithLoRA, in_features) == offsetof(Linear, in_features) &&
                   offsetof(LinearWithLoRA, out_features) == offsetof(Linear, out_features) &&
                   offsetof(LinearWithLoRA, weight) == offsetof(Linear, weight) &&
                   offsetof(LinearWithLoRA, bias) == offsetof(Linear, bias),
               "LinearWithLoRA must start with a Linear's layout");

/* 0 for a rank and an alpha LoRA takes; else -1 with "who: ...". */
static int check_rank_alpha(const char *who, int64_t rank, double alpha)
{
    if (rank < 1)
        return tensor_set_error("%s: rank %lld must be at least 1", who, (long long)rank), -1;
    if (!isfinite(alpha))
        return tensor_set_error("%s: alpha %g must be finite", who, alpha), -1;
    return 0;
}

/* 0 when rank fits `layer`, (in, out): at most the larger of its sizes
 * (the book's classifier head, Linear(768, 2), takes rank 16); else -1. */
static int check_fits(const char *who, const char *layer, int64_t in, int64_t out, int64_t rank)
{
    int64_t most = in > out ? in : out;
    if (rank > most)
        return tensor_set_error("%s: rank %lld is larger than %s: at most max(in, out) = %lld",
                                who, (long long)rank, layer, (long long)most),
               -1;
    return 0;
}

/* ---- LoRALayer ----------------------------------------------------------------- */

/* forward: (alpha / rank) * ((x @ A) @ B): x (..., in_dim) -> (..., out_dim).
 * alpha / rank is a Python float in the book, which PyTorch applies to a
 * float32 tensor rounded to float. */
static Tensor *lora_forward(Module *m, const Tensor *x)
{
    LoRALayer *l = (LoRALayer *)m;
    if (x->ndim < 1 || x->shape[x->ndim - 1] != l->in_dim)
        return tensor_set_error("LoRALayer: input %s: expected last dim in_dim = %lld",
                                tensor_shape_str(x), (long long)l->in_dim);
    Tensor *xab = tensor_matmul(tensor_matmul(x, l->A), l->B);
    return tensor_mul_scalar(xab, (float)(l->alpha / (double)l->rank));
}

/* kaiming_uniform_(A, a=sqrt(5)) in double as Python computes it, with
 * fan_in = A.size(1) = rank: bound = sqrt(3) * sqrt(2 / (1 + 5)) / sqrt(rank). */
static int draw_A(LoRALayer *l)
{
    double a = sqrt(5.0);
    double std = sqrt(2.0 / (1.0 + a * a)) / sqrt((double)l->rank);
    float bound = (float)(sqrt(3.0) * std);
    tensor_no_grad_begin();
    Tensor *drawn = tensor_uniform_(l->A, -bound, bound, NULL);
    tensor_no_grad_end();
    return drawn ? 0 : -1;
}

Module *nn_lora_layer(int64_t in_dim, int64_t out_dim, int64_t rank, double alpha)
{
    if (in_dim <= 0 || out_dim <= 0)
        return tensor_set_error("LoRALayer: in_dim %lld and out_dim %lld must be positive",
                                (long long)in_dim, (long long)out_dim);
    char layer[96];
    snprintf(layer, sizeof layer, "the layer (in_dim %lld, out_dim %lld)", (long long)in_dim,
             (long long)out_dim);
    if (check_rank_alpha("LoRALayer", rank, alpha) ||
        check_fits("LoRALayer", layer, in_dim, out_dim, rank))
        return NULL;
    LoRALayer *l = nn_module_new(sizeof *l, NN_TYPE_NAME_LoRALayer, lora_forward);
    if (!l) return NULL;
    l->in_dim = in_dim;
    l->out_dim = out_dim;
    l->rank = rank;
    l->alpha = alpha;
    /* From one expanded zero, as nn_linear: the parameters are the only
     * full-size memory.  A is drawn in place, B stays zeros. */
    TensorScope *scope = tensor_scope_begin();
    Tensor *zero = tensor_zeros(SHAPE(1, 1));
    l->A = nn_parameter(NN(l), "A", tensor_expand(zero, SHAPE(in_dim, rank)));
    l->B = nn_parameter(NN(l), "B", tensor_expand(zero, SHAPE(rank, out_dim)));
    tensor_scope_end(scope);
    if (l->A && l->B && draw_A(l) != 0) l->base.failed = true;
    return nn_module_ok(NN(l));
}

/* ---- LinearWithLoRA ------------------------------------------------------------- */

/* forward: linear(x) + lora(x) */
static Tensor *lora_linear_forward(Module *m, const Tensor *x)
{
    LinearWithLoRA *w = (LinearWithLoRA *)m;
    return tensor_add(nn_forward(NN(w->linear), x), nn_forward(NN(w->lora), x));
}

static bool is_linear(const Module *m) { return m->forward == nn__linear_forward; }
static bool is_wrapper(const Module *m) { return m->forward == lora_linear_forward; }
static bool is_lora(const Module *m) { return m->forward == lora_forward; }

/* Moves from's own parameters and buffers to `to` (which has none). */
static void move_tensors(Module *from, Module *to)
{
    to->params = from->params;
    to->n_params = from->n_params;
    to->buffers = from->buffers;
    to->n_buffers = from->n_buffers;
    from->params = from->buffers = NULL;
    from->n_params = from->n_buffers = 0;
}

/* l (a Linear of nn_linear's; rank and alpha checked) becomes its wrapper in
 * place: 0, or -1 with a message (no memory), l unchanged. */
static int wrap(Linear *l, int64_t rank, double alpha)
{
    Module *lora = nn_lora_layer(l->in_features, l->out_features, rank, alpha);
    Linear *inner = lora ? nn_module_new(sizeof *inner, NN_TYPE_NAME_Linear, nn__linear_forward)
                         : NULL;
    if (!inner) {
        nn_module_free(lora);
        return -1;
    }
    inner->in_features = l->in_features;
    inner->out_features = l->out_features;
    inner->weight = l->weight;
    inner->bias = l->bias;
    inner->base.training = l->base.training;   /* the same Linear, in PyTorch */
    move_tensors(NN(l), NN(inner));
    LinearWithLoRA *w = (LinearWithLoRA *)l;
    w->base.type = NN_TYPE_NAME_LinearWithLoRA;
    w->base.forward = lora_linear_forward;
    w->base.training = true;                   /* a new module, as PyTorch's */
    /* Cannot fail: w has no children yet, and neither child has a parent. */
    w->linear = (Linear *)nn_child(NN(w), "linear", NN(inner));
    w->lora = (LoRALayer *)nn_child(NN(w), "lora", lora);
    return 0;
}

/* The wrapper back to its Linear in place: weight and bias under their own
 * names again, the children freed. */
static void unwrap(LinearWithLoRA *w)
{
    Module *inner = NN(w->linear), *lora = NN(w->lora);
    move_tensors(inner, NN(w));
    for (int i = 0; i < w->base.n_children; i++) free(w->base.children[i].name);
    free(w->base.children);
    w->base.children = NULL;
    w->base.n_children = 0;
    w->base.training = inner->training;
    nn_module_free(inner);
    nn_module_free(lora);
    w->linear = NULL;
    w->lora = NULL;
    w->base.type = NN_TYPE_NAME_Linear;
    w->base.forward = nn__linear_forward;
    nn__rename_tree(NN(w));
}

/* "trf_blocks.0.att.W_query, a Linear(16, 16)": the Linear by its weight's
 * dotted name, for messages. */
static const char *describe(const Linear *l, char *buf, size_t size)
{
    const char *name = l->weight && l->weight->name ? l->weight->name : "";
    size_t len = strlen(name), suffix = strlen(".weight");
    if (len > suffix && strcmp(name + len - suffix, ".weight") == 0)
        snprintf(buf, size, "%.*s, a Linear(%lld, %lld)", (int)(len - suffix), name,
                 (long long)l->in_features, (long long)l->out_features);
    else
        snprintf(buf, size, "the layer, a Linear(%lld, %lld)", (long long)l->in_features,
                 (long long)l->out_features);
    return buf;
}

Module *nn_linear_with_lora(Module *linear, int64_t rank, double alpha)
{
    if (!linear) return NULL;
    if (!is_linear(linear))
        return tensor_set_error("LinearWithLoRA: the module is a %s, not a Linear",
                                linear->type ? linear->type : "?");
    if (linear->parent && is_wrapper(linear->parent))
        return tensor_set_error("LinearWithLoRA: the Linear is already wrapped");
    Linear *l = (Linear *)linear;
    char layer[160];
    if (check_rank_alpha("LinearWithLoRA", rank, alpha) ||
        check_fits("LinearWithLoRA", describe(l, layer, sizeof layer), l->in_features,
                   l->out_features, rank) ||
        wrap(l, rank, alpha))
        return NULL;
    return linear;
}

/* ---- replace_linear_with_lora ---------------------------------------------------- */

typedef struct {
    Module **items;
    int64_t n, cap;
} ModuleArray;

static void push(ModuleArray *a, Module *m)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 16;
        Module **grown = realloc(a->items, (size_t)a->cap * sizeof *grown);
        if (!grown) {   /* a few bytes a layer: fatal, as module.c's lists */
            fputs("attograd: out of memory\n", stderr);
            abort();
        }
        a->items = grown;
    }
    a->items[a->n++] = m;
}

/* The book's walk over m's children: a Linear is taken (not descended
 * into), anything else recursed into.  Wrappers and LoRA layers met on the
 * way go to *lora (a tree replaced twice would nest them). */
static void find_linears(Module *m, ModuleArray *linears, ModuleArray *lora)
{
    for (int i = 0; i < m->n_children; i++) {
        Module *c = m->children[i].module;
        if (is_linear(c)) push(linears, c);
        else if (is_wrapper(c) || is_lora(c)) push(lora, c);
        else find_linears(c, linears, lora);
    }
}

/* Every Linear found may take rank: 0, or -1 with a message. */
static int check_tree(const Module *m, const ModuleArray *linears, const ModuleArray *lora,
                      int64_t rank)
{
    const char *who = "replace_linear_with_lora";
    if (is_linear(m))
        return tensor_set_error("%s: the module is itself a Linear (wrap it with "
                                "nn_linear_with_lora)", who), -1;
    if (lora->n)
        return tensor_set_error("%s: %s already holds LoRA layers (a %s)", who, m->type,
                                lora->items[0]->type), -1;
    if (!linears->n)
        return tensor_set_error("%s: %s holds no Linear", who, m->type), -1;
    for (int64_t i = 0; i < linears->n; i++) {
        const Linear *l = (const Linear *)linears->items[i];
        char layer[160];
        if (check_fits(who, describe(l, layer, sizeof layer), l->in_features, l->out_features,
                       rank))
            return -1;
    }
    return 0;
}

int64_t nn_replace_linear_with_lora(Module *m, int64_t rank, double alpha)
{
    if (!m || check_rank_alpha("replace_linear_with_lora", rank, alpha)) return -1;
    ModuleArray linears = {0}, lora = {0};
    find_linears(m, &linears, &lora);
    int64_t n = check_tree(m, &linears, &lora, rank) ? -1 : linears.n;
    /* No memory midway: the wrapped ones are unwrapped and the generator
     * rewound, so the caller has the model it had. */
    TensorGenerator saved = *tensor_default_generator();
    for (int64_t i = 0; n > 0 && i < linears.n; i++)
        if (wrap((Linear *)linears.items[i], rank, alpha) != 0) {
            while (i > 0) unwrap((LinearWithLoRA *)linears.items[--i]);
            *tensor_default_generator() = saved;
            n = -1;
        }
    free(linears.items);
    free(lora.items);
    return n;
}

/* ---- The count, from a config ----------------------------------------------------- */

int64_t nn_gpt_lora_parameters(NNGPTConfig cfg, int64_t head_out, int64_t rank)
{
    const char *who = "gpt_lora_parameters";
    const int64_t E = cfg.emb_dim, L = cfg.n_layers;
    if (E < 1 || L < 1 || head_out < 1)
        return tensor_set_error("%s: emb_dim %lld, n_layers %lld and head_out %lld must be "
                                "positive", who, (long long)E, (long long)L, (long long)head_out),
               -1;
    /* The narrowest Linear is the attention's (E, E): the head may be
     * narrower in one size, as the book's Linear(768, 2), not in both. */
    char layer[96];
    snprintf(layer, sizeof layer, "the attention's Linear(%lld, %lld)", (long long)E, (long long)E);
    if (check_rank_alpha(who, rank, 0.0) || check_fits(who, layer, E, E, rank)) return -1;
    /* a block: W_query, W_key, W_value, out_proj (E, E): 4 * 2E; ff.layers.0
     * (E, 4E), ff.layers.2 (4E, E): 2 * 5E; 18 E in all, times rank */
    int64_t block, blocks, head, total;
    if (__builtin_mul_overflow(18 * rank, E, &block) || __builtin_mul_overflow(block, L, &blocks) ||
        __builtin_mul_overflow(E + head_out, rank, &head) ||
        __builtin_add_overflow(blocks, head, &total))
        return tensor_set_error("%s: the count overflows 64 bits", who), -1;
    return total;
}

/* ---- The LoRA weights alone: save, load ------------------------------------------- */

/* m and the modules under it that want() picks, in tree order, not looking
 * inside a module picked. */
static void collect(Module *m, bool (*want)(const Module *), ModuleArray *out)
{
    if (want(m)) {
        push(out, m);
        return;
    }
    for (int i = 0; i < m->n_children; i++) collect(m->children[i].module, want, out);
}

/* The LoRA tensors of m: their entries under m's dotted names (valid while
 * names lives) and the tensors, in named_parameters' order. */
typedef struct {
    NNList names;                /* every parameter of m */
    int64_t n;
    TensorEntry *entries;        /* n of them */
    Tensor **tensors;
    double alpha;                /* the layers' alpha; NAN when they differ */
} LoraTensors;

static void lora_tensors_free(LoraTensors *t)
{
    nn_list_free(&t->names);
    free(t->entries);
    free(t->tensors);
}

/* 0, or -1 with a message (no memory) starting with the file's action. */
static int lora_tensors(const Module *m, const char *action, const char *path, LoraTensors *t)
{
    ModuleArray layers = {0};
    collect((Module *)m, is_lora, &layers);
    *t = (LoraTensors){.names = nn_named_parameters(m), .alpha = NAN};
    t->entries = malloc((size_t)(2 * layers.n + 1) * sizeof *t->entries);
    t->tensors = malloc((size_t)(2 * layers.n + 1) * sizeof *t->tensors);
    if (!t->entries || !t->tensors) {
        free(layers.items);
        return tensor_set_error("%s %s: out of memory", action, path ? path : "(null)"), -1;
    }
    for (int64_t k = 0; k < layers.n; k++) {
        double a = ((LoRALayer *)layers.items[k])->alpha;
        t->alpha = k == 0 || a == t->alpha ? a : NAN;
    }
    for (int64_t i = 0; i < t->names.count; i++)
        for (int64_t k = 0; k < layers.n; k++) {
            const LoRALayer *l = (const LoRALayer *)layers.items[k];
            Tensor *p = t->names.tensors[i];
            if (p != l->A && p != l->B) continue;
            t->entries[t->n] = tensor_entry(t->names.names[i], p);
            t->tensors[t->n++] = p;
            break;
        }
    free(layers.items);
    return 0;
}

int nn_lora_save(const Module *m, const char *path)
{
    if (!m) return -1;
    LoraTensors t;
    int rc = lora_tensors(m, "save", path, &t);
    if (rc == 0 && t.n == 0)
        rc = -1, tensor_set_error("save %s: %s holds no LoRA layer", path ? path : "(null)",
                                  m->type);
    else if (rc == 0 && t.n > INT32_MAX)
        rc = -1, tensor_set_error("save %s: %lld tensors", path ? path : "(null)",
                                  (long long)t.n);
    if (rc == 0) {
        char alpha[32];
        snprintf(alpha, sizeof alpha, "%.17g", t.alpha);
        const TensorMeta meta[2] = {{"format", "pt"}, {"lora_alpha", alpha}};
        rc = tensor_save_entries(path, (int)t.n, t.entries, isnan(t.alpha) ? 1 : 2, meta);
    }
    lora_tensors_free(&t);
    return rc;
}

/* A file's lora_alpha, when it has one, must be the layers' alpha. */
static int check_alpha(const TensorFile *f, const char *path, double alpha)
{
    const char *in_file = tensor_file_meta(f, "lora_alpha");
    if (!in_file) return 0;
    char *end;
    double a = strtod(in_file, &end);
    if (end != in_file && !*end && a == alpha) return 0;
    return tensor_set_error("load %s: lora_alpha %s in file, %.17g in model", path, in_file,
                            alpha),
           -1;
}

/* The file's values into buffers of our own (t->entries[i].data), checked
 * finite: 0, or -1 with a message. */
static int read_staged(const TensorFile *f, const char *path, LoraTensors *t)
{
    for (int64_t i = 0; i < t->n; i++) {
        t->entries[i].data = malloc((size_t)t->tensors[i]->numel * sizeof(float));
        if (!t->entries[i].data)
            return tensor_set_error("load %s: %s: out of memory", path, t->entries[i].name), -1;
    }
    if (check_alpha(f, path, t->alpha) || tensor_file_read(f, (int)t->n, t->entries, "model"))
        return -1;
    for (int64_t i = 0; i < t->n; i++) {
        const float *v = t->entries[i].data;
        for (int64_t j = 0; j < t->tensors[i]->numel; j++)
            if (!isfinite(v[j]))
                return tensor_set_error("load %s: %s holds a NaN or an infinity", path,
                                        t->entries[i].name),
                       -1;
    }
    return 0;
}

int nn_lora_load(Module *m, const char *path)
{
    if (!m) return -1;
    LoraTensors t;
    if (lora_tensors(m, "load", path, &t)) {
        lora_tensors_free(&t);
        return -1;
    }
    for (int64_t i = 0; i < t.n; i++) t.entries[i].data = NULL;
    TensorFile *f = NULL;
    int rc = -1;
    if (t.n == 0)
        tensor_set_error("load %s: %s holds no LoRA layer (replace its Linears first, as the "
                         "model that saved the file)", path ? path : "(null)", m->type);
    else if (t.n > INT32_MAX)
        tensor_set_error("load %s: %lld tensors", path ? path : "(null)", (long long)t.n);
    else if ((f = tensor_file_open(path)) && read_staged(f, path, &t) == 0)
        rc = 0;
    for (int64_t i = 0; rc == 0 && i < t.n; i++) {
        memcpy(t.tensors[i]->data, t.entries[i].data, (size_t)t.tensors[i]->numel * sizeof(float));
        tensor_bump_version(t.tensors[i]);
    }
    for (int64_t i = 0; i < t.n; i++) free(t.entries[i].data);
    tensor_file_close(f);
    lora_tensors_free(&t);
    return rc;
}

/* ---- Merging for generation ------------------------------------------------------- */

/* weight (out, in) += (alpha / rank) * (A @ B)^T in place: each (A @ B)
 * element summed over the rank in float, scaled in float, added in float,
 * PyTorch's three roundings without its temporaries (two of 200 MB for
 * gpt2-medium's head). */
static void merge_one(LinearWithLoRA *w)
{
    const LoRALayer *l = w->lora;
    const int64_t in = l->in_dim, out = l->out_dim, R = l->rank;
    const float scale = (float)(l->alpha / (double)R);
    const float *A = l->A->data, *B = l->B->data;
    float *W = w->weight->data;
    for (int64_t o = 0; o < out; o++)
        for (int64_t i = 0; i < in; i++) {
            float ab = 0.0f;
            for (int64_t r = 0; r < R; r++) ab += A[i * R + r] * B[r * out + o];
            W[o * in + i] += scale * ab;
        }
    tensor_bump_version(w->weight);
}

int64_t nn_lora_merge(Module *m)
{
    if (!m) return -1;
    ModuleArray wrappers = {0};
    collect(m, is_wrapper, &wrappers);
    if (!wrappers.n)
        return tensor_set_error("lora_merge: %s holds no LinearWithLoRA", m->type), -1;
    for (int64_t k = 0; k < wrappers.n; k++) {
        merge_one((LinearWithLoRA *)wrappers.items[k]);
        unwrap((LinearWithLoRA *)wrappers.items[k]);
    }
    free(wrappers.items);
    return wrappers.n;
}
