/*
 * Private to the optim room: the plumbing every optimizer shares.  Names
 * here carry a double underscore.
 *
 * An optimizer is an OptimKind (its name, state, hyper-parameter table,
 * checks and rule) and constructors that call optim__new.  The rule
 * updates one parameter whose grad is set, with its group's options:
 *
 *     static int sgd_update(Optimizer *o, int64_t i, const void *options)
 *     {
 *         const SGDOptions *s = options;
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

/* What an optimizer is, as data: what making, stepping and saving it need. */
struct OptimKind {
    const char *type;            /* "Adam": Optimizer.type, a checkpoint's "optimizer" */
    const char *op;              /* "adam": the prefix of its messages */
    int n_state;
    const char *state_names[2];  /* torch's names */
    bool state_nonnegative[2];   /* exp_avg_sq */
    size_t options_offset;       /* offsetof(OptimGroup, sgd) or (OptimGroup, adam) */
    size_t options_size;
    int n_hyper;
    const OptimHyper *hyper;     /* hyper[0] is lr */
    /* The constructor's checks of an options struct: 0, or -1 with a
     * message starting with where ("adamw", "adamw: group 1"). */
    int (*check)(const OptimKind *kind, const char *where, const void *options);
    /* The rule for one parameter; optim_step calls it for each with a grad.
     * 0, or -1 (parameter unchanged) when its state does not fit in memory. */
    int (*update)(Optimizer *o, int64_t i, const void *options);
};

/* A group as a constructor is given it: AdamGroup and SGDGroup, with the
 * options reached through kind->options_size. */
typedef struct {
    int64_t n;
    Tensor *const *params;
    const void *options;
} OptimGroupSpec;

/* Checks the groups' options (kind->check) and parameters (messages
 * prefixed with kind->op, and "group g: " when there are several) and makes
 * an optimizer with no state yet; NULL with a message on bad input. */
Optimizer *optim__new(const OptimKind *kind, int64_t n_groups, const OptimGroupSpec *groups);

/* 0 when p's grad is absent or a contiguous tensor of p's shape; otherwise
 * -1 with "<what>: parameter <i> (2,3) has a grad of shape (3,2)". */
int optim__check_grad(const char *what, const Tensor *p, int64_t i);
/* "parameter 1 \"W_query.weight\" (3,2)": index, full name when it has one, shape (a
 * rotating buffer, for messages). */
const char *optim__describe(const Tensor *p, int64_t i);

/* State k of parameter i: made on first use, long-lived, zeros of the
 * parameter's shape, named state_names[k]; NULL with tensor_keep's message
 * when it does not fit in memory (the rule then returns -1). */
Tensor *optim__state(Optimizer *o, int64_t i, int k);

/* Group g's options struct (SGDOptions or AdamOptions, by o's kind). */
void *optim__options(const Optimizer *o, int64_t g);

#endif /* ATTOGRAD_OPTIM_INTERNAL_H */
