/*
 * Anomaly mode (tensor_set_detect_anomaly, like torch.autograd's): the first
 * NaN or Inf an op produces, in a forward or a backward, stops the pass with
 * a message naming the op.
 *
 * "Produced" means the op's output has a non-finite value while all of its
 * tensor inputs were finite, so the message names where a NaN was born, not
 * every op it flowed through.  The hooks:
 *   - tensor__record, which every op calls with its output, calls
 *     tensor__anomaly_forward; when that flags the output, the op's final
 *     `return tensor__result(out)` returns NULL instead.  Only ops that
 *     compute new values can flag: a view or a copy of finite values is
 *     finite.  masked_fill never flags: its fill value (-inf for causal
 *     attention) is the caller's choice.  An op that runs other ops inside
 *     (cross_entropy's log_softmax) pauses the check around them: only
 *     what it returns counts.
 *   - tensor_backward runs each node through tensor__run_backward, which
 *     compares the gradients of the node's inputs before and after.
 * Off, each costs one branch.
 */
#include "core/tensor_internal.h"

#include <ctype.h>
#include <math.h>

/* Per thread, as torch's anomaly mode. */
static _Thread_local bool enabled;
static _Thread_local int paused;            /* ops inside an op (or a backward) are checked as it */
static _Thread_local const Tensor *flagged; /* the output the latest forward check refused */

static const char *const op_ids[OP_COUNT] = {
#define OP(id, name, backward) [OP_##id] = #id,
#include "ops.def"
#undef OP
};

void tensor_set_detect_anomaly(bool on)
{
    enabled = on;
    flagged = NULL;
}

bool tensor_is_anomaly_enabled(void) { return enabled; }

void tensor__anomaly_pause(bool pause) { paused += pause ? 1 : -1; }

/* Row-major index of t's first NaN or Inf; -1 when all are finite. */
static int64_t first_non_finite(const Tensor *t)
{
    TensorIter it;
    tensor__iter_init(&it, t->ndim, t->shape, 1, (const int64_t *[]){t->stride}, NULL);
    for (int64_t i = 0; i < t->numel; i++, tensor__iter_next(&it))
        if (!isfinite(t->data[it.off[0]])) return i;
    return -1;
}

static const char *kind(float v) { return isnan(v) ? "nan" : v > 0 ? "inf" : "-inf"; }

/* The op's public name: its id in lower case ("LOG_SOFTMAX": "log_softmax"). */
static const char *forward_name(TensorOp op, char *buf, size_t cap)
{
    size_t i = 0;
    for (const char *s = op_ids[op]; *s && i + 1 < cap; s++) buf[i++] = (char)tolower(*s);
    buf[i] = '\0';
    return buf;
}

bool tensor__anomaly_forward(TensorOp op, const Tensor *out, int n, const Tensor *const *inputs)
{
    flagged = NULL;
    if (!enabled || paused || !out || op == OP_MASKED_FILL) return false;
    int64_t bad = first_non_finite(out);
    if (bad < 0) return false;
    for (int i = 0; i < n; i++)
        if (inputs[i] && first_non_finite(inputs[i]) >= 0) return false; /* not born here */
    char name[32];
    const float *v = tensor__contiguous_data(out);
    tensor_set_error("anomaly: %s produced %s at element %lld of output %s",
                  forward_name(op, name, sizeof name), kind(v[bad]), (long long)bad,
                  tensor_shape_str(out));
    flagged = out;
    return true;
}

Tensor *tensor__result(Tensor *out)
{
    if (!out || out != flagged) return out;
    flagged = NULL;
    return NULL;
}

/* forward: whatever the node's op computed; backward: its own rule.  Here
 * only the check around it: a gradient that was finite (or not yet made)
 * before the node ran and is not after, while the gradient the node
 * received was finite, was spoiled by this node. */
static _Thread_local bool backward_failed;

void tensor__backward_failed(void) { backward_failed = true; }

/* node's backward, -1 when it called tensor__backward_failed. */
static int call_backward(TensorNode *node, const Tensor *g)
{
    backward_failed = false;
    tensor__op_backward[node->op](node, g);
    bool failed = backward_failed;
    backward_failed = false;
    return failed ? -1 : 0;
}

int tensor__run_backward(TensorNode *node)
{
    const Tensor *g = node->out->grad;
    if (!enabled || first_non_finite(g) >= 0) return call_backward(node, g);
    bool *was_finite = tensor__scratch((size_t)node->n_inputs * sizeof *was_finite);
    for (int i = 0; i < node->n_inputs; i++) {
        const Tensor *x = node->inputs[i];
        was_finite[i] = x && (!x->grad || first_non_finite(x->grad) < 0);
    }
    tensor__anomaly_pause(true);
    int rc = call_backward(node, g);
    tensor__anomaly_pause(false);
    if (rc) return rc;
    for (int i = 0; i < node->n_inputs; i++) {
        const Tensor *x = node->inputs[i];
        if (!was_finite[i] || !x->requires_grad || !x->grad) continue;
        int64_t bad = first_non_finite(x->grad);
        if (bad >= 0) {
            tensor_set_error("anomaly: %s produced %s in the gradient of input %d %s", node->name,
                          kind(x->grad->data[bad]), i, tensor_shape_str(x));
            return -1;
        }
    }
    return 0;
}
