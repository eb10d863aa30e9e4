/*
 * Private to the tensor room: the graph node, the op table, and the helpers
 * every op family uses.  Names here carry a double underscore.
 *
 * How an op is written (see elementwise.c for the simplest ones):
 *
 *     Tensor *tensor_exp(const Tensor *a)
 *     {
 *         if (!a) return NULL;                        NULL propagates, no message
 *         Tensor *out = tensor__alloc_result("exp", a->ndim, a->shape);
 *         const float *x = out ? TENSOR__INPUT("exp", a) : NULL;
 *         if (!x) return NULL;                        out of memory: NULL, a message
 *         ... compute out from x ...
 *         TensorNode *n = tensor__record(OP_EXP, out, 1, (const Tensor *[]){a});
 *         if (n) n->saved[0] = out;                    what the backward needs
 *         return tensor__result(out);                  NULL when anomaly mode refused it
 *     }
 *
 * An op that makes a new shape (not one of its inputs') first checks it with
 * tensor__check_numel(op, ndim, shape).
 *
 *     forward: y = exp(x); backward: dx += dy * y
 *     void tensor__exp_backward(TensorNode *n, const Tensor *dy)
 *     {
 *         Tensor *dx = ... computed with plain loops or tensor ops ...
 *         tensor__accumulate_grad(n->inputs[0], dx);   sums broadcast dims away
 *     }
 *
 * Backward functions run with grad mode off, so they may use tensor ops
 * freely; what they allocate lands in the current scope.
 */
#ifndef ATTOGRAD_TENSOR_INTERNAL_H
#define ATTOGRAD_TENSOR_INTERNAL_H

#ifndef ATTOGRAD_TENSOR_ROOM
#error "tensor/core/tensor_internal.h is private to the tensor room (its files and white-box tests): include tensor/tensor.h"
#endif

#include "tensor/tensor.h"

#include <stdarg.h>
#include <stdlib.h>

typedef enum {
#define OP(id, name, backward) OP_##id,
#include "ops.def"
#undef OP
    OP_COUNT
} TensorOp;

typedef void (*TensorBackwardFn)(TensorNode *n, const Tensor *grad_out);

struct TensorNode {
    TensorOp op;
    const char *name;          /* grad_fn name; defaults to the table's */
    int n_inputs;
    Tensor **inputs;           /* the op's inputs, as given */
    Tensor *out;
    Tensor *saved[3];          /* tensors the backward needs (mask, output, ...) */
    double scalar[3];          /* scalar arguments */
    int64_t ival[TENSOR_MAX_DIMS];  /* int arguments (dims, sizes, flags) */
    uint64_t mark;             /* topological-sort visit mark */
    uint64_t versions[4];      /* of inputs 0 to 2 and of out when recorded */
    bool released;             /* a backward ran through it (without retain) */
    Tensor *spare_grad;        /* a gradient buffer of out's size, from an earlier backward */
    void *function;            /* OP_FUNCTION: the user's function and its context */
    uint64_t seq;              /* the thread's count of recorded nodes when it was recorded: 1, 2, ... */
};

extern const char *const tensor__op_names[OP_COUNT];
extern const TensorBackwardFn tensor__op_backward[OP_COUNT];

#define OP(id, name, backward) void tensor__##backward(TensorNode *n, const Tensor *grad_out);
#include "ops.def"
#undef OP

/* ---- errors -------------------------------------------------------------- */
/* Errors are recorded with the public tensor_set_error (printf format; it
 * returns NULL for tail calls), in this room as in every other. */
/* Library bugs, never user input: abort with file and line. */
#define TENSOR__ASSERT(c) \
    ((c) ? (void)0 : tensor__abort(__FILE__, __LINE__, #c))
_Noreturn void tensor__abort(const char *file, int line, const char *what);

/* ---- memory -------------------------------------------------------------- */
/* A scope's arena.  generation is the scope's (a fresh number when it
 * begins, 0 once it ended): a tensor made in it carries the same number,
 * so a tensor whose scope ended no longer matches (see tensor__usable). */
struct TensorArena {
    struct TensorChunk *chunks;   /* newest first */
    size_t bytes;                 /* payload bytes held */
    uint64_t generation;
};
/* A freed long-lived tensor's generation: tensor_free marks it. */
#define TENSOR__FREED 0xF4EEF4EEF4EEF4EEULL
/* Whether t may be used: long-lived and not freed, or made in a scope of
 * this thread that is still open.  Reads only t's own header fields (never
 * through a pointer they hold), so a stale t cannot crash it. */
bool tensor__live(const Tensor *t);
/* t is not NULL and live; false for NULL (no message, as every op) or,
 * with a message naming fn, for a tensor used after its scope ended or
 * after tensor_free.  Every public entry point checks its tensors first. */
bool tensor__usable(const Tensor *t, const char *fn);
#define TENSOR__USABLE(t) tensor__usable((t), __func__)
/* The most elements a tensor or view may have: its bytes fit in a
 * ptrdiff_t, so sizes, strides, offsets and byte counts never overflow. */
#define TENSOR__MAX_NUMEL ((int64_t)(PTRDIFF_MAX / (ptrdiff_t)sizeof(float)))
/* Ids are whole floats within +-2^24: every integer there is a float. */
#define TENSOR__ID_LIMIT (INT64_C(1) << 24)
TensorArena *tensor__current_arena(void);
void *tensor__arena_alloc(TensorArena *a, size_t bytes);     /* 64-byte aligned, never NULL */
void *tensor__arena_try_alloc(TensorArena *a, size_t bytes); /* NULL when out of memory */
void *tensor__scratch(size_t bytes);                         /* in the current scope */
/* realloc for the library's own small lists and strings (never NULL:
 * out of memory aborts). */
void *tensor__xrealloc(void *p, size_t bytes);
/* An in-place change of t's data (fill_, copy_, set, the random fills, the
 * fused optimizer update): bumps the version a backward checks. */
static inline void tensor__bump_version(Tensor *t) { ++*t->version; }
/* A contiguous tensor with uninitialised data, in the current scope.  The
 * shape must have passed tensor__check_numel; out of memory aborts (a
 * backward's buffers; a forward's result uses tensor__alloc_result). */
Tensor *tensor__alloc(int ndim, const int64_t *shape);
/* An op's result: tensor__alloc, but out of memory gives NULL and the
 * message "<op>: out of memory for a result of shape (...)" instead of an
 * abort, so that a program can report it and stop cleanly.  Every forward
 * allocates its result so, and checks: if (!out) return NULL; (a backward's
 * buffers and small workspaces still abort). */
Tensor *tensor__alloc_result(const char *op, int ndim, const int64_t *shape);
/* The same for a forward's input read row-major as shape (a copy when it is
 * not laid out so: tensor__broadcast_data): NULL and a message naming op. */
const float *tensor__input_data(const char *op, const Tensor *t, int ndim, const int64_t *shape);
#define TENSOR__INPUT(op, t) tensor__input_data((op), (t), (t)->ndim, (t)->shape)
/* The same for a constructor given a user's shape: the shape checked (dims,
 * NULL, negative or too large sizes) and out of memory reported; NULL with
 * a message naming op otherwise. */
Tensor *tensor__new(const char *op, int ndim, const int64_t *shape);
/* A tensor header sharing a's storage (for views), in the current scope. */
Tensor *tensor__view_of(const Tensor *a, int ndim, const int64_t *shape,
                        const int64_t *stride, int64_t offset);
void tensor__set_contiguous_strides(Tensor *t);   /* also sets numel */
/* The strides of a contiguous tensor of this shape; returns its numel. */
int64_t tensor__contiguous_strides(int ndim, const int64_t *shape, int64_t *stride);
/* A gradient buffer of t's element count that a backward walk released,
 * in t's arena (autograd.c), or NULL; the caller gives it t's shape. */
Tensor *tensor__reuse_grad(const Tensor *t);
/* tensor_scope_begin, but NULL without a message when scopes are nested as
 * deep as they go (for the library's own short scopes). */
TensorScope *tensor__scope_try_begin(void);
/* A zeroed gradient for t, owned like t (its arena, or the heap). */
Tensor *tensor__alloc_grad_for(const Tensor *t);
/* The same, uninitialised, for a caller that writes every element. */
Tensor *tensor__alloc_grad_uninit(const Tensor *t);
int64_t tensor__numel(int ndim, const int64_t *shape);
/* Data in row-major order: a->data itself when contiguous, else a copy. */
const float *tensor__contiguous_data(const Tensor *a);
/* Writes row-major src into the (possibly strided) dst. */
void tensor__scatter_contiguous(Tensor *dst, const float *src);
/* dst[0, n) = 0, or = src[0, n), as memset / memcpy; on the kernels'
 * threads (kernels/threads.c) for a large n (from 1M floats, a gradient as
 * large as a 1024 x 1024 weight): each core streams its own part, and two
 * threads read and write about twice one thread's bandwidth. */
void tensor__zero_floats(float *dst, int64_t n);
void tensor__copy_floats(float *dst, const float *src, int64_t n);

/* ---- checks -------------------------------------------------------------- */
/* 0 when a tensor of this shape may exist (its sizes, each counted as at
 * least 1, multiply to at most TENSOR__MAX_NUMEL); -1 with a message naming
 * op and the shape otherwise.  Every op that makes a new shape calls it. */
int tensor__check_numel(const char *op, int ndim, const int64_t *shape);
bool tensor__shape_fits(int ndim, const int64_t *shape);     /* the same test, no message */
/* A growing string (io/string_builder.c): out of memory sets failed, and later
 * writes are dropped, so a caller checks once at the end.  s is malloc'd
 * and NUL-terminated. */
typedef struct {
    char *s;
    size_t len, cap;
    bool failed;
} TensorText;
void tensor__text_put(TensorText *b, const char *s, size_t n);
void tensor__text_puts(TensorText *b, const char *s);
void tensor__text_repeat(TensorText *b, char c, int n);
/* At most 127 characters (numbers, short names); more sets failed. */
void tensor__text_printf(TensorText *b, const char *fmt, ...) TENSOR__PRINTF(2, 3);
/* "(2,-1,3)"; rotating buffers, as tensor_shape_str. */
const char *tensor__sizes_str(int n, const int64_t *v);
/* dim in [-ndim, ndim) -> [0, ndim); -1 with a message naming op otherwise. */
int tensor__wrap_dim(const Tensor *a, int dim, int ndim_plus, const char *op);
/* a's elements in row-major order as a block of outer rows of size values
 * (dim, already wrapped) that are inner apart: outer is the product of the
 * dims before dim, inner of those after.  A 0-d tensor is (1, 1, 1).  What
 * a reduction or a softmax along dim walks. */
typedef struct {
    int64_t outer, size, inner;
} TensorBlock;
TensorBlock tensor__block_at(const Tensor *a, int dim);
/* The broadcasting rule on sizes alone: (na, sa) and (nb, sb) aligned at their
 * last dims into out (max(na, nb) sizes); returns that count, or -(d + 1)
 * for the first dim d of out where the two sizes differ and neither is 1. */
int tensor__broadcast_sizes(int na, const int64_t *sa, int nb, const int64_t *sb, int64_t *out);
/* Broadcast shape of a and b into ndim/shape; -1 with a message otherwise. */
int tensor__broadcast_shape(const Tensor *a, const Tensor *b, const char *op,
                            int *ndim, int64_t *shape);
/* Strides for reading t as if it had the given (broadcast) shape. */
void tensor__broadcast_strides(const Tensor *t, int ndim, const int64_t *shape,
                               int64_t *stride);
/* a's data read as the broadcast shape, row-major (copies unless trivial). */
const float *tensor__broadcast_data(const Tensor *t, int ndim, const int64_t *shape);

/* ---- random draws (core/random.c, used by ops/dropout.c) ------------------ */
TensorGenerator *tensor__generator_or_default(TensorGenerator *g);
double tensor__uniform_double(TensorGenerator *g);   /* [0, 1), 53 bits, as PyTorch's */
/* One of torch.randint's int64 draws: low + (one or two words) % range
 * (ops/sample.c); range = high - low as uint64, not 0. */
int64_t tensor__randint_draw(TensorGenerator *g, int64_t low, uint64_t range);
/* PyTorch takes p, mean and std as Python floats (doubles); here they arrive
 * as floats.  The double the caller wrote is the shortest decimal that rounds
 * to the float (0.1f -> 0.1), so reading it back gives PyTorch's double. */
double tensor__typed_double(float f);

/* ---- losses (loss.c, used by nll.c too) ----------------------------------- */
/* 0 for MEAN, SUM or NONE; -1 with a message naming op otherwise. */
int tensor__check_reduction(const char *op, TensorReduction r);

/* ---- views and copies (shape.c, used by join.c too) ------------------------ */
/* t with dim narrowed to [start, start + length): a view. */
Tensor *tensor__narrow_view(const Tensor *t, int dim, int64_t start, int64_t length);
/* t[..., i, ...] along dim, that dim removed: a view. */
Tensor *tensor__select_view(const Tensor *t, int dim, int64_t i);
/* dst = src (or dst += src when accumulate), both of one shape, each read
 * and written through its strides. */
void tensor__copy_into(Tensor *dst, const Tensor *src, bool accumulate);

/* ---- strided iteration --------------------------------------------------- */
/* Walks a shape in row-major order carrying one offset per operand. */
typedef struct {
    int ndim, n;
    int64_t shape[TENSOR_MAX_DIMS];
    int64_t idx[TENSOR_MAX_DIMS];
    int64_t stride[3][TENSOR_MAX_DIMS];
    int64_t off[3];
} TensorIter;
void tensor__iter_init(TensorIter *it, int ndim, const int64_t *shape, int n,
                       const int64_t *const *strides, const int64_t *offsets);
void tensor__iter_next(TensorIter *it);

/* ---- autograd ------------------------------------------------------------ */
/* True when grad mode is on and an input requires a gradient. */
bool tensor__needs_grad(int n, const Tensor *const *inputs);
/* Records a node for out when tensor__needs_grad(); NULL otherwise. */
TensorNode *tensor__record(TensorOp op, Tensor *out, int n, const Tensor *const *inputs);
/* t->grad += g, summing g over the dims where t was broadcast.  Does
 * nothing when t does not require a gradient. */
void tensor__accumulate_grad(Tensor *t, const Tensor *g);
/* Input i of node takes dy, the node's output gradient, as its gradient
 * unchanged (add, clone, a reshape: dy read in the input's shape).  When it
 * is the input's first and dy can be given away, the input takes dy's
 * floats themselves and no copy is made; otherwise as accumulate_grad.
 * dy stays readable until the backward returns. */
void tensor__pass_grad(TensorNode *node, int i, const Tensor *dy);
/* t's first gradient, made now uninitialised for a backward that writes
 * every element of it (no zeros to add to, as torch's kernels write a
 * first gradient); NULL when t has one already or needs none. */
Tensor *tensor__first_grad(Tensor *t);
/* t's gradient, allocated and zeroed on first use, for a backward that adds
 * into parts of it in place; NULL when t needs none. */
Tensor *tensor__grad_buffer(Tensor *t);
/* g summed down to (ndim, shape) as broadcasting defines; contiguous result. */
Tensor *tensor__sum_to_shape(const Tensor *g, int ndim, const int64_t *shape);

/* ---- autocast (autocast.c) ------------------------------------------------ */
typedef struct SgemmPanels SgemmPanels;
/* In an autocast region under no-grad, w (long-lived, 2-d: (out, in)) as
 * op(B) = w^T packed once into bf16 panels (kernels/sgemm.h), kept until the
 * outermost region ends; NULL otherwise (or out of memory). */
const SgemmPanels *tensor__autocast_panels(const Tensor *w);
/* tensor_free of w: its copy, if any, goes. */
void tensor__autocast_forget(const Tensor *w);
/* ---- teaching (debug/trace.c, debug/numeric.c) ----------------------------- */
/* Called by tensor__record for each node it records, once the node is
 * complete (tensor_numeric_grad nudges an output as its op makes it); NULL
 * almost always. */
extern _Thread_local void (*tensor__record_hook)(TensorNode *node);
/* Nodes recorded so far on this thread (the latest node's seq). */
uint64_t tensor__record_count(void);
/* The formula table (debug/formulas.c): node's op in symbols and words; -1
 * for an op without an entry.  tensor__op_has_formula: for a test over the
 * op table. */
int tensor__op_formula(const TensorNode *node, const char **forward, const char **backward,
                       const char **words);
bool tensor__op_has_formula(int op);
/* What a traced backward calls around each node's backward: before sees
 * the node's output gradient whole and its inputs' gradients as they were,
 * after sees what the backward added to them. */
typedef struct {
    void (*before)(TensorNode *node, void *ctx);
    void (*after)(TensorNode *node, void *ctx);
    void *ctx;
} TensorBackwardObserver;
/* tensor_backward(root, NULL) with obs called around each node it runs, in
 * the walk's order (debug/trace.c). */
int tensor__backward_observed(Tensor *root, const TensorBackwardObserver *obs);
/* The tensors reachable from root, numbered as tensor_graph_dot numbers
 * them (post-order of a depth-first walk, inputs in the op's order, the
 * root last): *order malloc'd (the caller frees it); the count, or -1 with
 * a message out of memory (debug/graph.c). */
int64_t tensor__graph_tensors(const Tensor *root, const Tensor ***order);

/* ---- anomaly mode (anomaly.c) ---------------------------------------------- */
/* Called by tensor__record: in anomaly mode, true (with a message) when out
 * holds a NaN or Inf although every input is finite. */
bool tensor__anomaly_forward(TensorOp op, const Tensor *out, int n, const Tensor *const *inputs);
/* What an op returns after recording: out, or NULL when the anomaly check
 * refused it.  Every op that computes new values (not views or copies) ends
 * with `return tensor__result(out);`. */
Tensor *tensor__result(Tensor *out);
/* Nestable: ops run inside another op are not checked on their own. */
void tensor__anomaly_pause(bool pause);
/* Runs node's backward; -1 when the backward called tensor__backward_failed,
 * and in anomaly mode -1 (with a message) when it put a NaN or Inf into an
 * input's gradient from a finite gradient. */
int tensor__run_backward(TensorNode *node);
/* A backward that cannot finish (a custom function's missing or misshapen
 * gradient) records its message and calls this: the walk stops there and
 * tensor_backward returns -1. */
void tensor__backward_failed(void);

/* ---- test hooks ----------------------------------------------------------- */
/* The nth write of the next file save (1: the first) writes half its bytes
 * and fails as a full disk does; 0 turns this off.  For tests only. */
void tensor__fail_write(int nth);
/* Bytes handed out by the open scopes' arenas (tensor_scope_bytes counts
 * the chunks they hold, which grow by doubling).  For tests only. */
size_t tensor__scope_used_bytes(void);
/* Sets the count of backward walks so far, which marks the nodes a walk
 * has visited.  For tests only: to cross 2^32 walks without making them. */
void tensor__set_visit_epoch(uint64_t epoch);

#endif /* ATTOGRAD_TENSOR_INTERNAL_H */
