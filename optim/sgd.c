/*
 * Stochastic gradient descent with momentum, as torch.optim.SGD (1.13,
 * _single_tensor_sgd).  torch runs each line as a whole-tensor op; all of
 * them are elementwise, so one pass per element gives the same numbers with
 * no temporaries.  Scalars are Python floats (double) rounded to float32
 * where they meet a tensor, and add(alpha=) rounds a*b + c once, as the FMA
 * torch's CPU kernel compiles to.
 */
#include "optim_internal.h"

#include <math.h>

SGDOptions optim_sgd_defaults(double lr)
{
    return (SGDOptions){.lr = lr};
}

/*   d_p = grad.add(p, alpha=weight_decay)               if weight_decay != 0
 *   buf = clone(d_p)                                     first update, or
 *   buf = buf.mul_(momentum).add_(d_p, alpha=1-dampening)   if momentum != 0
 *   d_p = nesterov ? d_p.add(buf, alpha=momentum) : buf
 *   p.add_(d_p, alpha=-lr) */
static int sgd_update(Optimizer *o, int i)
{
    const SGDOptions *s = &o->sgd;
    Tensor *p = o->params[i];
    float *w = p->data;
    const float *grad = p->grad->data;
    float wd = (float)s->weight_decay, momentum = (float)s->momentum;
    float keep = (float)(1 - s->dampening), neg_lr = (float)-s->lr;
    bool first = o->state[i] == NULL;
    float *buf = NULL;
    if (s->momentum != 0) {
        Tensor *b = optim__state(o, i, 0);
        if (!b) return -1;
        buf = b->data;
    }
    for (int64_t j = 0; j < p->numel; j++) {
        float d_p = grad[j];
        if (s->weight_decay != 0) d_p = fmaf(wd, w[j], d_p);
        if (buf) {
            buf[j] = first ? d_p : fmaf(keep, d_p, buf[j] * momentum);
            d_p = s->nesterov ? fmaf(momentum, buf[j], d_p) : buf[j];
        }
        w[j] = fmaf(neg_lr, d_p, w[j]);
    }
    return 0;
}

Optimizer *optim_sgd(int n, Tensor *const *params, SGDOptions options)
{
    /* torch's checks, in its order; !(x >= 0) also refuses NaN. */
    if (!(options.lr >= 0))
        return tensor_set_error("sgd: invalid learning rate %g", options.lr);
    if (!(options.momentum >= 0))
        return tensor_set_error("sgd: invalid momentum value %g", options.momentum);
    if (!(options.weight_decay >= 0))
        return tensor_set_error("sgd: invalid weight_decay value %g", options.weight_decay);
    if (options.nesterov && (options.momentum <= 0 || options.dampening != 0))
        return tensor_set_error("sgd: nesterov momentum requires a momentum and zero dampening "
                                "(momentum %g, dampening %g)", options.momentum, options.dampening);
    Optimizer *o = optim__new("sgd", "SGD", n, params, 1, sgd_update);
    if (!o) return NULL;
    o->state_names[0] = "momentum_buffer";
    o->sgd = options;
    return o;
}
