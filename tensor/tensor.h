/*
 * attograd tensor room: n-d float32 tensors with reverse-mode autograd.
 *
 * Overview
 *   A Tensor is a strided view (shape, strides, offset) of float32 storage.
 *   Every op computes its result now (eager, like PyTorch) and, when an input
 *   requires a gradient and grad mode is on, records a node so that
 *   tensor_backward() can later walk the graph in reverse.
 *
 * Memory: two lifetimes, no refcounts in user code
 *   - Step-lived tensors (inputs, intermediates, graph nodes) belong to the
 *     current scope, an arena.  tensor_scope_end() frees them all at once.
 *     Outside any explicit scope they belong to the root scope, freed by
 *     tensor_cleanup().
 *   - Long-lived tensors (parameters, optimizer state) are made with
 *     tensor_keep() and freed with tensor_free(), usually by their module or
 *     optimizer.
 *
 * Errors
 *   A function given bad input returns NULL (or -1) and records a message that
 *   names the op and the shapes, readable with tensor_error().  An op given a
 *   NULL input returns NULL without a new message, so a whole forward pass can
 *   be checked once at the end.
 *   Sizes: a tensor's bytes must fit in a ptrdiff_t (2^61 - 1 elements on a
 *   64-bit system); a larger shape, from a constructor or an op (expand,
 *   broadcasting, matmul, cat ...), is an error.  Out of memory: the
 *   constructors (tensor_empty ... tensor_arange, tensor_rand, tensor_randn),
 *   tensor_keep and every op whose result, or row-major copy of an input,
 *   does not fit return NULL with a message ("matmul: out of memory for a
 *   result of shape (1048576,1048576)"), so a program can report it and
 *   stop; only a backward's buffers and an op's small workspaces abort with
 *   a message.  A sum or mean over all of an expanded view's elements
 *   counts its repeated values rather than copying them.
 *
 * Misuse
 *   What PyTorch detects is detected here too, with a message and NULL/-1:
 *   a tensor or scope handle used after its scope ended (a generation number
 *   in each tensor and handle, compared on use, release builds included; a
 *   stale handle never ends a newer scope), a backward over a tensor changed
 *   in place since the forward saved it (version counters: fill_, copy_,
 *   set, the random fills and the optimizers' updates count), a second
 *   backward over one graph (see tensor_backward), copy_ into an expanded or
 *   overlapping view, a second tensor_free.  What cannot be detected: a
 *   stale tensor whose memory a newer tensor of a later scope now occupies
 *   at the very same address (it then reads as that tensor; ASan builds
 *   report every such use), a tensor_free'd tensor once its memory is
 *   reused, an optimizer or module used after it was freed.  Build with
 *   -Db_sanitize=address to catch those.
 *
 * Example (the book's Listing 3.1 forward, one training step):
 *
 *     tensor_manual_seed(123);
 *     Tensor *W = tensor_keep(tensor_rand(SHAPE(3, 2)));
 *     tensor_requires_grad_(W, true);
 *     TensorScope *step = tensor_scope_begin();
 *     Tensor *x = tensor_from_data(inputs, SHAPE(6, 3));
 *     Tensor *loss = tensor_sum(tensor_matmul(x, W));
 *     if (!loss || tensor_backward(loss, NULL) != 0)
 *         fprintf(stderr, "%s\n", tensor_error());
 *     tensor_print(W->grad);              (W->grad is long-lived, like W)
 *     tensor_scope_end(step);
 *     tensor_free(W);
 *     tensor_cleanup();
 */
#ifndef ATTOGRAD_TENSOR_H
#define ATTOGRAD_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Marks the library's API: every room is built with hidden visibility, so
 * that only declarations carrying this mark are exported from the shared
 * library (a test lists them).  A user's own add_backward or Linear never
 * collides with a name of ours. */
#if defined(__GNUC__)
#define ATTOGRAD_API __attribute__((visibility("default")))
#else
#define ATTOGRAD_API
#endif

#define TENSOR_MAX_DIMS 8

typedef struct Tensor Tensor;
typedef struct TensorNode TensorNode;     /* a recorded op (grad_fn) */
typedef struct TensorScope TensorScope;   /* an arena of step-lived tensors */
typedef struct TensorArena TensorArena;

struct Tensor {
    int ndim;                          /* 0 for a scalar */
    int64_t shape[TENSOR_MAX_DIMS];
    int64_t stride[TENSOR_MAX_DIMS];   /* in elements */
    int64_t numel;
    float *storage;                    /* start of the shared storage */
    int64_t offset;                    /* first element = storage[offset] */
    float *data;                       /* == storage + offset */
    bool requires_grad;
    bool retains_grad;                 /* a non-leaf that keeps .grad after backward */
    Tensor *grad;                      /* same shape, contiguous; same owner */
    TensorNode *grad_fn;               /* NULL for leaves */
    const char *name;                  /* optional, for printing and graphs */
    TensorArena *owner;                /* NULL: long-lived (tensor_keep) */
    uint64_t generation;               /* its scope's when made; checked on use (Misuse) */
    uint64_t *version;                 /* in-place changes of its storage, shared with views */
    uint64_t own_version;              /* the counter, in the tensor that made the storage */
};

/* Shapes and indices read like PyTorch's: tensor_zeros(SHAPE(3, 2)). */
#define TENSOR__NARGS(...) TENSOR__NARGS_(__VA_ARGS__, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define TENSOR__NARGS_(a1, a2, a3, a4, a5, a6, a7, a8, n, ...) n
#define SHAPE(...) TENSOR__NARGS(__VA_ARGS__), (const int64_t[]){__VA_ARGS__}
#define IDX(...) SHAPE(__VA_ARGS__)

/* ---- Errors ------------------------------------------------------------ */
#if defined(__GNUC__)
#define TENSOR__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TENSOR__PRINTF(f, a)
#endif
ATTOGRAD_API const char *tensor_error(void);        /* last message, "" when none */
ATTOGRAD_API void tensor_clear_error(void);
/* Records a message (printf format) in the same slot, for code built on
 * tensors (a module, a loss of your own) whose own checks fail; returns
 * NULL, so that `return tensor_set_error("Block: input %s ...", ...);`
 * fails a function returning a pointer. */
ATTOGRAD_API void *tensor_set_error(const char *fmt, ...) TENSOR__PRINTF(1, 2);

/* ---- Scopes and lifetimes ----------------------------------------------- */
ATTOGRAD_API TensorScope *tensor_scope_begin(void);           /* new tensors go here */
ATTOGRAD_API void tensor_scope_end(TensorScope *scope);       /* frees it (and any inner scope) */
/* Ends scope (as tensor_scope_end) and returns t's values, a tensor of the
 * enclosing scope (contiguous, no graph, no grad): how a function gives its
 * caller a result it computed in a scope of its own.
 *     TensorScope *s = tensor_scope_begin();
 *     ... many intermediates ...
 *     return tensor_scope_return(s, result);     the intermediates are gone
 * NULL (the scope still ended) when t is NULL or does not fit in memory;
 * NULL with a message, nothing ended, for a handle that is not open. */
ATTOGRAD_API Tensor *tensor_scope_return(TensorScope *scope, const Tensor *t);
ATTOGRAD_API Tensor *tensor_keep(const Tensor *t); /* long-lived copy: data, requires_grad, name */
ATTOGRAD_API void tensor_free(Tensor *t); /* frees a tensor_keep() tensor and its grad */
ATTOGRAD_API bool tensor_is_long_lived(const Tensor *t);
ATTOGRAD_API void tensor_cleanup(void);                       /* frees the root scope and caches */
ATTOGRAD_API size_t tensor_scope_bytes(void);                 /* bytes held by all scopes now */

/* ---- Creation (in the current scope) ------------------------------------ */
ATTOGRAD_API Tensor *tensor_empty(int ndim, const int64_t *shape);        /* uninitialised */
ATTOGRAD_API Tensor *tensor_zeros(int ndim, const int64_t *shape);
ATTOGRAD_API Tensor *tensor_ones(int ndim, const int64_t *shape);
ATTOGRAD_API Tensor *tensor_full(float value, int ndim, const int64_t *shape);
ATTOGRAD_API Tensor *tensor_scalar(float value);                          /* 0-d */
ATTOGRAD_API Tensor *tensor_from_data(const float *data, int ndim, const int64_t *shape);
ATTOGRAD_API Tensor *tensor_arange(float start, float end, float step);   /* 1-d, [start, end) */
ATTOGRAD_API Tensor *tensor_zeros_like(const Tensor *t);
ATTOGRAD_API Tensor *tensor_clone(const Tensor *t);                       /* differentiable copy */
ATTOGRAD_API Tensor *tensor_copy_(Tensor *dst, const Tensor *src);
ATTOGRAD_API Tensor *tensor_fill_(Tensor *t, float value);                /* in place, no grad */

/* ---- Ids ------------------------------------------------------------------ */
/* Token ids, class targets and indices are float tensors of whole numbers,
 * exact within +-2^24 (16777216); there is no integer dtype.  These two
 * convert without a loop of your own, and check every element: NULL or -1
 * with a message naming the first bad one ("from_ids: ids[3] = 16777217 is
 * outside +-16777216, where float ids are exact").
 *     Tensor *x = tensor_from_ids(ids, SHAPE(1, 4));     torch.tensor(ids).view(1, 4)
 *     int64_t *out, n;
 *     if (tensor_to_ids(tensor_argmax(logits, -1, false), &out, &n) == 0) ...; free(out);
 * to_ids has text_encode's form: *ids malloc'd (free it; never NULL on
 * success), n ids, row-major. */
ATTOGRAD_API Tensor *tensor_from_ids(const int64_t *ids, int ndim, const int64_t *shape);
ATTOGRAD_API int tensor_to_ids(const Tensor *t, int64_t **ids, int64_t *n);

/* ---- Element access ------------------------------------------------------ */
ATTOGRAD_API float tensor_item(const Tensor *t); /* one-element tensor; NAN on error */
ATTOGRAD_API float tensor_get(const Tensor *t, int n, const int64_t *idx);
ATTOGRAD_API int tensor_set(Tensor *t, float value, int n, const int64_t *idx);
ATTOGRAD_API bool tensor_is_contiguous(const Tensor *t);
ATTOGRAD_API bool tensor_same_shape(const Tensor *a, const Tensor *b);
ATTOGRAD_API const char *tensor_shape_str(const Tensor *t); /* "(6,3)"; rotating buffer */

/* ---- Random numbers, identical to PyTorch on a CPU --------------------- */
/* MT19937 as PyTorch's CPUGeneratorImpl; the fields are public so a
 * checkpoint can save and restore them. */
typedef struct TensorGenerator {
    uint32_t state[624];
    int index;                         /* next word, 624: regenerate */
    uint64_t seed;
    bool has_next_double_normal;
    double next_double_normal;
    bool has_next_float_normal;
    float next_float_normal;
} TensorGenerator;

ATTOGRAD_API void tensor_manual_seed(uint64_t seed);                      /* torch.manual_seed */
ATTOGRAD_API TensorGenerator *tensor_default_generator(void);
ATTOGRAD_API void tensor_generator_seed(TensorGenerator *g, uint64_t seed);
ATTOGRAD_API uint32_t tensor_generator_next_u32(TensorGenerator *g);
ATTOGRAD_API uint64_t tensor_generator_next_u64(TensorGenerator *g);
/* gen may be NULL for the default generator in all of these. */
ATTOGRAD_API Tensor *tensor_rand(int ndim, const int64_t *shape);         /* U[0, 1) */
ATTOGRAD_API Tensor *tensor_randn(int ndim, const int64_t *shape);        /* N(0, 1) */
ATTOGRAD_API Tensor *tensor_rand_gen(int ndim, const int64_t *shape, TensorGenerator *gen);
ATTOGRAD_API Tensor *tensor_randn_gen(int ndim, const int64_t *shape, TensorGenerator *gen);
ATTOGRAD_API Tensor *tensor_uniform_(Tensor *t, float from, float to, TensorGenerator *gen);
ATTOGRAD_API Tensor *tensor_normal_(Tensor *t, float mean, float std, TensorGenerator *gen);
ATTOGRAD_API Tensor *tensor_bernoulli_(Tensor *t, float p, TensorGenerator *gen);
/* torch.randint(low, high, shape): ids in [low, high), drawn as the int64
 * call draws them (one 32-bit word per element when high - low < 2^32, two
 * otherwise; a plain modulo), so the same seed gives PyTorch's ids.  Both
 * bounds within +-2^24 (float ids are exact there), low < high. */
ATTOGRAD_API Tensor *tensor_randint(int64_t low, int64_t high, int ndim, const int64_t *shape,
                                    TensorGenerator *gen);
/* gen advanced exactly as tensor_uniform_ / tensor_normal_ of a contiguous
 * tensor of numel elements would advance it, nothing drawn: a model whose
 * weights come from a file is built without drawing them, and the
 * generator still ends where PyTorch's does after the same constructor
 * (which draws).  0, or -1 with a message for a negative numel. */
ATTOGRAD_API int tensor_uniform_skip(int64_t numel, TensorGenerator *gen);
ATTOGRAD_API int tensor_normal_skip(int64_t numel, TensorGenerator *gen);

/* ---- Autograd ------------------------------------------------------------ */
ATTOGRAD_API Tensor *tensor_requires_grad_(Tensor *t, bool requires_grad);
/* Walks the graph behind root once: a second backward through any node of
 * it is refused (-1), as torch without retain_graph=True, because leaves
 * would silently get their gradients twice.  grad_output NULL: scalar root.
 * Leaves that require grad accumulate into .grad; an intermediate's .grad is
 * released as soon as the walk has used it (NULL afterwards, as in torch),
 * so a step holds a gradient only while it is needed. */
ATTOGRAD_API int tensor_backward(Tensor *root, const Tensor *grad_output);
/* The same, keeping the graph for another backward (retain_graph=True). */
ATTOGRAD_API int tensor_backward_retain(Tensor *root, const Tensor *grad_output);
ATTOGRAD_API void tensor_zero_grad(Tensor *t); /* grad = 0 (kept allocated) */
/* Asks a non-leaf to keep the gradient a backward sends it, as torch's
 * retain_grad(): the teaching programs print such gradients.  Each backward
 * through t replaces it (torch would add).  Returns t. */
ATTOGRAD_API Tensor *tensor_retain_grad(Tensor *t);
/* Records an in-place change of t's data made outside the tensor ops (an
 * optimizer's own loop): a backward that saved t then refuses, as after fill_. */
ATTOGRAD_API void tensor_bump_version(Tensor *t);
ATTOGRAD_API Tensor *tensor_detach(const Tensor *t); /* shares data, no graph */
ATTOGRAD_API void tensor_no_grad_begin(void);                             /* nestable */
ATTOGRAD_API void tensor_no_grad_end(void);
ATTOGRAD_API bool tensor_is_grad_enabled(void);
ATTOGRAD_API const char *tensor_grad_fn_name(const Tensor *t); /* "MmBackward0" or NULL */

/* ---- bfloat16 autocast ------------------------------------------------------ */
/* torch.autocast("cpu", dtype=torch.bfloat16), a region of the calling
 * thread in which tensor_matmul and tensor_linear (PyTorch's CPU autocast
 * list of bf16 ops: mm, bmm, addmm, matmul, linear) round both operands to
 * bfloat16, to nearest even as PyTorch converts, and multiply them with
 * float32 sums: vdpbf16ps where the CPU has AVX512_BF16 and runs it faster,
 * else float32 fused multiply-adds on the rounded values, in its order and
 * with its flush of subnormals to zero, so the bits do not depend on the
 * CPU.  A product's backward computes so too, wherever it runs (PyTorch's
 * backward of an autocast product works on the bf16 tensors it saved).
 * Everything else stays float32: parameters, gradients, optimizer state,
 * softmax, layer norm, losses and reductions; results are float32 tensors
 * (ops neither of PyTorch's lists names run in their input's type there, so
 * in bf16 after a product; here in float32, as a tensor has no other type).
 *     tensor_autocast_begin(true);           with torch.autocast("cpu", dtype=torch.bfloat16):
 *     Tensor *loss = ...;                        loss = loss_fn(model(x), y)
 *     tensor_autocast_end();
 *     tensor_backward(loss, NULL);           loss.backward()
 * Nestable: begin(false) inside a region is float32 until its end
 * (enabled=False).  Under no-grad, a product reading a long-lived weight
 * (tensor_linear's w) for a few rows, as generation does for each token,
 * reads it packed once into bf16 and kept until the outermost region ends,
 * as PyTorch keeps its autocast casts of weights: half the bytes of float32. */
ATTOGRAD_API void tensor_autocast_begin(bool enabled);
ATTOGRAD_API void tensor_autocast_end(void);
ATTOGRAD_API bool tensor_is_autocast_enabled(void);

/* Anomaly mode, like torch.autograd.detect_anomaly: when on, the first NaN
 * or Inf an op PRODUCES (in its output while all its tensor inputs were
 * finite) stops the pass with a message naming the op.  A forward op returns
 * NULL:  "anomaly: log produced nan at element 3 of output (2,3)"; and
 * tensor_backward returns -1 when a backward function turns a finite
 * gradient into a NaN or Inf in an input's gradient (gradients of inputs
 * already hit are as the walk left them):
 *   "anomaly: DivBackward0 produced inf in the gradient of input 1 (2,3)"
 * (input 1: the op's second input, the divisor).  masked_fill's fill value
 * (-inf in causal attention) is the caller's, not an anomaly.  Off by
 * default: the checks read every op's output. */
ATTOGRAD_API void tensor_set_detect_anomaly(bool on);
ATTOGRAD_API bool tensor_is_anomaly_enabled(void);

/* ---- Elementwise (NumPy broadcasting for the binary ops) ----------------- */
ATTOGRAD_API Tensor *tensor_add(const Tensor *a, const Tensor *b);
ATTOGRAD_API Tensor *tensor_sub(const Tensor *a, const Tensor *b);
ATTOGRAD_API Tensor *tensor_mul(const Tensor *a, const Tensor *b);
ATTOGRAD_API Tensor *tensor_div(const Tensor *a, const Tensor *b);
ATTOGRAD_API Tensor *tensor_add_scalar(const Tensor *a, float s);
ATTOGRAD_API Tensor *tensor_sub_scalar(const Tensor *a, float s);
ATTOGRAD_API Tensor *tensor_mul_scalar(const Tensor *a, float s);
ATTOGRAD_API Tensor *tensor_div_scalar(const Tensor *a, float s);
ATTOGRAD_API Tensor *tensor_rsub_scalar(const Tensor *a, float s); /* s - a, Python's `1 - x` */
ATTOGRAD_API Tensor *tensor_rdiv_scalar(const Tensor *a, float s); /* s / a, Python's `10 / x` */
ATTOGRAD_API Tensor *tensor_reciprocal(const Tensor *a);                  /* 1 / a */
ATTOGRAD_API Tensor *tensor_neg(const Tensor *a);
ATTOGRAD_API Tensor *tensor_pow(const Tensor *a, float exponent);
ATTOGRAD_API Tensor *tensor_exp(const Tensor *a);
ATTOGRAD_API Tensor *tensor_log(const Tensor *a);
ATTOGRAD_API Tensor *tensor_sqrt(const Tensor *a);
ATTOGRAD_API Tensor *tensor_tanh(const Tensor *a);
ATTOGRAD_API Tensor *tensor_sigmoid(const Tensor *a);
ATTOGRAD_API Tensor *tensor_relu(const Tensor *a);
ATTOGRAD_API Tensor *tensor_gelu(const Tensor *a);                        /* tanh approximation */
ATTOGRAD_API Tensor *tensor_abs(const Tensor *a);
ATTOGRAD_API Tensor *tensor_clamp(const Tensor *a, float min, float max); /* +-INFINITY: no bound */
/* a where cond != 0, b elsewhere (torch.where); cond gets no gradient. */
ATTOGRAD_API Tensor *tensor_where(const Tensor *cond, const Tensor *a, const Tensor *b);
/* Elementwise max and min (NaN wins); at a tie each side gets half the gradient. */
ATTOGRAD_API Tensor *tensor_maximum(const Tensor *a, const Tensor *b);
ATTOGRAD_API Tensor *tensor_minimum(const Tensor *a, const Tensor *b);

/* ---- Activations (also tanh, sigmoid, relu, gelu above) ------------------- */
ATTOGRAD_API Tensor *tensor_silu(const Tensor *a);                        /* x * sigmoid(x) */
/* x where x > 0, else negative_slope * x (F.leaky_relu's default slope: 0.01). */
ATTOGRAD_API Tensor *tensor_leaky_relu(const Tensor *a, float negative_slope);
/* log(1 + exp(beta x)) / beta, and x itself where beta x > threshold
 * (F.softplus's defaults: beta 1, threshold 20). */
ATTOGRAD_API Tensor *tensor_softplus(const Tensor *a, float beta, float threshold);

/* ---- Comparisons (0/1 results, no gradient) ------------------------------- */
/* a == b, a != b, a > b ... as 1.0 or 0.0, b broadcast with a (or a number).
 * A NaN compares false except in ne.  Not differentiable, as in PyTorch: the
 * result never requires grad.  Accuracy in one line:
 *     tensor_mean(tensor_eq(tensor_argmax(logits, -1, false), y)) */
ATTOGRAD_API Tensor *tensor_eq(const Tensor *a, const Tensor *b);
ATTOGRAD_API Tensor *tensor_ne(const Tensor *a, const Tensor *b);
ATTOGRAD_API Tensor *tensor_gt(const Tensor *a, const Tensor *b);
ATTOGRAD_API Tensor *tensor_lt(const Tensor *a, const Tensor *b);
ATTOGRAD_API Tensor *tensor_ge(const Tensor *a, const Tensor *b);
ATTOGRAD_API Tensor *tensor_le(const Tensor *a, const Tensor *b);
ATTOGRAD_API Tensor *tensor_eq_scalar(const Tensor *a, float s);
ATTOGRAD_API Tensor *tensor_ne_scalar(const Tensor *a, float s);
ATTOGRAD_API Tensor *tensor_gt_scalar(const Tensor *a, float s);
ATTOGRAD_API Tensor *tensor_lt_scalar(const Tensor *a, float s);
ATTOGRAD_API Tensor *tensor_ge_scalar(const Tensor *a, float s);
ATTOGRAD_API Tensor *tensor_le_scalar(const Tensor *a, float s);

/* ---- Reductions (dim may be negative) ------------------------------------ */
ATTOGRAD_API Tensor *tensor_sum(const Tensor *a);                         /* 0-d */
ATTOGRAD_API Tensor *tensor_sum_dim(const Tensor *a, int dim, bool keepdim);
ATTOGRAD_API Tensor *tensor_mean(const Tensor *a);
ATTOGRAD_API Tensor *tensor_mean_dim(const Tensor *a, int dim, bool keepdim);
ATTOGRAD_API Tensor *tensor_max_dim(const Tensor *a, int dim, bool keepdim, Tensor **indices);
ATTOGRAD_API Tensor *tensor_argmax(const Tensor *a, int dim, bool keepdim);
ATTOGRAD_API Tensor *tensor_var(const Tensor *a, int correction);         /* over all elements */
ATTOGRAD_API Tensor *tensor_var_dim(const Tensor *a, int dim, int correction, bool keepdim);
ATTOGRAD_API Tensor *tensor_std(const Tensor *a, int correction);         /* sqrt(var) */
ATTOGRAD_API Tensor *tensor_std_dim(const Tensor *a, int dim, int correction, bool keepdim);
ATTOGRAD_API Tensor *tensor_min_dim(const Tensor *a, int dim, bool keepdim, Tensor **indices);
ATTOGRAD_API Tensor *tensor_argmin(const Tensor *a, int dim, bool keepdim);
/* log(sum(exp(a), dim)), stable (the max subtracted first); gradient softmax(a). */
ATTOGRAD_API Tensor *tensor_logsumexp(const Tensor *a, int dim, bool keepdim);
/* Over several dims, as torch.sum(a, (0, 2)): tensor_sum_dims(a, IDX(0, 2), false).
 * No dims (n = 0) means every dim.  amax's ties share its gradient equally. */
ATTOGRAD_API Tensor *tensor_sum_dims(const Tensor *a, int n, const int64_t *dims, bool keepdim);
ATTOGRAD_API Tensor *tensor_mean_dims(const Tensor *a, int n, const int64_t *dims, bool keepdim);
ATTOGRAD_API Tensor *tensor_amax(const Tensor *a, int n, const int64_t *dims, bool keepdim);
/* torch.topk(a, k) along the last dim: the k largest, descending, and their
 * indices in *indices (may be NULL; no gradient).  The values' gradient goes
 * to the places they came from (TopkBackward0).  A NaN counts as the
 * largest.  Equal values come out in PyTorch's order, which is not by index:
 * what libstdc++'s partial_sort (when 64 k <= size) or nth_element and sort
 * leave (topk([1, 3, 3, 0, 3], 2) gives indices [2, 4]). */
ATTOGRAD_API Tensor *tensor_topk(const Tensor *a, int64_t k, Tensor **indices);

/* ---- Matrix products ----------------------------------------------------- */
/* 1-d and 2-d as torch.matmul, and batched N-d with broadcast batch dims. */
ATTOGRAD_API Tensor *tensor_matmul(const Tensor *a, const Tensor *b);
/* y = x @ w^T + b, w: (out, in), b: (out) or NULL; x: (..., in). */
ATTOGRAD_API Tensor *tensor_linear(const Tensor *x, const Tensor *w, const Tensor *b);
/* Causal attention's products, computed only where its mask lets values
 * through (about half the work at full context), each kept element with the
 * bits of the full product: a (..., m, k), b (..., k, n), 2-d or more, batch
 * dims broadcast; (i, j) is kept when j <= i + diagonal, as tril's.
 *   matmul_tril: torch.tril(a @ b, diagonal)   the scores, queries @ keys^T
 *   tril_matmul: torch.tril(a, diagonal) @ b   the context, weights @ values
 * For queries at positions q0 .. q0 + m - 1 against keys 0 .. n - 1 the
 * diagonal is q0. */
ATTOGRAD_API Tensor *tensor_matmul_tril(const Tensor *a, const Tensor *b, int64_t diagonal);
ATTOGRAD_API Tensor *tensor_tril_matmul(const Tensor *a, const Tensor *b, int64_t diagonal);

/* ---- Softmax and masking ------------------------------------------------- */
ATTOGRAD_API Tensor *tensor_softmax(const Tensor *a, int dim);
ATTOGRAD_API Tensor *tensor_log_softmax(const Tensor *a, int dim);
/* Causal attention's weights in one pass, bit for bit
 * softmax(masked_fill(scores, future, -inf) / divisor, -1): scores (..., t, T)
 * hold the queries at positions q0 .. q0 + t - 1 (rows) against the keys at
 * 0 .. T - 1, and a key j is in the future of query i when j > q0 + i. */
ATTOGRAD_API Tensor *tensor_causal_softmax(const Tensor *scores, float divisor, int64_t q0);
/* out = a where mask == 0, value where mask != 0; mask broadcasts to a. */
ATTOGRAD_API Tensor *tensor_masked_fill(const Tensor *a, const Tensor *mask, float value);
ATTOGRAD_API Tensor *tensor_triu(const Tensor *a, int diagonal);          /* last two dims */
ATTOGRAD_API Tensor *tensor_tril(const Tensor *a, int diagonal);

/* ---- Shape ops: views share storage with their input --------------------- */
ATTOGRAD_API Tensor *tensor_t(const Tensor *a); /* 0-, 1- or 2-d transpose */
ATTOGRAD_API Tensor *tensor_transpose(const Tensor *a, int dim0, int dim1);
ATTOGRAD_API Tensor *tensor_permute(const Tensor *a, int n, const int64_t *dims);
ATTOGRAD_API Tensor *tensor_view(const Tensor *a, int ndim, const int64_t *shape);
ATTOGRAD_API Tensor *tensor_reshape(const Tensor *a, int ndim, const int64_t *shape);
ATTOGRAD_API Tensor *tensor_flatten(const Tensor *a);                     /* 1-d */
ATTOGRAD_API Tensor *tensor_narrow(const Tensor *a, int dim, int64_t start, int64_t length);
ATTOGRAD_API Tensor *tensor_unsqueeze(const Tensor *a, int dim);
ATTOGRAD_API Tensor *tensor_squeeze(const Tensor *a, int dim); /* only that dim, if size 1 */
ATTOGRAD_API Tensor *tensor_squeeze_all(const Tensor *a); /* every size-1 dim: a.squeeze() */
ATTOGRAD_API Tensor *tensor_expand(const Tensor *a, int ndim, const int64_t *shape);
ATTOGRAD_API Tensor *tensor_contiguous(const Tensor *a); /* a itself when contiguous */
ATTOGRAD_API Tensor *tensor_cat(int n, Tensor *const *ts, int dim);
ATTOGRAD_API Tensor *tensor_stack(int n, Tensor *const *ts, int dim);
/* index holds whole numbers stored as floats (exact below 2^24). */
ATTOGRAD_API Tensor *tensor_index_select(const Tensor *a, int dim, const Tensor *index);
ATTOGRAD_API Tensor *tensor_embedding(const Tensor *weight, const Tensor *indices); /* (..., dim) */
/* torch.gather: out[i][j] = a[index[i][j]][j] for dim 0 (index along dim, the
 * other coordinates as they are), out shaped like index.  index has a's
 * number of dims and is no larger than a in every dim but dim; its values
 * are whole numbers in [0, a's size along dim).  The gradient adds back into
 * the places read (a place read twice gets both). */
ATTOGRAD_API Tensor *tensor_gather(const Tensor *a, int dim, const Tensor *index);

/* ---- Sampling, with PyTorch's CPU draws (no gradient) ------------------------ */
/* Ids and indices are whole numbers held as floats, as everywhere here. */
/* torch.randperm(n): n <= 2^24 (floats hold every whole number up to there,
 * as PyTorch's float randperm refuses more). */
ATTOGRAD_API Tensor *tensor_randperm(int64_t n, TensorGenerator *gen);
/* torch.randperm(n) with its default dtype, int64, into out[0..n): the same
 * draws as tensor_randperm, for any n (a data loader's order of more than
 * 2^24 items).  Returns 0, or -1 with a message. */
ATTOGRAD_API int tensor_randperm_int64(int64_t n, int64_t *out, TensorGenerator *gen);
ATTOGRAD_API Tensor *tensor_exponential_(Tensor *t, double lambda, TensorGenerator *gen);
/* torch.multinomial(probs, num_samples) (without replacement): probs (n) or
 * (rows, n) of finite weights >= 0 with a positive sum per row; ids
 * (num_samples) or (rows, num_samples). */
ATTOGRAD_API Tensor *tensor_multinomial(const Tensor *probs, int64_t num_samples,
                                        TensorGenerator *gen);

/* ---- Normalisation ----------------------------------------------------------- */
/* torch.nn.functional.layer_norm over the last dim: (x - mean) / sqrt(var + eps)
 * with the biased variance, times weight (n) plus bias (n), either may be
 * NULL; the book's LayerNorm is tensor_layer_norm(x, scale, shift, 1e-5). */
ATTOGRAD_API Tensor *tensor_layer_norm(const Tensor *x, const Tensor *weight, const Tensor *bias,
                                       double eps);

/* ---- Dropout and losses -------------------------------------------------- */
/* Zeroes with probability p and scales by 1/(1-p) when train; identity otherwise. */
ATTOGRAD_API Tensor *tensor_dropout(const Tensor *a, float p, bool train, TensorGenerator *gen);
ATTOGRAD_API Tensor *tensor_mse_loss(const Tensor *pred, const Tensor *target);        /* mean */
/* The losses' keyword arguments, starting from PyTorch's defaults:
 *     tensor_cross_entropy_ex(logits, y, TENSOR_LOSS_OPTIONS(.reduction = TENSOR_REDUCTION_SUM))
 *     F.cross_entropy(logits, y, reduction='sum')
 * reduction: MEAN (over the targets not ignored; NaN when all are, as
 * PyTorch), SUM, or NONE (one loss per target, 0 where ignored).
 * ignore_index (-100): targets equal to it add nothing and get no gradient;
 * a value that is a real class (0 to C - 1) is refused, so padding never
 * silently drops a class.  pos_weight (bce_with_logits only; NULL): each
 * positive target's term weighted by it, broadcast over the last dims like
 * the target (one weight per class); it gets no gradient.  The macro is a
 * GNU C statement expression, as optim's. */
typedef enum {
    TENSOR_REDUCTION_MEAN = 0,
    TENSOR_REDUCTION_SUM,
    TENSOR_REDUCTION_NONE,
} TensorReduction;
typedef struct {
    int64_t ignore_index;
    TensorReduction reduction;
    const Tensor *pos_weight;
} TensorLossOptions;
#define TENSOR_LOSS_OPTIONS(...)                                                              \
    (__extension__({                                                                          \
        _Pragma("GCC diagnostic push")                                                        \
        _Pragma("GCC diagnostic ignored \"-Woverride-init\"")                                 \
        TensorLossOptions tensor__loss_options = {                                            \
            .ignore_index = -100, .reduction = TENSOR_REDUCTION_MEAN, .pos_weight = NULL,     \
            __VA_ARGS__};                                                                     \
        _Pragma("GCC diagnostic pop")                                                         \
        tensor__loss_options;                                                                 \
    }))
/* F.cross_entropy(logits, target) with class indices: logits (N, C) with
 * target (N), (C) with a 0-d target, or (N, C, d1, ...) with target
 * (N, d1, ...); the mean over the targets, those equal to -100 left out. */
ATTOGRAD_API Tensor *tensor_cross_entropy(const Tensor *logits, const Tensor *target);
ATTOGRAD_API Tensor *tensor_cross_entropy_ex(const Tensor *logits, const Tensor *target,
                                             TensorLossOptions options);
/* F.nll_loss: -input[n, target[n]] (input: log-probabilities, shaped as
 * cross_entropy's logits), reduced the same way. */
ATTOGRAD_API Tensor *tensor_nll_loss(const Tensor *input, const Tensor *target);
ATTOGRAD_API Tensor *tensor_nll_loss_ex(const Tensor *input, const Tensor *target,
                                        TensorLossOptions options);
/* nn.BCELoss and nn.BCEWithLogitsLoss (mean): input and target of one shape;
 * BCE's input must be probabilities in [0, 1] (its logs clamped to >= -100).
 * bce_with_logits_ex takes a reduction and pos_weight (ignore_index unused). */
ATTOGRAD_API Tensor *tensor_binary_cross_entropy(const Tensor *pred, const Tensor *target);
ATTOGRAD_API Tensor *tensor_bce_with_logits(const Tensor *logits, const Tensor *target);
ATTOGRAD_API Tensor *tensor_bce_with_logits_ex(const Tensor *logits, const Tensor *target,
                                               TensorLossOptions options);

/* ---- Threads -------------------------------------------------------------- */
/* Separate models on separate threads work: each thread has its own error
 * message, scopes (and chunk cache), grad mode, anomaly mode and default
 * generator (seeded with PyTorch's default seed until that thread calls
 * tensor_manual_seed; torch shares one default generator between threads,
 * here a thread's draws never depend on another's).  A thread that made
 * tensors calls tensor_cleanup() before it ends, to free its scopes.  Not
 * thread-safe: sharing a tensor, module, optimizer, graph or explicit
 * generator between threads that use it at once (lock it yourself), and the
 * settings below and tensor_set_print_precision (set them before starting
 * threads).  The kernels' thread pool serves one thread at a time; another
 * thread's large products then run on that thread alone, with the same
 * results. */
/* Large matrix products run on this many threads; small ones on one.
 * Default: ATTOGRAD_NUM_THREADS from the environment, else every core.
 * n <= 0 restores the default.  Results do not depend on the count.
 * ATTOGRAD_BLAS=1 in the environment sends large products to OpenBLAS
 * when the library was built with it (meson option blas). */
ATTOGRAD_API void tensor_set_num_threads(int n);
ATTOGRAD_API int tensor_get_num_threads(void);
/* torch.set_flush_denormal: when on, the calling thread's float arithmetic
 * treats subnormal inputs and results as zero (x86: MXCSR's FTZ and DAZ;
 * AArch64: FPCR.FZ), and so do the kernels' pool threads while they work for
 * it.  Many CPUs take a slow path on subnormals, up to 100x per operation: a
 * training step whose softmax saturates spends most of its time there.  Off
 * by default, as IEEE 754 wants.  Returns false, changing nothing, where the
 * CPU has no such mode.  OpenBLAS's own threads (ATTOGRAD_BLAS=1) keep theirs. */
ATTOGRAD_API bool tensor_set_flush_denormal(bool on);

/* ---- Checking gradients ---------------------------------------------------- */
/* A function of tensors to check: returns one output tensor (any shape). */
typedef Tensor *(*TensorFn)(Tensor *const *inputs, void *ctx);
typedef struct {
    int input;                   /* worst element: which input ... */
    int64_t index;               /* ... and which element (row-major) */
    double analytic, numeric;    /* the two derivatives there */
    double error;                /* |analytic - numeric| - atol - rtol * |numeric| */
    char report[512];            /* one line saying all of the above; the input's name
                                    in full up to 200 characters (a longer one ends in
                                    "...") */
} TensorGradcheckResult;
/* Compares backward's gradients of L = sum(fn(inputs) * R), R a fixed
 * pseudo-random weight, with central differences of step eps, for every
 * element of every input that requires grad.  Returns 1 when all agree
 * within atol + rtol * |numeric|, 0 when one does not (result says where),
 * -1 on error, including nothing to check (no element of an input requires
 * grad) and an eps that is not positive and finite or a tolerance that is
 * not finite and >= 0.  Inputs' .grad are zeroed first; result may be NULL. */
ATTOGRAD_API int tensor_gradcheck(TensorFn fn, void *ctx, int n, Tensor *const *inputs, double eps,
                                  double atol, double rtol, TensorGradcheckResult *result);

/* ---- Your own op with its own backward (torch.autograd.Function) ------------ */
/* You write the forward and the backward over tensors; the library records
 * one node for the whole op, named after your function (print shows
 * grad_fn=<HandSoftmaxBackward> for "HandSoftmax", as PyTorch does), and
 * calls your backward when a backward pass reaches it.  docs/custom_function.md
 * builds a softmax this way and checks it against tensor_softmax.
 *   forward(ctx, inputs, arg): runs with grad mode off (the ops inside record
 *     nothing); returns the output (or NULL and a message); keeps what the
 *     backward needs with tensor_save_for_backward(ctx, t) (ctx.save_for_backward)
 *     and numbers in ctx->ints / ctx->scalars (ctx.dim = dim).  arg is what
 *     tensor_function_apply was given, valid during the forward only.
 *   backward(ctx, grad_output, grad_inputs): sets grad_inputs[i] to dL/d
 *     input i, of input i's shape, for each input with
 *     ctx->needs_input_grad[i] (the others may stay NULL, PyTorch's None).
 *     Also with grad mode off; a NULL where a gradient is needed, or one of
 *     another shape, stops the backward with a message naming the function,
 *     the input and the shapes.
 * Up to TENSOR_FUNCTION_MAX inputs and saved tensors.  A saved tensor changed
 * in place before the backward is refused, as for the built-in ops. */
#define TENSOR_FUNCTION_MAX 8
typedef struct TensorFunctionCtx {
    int n_inputs;
    bool needs_input_grad[TENSOR_FUNCTION_MAX];
    int n_saved;
    const Tensor *saved[TENSOR_FUNCTION_MAX];   /* ctx.saved_tensors, in the order saved */
    int64_t ints[TENSOR_FUNCTION_MAX];          /* yours: numbers the backward needs */
    double scalars[TENSOR_FUNCTION_MAX];
    uint64_t tensor__versions[TENSOR_FUNCTION_MAX];   /* private: saved[i]'s version */
} TensorFunctionCtx;
typedef struct {
    const char *name;          /* "HandSoftmax": the node is "HandSoftmaxBackward" */
    Tensor *(*forward)(TensorFunctionCtx *ctx, Tensor *const *inputs, const void *arg);
    void (*backward)(TensorFunctionCtx *ctx, const Tensor *grad_output, Tensor **grad_inputs);
} TensorFunction;
/* HandSoftmax.apply(x, dim): tensor_function_apply(&hand_softmax, 1, &x, &dim). */
ATTOGRAD_API Tensor *tensor_function_apply(const TensorFunction *f, int n, Tensor *const *inputs,
                                           const void *arg);
/* Keeps t for the backward (in ctx->saved); 0, or -1 with a message. */
ATTOGRAD_API int tensor_save_for_backward(TensorFunctionCtx *ctx, const Tensor *t);

/* ---- Teaching: names and graphs ------------------------------------------ */
/* Names t ("queries") for tensor_graph_dot and for readers; returns t.  The
 * string is not copied (as tensor_keep copies only the pointer): pass a
 * literal or a string that outlives t.  NULL clears the name. */
ATTOGRAD_API Tensor *tensor_set_name(Tensor *t, const char *name);
/* Writes the graph recorded behind root in Graphviz DOT: one node per tensor
 * (name, shape, the op that made it, and the gradient's L2 norm once it has
 * one), arrows from each op's inputs to its output, parameters (leaves that
 * require grad) filled, plain inputs dashed, the root bold.  Node ids follow
 * a fixed walk, so output is reproducible.  Render: dot -Tpng g.dot -o g.png.
 * Returns 0, or -1 on a NULL f or write error (with a message); a NULL root
 * returns -1 and records a message only if none is pending, keeping the
 * cause of a failed forward. */
ATTOGRAD_API int tensor_graph_dot(const Tensor *root, FILE *f);

/* ---- Teaching: a gradient beside its central difference ------------------ */
/*
 * What a walk-through program (examples/backprop_attention, backprop_block)
 * calls to show each gradient autograd computed beside a numeric estimate
 * the program made itself (its own central difference), and to judge them:
 *
 *     TensorGradPair p;
 *     if (tensor_grad_pair(W->grad, numeric, &p) != 0) return -1;   (tensor_error())
 *     tensor_fprint_grad_pair(stdout, &p);
 *     printf("    %s (max |difference| %.1e)\n", tensor_grad_pair_verdict(&p), p.diff);
 *
 *         autograd, x 1e-3       numeric, x 1e-3      (backprop_attention --loss mse's
 *         [ -0.1601 -0.7085 ]    [ -0.1601 -0.7085 ]    dW_query)
 *         [  0.8116  1.5600 ]    [  0.8116  1.5600 ]
 *         [  0.7308  1.4769 ]    [  0.7308  1.4769 ]
 *         agree: the same digits (max |difference| 6.6e-09)
 *
 * Both are printed as rows of their last dim, in fixed point with 4
 * decimals, scaled by a power of ten to the larger one's largest element when
 * that is below 0.1 or at least 100 (every digit shown is one float32 gets
 * right, where scientific notation would show digits rounding has changed).
 * A pair agrees when every element differs by at most one unit of the last
 * printed digit: a smaller difference can still round to another digit.
 * Tensors a function here makes are in the current scope.
 */
typedef struct {
    Tensor *autograd, *numeric;  /* tensor_as_rows of each: 2-d, contiguous, one shape */
    int exp10;                   /* values are printed as v / 10^exp10 ("x 1e-3"); 0: unscaled */
    int width;                   /* characters of the widest printed value */
    bool same_digits;            /* every pair prints the same digits */
    bool agree;                  /* every pair within one unit of the last printed digit */
    double diff;                 /* max |autograd - numeric| */
} TensorGradPair;
/* Fills p from two tensors whose tensor_as_rows have one shape (a bias (n)
 * against (1, n), weights (2, 3, 3) against (6, 3)); 0, or -1 with a message. */
ATTOGRAD_API int tensor_grad_pair(const Tensor *autograd, const Tensor *numeric,
                                  TensorGradPair *p);
/* "agree: the same digits", "agree within the last printed digit" or "DISAGREE". */
ATTOGRAD_API const char *tensor_grad_pair_verdict(const TensorGradPair *p);
/* v as p prints it ("-1.2209"; never "-0.0000") into buf; its length, -1 on error. */
ATTOGRAD_API int tensor_grad_pair_format(const TensorGradPair *p, double v, char *buf, size_t n);
/* Both side by side, or one above the other when two rows would not fit in
 * 80 columns, indented by 4; more than 8 columns print 8 at a time.  0 or -1. */
ATTOGRAD_API int tensor_fprint_grad_pair(FILE *f, const TensorGradPair *p);
/* t as rows of its last dim, contiguous: (n) -> (1, n), (2, 3, 3) -> (6, 3), a scalar -> (1, 1). */
ATTOGRAD_API Tensor *tensor_as_rows(const Tensor *t);
/* max |a - b| over the elements of two tensors of one shape, in double (b NULL: max |a|);
 * a NaN element gives NaN; NaN with a message for shapes that differ. */
ATTOGRAD_API double tensor_max_abs_diff(const Tensor *a, const Tensor *b);
/* The L2 norm of t's elements, summed in double (tensor_graph_dot's "grad norm"); NaN for NULL. */
ATTOGRAD_API double tensor_l2_norm(const Tensor *t);
/* tensor_fprint's text with each line but blank ones indented by indent spaces. 0 or -1. */
ATTOGRAD_API int tensor_fprint_indented(FILE *f, const Tensor *t, int indent);
/* t in the fixture format of tests/reference: "@NAME d0 d1 ..." (no dims for a scalar),
 * then its values in row-major order, 8 to a line, %.9g (float32 round-trips);
 * NAME from printf's name_fmt and what follows.  0 or -1. */
ATTOGRAD_API int tensor_fprint_fixture(FILE *f, const Tensor *t, const char *name_fmt, ...)
    TENSOR__PRINTF(3, 4);

/* ---- Teaching: the backward, step by step ---------------------------------- */
/*
 * What one backward does, kept for a reader (plot_backward_page draws it as
 * a page a browser opens): the graph behind a root, numbered as
 * tensor_graph_dot numbers it (t0, t1, ..., the root last), each tensor's
 * forward value, its op's backward in symbols and words, and the walk's
 * steps in the engine's own order.  At a step one op's backward runs on its
 * output's gradient, complete by then, and adds into its inputs' gradients:
 * a tensor used twice (the residual's x, a LayerNorm's output feeding three
 * projections) gets a part at each of its consumers' steps, and its
 * gradient is their sum.  The engine computes every number; the trace only
 * copies them.
 *
 *     TensorTrace *tr = tensor_trace_graph(loss, TENSOR_TRACE_OPTIONS());
 *     if (!tr || tensor_trace_backward(tr) != 0) ...;     (instead of tensor_backward)
 *     for (int64_t s = 0; s < tr->n_steps; s++) {
 *         const TensorTraceStep *st = &tr->steps[s];
 *         printf("%s sends d t%lld to", tr->tensors[st->tensor].op, (long long)st->tensor);
 *         for (int i = 0; i < st->n_sent; i++)
 *             printf(" t%lld%s", (long long)st->sent[i].to,
 *                    st->sent[i].accumulated ? " (added to what it had)" : "");
 *         printf("\n");
 *     }
 *     tensor_trace_free(tr);
 *
 * The copies are long-lived and the trace's own (tensor_trace_free frees
 * them); a tensor of more than keep elements keeps only its norms.
 */
typedef struct {
    const Tensor *tensor;        /* the graph's own tensor (valid while its scope is) */
    const char *name;            /* its name (tensor_set_name, a parameter's dotted name); NULL */
    const char *op;              /* its grad_fn's name ("MmBackward0"); NULL for a leaf */
    bool parameter;              /* a leaf that requires grad */
    int n_inputs;
    const int64_t *inputs;       /* its op's inputs by id (-1: a NULL input, a bias left out) */
    const char *forward;         /* its op in symbols: "C = A @ B"; NULL for a leaf */
    const char *backward;        /* its op's backward: "dA = dC @ B^T, dB = A^T @ dC" */
    const char *words;           /* and why, in a sentence */
    Tensor *value;               /* its forward value (a copy); NULL over keep elements */
    double value_norm;           /* the value's L2 norm */
    Tensor *grad;                /* the gradient it ended with (a leaf: with what it had); NULL:
                                    none, or over keep */
    double grad_norm;            /* its L2 norm; NaN when it got none */
    int64_t step;                /* the step that ran its op's backward; -1: none */
} TensorTraceTensor;
typedef struct {
    int64_t to;                  /* the input (by id) whose gradient the step added to */
    bool accumulated;            /* it had a gradient already, from an earlier step */
    Tensor *before, *after;      /* its gradient before (NULL: none) and after the step; what
                                    was sent is after - before; NULL over keep */
    double before_norm, after_norm;   /* L2 norms (before: NaN when none) */
} TensorTraceSent;
typedef struct {
    int64_t tensor;              /* the output (by id) whose op's backward ran */
    int n_sent;
    TensorTraceSent *sent;       /* one per input that requires grad, in the op's order */
} TensorTraceStep;
typedef struct {
    int64_t n_tensors;
    TensorTraceTensor *tensors;  /* by id */
    int64_t n_steps;             /* 0 until tensor_trace_backward */
    TensorTraceStep *steps;      /* in the engine's order */
} TensorTrace;
typedef struct {
    int64_t keep;                /* a tensor of more elements keeps only its norms (4096) */
    int64_t max_tensors;         /* a larger graph is refused (no limit) */
} TensorTraceOptions;
#define TENSOR_TRACE_OPTIONS(...)                                                             \
    (__extension__({                                                                          \
        _Pragma("GCC diagnostic push")                                                        \
        _Pragma("GCC diagnostic ignored \"-Woverride-init\"")                                 \
        TensorTraceOptions tensor__trace_options = {.keep = 4096, .max_tensors = INT64_MAX,  \
                                                    __VA_ARGS__};                             \
        _Pragma("GCC diagnostic pop")                                                         \
        tensor__trace_options;                                                                \
    }))
/* The graph behind root with a copy of each value; no backward yet.  NULL
 * with a message ("the graph behind the root has 2400 tensors, more than
 * the 400 asked for"). */
ATTOGRAD_API TensorTrace *tensor_trace_graph(Tensor *root, TensorTraceOptions o);
/* Runs root's backward (tensor_backward(root, NULL): root has one element)
 * and keeps its steps; once per trace.  0, or -1 with a message. */
ATTOGRAD_API int tensor_trace_backward(TensorTrace *tr);
ATTOGRAD_API void tensor_trace_free(TensorTrace *tr);              /* NULL is fine */

/* Your forward pass once more: makes the same graph from the same leaves
 * and returns the scalar loss (NULL with a message on failure). */
typedef Tensor *(*TensorForwardFn)(void *ctx);
/* d loss / d t by central differences, for t any tensor of loss's graph:
 * each element in turn moved by +-h and +-h/2, h = 2e-2 * max(1, |element|),
 * forward run again in a scope of its own each time (4 runs per element),
 * the loss read in float32, and the two differences D combined as
 * (4 D(h/2) - D(h)) / 3, which cancels their h^2 error.  A leaf is moved in place (and put back exactly); an
 * intermediate is moved as its op makes it again, found by its place in
 * the order the forward records its ops.  So forward must compute the
 * same loss from the same leaves, bit for bit: it is run once as it is
 * first, and a loss that differs from loss's value (a dropout that draws
 * afresh: seed it inside forward; the default generator is put back after
 * each run), a graph of other ops, or a leaf it does not use is refused
 * with a message, as is an expanded view (its elements share memory).
 * Expect agreement with autograd to about 1e-4 of the tensor's largest
 * gradient (float32), except where a kink lies within the step (a ReLU's
 * input near 0), as for any central difference.  The result has t's shape,
 * in the current scope. */
ATTOGRAD_API Tensor *tensor_numeric_grad(TensorForwardFn forward, void *ctx, const Tensor *loss,
                                         const Tensor *t);

/* ---- Printing, as PyTorch prints ----------------------------------------- */
ATTOGRAD_API int tensor_print(const Tensor *t); /* to stdout, with newline */
ATTOGRAD_API int tensor_fprint(FILE *f, const Tensor *t);
ATTOGRAD_API void tensor_set_print_precision(int digits);                 /* default 4; 0 to 30 */
ATTOGRAD_API char *tensor_format(const Tensor *t); /* that text, malloc'd; free it */
/* The same for a tensor of token ids, printed as torch prints the int64
 * tensor it stands for: tensor([[15496,    11,   314,   716]]).  Every
 * element must be a whole number within int64 (else -1/NULL and a message
 * naming the element); no grad suffix, as an int64 tensor has none. */
ATTOGRAD_API int tensor_print_ids(const Tensor *t);
ATTOGRAD_API int tensor_fprint_ids(FILE *f, const Tensor *t);
ATTOGRAD_API char *tensor_format_ids(const Tensor *t);

#endif /* ATTOGRAD_TENSOR_H */
