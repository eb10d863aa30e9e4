/*
 * Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_ (1.13).
 */
#include "optim_internal.h"

#include <math.h>

/* torch.norm(g): float32 result.  torch sums the squares in float32 in an
 * order set by its SIMD kernel; we sum in double, which is at least as
 * accurate and agrees to within a float32 rounding. */
static float l2_norm(int64_t n, const float *x)
{
    double sum = 0;
    for (int64_t j = 0; j < n; j++) sum += (double)x[j] * x[j];
    return (float)sqrt(sum);
}

/* 0 when params[i] is usable, -1 with a message when not. */
static int check_param(const char *what, Tensor *const *params, int64_t i)
{
    const Tensor *p = params[i];
    if (!p) {
        tensor_set_error("%s: parameter %lld is NULL", what, (long long)i);
        return -1;
    }
    return optim__check_grad(what, p, i);
}

/* 0 when the list is usable, -1 with a message naming what when not. */
static int check_list(const char *what, int64_t n, Tensor *const *params)
{
    if (n < 0)
        return tensor_set_error("%s: negative parameter count %lld", what, (long long)n), -1;
    if (n > 0 && !params) return tensor_set_error("%s: parameter list is NULL", what), -1;
    return 0;
}

/* total_norm = torch.norm(torch.stack([torch.norm(g) for g in grads])): the
 * stack of per-tensor float32 norms, summed in squares as l2_norm does, over
 * the parameters that have a grad (0 when none has one).  0, or -1 with a
 * message naming what (clip_grad_norm, grad_norm) for a bad parameter. */
static int total_norm(const char *what, int64_t n, Tensor *const *params, float *total)
{
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        if (check_param(what, params, i)) return -1;
        const Tensor *g = params[i]->grad;
        if (!g) continue;
        float norm = l2_norm(g->numel, g->data);
        sum += (double)norm * norm;
    }
    *total = (float)sqrt(sum);
    return 0;
}

float optim_grad_norm(int64_t n, Tensor *const *params)
{
    float total;
    if (check_list("grad_norm", n, params) || total_norm("grad_norm", n, params, &total))
        return NAN;
    return total;
}

/*   clip_coef = max_norm / (total_norm + 1e-6)      (float32: reciprocal, then * max_norm)
 *   g.mul_(torch.clamp(clip_coef, max=1.0))          for every grad */
float optim_clip_grad_norm(int64_t n, Tensor *const *params, double max_norm)
{
    float total;
    if (check_list("clip_grad_norm", n, params)) return NAN;
    if (!(max_norm >= 0)) {
        tensor_set_error("clip_grad_norm: invalid max_norm %g", max_norm);
        return NAN;
    }
    if (total_norm("clip_grad_norm", n, params, &total)) return NAN;
    /* torch's Python scalar / tensor is tensor.reciprocal() * scalar. */
    float coef = 1.0f / (total + (float)1e-6) * (float)max_norm;
    /* clamp(max=1) keeps a NaN coefficient, which then reaches every grad. */
    if (coef >= 1.0f) return total;
    for (int64_t i = 0; i < n; i++) {
        Tensor *g = params[i]->grad;
        for (int64_t j = 0; g && j < g->numel; j++) g->data[j] *= coef;
    }
    return total;
}
