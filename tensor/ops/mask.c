/*
 * The masking ops causal attention needs: masked_fill, triu and tril,
 * forward and backward side by side.  masked_fill's backward selects (never
 * multiplies), so the NaN gradient of a fully masked softmax row stops at
 * the mask.
 */
#include "core/tensor_internal.h"

#include <string.h>

/* ---- masked_fill ---------------------------------------------------------- */

/* The mask must broadcast to a's shape without growing it. */
static int check_mask(const Tensor *a, const Tensor *mask)
{
    bool ok = mask->ndim <= a->ndim;
    for (int i = 0; ok && i < mask->ndim; i++) {
        int64_t sm = mask->shape[mask->ndim - 1 - i], sa = a->shape[a->ndim - 1 - i];
        ok = sm == sa || sm == 1;
    }
    if (ok) return 0;
    tensor_set_error("masked_fill: mask %s is not broadcastable to input %s",
                     tensor_shape_str(mask),
                  tensor_shape_str(a));
    return -1;
}

/*
 * The mask as a block of `inner` values that repeats along a's leading dims
 * (the batch, for a causal (T,T) mask over (B,T,T) scores), so it is read
 * (and copied, if strided) once per call rather than once per element.
 */
static const float *mask_block(const Tensor *a, const Tensor *mask, int64_t *inner)
{
    int lead = 0;
    for (; lead < a->ndim; lead++) {
        int im = lead - (a->ndim - mask->ndim);
        if (im >= 0 && mask->shape[im] != 1) break;
    }
    *inner = tensor__numel(a->ndim - lead, a->shape + lead);
    return tensor__broadcast_data(mask, a->ndim - lead, a->shape + lead);
}

/* out = m ? value : x, m repeating every `inner` elements of x (a select, so
 * whatever x holds under the mask, NaN included, does not get through). */
static void select_fill(const float *x, const float *m, int64_t numel, int64_t inner,
                        float value, float *out)
{
    for (int64_t o = 0; o < numel; o += inner, x += inner, out += inner)
        for (int64_t i = 0; i < inner; i++) out[i] = m[i] != 0.0f ? value : x[i];
}

Tensor *tensor_masked_fill(const Tensor *a, const Tensor *mask, float value)
{
    if (!TENSOR__USABLE(a) || !TENSOR__USABLE(mask)) return NULL;
    if (check_mask(a, mask)) return NULL;
    int64_t inner;
    const float *m = mask_block(a, mask, &inner);
    Tensor *out = tensor__alloc_result("masked_fill", a->ndim, a->shape);
    const float *x = out ? TENSOR__INPUT("masked_fill", a) : NULL;
    if (!x) return NULL;
    select_fill(x, m, out->numel, inner, value, out->data);
    /* Only a is an input: the mask is a constant and gets no gradient. */
    TensorNode *n = tensor__record(OP_MASKED_FILL, out, 1, &a);
    if (n) n->saved[0] = (Tensor *)mask;
    return out;
}

/* forward: y = mask ? value : x;  backward: dx = mask ? 0 : dy */
void tensor__masked_fill_backward(TensorNode *n, const Tensor *grad_out)
{
    const Tensor *x = n->inputs[0];
    int64_t inner;
    const float *m = mask_block(x, n->saved[0], &inner);
    Tensor *dx = tensor__alloc(x->ndim, x->shape);
    select_fill(tensor__contiguous_data(grad_out), m, dx->numel, inner, 0.0f, dx->data);
    tensor__accumulate_grad(n->inputs[0], dx);
}

/* ---- triu, tril ----------------------------------------------------------- */

/* Keeps the elements of each (rows, cols) matrix with col - row >= diagonal
 * (upper) or <= diagonal (lower); zeroes the others. */
static void triangle(const float *src, float *dst, int64_t numel, int64_t rows, int64_t cols,
                     int64_t diagonal, bool upper)
{
    int64_t per = rows * cols;
    for (int64_t b = 0; per && b < numel / per; b++) {
        for (int64_t i = 0; i < rows; i++) {
            const float *s = src + b * per + i * cols;
            float *d = dst + b * per + i * cols;
            for (int64_t j = 0; j < cols; j++) {
                bool keep = upper ? j - i >= diagonal : j - i <= diagonal;
                d[j] = keep ? s[j] : 0.0f;
            }
        }
    }
}

static Tensor *triangle_op(const Tensor *a, int diagonal, bool upper)
{
    if (!TENSOR__USABLE(a)) return NULL;
    if (a->ndim < 2)
        return tensor_set_error("%s: input %s must have at least 2 dims",
                             upper ? "triu" : "tril", tensor_shape_str(a));
    const char *op = upper ? "triu" : "tril";
    Tensor *out = tensor__alloc_result(op, a->ndim, a->shape);
    const float *x = out ? TENSOR__INPUT(op, a) : NULL;
    if (!x) return NULL;
    triangle(x, out->data, a->numel, a->shape[a->ndim - 2], a->shape[a->ndim - 1], diagonal,
             upper);
    TensorNode *n = tensor__record(upper ? OP_TRIU : OP_TRIL, out, 1, &a);
    if (n) n->ival[0] = diagonal;
    return out;
}

Tensor *tensor_triu(const Tensor *a, int diagonal) { return triangle_op(a, diagonal, true); }
Tensor *tensor_tril(const Tensor *a, int diagonal) { return triangle_op(a, diagonal, false); }

static void triangle_backward(TensorNode *n, const Tensor *grad_out, bool upper)
{
    const Tensor *x = n->inputs[0];
    Tensor *dx = tensor__alloc(x->ndim, x->shape);
    triangle(tensor__contiguous_data(grad_out), dx->data, dx->numel, x->shape[x->ndim - 2],
             x->shape[x->ndim - 1], n->ival[0], upper);
    tensor__accumulate_grad(n->inputs[0], dx);
}

/* forward: y = triu(x, k);  backward: dx = triu(dy, k) */
void tensor__triu_backward(TensorNode *n, const Tensor *grad_out)
{
    triangle_backward(n, grad_out, true);
}

/* forward: y = tril(x, k);  backward: dx = tril(dy, k) */
void tensor__tril_backward(TensorNode *n, const Tensor *grad_out)
{
    triangle_backward(n, grad_out, false);
}
