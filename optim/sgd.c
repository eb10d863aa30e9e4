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
#include <stddef.h>
#include <stdlib.h>

SGDOptions optim_sgd_defaults(double lr) { return OPTIM_SGD_OPTIONS(.lr = lr); }

/*   d_p = grad.add(p, alpha=weight_decay)               if weight_decay != 0
 *   buf = clone(d_p)                                     first update, or
 *   buf = buf.mul_(momentum).add_(d_p, alpha=1-dampening)   if momentum != 0
 *   d_p = nesterov ? d_p.add(buf, alpha=momentum) : buf
 *   p.add_(d_p, alpha=-lr) */
static int sgd_update(Optimizer *o, int64_t i, const void *options)
{
    const SGDOptions *s = options;
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
    tensor_bump_version(p); /* an in-place change, as p.add_() is in torch */
    return 0;
}

/* torch's checks, in its order; !(x >= 0) also refuses NaN, and infinite
 * values (which torch lets through, to NaN parameters) are refused too. */
static int check_options(const OptimKind *kind, const char *op, const void *options)
{
    (void)kind;
    const SGDOptions *o = options;
    if (o->optim__made != OPTIM__MADE)
        tensor_set_error("%s: options not made by OPTIM_SGD_OPTIONS() or optim_sgd_defaults(): "
                         "a literal {.momentum = 0.9} leaves lr at 0; write "
                         "OPTIM_SGD_OPTIONS(.lr = 0.1, .momentum = 0.9)", op);
    else if (isnan(o->lr))
        tensor_set_error("%s: no learning rate (SGD has no default): OPTIM_SGD_OPTIONS(.lr = 0.1)",
                         op);
    else if (!(o->lr >= 0 && o->lr < INFINITY))
        tensor_set_error("%s: invalid learning rate %g", op, o->lr);
    else if (!(o->momentum >= 0 && o->momentum < INFINITY))
        tensor_set_error("%s: invalid momentum value %g", op, o->momentum);
    else if (!isfinite(o->dampening))
        tensor_set_error("%s: invalid dampening value %g", op, o->dampening);
    else if (!(o->weight_decay >= 0 && o->weight_decay < INFINITY))
        tensor_set_error("%s: invalid weight_decay value %g", op, o->weight_decay);
    else if (o->nesterov && (o->momentum <= 0 || o->dampening != 0))
        tensor_set_error("%s: nesterov momentum requires a momentum and zero dampening "
                         "(momentum %g, dampening %g)", op, o->momentum, o->dampening);
    else
        return 0;
    return -1;
}

static const OptimHyper hyper[] = {
    {"lr", offsetof(SGDOptions, lr), false},
    {"momentum", offsetof(SGDOptions, momentum), false},
    {"dampening", offsetof(SGDOptions, dampening), false},
    {"weight_decay", offsetof(SGDOptions, weight_decay), false},
    {"nesterov", offsetof(SGDOptions, nesterov), true},
};

static const OptimKind sgd = {
    .type = "SGD",
    .op = "sgd",
    .n_state = 1,
    .state_names = {"momentum_buffer"},
    .options_offset = offsetof(OptimGroup, sgd),
    .options_size = sizeof(SGDOptions),
    .n_hyper = sizeof hyper / sizeof *hyper,
    .hyper = hyper,
    .check = check_options,
    .update = sgd_update,
};

Optimizer *optim_sgd(int64_t n, Tensor *const *params, SGDOptions options)
{
    /* torch's one-list form: "empty parameter list" for any count below 1 */
    OptimGroupSpec g = {n < 0 ? 0 : n, params, &options};
    return optim__new(&sgd, 1, &g);
}

Optimizer *optim_sgd_groups(int64_t n_groups, const SGDGroup *groups)
{
    OptimGroupSpec *g = n_groups > 0 && groups ? malloc((size_t)n_groups * sizeof *g) : NULL;
    if (n_groups > 0 && groups && !g) return tensor_set_error("sgd: out of memory");
    for (int64_t k = 0; g && k < n_groups; k++)
        g[k] = (OptimGroupSpec){groups[k].n, groups[k].params, &groups[k].options};
    Optimizer *o = optim__new(&sgd, n_groups, groups ? g : NULL);
    free(g);
    return o;
}
