/*
 * Activations beyond the book's: SiLU, LeakyReLU and Softplus, forward and
 * backward side by side (tanh, sigmoid, relu and gelu are in
 * elementwise.c).  Each is a row of one formula and its derivative, in
 * PyTorch's CPU kernels' float32 operation order (Activation.cpp), so values
 * agree with torch's to within its vectorised exp's last bit.
 */
#include "core/tensor_internal.h"

#include <math.h>

/* out: a fresh tensor shaped like a; *x: a's data, row-major.  NULL with a
 * message naming op when either does not fit in memory. */
static Tensor *begin_op(const char *op, const Tensor *a, const float **x)
{
    *x = TENSOR__INPUT(op, a);
    return *x ? tensor__alloc_result(op, a->ndim, a->shape) : NULL;
}
/* The calling op's name: tensor_silu's is "silu". */
#define begin(a, x) begin_op(__func__ + sizeof "tensor_" - 1, (a), (x))

/* Records the node (scalar arguments s0, s1) and returns out. */
static Tensor *end(TensorOp op, Tensor *out, const Tensor *a, double s0, double s1)
{
    TensorNode *n = tensor__record(op, out, 1, &a);
    if (n) n->scalar[0] = s0, n->scalar[1] = s1;
    return tensor__result(out);
}

/* dx for dy and the op's input x, all row-major; the caller fills it. */
typedef struct {
    const float *dy, *x;
    float *dx;
    int64_t n;
    Tensor *grad;
} Grad;

static Grad grad_begin(const TensorNode *n, const Tensor *dy)
{
    Grad g = {.grad = tensor__alloc(dy->ndim, dy->shape), .n = dy->numel};
    g.dx = g.grad->data;
    g.dy = tensor__contiguous_data(dy);
    g.x = tensor__contiguous_data(n->inputs[0]);
    return g;
}

/* forward: y = x / (1 + exp(-x)) = x sigmoid(x)
 * backward: dx = dy * s * (1 + x (1 - s)),  s = 1 / (1 + exp(-x)) */
Tensor *tensor_silu(const Tensor *a)
{
    const float *x;
    if (!TENSOR__USABLE(a)) return NULL;
    Tensor *out = begin(a, &x);
    if (!out) return NULL;
    for (int64_t i = 0; i < out->numel; i++) out->data[i] = x[i] / (1.0f + expf(-x[i]));
    return end(OP_SILU, out, a, 0, 0);
}

void tensor__silu_backward(TensorNode *n, const Tensor *dy)
{
    Grad g = grad_begin(n, dy);
    for (int64_t i = 0; i < g.n; i++) {
        float s = 1.0f / (1.0f + expf(-g.x[i]));
        g.dx[i] = g.dy[i] * s * (1.0f + g.x[i] * (1.0f - s));
    }
    tensor__accumulate_grad(n->inputs[0], g.grad);
}

/* forward: y = x where x > 0, else slope * x
 * backward: dx = dy where x > 0, else dy * slope (slope at 0, as PyTorch) */
Tensor *tensor_leaky_relu(const Tensor *a, float negative_slope)
{
    const float *x;
    if (!TENSOR__USABLE(a)) return NULL;
    if (!isfinite(negative_slope))
        return tensor_set_error("leaky_relu: negative_slope %g for %s must be finite",
                                (double)negative_slope, tensor_shape_str(a));
    Tensor *out = begin(a, &x);
    if (!out) return NULL;
    for (int64_t i = 0; i < out->numel; i++)
        out->data[i] = x[i] > 0 ? x[i] : x[i] * negative_slope;
    return end(OP_LEAKY_RELU, out, a, negative_slope, 0);
}

void tensor__leaky_relu_backward(TensorNode *n, const Tensor *dy)
{
    Grad g = grad_begin(n, dy);
    float slope = (float)n->scalar[0];
    for (int64_t i = 0; i < g.n; i++) g.dx[i] = g.x[i] > 0 ? g.dy[i] : g.dy[i] * slope;
    tensor__accumulate_grad(n->inputs[0], g.grad);
}

/* forward: y = x where beta x > threshold, else log1p(exp(beta x)) / beta
 * backward: dx = dy where beta x > threshold, else dy * z / (z + 1), z = exp(beta x) */
Tensor *tensor_softplus(const Tensor *a, float beta, float threshold)
{
    const float *x;
    if (!TENSOR__USABLE(a)) return NULL;
    if (!isfinite(beta) || beta == 0 || isnan(threshold))
        return tensor_set_error("softplus: beta %g, threshold %g for %s: beta must be finite "
                                "and not 0, threshold a number", (double)beta,
                                (double)threshold, tensor_shape_str(a));
    Tensor *out = begin(a, &x);
    if (!out) return NULL;
    for (int64_t i = 0; i < out->numel; i++) {
        float bx = x[i] * beta;
        out->data[i] = bx > threshold ? x[i] : log1pf(expf(bx)) / beta;
    }
    return end(OP_SOFTPLUS, out, a, beta, threshold);
}

void tensor__softplus_backward(TensorNode *n, const Tensor *dy)
{
    Grad g = grad_begin(n, dy);
    float beta = (float)n->scalar[0], threshold = (float)n->scalar[1];
    for (int64_t i = 0; i < g.n; i++) {
        float bx = g.x[i] * beta, z = expf(bx);
        g.dx[i] = bx > threshold ? g.dy[i] : g.dy[i] * z / (z + 1.0f);
    }
    tensor__accumulate_grad(n->inputs[0], g.grad);
}
