/*
 * Your own op with its own backward, as torch.autograd.Function: the
 * forward runs with grad mode off, and one node (OP_FUNCTION) stands for
 * the whole op in the graph.  Its backward calls yours, then checks what it
 * gave before adding it into the inputs' gradients, as PyTorch's engine
 * validates a Function's outputs.  docs/custom_function.md builds one.
 */
#include "core/tensor_internal.h"

#include <string.h>

/* What the node keeps: the function and the context its forward filled. */
typedef struct {
    const TensorFunction *f;
    TensorFunctionCtx ctx;
} FunctionNode;

/* 0, or -1 with a message, for what tensor_function_apply was given. */
static int check_apply(const TensorFunction *f, int n, Tensor *const *inputs)
{
    if (!f || !f->name || !f->forward || !f->backward)
        return tensor_set_error("function_apply: the function, its name, forward or backward "
                                "is NULL"), -1;
    if (n < 1 || n > TENSOR_FUNCTION_MAX || !inputs)
        return tensor_set_error("%s: %d inputs given%s; 1 to %d are supported", f->name, n,
                                inputs ? "" : " as NULL", TENSOR_FUNCTION_MAX), -1;
    for (int i = 0; i < n; i++)
        if (!tensor__usable(inputs[i], f->name)) return -1;
    return 0;
}

/* tensor_error()'s message, copied into the current scope. */
static const char *copy_error(void)
{
    size_t len = strlen(tensor_error()) + 1;
    return memcpy(tensor__scratch(len), tensor_error(), len);
}

/* "HandSoftmax" -> "HandSoftmaxBackward", PyTorch's name for a Function's
 * node, in the current scope (the node's). */
static const char *node_name(const char *name)
{
    size_t len = strlen(name);
    char *s = tensor__scratch(len + sizeof "Backward");
    memcpy(s, name, len);
    memcpy(s + len, "Backward", sizeof "Backward");
    return s;
}

Tensor *tensor_function_apply(const TensorFunction *f, int n, Tensor *const *inputs,
                              const void *arg)
{
    if (check_apply(f, n, inputs)) return NULL;
    FunctionNode *fn = tensor__scratch(sizeof *fn);
    memset(fn, 0, sizeof *fn);
    fn->f = f;
    fn->ctx.n_inputs = n;
    bool grad = tensor__needs_grad(n, (const Tensor *const *)inputs);
    for (int i = 0; i < n; i++) fn->ctx.needs_input_grad[i] = grad && inputs[i]->requires_grad;
    const char *before = copy_error();
    tensor_no_grad_begin();
    Tensor *y = f->forward(&fn->ctx, inputs, arg);
    tensor_no_grad_end();
    if (!y) {
        if (!strcmp(tensor_error(), before))
            tensor_set_error("%s: forward returned NULL without a message", f->name);
        return NULL;
    }
    if (!tensor__usable(y, f->name)) return NULL;
    /* A header of its own for the node to hang on: the forward may have
     * returned an input, or a tensor it also saved. */
    Tensor *out = tensor_detach(y);
    TensorNode *node = tensor__record(OP_FUNCTION, out, n, (const Tensor *const *)inputs);
    if (node) {
        node->name = node_name(f->name);
        node->function = fn;
    }
    return tensor__result(out);
}

int tensor_save_for_backward(TensorFunctionCtx *ctx, const Tensor *t)
{
    if (!ctx) return tensor_set_error("save_for_backward: ctx is NULL"), -1;
    if (!TENSOR__USABLE(t)) return -1;
    if (ctx->n_saved == TENSOR_FUNCTION_MAX)
        return tensor_set_error("save_for_backward: %d tensors saved already; %d are supported",
                                ctx->n_saved, TENSOR_FUNCTION_MAX), -1;
    ctx->tensor__versions[ctx->n_saved] = *t->version;
    ctx->saved[ctx->n_saved++] = t;
    return 0;
}

/* -1 with PyTorch's message when a saved tensor changed in place since. */
static int check_saved(const TensorNode *node, const TensorFunctionCtx *ctx)
{
    for (int i = 0; i < ctx->n_saved; i++) {
        const Tensor *t = ctx->saved[i];
        if (*t->version == ctx->tensor__versions[i]) continue;
        tensor_set_error("backward: one of the variables needed for gradient computation has "
                         "been modified by an inplace operation: the saved tensor %d %s of %s is "
                         "at version %llu; expected version %llu instead", i,
                         tensor_shape_str(t), node->name, (unsigned long long)*t->version,
                         (unsigned long long)ctx->tensor__versions[i]);
        return -1;
    }
    return 0;
}

/* -1 with a message unless grad is a usable gradient of input i's shape;
 * cause: what the backward's own ops reported, or "". */
static int check_grad(const TensorNode *node, int i, const Tensor *grad, const char *cause)
{
    const Tensor *x = node->inputs[i];
    if (!grad)
        return tensor_set_error("%s: backward gave no gradient (NULL) for input %d %s, which "
                                "requires grad%s%s", node->name, i, tensor_shape_str(x),
                                cause[0] ? ": " : "", cause), -1;
    if (!tensor__usable(grad, node->name)) return -1;
    if (!tensor_same_shape(grad, x))
        return tensor_set_error("%s: backward gave a gradient of shape %s for input %d, which "
                                "has shape %s", node->name, tensor_shape_str(grad), i,
                                tensor_shape_str(x)), -1;
    return 0;
}

/* forward: y = your forward(inputs)
 * backward: dinput_i = your backward's grad_inputs[i], checked, then added */
void tensor__function_backward(TensorNode *n, const Tensor *dy)
{
    FunctionNode *fn = n->function;
    if (check_saved(n, &fn->ctx)) {
        tensor__backward_failed();
        return;
    }
    Tensor **dx = tensor__scratch((size_t)n->n_inputs * sizeof *dx);
    memset(dx, 0, (size_t)n->n_inputs * sizeof *dx);
    /* The message slot before, so that a new message is the backward's own
     * (copied: a message naming its cause is written into the same slot). */
    const char *before = copy_error();
    fn->f->backward(&fn->ctx, dy, dx);
    const char *cause = strcmp(tensor_error(), before) ? copy_error() : "";
    for (int i = 0; i < n->n_inputs; i++) {
        if (!n->inputs[i]->requires_grad) continue;
        if (check_grad(n, i, dx[i], cause)) {
            tensor__backward_failed();
            return;
        }
    }
    for (int i = 0; i < n->n_inputs; i++) tensor__accumulate_grad(n->inputs[i], dx[i]);
}
