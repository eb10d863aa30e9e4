/*
 * What every optimizer shares: checking and holding the parameters, lazily
 * made state, the step loop, zero_grad and free.
 */
#include "optim_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *optim__describe(const Tensor *p, int64_t i)
{
    static _Thread_local char buf[4][320];
    static _Thread_local int next;
    char *out = buf[next++ % 4];
    if (p && p->name)
        snprintf(out, sizeof buf[0], "parameter %lld \"%.200s\" %s", (long long)i, p->name,
                 tensor_shape_str(p));
    else if (p)
        snprintf(out, sizeof buf[0], "parameter %lld %s", (long long)i, tensor_shape_str(p));
    else
        snprintf(out, sizeof buf[0], "parameter %lld", (long long)i);
    return out;
}

/* 0 when params[i] can be optimized; -1 with a message otherwise. */
static int check_param(const char *op, Tensor *const *params, int64_t i)
{
    const Tensor *p = params[i];
    const char *what = optim__describe(p, i);
    if (!p) {
        tensor_set_error("%s: %s is NULL", op, what);
        return -1;
    }
    if (!p->requires_grad) {
        tensor_set_error("%s: %s does not require grad", op, what);
        return -1;
    }
    if (p->grad_fn) {
        tensor_set_error("%s: %s is not a leaf (grad_fn %s)", op, what, tensor_grad_fn_name(p));
        return -1;
    }
    /* The rules walk data as a flat array; long-lived tensors always are. */
    if (!tensor_is_contiguous(p)) {
        tensor_set_error("%s: %s is not contiguous", op, what);
        return -1;
    }
    /* torch warns and then updates such a tensor twice per step. */
    for (int64_t j = 0; j < i; j++) {
        if (params[j] == p) {
            tensor_set_error("%s: %s is parameter %lld again", op, what, (long long)j);
            return -1;
        }
    }
    /* A scope's tensor dies with its scope, and the next step would write
     * to freed memory. */
    if (!tensor_is_long_lived(p)) {
        tensor_set_error("%s: %s belongs to a scope; parameters must be long-lived "
                         "(tensor_keep or nn_parameter)", op, what);
        return -1;
    }
    return 0;
}

int optim__check_grad(const char *what, const Tensor *p, int64_t i)
{
    const Tensor *g = p->grad;
    if (!g || (tensor_same_shape(p, g) && tensor_is_contiguous(g))) return 0;
    tensor_set_error("%s: %s has a grad of shape %s%s", what, optim__describe(p, i),
                     tensor_shape_str(g), tensor_is_contiguous(g) ? "" : " (not contiguous)");
    return -1;
}

Optimizer *optim__new(const OptimKind *kind, int64_t n, Tensor *const *params, const void *options)
{
    const char *op = kind->op;
    if (kind->check(op, options)) return NULL;
    if (n <= 0) return tensor_set_error("%s: empty parameter list", op);
    if (!params) return tensor_set_error("%s: parameter list is NULL", op);
    for (int64_t i = 0; i < n; i++)
        if (check_param(op, params, i)) return NULL;
    Optimizer *o = calloc(1, sizeof *o);
    if (o) {
        o->params = malloc((size_t)n * sizeof *o->params);
        o->param_steps = calloc((size_t)n, sizeof *o->param_steps);
        o->state = calloc((size_t)n * (size_t)kind->n_state, sizeof *o->state);
    }
    if (!o || !o->params || !o->param_steps || !o->state) {
        optim_free(o);
        return tensor_set_error("%s: out of memory for %lld parameters", op, (long long)n);
    }
    memcpy(o->params, params, (size_t)n * sizeof *params);
    o->kind = kind;
    o->type = kind->type;
    o->n_params = n;
    o->n_state = kind->n_state;
    for (int k = 0; k < kind->n_state; k++) o->state_names[k] = kind->state_names[k];
    memcpy((char *)o + kind->options_offset, options, kind->options_size);
    return o;
}

Tensor *optim__state(Optimizer *o, int i, int k)
{
    Tensor **slot = &o->state[i * o->n_state + k];
    if (*slot) return *slot;
    /* tensor_keep copies a contiguous tensor straight to the heap, without
     * touching the current scope; the copy is then cleared. */
    Tensor *s = tensor_keep(o->params[i]);
    if (!s) return NULL;
    s->requires_grad = false;
    s->name = o->state_names[k];
    memset(s->data, 0, (size_t)s->numel * sizeof(float));
    return *slot = s;
}

int optim_step(Optimizer *o)
{
    if (!o) return -1;
    /* Check every grad first, so a bad one leaves all parameters as they were. */
    char what[64];
    snprintf(what, sizeof what, "optim_step (%s)", o->type);
    for (int64_t i = 0; i < o->n_params; i++)
        if (optim__check_grad(what, o->params[i], i)) return -1;
    for (int64_t i = 0; i < o->n_params; i++) {
        if (!o->params[i]->grad) continue;
        o->param_steps[i]++;
        if (o->kind->update(o, i)) {   /* out of memory for its state: it is unchanged */
            o->param_steps[i]--;
            return -1;
        }
    }
    o->steps++;
    return 0;
}

void optim_zero_grad(Optimizer *o)
{
    if (!o) return;
    for (int64_t i = 0; i < o->n_params; i++) tensor_zero_grad(o->params[i]);
}

void optim_free(Optimizer *o)
{
    if (!o) return;
    if (o->state)
        for (int64_t i = 0; i < o->n_params * o->n_state; i++) tensor_free(o->state[i]);
    free(o->state);
    free(o->param_steps);
    free(o->params);
    free(o);
}
