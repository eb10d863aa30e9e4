/*
 * Elementwise ops: binary arithmetic with NumPy broadcasting, ops with a
 * scalar, and the unary math and activation functions.  Each forward sits
 * above its backward.
 *
 * Results are computed as PyTorch's CPU kernels compute them (same formula,
 * same float32 operation order) so that values agree bit for bit where the
 * C library and PyTorch's vector math (SLEEF, within 1 ulp) allow.
 *
 * Speed: the output is always a fresh contiguous tensor.  Same-shape
 * contiguous operands run one plain loop the compiler vectorises; broadcast
 * or strided operands run the same loop over rows of the last dim, with the
 * outer dims walked by a TensorIter.  Unary ops read a non-contiguous input
 * through one row-major copy.
 */
#include "core/tensor_internal.h"
#include "kernels/kernels.h"
#include "kernels/threads.h"

#include <math.h>
#include <string.h>

/* ---- binary ops with broadcasting ---------------------------------------- */

/* y[i] = a[i*sa] op b[i*sb] for one row of n elements; unit strides get
 * their own loop so that it vectorises. */
#define BINARY_ROW(expr)                                                        \
    do {                                                                        \
        if (sa == 1 && sb == 1) {                                               \
            for (int64_t i = 0; i < n; i++) {                                   \
                float p = a[i], q = b[i];                                       \
                y[i] = (expr);                                                  \
            }                                                                   \
        } else {                                                                \
            for (int64_t i = 0; i < n; i++) {                                   \
                float p = a[i * sa], q = b[i * sb];                             \
                y[i] = (expr);                                                  \
            }                                                                   \
        }                                                                       \
    } while (0)

static void binary_row(TensorOp op, float *restrict y, const float *a, int64_t sa,
                       const float *b, int64_t sb, int64_t n)
{
    switch (op) {
    case OP_ADD: BINARY_ROW(p + q); return;
    case OP_SUB: BINARY_ROW(p - q); return;
    case OP_MUL: BINARY_ROW(p * q); return;
    case OP_DIV: BINARY_ROW(p / q); return;
    default: TENSOR__ASSERT(!"not a binary op");
    }
}

static Tensor *binary(TensorOp op, const char *name, const Tensor *a, const Tensor *b)
{
    if (!TENSOR__USABLE(a) || !TENSOR__USABLE(b)) return NULL;
    int ndim;
    int64_t shape[TENSOR_MAX_DIMS];
    if (tensor__broadcast_shape(a, b, name, &ndim, shape)) return NULL;
    Tensor *out = tensor__alloc_result(name, ndim, shape);
    if (!out) return NULL;
    if (tensor_same_shape(a, b) && tensor_is_contiguous(a) && tensor_is_contiguous(b)) {
        binary_row(op, out->data, a->data, 1, b->data, 1, out->numel);
    } else if (out->numel > 0) {
        /* Rows along the last dim (one row for a 0-d result); the outer dims
         * are walked with each operand's broadcast strides (0 where it
         * repeats). */
        int64_t sa[TENSOR_MAX_DIMS] = {0}, sb[TENSOR_MAX_DIMS] = {0};
        tensor__broadcast_strides(a, ndim, shape, sa);
        tensor__broadcast_strides(b, ndim, shape, sb);
        int outer = ndim ? ndim - 1 : 0;
        int64_t len = ndim ? shape[ndim - 1] : 1;
        int64_t ia = ndim ? sa[ndim - 1] : 0, ib = ndim ? sb[ndim - 1] : 0;
        TensorIter it;
        tensor__iter_init(&it, outer, shape, 2, (const int64_t *[]){sa, sb}, NULL);
        for (int64_t r = 0; r < out->numel / len; r++, tensor__iter_next(&it))
            binary_row(op, out->data + r * len, a->data + it.off[0], ia, b->data + it.off[1],
                       ib, len);
    }
    tensor__record(op, out, 2, (const Tensor *[]){a, b});
    return tensor__result(out);
}

/* forward: y = a + b;  backward: da = dy, db = dy (summed over broadcast dims) */
Tensor *tensor_add(const Tensor *a, const Tensor *b) { return binary(OP_ADD, "add", a, b); }

void tensor__add_backward(TensorNode *n, const Tensor *dy)
{
    tensor__pass_grad(n, 0, dy);
    tensor__pass_grad(n, 1, dy);
}

/* forward: y = a - b;  backward: da = dy, db = -dy */
Tensor *tensor_sub(const Tensor *a, const Tensor *b) { return binary(OP_SUB, "sub", a, b); }

void tensor__sub_backward(TensorNode *n, const Tensor *dy)
{
    tensor__pass_grad(n, 0, dy);
    if (n->inputs[1]->requires_grad) tensor__accumulate_grad(n->inputs[1], tensor_neg(dy));
}

/* forward: y = a * b;  backward: da = dy * b, db = dy * a */
Tensor *tensor_mul(const Tensor *a, const Tensor *b) { return binary(OP_MUL, "mul", a, b); }

void tensor__mul_backward(TensorNode *n, const Tensor *dy)
{
    Tensor *a = n->inputs[0], *b = n->inputs[1];
    if (a->requires_grad) tensor__accumulate_grad(a, tensor_mul(dy, b));
    if (b->requires_grad) tensor__accumulate_grad(b, tensor_mul(dy, a));
}

/* forward: y = a / b;  backward: da = dy / b, db = -dy * ((a / b) / b), as PyTorch */
Tensor *tensor_div(const Tensor *a, const Tensor *b) { return binary(OP_DIV, "div", a, b); }

void tensor__div_backward(TensorNode *n, const Tensor *dy)
{
    Tensor *a = n->inputs[0], *b = n->inputs[1];
    if (a->requires_grad) tensor__accumulate_grad(a, tensor_div(dy, b));
    if (b->requires_grad)
        tensor__accumulate_grad(b, tensor_mul(tensor_neg(dy), tensor_div(tensor_div(a, b), b)));
}

/* ---- helpers for one-input ops -------------------------------------------- */

/* The output of a one-input op: contiguous, shaped like a; *x is a's data in
 * row-major order (a copy only when a is not contiguous).  NULL with a
 * message naming op when either does not fit in memory. */
static Tensor *unary_begin(const char *op, const Tensor *a, const float **x)
{
    *x = TENSOR__INPUT(op, a);
    return *x ? tensor__alloc_result(op, a->ndim, a->shape) : NULL;
}
/* The calling op's name: tensor_exp's is "exp". */
#define UNARY_BEGIN(a, x) unary_begin(__func__ + sizeof "tensor_" - 1, (a), (x))

/* Records the node when a needs a gradient; s is the op's scalar argument. */
static Tensor *unary_end(TensorOp op, Tensor *out, const Tensor *a, double s)
{
    TensorNode *n = tensor__record(op, out, 1, (const Tensor *[]){a});
    if (n) n->scalar[0] = s;
    return tensor__result(out);
}

/* What a one-input backward reads and writes, all row-major with n elements:
 * dy, the values v its local derivative needs (the op's input x or its
 * output y), and dx: the input's own gradient when this is its first (made
 * now, every element written by the backward: no copy follows), else a
 * fresh tensor added to it afterwards. */
typedef struct {
    const float *dy, *v;
    float *dx;
    int64_t n;
    Tensor *grad;
    bool direct;               /* grad is the input's gradient itself */
} UnaryGrad;

static UnaryGrad unary_grad(TensorNode *n, const Tensor *dy, const Tensor *v)
{
    UnaryGrad g;
    Tensor *x = n->inputs[0];
    Tensor *first = x->numel == dy->numel ? tensor__first_grad(x) : NULL;
    g.direct = first != NULL;
    g.grad = first ? first : tensor__alloc(dy->ndim, dy->shape);
    g.dx = g.grad->data;
    g.dy = tensor__contiguous_data(dy);
    g.v = v ? tensor__contiguous_data(v) : NULL;
    g.n = dy->numel;
    return g;
}

static void unary_grad_done(TensorNode *n, const UnaryGrad *g)
{
    if (!g->direct) tensor__accumulate_grad(n->inputs[0], g->grad);
}

/* ---- ops with a scalar ---------------------------------------------------- */

/* forward: y = x + s;  backward: dx = dy */
Tensor *tensor_add_scalar(const Tensor *a, float s)
{
    const float *x;
    if (!TENSOR__USABLE(a)) return NULL;
    Tensor *out = UNARY_BEGIN(a, &x);
    if (!out) return NULL;
    for (int64_t i = 0; i < out->numel; i++) out->data[i] = x[i] + s;
    return unary_end(OP_ADD_SCALAR, out, a, s);
}

void tensor__add_scalar_backward(TensorNode *n, const Tensor *dy)
{
    tensor__pass_grad(n, 0, dy);
}

/* forward: y = x - s;  backward: dx = dy */
Tensor *tensor_sub_scalar(const Tensor *a, float s)
{
    const float *x;
    if (!TENSOR__USABLE(a)) return NULL;
    Tensor *out = UNARY_BEGIN(a, &x);
    if (!out) return NULL;
    for (int64_t i = 0; i < out->numel; i++) out->data[i] = x[i] - s;
    return unary_end(OP_SUB_SCALAR, out, a, s);
}

void tensor__sub_scalar_backward(TensorNode *n, const Tensor *dy)
{
    tensor__pass_grad(n, 0, dy);
}

/* forward: y = x * s;  backward: dx = dy * s */
Tensor *tensor_mul_scalar(const Tensor *a, float s)
{
    const float *x;
    if (!TENSOR__USABLE(a)) return NULL;
    Tensor *out = UNARY_BEGIN(a, &x);
    if (!out) return NULL;
    for (int64_t i = 0; i < out->numel; i++) out->data[i] = x[i] * s;
    return unary_end(OP_MUL_SCALAR, out, a, s);
}

void tensor__mul_scalar_backward(TensorNode *n, const Tensor *dy)
{
    UnaryGrad g = unary_grad(n, dy, NULL);
    float s = (float)n->scalar[0];
    for (int64_t i = 0; i < g.n; i++) g.dx[i] = g.dy[i] * s;
    unary_grad_done(n, &g);
}

/* forward: y = x / s (a true division, not x * (1/s): scores / sqrt(d) must
 * round as PyTorch's);  backward: dx = dy / s */
Tensor *tensor_div_scalar(const Tensor *a, float s)
{
    const float *x;
    if (!TENSOR__USABLE(a)) return NULL;
    Tensor *out = UNARY_BEGIN(a, &x);
    if (!out) return NULL;
    for (int64_t i = 0; i < out->numel; i++) out->data[i] = x[i] / s;
    return unary_end(OP_DIV_SCALAR, out, a, s);
}

void tensor__div_scalar_backward(TensorNode *n, const Tensor *dy)
{
    UnaryGrad g = unary_grad(n, dy, NULL);
    float s = (float)n->scalar[0];
    for (int64_t i = 0; i < g.n; i++) g.dx[i] = g.dy[i] / s;
    unary_grad_done(n, &g);
}

/* forward: y = s - x (Python's `s - x`, torch.rsub);  backward: dx = -dy */
Tensor *tensor_rsub_scalar(const Tensor *a, float s)
{
    const float *x;
    if (!TENSOR__USABLE(a)) return NULL;
    Tensor *out = UNARY_BEGIN(a, &x);
    if (!out) return NULL;
    for (int64_t i = 0; i < out->numel; i++) out->data[i] = s - x[i];
    return unary_end(OP_RSUB_SCALAR, out, a, s);
}

void tensor__rsub_scalar_backward(TensorNode *n, const Tensor *dy)
{
    tensor__accumulate_grad(n->inputs[0], tensor_neg(dy));
}

/* Python's `s / x` is torch's reciprocal(x) * s, and so is this. */
Tensor *tensor_rdiv_scalar(const Tensor *a, float s)
{
    return tensor_mul_scalar(tensor_reciprocal(a), s);
}

/* forward: y = 1 / x;  backward: dx = -dy * y * y, as PyTorch */
Tensor *tensor_reciprocal(const Tensor *a)
{
    const float *x;
    if (!TENSOR__USABLE(a)) return NULL;
    Tensor *out = UNARY_BEGIN(a, &x);
    if (!out) return NULL;
    for (int64_t i = 0; i < out->numel; i++) out->data[i] = 1.0f / x[i];
    return unary_end(OP_RECIPROCAL, out, a, 0);
}

void tensor__reciprocal_backward(TensorNode *n, const Tensor *dy)
{
    UnaryGrad g = unary_grad(n, dy, n->out);
    for (int64_t i = 0; i < g.n; i++) g.dx[i] = -g.dy[i] * (g.v[i] * g.v[i]);
    unary_grad_done(n, &g);
}

/* ---- unary math ------------------------------------------------------------ */

/* forward: y = -x;  backward: dx = -dy */
Tensor *tensor_neg(const Tensor *a)
{
    const float *x;
    if (!TENSOR__USABLE(a)) return NULL;
    Tensor *out = UNARY_BEGIN(a, &x);
    if (!out) return NULL;
    for (int64_t i = 0; i < out->numel; i++) out->data[i] = -x[i];
    return unary_end(OP_NEG, out, a, 0);
}

void tensor__neg_backward(TensorNode *n, const Tensor *dy)
{
    UnaryGrad g = unary_grad(n, dy, NULL);
    for (int64_t i = 0; i < g.n; i++) g.dx[i] = -g.dy[i];
    unary_grad_done(n, &g);
}

/* y = x^e with PyTorch's special cases (pow_tensor_scalar): they round
 * differently from pow() and are what torch computes for x**2, x**0.5 ... */
static void pow_values(float *restrict y, const float *x, int64_t n, double e)
{
    if (e == 0) for (int64_t i = 0; i < n; i++) y[i] = 1.0f;
    else if (e == 1) memcpy(y, x, (size_t)n * sizeof *y);
    else if (e == 0.5) for (int64_t i = 0; i < n; i++) y[i] = sqrtf(x[i]);
    else if (e == -0.5) for (int64_t i = 0; i < n; i++) y[i] = 1.0f / sqrtf(x[i]);
    else if (e == -1) for (int64_t i = 0; i < n; i++) y[i] = 1.0f / x[i];
    else if (e == 2) for (int64_t i = 0; i < n; i++) y[i] = x[i] * x[i];
    else if (e == 3) for (int64_t i = 0; i < n; i++) y[i] = x[i] * x[i] * x[i];
    else if (e == -2) for (int64_t i = 0; i < n; i++) y[i] = 1.0f / (x[i] * x[i]);
    else for (int64_t i = 0; i < n; i++) y[i] = (float)pow(x[i], e);
}

/* forward: y = x^e;  backward: dx = dy * (e * x^(e-1)), 0 when e == 0 */
Tensor *tensor_pow(const Tensor *a, float exponent)
{
    const float *x;
    if (!TENSOR__USABLE(a)) return NULL;
    Tensor *out = UNARY_BEGIN(a, &x);
    if (!out) return NULL;
    pow_values(out->data, x, out->numel, exponent);
    return unary_end(OP_POW, out, a, exponent);
}

void tensor__pow_backward(TensorNode *n, const Tensor *dy)
{
    UnaryGrad g = unary_grad(n, dy, n->inputs[0]);
    double e = n->scalar[0];
    if (e == 0) {
        memset(g.dx, 0, (size_t)g.n * sizeof *g.dx);
    } else {
        pow_values(g.dx, g.v, g.n, e - 1);
        for (int64_t i = 0; i < g.n; i++) g.dx[i] = g.dy[i] * ((float)e * g.dx[i]);
    }
    unary_grad_done(n, &g);
}

/* forward: y = exp(x);  backward: dx = dy * y */
Tensor *tensor_exp(const Tensor *a)
{
    const float *x;
    if (!TENSOR__USABLE(a)) return NULL;
    Tensor *out = UNARY_BEGIN(a, &x);
    if (!out) return NULL;
    for (int64_t i = 0; i < out->numel; i++) out->data[i] = expf(x[i]);
    return unary_end(OP_EXP, out, a, 0);
}

void tensor__exp_backward(TensorNode *n, const Tensor *dy)
{
    UnaryGrad g = unary_grad(n, dy, n->out);
    for (int64_t i = 0; i < g.n; i++) g.dx[i] = g.dy[i] * g.v[i];
    unary_grad_done(n, &g);
}

/* forward: y = log(x);  backward: dx = dy / x */
Tensor *tensor_log(const Tensor *a)
{
    const float *x;
    if (!TENSOR__USABLE(a)) return NULL;
    Tensor *out = UNARY_BEGIN(a, &x);
    if (!out) return NULL;
    for (int64_t i = 0; i < out->numel; i++) out->data[i] = logf(x[i]);
    return unary_end(OP_LOG, out, a, 0);
}

void tensor__log_backward(TensorNode *n, const Tensor *dy)
{
    UnaryGrad g = unary_grad(n, dy, n->inputs[0]);
    for (int64_t i = 0; i < g.n; i++) g.dx[i] = g.dy[i] / g.v[i];
    unary_grad_done(n, &g);
}

/* forward: y = sqrt(x);  backward: dx = dy / (2 y) */
Tensor *tensor_sqrt(const Tensor *a)
{
    const float *x;
    if (!TENSOR__USABLE(a)) return NULL;
    Tensor *out = UNARY_BEGIN(a, &x);
    if (!out) return NULL;
    for (int64_t i = 0; i < out->numel; i++) out->data[i] = sqrtf(x[i]);
    return unary_end(OP_SQRT, out, a, 0);
}

void tensor__sqrt_backward(TensorNode *n, const Tensor *dy)
{
    UnaryGrad g = unary_grad(n, dy, n->out);
    for (int64_t i = 0; i < g.n; i++) g.dx[i] = g.dy[i] / (2.0f * g.v[i]);
    unary_grad_done(n, &g);
}

/* forward: y = |x|;  backward: dx = dy * sign(x), sign(0) = 0 as PyTorch */
Tensor *tensor_abs(const Tensor *a)
{
    const float *x;
    if (!TENSOR__USABLE(a)) return NULL;
    Tensor *out = UNARY_BEGIN(a, &x);
    if (!out) return NULL;
    for (int64_t i = 0; i < out->numel; i++) out->data[i] = fabsf(x[i]);
    return unary_end(OP_ABS, out, a, 0);
}

void tensor__abs_backward(TensorNode *n, const Tensor *dy)
{
    UnaryGrad g = unary_grad(n, dy, n->inputs[0]);
    for (int64_t i = 0; i < g.n; i++) {
        float x = g.v[i], sign = (float)((x > 0) - (x < 0));
        g.dx[i] = g.dy[i] * sign;
    }
    unary_grad_done(n, &g);
}

/* forward: y = min(max(x, lo), hi), NaN stays NaN, hi wins when lo > hi;
 * backward: dx = dy where lo <= x <= hi, else 0 (PyTorch's subgradient 1 at
 * the bounds; 0 at a NaN, as PyTorch, even with no bound).  -INFINITY /
 * +INFINITY mean no bound. */
Tensor *tensor_clamp(const Tensor *a, float min, float max)
{
    const float *x;
    if (!TENSOR__USABLE(a)) return NULL;
    Tensor *out = UNARY_BEGIN(a, &x);
    if (!out) return NULL;
    for (int64_t i = 0; i < out->numel; i++) {
        float v = x[i] < min ? min : x[i];
        out->data[i] = v > max ? max : v;
    }
    TensorNode *n = tensor__record(OP_CLAMP, out, 1, (const Tensor *[]){a});
    if (n) {
        n->scalar[0] = min;
        n->scalar[1] = max;
    }
    return tensor__result(out);
}

void tensor__clamp_backward(TensorNode *n, const Tensor *dy)
{
    UnaryGrad g = unary_grad(n, dy, n->inputs[0]);
    float lo = (float)n->scalar[0], hi = (float)n->scalar[1];
    for (int64_t i = 0; i < g.n; i++) g.dx[i] = g.v[i] >= lo && g.v[i] <= hi ? g.dy[i] : 0.0f;
    unary_grad_done(n, &g);
}

/* forward: y = x (a new contiguous tensor);  backward: dx = dy */
Tensor *tensor_clone(const Tensor *a)
{
    const float *x;
    if (!TENSOR__USABLE(a)) return NULL;
    Tensor *out = UNARY_BEGIN(a, &x);
    if (!out) return NULL;
    memcpy(out->data, x, (size_t)out->numel * sizeof *x);
    return unary_end(OP_CLONE, out, a, 0);
}

void tensor__clone_backward(TensorNode *n, const Tensor *dy)
{
    tensor__pass_grad(n, 0, dy);
}

/* ---- activations ------------------------------------------------------------ */

/* forward: y = tanh(x);  backward: dx = dy * (1 - y^2) */
Tensor *tensor_tanh(const Tensor *a)
{
    const float *x;
    if (!TENSOR__USABLE(a)) return NULL;
    Tensor *out = UNARY_BEGIN(a, &x);
    if (!out) return NULL;
    for (int64_t i = 0; i < out->numel; i++) out->data[i] = tanhf(x[i]);
    return unary_end(OP_TANH, out, a, 0);
}

void tensor__tanh_backward(TensorNode *n, const Tensor *dy)
{
    UnaryGrad g = unary_grad(n, dy, n->out);
    for (int64_t i = 0; i < g.n; i++) g.dx[i] = g.dy[i] * (1.0f - g.v[i] * g.v[i]);
    unary_grad_done(n, &g);
}

/* forward: y = 1 / (1 + exp(-x));  backward: dx = dy * (1 - y) * y */
Tensor *tensor_sigmoid(const Tensor *a)
{
    const float *x;
    if (!TENSOR__USABLE(a)) return NULL;
    Tensor *out = UNARY_BEGIN(a, &x);
    if (!out) return NULL;
    for (int64_t i = 0; i < out->numel; i++) out->data[i] = 1.0f / (1.0f + expf(-x[i]));
    return unary_end(OP_SIGMOID, out, a, 0);
}

void tensor__sigmoid_backward(TensorNode *n, const Tensor *dy)
{
    UnaryGrad g = unary_grad(n, dy, n->out);
    for (int64_t i = 0; i < g.n; i++) g.dx[i] = g.dy[i] * (1.0f - g.v[i]) * g.v[i];
    unary_grad_done(n, &g);
}

/* forward: y = max(x, 0), NaN stays NaN;  backward: dx = 0 where y <= 0,
 * else dy (torch's threshold_backward: a NaN passes its gradient) */
Tensor *tensor_relu(const Tensor *a)
{
    const float *x;
    if (!TENSOR__USABLE(a)) return NULL;
    Tensor *out = UNARY_BEGIN(a, &x);
    if (!out) return NULL;
    for (int64_t i = 0; i < out->numel; i++) out->data[i] = x[i] < 0 ? 0.0f : x[i];
    return unary_end(OP_RELU, out, a, 0);
}

void tensor__relu_backward(TensorNode *n, const Tensor *dy)
{
    UnaryGrad g = unary_grad(n, dy, n->out);
    for (int64_t i = 0; i < g.n; i++) g.dx[i] = g.v[i] <= 0 ? 0.0f : g.dy[i];
    unary_grad_done(n, &g);
}

/* GELU's chunks of work (elements), and the size from which they spread
 * over the threads.  Measured with bench_gelu_norm's sizes on a shared
 * 2-core Zen 4 (best of 300 calls): below about 200 us of work (2^18
 * elements) the second thread did not start before the caller had done
 * every chunk; from 2^19 (bytes_toy's GELU, 400 us) the forward ran 1.8 to
 * 1.9x faster, the backward 1.2x. */
enum { GELU_CHUNK = 1 << 14, GELU_PARALLEL_NUMEL = 1 << 19 };

/* One GELU pass over n elements, forward (y, and t unless NULL) or
 * backward (dx from dy, and t unless NULL), in chunks. */
typedef struct {
    const TensorGeluKernels *k;
    const float *x, *dy;
    float *y, *t, *dx;
    int64_t n;
} GeluPass;

static int64_t gelu_chunk(const GeluPass *p, int64_t c, int64_t *len)
{
    int64_t i = c * GELU_CHUNK;
    *len = p->n - i < GELU_CHUNK ? p->n - i : GELU_CHUNK;
    return i;
}

static void gelu_forward_chunk(void *ctx, int64_t c, int worker)
{
    const GeluPass *p = ctx;
    int64_t len, i = gelu_chunk(p, c, &len);
    p->k->forward(p->x + i, p->y + i, p->t ? p->t + i : NULL, len);
    (void)worker;
}

static void gelu_backward_chunk(void *ctx, int64_t c, int worker)
{
    const GeluPass *p = ctx;
    int64_t len, i = gelu_chunk(p, c, &len);
    p->k->backward(p->x + i, p->t ? p->t + i : NULL, p->dy + i, p->dx + i, len);
    (void)worker;
}

static void gelu_run(GeluPass *p, TensorTask task)
{
    p->k = tensor__gelu_kernels();
    int threads = p->n >= GELU_PARALLEL_NUMEL ? tensor_get_num_threads() : 1;
    tensor__parallel_for((p->n + GELU_CHUNK - 1) / GELU_CHUNK, threads, task, p);
}

/* forward: y = gelu(x) = 0.5 x (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
 * backward: dx = dy * gelu'(x),
 *   gelu'(x) = 0.5 (1 + tanh(u)) + 0.5 x (1 - tanh(u)^2) sqrt(2/pi) (1 + 3 0.044715 x^2)
 * in PyTorch's float32 operation order, with a vectorised tanh within 1 ulp
 * (kernels/gelu.c).  When a backward will run, the forward keeps tanh(u)
 * (saved[0]) for it. */
Tensor *tensor_gelu(const Tensor *a)
{
    const float *x;
    if (!TENSOR__USABLE(a)) return NULL;
    Tensor *out = UNARY_BEGIN(a, &x);
    if (!out) return NULL;
    bool keep = tensor__needs_grad(1, (const Tensor *[]){a});
    Tensor *th = keep ? tensor__alloc_result("gelu", out->ndim, out->shape) : NULL;
    if (keep && !th) return NULL;
    GeluPass p = {.x = x, .y = out->data, .t = th ? th->data : NULL, .n = out->numel};
    gelu_run(&p, gelu_forward_chunk);
    Tensor *r = unary_end(OP_GELU, out, a, 0);
    TensorNode *n = r ? r->grad_fn : NULL;
    if (n) n->saved[0] = th;
    return r;
}

void tensor__gelu_backward(TensorNode *n, const Tensor *dy)
{
    UnaryGrad g = unary_grad(n, dy, n->inputs[0]);
    GeluPass p = {.x = g.v, .dy = g.dy, .dx = g.dx, .n = g.n,
                  .t = n->saved[0] ? n->saved[0]->data : NULL};
    gelu_run(&p, gelu_backward_chunk);
    unary_grad_done(n, &g);
}
