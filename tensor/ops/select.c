/*
 * Ops that pick elements between tensors, with NumPy broadcasting:
 * where(cond, a, b), maximum and minimum.  Each forward sits above its
 * backward.  Every operand is read as the broadcast shape (a row-major copy
 * when it is not already that); the gradients are summed back down to each
 * input's shape by tensor__accumulate_grad.
 */
#include "core/tensor_internal.h"

#include <math.h>
#include <string.h>

/* The broadcast shape of three tensors (c may be NULL); -1 with a message. */
static int broadcast3(const Tensor *c, const Tensor *a, const Tensor *b, const char *op, int *ndim,
                      int64_t *shape)
{
    if (tensor__broadcast_shape(a, b, op, ndim, shape)) return -1;
    if (!c) return 0;
    Tensor ab = {.ndim = *ndim};
    memcpy(ab.shape, shape, sizeof ab.shape);
    return tensor__broadcast_shape(c, &ab, op, ndim, shape);
}

/* ---- where ------------------------------------------------------------------ */

/* forward: y = cond != 0 ? a : b (cond holds no gradient);
 * backward: da = dy where cond, 0 elsewhere; db = dy where !cond */
Tensor *tensor_where(const Tensor *cond, const Tensor *a, const Tensor *b)
{
    if (!TENSOR__USABLE(cond) || !TENSOR__USABLE(a) || !TENSOR__USABLE(b)) return NULL;
    int ndim;
    int64_t shape[TENSOR_MAX_DIMS];
    if (broadcast3(cond, a, b, "where", &ndim, shape)) return NULL;
    Tensor *out = tensor__alloc_result("where", ndim, shape);
    const float *c = out ? tensor__input_data("where", cond, ndim, shape) : NULL;
    const float *x = c ? tensor__input_data("where", a, ndim, shape) : NULL;
    const float *y = x ? tensor__input_data("where", b, ndim, shape) : NULL;
    if (!y) return NULL;
    for (int64_t i = 0; i < out->numel; i++) out->data[i] = c[i] != 0 ? x[i] : y[i];
    TensorNode *n = tensor__record(OP_WHERE, out, 2, (const Tensor *[]){a, b});
    if (n) n->saved[0] = (Tensor *)cond;
    return tensor__result(out);
}

void tensor__where_backward(TensorNode *n, const Tensor *dy)
{
    const float *c = tensor__broadcast_data(n->saved[0], dy->ndim, dy->shape);
    const float *g = tensor__contiguous_data(dy);
    for (int side = 0; side < 2; side++) {
        if (!n->inputs[side]->requires_grad) continue;
        Tensor *d = tensor__alloc(dy->ndim, dy->shape);
        for (int64_t i = 0; i < d->numel; i++) d->data[i] = (c[i] != 0) == (side == 0) ? g[i] : 0;
        tensor__accumulate_grad(n->inputs[side], d);
    }
}

/* ---- maximum and minimum ------------------------------------------------------ */

/* ival[EXTREMUM_IS_MAX]: 1 for maximum, 0 for minimum.  NaN wins, as in PyTorch. */
enum { EXTREMUM_IS_MAX = 0 };
static Tensor *extremum(TensorOp op, const char *name, const Tensor *a, const Tensor *b, bool max)
{
    if (!tensor__usable(a, name) || !tensor__usable(b, name)) return NULL;
    int ndim;
    int64_t shape[TENSOR_MAX_DIMS];
    if (broadcast3(NULL, a, b, name, &ndim, shape)) return NULL;
    Tensor *out = tensor__alloc_result(name, ndim, shape);
    const float *x = out ? tensor__input_data(name, a, ndim, shape) : NULL;
    const float *y = x ? tensor__input_data(name, b, ndim, shape) : NULL;
    if (!y) return NULL;
    for (int64_t i = 0; i < out->numel; i++) {
        float p = x[i], q = y[i];
        out->data[i] = isnan(p) || isnan(q) ? p + q : max ? (p > q ? p : q) : (p < q ? p : q);
    }
    TensorNode *n = tensor__record(op, out, 2, (const Tensor *[]){a, b});
    if (n) n->ival[EXTREMUM_IS_MAX] = max;
    return tensor__result(out);
}

/* PyTorch's rule: each side gets dy where it is the pick, half of dy at a
 * tie; the side that lost gets 0 (a comparison with NaN loses nowhere). */
static void extremum_backward(TensorNode *n, const Tensor *dy)
{
    bool max = n->ival[EXTREMUM_IS_MAX];
    const float *x = tensor__broadcast_data(n->inputs[0], dy->ndim, dy->shape);
    const float *y = tensor__broadcast_data(n->inputs[1], dy->ndim, dy->shape);
    const float *g = tensor__contiguous_data(dy);
    for (int side = 0; side < 2; side++) {
        if (!n->inputs[side]->requires_grad) continue;
        const float *self = side == 0 ? x : y, *other = side == 0 ? y : x;
        Tensor *d = tensor__alloc(dy->ndim, dy->shape);
        for (int64_t i = 0; i < d->numel; i++) {
            bool lost = max ? self[i] < other[i] : self[i] > other[i];
            d->data[i] = lost ? 0.0f : self[i] == other[i] ? g[i] / 2 : g[i];
        }
        tensor__accumulate_grad(n->inputs[side], d);
    }
}

/* forward: y = max(a, b) elementwise;  backward: see extremum_backward */
Tensor *tensor_maximum(const Tensor *a, const Tensor *b)
{
    return extremum(OP_MAXIMUM, "maximum", a, b, true);
}

void tensor__maximum_backward(TensorNode *n, const Tensor *dy) { extremum_backward(n, dy); }

/* forward: y = min(a, b) elementwise;  backward: see extremum_backward */
Tensor *tensor_minimum(const Tensor *a, const Tensor *b)
{
    return extremum(OP_MINIMUM, "minimum", a, b, false);
}

void tensor__minimum_backward(TensorNode *n, const Tensor *dy) { extremum_backward(n, dy); }
