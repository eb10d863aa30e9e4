/*
 * Adam and AdamW, as torch.optim.Adam / AdamW (1.13, _single_tensor_adam(w),
 * amsgrad off).  torch runs each line as a whole-tensor op; all of them are
 * elementwise, so one pass per element gives the same numbers with no
 * temporaries.  What torch computes in Python floats we compute in double,
 * rounding to float32 exactly where it meets a tensor; add(alpha=) and
 * addcmul round a*b + c once, as the FMA torch's CPU kernels compile to.
 */
#include "optim_internal.h"
#include "tensor/vectorize.h"

#include <math.h>

AdamOptions optim_adam_defaults(void)
{
    return (AdamOptions){.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
}

AdamOptions optim_adamw_defaults(void)
{
    AdamOptions a = optim_adam_defaults();
    a.weight_decay = 1e-2;
    return a;
}

/*   p.mul_(1 - lr * weight_decay)                       AdamW only
 *   grad = grad.add(p, alpha=weight_decay)              Adam, if weight_decay != 0
 *   exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
 *   exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
 *   bias_correction1 = 1 - beta1 ** step                (double, per parameter)
 *   bias_correction2 = 1 - beta2 ** step
 *   step_size = lr / bias_correction1
 *   denom = (exp_avg_sq.sqrt() / sqrt(bias_correction2)).add_(eps)
 *   p.addcdiv_(exp_avg, denom, value=-step_size) */
typedef struct {
    float neg_step_size, bc2_sqrt, decay, wd, beta1, beta2, eps;
    float one_minus_beta1, one_minus_beta2;
    bool decoupled, coupled_decay;
} AdamScalars;

/* One pass over n elements.  fmaf is a libm call in a baseline x86-64
 * build; TENSOR__VECTORIZE makes it one instruction where the CPU has FMA. */
TENSOR__VECTORIZE static void adam_loop(AdamScalars k, int64_t n, float *w, const float *grad,
                                        float *m, float *v)
{
    for (int64_t j = 0; j < n; j++) {
        float g = grad[j];
        if (k.decoupled) w[j] *= k.decay;
        if (k.coupled_decay) g = fmaf(k.wd, w[j], g);
        m[j] = fmaf(k.one_minus_beta1, g, m[j] * k.beta1);
        v[j] = fmaf(k.one_minus_beta2 * g, g, v[j] * k.beta2);
        float denom = sqrtf(v[j]) / k.bc2_sqrt + k.eps;
        w[j] += k.neg_step_size * m[j] / denom;
    }
}

static int adam_rule(Optimizer *o, int i, bool decoupled)
{
    const AdamOptions *a = &o->adam;
    Tensor *p = o->params[i], *m = optim__state(o, i, 0), *v = optim__state(o, i, 1);
    if (!m || !v) return -1;
    double t = (double)o->param_steps[i];
    double bias_correction1 = 1 - pow(a->beta1, t);
    double bias_correction2 = 1 - pow(a->beta2, t);
    AdamScalars k = {
        .neg_step_size = (float)-(a->lr / bias_correction1),
        .bc2_sqrt = (float)sqrt(bias_correction2),
        .decay = (float)(1 - a->lr * a->weight_decay),
        .wd = (float)a->weight_decay,
        .beta1 = (float)a->beta1,
        .beta2 = (float)a->beta2,
        .eps = (float)a->eps,
        .one_minus_beta1 = (float)(1 - a->beta1),
        .one_minus_beta2 = (float)(1 - a->beta2),
        .decoupled = decoupled,
        .coupled_decay = !decoupled && a->weight_decay != 0,
    };
    adam_loop(k, p->numel, p->data, p->grad->data, m->data, v->data);
    return 0;
}

static int adam_update(Optimizer *o, int i) { return adam_rule(o, i, false); }
static int adamw_update(Optimizer *o, int i) { return adam_rule(o, i, true); }

/* torch's checks, in its order; !(x >= 0) also refuses NaN. */
static int check_options(const char *op, const AdamOptions *a)
{
    if (!(a->lr >= 0))
        tensor_set_error("%s: invalid learning rate %g", op, a->lr);
    else if (!(a->eps >= 0))
        tensor_set_error("%s: invalid epsilon value %g", op, a->eps);
    else if (!(a->beta1 >= 0 && a->beta1 < 1))
        tensor_set_error("%s: invalid beta parameter at index 0: %g", op, a->beta1);
    else if (!(a->beta2 >= 0 && a->beta2 < 1))
        tensor_set_error("%s: invalid beta parameter at index 1: %g", op, a->beta2);
    else if (!(a->weight_decay >= 0))
        tensor_set_error("%s: invalid weight_decay value %g", op, a->weight_decay);
    else
        return 0;
    return -1;
}

static Optimizer *make(const char *op, const char *type, int n, Tensor *const *params,
                       AdamOptions options, int (*update)(Optimizer *o, int i))
{
    if (check_options(op, &options)) return NULL;
    Optimizer *o = optim__new(op, type, n, params, 2, update);
    if (!o) return NULL;
    o->state_names[0] = "exp_avg";
    o->state_names[1] = "exp_avg_sq";
    o->adam = options;
    return o;
}

Optimizer *optim_adam(int n, Tensor *const *params, AdamOptions options)
{
    return make("adam", "Adam", n, params, options, adam_update);
}

Optimizer *optim_adamw(int n, Tensor *const *params, AdamOptions options)
{
    return make("adamw", "AdamW", n, params, options, adamw_update);
}
