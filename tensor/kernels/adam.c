/*
 * Adam and AdamW's update of one parameter, fused into one pass (the
 * for-loop rules of torch.optim 1.13, whole-tensor ops that are all
 * elementwise, so one pass per element gives the same numbers with no
 * temporaries):
 *   p.mul_(1 - lr * weight_decay)                       AdamW only
 *   grad = grad.add(p, alpha=weight_decay)              Adam, if weight_decay != 0
 *   exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
 *   exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
 *   denom = (exp_avg_sq.sqrt() / sqrt(bias_correction2)).add_(eps)
 *   p.addcdiv_(exp_avg, denom, value=-step_size)
 * It lives in the tensor room because it is a hot loop over tensors' data
 * (vectorised per CPU, kernels/vectorize.h); optim/adam.c computes the
 * scalars and owns the state.
 *
 * A large parameter is updated in chunks spread over the threads: each
 * element's update reads only that element, so the numbers do not depend on
 * the thread count (the 124M model's update is 162M parameters, memory
 * bound, 30% of PyTorch's one-thread step).
 */
#include "core/tensor_internal.h"
#include "kernels/threads.h"
#include "kernels/vectorize.h"

#include <math.h>

/* fmaf is a libm call in a baseline x86-64 build; TENSOR__VECTORIZE makes
 * it one instruction where the CPU has FMA. */
TENSOR__VECTORIZE static void adam_loop(TensorAdamStep k, int64_t n, float *w, const float *grad,
                                        float *m, float *v)
{
    for (int64_t j = 0; j < n; j++) {
        float g = grad[j];
        if (k.decoupled) w[j] *= k.decay;
        if (k.coupled_decay) g = fmaf(k.weight_decay, w[j], g);
        m[j] = fmaf(k.one_minus_beta1, g, m[j] * k.beta1);
        v[j] = fmaf(k.one_minus_beta2 * g, g, v[j] * k.beta2);
        float denom = sqrtf(v[j]) / k.bc2_sqrt + k.eps;
        w[j] += k.neg_step_size * m[j] / denom;
    }
}

/* Elements of a chunk (four arrays of it stay in L2), and the size from
 * which a parameter's chunks go to the threads. */
enum { CHUNK = 1 << 14, PARALLEL_NUMEL = 1 << 17 };

typedef struct {
    TensorAdamStep k;
    int64_t n;
    float *w, *m, *v;
    const float *grad;
} AdamChunks;

static void adam_chunk(void *ctx, int64_t c, int worker)
{
    const AdamChunks *a = ctx;
    int64_t j = c * CHUNK, n = a->n - j < CHUNK ? a->n - j : CHUNK;
    adam_loop(a->k, n, a->w + j, a->grad + j, a->m + j, a->v + j);
    (void)worker;
}

void tensor_adam_step_(Tensor *p, Tensor *exp_avg, Tensor *exp_avg_sq, const TensorAdamStep *k)
{
    tensor__bump_version(p);
    AdamChunks a = {.k = *k, .n = p->numel, .w = p->data, .m = exp_avg->data,
                    .v = exp_avg_sq->data, .grad = p->grad->data};
    int threads = p->numel >= PARALLEL_NUMEL ? tensor_get_num_threads() : 1;
    tensor__parallel_for((p->numel + CHUNK - 1) / CHUNK, threads, adam_chunk, &a);
}
