/*
 * An optimizer's entries of a run state (see checkpoint.h), torch's
 * optimizer.state_dict() in safetensors, read and written through the optim
 * room's public fields and its hyper-parameters as numbers (optim.h): the
 * same entries for every kind of optimizer.
 */
#include "run_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NAME_CAP = 128 };

typedef struct {
    Optimizer *o;
    int n_hyper;
    double *hyper;              /* [g * n_hyper + k]: the saved form of every group's */
    double *candidate;          /* [k]: a group's staged values, for a check */
    int64_t *indices;           /* [i] = i: the groups' "params" lists, back to back */
    Tensor **fresh;             /* [slot]: made by a check for a slot still NULL */
} Part;

static const char *state_name(char *buf, const Optimizer *o, int64_t i, int k)
{
    snprintf(buf, NAME_CAP, "optimizer.state.%lld.%s", (long long)i, o->state_names[k]);
    return buf;
}

/* One group: "optimizer.<name>", as ever; several: "optimizer.param_groups.<g>.<name>". */
static const char *group_name(char *buf, const Optimizer *o, int64_t g, const char *name)
{
    if (o->n_groups == 1)
        snprintf(buf, NAME_CAP, "optimizer.%s", name);
    else
        snprintf(buf, NAME_CAP, "optimizer.param_groups.%lld.%s", (long long)g, name);
    return buf;
}

/* Group g's staged hyper-parameters into values, checked as a constructor does. */
static int check_hyper(const Part *p, const CheckpointState *s, int64_t g, double *values)
{
    const Optimizer *o = p->o;
    char name[NAME_CAP];
    for (int k = 0; k < p->n_hyper; k++) {
        bool is_bool = false;
        group_name(name, o, g, optim_hyper_name(o, k, &is_bool));
        memcpy(&values[k], checkpoint__state_staged(s, name), sizeof values[k]);
        if (is_bool && values[k] != 0 && values[k] != 1)
            return checkpoint__state_fail(s, "%s is %g; 0 or 1 expected", name, values[k]), -1;
    }
    if (optim_check_hypers(o, values) == 0) return 0;
    if (o->n_groups == 1) return checkpoint__state_fail(s, "optimizer: %s", tensor_error()), -1;
    return checkpoint__state_fail(s, "optimizer.param_groups.%lld: %s", (long long)g,
                                  tensor_error()),
           -1;
}

/* Group g's "params" (torch's list of state indices): its own, in order. */
static int check_params(const Part *p, const CheckpointState *s, int64_t g)
{
    const OptimGroup *group = &p->o->groups[g];
    char name[NAME_CAP];
    const int64_t *v = checkpoint__state_staged(s, group_name(name, p->o, g, "params"));
    for (int64_t j = 0; j < group->count; j++) {
        int64_t x;
        memcpy(&x, v + j, sizeof x);
        if (x != group->first + j)
            return checkpoint__state_fail(s, "%s[%lld] is %lld; %lld expected", name, (long long)j,
                                          (long long)x, (long long)(group->first + j)),
                   -1;
    }
    return 0;
}

static int check_steps(const Part *p, const CheckpointState *s)
{
    int64_t steps, step;
    char name[NAME_CAP];
    memcpy(&steps, checkpoint__state_staged(s, "optimizer.steps"), sizeof steps);
    for (int64_t i = 0; i < p->o->n_params; i++) {
        snprintf(name, sizeof name, "optimizer.state.%lld.step", (long long)i);
        memcpy(&step, checkpoint__state_staged(s, name), sizeof step);
        if (step > steps)
            return checkpoint__state_fail(s, "%s is %lld, past optimizer.steps %lld", name,
                                          (long long)step, (long long)steps),
                   -1;
    }
    return 0;
}

/* Parameter i's state tensors: all present or none (Adam's exp_avg without
 * exp_avg_sq is no state), the non-negative ones without a negative value;
 * a slot still NULL gets a fresh tensor, installed by the commit. */
static int check_state(Part *p, const CheckpointState *s, int64_t i)
{
    const Optimizer *o = p->o;
    char name[NAME_CAP], other[NAME_CAP];
    int present = 0;
    for (int k = 0; k < o->n_state; k++)
        present += checkpoint__state_staged(s, state_name(name, o, i, k)) != NULL;
    for (int k = 0; present && present < o->n_state && k < o->n_state; k++)
        if (!checkpoint__state_staged(s, state_name(name, o, i, k)))
            return checkpoint__state_fail(s, "%s is missing beside %s", name,
                                          state_name(other, o, i, k ? 0 : 1)),
                   -1;
    for (int k = 0; k < o->n_state && present; k++) {
        const float *v = checkpoint__state_staged(s, state_name(name, o, i, k));
        int64_t n = o->params[i]->numel;
        for (int64_t j = 0; o->state_nonnegative[k] && j < n; j++) {
            float x;
            memcpy(&x, v + j, sizeof x);
            if (x < 0)
                return checkpoint__state_fail(s, "%s[%lld] is %g < 0", name, (long long)j, x),
                       -1;
        }
        int64_t slot = i * o->n_state + k;
        if (o->state[slot]) continue;
        Tensor *t = p->fresh[slot] = tensor_keep(o->params[i]);
        if (!t) return checkpoint__state_fail(s, "%s: %s", name, tensor_error()), -1;
        t->requires_grad = false;
        t->name = o->state_names[k];
        memcpy(t->data, v, (size_t)n * sizeof(float));
    }
    return 0;
}

static void release(void *ctx)
{
    Part *p = ctx;
    for (int64_t i = 0; p->fresh && i < p->o->n_params * p->o->n_state; i++) {
        tensor_free(p->fresh[i]);
        p->fresh[i] = NULL;
    }
}

static int check(void *ctx, const CheckpointState *s)
{
    Part *p = ctx;
    release(p); /* from an earlier read of the same state */
    for (int64_t g = 0; g < p->o->n_groups; g++)
        if (check_hyper(p, s, g, p->candidate) || (p->o->n_groups > 1 && check_params(p, s, g)))
            return -1;
    if (check_steps(p, s)) return -1;
    for (int64_t i = 0; i < p->o->n_params; i++)
        if (check_state(p, s, i)) return release(p), -1;
    return 0;
}

/* The file's state replaces the optimizer's, as torch's load_state_dict:
 * a slot the file lacks is emptied.  The generic commit has already copied
 * the counts, the saved hyper-parameters and the state tensors that existed. */
static void commit(void *ctx, const CheckpointState *s)
{
    Part *p = ctx;
    Optimizer *o = p->o;
    for (int64_t g = 0; g < o->n_groups; g++)
        optim_set_hypers(o, g, p->hyper + g * p->n_hyper); /* checked: cannot fail */
    char name[NAME_CAP];
    for (int64_t i = 0; i < o->n_params; i++) {
        for (int k = 0; k < o->n_state; k++) {
            int64_t slot = i * o->n_state + k;
            if (p->fresh[slot]) {
                o->state[slot] = p->fresh[slot];
                p->fresh[slot] = NULL;
            } else if (!checkpoint__state_staged(s, state_name(name, o, i, k))) {
                tensor_free(o->state[slot]);
                o->state[slot] = NULL;
            }
        }
    }
}

static void release_all(void *ctx)
{
    Part *p = ctx;
    release(p);
    free(p->fresh);
    free(p->hyper);
    free(p->candidate);
    free(p->indices);
}

static int add_entries(CheckpointState *s, Part *p)
{
    Optimizer *o = p->o;
    char name[NAME_CAP];
    int rc = 0;
    for (int64_t i = 0; i < o->n_params && rc == 0; i++) {
        snprintf(name, sizeof name, "optimizer.state.%lld.step", (long long)i);
        rc = checkpoint__state_add(s, name, TENSOR_I64, 0, NULL, &o->param_steps[i],
                                   CHECKPOINT__COUNT);
    }
    if (rc == 0)
        rc = checkpoint__state_add(s, "optimizer.steps", TENSOR_I64, 0, NULL, &o->steps,
                                   CHECKPOINT__COUNT);
    for (int64_t g = 0; g < o->n_groups && rc == 0; g++) {
        for (int k = 0; k < p->n_hyper && rc == 0; k++) {
            group_name(name, o, g, optim_hyper_name(o, k, NULL));
            rc = checkpoint__state_add(s, name, TENSOR_F64, 0, NULL,
                                       &p->hyper[g * p->n_hyper + k], 0);
        }
        const OptimGroup *group = &o->groups[g];
        if (rc == 0 && o->n_groups > 1)
            rc = checkpoint__state_add(s, group_name(name, o, g, "params"), TENSOR_I64, 1,
                                       &group->count, p->indices + group->first, 0);
    }
    unsigned flags = CHECKPOINT__OPTIONAL | CHECKPOINT__FINITE;
    for (int64_t i = 0; i < o->n_params && rc == 0; i++) {
        for (int k = 0; k < o->n_state && rc == 0; k++) {
            Tensor *t = o->state[i * o->n_state + k], *p_i = o->params[i];
            state_name(name, o, i, k);
            rc = t ? checkpoint__state_add_tensor(s, name, t, flags)
                   : checkpoint__state_add(s, name, TENSOR_F32, p_i->ndim, p_i->shape, NULL,
                                           flags);
        }
    }
    return rc;
}

int checkpoint__optimizer_add(CheckpointState *s, Optimizer *o)
{
    if (!s || !o) return -1;
    Part *p = calloc(1, sizeof *p);
    int n_hyper = optim_num_hypers(o);
    if (p) {
        p->o = o;
        p->n_hyper = n_hyper;
        p->fresh = calloc((size_t)(o->n_params * o->n_state), sizeof *p->fresh);
        p->hyper = malloc((size_t)(o->n_groups * n_hyper) * sizeof *p->hyper);
        p->candidate = malloc((size_t)(n_hyper + 1) * sizeof *p->candidate);
        p->indices = malloc((size_t)(o->n_params + 1) * sizeof *p->indices);
    }
    if (!p || !p->fresh || !p->hyper || !p->candidate || !p->indices) {
        if (p) release_all(p);
        free(p);
        return tensor_set_error("checkpoint: out of memory for the optimizer's state"), -1;
    }
    for (int64_t g = 0; g < o->n_groups; g++)
        for (int k = 0; k < n_hyper; k++) p->hyper[g * n_hyper + k] = optim_get_hyper(o, g, k);
    for (int64_t i = 0; i <= o->n_params; i++) p->indices[i] = i;
    static const CheckpointStateHooks hooks = {.check = check, .commit = commit,
                                               .release = release_all};
    if (checkpoint__state_add_part(s, &hooks, p)) return -1;
    return add_entries(s, p);
}
