/*
 * Sampling for generation and data loading, with PyTorch 1.13's CPU draws
 * for the same generator state: randperm (a data loader's shuffle), randint,
 * exponential_ and multinomial (text generation with a temperature).  None
 * records a gradient: their results are ids, or draws.  (topk, which
 * multinomial uses, is in sort.c.)
 */
#include "core/tensor_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* torch.randperm(n, generator=g) on a CPU (randperm_cpu): 0..n-1, then for
 * i = 0 .. n-2 swap r[i] with r[i + z], z = random() % (n - i), random() a
 * 32-bit draw.  PyTorch 1.13 draws so for every n: later releases take
 * 64-bit draws from n = UINT32_MAX / 20 up, but 1.13's randperm(214748369)
 * starts with its first 32-bit draw mod n, as this does. */
int tensor_randperm_int64(int64_t n, int64_t *out, TensorGenerator *gen)
{
    if (n < 0) return tensor_set_error("randperm_int64: n = %lld must be >= 0", (long long)n), -1;
    if (!out && n > 0) return tensor_set_error("randperm_int64: out is NULL"), -1;
    TensorGenerator *g = tensor__generator_or_default(gen);
    for (int64_t i = 0; i < n; i++) out[i] = i;
    for (int64_t i = 0; i + 1 < n; i++) {
        int64_t z = (int64_t)(tensor_generator_next_u32(g) % (uint64_t)(n - i));
        int64_t keep = out[i];
        out[i] = out[z + i];
        out[z + i] = keep;
    }
    return 0;
}

Tensor *tensor_randperm(int64_t n, TensorGenerator *gen)
{
    if (n < 0 || n > (int64_t)1 << 24)
        return tensor_set_error("randperm: n = %lld must be in [0, 2^24]: a float holds every "
                                "whole number only up to 2^24 (tensor_randperm_int64 takes any "
                                "n)", (long long)n);
    Tensor *out = tensor__new("randperm", 1, (const int64_t[]){n});
    if (!out) return NULL;
    int64_t *r = tensor__scratch((size_t)(n ? n : 1) * sizeof *r);
    tensor_randperm_int64(n, r, gen);
    for (int64_t i = 0; i < n; i++) out->data[i] = (float)r[i];
    return out;
}

/* torch.randint's rule for one element (DistributionsHelper.h's
 * uniform_int_from_to_distribution): a 64-bit draw (two words, the first the
 * high half) when the range needs more than 32 bits, else one word; then a
 * plain modulo, no rejection. */
int64_t tensor__randint_draw(TensorGenerator *g, int64_t low, uint64_t range)
{
    uint64_t v = range >= (UINT64_C(1) << 32) ? tensor_generator_next_u64(g)
                                               : tensor_generator_next_u32(g);
    return (int64_t)(v % range + (uint64_t)low);
}

/* torch.randint(low, high, shape) as its int64 call draws: element by
 * element in order, each from tensor__randint_draw. */
Tensor *tensor_randint(int64_t low, int64_t high, int ndim, const int64_t *shape,
                       TensorGenerator *gen)
{
    if (low >= high)
        return tensor_set_error("randint: low %lld must be less than high %lld",
                                (long long)low, (long long)high);
    if (low < -TENSOR__ID_LIMIT || high > TENSOR__ID_LIMIT + 1)
        return tensor_set_error("randint: [%lld, %lld) reaches past +-%lld, where float ids "
                                "are exact", (long long)low, (long long)high,
                                (long long)TENSOR__ID_LIMIT);
    Tensor *out = tensor__new("randint", ndim, shape);
    if (!out) return NULL;
    TensorGenerator *g = tensor__generator_or_default(gen);
    for (int64_t i = 0; i < out->numel; i++)
        out->data[i] = (float)tensor__randint_draw(g, low, (uint64_t)high - (uint64_t)low);
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
    const float *x = TENSOR__INPUT("multinomial", p);
    if (!x) return -1;
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

/* torch.multinomial without replacement (and so with one sample), as its
 * CPU fast path: q ~ Exp(1) of probs' shape from the generator, then the
 * samples are the largest of probs / q per row (argmax for one sample, the
 * Gumbel-max trick with exp applied).  Returns (rows, num_samples) ids, or
 * (num_samples) for a 1-d probs. */
Tensor *tensor_multinomial(const Tensor *probs, int64_t num_samples, TensorGenerator *gen)
{
    if (!TENSOR__USABLE(probs)) return NULL;
    if (check_probs(probs, num_samples)) return NULL;
    const float *p = TENSOR__INPUT("multinomial", probs);
    Tensor *q = p ? tensor__alloc_result("multinomial", probs->ndim, probs->shape) : NULL;
    if (!q) return NULL;
    tensor_exponential_(q, 1.0, gen);
    for (int64_t i = 0; i < q->numel; i++) q->data[i] = p[i] / q->data[i];
    if (num_samples > 1) {
        Tensor *idx;
        tensor_topk(q, num_samples, &idx);
        return idx;
    }
    return tensor_argmax(q, -1, true);
}
