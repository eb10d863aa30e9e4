/*
 * Sampling for generation and data loading, with PyTorch 1.13's CPU draws
 * for the same generator state: randperm (a data loader's shuffle),
 * exponential_, multinomial (text generation with a temperature) and topk.
 * None records a gradient: their results are indices, or values a caller
 * uses as thresholds (generation's top-k filter).
 */
#include "core/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* torch.randperm(n, generator=g) on a CPU (randperm_cpu): 0..n-1, then for
 * i = 0 .. n-2 swap r[i] with r[i + z], z = random() % (n - i), random() a
 * 32-bit draw. */
Tensor *tensor_randperm(int64_t n, TensorGenerator *gen)
{
    if (n < 0 || n > UINT32_MAX || n > (int64_t)1 << 24)
        return tensor_set_error("randperm: n = %lld must be in [0, 2^24] (ids are exact floats)",
                             (long long)n);
    Tensor *out = tensor__new("randperm", 1, (const int64_t[]){n});
    if (!out) return NULL;
    TensorGenerator *g = tensor__generator_or_default(gen);
    int64_t *r = tensor__scratch((size_t)(n ? n : 1) * sizeof *r);
    for (int64_t i = 0; i < n; i++) r[i] = i;
    for (int64_t i = 0; i + 1 < n; i++) {
        int64_t z = (int64_t)(tensor_generator_next_u32(g) % (uint64_t)(n - i));
        int64_t keep = r[i];
        r[i] = r[z + i];
        r[z + i] = keep;
    }
    for (int64_t i = 0; i < n; i++) out->data[i] = (float)r[i];
    return out;
}

/* Exp(lambda) draws in element order, each -1/lambda * log(1 - u) in double
 * from a 53-bit uniform u, rounded to float (PyTorch's non-MKL kernel). */
Tensor *tensor_exponential_(Tensor *t, double lambda, TensorGenerator *gen)
{
    if (!TENSOR__USABLE(t)) return NULL;
    if (!(lambda > 0) || !isfinite(lambda))
        return tensor_set_error("exponential_: lambda %g for %s must be positive and finite",
                                lambda,
                             tensor_shape_str(t));
    tensor__bump_version(t);
    TensorGenerator *g = tensor__generator_or_default(gen);
    float *v = tensor__scratch((size_t)(t->numel ? t->numel : 1) * sizeof *v);
    for (int64_t i = 0; i < t->numel; i++)
        v[i] = (float)(-1.0 / lambda * log(1.0 - tensor__uniform_double(g)));
    tensor__scatter_contiguous(t, v);
    return t;
}

/* probs must be rows of non-negative finite weights with a positive sum. */
static int check_probs(const Tensor *p, int64_t num_samples)
{
    const char *shape = tensor_shape_str(p);
    if (p->ndim != 1 && p->ndim != 2)
        return tensor_set_error("multinomial: probs %s must be 1-d or 2-d", shape), -1;
    int64_t n = p->shape[p->ndim - 1], rows = p->ndim == 2 ? p->shape[0] : 1;
    if (n == 0) return tensor_set_error("multinomial: probs %s has no categories", shape), -1;
    if (num_samples < 1 || num_samples > n)
        return tensor_set_error("multinomial: num_samples %lld for probs %s: need 1 to %lld "
                             "(draws without replacement)",
                             (long long)num_samples, shape, (long long)n), -1;
    const float *x = tensor__contiguous_data(p);
    for (int64_t r = 0; r < rows; r++) {
        double sum = 0;
        for (int64_t c = 0; c < n; c++) {
            float v = x[r * n + c];
            if (!isfinite(v) || v < 0)
                return tensor_set_error("multinomial: probs %s row %lld holds %g: need finite "
                                     "values >= 0", shape, (long long)r, (double)v), -1;
            sum += v;
        }
        if (!(sum > 0))
            return tensor_set_error("multinomial: probs %s row %lld sums to 0", shape,
                                 (long long)r), -1;
    }
    return 0;
}

/* The k largest of a row (descending; ties: the lower index first), their
 * indices in idx. */
static void row_topk(const float *x, int64_t n, int64_t k, float *val, float *idx, int64_t *order)
{
    for (int64_t i = 0; i < n; i++) order[i] = i;
    /* Selection of k by partial insertion: k is small in generation (top-k
     * 50 of 50,257) and one pass per kept value keeps it simple and exact. */
    for (int64_t j = 0; j < k; j++) {
        int64_t best = j;
        for (int64_t i = j + 1; i < n; i++) {
            float a = x[order[i]], b = x[order[best]];
            if (a > b || (isnan(a) && !isnan(b)) || (a == b && order[i] < order[best])) best = i;
        }
        int64_t keep = order[j];
        order[j] = order[best];
        order[best] = keep;
        val[j] = x[order[j]];
        idx[j] = (float)order[j];
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
    Tensor *val = tensor__alloc(a->ndim, shape), *idx = tensor__alloc(a->ndim, shape);
    const float *x = tensor__contiguous_data(a);
    int64_t rows = n ? a->numel / n : 0;
    int64_t *order = tensor__scratch((size_t)(n ? n : 1) * sizeof *order);
    for (int64_t r = 0; r < rows; r++)
        row_topk(x + r * n, n, k, val->data + r * k, idx->data + r * k, order);
    if (indices) *indices = idx;
    return val;
}

/* torch.multinomial without replacement (and so with one sample), as its
 * CPU fast path: q ~ Exp(1) of probs' shape from the generator, then the
 * samples are the largest of probs / q per row (argmax for one sample, the
 * Gumbel-max trick with exp applied).  Returns (rows, num_samples) ids, or
 * (num_samples) for a 1-d probs. */
Tensor *tensor_multinomial(const Tensor *probs, int64_t num_samples, TensorGenerator *gen)
{
    if (!TENSOR__USABLE(probs)) return NULL;
    if (check_probs(probs, num_samples)) return NULL;
    Tensor *q = tensor_exponential_(tensor__alloc(probs->ndim, probs->shape), 1.0, gen);
    const float *p = tensor__contiguous_data(probs);
    for (int64_t i = 0; i < q->numel; i++) q->data[i] = p[i] / q->data[i];
    if (num_samples > 1) {
        Tensor *idx;
        tensor_topk(q, num_samples, &idx);
        return idx;
    }
    return tensor_argmax(q, -1, true);
}
