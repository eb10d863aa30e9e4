/*
 * The backward, step by step (tensor.h, "Teaching: the backward, step by
 * step"): the graph behind a root, numbered as tensor_graph_dot numbers it,
 * with a copy of every tensor's value; then one backward, run by the engine
 * itself (tensor__backward_observed), with an observer that copies, around
 * each node's backward, the gradient the node starts from and each input's
 * gradient before and after.  Nothing here computes a gradient: every number
 * kept is one the engine made.
 */
#include "core/tensor_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


/* The trace and what only this file reads. */
typedef struct {
    TensorTrace pub;             /* first: a TensorTrace * is a Trace * */
    Tensor *root;
    const Tensor **by_address;   /* the graph's tensors sorted by address, for ids */
    int64_t *id_of;              /* by_address[i]'s id */
    int64_t keep;
    int64_t steps_cap;
    bool ran;                    /* the backward ran (or failed): once only */
    bool out_of_memory;
} Trace;

static int by_address(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (const Tensor *const *)a, y = (uintptr_t) * (const Tensor *const *)b;
    return (x > y) - (x < y);
}

/* t's id, or -1 when it is not a tensor of the graph (a NULL input). */
static int64_t id_of(const Trace *tr, const Tensor *t)
{
    if (!t) return -1;
    const Tensor **hit = bsearch(&t, tr->by_address, (size_t)tr->pub.n_tensors,
                                 sizeof *tr->by_address, by_address);
    return hit ? tr->id_of[hit - tr->by_address] : -1;
}

/* A long-lived copy of t owned by the trace, or NULL when t has more than
 * keep elements (or none is asked for). */
static Tensor *copy_of(Trace *tr, const Tensor *t)
{
    if (!t || t->numel > tr->keep) return NULL;
    Tensor *k = tensor_keep(t);
    if (!k) {
        tr->out_of_memory = true;
        return NULL;
    }
    k->requires_grad = false;
    k->name = NULL;
    return k;
}

static void *xcalloc(Trace *tr, size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) tr->out_of_memory = true;
    return p;
}

void tensor_trace_free(TensorTrace *pub)
{
    if (!pub) return;
    Trace *tr = (Trace *)pub;
    for (int64_t i = 0; pub->tensors && i < pub->n_tensors; i++) {
        TensorTraceTensor *t = &pub->tensors[i];
        tensor_free(t->value);
        tensor_free(t->grad);
        free((void *)t->inputs);
    }
    for (int64_t s = 0; s < pub->n_steps; s++) {
        for (int i = 0; i < pub->steps[s].n_sent; i++) {
            tensor_free(pub->steps[s].sent[i].before);
            tensor_free(pub->steps[s].sent[i].after);
        }
        free(pub->steps[s].sent);
    }
    free(pub->tensors);
    free(pub->steps);
    free(tr->by_address);
    free(tr->id_of);
    free(tr);
}

/* ---- the graph -------------------------------------------------------------- */

static int describe(Trace *tr, int64_t id, const Tensor *t)
{
    TensorTraceTensor *d = &tr->pub.tensors[id];
    d->tensor = t;
    d->name = t->name;
    d->parameter = !t->grad_fn && t->requires_grad;
    d->value = copy_of(tr, t);
    d->value_norm = tensor_l2_norm(t);
    d->grad_norm = NAN;
    d->step = -1;
    if (!t->grad_fn) return 0;
    const TensorNode *n = t->grad_fn;
    d->op = n->name;
    if (tensor__op_formula(n, &d->forward, &d->backward, &d->words) != 0)
        tensor__abort(__FILE__, __LINE__, "an op without a formula (debug/formulas.c)");
    int64_t *in = xcalloc(tr, (size_t)n->n_inputs, sizeof *in);
    if (!in) return -1;
    for (int i = 0; i < n->n_inputs; i++) in[i] = id_of(tr, n->inputs[i]);
    d->inputs = in;
    d->n_inputs = n->n_inputs;
    return 0;
}

TensorTrace *tensor_trace_graph(Tensor *root, TensorTraceOptions o)
{
    if (!root) {
        /* A failed forward hands us NULL: keep its message, the first cause. */
        if (!tensor_error()[0]) tensor_set_error("trace_graph: root tensor is NULL");
        return NULL;
    }
    if (!TENSOR__USABLE(root)) return NULL;
    if (o.keep < 0 || o.max_tensors < 1)
        return tensor_set_error("trace_graph: keep must be >= 0 and max_tensors >= 1 "
                                "(keep %lld, max_tensors %lld)",
                                (long long)o.keep, (long long)o.max_tensors);
    const Tensor **order;
    int64_t n = tensor__graph_tensors(root, &order);
    if (n < 0) return NULL;
    if (n > o.max_tensors) {
        free(order);
        return tensor_set_error("trace_graph: the graph behind the root has %lld tensors, more "
                                "than the %lld asked for",
                                (long long)n, (long long)o.max_tensors);
    }
    Trace *tr = calloc(1, sizeof *tr);
    if (!tr) {
        free(order);
        return tensor_set_error("trace_graph: out of memory");
    }
    tr->root = root;
    tr->keep = o.keep;
    tr->pub.n_tensors = n;
    tr->pub.tensors = xcalloc(tr, (size_t)n, sizeof *tr->pub.tensors);
    tr->by_address = order;
    tr->id_of = xcalloc(tr, (size_t)n, sizeof *tr->id_of);
    if (tr->out_of_memory) goto oom;
    /* Sorted by address with the ids carried along: sort (address, id) pairs. */
    typedef struct { const Tensor *t; int64_t id; } Pair;
    Pair *pairs = xcalloc(tr, (size_t)n, sizeof *pairs);
    if (!pairs) goto oom;
    for (int64_t i = 0; i < n; i++) pairs[i] = (Pair){order[i], i};
    qsort(pairs, (size_t)n, sizeof *pairs, by_address);   /* compares the first member */
    for (int64_t i = 0; i < n; i++) {
        order[i] = pairs[i].t;
        tr->id_of[i] = pairs[i].id;
    }
    for (int64_t i = 0; i < n && !tr->out_of_memory; i++)
        describe(tr, pairs[i].id, pairs[i].t);
    free(pairs);
    if (tr->out_of_memory) goto oom;
    return &tr->pub;
oom:
    tensor_trace_free(&tr->pub);
    return tensor_set_error("trace_graph: out of memory");
}

/* ---- the backward ------------------------------------------------------------- */

/* Before node's backward: a new step; the gradient node's output starts it
 * with (complete: every consumer has sent its part); each input's gradient
 * as it is. */
static void before(TensorNode *node, void *ctx)
{
    Trace *tr = ctx;
    TensorTrace *pub = &tr->pub;
    if (pub->n_steps == tr->steps_cap) {
        tr->steps_cap = tr->steps_cap ? 2 * tr->steps_cap : 16;
        pub->steps = tensor__xrealloc(pub->steps, (size_t)tr->steps_cap * sizeof *pub->steps);
    }
    int64_t s = pub->n_steps++;
    TensorTraceStep *st = &pub->steps[s];
    *st = (TensorTraceStep){.tensor = id_of(tr, node->out)};
    TensorTraceTensor *out = &pub->tensors[st->tensor];
    out->step = s;
    out->grad = copy_of(tr, node->out->grad);
    out->grad_norm = tensor_l2_norm(node->out->grad);
    st->sent = xcalloc(tr, (size_t)node->n_inputs, sizeof *st->sent);
    if (!st->sent) return;
    for (int i = 0; i < node->n_inputs; i++) {
        const Tensor *x = node->inputs[i];
        bool seen = false;                     /* an input given twice (x * x) is one entry */
        for (int j = 0; j < i; j++) seen |= node->inputs[j] == x;
        if (!x || !x->requires_grad || seen) continue;
        TensorTraceSent *d = &st->sent[st->n_sent++];
        d->to = id_of(tr, x);
        d->accumulated = x->grad != NULL;
        d->before = d->accumulated ? copy_of(tr, x->grad) : NULL;
        d->before_norm = d->accumulated ? tensor_l2_norm(x->grad) : NAN;
    }
}

/* After it: what each input's gradient has become. */
static void after(TensorNode *node, void *ctx)
{
    Trace *tr = ctx;
    TensorTraceStep *st = &tr->pub.steps[tr->pub.n_steps - 1];
    for (int i = 0; i < st->n_sent; i++) {
        TensorTraceSent *d = &st->sent[i];
        const Tensor *x = tr->pub.tensors[d->to].tensor;
        d->after = copy_of(tr, x->grad);
        d->after_norm = tensor_l2_norm(x->grad);
    }
    (void)node;
}

int tensor_trace_backward(TensorTrace *pub)
{
    if (!pub) return tensor_set_error("trace_backward: the trace is NULL"), -1;
    Trace *tr = (Trace *)pub;
    if (tr->ran) return tensor_set_error("trace_backward: this trace's backward has run"), -1;
    if (!TENSOR__USABLE(tr->root)) return -1;
    tr->ran = true;
    TensorBackwardObserver obs = {before, after, tr};
    if (tensor__backward_observed(tr->root, &obs) != 0) return -1;
    /* A leaf's gradient is what it holds now: what it had plus this walk's
     * parts.  A root that is a leaf got the seed alone. */
    for (int64_t i = 0; i < pub->n_tensors; i++) {
        TensorTraceTensor *t = &pub->tensors[i];
        if (t->tensor->grad_fn || !t->tensor->grad) continue;
        t->grad = copy_of(tr, t->tensor->grad);
        t->grad_norm = tensor_l2_norm(t->tensor->grad);
    }
    if (tr->out_of_memory) return tensor_set_error("trace_backward: out of memory"), -1;
    return 0;
}
