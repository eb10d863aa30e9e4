/*
 * Comparisons: eq, ne, gt, lt, ge, le of two tensors (NumPy broadcasting)
 * or of a tensor and a number, as 1.0 / 0.0 floats (PyTorch's bool results,
 * as the float a .float() call gives).  Not differentiable, as in PyTorch:
 * they record no node, so they have no ops.def line, as sample.c's ops.
 * IEEE rules: every comparison with a NaN is false except ne.
 */
#include "core/tensor_internal.h"

typedef enum { EQ, NE, GT, LT, GE, LE } Cmp;

static const char *const cmp_names[] = {"eq", "ne", "gt", "lt", "ge", "le"};

static inline float compare(Cmp c, float p, float q)
{
    switch (c) {
    case EQ: return p == q;
    case NE: return p != q;
    case GT: return p > q;
    case LT: return p < q;
    case GE: return p >= q;
    default: return p <= q;
    }
}

static Tensor *compare_tensors(Cmp c, const Tensor *a, const Tensor *b)
{
    if (!tensor__usable(a, cmp_names[c]) || !tensor__usable(b, cmp_names[c])) return NULL;
    int ndim;
    int64_t shape[TENSOR_MAX_DIMS];
    if (tensor__broadcast_shape(a, b, cmp_names[c], &ndim, shape)) return NULL;
    Tensor *out = tensor__alloc_result(cmp_names[c], ndim, shape);
    const float *p = out ? tensor__input_data(cmp_names[c], a, ndim, shape) : NULL;
    const float *q = p ? tensor__input_data(cmp_names[c], b, ndim, shape) : NULL;
    if (!q) return NULL;
    for (int64_t i = 0; i < out->numel; i++) out->data[i] = compare(c, p[i], q[i]);
    return out;
}

static Tensor *compare_scalar(Cmp c, const Tensor *a, float s)
{
    if (!tensor__usable(a, cmp_names[c])) return NULL;
    Tensor *out = tensor__alloc_result(cmp_names[c], a->ndim, a->shape);
    const float *p = out ? TENSOR__INPUT(cmp_names[c], a) : NULL;
    if (!p) return NULL;
    for (int64_t i = 0; i < out->numel; i++) out->data[i] = compare(c, p[i], s);
    return out;
}

Tensor *tensor_eq(const Tensor *a, const Tensor *b) { return compare_tensors(EQ, a, b); }
Tensor *tensor_ne(const Tensor *a, const Tensor *b) { return compare_tensors(NE, a, b); }
Tensor *tensor_gt(const Tensor *a, const Tensor *b) { return compare_tensors(GT, a, b); }
Tensor *tensor_lt(const Tensor *a, const Tensor *b) { return compare_tensors(LT, a, b); }
Tensor *tensor_ge(const Tensor *a, const Tensor *b) { return compare_tensors(GE, a, b); }
Tensor *tensor_le(const Tensor *a, const Tensor *b) { return compare_tensors(LE, a, b); }
Tensor *tensor_eq_scalar(const Tensor *a, float s) { return compare_scalar(EQ, a, s); }
Tensor *tensor_ne_scalar(const Tensor *a, float s) { return compare_scalar(NE, a, s); }
Tensor *tensor_gt_scalar(const Tensor *a, float s) { return compare_scalar(GT, a, s); }
Tensor *tensor_lt_scalar(const Tensor *a, float s) { return compare_scalar(LT, a, s); }
Tensor *tensor_ge_scalar(const Tensor *a, float s) { return compare_scalar(GE, a, s); }
Tensor *tensor_le_scalar(const Tensor *a, float s) { return compare_scalar(LE, a, s); }
