/*
 * attograd optim room: optimizers over a list of parameters.  They know
 * tensors, not modules; the update rules are torch.optim's, to the letter.
 *
 * Example:
 *
 *     NNList params = nn_named_parameters(NN(model));
 *     Optimizer *opt = optim_adam(params.count, params.tensors, optim_adam_defaults());
 *     for (...) {
 *         TensorScope *step = tensor_scope_begin();
 *         Tensor *loss = tensor_mse_loss(nn_forward(NN(model), x), y);
 *         optim_zero_grad(opt);
 *         tensor_backward(loss, NULL);
 *         optim_step(opt);
 *         tensor_scope_end(step);
 *     }
 *     optim_free(opt);
 *     nn_list_free(&params);
 */
#ifndef ATTOGRAD_OPTIM_H
#define ATTOGRAD_OPTIM_H

#include "tensor/tensor.h"

typedef struct {
    float lr, momentum, dampening, weight_decay;
    bool nesterov;
} SGDOptions;

typedef struct {
    float lr, beta1, beta2, eps, weight_decay;
} AdamOptions;

typedef struct Optimizer Optimizer;
struct Optimizer {
    const char *type;            /* "SGD", "Adam", "AdamW" */
    int n_params;
    Tensor **params;             /* not owned */
    int64_t steps;               /* optim_step calls so far */
    int n_state;                 /* state tensors per parameter */
    const char *state_names[2];  /* PyTorch's: "momentum_buffer"; "exp_avg", "exp_avg_sq" */
    Tensor **state;              /* [i * n_state + k], long-lived; NULL until first needed */
    SGDOptions sgd;
    AdamOptions adam;
    int (*step)(Optimizer *o);
};

SGDOptions optim_sgd_defaults(float lr);          /* momentum 0, dampening 0, ... */
AdamOptions optim_adam_defaults(void);            /* lr 1e-3, betas (0.9, 0.999), eps 1e-8, wd 0 */
AdamOptions optim_adamw_defaults(void);           /* the same with weight_decay 1e-2 */

/* Bad hyper-parameters (lr < 0, beta outside [0, 1), ...) give NULL and a message. */
Optimizer *optim_sgd(int n, Tensor *const *params, SGDOptions options);
Optimizer *optim_adam(int n, Tensor *const *params, AdamOptions options);
Optimizer *optim_adamw(int n, Tensor *const *params, AdamOptions options);

int optim_step(Optimizer *o);                     /* parameters without .grad are skipped */
void optim_zero_grad(Optimizer *o);
void optim_free(Optimizer *o);

/* Scales all gradients so their global L2 norm is at most max_norm, as
 * torch.nn.utils.clip_grad_norm_; returns the norm before clipping. */
float optim_clip_grad_norm(int n, Tensor *const *params, float max_norm);

#endif /* ATTOGRAD_OPTIM_H */
