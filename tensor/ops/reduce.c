/*
 * Reductions: sum, mean, max (with indices), argmax and var, over all
 * elements or along one dim.  Each forward sits above its backward.
 *
 * A reduction along dim reads its input in row-major order as a
 * (outer, size, inner) block: size is the reduced dim, outer the dims before
 * it, inner the dims after.  A reduction over all elements is the same with
 * outer = inner = 1.  Non-contiguous inputs are read through one row-major
 * copy.
 *
 * Sums accumulate in double and round once, so a float32 result is the
 * correctly rounded sum in nearly every case; PyTorch's pairwise float sums
 * stay within about 1e-7 relative of it for data without cancellation.
 * Means divide the rounded float sum by the count, as PyTorch does.  Var
 * works in double (two passes: mean, then squared deviations), as PyTorch's
 * Welford and two-pass kernels do.
 */
#include "core/tensor_internal.h"
#include "kernels/kernels.h"

#include <math.h>
#include <string.h>

static TensorBlock block_all(const Tensor *a) { return (TensorBlock){1, a->numel, 1}; }

/* The result of reducing dim of a: that dim removed, or kept with size 1;
 * NULL with a message naming op when it does not fit in memory. */
static Tensor *reduced_alloc(const char *op, const Tensor *a, int dim, bool keepdim)
{
    int64_t shape[TENSOR_MAX_DIMS];
    int ndim = 0;
    for (int d = 0; d < a->ndim; d++) {
        if (d != dim) shape[ndim++] = a->shape[d];
        else if (keepdim) shape[ndim++] = 1;
    }
    return tensor__alloc_result(op, ndim, shape);
}

/* acc[o * inner + i] = sum over k of x[(o * size + k) * inner + i], in double. */
static double *block_sums(const float *x, TensorBlock b)
{
    double *acc = tensor__scratch((size_t)(b.outer * b.inner) * sizeof *acc);
    for (int64_t o = 0; o < b.outer; o++) {
        double *row = acc + o * b.inner;
        const float *xo = x + o * b.size * b.inner;
        if (b.inner == 1) {
            row[0] = tensor__sum_f64(xo, b.size);
            continue;
        }
        memset(row, 0, (size_t)b.inner * sizeof *row);
        for (int64_t k = 0; k < b.size; k++)
            for (int64_t i = 0; i < b.inner; i++) row[i] += xo[k * b.inner + i];
    }
    return acc;
}

/* out[j] = (float)acc[j] / div, dividing the rounded sum as PyTorch's mean does. */
static void store_sums(Tensor *out, const double *acc, int64_t div)
{
    for (int64_t j = 0; j < out->numel; j++) out->data[j] = (float)acc[j] / (float)div;
}

/* dx (shaped like x): dx[o, k, i] = dy[o, i] / div; the backward of sum and mean. */
static Tensor *spread(const Tensor *dy, const Tensor *x, TensorBlock b, int64_t div)
{
    const float *g = tensor__contiguous_data(dy);
    Tensor *dx = tensor__alloc(x->ndim, x->shape);
    float d = (float)div;
    for (int64_t o = 0; o < b.outer; o++)
        for (int64_t k = 0; k < b.size; k++) {
            float *row = dx->data + (o * b.size + k) * b.inner;
            for (int64_t i = 0; i < b.inner; i++) row[i] = g[o * b.inner + i] / d;
        }
    return dx;
}

/* The sum of all of a's elements, in double: the dims a was expanded along
 * (stride 0) repeat one value, so they are counted, not read, and
 * sum(expand(x, (n, ...))) is n times the sum of x's elements, without a
 * copy of the expanded view (which may be far larger than memory).  A view
 * without such dims is summed as its row-major copy is.  false with a
 * message naming op when that copy does not fit in memory. */
static bool sum_all(const char *op, const Tensor *a, double *sum)
{
    int64_t shape[TENSOR_MAX_DIMS], stride[TENSOR_MAX_DIMS];
    int nd = 0;
    double times = 1;
    for (int d = 0; d < a->ndim; d++) {
        if (a->stride[d] == 0 && a->shape[d] > 0) {
            times *= (double)a->shape[d];
            continue;
        }
        shape[nd] = a->shape[d];
        stride[nd++] = a->stride[d];
    }
    const Tensor *read = nd == a->ndim ? a : tensor__view_of(a, nd, shape, stride, a->offset);
    const float *x = TENSOR__INPUT(op, read);
    if (!x) return false;
    *sum = tensor__sum_f64(x, read->numel) * times;
    return true;
}

/* Shared by sum, sum_dim, mean, mean_dim: ival[0] holds the dim (-1 for all). */
static Tensor *sum_or_mean(TensorOp op, const Tensor *a, int dim, bool keepdim, bool mean)
{
    const char *name = op == OP_SUM ? "sum" : op == OP_SUM_DIM ? "sum_dim"
                     : op == OP_MEAN ? "mean" : "mean_dim";
    TensorBlock b = dim < 0 ? block_all(a) : tensor__block_at(a, dim);
    Tensor *out = dim < 0 ? tensor__alloc(0, NULL) : reduced_alloc(name, a, dim, keepdim);
    if (!out) return NULL;
    if (dim < 0) {
        double sum;
        if (!sum_all(name, a, &sum)) return NULL;
        store_sums(out, &sum, mean ? b.size : 1);
    } else {
        const float *x = TENSOR__INPUT(name, a);
        if (!x) return NULL;
        store_sums(out, block_sums(x, b), mean ? b.size : 1);
    }
    TensorNode *n = tensor__record(op, out, 1, (const Tensor *[]){a});
    if (n) n->ival[0] = dim;
    return tensor__result(out);
}

static TensorBlock node_block(const TensorNode *n)
{
    const Tensor *x = n->inputs[0];
    return n->ival[0] < 0 ? block_all(x) : tensor__block_at(x, (int)n->ival[0]);
}

/* forward: y = sum(x) (0-d);  backward: dx = dy everywhere */
Tensor *tensor_sum(const Tensor *a)
{
    return TENSOR__USABLE(a) ? sum_or_mean(OP_SUM, a, -1, false, false) : NULL;
}

void tensor__sum_backward(TensorNode *n, const Tensor *dy)
{
    tensor__accumulate_grad(n->inputs[0], spread(dy, n->inputs[0], node_block(n), 1));
}

/* forward: y[o, i] = sum_k x[o, k, i];  backward: dx[o, k, i] = dy[o, i] */
Tensor *tensor_sum_dim(const Tensor *a, int dim, bool keepdim)
{
    if (!TENSOR__USABLE(a)) return NULL;
    int d = tensor__wrap_dim(a, dim, 0, "sum_dim");
    return d < 0 ? NULL : sum_or_mean(OP_SUM_DIM, a, d, keepdim, false);
}

void tensor__sum_dim_backward(TensorNode *n, const Tensor *dy) { tensor__sum_backward(n, dy); }

/* forward: y = sum(x) / numel (0-d; NaN when empty);  backward: dx = dy / numel */
Tensor *tensor_mean(const Tensor *a)
{
    return TENSOR__USABLE(a) ? sum_or_mean(OP_MEAN, a, -1, false, true) : NULL;
}

void tensor__mean_backward(TensorNode *n, const Tensor *dy)
{
    TensorBlock b = node_block(n);
    tensor__accumulate_grad(n->inputs[0], spread(dy, n->inputs[0], b, b.size));
}

/* forward: y[o, i] = sum_k x[o, k, i] / size;  backward: dx[o, k, i] = dy[o, i] / size */
Tensor *tensor_mean_dim(const Tensor *a, int dim, bool keepdim)
{
    if (!TENSOR__USABLE(a)) return NULL;
    int d = tensor__wrap_dim(a, dim, 0, "mean_dim");
    return d < 0 ? NULL : sum_or_mean(OP_MEAN_DIM, a, d, keepdim, true);
}

void tensor__mean_dim_backward(TensorNode *n, const Tensor *dy) { tensor__mean_backward(n, dy); }

/* ---- max and argmax ---------------------------------------------------------- */

/* For each (o, i): the first index of the largest value along k, or of the
 * first NaN (which wins, as in PyTorch).  val may be NULL. */
static void block_argmax(const float *x, TensorBlock b, float *val, float *idx)
{
    for (int64_t o = 0; o < b.outer; o++)
        for (int64_t i = 0; i < b.inner; i++) {
            const float *p = x + o * b.size * b.inner + i;
            float best = p[0];
            int64_t at = 0;
            for (int64_t k = 1; k < b.size && !isnan(best); k++) {
                float v = p[k * b.inner];
                if (!(v <= best)) {   /* greater, or NaN */
                    best = v;
                    at = k;
                }
            }
            if (val) val[o * b.inner + i] = best;
            idx[o * b.inner + i] = (float)at;
        }
}

/* Wraps dim and refuses an empty reduced dim (there is no max of nothing). */
static int max_dim_check(const Tensor *a, int dim, const char *op)
{
    int d = tensor__wrap_dim(a, dim, 0, op);
    if (d >= 0 && a->ndim > 0 && a->shape[d] == 0) {
        tensor_set_error("%s: dim %d of %s has size 0; the reduction needs at least one element",
                      op, dim, tensor_shape_str(a));
        return -1;
    }
    return d;
}

/* forward: y[o, i] = max_k x[o, k, i], j[o, i] = its first index;
 * backward: dx[o, j[o, i], i] = dy[o, i], zero elsewhere */
Tensor *tensor_max_dim(const Tensor *a, int dim, bool keepdim, Tensor **indices)
{
    if (indices) *indices = NULL;
    if (!TENSOR__USABLE(a)) return NULL;
    int d = max_dim_check(a, dim, "max_dim");
    if (d < 0) return NULL;
    Tensor *out = reduced_alloc("max_dim", a, d, keepdim);
    Tensor *idx = out ? reduced_alloc("max_dim", a, d, keepdim) : NULL;
    const float *x = idx ? TENSOR__INPUT("max_dim", a) : NULL;
    if (!x) return NULL;
    block_argmax(x, tensor__block_at(a, d), out->data, idx->data);
    TensorNode *n = tensor__record(OP_MAX_DIM, out, 1, (const Tensor *[]){a});
    if (n) {
        n->ival[0] = d;
        n->saved[0] = idx;
    }
    /* The caller gets a copy: the backward writes where the saved indices
     * point, so nothing outside may change them. */
    if (indices && n) {
        if (!(*indices = reduced_alloc("max_dim", a, d, keepdim))) return NULL;
        memcpy((*indices)->data, idx->data, (size_t)idx->numel * sizeof *idx->data);
    } else if (indices) {
        *indices = idx;
    }
    return out;
}

void tensor__max_dim_backward(TensorNode *n, const Tensor *dy)
{
    const Tensor *x = n->inputs[0];
    TensorBlock b = tensor__block_at(x, (int)n->ival[0]);
    const float *g = tensor__contiguous_data(dy), *idx = n->saved[0]->data;
    Tensor *dx = tensor_zeros(x->ndim, x->shape);
    for (int64_t o = 0; o < b.outer; o++)
        for (int64_t i = 0; i < b.inner; i++) {
            int64_t j = o * b.inner + i, k = (int64_t)idx[j];
            TENSOR__ASSERT(k >= 0 && k < b.size);
            dx->data[(o * b.size + k) * b.inner + i] = g[j];
        }
    tensor__accumulate_grad(n->inputs[0], dx);
}

/* Indices of the first maximum along dim, as floats; not differentiable. */
Tensor *tensor_argmax(const Tensor *a, int dim, bool keepdim)
{
    if (!TENSOR__USABLE(a)) return NULL;
    int d = max_dim_check(a, dim, "argmax");
    if (d < 0) return NULL;
    Tensor *idx = reduced_alloc("argmax", a, d, keepdim);
    const float *x = idx ? TENSOR__INPUT("argmax", a) : NULL;
    if (!x) return NULL;
    block_argmax(x, tensor__block_at(a, d), NULL, idx->data);
    return idx;
}

/* ---- variance ---------------------------------------------------------------- */

/* var[o, i] = sum_k (x[o, k, i] - mean[o, i])^2 / max(size - correction, 0),
 * in double.  A zero divisor gives inf, or NaN for a zero sum, as PyTorch. */
static void block_var(const float *x, TensorBlock b, int correction, float *out)
{
    double *mean = block_sums(x, b);
    double *m2 = tensor__scratch((size_t)(b.outer * b.inner) * sizeof *m2);
    memset(m2, 0, (size_t)(b.outer * b.inner) * sizeof *m2);
    for (int64_t j = 0; j < b.outer * b.inner; j++) mean[j] /= (double)b.size;
    for (int64_t o = 0; o < b.outer; o++)
        for (int64_t k = 0; k < b.size; k++)
            for (int64_t i = 0; i < b.inner; i++) {
                double dev = x[(o * b.size + k) * b.inner + i] - mean[o * b.inner + i];
                m2[o * b.inner + i] += dev * dev;
            }
    double dof = (double)b.size - correction;
    for (int64_t j = 0; j < b.outer * b.inner; j++)
        out[j] = (float)(m2[j] / (dof > 0 ? dof : 0));
}

/* A var node's slots: ival[VAR_ALONG] is 1 along a dim, 0 over all elements;
 * ival[VAR_DIM] that dim; scalar[VAR_CORRECTION] the correction. */
enum { VAR_ALONG = 0, VAR_DIM = 1 };
enum { VAR_CORRECTION = 0 };
static Tensor *var_common(const Tensor *a, int dim, int correction, bool keepdim)
{
    TensorBlock b = dim < 0 ? block_all(a) : tensor__block_at(a, dim);
    const char *op = dim < 0 ? "var" : "var_dim";
    Tensor *out = dim < 0 ? tensor__alloc(0, NULL) : reduced_alloc(op, a, dim, keepdim);
    const float *x = out ? TENSOR__INPUT(op, a) : NULL;
    if (!x) return NULL;
    block_var(x, b, correction, out->data);
    TensorNode *n = tensor__record(OP_VAR, out, 1, (const Tensor *[]){a});
    if (n) {
        n->ival[VAR_ALONG] = dim >= 0;
        n->ival[VAR_DIM] = dim;
        n->scalar[VAR_CORRECTION] = correction;
    }
    return tensor__result(out);
}

/* forward: y = sum((x - mean(x))^2) / (numel - correction) (0-d) */
Tensor *tensor_var(const Tensor *a, int correction)
{
    return TENSOR__USABLE(a) ? var_common(a, -1, correction, false) : NULL;
}

/* forward: y[o, i] = sum_k (x[o, k, i] - mean_k x)^2 / (size - correction) */
Tensor *tensor_var_dim(const Tensor *a, int dim, int correction, bool keepdim)
{
    if (!TENSOR__USABLE(a)) return NULL;
    int d = tensor__wrap_dim(a, dim, 0, "var_dim");
    return d < 0 ? NULL : var_common(a, d, correction, keepdim);
}

/* backward: dx[o, k, i] = (2 / (size - correction)) * dy[o, i] * (x[o, k, i] - mean[o, i]),
 * the mean taken in float32 as PyTorch's backward takes it */
void tensor__var_backward(TensorNode *n, const Tensor *dy)
{
    const Tensor *x = n->inputs[0];
    TensorBlock b = n->ival[VAR_ALONG] ? tensor__block_at(x, (int)n->ival[VAR_DIM]) : block_all(x);
    const float *xs = tensor__contiguous_data(x), *g = tensor__contiguous_data(dy);
    double *sums = block_sums(xs, b);
    float scale = (float)(2.0 / ((double)b.size - n->scalar[VAR_CORRECTION]));
    Tensor *dx = tensor__alloc(x->ndim, x->shape);
    for (int64_t o = 0; o < b.outer; o++)
        for (int64_t i = 0; i < b.inner; i++) {
            int64_t j = o * b.inner + i;
            float mean = (float)sums[j] / (float)b.size, gj = scale * g[j];
            for (int64_t k = 0; k < b.size; k++) {
                int64_t at = (o * b.size + k) * b.inner + i;
                dx->data[at] = gj * (xs[at] - mean);
            }
        }
    tensor__accumulate_grad(n->inputs[0], dx);
}

/* ---- over several dims ---------------------------------------------------------- */

/* An op made of others (sum_dims, min_dim, std ...) returns out, whose node,
 * the last of its ops', carries the name torch's single op prints for the
 * call: tensor_grad_fn_name and print show PyTorch's grad_fn. */
static Tensor *composed(Tensor *out, const Tensor *a, const char *name)
{
    if (out && out != a && out->grad_fn) out->grad_fn->name = name;
    return out;
}

/* The dims as a bit mask (wrapped; each at most once); -1 with a message. */
static int64_t dims_mask(const Tensor *a, int n, const int64_t *dims, const char *op)
{
    if (n < 0 || (n > 0 && !dims))
        return tensor_set_error("%s: %d dims given%s", op, n, n > 0 ? " as NULL" : ""), -1;
    int64_t mask = 0;
    for (int i = 0; i < n; i++) {
        if (dims[i] < INT32_MIN || dims[i] > INT32_MAX)
            return tensor_set_error("%s: dim %lld out of range for %s", op, (long long)dims[i],
                                 tensor_shape_str(a)), -1;
        int d = tensor__wrap_dim(a, (int)dims[i], 0, op);
        if (d < 0) return -1;
        if (mask & (INT64_C(1) << d))
            return tensor_set_error("%s: dim %d appears more than once in %s", op, d,
                                 tensor__sizes_str(n, dims)), -1;
        mask |= INT64_C(1) << d;
    }
    return mask;
}

/* sum over each dim of mask, the highest first so the lower ones keep their
 * place; the reduced dims kept (size 1) or then removed. */
static Tensor *sum_over(const Tensor *a, int64_t mask, bool keepdim)
{
    const Tensor *t = a;
    for (int d = a->ndim - 1; d >= 0; d--)
        if (mask & (INT64_C(1) << d)) t = tensor_sum_dim(t, d, true);
    if (keepdim || !t) return (Tensor *)t;
    int64_t shape[TENSOR_MAX_DIMS];
    int ndim = 0;
    for (int d = 0; d < a->ndim; d++)
        if (!(mask & (INT64_C(1) << d))) shape[ndim++] = a->shape[d];
    return tensor_view(t, ndim, shape);
}

/* torch.sum(a, dims, keepdim): a sum_dim per dim (no dims: every dim),
 * the result's node named as torch's one op. */
Tensor *tensor_sum_dims(const Tensor *a, int n, const int64_t *dims, bool keepdim)
{
    if (!TENSOR__USABLE(a)) return NULL;
    int64_t mask = dims_mask(a, n, dims, "sum_dims");
    if (mask < 0) return NULL;
    return composed(sum_over(a, n ? mask : (INT64_C(1) << a->ndim) - 1, keepdim), a,
                    "SumBackward1");
}

/* torch.mean(a, dims, keepdim): the sum divided by the count it summed. */
Tensor *tensor_mean_dims(const Tensor *a, int n, const int64_t *dims, bool keepdim)
{
    if (!TENSOR__USABLE(a)) return NULL;
    int64_t mask = dims_mask(a, n, dims, "mean_dims");
    if (mask < 0) return NULL;
    if (!n) mask = (INT64_C(1) << a->ndim) - 1;
    int64_t count = 1;
    for (int d = 0; d < a->ndim; d++)
        if (mask & (INT64_C(1) << d)) count *= a->shape[d];
    return composed(tensor_div_scalar(sum_over(a, mask, keepdim), (float)count), a,
                    "MeanBackward1");
}

/* map[i]: the index in the (keepdim) result of a's row-major element i. */
static int64_t *result_index(const Tensor *a, int64_t mask, int64_t *out_numel)
{
    int64_t *map = tensor__scratch((size_t)(a->numel ? a->numel : 1) * sizeof *map);
    int64_t idx[TENSOR_MAX_DIMS] = {0}, ostride[TENSOR_MAX_DIMS], n = 1;
    for (int d = a->ndim - 1; d >= 0; d--) {
        ostride[d] = mask & (INT64_C(1) << d) ? 0 : n;
        n *= mask & (INT64_C(1) << d) ? 1 : a->shape[d];
    }
    *out_numel = n;
    for (int64_t i = 0, at = 0; i < a->numel; i++) {
        map[i] = at;
        for (int d = a->ndim - 1; d >= 0; d--) {   /* next index, row-major */
            at += ostride[d];
            if (++idx[d] < a->shape[d]) break;
            at -= ostride[d] * idx[d];
            idx[d] = 0;
        }
    }
    return map;
}

/* ival[DIMS_MASK]: the mask of reduced dims; saved[0]: the keepdim result. */
enum { DIMS_MASK = 0 };
Tensor *tensor_amax(const Tensor *a, int n, const int64_t *dims, bool keepdim)
{
    if (!TENSOR__USABLE(a)) return NULL;
    int64_t mask = dims_mask(a, n, dims, "amax");
    if (mask < 0) return NULL;
    if (!n) mask = (INT64_C(1) << a->ndim) - 1;
    int64_t shape[TENSOR_MAX_DIMS], out_numel;
    int ndim = 0;
    for (int d = 0; d < a->ndim; d++) {
        bool r = mask & (INT64_C(1) << d);
        if (r && a->shape[d] == 0)
            return tensor_set_error("amax: dim %d of %s has size 0; the reduction needs at least "
                                 "one element", d, tensor_shape_str(a));
        if (!r || keepdim) shape[ndim++] = r ? 1 : a->shape[d];
    }
    Tensor *out = tensor__alloc_result("amax", ndim, shape);
    const float *x = out ? TENSOR__INPUT("amax", a) : NULL;
    if (!x) return NULL;
    int64_t *map = result_index(a, mask, &out_numel);
    for (int64_t j = 0; j < out_numel; j++) out->data[j] = -INFINITY;
    for (int64_t i = 0; i < a->numel; i++) {
        float v = x[i], *m = &out->data[map[i]];
        if (v > *m || isnan(v)) *m = isnan(*m) ? *m : v;
    }
    TensorNode *node = tensor__record(OP_AMAX, out, 1, (const Tensor *[]){a});
    if (node) node->ival[DIMS_MASK] = mask;
    return tensor__result(out);
}

/* forward: y = max of x over the dims;
 * backward: dx = dy / count where x equals its y (the ties share), 0 elsewhere */
void tensor__amax_backward(TensorNode *n, const Tensor *dy)
{
    const Tensor *x = n->inputs[0];
    int64_t out_numel, *map = result_index(x, n->ival[DIMS_MASK], &out_numel);
    const float *xs = tensor__contiguous_data(x), *y = n->out->data, *g = tensor__contiguous_data(dy);
    float *count = tensor__scratch((size_t)(out_numel ? out_numel : 1) * sizeof *count);
    memset(count, 0, (size_t)out_numel * sizeof *count);
    for (int64_t i = 0; i < x->numel; i++) count[map[i]] += xs[i] == y[map[i]];
    Tensor *dx = tensor__alloc(x->ndim, x->shape);
    for (int64_t i = 0; i < x->numel; i++)
        dx->data[i] = xs[i] == y[map[i]] ? g[map[i]] / count[map[i]] : 0.0f;
    tensor__accumulate_grad(n->inputs[0], dx);
}

/* ---- composites: min, argmin, logsumexp, std ------------------------------------- */

/* min is -max(-x): the same values, the first index of the smallest, NaN
 * winning; its gradient flows through the two negations. */
Tensor *tensor_min_dim(const Tensor *a, int dim, bool keepdim, Tensor **indices)
{
    if (indices) *indices = NULL;
    if (!TENSOR__USABLE(a)) return NULL;
    int d = max_dim_check(a, dim, "min_dim");
    if (d < 0) return NULL;
    return composed(tensor_neg(tensor_max_dim(tensor_neg(a), d, keepdim, indices)), a,
                    "MinBackward0");
}

/* Indices of the first minimum along dim, as floats; not differentiable. */
Tensor *tensor_argmin(const Tensor *a, int dim, bool keepdim)
{
    if (!TENSOR__USABLE(a)) return NULL;
    int d = max_dim_check(a, dim, "argmin");
    if (d < 0) return NULL;
    tensor_no_grad_begin();
    Tensor *idx = tensor_argmax(tensor_neg(a), d, keepdim);
    tensor_no_grad_end();
    return idx;
}

/* log(sum(exp(x - m))) + m with m the max along dim (not differentiated: its
 * terms cancel), m = 0 where it is infinite, as PyTorch; the gradient is
 * softmax(x). */
Tensor *tensor_logsumexp(const Tensor *a, int dim, bool keepdim)
{
    if (!TENSOR__USABLE(a)) return NULL;
    tensor_no_grad_begin();
    Tensor *m = tensor_amax(a, 1, (const int64_t[]){dim}, true);
    tensor_no_grad_end();
    if (!m) return NULL;
    for (int64_t i = 0; i < m->numel; i++)
        if (isinf(m->data[i])) m->data[i] = 0;
    Tensor *out = tensor_add(tensor_log(tensor_sum_dim(tensor_exp(tensor_sub(a, m)), dim, true)), m);
    return composed(keepdim || !out ? out : tensor_squeeze(out, dim), a, "LogsumexpBackward0");
}

/* sqrt(var(x, correction)) over all elements or along dim. */
Tensor *tensor_std(const Tensor *a, int correction)
{
    return composed(tensor_sqrt(tensor_var(a, correction)), a, "StdBackward0");
}

Tensor *tensor_std_dim(const Tensor *a, int dim, int correction, bool keepdim)
{
    return composed(tensor_sqrt(tensor_var_dim(a, dim, correction, keepdim)), a, "StdBackward0");
}
