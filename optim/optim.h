/*
 * attograd optim room: optimizers over lists of parameters, in groups, and
 * the learning-rate schedulers that drive them.  They know tensors, not
 * modules; the update rules are torch.optim's (1.13, the single-tensor
 * "for-loop" implementation), to the letter: the same float32 and float64
 * operations in the same order, so a run matches PyTorch's.
 *
 * Example:
 *
 *     NNList params = nn_named_parameters(model);
 *     Optimizer *opt = optim_adam(params.count, params.tensors, OPTIM_ADAM_OPTIONS(.lr = 0.01));
 *     if (!opt) fprintf(stderr, "%s\n", tensor_error());
 *     for (...) {
 *         TensorScope *step = tensor_scope_begin();
 *         Tensor *loss = tensor_mse_loss(nn_forward(model, x), y);
 *         optim_zero_grad(opt);
 *         tensor_backward(loss, NULL);
 *         optim_clip_grad_norm(params.count, params.tensors, 1.0);    (optional)
 *         optim_step(opt);
 *         tensor_scope_end(step);
 *     }
 *     optim_free(opt);
 *     nn_list_free(&params);
 *
 * Parameter groups, each with its own hyper-parameters, as torch's
 * param_groups; the usual split puts no weight decay on biases and
 * LayerNorm's scale and shift (the 1-d parameters):
 *
 *     torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
 *                        {"params": no_decay, "weight_decay": 0.0}], lr=5e-4)
 *
 *     NNList all = nn_named_parameters(model);
 *     Tensor **decay = malloc(all.count * sizeof *decay);
 *     Tensor **no_decay = malloc(all.count * sizeof *no_decay);
 *     int64_t n_decay = 0, n_no_decay = 0;
 *     for (int64_t i = 0; i < all.count; i++)
 *         if (all.tensors[i]->ndim >= 2) decay[n_decay++] = all.tensors[i];
 *         else no_decay[n_no_decay++] = all.tensors[i];
 *     AdamGroup groups[] = {
 *         {n_decay, decay, OPTIM_ADAMW_OPTIONS(.lr = 5e-4, .weight_decay = 0.1)},
 *         {n_no_decay, no_decay, OPTIM_ADAMW_OPTIONS(.lr = 5e-4, .weight_decay = 0)},
 *     };
 *     Optimizer *opt = optim_adamw_groups(2, groups);   (it copies the lists)
 *     free(decay);
 *     free(no_decay);
 *
 * Frozen parameters (requires_grad false: tensor_requires_grad_,
 * nn_requires_grad_) may be given, as the book's fine-tuning chapters give
 * AdamW all of a model's parameters after freezing most of them: a backward
 * gives them no gradient, and optim_step leaves them alone -- no update, no
 * weight decay, no state -- even when one still holds a gradient from
 * before it was frozen (see optim_step).
 *
 * Hyper-parameters are doubles, as Python floats are: torch computes
 * 1 - beta1, lr / bias_correction1 and the like in double and rounds each
 * to float32 only where it meets a tensor, and so do we.  Pass 0.01, not
 * 0.01f, to get PyTorch's numbers.
 *
 * The update rules, for a parameter p with gradient g (every tensor op in
 * float32; fma(a, b, c) is a*b + c rounded once, which is what torch's
 * add(alpha=) and addcmul compile to on x86-64), with the hyper-parameters
 * of p's group:
 *
 *   SGD     g = fma(weight_decay, p, g)                  if weight_decay != 0
 *           buf = clone(g) at the first step, else
 *           buf = fma(1 - dampening, g, buf * momentum)  if momentum != 0
 *           g = nesterov ? fma(momentum, buf, g) : buf
 *           p = fma(-lr, g, p)
 *   Adam    g = fma(weight_decay, p, g)                  if weight_decay != 0
 *   AdamW   p = p * (1 - lr * weight_decay)              (decoupled decay)
 *   both    m = fma(1 - beta1, g, m * beta1)
 *           v = fma((1 - beta2) * g, g, v * beta2)
 *           bc1 = 1 - beta1^t, bc2 = 1 - beta2^t         (double; t: this p's step)
 *           p = p + (-(lr / bc1) * m) / (sqrt(v) / sqrt(bc2) + eps)
 */
#ifndef ATTOGRAD_OPTIM_H
#define ATTOGRAD_OPTIM_H

#include "tensor/tensor.h"

/*
 * Options start from PyTorch's defaults; designated initialisers override
 * them, as keyword arguments do in Python:
 *
 *     optim_adam(n, params, OPTIM_ADAM_OPTIONS(.lr = 0.01))        Adam(params, lr=0.01)
 *     optim_adamw(n, params, OPTIM_ADAMW_OPTIONS(.lr = 5e-4, .weight_decay = 0.1))
 *     optim_sgd(n, params, OPTIM_SGD_OPTIONS(.lr = 0.1, .momentum = 0.9))
 *
 * A plain literal, AdamOptions o = {.lr = 0.01}, would leave betas and eps
 * at 0 (and the loss NaN within a few dozen steps): the constructors refuse
 * options that did not come from these macros or the optim_*_defaults()
 * functions, with a message saying how to write them.  SGD's lr has no
 * default (NaN until given), as in torch.  The macros are GNU C statement
 * expressions (GCC and Clang), so that overriding a default is not a
 * -Woverride-init warning.
 */
typedef struct {
    double lr;                   /* required: torch's SGD has no default */
    double momentum;             /* 0: plain SGD, no state */
    double dampening;
    double weight_decay;         /* L2, added to the gradient */
    bool nesterov;               /* needs momentum > 0 and dampening 0 */
    uint32_t optim__made;        /* set by the macros: private */
} SGDOptions;

typedef struct {
    double lr;
    double beta1, beta2;         /* torch's betas */
    double eps;
    double weight_decay;         /* Adam: L2 added to the gradient; AdamW: decoupled */
    uint32_t optim__made;        /* set by the macros: private */
} AdamOptions;

#define OPTIM__MADE 0x6f707473u
#define OPTIM__OPTIONS(type, ...)                                                             \
    (__extension__({                                                                          \
        _Pragma("GCC diagnostic push")                                                        \
        _Pragma("GCC diagnostic ignored \"-Woverride-init\"")                                 \
        type optim__options = {__VA_ARGS__};                                                  \
        _Pragma("GCC diagnostic pop")                                                         \
        optim__options;                                                                       \
    }))
#define OPTIM_SGD_OPTIONS(...)                                                                \
    OPTIM__OPTIONS(SGDOptions, .lr = __builtin_nan(""), .momentum = 0, .dampening = 0,         \
                   .weight_decay = 0, .nesterov = false, .optim__made = OPTIM__MADE, __VA_ARGS__)
#define OPTIM_ADAM_OPTIONS(...)                                                               \
    OPTIM__OPTIONS(AdamOptions, .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8,         \
                   .weight_decay = 0, .optim__made = OPTIM__MADE, __VA_ARGS__)
#define OPTIM_ADAMW_OPTIONS(...)                                                              \
    OPTIM__OPTIONS(AdamOptions, .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8,         \
                   .weight_decay = 1e-2, .optim__made = OPTIM__MADE, __VA_ARGS__)

/* A group of the parameters and its hyper-parameters, for the *_groups
 * constructors: n tensors (0 is allowed, as torch allows an empty group;
 * params may then be NULL) and options made by OPTIM_*_OPTIONS. */
typedef struct {
    int64_t n;
    Tensor *const *params;
    AdamOptions options;
} AdamGroup;
typedef struct {
    int64_t n;
    Tensor *const *params;
    SGDOptions options;
} SGDGroup;

/* A group as the optimizer holds it: torch's param_groups[g]. */
typedef struct {
    int64_t first, count;        /* its parameters: params[first] .. params[first + count - 1] */
    SGDOptions sgd;              /* SGD's hyper-parameters */
    AdamOptions adam;            /* Adam's and AdamW's */
} OptimGroup;

/*
 * The whole optimizer is public so that a checkpoint can save and restore it
 * exactly, as torch's optimizer.state_dict():
 *   - params holds every group's parameters, group after group (torch numbers
 *     its state so); groups[g] says which are g's and holds g's
 *     hyper-parameters (sgd or adam, by type).  One may change a group's lr
 *     between steps (optim_set_lr, or a scheduler); the hyper-parameters are
 *     checked when the optimizer is made and when a checkpoint is loaded.
 *   - state[i * n_state + k] is state tensor state_names[k] of params[i]:
 *     SGD: "momentum_buffer" (NULL while momentum is 0 or before params[i]'s
 *     first update); Adam, AdamW: "exp_avg", "exp_avg_sq" (NULL before the
 *     first update).  Each is a contiguous tensor_keep() tensor of params[i]'s
 *     shape that the optimizer owns: a loader may overwrite one in place, or
 *     fill a NULL slot with a tensor_keep() tensor of that shape.
 *     state_nonnegative[k]: the state never holds a negative value
 *     (exp_avg_sq), which a loader checks.
 *   - param_steps[i] is torch's state["step"] for params[i]: the updates it
 *     has received (it lags steps when its grad was NULL or it was frozen).
 *     Adam's bias correction reads it; torch's SGD keeps no "step", so a
 *     checkpoint of an SGD optimizer need not save it.
 * A program need not touch these fields.
 */
typedef struct Optimizer Optimizer;
typedef struct OptimKind OptimKind; /* the rule and its hyper-parameters (private) */
struct Optimizer {
    const OptimKind *kind;
    const char *type;            /* "SGD", "Adam", "AdamW" */
    int64_t n_params;
    Tensor **params;             /* owned copy of the lists; the tensors are not owned */
    int64_t n_groups;
    OptimGroup *groups;
    int64_t steps;               /* successful optim_step calls */
    int64_t *param_steps;        /* [i]: updates params[i] has received */
    int n_state;                 /* state tensors per parameter: SGD 1, Adam(W) 2 */
    const char *state_names[2];  /* PyTorch's names, as above */
    bool state_nonnegative[2];
    Tensor **state;              /* [i * n_state + k], long-lived; NULL until first needed */
};

/* The macros' defaults as functions (for C without statement expressions). */
ATTOGRAD_API SGDOptions optim_sgd_defaults(double lr);
ATTOGRAD_API AdamOptions optim_adam_defaults(void);
ATTOGRAD_API AdamOptions optim_adamw_defaults(void);           /* the same with weight_decay 1e-2 */

/*
 * One group of n parameters.  Each returns NULL and records a message
 * (tensor_error()) on bad input, as torch's constructors raise (and for what
 * torch lets through: infinite values, options not made by OPTIM_*_OPTIONS):
 *   "adam: options not made by OPTIM_ADAM_OPTIONS() or optim_adam_defaults(): a literal
 *    {.lr = 0.01} leaves beta1, beta2 and eps at 0; write OPTIM_ADAM_OPTIONS(.lr = 0.01)"
 *   "sgd: invalid learning rate -1"           lr < 0, NaN or inf (also momentum, weight_decay)
 *   "sgd: no learning rate (SGD has no default): OPTIM_SGD_OPTIONS(.lr = 0.1)"
 *   "sgd: nesterov momentum requires a momentum and zero dampening (momentum 0, dampening 0)"
 *   "adam: invalid beta parameter at index 1: 1"   betas outside [0, 1); eps < 0
 *   "adamw: empty parameter list"             n <= 0
 *   "sgd: parameter list is NULL"             n > 0, params NULL
 *   "adam: parameter 1 is NULL"
 *   "adam: parameter 0 (3,2) is not a leaf (grad_fn MulBackward0)"
 *   "adam: parameter 2 (2) is parameter 1 again"      (torch only warns)
 *   "adam: parameter 0 (2,3) is not contiguous"
 *   "sgd: parameter 1 (3,2) belongs to a scope; parameters must be long-lived
 *    (tensor_keep or nn_parameter)"
 * A parameter with a name (a module's: nn_named_parameters) is named too:
 *   "adam: parameter 3 "trf_blocks.0.att.W_key.weight" (768,768) is not contiguous"
 * A parameter that does not require grad (a frozen one) is accepted, as
 * torch accepts it.  The tensors must outlive the optimizer.
 */
ATTOGRAD_API Optimizer *optim_sgd(int64_t n, Tensor *const *params, SGDOptions options);
ATTOGRAD_API Optimizer *optim_adam(int64_t n, Tensor *const *params, AdamOptions options);
ATTOGRAD_API Optimizer *optim_adamw(int64_t n, Tensor *const *params, AdamOptions options);
/*
 * Several groups, in order (torch's list of dicts).  Refused as above, the
 * messages saying which group when there are several ("adamw: group 1:
 * invalid learning rate nan", "adamw: group 0: parameter 2 ... is not
 * contiguous"), and, as torch refuses it, a tensor in two groups:
 *   "adamw: some parameters appear in more than one parameter group
 *    (parameter 0 "0.bias" (4) of group 1 is parameter 1 of group 0)"
 * An empty group is kept (a split by ndim of a model without biases makes
 * one); no parameter in any group is "empty parameter list".
 */
ATTOGRAD_API Optimizer *optim_sgd_groups(int64_t n_groups, const SGDGroup *groups);
ATTOGRAD_API Optimizer *optim_adam_groups(int64_t n_groups, const AdamGroup *groups);
ATTOGRAD_API Optimizer *optim_adamw_groups(int64_t n_groups, const AdamGroup *groups);

/* One update of every parameter that requires grad and whose .grad is not
 * NULL (torch skips grad None), with its group's hyper-parameters.  A frozen
 * parameter (requires_grad false) is skipped even when it holds a gradient:
 * torch 1.13 would update it with the zero gradient its zero_grad() leaves
 * (the moments decay, weight decay and momentum still move it) unless the
 * caller also sets its grad to None; torch 2's zero_grad() sets None, and the
 * book's fine-tuning freezes before the optimizer is made -- frozen means not
 * trained here, however it was frozen.  Returns 0, or -1 with a message
 * when a grad is not a contiguous tensor of its parameter's shape (then
 * nothing is updated), or when a parameter's state does not fit in memory
 * (then the parameters before it are updated, it and the ones after are
 * not). */
ATTOGRAD_API int optim_step(Optimizer *o);
/* Zeroes every .grad and keeps its memory: torch 1.13's zero_grad()
 * (set_to_none=False).  set_to_none=True, torch 2's default, frees them
 * instead; the difference is memory, and that a parameter a later backward
 * does not reach then has no grad, so optim_step skips it rather than
 * updating it with a zero gradient (which still moves it under momentum,
 * Adam or weight decay). */
ATTOGRAD_API void optim_zero_grad(Optimizer *o);
ATTOGRAD_API void optim_free(Optimizer *o); /* the state and the optimizer; NULL is fine */

/* Group g's learning rate (torch's param_groups[g]["lr"] = lr).  set refuses
 * a negative or non-finite lr and a group out of range (-1 with a message,
 * nothing changed); get gives NAN for those. */
ATTOGRAD_API int optim_set_lr(Optimizer *o, int64_t group, double lr);
ATTOGRAD_API double optim_get_lr(const Optimizer *o, int64_t group);

/*
 * torch.nn.utils.clip_grad_norm_(params, max_norm): total is the L2 norm of
 * all gradients together (the norm of the per-tensor norms); when
 * max_norm / (total + 1e-6) < 1 every gradient is multiplied by it.  Returns
 * total (0 when no parameter has a grad), or NAN with a message for a NULL
 * parameter or max_norm < 0.  Parameters whose .grad is NULL are skipped.
 */
ATTOGRAD_API float optim_clip_grad_norm(int64_t n, Tensor *const *params, double max_norm);
/* The same total without clipping (the norm appendix D records every step,
 * clipped or not): NAN with a message for a NULL parameter. */
ATTOGRAD_API float optim_grad_norm(int64_t n, Tensor *const *params);

/* ---- Hyper-parameters as numbers (what a checkpoint saves of each group) ------- */
/*
 * The optimizer's hyper-parameters in its kind's order, each as a double (a
 * bool as 0 or 1), under the names a checkpoint gives them
 * (checkpoint/checkpoint.h): SGD lr, momentum, dampening, weight_decay,
 * nesterov (a bool); Adam and AdamW lr, beta1, beta2, eps, weight_decay.
 * optim_hyper_name is NULL for k out of range; optim_get_hyper NAN.
 * optim_check_hypers checks n_hypers values as the constructor checks its
 * options (0, or -1 with its message: "adam: invalid learning rate nan"),
 * changing nothing; optim_set_hypers checks them, then sets group's.
 */
ATTOGRAD_API int optim_num_hypers(const Optimizer *o);
ATTOGRAD_API const char *optim_hyper_name(const Optimizer *o, int k, bool *is_bool);
ATTOGRAD_API double optim_get_hyper(const Optimizer *o, int64_t group, int k);
ATTOGRAD_API int optim_check_hypers(const Optimizer *o, const double *values);
ATTOGRAD_API int optim_set_hypers(Optimizer *o, int64_t group, const double *values);

/* ---- Learning-rate schedulers ---------------------------------------------- */
/*
 * Small objects as torch.optim.lr_scheduler's: made on an optimizer, stepped
 * once per optimizer step (torch's order: optim_step, then
 * optim_scheduler_step), each setting every group's lr.  As in torch, making
 * one is its first step (epoch 0: StepLR and CosineAnnealingLR leave the lr,
 * LambdaLR sets base * lambda(0), the book's schedule sets initial_lr); a
 * group's base lr is its lr when the scheduler is made.
 *
 *     OptimScheduler *s = optim_cosine_annealing_lr(opt, 10, 0.001);
 *     for (...) { ... optim_step(opt); optim_scheduler_step(s); }
 *     optim_scheduler_free(s);           (before or after optim_free(opt))
 *
 * The learning rates are torch's doubles, bit for bit (the recursive forms
 * StepLR and CosineAnnealingLR use build on each group's current lr, so an
 * optim_set_lr in between is taken up, as in torch).  No scheduler ends:
 * each goes on past its nominal length as its formula does (below).
 * Constructors return NULL with a message for bad arguments, or when the lr
 * they would set is invalid; optim_scheduler_step returns 0, or -1 with a
 * message and nothing changed when a new lr would be negative or not finite
 * (a lambda's NaN).
 */
typedef struct OptimScheduler OptimScheduler;
/* StepLR(step_size, gamma): every step_size epochs lr = lr * gamma (the
 * running lr, not base * gamma^n).  step_size > 0, gamma finite and >= 0. */
ATTOGRAD_API OptimScheduler *optim_step_lr(Optimizer *o, int64_t step_size, double gamma);
/* LambdaLR(lr_lambda): lr = base * lr_lambda(epoch, ctx), one function for
 * every group (torch also takes a list). */
typedef double (*OptimLambda)(int64_t epoch, void *ctx);
ATTOGRAD_API OptimScheduler *optim_lambda_lr(Optimizer *o, OptimLambda lr_lambda, void *ctx);
/* CosineAnnealingLR(T_max, eta_min), torch's recursive form:
 *   epoch 0: lr unchanged (the base)
 *   (epoch - 1 - T_max) % (2 T_max) == 0: lr + (base - eta_min) * (1 - cos(pi / T_max)) / 2
 *   otherwise: (1 + cos(pi * epoch / T_max)) / (1 + cos(pi * (epoch - 1) / T_max))
 *              * (lr - eta_min) + eta_min
 * eta_min at T_max, then back up: the base again at 2 T_max (period 2 T_max,
 * as torch).  t_max > 0, eta_min finite and >= 0. */
ATTOGRAD_API OptimScheduler *optim_cosine_annealing_lr(Optimizer *o, int64_t t_max,
                                                       double eta_min);
/*
 * The book's appendix D: linear warm-up from initial_lr to the peak (each
 * group's lr when the scheduler is made: the book reads peak_lr from the
 * optimizer) over warmup_steps, then cosine decay towards min_lr:
 *   epoch < warmup_steps:  lr = initial_lr + epoch * ((peak - initial_lr) / warmup_steps)
 *   else: progress = (epoch - warmup_steps) / (total_steps - warmup_steps)
 *         lr = min_lr + (peak - min_lr) * 0.5 * (1 + cos(pi * progress))
 * in double, in the book's order.  The book's loop stops at total_steps - 1
 * (it never reaches min_lr); at total_steps the lr is min_lr, and past it
 * the formula goes on unclamped, as the book's code would: the cosine
 * climbs back to the peak at 2 total_steps - warmup_steps and falls again
 * (period 2 (total_steps - warmup_steps)).  Stop at total_steps, or make
 * total_steps the run's length.  Options (the book's train_model defaults:
 * initial_lr 3e-5, min_lr 1e-6; the steps have none):
 *     optim_warmup_cosine_lr(opt, OPTIM_WARMUP_COSINE_OPTIONS(.warmup_steps = 27,
 *                                                            .total_steps = 135))
 * Refused: warmup_steps < 0, total_steps <= warmup_steps, an lr negative or
 * not finite, options not made by the macro.
 */
typedef struct {
    int64_t warmup_steps, total_steps;
    double initial_lr, min_lr;
    uint32_t optim__made;        /* set by the macro: private */
} WarmupCosineOptions;
#define OPTIM_WARMUP_COSINE_OPTIONS(...)                                                      \
    OPTIM__OPTIONS(WarmupCosineOptions, .warmup_steps = -1, .total_steps = -1,                 \
                   .initial_lr = 3e-5, .min_lr = 1e-6, .optim__made = OPTIM__MADE, __VA_ARGS__)
ATTOGRAD_API OptimScheduler *optim_warmup_cosine_lr(Optimizer *o, WarmupCosineOptions options);
/* The same rule as a function of the step, for a loop that sets the lr
 * itself (train_model_simple's appendix-D schedule): the lr of step (from 0)
 * for this peak, the formula above; NAN with the constructor's message for
 * options it refuses, and for a peak that is negative or not finite. */
ATTOGRAD_API double optim_warmup_cosine_lr_at(WarmupCosineOptions options, double peak_lr,
                                              int64_t step);
/* The next epoch's learning rates into every group: 0, or -1 as above. */
ATTOGRAD_API int optim_scheduler_step(OptimScheduler *s);
ATTOGRAD_API int64_t optim_scheduler_epoch(const OptimScheduler *s); /* torch's last_epoch */
/* The lr the scheduler last set in group (torch's get_last_lr()[group]); NAN
 * for a group out of range. */
ATTOGRAD_API double optim_scheduler_last_lr(const OptimScheduler *s, int64_t group);
ATTOGRAD_API void optim_scheduler_free(OptimScheduler *s);            /* NULL is fine */

#endif /* ATTOGRAD_OPTIM_H */
