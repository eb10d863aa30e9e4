/*
 * Shape ops that copy: cat and stack join tensors, index_select and
 * embedding gather slices by index, gather single elements.  Each makes a new contiguous tensor
 * (the views are in shape.c).  Forward and backward side by side; each
 * backward sends every input the slice of dy that came from it, and
 * gathered slices that repeat add up.
 */
#include "core/tensor_internal.h"

#include <math.h>
#include <string.h>

/* ---- cat, stack ----------------------------------------------------------- */

/* -1 with a message for an empty list; 1 when a tensor is NULL (propagate). */
static int check_list(const char *op, int n, Tensor *const *ts)
{
    if (n > 0 && !ts) return tensor_set_error("%s: the list of tensors is NULL", op), -1;
    if (n <= 0) return tensor_set_error("%s: expected a non-empty list of tensors, got %d", op,
                                        n), -1;
    for (int i = 0; i < n; i++)
        if (!tensor__usable(ts[i], op)) return 1;
    return 0;
}

static bool same_except(const Tensor *a, const Tensor *b, int dim)
{
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (i != dim && a->shape[i] != b->shape[i]) return false;
    return true;
}

Tensor *tensor_cat(int n, Tensor *const *ts, int dim)
{
    if (check_list("cat", n, ts)) return NULL;
    if (ts[0]->ndim == 0) return tensor_set_error("cat: tensor 0 is 0-d; 0-d tensors cannot be "
                                               "concatenated");
    int d = tensor__wrap_dim(ts[0], dim, 0, "cat");
    if (d < 0) return NULL;
    int64_t shape[TENSOR_MAX_DIMS];
    memcpy(shape, ts[0]->shape, sizeof shape);
    shape[d] = 0;
    for (int i = 0; i < n; i++) {
        if (!same_except(ts[0], ts[i], d))
            return tensor_set_error("cat: sizes must match except in dim %d: tensor 0 is %s, "
                                 "tensor %d is %s", d, tensor_shape_str(ts[0]), i,
                                 tensor_shape_str(ts[i]));
        if (ts[i]->shape[d] > TENSOR__MAX_NUMEL - shape[d])
            return tensor_set_error("cat: the sizes in dim %d add up past %lld", d,
                                 (long long)TENSOR__MAX_NUMEL);
        shape[d] += ts[i]->shape[d];
    }
    if (tensor__check_numel("cat", ts[0]->ndim, shape)) return NULL;
    Tensor *out = tensor__alloc_result("cat", ts[0]->ndim, shape);
    if (!out) return NULL;
    int64_t at = 0;
    for (int i = 0; i < n; at += ts[i++]->shape[d])
        tensor__copy_into(tensor__narrow_view(out, d, at, ts[i]->shape[d]), ts[i], false);
    TensorNode *node = tensor__record(OP_CAT, out, n, (const Tensor *const *)ts);
    if (node) node->ival[0] = d;
    return out;
}

/* forward: y = [x0; x1; ...] along dim;  backward: dxi = dy's slice where xi went */
void tensor__cat_backward(TensorNode *n, const Tensor *dy)
{
    int d = (int)n->ival[0];
    int64_t at = 0;
    for (int i = 0; i < n->n_inputs; i++) {
        int64_t size = n->inputs[i]->shape[d];
        tensor__accumulate_grad(n->inputs[i], tensor__narrow_view(dy, d, at, size));
        at += size;
    }
}

Tensor *tensor_stack(int n, Tensor *const *ts, int dim)
{
    if (check_list("stack", n, ts)) return NULL;
    const Tensor *a = ts[0];
    if (a->ndim == TENSOR_MAX_DIMS)
        return tensor_set_error("stack: tensors %s already have %d dims, the most supported",
                             tensor_shape_str(a), TENSOR_MAX_DIMS);
    int d = tensor__wrap_dim(a, dim, 1, "stack");
    if (d < 0) return NULL;
    for (int i = 1; i < n; i++)
        if (!tensor_same_shape(a, ts[i]))
            return tensor_set_error("stack: tensors must have the same shape: tensor 0 is %s, "
                                 "tensor %d is %s", tensor_shape_str(a), i,
                                 tensor_shape_str(ts[i]));
    int64_t shape[TENSOR_MAX_DIMS];
    for (int i = 0, k = 0; i <= a->ndim; i++) shape[i] = i == d ? n : a->shape[k++];
    if (tensor__check_numel("stack", a->ndim + 1, shape)) return NULL;
    Tensor *out = tensor__alloc_result("stack", a->ndim + 1, shape);
    if (!out) return NULL;
    for (int i = 0; i < n; i++) tensor__copy_into(tensor__select_view(out, d, i), ts[i], false);
    TensorNode *node = tensor__record(OP_STACK, out, n, (const Tensor *const *)ts);
    if (node) node->ival[0] = d;
    return out;
}

/* forward: y[..., i, ...] = xi along the new dim;  backward: dxi = dy[..., i, ...] */
void tensor__stack_backward(TensorNode *n, const Tensor *dy)
{
    for (int i = 0; i < n->n_inputs; i++)
        tensor__accumulate_grad(n->inputs[i], tensor__select_view(dy, (int)n->ival[0], i));
}

/* ---- index_select, embedding ---------------------------------------------- */

/* A contiguous copy of index, checked to hold whole numbers in [0, size)
 * (size: that of dim of a); NULL with a message naming the first bad one. */
static Tensor *checked_indices(const char *op, const Tensor *index, const Tensor *a, int dim)
{
    Tensor *idx = tensor__alloc_result(op, index->ndim, index->shape);
    const float *in = idx ? TENSOR__INPUT(op, index) : NULL;
    if (!in) return NULL;
    memcpy(idx->data, in, (size_t)idx->numel * sizeof(float));
    for (int64_t k = 0; k < idx->numel; k++) {
        float v = idx->data[k];
        if (!isfinite(v) || v != floorf(v))
            return tensor_set_error("%s: index %g at position %lld is not a whole number", op,
                                 (double)v, (long long)k);
        if (v < 0 || (double)v >= (double)a->shape[dim])
            return tensor_set_error("%s: index %g at position %lld is out of range for dim %d "
                                 "of %s (expected 0 to %lld)", op, (double)v, (long long)k,
                                 dim, tensor_shape_str(a), (long long)a->shape[dim] - 1);
    }
    return idx;
}

Tensor *tensor_index_select(const Tensor *a, int dim, const Tensor *index)
{
    if (!TENSOR__USABLE(a) || !TENSOR__USABLE(index)) return NULL;
    if (a->ndim == 0) return tensor_set_error("index_select: cannot index a 0-d tensor");
    int d = tensor__wrap_dim(a, dim, 0, "index_select");
    if (d < 0) return NULL;
    if (index->ndim > 1)
        return tensor_set_error("index_select: index must be 0-d or 1-d, got %s",
                             tensor_shape_str(index));
    Tensor *idx = checked_indices("index_select", index, a, d);
    if (!idx) return NULL;
    int64_t shape[TENSOR_MAX_DIMS];
    memcpy(shape, a->shape, sizeof shape);
    shape[d] = idx->numel;
    if (tensor__check_numel("index_select", a->ndim, shape)) return NULL;
    Tensor *out = tensor__alloc_result("index_select", a->ndim, shape);
    if (!out) return NULL;
    for (int64_t k = 0; k < idx->numel; k++)
        tensor__copy_into(tensor__select_view(out, d, k),
                          tensor__select_view(a, d, (int64_t)idx->data[k]), false);
    TensorNode *n = tensor__record(OP_INDEX_SELECT, out, 1, &a);
    if (n) n->saved[0] = idx, n->ival[0] = d;
    return out;
}

/* forward: y[..., k, ...] = x[..., index[k], ...] along dim;
 * backward: dx[..., index[k], ...] += dy[..., k, ...] (repeats accumulate) */
void tensor__index_select_backward(TensorNode *n, const Tensor *dy)
{
    Tensor *g = tensor__grad_buffer(n->inputs[0]);
    const Tensor *idx = n->saved[0];
    int d = (int)n->ival[0];
    for (int64_t k = 0; g && k < idx->numel; k++)
        tensor__copy_into(tensor__select_view(g, d, (int64_t)idx->data[k]),
                          tensor__select_view(dy, d, k), true);
}

Tensor *tensor_embedding(const Tensor *weight, const Tensor *indices)
{
    if (!TENSOR__USABLE(weight) || !TENSOR__USABLE(indices)) return NULL;
    if (weight->ndim != 2)
        return tensor_set_error("embedding: weight must be 2-d (num_embeddings, embedding_dim), "
                             "got %s", tensor_shape_str(weight));
    if (indices->ndim == TENSOR_MAX_DIMS)
        return tensor_set_error("embedding: indices %s have %d dims; the output would have "
                             "more than the %d supported", tensor_shape_str(indices),
                             indices->ndim, TENSOR_MAX_DIMS);
    Tensor *idx = checked_indices("embedding", indices, weight, 0);
    if (!idx) return NULL;
    int64_t shape[TENSOR_MAX_DIMS], dim = weight->shape[1];
    memcpy(shape, indices->shape, sizeof shape);
    shape[indices->ndim] = dim;
    if (tensor__check_numel("embedding", indices->ndim + 1, shape)) return NULL;
    Tensor *out = tensor__alloc_result("embedding", indices->ndim + 1, shape);
    if (!out) return NULL;
    for (int64_t i = 0; i < idx->numel; i++) {
        const float *row = weight->data + (int64_t)idx->data[i] * weight->stride[0];
        for (int64_t j = 0; j < dim; j++) out->data[i * dim + j] = row[j * weight->stride[1]];
    }
    TensorNode *n = tensor__record(OP_EMBEDDING, out, 1, &weight);
    if (n) n->saved[0] = idx;
    return out;
}

/* forward: y[i, :] = W[indices[i], :];  backward: dW[indices[i], :] += dy[i, :] */
void tensor__embedding_backward(TensorNode *n, const Tensor *dy)
{
    Tensor *g = tensor__grad_buffer(n->inputs[0]);
    if (!g) return;
    const Tensor *idx = n->saved[0];
    const float *d = tensor__contiguous_data(dy);
    int64_t dim = g->shape[1];
    for (int64_t i = 0; i < idx->numel; i++) {
        float *row = g->data + (int64_t)idx->data[i] * dim;
        for (int64_t j = 0; j < dim; j++) row[j] += d[i * dim + j];
    }
}

/* ---- gather ------------------------------------------------------------------- */

/* index: a's number of dims, no larger than a outside dim; -1 with a message. */
static int gather_check(const Tensor *a, int dim, const Tensor *index)
{
    if (index->ndim != a->ndim)
        return tensor_set_error("gather: index %s has %d dims; it needs as many as input %s, %d",
                                tensor_shape_str(index), index->ndim, tensor_shape_str(a),
                                a->ndim), -1;
    for (int d = 0; d < a->ndim; d++)
        if (d != dim && index->shape[d] > a->shape[d])
            return tensor_set_error("gather: index %s is larger than input %s in dim %d "
                                    "(%lld > %lld); only dim %d, the one gathered along, may be",
                                    tensor_shape_str(index), tensor_shape_str(a), d,
                                    (long long)index->shape[d], (long long)a->shape[d], dim), -1;
    return 0;
}

/* For each element k of index (row-major): the offset, through stride (a's
 * or its gradient's), of the element at index's coordinates with dim at 0. */
static int64_t *base_offsets(const Tensor *index, int dim, const int64_t *stride)
{
    int64_t s[TENSOR_MAX_DIMS];
    memcpy(s, stride, sizeof s);
    s[dim] = 0;
    int64_t *off = tensor__scratch((size_t)(index->numel ? index->numel : 1) * sizeof *off);
    TensorIter it;
    tensor__iter_init(&it, index->ndim, index->shape, 1, (const int64_t *[]){s}, NULL);
    for (int64_t k = 0; k < index->numel; k++, tensor__iter_next(&it)) off[k] = it.off[0];
    return off;
}

Tensor *tensor_gather(const Tensor *a, int dim, const Tensor *index)
{
    if (!TENSOR__USABLE(a) || !TENSOR__USABLE(index)) return NULL;
    if (a->ndim == 0) return tensor_set_error("gather: cannot gather from a 0-d tensor");
    int d = tensor__wrap_dim(a, dim, 0, "gather");
    if (d < 0 || gather_check(a, d, index)) return NULL;
    Tensor *idx = checked_indices("gather", index, a, d);
    if (!idx) return NULL;
    Tensor *out = tensor__alloc_result("gather", idx->ndim, idx->shape);
    if (!out) return NULL;
    const int64_t *base = base_offsets(idx, d, a->stride);
    for (int64_t k = 0; k < idx->numel; k++)
        out->data[k] = a->data[base[k] + (int64_t)idx->data[k] * a->stride[d]];
    TensorNode *n = tensor__record(OP_GATHER, out, 1, &a);
    if (n) n->saved[0] = idx, n->ival[0] = d;
    return out;
}

/* forward: y[..., j, ...] = x[..., index[..., j, ...], ...] along dim
 * backward: dx[..., index[..., j, ...], ...] += dy[..., j, ...] (repeats add) */
void tensor__gather_backward(TensorNode *n, const Tensor *dy)
{
    const Tensor *x = n->inputs[0], *idx = n->saved[0];
    int d = (int)n->ival[0];
    Tensor *dx = tensor_zeros(x->ndim, x->shape);
    const float *g = tensor__contiguous_data(dy);
    const int64_t *base = base_offsets(idx, d, dx->stride);
    for (int64_t k = 0; k < idx->numel; k++)
        dx->data[base[k] + (int64_t)idx->data[k] * dx->stride[d]] += g[k];
    tensor__accumulate_grad(n->inputs[0], dx);
}
