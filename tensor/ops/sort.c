/*
 * topk, forward and backward, with PyTorch 1.13's order of equal values.
 *
 * PyTorch's CPU topk (aten/src/ATen/native/TopKImpl.h) fills a row's
 * (value, index) pairs and, with "a before b" meaning a NaN before a number
 * or a larger value,
 *     64 k <= n:  std::partial_sort(first, first + k, last)
 *     otherwise:  std::nth_element(first, first + k - 1, last), then
 *                 std::sort(first, first + k - 1)
 * Neither is stable: where values tie, which index comes first is whatever
 * libstdc++'s heap, introselect and introsort moves leave, not the lower
 * index.  The functions below are those algorithms (GCC 12's
 * bits/stl_algo.h and bits/stl_heap.h, the build PyTorch's Debian package
 * uses) moved step for step into C, so ties come out as they do there.
 */
#include "core/tensor_internal.h"

#include <math.h>
#include <string.h>

typedef struct {
    float value;
    int64_t index;
} Pair;

/* PyTorch's comparator: NaN first, then larger values. */
static inline bool before(const Pair *a, const Pair *b)
{
    return (isnan(a->value) && !isnan(b->value)) || a->value > b->value;
}

static inline void swap(Pair *a, Pair *b)
{
    Pair t = *a;
    *a = *b;
    *b = t;
}

/* ---- heaps (stl_heap.h) ----------------------------------------------------- */

static void push_heap(Pair *first, int64_t hole, int64_t top, Pair value)
{
    int64_t parent = (hole - 1) / 2;
    while (hole > top && before(&first[parent], &value)) {
        first[hole] = first[parent];
        hole = parent;
        parent = (hole - 1) / 2;
    }
    first[hole] = value;
}

static void adjust_heap(Pair *first, int64_t hole, int64_t len, Pair value)
{
    const int64_t top = hole;
    int64_t child = hole;
    while (child < (len - 1) / 2) {
        child = 2 * (child + 1);
        if (before(&first[child], &first[child - 1])) child--;
        first[hole] = first[child];
        hole = child;
    }
    if ((len & 1) == 0 && child == (len - 2) / 2) {
        child = 2 * (child + 1);
        first[hole] = first[child - 1];
        hole = child - 1;
    }
    push_heap(first, hole, top, value);
}

static void make_heap(Pair *first, int64_t len)
{
    if (len < 2) return;
    for (int64_t parent = (len - 2) / 2;; parent--) {
        adjust_heap(first, parent, len, first[parent]);
        if (parent == 0) return;
    }
}

/* *result = the heap's top, which is rebuilt from the old *result. */
static void pop_heap(Pair *first, int64_t len, Pair *result)
{
    Pair value = *result;
    *result = *first;
    adjust_heap(first, 0, len, value);
}

static void heap_select(Pair *first, int64_t middle, int64_t last)
{
    make_heap(first, middle);
    for (int64_t i = middle; i < last; i++)
        if (before(&first[i], &first[0])) pop_heap(first, middle, &first[i]);
}

static void sort_heap(Pair *first, int64_t len)
{
    while (len > 1) {
        len--;
        pop_heap(first, len, &first[len]);
    }
}

static void partial_sort(Pair *first, int64_t middle, int64_t last)
{
    heap_select(first, middle, last);
    sort_heap(first, middle);
}

/* ---- introsort and introselect (stl_algo.h) ------------------------------------ */

enum { S_THRESHOLD = 16 };

static void unguarded_linear_insert(Pair *last)
{
    Pair value = *last;
    Pair *next = last - 1;
    while (before(&value, next)) {
        *last = *next;
        last = next;
        next--;
    }
    *last = value;
}

static void insertion_sort(Pair *first, Pair *last)
{
    if (first == last) return;
    for (Pair *i = first + 1; i != last; i++) {
        if (before(i, first)) {
            Pair value = *i;
            memmove(first + 1, first, (size_t)(i - first) * sizeof *first);
            *first = value;
        } else {
            unguarded_linear_insert(i);
        }
    }
}

static void final_insertion_sort(Pair *first, Pair *last)
{
    if (last - first > S_THRESHOLD) {
        insertion_sort(first, first + S_THRESHOLD);
        for (Pair *i = first + S_THRESHOLD; i != last; i++) unguarded_linear_insert(i);
    } else {
        insertion_sort(first, last);
    }
}

static void move_median_to_first(Pair *result, Pair *a, Pair *b, Pair *c)
{
    if (before(a, b)) {
        if (before(b, c)) swap(result, b);
        else if (before(a, c)) swap(result, c);
        else swap(result, a);
    } else if (before(a, c)) {
        swap(result, a);
    } else if (before(b, c)) {
        swap(result, c);
    } else {
        swap(result, b);
    }
}

static Pair *unguarded_partition(Pair *first, Pair *last, const Pair *pivot)
{
    for (;;) {
        while (before(first, pivot)) first++;
        last--;
        while (before(pivot, last)) last--;
        if (!(first < last)) return first;
        swap(first, last);
        first++;
    }
}

static Pair *unguarded_partition_pivot(Pair *first, Pair *last)
{
    Pair *mid = first + (last - first) / 2;
    move_median_to_first(first, first + 1, mid, last - 1);
    return unguarded_partition(first + 1, last, first);
}

/* std::__lg: the index of the highest set bit. */
static int64_t lg(int64_t n)
{
    int64_t k = 0;
    while (n >>= 1) k++;
    return k;
}

static void introsort_loop(Pair *first, Pair *last, int64_t depth_limit)
{
    while (last - first > S_THRESHOLD) {
        if (depth_limit == 0) {
            partial_sort(first, last - first, last - first);
            return;
        }
        depth_limit--;
        Pair *cut = unguarded_partition_pivot(first, last);
        introsort_loop(cut, last, depth_limit);
        last = cut;
    }
}

static void sort(Pair *first, Pair *last)
{
    if (first == last) return;
    introsort_loop(first, last, lg(last - first) * 2);
    final_insertion_sort(first, last);
}

static void nth_element(Pair *first, Pair *nth, Pair *last)
{
    if (first == last || nth == last) return;
    int64_t depth_limit = lg(last - first) * 2;
    while (last - first > 3) {
        if (depth_limit == 0) {
            heap_select(first, nth - first + 1, last - first);
            swap(first, nth);
            return;
        }
        depth_limit--;
        Pair *cut = unguarded_partition_pivot(first, last);
        if (cut <= nth) first = cut;
        else last = cut;
    }
    insertion_sort(first, last);
}

/* ---- topk ---------------------------------------------------------------------- */

/* The k largest of a row of n (k >= 1) in PyTorch's order, into val and idx. */
static void row_topk(const float *x, int64_t n, int64_t k, float *val, float *idx, Pair *q)
{
    for (int64_t j = 0; j < n; j++) q[j] = (Pair){x[j], j};
    if (k * 64 <= n) {
        partial_sort(q, k, n);
    } else {
        nth_element(q, q + k - 1, q + n);
        sort(q, q + k - 1);
    }
    for (int64_t j = 0; j < k; j++) {
        val[j] = q[j].value;
        idx[j] = (float)q[j].index;
    }
}

Tensor *tensor_topk(const Tensor *a, int64_t k, Tensor **indices)
{
    if (indices) *indices = NULL;
    if (!TENSOR__USABLE(a)) return NULL;
    if (a->ndim < 1)
        return tensor_set_error("topk: input %s must have a dim", tensor_shape_str(a));
    int64_t n = a->shape[a->ndim - 1];
    if (k < 0 || k > n)
        return tensor_set_error("topk: k = %lld out of range for last dim of %s (size %lld)",
                             (long long)k, tensor_shape_str(a), (long long)n);
    int64_t shape[TENSOR_MAX_DIMS];
    memcpy(shape, a->shape, sizeof shape);
    shape[a->ndim - 1] = k;
    Tensor *val = tensor__alloc_result("topk", a->ndim, shape);
    Tensor *idx = val ? tensor__alloc_result("topk", a->ndim, shape) : NULL;
    const float *x = idx ? TENSOR__INPUT("topk", a) : NULL;
    if (!x) return NULL;
    int64_t rows = n ? a->numel / n : 0;
    Pair *q = tensor__scratch((size_t)(n ? n : 1) * sizeof *q);
    for (int64_t r = 0; r < rows && k > 0; r++)
        row_topk(x + r * n, n, k, val->data + r * k, idx->data + r * k, q);
    TensorNode *node = tensor__record(OP_TOPK, val, 1, &a);
    if (node) {
        /* The backward's own copy: the caller may change *indices. */
        if (!(node->saved[0] = tensor__alloc_result("topk", a->ndim, shape))) return NULL;
        memcpy(node->saved[0]->data, idx->data, (size_t)idx->numel * sizeof *idx->data);
    }
    if (indices) *indices = idx;
    return tensor__result(val);
}

/* forward: y[r, j] = x[r, i_j] for the k largest i_j of row r
 * backward: dx[r, i_j] = dy[r, j], zero elsewhere (the i_j differ) */
void tensor__topk_backward(TensorNode *n, const Tensor *dy)
{
    const Tensor *x = n->inputs[0], *idx = n->saved[0];
    int64_t size = x->shape[x->ndim - 1], k = idx->shape[idx->ndim - 1];
    const float *g = tensor__contiguous_data(dy);
    Tensor *dx = tensor_zeros(x->ndim, x->shape);
    int64_t rows = k ? idx->numel / k : 0;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < k; j++)
            dx->data[r * size + (int64_t)idx->data[r * k + j]] = g[r * k + j];
    tensor__accumulate_grad(n->inputs[0], dx);
}
