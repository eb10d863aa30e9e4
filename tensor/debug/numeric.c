/*
 * d loss / d t by central differences for any tensor t of a loss's graph
 * (tensor.h, tensor_numeric_grad): the caller's forward runs again, in a
 * scope of its own, once per nudge.
 *
 * A leaf is nudged in place before the forward runs (and put back exactly
 * after).  An intermediate is nudged as its op makes it again: the forward
 * records the same ops in the same order each time, so the node that stands
 * where t's node stood is found by its place in that order (node->seq,
 * counted from the replay's start, aligned on the loss's own node), and
 * tensor__record's hook moves one element of its output before any later
 * op reads it.  An output that shares its input's storage (a view: keys^T)
 * gets a private copy first, so that the nudge moves that tensor alone.
 */
#include "core/tensor_internal.h"

#include <math.h>
#include <string.h>


/* Each element moves by +-h and +-h/2, h = STEP * max(1, |element|), and
 * the two central differences combine as (4 D(h/2) - D(h)) / 3 (Richardson:
 * their h^2 errors cancel).  With the loss read in float32 a single central
 * difference cannot do better than about 1e-4 of the gradient: at a step
 * large enough for float32's rounding of the loss (divided by the step) to
 * be small, the curvature's h^2 / 6 is not (LayerNorm's input in the
 * block: 6e-4 off at h = 1e-2, 1e-5 at 1e-3 where rounding takes over).
 * Measured on backprop_block's 40 tensors: at most 1.2e-4 of the tensor's
 * largest gradient, 1.5e-5 absolute (tests/test_trace.c). */
static const double STEP = 2e-2;

/* One run of the forward, and the nudge it carries. */
typedef struct {
    uint64_t base;               /* nodes recorded before the run */
    uint64_t target;             /* the node to nudge, counted from base; 0: none */
    const Tensor *like;          /* t: the nudged node's op and shape must be its */
    int64_t k;                   /* the element (row-major) */
    double step;                 /* +STEP or -STEP */
    double moved;                /* by how much it really moved (float rounding) */
    bool hit, mismatch;
} Nudge;

static _Thread_local Nudge *active;

/* Storage offset of row-major element k of t. */
static int64_t offset_of(const Tensor *t, int64_t k)
{
    int64_t off = t->offset;
    for (int d = t->ndim - 1; d >= 0; d--) {
        off += (k % t->shape[d]) * t->stride[d];
        k /= t->shape[d];
    }
    return off;
}

/* Moves *x by step * max(1, |*x|); returns how far it really moved (float
 * rounding), 0 for an infinite element: -inf moved is -inf, a masked score
 * stays masked, and its estimate is 0, as its gradient is. */
static double move(float *x, double step)
{
    float was = *x;
    if (!isfinite(was)) return 0;
    *x = (float)((double)was + step * fmax(1.0, fabs((double)was)));
    return (double)*x - (double)was;
}

/* A view's output shares its input's storage: it gets storage of its own,
 * laid out as before (the same strides and offset, so that an op after it
 * sees the same layout and records the same nodes: a transpose stays
 * non-contiguous and contiguous() still copies it), and a nudge moves this
 * tensor and not the one it was taken from. */
static void make_private(TensorNode *node)
{
    Tensor *out = node->out;
    bool shared = false;
    for (int i = 0; i < node->n_inputs; i++)
        shared |= node->inputs[i] && node->inputs[i]->storage == out->storage;
    if (!shared || out->numel == 0) return;
    int64_t end = out->offset;            /* the last element it reads (strides >= 0) */
    for (int d = 0; d < out->ndim; d++) end += (out->shape[d] - 1) * out->stride[d];
    float *own = tensor__scratch((size_t)(end + 1) * sizeof *own);
    memcpy(own, out->storage, (size_t)(end + 1) * sizeof *own);
    out->storage = own;
    out->data = own + out->offset;
}

static void on_record(TensorNode *node)
{
    Nudge *n = active;
    if (!n || !n->target || node->seq - n->base != n->target) return;
    const Tensor *out = node->out, *like = n->like;
    if (node->op != like->grad_fn->op || !tensor_same_shape(out, like)) {
        n->mismatch = true;
        return;
    }
    make_private(node);
    n->hit = true;
    n->moved = move(&out->storage[offset_of(out, n->k)], n->step);
}

/* Runs forward with n's nudge: the loss's value in *loss, the loss's node
 * counted from the run's start in *loss_seq (0: a leaf), and, when find is
 * not NULL, whether it is a tensor of the run's graph.  0, or -1 with a
 * message. */
static int run_forward(TensorForwardFn forward, void *ctx, Nudge *n, double *loss,
                       uint64_t *loss_seq, const Tensor *find, bool *found)
{
    TensorGenerator saved = *tensor_default_generator();
    TensorScope *scope = tensor_scope_begin();
    if (!scope) return -1;
    n->base = tensor__record_count();
    active = n;
    void (*was)(TensorNode *) = tensor__record_hook;
    tensor__record_hook = on_record;
    Tensor *l = forward(ctx);
    tensor__record_hook = was;
    active = NULL;
    int rc = 0;
    if (!l) {
        if (!tensor_error()[0]) tensor_set_error("numeric_grad: the forward returned NULL");
        rc = -1;
    } else if (l->numel != 1) {
        tensor_set_error("numeric_grad: the forward returned a tensor of shape %s, not a scalar",
                         tensor_shape_str(l));
        rc = -1;
    } else {
        *loss = (double)tensor_item(l);
        *loss_seq = l->grad_fn ? l->grad_fn->seq - n->base : 0;
    }
    if (rc == 0 && find) {
        const Tensor **order;
        int64_t count = tensor__graph_tensors(l, &order);
        if (count < 0) rc = -1;
        for (int64_t i = 0; i < count && !*found; i++) *found = order[i] == find;
        free(order);
    }
    tensor_scope_end(scope);
    *tensor_default_generator() = saved;
    return rc;
}

/* Whether t is a tensor of the graph behind root; -1 out of memory. */
static int in_graph(const Tensor *root, const Tensor *t)
{
    const Tensor **order;
    int64_t count = tensor__graph_tensors(root, &order);
    if (count < 0) return -1;
    int found = 0;
    for (int64_t i = 0; i < count && !found; i++) found = order[i] == t;
    free(order);
    return found;
}

Tensor *tensor_numeric_grad(TensorForwardFn forward, void *ctx, const Tensor *loss,
                            const Tensor *t)
{
    if (!forward) return tensor_set_error("numeric_grad: the forward is NULL");
    if (!TENSOR__USABLE(loss) || !TENSOR__USABLE(t)) return NULL;
    if (loss->numel != 1)
        return tensor_set_error("numeric_grad: the loss has shape %s, not one element",
                                tensor_shape_str(loss));
    for (int d = 0; d < t->ndim; d++)
        if (t->stride[d] == 0 && t->shape[d] > 1)
            return tensor_set_error("numeric_grad: the tensor %s is an expanded view: its "
                                    "elements share memory, so one cannot be moved alone",
                                    tensor_shape_str(t));
    int member = in_graph(loss, t);
    if (member <= 0)
        return member < 0 ? NULL
                          : tensor_set_error("numeric_grad: the tensor %s is not in the loss's "
                                             "graph", tensor_shape_str(t));
    /* The forward once as it is: the same loss, and where its nodes stand. */
    Nudge plain = {0};
    double l0;
    uint64_t loss_seq;
    bool found = false;
    if (run_forward(forward, ctx, &plain, &l0, &loss_seq, t->grad_fn ? NULL : t, &found))
        return NULL;
    double want = (double)tensor_item(loss);
    if (!(l0 == want))
        return tensor_set_error("numeric_grad: the forward gave a loss of %.9g where the graph's "
                                "is %.9g: it must compute the same loss again (seed what it "
                                "draws from inside it)", l0, want);
    uint64_t target = 0;
    if (t->grad_fn) {
        /* The loss's node is loss_seq into a run; t's stands as far before it as it did. */
        uint64_t back = loss->grad_fn ? loss->grad_fn->seq - t->grad_fn->seq : 0;
        if (!loss->grad_fn || loss_seq == 0 || back >= loss_seq)
            return tensor_set_error("numeric_grad: the forward does not record the ops that "
                                    "made the loss");
        target = loss_seq - back;
    } else if (!found) {
        return tensor_set_error("numeric_grad: the forward does not use the leaf %s%s%s (it "
                                "must compute the loss from the same tensors)",
                                tensor_shape_str(t), t->name ? " " : "", t->name ? t->name : "");
    }
    Tensor *g = tensor_zeros(t->ndim, t->shape);
    if (!g) return NULL;
    for (int64_t k = 0; k < t->numel; k++) {
        double d[2];
        for (int half = 0; half < 2; half++) {
            double l[2], moved[2];
            for (int side = 0; side < 2; side++) {
                double step = (side ? -STEP : STEP) / (half ? 2 : 1);
                Nudge n = {.target = target, .like = t, .k = k, .step = step};
                float *leaf = target ? NULL : &t->storage[offset_of(t, k)];
                float was = leaf ? *leaf : 0;
                if (leaf) n.moved = move(leaf, n.step);
                uint64_t seq;
                int rc = run_forward(forward, ctx, &n, &l[side], &seq, NULL, NULL);
                if (leaf) *leaf = was;
                if (rc) return NULL;
                if (seq != loss_seq || (target && (!n.hit || n.mismatch)))
                    return tensor_set_error("numeric_grad: the forward made another graph when "
                                            "run again (it must record the same ops in the same "
                                            "order)");
                moved[side] = n.moved;
            }
            double span = moved[0] - moved[1];
            d[half] = span ? (l[0] - l[1]) / span : 0;
        }
        g->data[k] = (float)((4 * d[1] - d[0]) / 3);
    }
    return g;
}
