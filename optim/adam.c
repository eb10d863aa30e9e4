/*
 * Adam and AdamW, as torch.optim.Adam / AdamW (1.13, _single_tensor_adam(w),
 * amsgrad off): the scalars of an update and its pass over the elements.
 * torch runs each line as a whole-tensor op; all of them are elementwise,
 * so one pass per element gives the same numbers with no temporaries:
 *   p.mul_(1 - lr * weight_decay)                       AdamW only
 *   grad = grad.add(p, alpha=weight_decay)              Adam, if weight_decay != 0
 *   exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
 *   exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
 *   denom = (exp_avg_sq.sqrt() / sqrt(bias_correction2)).add_(eps)
 *   p.addcdiv_(exp_avg, denom, value=-step_size)
 * What torch computes in Python floats we compute in double, rounding to
 * float32 exactly where it meets a tensor; add(alpha=) and addcmul round
 * a*b + c once, as the FMA torch's CPU kernels compile to.
 *
 * The pass is the hottest loop of a training step after the products (the
 * 124M model's update is 162M parameters, memory bound), so it borrows two
 * things the tensor room lends the library's other rooms (not its users):
 * the vectorising attribute (kernels/vectorize.h) and the thread pool
 * (kernels/threads.h).  A large parameter is updated in chunks spread over
 * the threads: each element's update reads only that element, so the
 * numbers do not depend on the thread count.
 */
#include "optim_internal.h"
#include "tensor/kernels/threads.h"
#include "tensor/kernels/vectorize.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

AdamOptions optim_adam_defaults(void) { return OPTIM_ADAM_OPTIONS(); }
AdamOptions optim_adamw_defaults(void) { return OPTIM_ADAMW_OPTIONS(); }

/* One update's scalars, rounded to float32 where they meet the tensors. */
typedef struct {
    float neg_step_size;         /* -lr / bias_correction1 */
    float bc2_sqrt;              /* sqrt(bias_correction2) */
    float decay;                 /* AdamW: 1 - lr * weight_decay */
    float weight_decay;          /* Adam: added to the gradient as weight_decay * p */
    float beta1, beta2, eps, one_minus_beta1, one_minus_beta2;
    bool decoupled;              /* AdamW: p *= decay first */
    bool coupled_decay;          /* Adam with weight_decay != 0 */
} AdamScalars;

/* fmaf is a libm call in a baseline x86-64 build; TENSOR__VECTORIZE makes
 * it one instruction where the CPU has FMA. */
TENSOR__VECTORIZE static void adam_loop(AdamScalars k, int64_t n, float *w, const float *grad,
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
    AdamScalars k;
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

/* The scalars of one update, in double as torch computes them in Python:
 *   bias_correction1 = 1 - beta1 ** step, bias_correction2 = 1 - beta2 ** step
 *   step_size = lr / bias_correction1
 * then the elementwise pass. */
static int adam_rule(Optimizer *o, int64_t i, const AdamOptions *a, bool decoupled)
{
    Tensor *p = o->params[i], *m = optim__state(o, i, 0), *v = optim__state(o, i, 1);
    if (!m || !v) return -1;
    double t = (double)o->param_steps[i];
    double bias_correction1 = 1 - pow(a->beta1, t);
    double bias_correction2 = 1 - pow(a->beta2, t);
    AdamScalars k = {
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
    tensor_bump_version(p); /* an in-place change, as p.addcdiv_() is in torch */
    AdamChunks c = {.k = k, .n = p->numel, .w = p->data, .m = m->data, .v = v->data,
                    .grad = p->grad->data};
    int threads = p->numel >= PARALLEL_NUMEL ? tensor_get_num_threads() : 1;
    tensor__parallel_for((p->numel + CHUNK - 1) / CHUNK, threads, adam_chunk, &c);
    return 0;
}

static int adam_update(Optimizer *o, int64_t i, const void *options)
{
    return adam_rule(o, i, options, false);
}

static int adamw_update(Optimizer *o, int64_t i, const void *options)
{
    return adam_rule(o, i, options, true);
}

/* torch's checks, in its order; !(x >= 0) also refuses NaN, and an
 * infinite lr, eps or weight_decay (which torch lets through) is refused
 * too: every update would make the parameters NaN or leave them still. */
static int check_options(const OptimKind *kind, const char *op, const void *options)
{
    const AdamOptions *a = options;
    const char *macro = strcmp(kind->op, "adamw") == 0 ? "ADAMW" : "ADAM";
    if (a->optim__made != OPTIM__MADE)
        tensor_set_error("%s: options not made by OPTIM_%s_OPTIONS() or optim_%s_defaults(): a "
                         "literal {.lr = 0.01} leaves beta1, beta2 and eps at 0; write "
                         "OPTIM_%s_OPTIONS(.lr = 0.01)", op, macro, kind->op, macro);
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
        .state_nonnegative = {false, true}, .options_offset = offsetof(OptimGroup, adam),       \
        .options_size = sizeof(AdamOptions), .n_hyper = sizeof hyper / sizeof *hyper,          \
        .hyper = hyper, .check = check_options, .update = update_,                             \
    }

static const OptimKind adam = ADAM_KIND("Adam", "adam", adam_update);
static const OptimKind adamw = ADAM_KIND("AdamW", "adamw", adamw_update);

/* torch's one-list form: "empty parameter list" for any count below 1 */
static Optimizer *one_group(const OptimKind *kind, int64_t n, Tensor *const *params,
                            const AdamOptions *options)
{
    OptimGroupSpec g = {n < 0 ? 0 : n, params, options};
    return optim__new(kind, 1, &g);
}

static Optimizer *groups_of(const OptimKind *kind, int64_t n_groups, const AdamGroup *groups)
{
    OptimGroupSpec *g = n_groups > 0 && groups ? malloc((size_t)n_groups * sizeof *g) : NULL;
    if (n_groups > 0 && groups && !g) return tensor_set_error("%s: out of memory", kind->op);
    for (int64_t k = 0; g && k < n_groups; k++)
        g[k] = (OptimGroupSpec){groups[k].n, groups[k].params, &groups[k].options};
    Optimizer *o = optim__new(kind, n_groups, groups ? g : NULL);
    free(g);
    return o;
}

Optimizer *optim_adam(int64_t n, Tensor *const *params, AdamOptions options)
{
    return one_group(&adam, n, params, &options);
}

Optimizer *optim_adamw(int64_t n, Tensor *const *params, AdamOptions options)
{
    return one_group(&adamw, n, params, &options);
}

Optimizer *optim_adam_groups(int64_t n_groups, const AdamGroup *groups)
{
    return groups_of(&adam, n_groups, groups);
}

Optimizer *optim_adamw_groups(int64_t n_groups, const AdamGroup *groups)
{
    return groups_of(&adamw, n_groups, groups);
}
