/*
 * Private to the optim room: the plumbing every optimizer shares.  Names
 * here carry a double underscore.
 *
 * An optimizer is a constructor that checks its hyper-parameters and calls
 * optim__new, plus an update rule for one parameter whose grad is set:
 *
 *     static int sgd_update(Optimizer *o, int i)
 *     {
 *         Tensor *p = o->params[i];
 *         ... get state with optim__state(o, i, k): NULL, return -1 ...
 *         ... read p->grad, update p->data ...
 *         return 0;
 *     }
 *
 * Parameters and grads are contiguous (optim__new and optim_step check), so
 * a rule walks p->data and p->grad->data as flat arrays.
 */
#ifndef ATTOGRAD_OPTIM_INTERNAL_H
#define ATTOGRAD_OPTIM_INTERNAL_H

#include "optim.h"

/* Checks the parameters (message prefixed with op, e.g. "adam") and makes an
 * optimizer with no state yet; NULL with a message on bad input. */
Optimizer *optim__new(const char *op, const char *type, int n, Tensor *const *params,
                      int n_state, int (*update)(Optimizer *o, int i));

/* State k of parameter i: made on first use, long-lived, zeros of the
 * parameter's shape, named state_names[k]; NULL with tensor_keep's message
 * when it does not fit in memory (the rule then returns -1). */
Tensor *optim__state(Optimizer *o, int i, int k);

#endif /* ATTOGRAD_OPTIM_INTERNAL_H */
