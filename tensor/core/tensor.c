/*
 * The object model: shapes, strides, creation, element access, errors, and
 * the broadcasting and iteration helpers the op families share.
 */
#include "core/tensor_internal.h"

#include <math.h>
#include <string.h>

/* ---- errors ------------------------------------------------------------- */

static _Thread_local char error_message[512];   /* per thread: the caller's */

const char *tensor_error(void) { return error_message; }
void tensor_clear_error(void) { error_message[0] = '\0'; }

void *tensor_set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error_message, sizeof error_message, fmt, ap);
    va_end(ap);
    return NULL;
}

_Noreturn void tensor__abort(const char *file, int line, const char *what)
{
    fprintf(stderr, "attograd: internal error at %s:%d: %s\n", file, line, what);
    abort();
}

/* ---- shapes -------------------------------------------------------------- */

int64_t tensor__numel(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    return n;
}

int64_t tensor__contiguous_strides(int ndim, const int64_t *shape, int64_t *stride)
{
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        stride[i] = s;
        s *= shape[i];
    }
    return s;
}

void tensor__set_contiguous_strides(Tensor *t)
{
    t->numel = tensor__contiguous_strides(t->ndim, t->shape, t->stride);
}

TensorBlock tensor__block_at(const Tensor *a, int dim)
{
    TensorBlock b = {1, 1, 1};
    for (int d = 0; d < a->ndim; d++) {
        if (d < dim) b.outer *= a->shape[d];
        else if (d == dim) b.size = a->shape[d];
        else b.inner *= a->shape[d];
    }
    return b;
}

bool tensor_is_contiguous(const Tensor *t)
{
    if (!t) return false;
    int64_t s = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->stride[i] != s) return false;
        s *= t->shape[i];
    }
    return true;
}

bool tensor_same_shape(const Tensor *a, const Tensor *b)
{
    if (!a || !b || a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}

/* Rotating buffers, so that one message can name several shapes; the
 * counter is unsigned so that it wraps rather than overflows. */
const char *tensor__sizes_str(int n, const int64_t *v)
{
    static _Thread_local char bufs[8][TENSOR_MAX_DIMS * 24];
    static _Thread_local unsigned next;
    char *b = bufs[next++ % 8];
    size_t cap = sizeof bufs[0], k = (size_t)snprintf(b, cap, "(");
    /* A caller's sizes may be more than TENSOR_MAX_DIMS (a file entry being
     * refused): the text is then cut, never overrun. */
    for (int i = 0; i < n && k < cap; i++)
        k += (size_t)snprintf(b + k, cap - k, i ? ",%lld" : "%lld", (long long)v[i]);
    if (k < cap) snprintf(b + k, cap - k, ")");
    return b;
}

const char *tensor_shape_str(const Tensor *t)
{
    return t ? tensor__sizes_str(t->ndim, t->shape) : "(null)";
}

/* The sizes, each counted as at least 1, bound the element count and every
 * contiguous stride: when their product fits, nothing computed from the
 * shape can overflow. */
bool tensor__shape_fits(int ndim, const int64_t *shape)
{
    int64_t bound = 1;
    for (int i = 0; i < ndim; i++) {
        int64_t s = shape[i] > 1 ? shape[i] : 1;
        if (bound > TENSOR__MAX_NUMEL / s) return false;
        bound *= s;
    }
    return true;
}

int tensor__check_numel(const char *op, int ndim, const int64_t *shape)
{
    if (tensor__shape_fits(ndim, shape)) return 0;
    tensor_set_error("%s: shape %s is too large: its element count or strides would exceed %lld",
                     op,
                  tensor__sizes_str(ndim, shape), (long long)TENSOR__MAX_NUMEL);
    return -1;
}

static int check_shape(const char *op, int ndim, const int64_t *shape)
{
    if (ndim < 0 || ndim > TENSOR_MAX_DIMS) {
        tensor_set_error("%s: %d dims; between 0 and %d are supported", op, ndim, TENSOR_MAX_DIMS);
        return -1;
    }
    if (ndim > 0 && !shape) {
        tensor_set_error("%s: shape is NULL", op);
        return -1;
    }
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) {
            tensor_set_error("%s: negative size %lld in dim %d", op, (long long)shape[i], i);
            return -1;
        }
    }
    return tensor__check_numel(op, ndim, shape);
}

/* ---- allocation ---------------------------------------------------------- */

/* A contiguous tensor in the current scope; NULL when its data does not fit
 * in memory.  The shape was checked by the caller. */
static Tensor *try_alloc(int ndim, const int64_t *shape)
{
    TENSOR__ASSERT(ndim >= 0 && ndim <= TENSOR_MAX_DIMS && tensor__shape_fits(ndim, shape));
    TensorArena *arena = tensor__current_arena();
    Tensor *t = tensor__arena_alloc(arena, sizeof *t);
    memset(t, 0, sizeof *t);
    t->ndim = ndim;
    if (ndim) memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    tensor__set_contiguous_strides(t);
    t->storage = t->data = tensor__arena_try_alloc(arena, (size_t)t->numel * sizeof(float));
    if (!t->data) return NULL;
    t->owner = arena;
    t->generation = arena->generation;
    t->version = &t->own_version;
    return t;
}

Tensor *tensor__alloc(int ndim, const int64_t *shape)
{
    Tensor *t = try_alloc(ndim, shape);
    if (!t) tensor__abort(__FILE__, __LINE__, "out of memory");
    return t;
}

Tensor *tensor__alloc_result(const char *op, int ndim, const int64_t *shape)
{
    Tensor *t = try_alloc(ndim, shape);
    if (!t)
        return tensor_set_error("%s: out of memory for a result of shape %s", op,
                                tensor__sizes_str(ndim, shape));
    return t;
}

Tensor *tensor__new(const char *op, int ndim, const int64_t *shape)
{
    if (check_shape(op, ndim, shape)) return NULL;
    Tensor *t = try_alloc(ndim, shape);
    if (!t)
        return tensor_set_error("%s: out of memory for a tensor of shape %s", op,
                             tensor__sizes_str(ndim, shape));
    return t;
}

Tensor *tensor__view_of(const Tensor *a, int ndim, const int64_t *shape,
                        const int64_t *stride, int64_t offset)
{
    TensorArena *arena = tensor__current_arena();
    Tensor *t = tensor__arena_alloc(arena, sizeof *t);
    memset(t, 0, sizeof *t);
    t->ndim = ndim;
    if (ndim) {
        memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
        memcpy(t->stride, stride, (size_t)ndim * sizeof *stride);
    }
    TENSOR__ASSERT(tensor__shape_fits(ndim, shape));
    t->numel = tensor__numel(ndim, shape);
    t->storage = a->storage;
    t->offset = offset;
    t->data = a->storage + offset;
    t->owner = arena;
    t->generation = arena->generation;
    t->version = a->version;   /* a view: an in-place change of either is of both */
    return t;
}

Tensor *tensor_empty(int ndim, const int64_t *shape) { return tensor__new("empty", ndim, shape); }

static Tensor *filled(const char *op, float value, int ndim, const int64_t *shape)
{
    Tensor *t = tensor__new(op, ndim, shape);
    for (int64_t i = 0; t && i < t->numel; i++) t->data[i] = value;
    return t;
}

Tensor *tensor_full(float value, int ndim, const int64_t *shape)
{
    return filled("full", value, ndim, shape);
}

Tensor *tensor_zeros(int ndim, const int64_t *shape) { return filled("zeros", 0.0f, ndim, shape); }
Tensor *tensor_ones(int ndim, const int64_t *shape) { return filled("ones", 1.0f, ndim, shape); }

Tensor *tensor_scalar(float value) { return tensor_full(value, 0, NULL); }

Tensor *tensor_zeros_like(const Tensor *t)
{
    return TENSOR__USABLE(t) ? tensor_zeros(t->ndim, t->shape) : NULL;
}

Tensor *tensor_from_data(const float *data, int ndim, const int64_t *shape)
{
    if (check_shape("from_data", ndim, shape)) return NULL;
    if (!data) return tensor_set_error("from_data: data is NULL");
    Tensor *t = tensor__new("from_data", ndim, shape);
    if (t) memcpy(t->data, data, (size_t)t->numel * sizeof(float));
    return t;
}

/* ---- ids ------------------------------------------------------------------- */

Tensor *tensor_from_ids(const int64_t *ids, int ndim, const int64_t *shape)
{
    if (check_shape("from_ids", ndim, shape)) return NULL;
    if (!ids) return tensor_set_error("from_ids: ids is NULL");
    Tensor *t = tensor__new("from_ids", ndim, shape);
    for (int64_t i = 0; t && i < t->numel; i++) {
        if (ids[i] < -TENSOR__ID_LIMIT || ids[i] > TENSOR__ID_LIMIT)
            return tensor_set_error("from_ids: ids[%lld] = %lld is outside +-%lld, where float "
                                    "ids are exact", (long long)i, (long long)ids[i],
                                    (long long)TENSOR__ID_LIMIT);
        t->data[i] = (float)ids[i];
    }
    return t;
}

int tensor_to_ids(const Tensor *t, int64_t **ids, int64_t *n)
{
    if (ids) *ids = NULL;
    if (n) *n = 0;
    if (!TENSOR__USABLE(t)) return -1;
    if (!ids || !n) return tensor_set_error("to_ids: ids or n is NULL"), -1;
    int64_t *out = malloc((size_t)(t->numel ? t->numel : 1) * sizeof *out);
    if (!out)
        return tensor_set_error("to_ids: out of memory for the %lld ids of %s",
                                (long long)t->numel, tensor_shape_str(t)), -1;
    TensorIter it;
    tensor__iter_init(&it, t->ndim, t->shape, 1, (const int64_t *[]){t->stride}, NULL);
    for (int64_t i = 0; i < t->numel; i++, tensor__iter_next(&it)) {
        float v = t->data[it.off[0]];
        if (v != floorf(v) || fabsf(v) > (float)TENSOR__ID_LIMIT) {
            free(out);
            return tensor_set_error("to_ids: element %lld of %s is %.9g, not a whole number "
                                    "within +-%lld (where float ids are exact)", (long long)i,
                                    tensor_shape_str(t), (double)v, (long long)TENSOR__ID_LIMIT),
                   -1;
        }
        out[i] = (int64_t)v;
    }
    *ids = out;
    *n = t->numel;
    return 0;
}

Tensor *tensor_arange(float start, float end, float step)
{
    if (step == 0 || !isfinite(start) || !isfinite(end) || !isfinite(step))
        return tensor_set_error("arange: bad range start=%g end=%g step=%g",
                             (double)start, (double)end, (double)step);
    if ((end - start) / step < 0)
        return tensor_set_error("arange: step %g goes away from end (start=%g end=%g)",
                             (double)step, (double)start, (double)end);
    /* As torch: size = ceil((end - start) / step), values start + i * step.
     * The count is bounded before it becomes an integer. */
    double count = ceil(((double)end - start) / step);
    if (count > (double)TENSOR__MAX_NUMEL)
        return tensor_set_error("arange: start=%g end=%g step=%g gives %g values, more than %lld",
                             (double)start, (double)end, (double)step, count,
                             (long long)TENSOR__MAX_NUMEL);
    int64_t n = (int64_t)count;
    Tensor *t = tensor__new("arange", 1, &n);
    for (int64_t i = 0; t && i < n; i++) t->data[i] = (float)(start + (double)i * step);
    return t;
}

Tensor *tensor_fill_(Tensor *t, float value)
{
    if (!TENSOR__USABLE(t)) return NULL;
    tensor__bump_version(t);
    TensorIter it;
    tensor__iter_init(&it, t->ndim, t->shape, 1, (const int64_t *[]){t->stride}, NULL);
    for (int64_t i = 0; i < t->numel; i++, tensor__iter_next(&it)) t->data[it.off[0]] = value;
    return t;
}

/* The last element t reaches, as an offset from t->data (strides are never
 * negative, so the first is t->data itself). */
static int64_t last_offset(const Tensor *t)
{
    int64_t last = 0;
    for (int d = 0; d < t->ndim; d++) last += (t->shape[d] - 1) * t->stride[d];
    return last;
}

/* A view through which two indices write one element: an expanded dim. */
static bool overlaps_itself(const Tensor *t)
{
    for (int d = 0; d < t->ndim; d++)
        if (t->stride[d] == 0 && t->shape[d] > 1) return true;
    return false;
}

Tensor *tensor_copy_(Tensor *dst, const Tensor *src)
{
    if (!TENSOR__USABLE(dst) || !TENSOR__USABLE(src)) return NULL;
    if (dst->numel != src->numel || !tensor_same_shape(dst, src))
        return tensor_set_error("copy_: shapes differ, %s <- %s", tensor_shape_str(dst),
                             tensor_shape_str(src));
    if (dst->numel == 0) return dst;
    if (overlaps_itself(dst))
        return tensor_set_error("copy_: unsupported operation: more than one element of the "
                             "written-to tensor %s refers to a single memory location (an "
                             "expanded view); clone it first", tensor_shape_str(dst));
    /* Reading src while writing dst: only the same elements in the same
     * order (a copy onto itself) may share memory. */
    bool same = dst->data == src->data && !memcmp(dst->stride, src->stride,
                                                  (size_t)dst->ndim * sizeof *dst->stride);
    if (!same && dst->storage == src->storage && dst->data <= src->data + last_offset(src) &&
        src->data <= dst->data + last_offset(dst))
        return tensor_set_error("copy_: unsupported operation: some elements of the input tensor "
                             "%s and the written-to tensor %s refer to a single memory "
                             "location; clone the input first", tensor_shape_str(src),
                             tensor_shape_str(dst));
    const float *values = TENSOR__INPUT("copy_", src);
    if (!values) return NULL;
    tensor__bump_version(dst);
    tensor__scatter_contiguous(dst, values);
    return dst;
}

/* ---- element access ------------------------------------------------------ */

float tensor_item(const Tensor *t)
{
    if (!TENSOR__USABLE(t)) return NAN;
    if (t->numel != 1) {
        tensor_set_error("item: tensor of shape %s has %lld elements, not 1", tensor_shape_str(t),
                      (long long)t->numel);
        return NAN;
    }
    return t->data[0];
}

/* Storage offset of the element at indices idx (negative counts from the end),
 * or -1 with an error naming op. */
static int64_t index_offset(const char *op, const Tensor *t, int n, const int64_t *idx)
{
    if (n != t->ndim) {
        tensor_set_error("%s: %d indices for a %d-d tensor %s", op, n, t->ndim,
                         tensor_shape_str(t));
        return -1;
    }
    if (n > 0 && !idx) {
        tensor_set_error("%s: index array is NULL", op);
        return -1;
    }
    int64_t off = 0;
    for (int i = 0; i < n; i++) {
        int64_t k = idx[i] < 0 ? idx[i] + t->shape[i] : idx[i];
        if (k < 0 || k >= t->shape[i]) {
            tensor_set_error("%s: index %lld out of range for dim %d of %s", op,
                          (long long)idx[i], i, tensor_shape_str(t));
            return -1;
        }
        off += k * t->stride[i];
    }
    return off;
}

float tensor_get(const Tensor *t, int n, const int64_t *idx)
{
    if (!TENSOR__USABLE(t)) return NAN;
    int64_t off = index_offset("get", t, n, idx);
    return off < 0 ? NAN : t->data[off];
}

int tensor_set(Tensor *t, float value, int n, const int64_t *idx)
{
    if (!TENSOR__USABLE(t)) return -1;
    int64_t off = index_offset("set", t, n, idx);
    if (off < 0) return -1;
    tensor__bump_version(t);
    t->data[off] = value;
    return 0;
}

/* ---- helpers shared by the op families ----------------------------------- */

int tensor__wrap_dim(const Tensor *a, int dim, int ndim_plus, const char *op)
{
    int n = a->ndim + ndim_plus;
    int lo = n ? -n : -1, hi = n ? n - 1 : 0;   /* a 0-d tensor takes dim 0 or -1 */
    if (dim < lo || dim > hi) {
        tensor_set_error("%s: dim %d out of range for a %d-d tensor %s (expected %d to %d)", op,
                      dim, a->ndim, tensor_shape_str(a), lo, hi);
        return -1;
    }
    return dim < 0 ? dim + (n ? n : 1) : dim;
}

int tensor__broadcast_sizes(int na, const int64_t *sa, int nb, const int64_t *sb, int64_t *out)
{
    int n = na > nb ? na : nb;
    for (int i = 0; i < n; i++) {
        int ia = i - (n - na), ib = i - (n - nb);
        int64_t x = ia >= 0 ? sa[ia] : 1, y = ib >= 0 ? sb[ib] : 1;
        if (x != y && x != 1 && y != 1) return -(i + 1);
        out[i] = x == 1 ? y : x;
    }
    return n;
}

int tensor__broadcast_shape(const Tensor *a, const Tensor *b, const char *op, int *ndim,
                            int64_t *shape)
{
    int n = tensor__broadcast_sizes(a->ndim, a->shape, b->ndim, b->shape, shape);
    if (n < 0) {
        int i = -n - 1, ia = i - (a->ndim > b->ndim ? 0 : b->ndim - a->ndim),
            ib = i - (b->ndim > a->ndim ? 0 : a->ndim - b->ndim);
        tensor_set_error("%s: shapes %s and %s cannot broadcast (dim %d: %lld vs %lld)", op,
                      tensor_shape_str(a), tensor_shape_str(b), i, (long long)a->shape[ia],
                      (long long)b->shape[ib]);
        return -1;
    }
    *ndim = n;
    return tensor__check_numel(op, n, shape);
}

void tensor__broadcast_strides(const Tensor *t, int ndim, const int64_t *shape, int64_t *stride)
{
    for (int i = 0; i < ndim; i++) {
        int it = i - (ndim - t->ndim);
        stride[i] = (it < 0 || (t->shape[it] == 1 && shape[i] != 1)) ? 0 : t->stride[it];
    }
}

void tensor__iter_init(TensorIter *it, int ndim, const int64_t *shape, int n,
                       const int64_t *const *strides, const int64_t *offsets)
{
    TENSOR__ASSERT(n >= 1 && n <= 3 && ndim <= TENSOR_MAX_DIMS);
    it->ndim = ndim;
    it->n = n;
    for (int d = 0; d < ndim; d++) {
        it->shape[d] = shape[d];
        it->idx[d] = 0;
        for (int k = 0; k < n; k++) it->stride[k][d] = strides[k][d];
    }
    for (int k = 0; k < n; k++) it->off[k] = offsets ? offsets[k] : 0;
}

void tensor__iter_next(TensorIter *it)
{
    for (int d = it->ndim - 1; d >= 0; d--) {
        for (int k = 0; k < it->n; k++) it->off[k] += it->stride[k][d];
        if (++it->idx[d] < it->shape[d]) return;
        for (int k = 0; k < it->n; k++) it->off[k] -= it->stride[k][d] * it->shape[d];
        it->idx[d] = 0;
    }
}

/* t read as shape, row-major: t->data itself when that is t's own layout,
 * else a copy in the current scope; NULL (no message) when the copy does
 * not fit in memory. */
static const float *try_broadcast(const Tensor *t, int ndim, const int64_t *shape)
{
    int64_t stride[TENSOR_MAX_DIMS];
    int64_t numel = tensor__numel(ndim, shape);
    if (numel == t->numel && tensor_is_contiguous(t)) return t->data;
    tensor__broadcast_strides(t, ndim, shape, stride);
    float *out = tensor__arena_try_alloc(tensor__current_arena(), (size_t)numel * sizeof(float));
    if (!out) return NULL;
    if (ndim == 0 || numel == 0) {
        if (numel) out[0] = t->data[0];
        return out;
    }
    /* A row of the last dim at a time: copied when its elements are
     * adjacent (a transpose of the leading dims), one value repeated when
     * broadcast, else a strided loop; the iterator walks the rows only. */
    int64_t len = shape[ndim - 1], step = stride[ndim - 1];
    TensorIter it;
    tensor__iter_init(&it, ndim - 1, shape, 1, (const int64_t *[]){stride}, NULL);
    for (float *row = out; row < out + numel; row += len, tensor__iter_next(&it)) {
        const float *src = t->data + it.off[0];
        if (step == 1)
            memcpy(row, src, (size_t)len * sizeof *row);
        else if (step == 0)
            for (int64_t j = 0; j < len; j++) row[j] = src[0];
        else
            for (int64_t j = 0; j < len; j++) row[j] = src[j * step];
    }
    return out;
}

const float *tensor__broadcast_data(const Tensor *t, int ndim, const int64_t *shape)
{
    const float *d = try_broadcast(t, ndim, shape);
    if (!d) tensor__abort(__FILE__, __LINE__, "out of memory");
    return d;
}

const float *tensor__contiguous_data(const Tensor *a)
{
    return tensor__broadcast_data(a, a->ndim, a->shape);
}

const float *tensor__input_data(const char *op, const Tensor *t, int ndim, const int64_t *shape)
{
    const float *d = try_broadcast(t, ndim, shape);
    if (!d)
        tensor_set_error("%s: out of memory for a row-major copy of an input of shape %s", op,
                         tensor__sizes_str(ndim, shape));
    return d;
}

void tensor__scatter_contiguous(Tensor *dst, const float *src)
{
    if (tensor_is_contiguous(dst)) {
        if (dst->data != src) memmove(dst->data, src, (size_t)dst->numel * sizeof(float));
        return;
    }
    TensorIter it;
    tensor__iter_init(&it, dst->ndim, dst->shape, 1, (const int64_t *[]){dst->stride}, NULL);
    for (int64_t i = 0; i < dst->numel; i++, tensor__iter_next(&it)) dst->data[it.off[0]] = src[i];
}
