/*
 * attograd optim room: optimizers over a list of parameters.  They know
 * tensors, not modules; the update rules are torch.optim's (1.13, the
 * single-tensor "for-loop" implementation), to the letter: the same float32
 * and float64 operations in the same order, so a run matches PyTorch's.
 *
 * Example:
 *
 *     NNList params = nn_named_parameters(NN(model));
 *     Optimizer *opt = optim_adam(params.count, params.tensors, OPTIM_ADAM_OPTIONS(.lr = 0.01));
 *     if (!opt) fprintf(stderr, "%s\n", tensor_error());
 *     for (...) {
 *         TensorScope *step = tensor_scope_begin();
 *         Tensor *loss = tensor_mse_loss(nn_forward(NN(model), x), y);
 *         optim_zero_grad(opt);
 *         tensor_backward(loss, NULL);
 *         optim_clip_grad_norm(params.count, params.tensors, 1.0);    (optional)
 *         optim_step(opt);
 *         tensor_scope_end(step);
 *     }
 *     optim_free(opt);
 *     nn_list_free(&params);
 *
 * Hyper-parameters are doubles, as Python floats are: torch computes
 * 1 - beta1, lr / bias_correction1 and the like in double and rounds each
 * to float32 only where it meets a tensor, and so do we.  Pass 0.01, not
 * 0.01f, to get PyTorch's numbers.
 *
 * The update rules, for a parameter p with gradient g (every tensor op in
 * float32; fma(a, b, c) is a*b + c rounded once, which is what torch's
 * add(alpha=) and addcmul compile to on x86-64):
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

/*
 * The whole optimizer is public so that a checkpoint can save and restore it
 * exactly, as torch's optimizer.state_dict():
 *   - state[i * n_state + k] is state tensor state_names[k] of params[i]:
 *     SGD: "momentum_buffer" (NULL while momentum is 0 or before params[i]'s
 *     first update); Adam, AdamW: "exp_avg", "exp_avg_sq" (NULL before the
 *     first update).  Each is a contiguous tensor_keep() tensor of params[i]'s
 *     shape that the optimizer owns: a loader may overwrite one in place, or
 *     fill a NULL slot with a tensor_keep() tensor of that shape.
 *   - param_steps[i] is torch's state["step"] for params[i]: the updates it
 *     has received (it lags steps when its grad was NULL).  Adam's bias
 *     correction reads it; torch's SGD keeps no "step", so a checkpoint of an
 *     SGD optimizer need not save it.
 *   - sgd / adam hold the hyper-parameters (torch's param_groups[0]); one may
 *     change lr between steps for a schedule.  They are checked when the
 *     optimizer is made and when a checkpoint is loaded.
 * optim_state_add lists all of it for a checkpoint; a program need not
 * touch these fields.
 */
typedef struct Optimizer Optimizer;
typedef struct OptimKind OptimKind; /* the rule, its hyper-parameters and state (private) */
struct Optimizer {
    const OptimKind *kind;
    const char *type;            /* "SGD", "Adam", "AdamW" */
    int64_t n_params;
    Tensor **params;             /* owned copy of the array; the tensors are not owned */
    int64_t steps;               /* successful optim_step calls */
    int64_t *param_steps;        /* [i]: updates params[i] has received */
    int n_state;                 /* state tensors per parameter: SGD 1, Adam(W) 2 */
    const char *state_names[2];  /* PyTorch's names, as above */
    Tensor **state;              /* [i * n_state + k], long-lived; NULL until first needed */
    SGDOptions sgd;              /* used by SGD */
    AdamOptions adam;            /* used by Adam and AdamW */
};

/* The macros' defaults as functions (for C without statement expressions). */
ATTOGRAD_API SGDOptions optim_sgd_defaults(double lr);
ATTOGRAD_API AdamOptions optim_adam_defaults(void);
ATTOGRAD_API AdamOptions optim_adamw_defaults(void);           /* the same with weight_decay 1e-2 */

/*
 * Each returns NULL and records a message (tensor_error()) on bad input, as
 * torch's constructors raise (and for what torch lets through: infinite
 * values, options not made by OPTIM_*_OPTIONS):
 *   "adam: options not made by OPTIM_ADAM_OPTIONS() or optim_adam_defaults(): a literal
 *    {.lr = 0.01} leaves beta1, beta2 and eps at 0; write OPTIM_ADAM_OPTIONS(.lr = 0.01)"
 *   "sgd: invalid learning rate -1"           lr < 0, NaN or inf (also momentum, weight_decay)
 *   "sgd: no learning rate (SGD has no default): OPTIM_SGD_OPTIONS(.lr = 0.1)"
 *   "sgd: nesterov momentum requires a momentum and zero dampening (momentum 0, dampening 0)"
 *   "adam: invalid beta parameter at index 1: 1"   betas outside [0, 1); eps < 0
 *   "adamw: empty parameter list"             n <= 0 or params NULL
 *   "adam: parameter 1 is NULL"
 *   "adam: parameter 1 (2) does not require grad"
 *   "adam: parameter 0 (3,2) is not a leaf (grad_fn MulBackward0)"
 *   "adam: parameter 2 (2) is parameter 1 again"      (torch only warns)
 *   "adam: parameter 0 (2,3) is not contiguous"
 *   "sgd: parameter 1 (3,2) belongs to a scope; parameters must be long-lived
 *    (tensor_keep or nn_parameter)"
 * A parameter with a name (a module's: nn_named_parameters) is named too:
 *   "adam: parameter 3 "trf_blocks.0.att.W_key.weight" (768,768) does not require grad"
 * The tensors must outlive the optimizer.
 */
ATTOGRAD_API Optimizer *optim_sgd(int64_t n, Tensor *const *params, SGDOptions options);
ATTOGRAD_API Optimizer *optim_adam(int64_t n, Tensor *const *params, AdamOptions options);
ATTOGRAD_API Optimizer *optim_adamw(int64_t n, Tensor *const *params, AdamOptions options);

/* One update of every parameter whose .grad is not NULL (torch skips grad
 * None).  Returns 0, or -1 with a message when a grad is not a contiguous
 * tensor of its parameter's shape (then nothing is updated), or when a
 * parameter's state does not fit in memory (then the parameters before it
 * are updated, it and the ones after are not). */
ATTOGRAD_API int optim_step(Optimizer *o);
/* Zeroes every .grad and keeps its memory: torch 1.13's zero_grad()
 * (set_to_none=False).  set_to_none=True, torch 2's default, frees them
 * instead; the difference is memory, and that a parameter a later backward
 * does not reach then has no grad, so optim_step skips it rather than
 * updating it with a zero gradient (which still moves it under momentum,
 * Adam or weight decay). */
ATTOGRAD_API void optim_zero_grad(Optimizer *o);
ATTOGRAD_API void optim_free(Optimizer *o); /* the state and the optimizer; NULL is fine */

/*
 * torch.nn.utils.clip_grad_norm_(params, max_norm): total is the L2 norm of
 * all gradients together (the norm of the per-tensor norms); when
 * max_norm / (total + 1e-6) < 1 every gradient is multiplied by it.  Returns
 * total (0 when no parameter has a grad), or NAN with a message for a NULL
 * parameter or max_norm < 0.  Parameters whose .grad is NULL are skipped.
 */
ATTOGRAD_API float optim_clip_grad_norm(int64_t n, Tensor *const *params, double max_norm);

/* ---- Checkpoints --------------------------------------------------------------- */
/*
 * The optimizer's state as entries of a run state (TensorState,
 * tensor/io/safetensors.h), torch's optimizer.state_dict() in safetensors:
 *   optimizer.state.<i>.<name>  F32, params[i]'s shape: exp_avg, exp_avg_sq
 *                               (Adam, AdamW), momentum_buffer (SGD), when made
 *   optimizer.state.<i>.step    I64: the updates params[i] has received
 *   optimizer.steps             I64: optim_step calls
 *   optimizer.<name>            F64: lr, beta1, beta2, eps, weight_decay (Adam,
 *                               AdamW); lr, momentum, dampening, weight_decay,
 *                               nesterov (SGD; 0 or 1)
 * A load checks everything before it changes anything: the hyper-parameters
 * as the constructor does, counts between 0 and 2^53 and no parameter ahead
 * of optimizer.steps, state tensors finite, exp_avg_sq not negative, Adam's
 * two state tensors of a parameter both present or both absent.  As torch's
 * load_state_dict, it replaces the whole state (a tensor the file lacks is
 * dropped) and the hyper-parameters.  A checkpoint also records the type (its
 * "optimizer" metadata, checkpoint/checkpoint.h).
 */
ATTOGRAD_API int optim_state_add(TensorState *s, Optimizer *o);

/* ---- Learning-rate schedules ----------------------------------------------- */
/*
 * The book's appendix D schedule: linear warm-up from initial_lr to peak_lr
 * over warmup_steps, then cosine decay to min_lr at total_steps:
 *
 *     OptimWarmupCosine s = {.initial_lr = 3e-5, .peak_lr = 5e-4, .min_lr = 3e-5 * 0.1,
 *                            .warmup_steps = 18, .total_steps = 90};
 *     for (int64_t step = 0; ...; step++) {
 *         optim_set_lr(opt, optim_lr_warmup_cosine(&s, step));
 *         ... forward, backward, optim_step(opt) ...
 *     }
 * optim_lr_warmup_cosine returns NAN with a message when warmup_steps < 0,
 * total_steps <= warmup_steps or step < 0.
 */
typedef struct {
    double initial_lr, peak_lr, min_lr;
    int64_t warmup_steps, total_steps;
} OptimWarmupCosine;
ATTOGRAD_API double optim_lr_warmup_cosine(const OptimWarmupCosine *s, int64_t step);
/* The learning rate of the optimizer's one parameter group; set refuses a
 * negative or non-finite lr (-1 with a message); get of NULL is NAN. */
ATTOGRAD_API int optim_set_lr(Optimizer *o, double lr);
ATTOGRAD_API double optim_get_lr(const Optimizer *o);

#endif /* ATTOGRAD_OPTIM_H */
