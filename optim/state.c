/*
 * An optimizer's state as entries of a run state (see optim.h): the entries
 * come from its kind's tables (hyper-parameter names and offsets, state
 * names), so save and load list the same ones for every optimizer.
 */
#include "optim_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_HYPER = 8, NAME_CAP = 96 };

typedef struct {
    Optimizer *o;
    double hyper[MAX_HYPER];    /* the saved form: every hyper-parameter as F64 */
    AdamOptions options[1];     /* a check's candidate (room for every kind's struct) */
    Tensor **fresh;             /* [slot]: made by a check for a slot still NULL */
} Part;

_Static_assert(sizeof(AdamOptions) >= sizeof(SGDOptions), "Part.options holds either");

static const char *state_name(char *buf, const Optimizer *o, int i, int k)
{
    snprintf(buf, NAME_CAP, "optimizer.state.%d.%s", i, o->kind->state_names[k]);
    return buf;
}

static double *hyper_field(void *options, const OptimHyper *h)
{
    return (double *)((char *)options + h->offset);
}

/* The staged hyper-parameters into the candidate, checked as a constructor does. */
static int check_hyper(Part *p, const TensorState *s)
{
    const OptimKind *kind = p->o->kind;
    memcpy(p->options, (char *)p->o + kind->options_offset, kind->options_size);
    char name[NAME_CAP];
    for (int k = 0; k < kind->n_hyper; k++) {
        const OptimHyper *h = &kind->hyper[k];
        double v;
        snprintf(name, sizeof name, "optimizer.%s", h->name);
        memcpy(&v, tensor_state_staged(s, name), sizeof v);
        if (h->is_bool && v != 0 && v != 1)
            return tensor_state_fail(s, "%s is %g; 0 or 1 expected", name, v), -1;
        if (h->is_bool)
            *(bool *)((char *)p->options + h->offset) = v != 0;
        else
            *hyper_field(p->options, h) = v;
    }
    if (kind->check(kind->op, p->options))
        return tensor_state_fail(s, "optimizer: %s", tensor_error()), -1;
    return 0;
}

static int check_steps(const Part *p, const TensorState *s)
{
    int64_t steps, step;
    char name[NAME_CAP];
    memcpy(&steps, tensor_state_staged(s, "optimizer.steps"), sizeof steps);
    for (int64_t i = 0; i < p->o->n_params; i++) {
        snprintf(name, sizeof name, "optimizer.state.%lld.step", (long long)i);
        memcpy(&step, tensor_state_staged(s, name), sizeof step);
        if (step > steps)
            return tensor_state_fail(s, "%s is %lld, past optimizer.steps %lld", name,
                                     (long long)step, (long long)steps),
                   -1;
    }
    return 0;
}

/* Parameter i's state tensors: all present or none (Adam's exp_avg without
 * exp_avg_sq is no state), the non-negative ones without a negative value;
 * a slot still NULL gets a fresh tensor, installed by the commit. */
static int check_state(Part *p, const TensorState *s, int i)
{
    const Optimizer *o = p->o;
    char name[NAME_CAP], other[NAME_CAP];
    int present = 0;
    for (int k = 0; k < o->n_state; k++) present += tensor_state_staged(s, state_name(name, o, i, k)) != NULL;
    for (int k = 0; present && present < o->n_state && k < o->n_state; k++)
        if (!tensor_state_staged(s, state_name(name, o, i, k)))
            return tensor_state_fail(s, "%s is missing beside %s", name,
                                     state_name(other, o, i, k ? 0 : 1)),
                   -1;
    for (int k = 0; k < o->n_state && present; k++) {
        const float *v = tensor_state_staged(s, state_name(name, o, i, k));
        int64_t n = o->params[i]->numel;
        for (int64_t j = 0; o->kind->state_nonnegative[k] && j < n; j++) {
            float x;
            memcpy(&x, v + j, sizeof x);
            if (x < 0) return tensor_state_fail(s, "%s[%lld] is %g < 0", name, (long long)j, x), -1;
        }
        int slot = i * o->n_state + k;
        if (o->state[slot]) continue;
        Tensor *t = p->fresh[slot] = tensor_keep(o->params[i]);
        if (!t) return tensor_state_fail(s, "%s: %s", name, tensor_error()), -1;
        t->requires_grad = false;
        t->name = o->kind->state_names[k];
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

static int check(void *ctx, const TensorState *s)
{
    Part *p = ctx;
    release(p); /* from an earlier read of the same state */
    if (check_hyper(p, s) || check_steps(p, s)) return -1;
    for (int64_t i = 0; i < p->o->n_params; i++)
        if (check_state(p, s, i)) return release(p), -1;
    return 0;
}

/* The file's state replaces the optimizer's, as torch's load_state_dict:
 * a slot the file lacks is emptied.  The generic commit has already copied
 * the counts and the state tensors that existed. */
static void commit(void *ctx, const TensorState *s)
{
    Part *p = ctx;
    Optimizer *o = p->o;
    memcpy((char *)o + o->kind->options_offset, p->options, o->kind->options_size);
    char name[NAME_CAP];
    for (int64_t i = 0; i < o->n_params; i++) {
        for (int k = 0; k < o->n_state; k++) {
            int slot = i * o->n_state + k;
            if (p->fresh[slot]) {
                o->state[slot] = p->fresh[slot];
                p->fresh[slot] = NULL;
            } else if (!tensor_state_staged(s, state_name(name, o, i, k))) {
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
}

static int add_entries(TensorState *s, Part *p)
{
    Optimizer *o = p->o;
    char name[NAME_CAP];
    int rc = 0;
    for (int64_t i = 0; i < o->n_params && rc == 0; i++) {
        snprintf(name, sizeof name, "optimizer.state.%lld.step", (long long)i);
        rc = tensor_state_add(s, name, TENSOR_I64, 0, NULL, &o->param_steps[i], TENSOR_STATE_COUNT);
    }
    if (rc == 0)
        rc = tensor_state_add(s, "optimizer.steps", TENSOR_I64, 0, NULL, &o->steps,
                              TENSOR_STATE_COUNT);
    for (int k = 0; k < o->kind->n_hyper && rc == 0; k++) {
        snprintf(name, sizeof name, "optimizer.%s", o->kind->hyper[k].name);
        rc = tensor_state_add(s, name, TENSOR_F64, 0, NULL, &p->hyper[k], 0);
    }
    unsigned flags = TENSOR_STATE_OPTIONAL | TENSOR_STATE_FINITE;
    for (int64_t i = 0; i < o->n_params && rc == 0; i++) {
        for (int k = 0; k < o->n_state && rc == 0; k++) {
            Tensor *t = o->state[i * o->n_state + k], *p_i = o->params[i];
            state_name(name, o, i, k);
            rc = t ? tensor_state_add_tensor(s, name, t, flags)
                   : tensor_state_add(s, name, TENSOR_F32, p_i->ndim, p_i->shape, NULL, flags);
        }
    }
    return rc;
}

int optim_state_add(TensorState *s, Optimizer *o)
{
    if (!s || !o) return -1;
    Part *p = calloc(1, sizeof *p);
    if (p) p->fresh = calloc((size_t)(o->n_params * o->n_state), sizeof *p->fresh);
    if (!p || !p->fresh) {
        if (p) free(p);
        return tensor_set_error("optim_state_add: out of memory"), -1;
    }
    p->o = o;
    const OptimKind *kind = o->kind;
    for (int k = 0; k < kind->n_hyper; k++) {
        const OptimHyper *h = &kind->hyper[k];
        void *options = (char *)o + kind->options_offset;
        p->hyper[k] = h->is_bool ? *(bool *)((char *)options + h->offset)
                                 : *hyper_field(options, h);
    }
    static const TensorStateHooks hooks = {.check = check, .commit = commit,
                                           .release = release_all};
    if (tensor_state_add_part(s, &hooks, p)) return -1;
    return add_entries(s, p);
}
