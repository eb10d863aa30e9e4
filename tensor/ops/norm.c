/*
 * Layer normalisation over the last dim, forward and backward side by side,
 * fused: one pass computes each row's mean and 1/std, which the backward
 * reuses, instead of the six nodes of the book's composite
 * (mean, sub, var, add eps, sqrt, div).
 *
 *   forward, per row x of n values (the last dim):
 *     mean = sum(x) / n,  var = sum((x - mean)^2) / n   (biased, as the book's
 *     LayerNorm and torch.nn.functional.layer_norm),  rstd = 1 / sqrt(var + eps)
 *     xhat = (x - mean) * rstd,  y = xhat * weight + bias
 *
 * The sums are taken in double and rounded once to float, so mean and rstd
 * are the correctly rounded float values of the row's statistics; the book's
 * composite rounds at every step, and the two agree within float32 rounding
 * (tests/test_norm.c checks it against PyTorch).  Derivation of the backward:
 * docs/adding_an_op.md.
 */
#include "core/internal.h"

#include <math.h>
#include <string.h>

/* x's rows (contiguous copy when x is strided): mean and rstd per row, and y. */
static void layer_norm_rows(const float *x, const float *w, const float *b, int64_t rows,
                            int64_t n, double eps, float *y, float *mean, float *rstd)
{
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        double s = 0;
        for (int64_t i = 0; i < n; i++) s += xr[i];
        double m = s / (double)n, v = 0;
        for (int64_t i = 0; i < n; i++) v += ((double)xr[i] - m) * ((double)xr[i] - m);
        mean[r] = (float)m;
        rstd[r] = (float)(1.0 / sqrt(v / (double)n + eps));
        float *yr = y + r * n;
        for (int64_t i = 0; i < n; i++) {
            float xhat = (xr[i] - mean[r]) * rstd[r];
            yr[i] = (w ? xhat * w[i] : xhat) + (b ? b[i] : 0.0f);
        }
    }
}

static bool layer_norm_check(const Tensor *x, const Tensor *w, const Tensor *b, double eps)
{
    if (x->ndim < 1)
        return tensor_set_error("layer_norm: input %s must have at least one dim",
                                tensor_shape_str(x)),
               false;
    int64_t n = x->shape[x->ndim - 1];
    const Tensor *p[2] = {w, b};
    const char *what[2] = {"weight", "bias"};
    for (int k = 0; k < 2; k++)
        if (p[k] && (p[k]->ndim != 1 || p[k]->shape[0] != n))
            return tensor_set_error("layer_norm: %s %s must be (%lld) for input %s", what[k],
                                 tensor_shape_str(p[k]), (long long)n, tensor_shape_str(x)),
                   false;
    if (!(eps >= 0 && isfinite(eps)))
        return tensor_set_error("layer_norm: eps = %g for input %s must be finite and >= 0", eps,
                             tensor_shape_str(x)),
               false;
    return true;
}

Tensor *tensor_layer_norm(const Tensor *x, const Tensor *weight, const Tensor *bias, double eps)
{
    if (!TENSOR__USABLE(x) || (weight && !TENSOR__USABLE(weight)) ||
        (bias && !TENSOR__USABLE(bias)) || !layer_norm_check(x, weight, bias, eps))
        return NULL;
    int64_t n = x->shape[x->ndim - 1], rows = n ? x->numel / n : 0;
    Tensor *out = tensor__alloc(x->ndim, x->shape);
    int64_t stat_shape[1] = {rows};
    Tensor *mean = tensor__alloc(1, stat_shape), *rstd = tensor__alloc(1, stat_shape);
    layer_norm_rows(tensor__contiguous_data(x), weight ? tensor__contiguous_data(weight) : NULL,
                    bias ? tensor__contiguous_data(bias) : NULL, rows, n, eps, out->data,
                    mean->data, rstd->data);
    const Tensor *in[3] = {x, NULL, NULL};
    int k = 1;
    if (weight) in[k++] = weight;
    if (bias) in[k++] = bias;
    TensorNode *node = tensor__record(OP_LAYER_NORM, out, k, in);
    if (node) {
        node->saved[0] = mean;
        node->saved[1] = rstd;
        node->ival[0] = weight != NULL;
        node->ival[1] = bias != NULL;
    }
    return tensor__result(out);
}

/* forward: y = xhat * w + b,  xhat = (x - mean) * rstd, per row of n (last dim)
 * backward: with dxhat = dy * w (dy when there is no weight),
 *   dx += rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))   (means over the row)
 *   dw += sum over rows of dy * xhat,  db += sum over rows of dy
 * (derived in docs/adding_an_op.md) */
void layer_norm_backward(TensorNode *node, const Tensor *dy)
{
    const Tensor *x = node->inputs[0];
    Tensor *win = node->ival[0] ? node->inputs[1] : NULL;
    Tensor *bin = node->ival[1] ? node->inputs[1 + (int)node->ival[0]] : NULL;
    const float *mean = node->saved[0]->data, *rstd = node->saved[1]->data;
    int64_t n = x->shape[x->ndim - 1], rows = node->saved[0]->numel;
    const float *xs = tensor__contiguous_data(x), *g = tensor__contiguous_data(dy);
    const float *wd = win ? tensor__contiguous_data(win) : NULL;
    Tensor *dx = x->requires_grad ? tensor__alloc(x->ndim, x->shape) : NULL;
    Tensor *dw = win ? tensor__grad_buffer(win) : NULL, *db = bin ? tensor__grad_buffer(bin) : NULL;
    float *dxhat = tensor__scratch((size_t)(n ? n : 1) * sizeof *dxhat);
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = xs + r * n, *gr = g + r * n;
        double s1 = 0, s2 = 0;
        for (int64_t i = 0; i < n; i++) {
            float xhat = (xr[i] - mean[r]) * rstd[r];
            dxhat[i] = wd ? gr[i] * wd[i] : gr[i];
            s1 += dxhat[i];
            s2 += (double)dxhat[i] * xhat;
            if (dw) dw->data[i] += gr[i] * xhat;
            if (db) db->data[i] += gr[i];
        }
        if (!dx) continue;
        float m1 = (float)(s1 / (double)n), m2 = (float)(s2 / (double)n);
        for (int64_t i = 0; i < n; i++) {
            float xhat = (xr[i] - mean[r]) * rstd[r];
            dx->data[r * n + i] = rstd[r] * (dxhat[i] - m1 - xhat * m2);
        }
    }
    if (dx) tensor__accumulate_grad(node->inputs[0], dx);
}
