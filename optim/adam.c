/*
 * Adam and AdamW, as torch.optim.Adam / AdamW (1.13, _single_tensor_adam(w),
 * amsgrad off).  torch runs each line as a whole-tensor op; all of them are
 * elementwise, so one pass per element gives the same numbers with no
 * temporaries.  What torch computes in Python floats we compute in double,
 * rounding to float32 exactly where it meets a tensor; add(alpha=) and
 * addcmul round a*b + c once, as the FMA torch's CPU kernels compile to.
 */
#include "optim_internal.h"

#include <math.h>
#include <stddef.h>

AdamOptions optim_adam_defaults(void) { return OPTIM_ADAM_OPTIONS(); }
AdamOptions optim_adamw_defaults(void) { return OPTIM_ADAMW_OPTIONS(); }

/* The scalars of one update, in double as torch computes them in Python:
 *   bias_correction1 = 1 - beta1 ** step, bias_correction2 = 1 - beta2 ** step
 *   step_size = lr / bias_correction1
 * then the elementwise pass (tensor_adam_step_, whose comment has the rule). */
static int adam_rule(Optimizer *o, int i, bool decoupled)
{
    const AdamOptions *a = &o->adam;
    Tensor *p = o->params[i], *m = optim__state(o, i, 0), *v = optim__state(o, i, 1);
    if (!m || !v) return -1;
    double t = (double)o->param_steps[i];
    double bias_correction1 = 1 - pow(a->beta1, t);
    double bias_correction2 = 1 - pow(a->beta2, t);
    TensorAdamStep k = {
        .neg_step_size = (float)-(a->lr / bias_correction1),
        .bc2_sqrt = (float)sqrt(bias_correction2),
        .decay = (float)(1 - a->lr * a->weight_decay),
        .weight_decay = (float)a->weight_decay,
        .beta1 = (float)a->beta1,
        .beta2 = (float)a->beta2,
        .eps = (float)a->eps,
        .one_minus_beta1 = (float)(1 - a->beta1),
        .one_minus_beta2 = (float)(1 - a->beta2),
        .decoupled = decoupled,
        .coupled_decay = !decoupled && a->weight_decay != 0,
    };
    tensor_adam_step_(p, m, v, &k);
    return 0;
}

static int adam_update(Optimizer *o, int i) { return adam_rule(o, i, false); }
static int adamw_update(Optimizer *o, int i) { return adam_rule(o, i, true); }

/* torch's checks, in its order; !(x >= 0) also refuses NaN, and an
 * infinite lr, eps or weight_decay (which torch lets through) is refused
 * too: every update would make the parameters NaN or leave them still. */
static int check_options(const char *op, const void *options)
{
    const AdamOptions *a = options;
    if (a->optim__made != OPTIM__MADE)
        tensor_set_error("%s: options not made by OPTIM_%s_OPTIONS() or optim_%s_defaults(): a "
                         "literal {.lr = 0.01} leaves beta1, beta2 and eps at 0; write "
                         "OPTIM_%s_OPTIONS(.lr = 0.01)", op, op[4] ? "ADAMW" : "ADAM", op,
                         op[4] ? "ADAMW" : "ADAM");
    else if (!(a->lr >= 0 && a->lr < INFINITY))
        tensor_set_error("%s: invalid learning rate %g", op, a->lr);
    else if (!(a->eps >= 0 && a->eps < INFINITY))
        tensor_set_error("%s: invalid epsilon value %g", op, a->eps);
    else if (!(a->beta1 >= 0 && a->beta1 < 1))
        tensor_set_error("%s: invalid beta parameter at index 0: %g", op, a->beta1);
    else if (!(a->beta2 >= 0 && a->beta2 < 1))
        tensor_set_error("%s: invalid beta parameter at index 1: %g", op, a->beta2);
    else if (!(a->weight_decay >= 0 && a->weight_decay < INFINITY))
        tensor_set_error("%s: invalid weight_decay value %g", op, a->weight_decay);
    else
        return 0;
    return -1;
}

static const OptimHyper hyper[] = {
    {"lr", offsetof(AdamOptions, lr), false},
    {"beta1", offsetof(AdamOptions, beta1), false},
    {"beta2", offsetof(AdamOptions, beta2), false},
    {"eps", offsetof(AdamOptions, eps), false},
    {"weight_decay", offsetof(AdamOptions, weight_decay), false},
};

#define ADAM_KIND(type_, op_, update_)                                                         \
    {                                                                                          \
        .type = type_, .op = op_, .n_state = 2, .state_names = {"exp_avg", "exp_avg_sq"},      \
        .state_nonnegative = {false, true}, .options_offset = offsetof(Optimizer, adam),       \
        .options_size = sizeof(AdamOptions), .n_hyper = sizeof hyper / sizeof *hyper,          \
        .hyper = hyper, .check = check_options, .update = update_,                             \
    }

static const OptimKind adam = ADAM_KIND("Adam", "adam", adam_update);
static const OptimKind adamw = ADAM_KIND("AdamW", "adamw", adamw_update);

Optimizer *optim_adam(int64_t n, Tensor *const *params, AdamOptions options)
{
    return optim__new(&adam, n, params, &options);
}

Optimizer *optim_adamw(int64_t n, Tensor *const *params, AdamOptions options)
{
    return optim__new(&adamw, n, params, &options);
}
