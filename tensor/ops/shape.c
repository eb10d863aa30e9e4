/*
 * Shape ops that are views: t, transpose, permute, view, reshape, flatten,
 * narrow, unsqueeze, squeeze and expand share their input's storage and only
 * change shape, strides and offset (the ops that copy, cat, stack,
 * index_select and embedding, are in join.c).  Forward and backward side by
 * side.
 *
 * A gradient is laid out by its tensor's logical shape (x->grad is
 * contiguous), so each backward maps dy back onto the input's shape and never
 * depends on the input's strides: a view of a view gets its gradient right.
 * Each op records the grad_fn name PyTorch 1.13 prints for the same call.
 */
#include "core/tensor_internal.h"

#include <string.h>

/* ---- helpers ------------------------------------------------------------- */

/* Records a one-input op on out, with PyTorch's name when it is not the table's. */
static TensorNode *record1(TensorOp op, Tensor *out, const Tensor *a, const char *name)
{
    TensorNode *n = tensor__record(op, out, 1, &a);
    if (n && name) n->name = name;
    return n;
}

Tensor *tensor__narrow_view(const Tensor *t, int dim, int64_t start, int64_t length)
{
    int64_t shape[TENSOR_MAX_DIMS];
    memcpy(shape, t->shape, sizeof shape);
    shape[dim] = length;
    return tensor__view_of(t, t->ndim, shape, t->stride, t->offset + start * t->stride[dim]);
}

Tensor *tensor__select_view(const Tensor *t, int dim, int64_t i)
{
    int64_t shape[TENSOR_MAX_DIMS], stride[TENSOR_MAX_DIMS];
    for (int d = 0, k = 0; d < t->ndim; d++) {
        if (d == dim) continue;
        shape[k] = t->shape[d];
        stride[k++] = t->stride[d];
    }
    return tensor__view_of(t, t->ndim - 1, shape, stride, t->offset + i * t->stride[dim]);
}

/* The last dim is the inner loop, so rows of contiguous data stream. */
void tensor__copy_into(Tensor *dst, const Tensor *src, bool accumulate)
{
    if (dst->numel == 0) return;
    int nd = dst->ndim;
    int64_t len = nd ? dst->shape[nd - 1] : 1;
    int64_t ds = nd ? dst->stride[nd - 1] : 1, ss = nd ? src->stride[nd - 1] : 1;
    TensorIter it;
    tensor__iter_init(&it, nd ? nd - 1 : 0, dst->shape, 2,
                      (const int64_t *[]){dst->stride, src->stride}, NULL);
    for (int64_t r = 0; r < dst->numel / len; r++, tensor__iter_next(&it)) {
        float *d = dst->data + it.off[0];
        const float *s = src->data + it.off[1];
        if (accumulate)
            for (int64_t j = 0; j < len; j++) d[j * ds] += s[j * ss];
        else
            for (int64_t j = 0; j < len; j++) d[j * ds] = s[j * ss];
    }
}

/* ---- t, transpose, permute ----------------------------------------------- */

/* t with dims d0 and d1 swapped: a view. */
static Tensor *swapped_view(const Tensor *t, int d0, int d1)
{
    int64_t shape[TENSOR_MAX_DIMS], stride[TENSOR_MAX_DIMS];
    memcpy(shape, t->shape, sizeof shape);
    memcpy(stride, t->stride, sizeof stride);
    shape[d0] = t->shape[d1], shape[d1] = t->shape[d0];
    stride[d0] = t->stride[d1], stride[d1] = t->stride[d0];
    return tensor__view_of(t, t->ndim, shape, stride, t->offset);
}

static Tensor *transposed(const Tensor *a, int d0, int d1, const char *name)
{
    Tensor *out = swapped_view(a, d0, d1);
    TensorNode *n = record1(OP_TRANSPOSE, out, a, name);
    if (n) n->ival[0] = d0, n->ival[1] = d1;
    return out;
}

Tensor *tensor_t(const Tensor *a)
{
    if (!TENSOR__USABLE(a)) return NULL;
    if (a->ndim > 2)
        return tensor_set_error("t: expects a tensor with <= 2 dimensions, but got a %d-d tensor %s",
                             a->ndim, tensor_shape_str(a));
    return transposed(a, 0, a->ndim == 2 ? 1 : 0, "TBackward0");
}

Tensor *tensor_transpose(const Tensor *a, int dim0, int dim1)
{
    if (!TENSOR__USABLE(a)) return NULL;
    int d0 = tensor__wrap_dim(a, dim0, 0, "transpose");
    if (d0 < 0) return NULL;
    int d1 = tensor__wrap_dim(a, dim1, 0, "transpose");
    if (d1 < 0) return NULL;
    return transposed(a, d0, d1, NULL);
}

/* forward: y = x with dims d0 and d1 swapped;  backward: dx = dy with them swapped back */
void tensor__transpose_backward(TensorNode *n, const Tensor *dy)
{
    tensor__accumulate_grad(n->inputs[0], swapped_view(dy, (int)n->ival[0], (int)n->ival[1]));
}

Tensor *tensor_permute(const Tensor *a, int n, const int64_t *dims)
{
    if (!TENSOR__USABLE(a)) return NULL;
    if (n > 0 && !dims) return tensor_set_error("permute: dims is NULL");
    if (n != a->ndim)
        return tensor_set_error("permute: %d dims given for a %d-d tensor %s", n, a->ndim,
                             tensor_shape_str(a));
    int64_t perm[TENSOR_MAX_DIMS], shape[TENSOR_MAX_DIMS], stride[TENSOR_MAX_DIMS];
    bool seen[TENSOR_MAX_DIMS] = {0};
    for (int i = 0; i < n; i++) {
        int64_t d = dims[i] < 0 ? dims[i] + n : dims[i];
        if (d < 0 || d >= n || seen[d])
            return tensor_set_error("permute: dims %s are not a permutation of the dims of %s",
                                 tensor__sizes_str(n, dims), tensor_shape_str(a));
        seen[d] = true;
        perm[i] = d;
        shape[i] = a->shape[d];
        stride[i] = a->stride[d];
    }
    Tensor *out = tensor__view_of(a, n, shape, stride, a->offset);
    TensorNode *node = record1(OP_PERMUTE, out, a, NULL);
    if (node) memcpy(node->ival, perm, (size_t)n * sizeof *perm);
    return out;
}

/* forward: y dim i = x dim perm[i];  backward: dx dim perm[i] = dy dim i */
void tensor__permute_backward(TensorNode *n, const Tensor *dy)
{
    int64_t shape[TENSOR_MAX_DIMS], stride[TENSOR_MAX_DIMS];
    for (int i = 0; i < dy->ndim; i++) {
        shape[n->ival[i]] = dy->shape[i];
        stride[n->ival[i]] = dy->stride[i];
    }
    tensor__accumulate_grad(n->inputs[0], tensor__view_of(dy, dy->ndim, shape, stride, dy->offset));
}

/* ---- view, reshape, flatten ---------------------------------------------- */

/* shape with its one -1 inferred from a's element count, into out. */
static int infer_shape(const char *op, const Tensor *a, int ndim, const int64_t *shape,
                       int64_t *out)
{
    if (ndim > 0 && !shape) return tensor_set_error("%s: shape is NULL", op), -1;
    if (ndim < 0 || ndim > TENSOR_MAX_DIMS)
        return tensor_set_error("%s: %d sizes given; between 0 and %d are supported", op, ndim,
                             TENSOR_MAX_DIMS), -1;
    int infer = -1;
    for (int i = 0; i < ndim; i++) {
        out[i] = shape[i];
        if (shape[i] >= 0) continue;
        if (shape[i] != -1 || infer >= 0)
            return tensor_set_error("%s: shape %s: only one size may be -1, and no other may be "
                                 "negative", op, tensor__sizes_str(ndim, shape)), -1;
        infer = i;
    }
    if (infer >= 0) out[infer] = 1;
    /* Sizes that multiply past any tensor's count cannot match a's. */
    bool fits = tensor__shape_fits(ndim, out);
    int64_t known = fits ? tensor__numel(ndim, out) : -1;
    if (infer >= 0 && known > 0 && a->numel % known == 0) {
        out[infer] = a->numel / known;
        known = a->numel;
    }
    if (known != a->numel || (infer >= 0 && a->numel == 0))
        return tensor_set_error("%s: shape %s is invalid for a tensor %s of %lld elements", op,
                             tensor__sizes_str(ndim, shape), tensor_shape_str(a),
                             (long long)a->numel), -1;
    return 0;
}

/*
 * Strides that read a's elements in row-major order with the new shape, as
 * PyTorch's computeStride: a's dims fall into chunks that are contiguous
 * among themselves; each chunk must be split or merged into whole new dims.
 * Returns false when a new dim would span two chunks (no view exists).
 */
static bool view_strides(const Tensor *a, int ndim, const int64_t *shape, int64_t *stride)
{
    if (a->ndim == 0) {
        for (int i = 0; i < ndim; i++) stride[i] = 1;
        return true;
    }
    if (a->numel == 0) {   /* any strides will do: those of a fresh tensor, as torch */
        int64_t s = 1;
        for (int i = ndim - 1; i >= 0; i--) {
            stride[i] = s;
            s *= shape[i] > 1 ? shape[i] : 1;
        }
        return true;
    }
    int v = ndim - 1;
    int64_t chunk_stride = a->stride[a->ndim - 1], chunk_numel = 1, view_numel = 1;
    for (int d = a->ndim - 1; d >= 0; d--) {
        chunk_numel *= a->shape[d];
        bool chunk_ends = d == 0 || (a->shape[d - 1] != 1 &&
                                     a->stride[d - 1] != chunk_numel * chunk_stride);
        if (!chunk_ends) continue;
        while (v >= 0 && (view_numel < chunk_numel || shape[v] == 1)) {
            stride[v] = view_numel * chunk_stride;
            view_numel *= shape[v--];
        }
        if (view_numel != chunk_numel) return false;
        if (d > 0) {
            chunk_stride = a->stride[d - 1];
            chunk_numel = view_numel = 1;
        }
    }
    return v == -1;
}

static Tensor *viewed(const Tensor *a, int ndim, const int64_t *shape, const int64_t *stride,
                      const char *name)
{
    Tensor *out = tensor__view_of(a, ndim, shape, stride, a->offset);
    record1(OP_VIEW, out, a, name);
    return out;
}

Tensor *tensor_view(const Tensor *a, int ndim, const int64_t *shape)
{
    int64_t sizes[TENSOR_MAX_DIMS], stride[TENSOR_MAX_DIMS];
    if (!TENSOR__USABLE(a) || infer_shape("view", a, ndim, shape, sizes)) return NULL;
    if (!view_strides(a, ndim, sizes, stride))
        return tensor_set_error("view: shape %s is not compatible with the strides %s of %s "
                             "(a dim would span two non-contiguous parts); use reshape",
                             tensor__sizes_str(ndim, sizes), tensor__sizes_str(a->ndim, a->stride),
                             tensor_shape_str(a));
    return viewed(a, ndim, sizes, stride, NULL);
}

Tensor *tensor_reshape(const Tensor *a, int ndim, const int64_t *shape)
{
    int64_t sizes[TENSOR_MAX_DIMS], stride[TENSOR_MAX_DIMS];
    if (!TENSOR__USABLE(a) || infer_shape("reshape", a, ndim, shape, sizes)) return NULL;
    if (view_strides(a, ndim, sizes, stride))
        return viewed(a, ndim, sizes, stride, "ReshapeAliasBackward0");
    /* No view exists: copy (CloneBackward0), then view the copy, as torch. */
    Tensor *c = tensor_contiguous(a);
    if (!c) return NULL;
    tensor__contiguous_strides(ndim, sizes, stride);
    return viewed(c, ndim, sizes, stride, "UnsafeViewBackward0");
}

Tensor *tensor_flatten(const Tensor *a)
{
    if (!TENSOR__USABLE(a)) return NULL;
    if (a->ndim == 1) return (Tensor *)a;   /* torch returns the tensor itself */
    return tensor_reshape(a, 1, &a->numel);
}

/* forward: y = x read with another shape (view, reshape, flatten, unsqueeze,
 * squeeze);  backward: dx = dy read with x's shape */
static void reshape_backward(TensorNode *n, const Tensor *dy)
{
    tensor__pass_grad(n, 0, dy);   /* dy's elements in order are dx's */
}

void tensor__view_backward(TensorNode *n, const Tensor *dy) { reshape_backward(n, dy); }

/* ---- narrow, unsqueeze, squeeze, expand, contiguous ----------------------- */

/* A narrow node's slots. */
enum { NARROW_DIM, NARROW_START, NARROW_LENGTH };

Tensor *tensor_narrow(const Tensor *a, int dim, int64_t start, int64_t length)
{
    if (!TENSOR__USABLE(a)) return NULL;
    if (a->ndim == 0) return tensor_set_error("narrow: cannot narrow a 0-d tensor");
    int d = tensor__wrap_dim(a, dim, 0, "narrow");
    if (d < 0) return NULL;
    int64_t size = a->shape[d];
    if (start < -size || start > size)
        return tensor_set_error("narrow: start %lld out of range for dim %d of %s (expected "
                             "%lld to %lld)", (long long)start, d, tensor_shape_str(a),
                             (long long)-size, (long long)size);
    if (start < 0) start += size;
    if (length < 0 || length > size - start)   /* not start + length: it may overflow */
        return tensor_set_error("narrow: start %lld + length %lld does not fit in size %lld of "
                             "dim %d of %s", (long long)start, (long long)length,
                             (long long)size, d, tensor_shape_str(a));
    Tensor *out = tensor__narrow_view(a, d, start, length);
    TensorNode *n = record1(OP_NARROW, out, a, NULL);
    if (n) n->ival[NARROW_DIM] = d, n->ival[NARROW_START] = start, n->ival[NARROW_LENGTH] = length;
    return out;
}

/* forward: y = x[start : start + length] along dim;
 * backward: dx = 0 with dx[start : start + length] = dy */
void tensor__narrow_backward(TensorNode *n, const Tensor *dy)
{
    Tensor *g = tensor__grad_buffer(n->inputs[0]);
    if (!g) return;
    Tensor *part = tensor__narrow_view(g, (int)n->ival[NARROW_DIM], n->ival[NARROW_START],
                                       n->ival[NARROW_LENGTH]);
    tensor__copy_into(part, dy, true);
}

Tensor *tensor_unsqueeze(const Tensor *a, int dim)
{
    if (!TENSOR__USABLE(a)) return NULL;
    if (a->ndim == TENSOR_MAX_DIMS)
        return tensor_set_error("unsqueeze: %s already has %d dims, the most supported",
                             tensor_shape_str(a), TENSOR_MAX_DIMS);
    int d = tensor__wrap_dim(a, dim, 1, "unsqueeze");
    if (d < 0) return NULL;
    int64_t shape[TENSOR_MAX_DIMS], stride[TENSOR_MAX_DIMS];
    for (int i = 0, k = 0; i <= a->ndim; i++) {
        if (i == d) {
            /* the stride torch gives the new dim */
            shape[i] = 1;
            stride[i] = d < a->ndim ? a->shape[d] * a->stride[d] : 1;
        } else {
            shape[i] = a->shape[k];
            stride[i] = a->stride[k++];
        }
    }
    Tensor *out = tensor__view_of(a, a->ndim + 1, shape, stride, a->offset);
    record1(OP_UNSQUEEZE, out, a, NULL);
    return out;
}

void tensor__unsqueeze_backward(TensorNode *n, const Tensor *dy) { reshape_backward(n, dy); }

Tensor *tensor_squeeze(const Tensor *a, int dim)
{
    if (!TENSOR__USABLE(a)) return NULL;
    int d = tensor__wrap_dim(a, dim, 0, "squeeze");
    if (d < 0) return NULL;
    Tensor *out = a->ndim > 0 && a->shape[d] == 1 ? tensor__select_view(a, d, 0)
                                                   : tensor__view_of(a, a->ndim, a->shape,
                                                                     a->stride, a->offset);
    record1(OP_SQUEEZE, out, a, NULL);
    return out;
}

void tensor__squeeze_backward(TensorNode *n, const Tensor *dy) { reshape_backward(n, dy); }

/* forward: every size-1 dim removed (a view);  backward: dx = dy viewed as x */
Tensor *tensor_squeeze_all(const Tensor *a)
{
    if (!TENSOR__USABLE(a)) return NULL;
    int64_t shape[TENSOR_MAX_DIMS], stride[TENSOR_MAX_DIMS];
    int ndim = 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != 1) {
            shape[ndim] = a->shape[d];
            stride[ndim++] = a->stride[d];
        }
    Tensor *out = tensor__view_of(a, ndim, shape, stride, a->offset);
    record1(OP_SQUEEZE_ALL, out, a, NULL);
    return out;
}

void tensor__squeeze_all_backward(TensorNode *n, const Tensor *dy) { reshape_backward(n, dy); }

Tensor *tensor_expand(const Tensor *a, int ndim, const int64_t *shape)
{
    if (!TENSOR__USABLE(a)) return NULL;
    if (ndim > 0 && !shape) return tensor_set_error("expand: shape is NULL");
    if (ndim < a->ndim || ndim > TENSOR_MAX_DIMS)
        return tensor_set_error("expand: %d sizes given for a %d-d tensor %s (expected %d to %d)",
                             ndim, a->ndim, tensor_shape_str(a), a->ndim, TENSOR_MAX_DIMS);
    int64_t sizes[TENSOR_MAX_DIMS], stride[TENSOR_MAX_DIMS];
    for (int i = 0; i < ndim; i++) {
        int j = i - (ndim - a->ndim);   /* a's matching dim, < 0 for a new leading one */
        int64_t have = j >= 0 ? a->shape[j] : 1;
        int64_t want = shape[i] == -1 && j >= 0 ? have : shape[i];
        if (j < 0 && want < 0)
            return tensor_set_error("expand: size %lld is not allowed in new leading dim %d of "
                                 "target %s for %s", (long long)want, i,
                                 tensor__sizes_str(ndim, shape), tensor_shape_str(a));
        if (want != have && (have != 1 || want < 0))
            return tensor_set_error("expand: size %lld does not match size %lld of %s in dim %d "
                                 "(only size-1 dims expand; -1 keeps an existing size), "
                                 "target %s", (long long)shape[i], (long long)have,
                                 tensor_shape_str(a), i, tensor__sizes_str(ndim, shape));
        sizes[i] = want;
        stride[i] = j >= 0 && want == have ? a->stride[j] : 0;   /* as torch: new dims too */
    }
    /* No memory is needed, but every op that reads the view walks it all. */
    if (tensor__check_numel("expand", ndim, sizes)) return NULL;
    Tensor *out = tensor__view_of(a, ndim, sizes, stride, a->offset);
    record1(OP_EXPAND, out, a, NULL);
    return out;
}

/* forward: y = x repeated along new and size-1 dims (stride 0);
 * backward: dx = dy summed over those dims */
void tensor__expand_backward(TensorNode *n, const Tensor *dy)
{
    tensor__accumulate_grad(n->inputs[0], dy);
}

Tensor *tensor_contiguous(const Tensor *a)
{
    if (!TENSOR__USABLE(a)) return NULL;
    if (tensor_is_contiguous(a)) return (Tensor *)a;
    return tensor_clone(a);   /* CloneBackward0, as torch */
}
