/*
 * Dropout, forward and backward side by side.  Its mask is drawn as
 * PyTorch 1.13's CPU build draws it (the non-MKL path): bernoulli from a
 * 53-bit double uniform, u < 1 - p, scaled by 1 / (1 - p) in float.
 */
#include "core/tensor_internal.h"

#include <string.h>

/* noise = bernoulli(keep) / keep, contiguous in a's shape; all zero when keep
 * is 0.  NULL (nothing drawn) when it does not fit in memory. */
static Tensor *dropout_noise(const Tensor *a, double keep, TensorGenerator *g)
{
    Tensor *noise = tensor__alloc_result("dropout", a->ndim, a->shape);
    if (!noise) return NULL;
    if (keep == 0) {
        memset(noise->data, 0, (size_t)noise->numel * sizeof(float));
        return noise;
    }
    float scale = 1.0f / (float)keep;   /* noise.div_(1 - p) divides in float */
    for (int64_t i = 0; i < noise->numel; i++)
        noise->data[i] = tensor__uniform_double(g) < keep ? scale : 0.0f;
    return noise;
}

Tensor *tensor_dropout(const Tensor *a, float p, bool train, TensorGenerator *gen)
{
    if (!TENSOR__USABLE(a)) return NULL;
    if (!(p >= 0 && p <= 1))
        return tensor_set_error("dropout: probability p = %g for %s is not between 0 and 1",
                             (double)p, tensor_shape_str(a));
    /* PyTorch returns the input itself (no new node) in these cases; the op
     * never writes through the result, so dropping const is safe. */
    if (p == 0 || !train || a->numel == 0) return (Tensor *)a;
    Tensor *out = tensor__alloc_result("dropout", a->ndim, a->shape);
    const float *x = out ? TENSOR__INPUT("dropout", a) : NULL;
    Tensor *noise = x ? dropout_noise(a, 1.0 - tensor__typed_double(p),
                                      tensor__generator_or_default(gen))
                      : NULL;
    if (!noise) return NULL;
    for (int64_t i = 0; i < out->numel; i++) out->data[i] = x[i] * noise->data[i];
    TensorNode *n = tensor__record(OP_DROPOUT, out, 1, (const Tensor *[]){a});
    if (n) n->saved[0] = noise;
    return tensor__result(out);
}

/* forward: y = x * noise, noise = mask / (1 - p) (saved[0], 0 or the scale);
 * backward: dx += dy * noise */
void tensor__dropout_backward(TensorNode *n, const Tensor *grad_out)
{
    const Tensor *noise = n->saved[0];
    const float *dy = tensor__contiguous_data(grad_out);
    Tensor *dx = tensor__alloc(noise->ndim, noise->shape);
    for (int64_t i = 0; i < dx->numel; i++) dx->data[i] = dy[i] * noise->data[i];
    tensor__accumulate_grad(n->inputs[0], dx);
}
