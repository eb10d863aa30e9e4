/*
 * Private to the optim room: the plumbing every optimizer shares.  Names
 * here carry a double underscore.
 *
 * An optimizer is a constructor that checks its hyper-parameters and calls
 * optim__new, plus an update rule for one parameter whose grad is set:
 *
 *     static void sgd_update(Optimizer *o, int i)
 *     {
 *         Tensor *p = o->params[i];
 *         ... read p->grad, get state with optim__state(o, i, k) ...
 *     }
 *
 * Parameters and grads are contiguous (optim__new and optim_step check), so
 * a rule walks p->data and p->grad->data as flat arrays.
 */
#ifndef ATTOGRAD_OPTIM_INTERNAL_H
#define ATTOGRAD_OPTIM_INTERNAL_H

#include "optim.h"
#include "tensor/internal.h"

/* Checks the parameters (message prefixed with op, e.g. "adam") and makes an
 * optimizer with no state yet; NULL with a message on bad input. */
Optimizer *optim__new(const char *op, const char *type, int n, Tensor *const *params,
                      int n_state, void (*update)(Optimizer *o, int i));

/* State k of parameter i: made on first use, long-lived, zeros of the
 * parameter's shape, named state_names[k]. */
Tensor *optim__state(Optimizer *o, int i, int k);

#endif /* ATTOGRAD_OPTIM_INTERNAL_H */
