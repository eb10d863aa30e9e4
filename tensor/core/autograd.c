/*
 * Recording the graph and walking it backwards.
 *
 * Each op's output points at its node (grad_fn); a node points at the op's
 * inputs.  tensor_backward() orders the nodes reachable from the root
 * topologically (depth first, iteratively: graphs can be deep), seeds the
 * root's gradient and calls each node's backward in reverse order.  A
 * backward ADDS into its inputs' .grad.  Leaves keep accumulating across
 * calls, as in PyTorch.  A non-leaf's gradient is released as soon as its
 * node's backward has used it, so after a backward its .grad is NULL, as
 * torch leaves it; one that asked with tensor_retain_grad keeps what the
 * latest backward sent it (the teaching programs print those).
 *
 * Memory of a walk: a released gradient goes to a pool and the next
 * gradient of the same size in the same arena takes it, and what each
 * node's backward makes for itself (dx before it is added in, transposed
 * copies) lives in a short scope of its own, ended when the node is done.
 * Only the gradients still to be used are alive at once, so a GPT step
 * needs about its forward's memory, not three times it.
 */
#include "core/tensor_internal.h"

#include <string.h>

const char *const tensor__op_names[OP_COUNT] = {
#define OP(id, name, backward) [OP_##id] = name,
#include "ops.def"
#undef OP
};

const TensorBackwardFn tensor__op_backward[OP_COUNT] = {
#define OP(id, name, backward) [OP_##id] = tensor__##backward,
#include "ops.def"
#undef OP
};

/* Per thread, as torch's grad mode: a thread's graphs are its own. */
static _Thread_local int no_grad_depth;
/* Walks so far; a walk marks its nodes with its number.  64 bits never wrap
 * (a 32-bit count came back to 0, a fresh node's mark, after 2^32 walks,
 * and that walk then saw no node below the root). */
static _Thread_local uint64_t visit_epoch;

void tensor__set_visit_epoch(uint64_t epoch) { visit_epoch = epoch; }

/* Nodes recorded so far on this thread: each node's seq, by which a forward
 * run again finds the node that stands where an earlier one stood. */
static _Thread_local uint64_t record_seq;
_Thread_local void (*tensor__record_hook)(TensorNode *node);

uint64_t tensor__record_count(void) { return record_seq; }

void tensor_no_grad_begin(void) { no_grad_depth++; }
void tensor_no_grad_end(void)
{
    if (no_grad_depth > 0) no_grad_depth--;
}
bool tensor_is_grad_enabled(void) { return no_grad_depth == 0; }

Tensor *tensor_requires_grad_(Tensor *t, bool requires_grad)
{
    if (!TENSOR__USABLE(t)) return NULL;
    if (t->grad_fn)
        return tensor_set_error("requires_grad_: tensor %s is not a leaf (made by %s); "
                             "detach it first",
                             tensor_shape_str(t), t->grad_fn->name);
    t->requires_grad = requires_grad;
    return t;
}

const char *tensor_grad_fn_name(const Tensor *t)
{
    return t && t->grad_fn ? t->grad_fn->name : NULL;
}

bool tensor__needs_grad(int n, const Tensor *const *inputs)
{
    if (no_grad_depth) return false;
    for (int i = 0; i < n; i++)
        if (inputs[i] && inputs[i]->requires_grad) return true;
    return false;
}

TensorNode *tensor__record(TensorOp op, Tensor *out, int n, const Tensor *const *inputs)
{
    if (tensor__anomaly_forward(op, out, n, inputs)) return NULL;   /* the op returns NULL */
    if (!out || !tensor__needs_grad(n, inputs)) return NULL;
    TensorNode *node = tensor__scratch(sizeof *node);
    memset(node, 0, sizeof *node);
    node->op = op;
    node->name = tensor__op_names[op];
    node->n_inputs = n;
    node->inputs = tensor__scratch((size_t)n * sizeof *node->inputs);
    /* Nodes never write through their inputs' data; the cast only lets a
     * backward accumulate into input->grad. */
    for (int i = 0; i < n; i++) node->inputs[i] = (Tensor *)inputs[i];
    for (int i = 0; i < n && i < 3; i++) node->versions[i] = inputs[i] ? *inputs[i]->version : 0;
    node->versions[3] = *out->version;
    node->out = out;
    node->seq = ++record_seq;
    out->grad_fn = node;
    out->requires_grad = true;
    if (tensor__record_hook) tensor__record_hook(node);
    return node;
}

Tensor *tensor_detach(const Tensor *t)
{
    if (!TENSOR__USABLE(t)) return NULL;
    return tensor__view_of(t, t->ndim, t->shape, t->stride, t->offset);
}

Tensor *tensor_retain_grad(Tensor *t)
{
    if (!TENSOR__USABLE(t)) return NULL;
    t->retains_grad = true;
    return t;
}

void tensor_zero_grad(Tensor *t)
{
    if (t && t->grad) tensor__zero_floats(t->grad->data, t->grad->numel);
}

void tensor_bump_version(Tensor *t)
{
    if (TENSOR__USABLE(t)) tensor__bump_version(t);
}

Tensor *tensor__sum_to_shape(const Tensor *g, int ndim, const int64_t *shape)
{
    Tensor *out = tensor__alloc(ndim, shape);
    memset(out->data, 0, (size_t)out->numel * sizeof(float));
    int64_t stride[TENSOR_MAX_DIMS];
    /* Read out with stride 0 along broadcast dims, so adding g's elements
     * into it sums them. */
    tensor__broadcast_strides(out, g->ndim, g->shape, stride);
    TensorIter it;
    tensor__iter_init(&it, g->ndim, g->shape, 2, (const int64_t *[]){g->stride, stride}, NULL);
    for (int64_t i = 0; i < g->numel; i++, tensor__iter_next(&it))
        out->data[it.off[1]] += g->data[it.off[0]];
    return out;
}

Tensor *tensor__first_grad(Tensor *t)
{
    if (!t || !t->requires_grad || t->grad) return NULL;
    return t->grad = tensor__alloc_grad_uninit(t);
}

Tensor *tensor__grad_buffer(Tensor *t)
{
    if (!t || !t->requires_grad) return NULL;
    if (!t->grad) t->grad = tensor__alloc_grad_for(t);
    return t->grad;
}

/* dst (row-major, g's element count) = g, or += g when add, g read through
 * its strides.  A strided g (the gradient of a transpose or a slice) is
 * walked a row of its last dim at a time: one strided loop per row, not an
 * index walk per element. */
static void store_into(float *restrict dst, const Tensor *g, bool add)
{
    if (tensor_is_contiguous(g)) {
        if (add)
            for (int64_t i = 0; i < g->numel; i++) dst[i] += g->data[i];
        else
            tensor__copy_floats(dst, g->data, g->numel);
        return;
    }
    int outer = g->ndim - 1;   /* >= 0: a 0-d tensor is contiguous */
    int64_t len = g->shape[outer], step = g->stride[outer];
    TensorIter it;
    tensor__iter_init(&it, outer, g->shape, 1, (const int64_t *[]){g->stride}, NULL);
    for (int64_t r = 0; r < g->numel / len; r++, tensor__iter_next(&it), dst += len) {
        const float *src = g->data + it.off[0];
        if (add)
            for (int64_t j = 0; j < len; j++) dst[j] += src[j * step];
        else
            for (int64_t j = 0; j < len; j++) dst[j] = src[j * step];
    }
}

/* The first gradient a tensor receives is copied, as torch's AccumulateGrad
 * takes it, rather than added to zeros: one pass over memory, not two. */
void tensor__accumulate_grad(Tensor *t, const Tensor *g)
{
    if (!t || !t->requires_grad || !g) return;
    if (g->numel != t->numel) g = tensor__sum_to_shape(g, t->ndim, t->shape);
    bool add = t->grad != NULL;
    if (!add) t->grad = tensor__alloc_grad_uninit(t);
    if (g->numel) store_into(t->grad->data, g, add);
}

/* Whether a walk may move an output's gradient to an input (pass_grad):
 * not in an observed walk, whose observer reads each node's output
 * gradient after its backward has run. */
static _Thread_local bool moves_allowed;

/* dy, the gradient node's output holds, becomes input t's first gradient:
 * t->grad a header of t's shape on dy's floats, and the output lets go of
 * them (release_grad would otherwise hand them out again).  Only when dy
 * is contiguous, no one asked to keep it (retain_grad), and t lives in
 * dy's scope (t's gradient must live as long as t). */
static bool move_grad(TensorNode *node, Tensor *t)
{
    Tensor *dy = node->out->grad;
    if (!moves_allowed || !t || !t->requires_grad || t->grad || !dy) return false;
    if (node->out->retains_grad || !tensor_is_contiguous(dy) || dy->numel != t->numel)
        return false;
    if (!t->owner || dy->owner != t->owner || dy->generation != t->generation) return false;
    Tensor *g = tensor__arena_alloc(t->owner, sizeof *g);
    memset(g, 0, sizeof *g);
    g->ndim = t->ndim;
    memcpy(g->shape, t->shape, sizeof g->shape);
    tensor__set_contiguous_strides(g);
    g->storage = g->data = dy->data;
    g->owner = t->owner;
    g->generation = t->generation;
    g->version = &g->own_version;
    t->grad = g;
    node->out->grad = NULL;
    return true;
}

void tensor__pass_grad(TensorNode *node, int i, const Tensor *dy)
{
    if (!move_grad(node, node->inputs[i])) tensor__accumulate_grad(node->inputs[i], dy);
}

/* Doubles an array kept in the current scope; the old copy stays there
 * until the scope ends (the walk is short-lived and usually never grows). */
static void *grow(const void *old, size_t *cap, size_t size)
{
    void *p = tensor__scratch(*cap * 2 * size);
    memcpy(p, old, *cap * size);
    *cap *= 2;
    return p;
}

/* Nodes reachable from root, in topological order (inputs first), in the
 * current scope: a backward per training step calls no malloc. */
static TensorNode **topo_order(TensorNode *root, int64_t *count)
{
    typedef struct {
        TensorNode *node;
        int next_input;
    } Frame;
    size_t cap = 64, order_cap = 64, n = 0, top = 0;
    TensorNode **order = tensor__scratch(order_cap * sizeof *order);
    Frame *stack = tensor__scratch(cap * sizeof *stack);
    uint64_t epoch = ++visit_epoch;
    root->mark = epoch;
    stack[top++] = (Frame){root, 0};
    while (top) {
        Frame *f = &stack[top - 1];
        if (f->next_input < f->node->n_inputs) {
            Tensor *input = f->node->inputs[f->next_input++];
            TensorNode *child = input ? input->grad_fn : NULL;
            if (child && child->mark != epoch) {
                child->mark = epoch;
                if (top == cap) stack = grow(stack, &cap, sizeof *stack);
                stack[top++] = (Frame){child, 0};
            }
            continue;
        }
        if (n == order_cap) order = grow(order, &order_cap, sizeof *order);
        order[n++] = f->node;
        top--;
    }
    *count = (int64_t)n;
    return order;
}

/* What each backward reads besides its gradient: the inputs' values, or its
 * output's (torch's saved tensors, whose versions it checks).  The ops not
 * listed read their inputs' values. */
enum { READS_NOTHING = 1, READS_OUT = 2 };
static const unsigned char reads[OP_COUNT] = {
    [OP_ADD] = READS_NOTHING, [OP_SUB] = READS_NOTHING, [OP_ADD_SCALAR] = READS_NOTHING,
    [OP_SUB_SCALAR] = READS_NOTHING, [OP_MUL_SCALAR] = READS_NOTHING,
    [OP_DIV_SCALAR] = READS_NOTHING, [OP_NEG] = READS_NOTHING, [OP_CLONE] = READS_NOTHING,
    [OP_SUM] = READS_NOTHING, [OP_SUM_DIM] = READS_NOTHING, [OP_MEAN] = READS_NOTHING,
    [OP_MEAN_DIM] = READS_NOTHING, [OP_MAX_DIM] = READS_NOTHING, [OP_TRIU] = READS_NOTHING,
    [OP_TRIL] = READS_NOTHING, [OP_VIEW] = READS_NOTHING, [OP_TRANSPOSE] = READS_NOTHING,
    [OP_PERMUTE] = READS_NOTHING, [OP_NARROW] = READS_NOTHING, [OP_UNSQUEEZE] = READS_NOTHING,
    [OP_SQUEEZE] = READS_NOTHING, [OP_EXPAND] = READS_NOTHING, [OP_CAT] = READS_NOTHING,
    [OP_STACK] = READS_NOTHING, [OP_DROPOUT] = READS_NOTHING, [OP_TOPK] = READS_NOTHING,
    [OP_GATHER] = READS_NOTHING, [OP_NLL_LOSS] = READS_NOTHING,
    /* a function of yours reads what it saved: its backward checks those */
    [OP_FUNCTION] = READS_NOTHING,
    [OP_EXP] = READS_OUT, [OP_SQRT] = READS_OUT, [OP_TANH] = READS_OUT,
    [OP_SIGMOID] = READS_OUT, [OP_RELU] = READS_OUT, [OP_SOFTMAX] = READS_OUT,
    [OP_LOG_SOFTMAX] = READS_OUT,
};

/* -1 with torch's message when a tensor node's backward reads was changed
 * in place (fill_, copy_, set, a random fill, an optimizer step) after the
 * node was recorded: its gradient would be computed from the new values. */
static int check_versions(const TensorNode *node)
{
    if (reads[node->op] == READS_NOTHING) return 0;
    int first = reads[node->op] == READS_OUT ? 3 : 0, last = reads[node->op] == READS_OUT ? 3 : 2;
    for (int i = first; i <= last; i++) {
        const Tensor *t = i == 3 ? node->out : i < node->n_inputs ? node->inputs[i] : NULL;
        if (!t || *t->version == node->versions[i]) continue;
        tensor_set_error("backward: one of the variables needed for gradient computation has been "
                      "modified by an inplace operation: the %s %s of %s is at version %llu; "
                      "expected version %llu instead",
                      i == 3 ? "output" : i == 0 ? "input 0" : i == 1 ? "input 1" : "input 2",
                      tensor_shape_str(t), node->name, (unsigned long long)*t->version,
                      (unsigned long long)node->versions[i]);
        return -1;
    }
    return 0;
}

static int backward(Tensor *root, const Tensor *grad_output, bool retain,
                    const TensorBackwardObserver *obs);

int tensor_backward(Tensor *root, const Tensor *grad_output)
{
    return backward(root, grad_output, false, NULL);
}

int tensor_backward_retain(Tensor *root, const Tensor *grad_output)
{
    return backward(root, grad_output, true, NULL);
}

int tensor__backward_observed(Tensor *root, const TensorBackwardObserver *obs)
{
    return backward(root, NULL, false, obs);
}

/* The gradients this thread's walk has released, for reuse (see the top):
 * each with the node that released it, which keeps it as its spare for a
 * later walk when nothing else took it.  In the walk's scope. */
typedef struct {
    Tensor *grad;
    TensorNode *from;
} Released;
static _Thread_local Released *pool;
static _Thread_local size_t pool_len, pool_cap;

Tensor *tensor__reuse_grad(const Tensor *t)
{
    TensorNode *node = t->grad_fn;
    if (node && node->spare_grad) {
        Tensor *g = node->spare_grad;
        node->spare_grad = NULL;
        return g;
    }
    if (!t->owner) return NULL;   /* long-lived: its gradient is its own */
    for (size_t i = pool_len; i-- > 0;) {   /* the newest first: still in cache */
        Tensor *g = pool[i].grad;
        if (g->owner != t->owner || g->generation != t->generation || g->numel != t->numel)
            continue;
        pool[i] = pool[--pool_len];
        return g;
    }
    return NULL;
}

/* node's backward has run: its output's gradient goes to the pool unless
 * the output keeps it (every output is made in a scope: ops allocate there). */
static void release_grad(TensorNode *node)
{
    Tensor *out = node->out;
    if (out->retains_grad || !out->grad || !out->owner) return;
    if (pool_len == pool_cap) pool = grow(pool, &pool_cap, sizeof *pool);
    pool[pool_len++] = (Released){out->grad, node};
    out->grad = NULL;
}

/* Runs node's backward with what it makes for itself in a scope of its own
 * (an observer's copies are made outside it, in the caller's scope). */
static int run_node(TensorNode *node, const TensorBackwardObserver *obs)
{
    if (obs) obs->before(node, obs->ctx);
    TensorScope *own = tensor__scope_try_begin();
    int rc = tensor__run_backward(node);
    tensor_scope_end(own);
    if (obs && rc == 0) obs->after(node, obs->ctx);
    release_grad(node);
    return rc;
}

static int backward(Tensor *root, const Tensor *grad_output, bool retain,
                    const TensorBackwardObserver *obs)
{
    if (!TENSOR__USABLE(root)) return -1;
    if (grad_output && !TENSOR__USABLE(grad_output)) return -1;
    if (!root->requires_grad)
        return tensor_set_error("backward: tensor %s does not require grad and has no grad_fn",
                             tensor_shape_str(root)),
               -1;
    if (!grad_output && root->numel != 1)
        return tensor_set_error("backward: grad can be implicitly created only for scalar "
                             "outputs; output has shape %s",
                             tensor_shape_str(root)),
               -1;
    if (grad_output && !tensor_same_shape(grad_output, root))
        return tensor_set_error("backward: grad_output shape %s differs from output shape %s",
                             tensor_shape_str(grad_output), tensor_shape_str(root)),
               -1;
    tensor_no_grad_begin();
    if (!root->grad_fn) {   /* a leaf: its gradient is the seed itself */
        tensor__accumulate_grad(root, grad_output ? grad_output : tensor_ones(root->ndim, root->shape));
        tensor_no_grad_end();
        return 0;
    }
    int64_t n;
    TensorNode **order = topo_order(root->grad_fn, &n);
    for (int64_t i = 0; i < n; i++) {
        if (!order[i]->released && check_versions(order[i]) == 0) continue;
        if (order[i]->released)
            tensor_set_error("backward: trying to backward through the graph a second time (%s "
                          "was already used by a backward); call tensor_backward_retain for "
                          "every backward but the last to go through it again",
                          order[i]->name);
        tensor_no_grad_end();
        return -1;
    }
    /* A non-leaf's .grad is what this pass sends it, and NULL until it
     * sends something (nodes that get nothing are skipped).  A gradient a
     * retained tensor kept from an earlier pass is its spare: an
     * intermediate that outlives many backwards (made in an outer scope)
     * must not get a new one each time. */
    for (int64_t i = 0; i < n; i++) {
        Tensor *out = order[i]->out;
        if (out->grad) order[i]->spare_grad = out->grad;
        out->grad = NULL;
    }
    moves_allowed = obs == NULL;
    pool_cap = 16;
    pool_len = 0;
    pool = tensor__scratch(pool_cap * sizeof *pool);
    tensor__accumulate_grad(root, grad_output ? grad_output : tensor_ones(root->ndim, root->shape));
    int rc = 0;
    for (int64_t i = n - 1; i >= 0 && rc == 0; i--)
        if (order[i]->out->grad) rc = run_node(order[i], obs);
    /* What no one took is kept by the node that released it, for the next
     * walk through this graph. */
    for (size_t i = 0; i < pool_len; i++)
        if (!pool[i].from->spare_grad) pool[i].from->spare_grad = pool[i].grad;
    pool = NULL;
    pool_len = pool_cap = 0;
    /* A failed walk (anomaly mode) may be run again. */
    for (int64_t i = 0; i < n && !retain && rc == 0; i++) order[i]->released = true;
    tensor_no_grad_end();
    return rc;
}
