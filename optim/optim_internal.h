/*
 * Private to the optim room: the plumbing every optimizer shares.  Names
 * here carry a double underscore.
 *
 * An optimizer is an OptimKind (its name, state, hyper-parameter table,
 * checks and rule) and a constructor that calls optim__new.  The rule
 * updates one parameter whose grad is set:
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

/* A hyper-parameter: its name in a checkpoint and where it is in the
 * options struct (a double, or a bool saved as 0 or 1). */
typedef struct {
    const char *name;
    size_t offset;
    bool is_bool;
} OptimHyper;

/* What an optimizer is, as data: what save, load and step need of it. */
struct OptimKind {
    const char *type;            /* "Adam": Optimizer.type, a checkpoint's "optimizer" */
    const char *op;              /* "adam": the prefix of its messages */
    int n_state;
    const char *state_names[2];  /* torch's names */
    bool state_nonnegative[2];   /* exp_avg_sq */
    size_t options_offset;       /* offsetof(Optimizer, sgd) or (Optimizer, adam) */
    size_t options_size;
    int n_hyper;
    const OptimHyper *hyper;
    /* The constructor's checks of an options struct: 0, or -1 with a message. */
    int (*check)(const char *op, const void *options);
    /* The rule for one parameter; optim_step calls it for each with a grad.
     * 0, or -1 (parameter unchanged) when its state does not fit in memory. */
    int (*update)(Optimizer *o, int i);
};

/* Checks the options (kind->check) and the parameters (messages prefixed
 * with kind->op) and makes an optimizer with no state yet; NULL with a
 * message on bad input. */
Optimizer *optim__new(const OptimKind *kind, int64_t n, Tensor *const *params, const void *options);

/* 0 when p's grad is absent or a contiguous tensor of p's shape; otherwise
 * -1 with "<what>: parameter <i> (2,3) has a grad of shape (3,2)". */
int optim__check_grad(const char *what, const Tensor *p, int64_t i);
/* "parameter 1 \"W_query.weight\" (3,2)": index, full name when it has one, shape (a
 * rotating buffer, for messages). */
const char *optim__describe(const Tensor *p, int64_t i);

/* State k of parameter i: made on first use, long-lived, zeros of the
 * parameter's shape, named state_names[k]; NULL with tensor_keep's message
 * when it does not fit in memory (the rule then returns -1). */
Tensor *optim__state(Optimizer *o, int i, int k);

#endif /* ATTOGRAD_OPTIM_INTERNAL_H */
