/*
 * What every optimizer shares: checking and holding the groups and their
 * parameters, lazily made state, the step loop, zero_grad, free, and the
 * hyper-parameters as numbers.
 */
#include "optim_internal.h"

#include <math.h>
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

/* 0 when params[i] can be optimized; -1 with a message otherwise.  op is
 * "adam" or "adam: group 1". */
static int check_param(const char *op, Tensor *const *params, int64_t i)
{
    const Tensor *p = params[i];
    const char *what = optim__describe(p, i);
    if (!p) {
        tensor_set_error("%s: %s is NULL", op, what);
        return -1;
    }
    /* requires_grad false is a frozen parameter: torch takes it (the
     * fine-tuning chapters give AdamW every parameter), and so do we. */
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

/* Group g's options and parameters; where names the group in messages
 * ("adamw" or "adamw: group 1"). */
static int check_group(const OptimKind *kind, const OptimGroupSpec *g, const char *where)
{
    if (kind->check(kind, where, g->options)) return -1;
    if (g->n < 0)
        return tensor_set_error("%s: negative parameter count %lld", where, (long long)g->n), -1;
    if (g->n > 0 && !g->params) return tensor_set_error("%s: parameter list is NULL", where), -1;
    for (int64_t i = 0; i < g->n; i++)
        if (check_param(where, g->params, i)) return -1;
    return 0;
}

/* torch refuses a tensor in two groups ("some parameters appear in more than
 * one parameter group"); sorting the pointers finds one in O(n log n). */
typedef struct {
    const Tensor *p;
    int64_t group, index;
} Placed;

static int by_tensor(const void *a, const void *b)
{
    const Placed *x = a, *y = b;
    if (x->p != y->p) return (uintptr_t)x->p < (uintptr_t)y->p ? -1 : 1;
    return x->group != y->group ? (x->group < y->group ? -1 : 1) : 0;
}

static int check_shared(const OptimKind *kind, int64_t n_groups, const OptimGroupSpec *groups,
                        int64_t n)
{
    Placed *all = malloc((size_t)n * sizeof *all);
    if (!all) return tensor_set_error("%s: out of memory for %lld parameters", kind->op,
                                      (long long)n), -1;
    int64_t k = 0;
    for (int64_t g = 0; g < n_groups; g++)
        for (int64_t i = 0; i < groups[g].n; i++) all[k++] = (Placed){groups[g].params[i], g, i};
    qsort(all, (size_t)n, sizeof *all, by_tensor);
    /* The message names the first repeat in the groups' order, whatever
     * the tensors' addresses. */
    const Placed *first = NULL, *earlier = NULL;
    for (int64_t j = 1; j < n; j++) {
        const Placed *a = &all[j - 1], *b = &all[j];
        if (a->p != b->p || a->group == b->group) continue;
        if (!first || b->group < first->group ||
            (b->group == first->group && b->index < first->index))
            first = b;
    }
    /* ... and the tensor's first place (its run is sorted by group). */
    for (int64_t j = 0; first && j < n; j++)
        if (all[j].p == first->p) {
            earlier = &all[j];
            break;
        }
    int rc = 0;
    if (first) {
        tensor_set_error("%s: some parameters appear in more than one parameter group (%s of "
                         "group %lld is parameter %lld of group %lld)", kind->op,
                         optim__describe(first->p, first->index), (long long)first->group,
                         (long long)earlier->index, (long long)earlier->group);
        rc = -1;
    }
    free(all);
    return rc;
}

void *optim__options(const Optimizer *o, int64_t g)
{
    return (char *)&o->groups[g] + o->kind->options_offset;
}

Optimizer *optim__new(const OptimKind *kind, int64_t n_groups, const OptimGroupSpec *groups)
{
    const char *op = kind->op;
    if (n_groups <= 0) return tensor_set_error("%s: empty parameter list", op);
    if (!groups) return tensor_set_error("%s: group list is NULL", op);
    int64_t n = 0;
    char where[64];
    for (int64_t g = 0; g < n_groups; g++) {
        if (n_groups == 1)
            snprintf(where, sizeof where, "%s", op);
        else
            snprintf(where, sizeof where, "%s: group %lld", op, (long long)g);
        if (check_group(kind, &groups[g], where)) return NULL;
        n += groups[g].n;
    }
    if (n == 0) return tensor_set_error("%s: empty parameter list", op);
    if (n_groups > 1 && check_shared(kind, n_groups, groups, n)) return NULL;
    Optimizer *o = calloc(1, sizeof *o);
    if (o) {
        o->params = malloc((size_t)n * sizeof *o->params);
        o->groups = calloc((size_t)n_groups, sizeof *o->groups);
        o->param_steps = calloc((size_t)n, sizeof *o->param_steps);
        o->state = calloc((size_t)n * (size_t)kind->n_state, sizeof *o->state);
    }
    if (!o || !o->params || !o->groups || !o->param_steps || !o->state) {
        optim_free(o);
        return tensor_set_error("%s: out of memory for %lld parameters", op, (long long)n);
    }
    o->kind = kind;
    o->type = kind->type;
    o->n_params = n;
    o->n_groups = n_groups;
    o->n_state = kind->n_state;
    for (int k = 0; k < kind->n_state; k++) {
        o->state_names[k] = kind->state_names[k];
        o->state_nonnegative[k] = kind->state_nonnegative[k];
    }
    int64_t first = 0;
    for (int64_t g = 0; g < n_groups; g++) {
        if (groups[g].n)
            memcpy(o->params + first, groups[g].params, (size_t)groups[g].n * sizeof *o->params);
        o->groups[g].first = first;
        o->groups[g].count = groups[g].n;
        memcpy(optim__options(o, g), groups[g].options, kind->options_size);
        first += groups[g].n;
    }
    return o;
}

Tensor *optim__state(Optimizer *o, int64_t i, int k)
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

/* A parameter optim_step updates: it requires grad and has one. */
static bool stepped(const Tensor *p) { return p->requires_grad && p->grad; }

int optim_step(Optimizer *o)
{
    if (!o) return -1;
    /* Check every grad first, so a bad one leaves all parameters as they were. */
    char what[64];
    snprintf(what, sizeof what, "optim_step (%s)", o->type);
    for (int64_t i = 0; i < o->n_params; i++)
        if (o->params[i]->requires_grad && optim__check_grad(what, o->params[i], i)) return -1;
    for (int64_t g = 0; g < o->n_groups; g++) {
        const void *options = optim__options(o, g);
        for (int64_t i = o->groups[g].first; i < o->groups[g].first + o->groups[g].count; i++) {
            if (!stepped(o->params[i])) continue;
            o->param_steps[i]++;
            if (o->kind->update(o, i, options)) { /* out of memory for its state: unchanged */
                o->param_steps[i]--;
                return -1;
            }
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
    free(o->groups);
    free(o->params);
    free(o);
}

/* ---- hyper-parameters as numbers ---------------------------------------------- */

static double *field(void *options, const OptimHyper *h)
{
    return (double *)((char *)options + h->offset);
}

static bool group_ok(const Optimizer *o, int64_t group)
{
    return o && group >= 0 && group < o->n_groups;
}

static int no_group(const Optimizer *o, int64_t group)
{
    tensor_set_error("%s: group %lld out of range (%lld group%s)", o->type, (long long)group,
                     (long long)o->n_groups, o->n_groups == 1 ? "" : "s");
    return -1;
}

int optim_num_hypers(const Optimizer *o) { return o ? o->kind->n_hyper : 0; }

const char *optim_hyper_name(const Optimizer *o, int k, bool *is_bool)
{
    if (!o || k < 0 || k >= o->kind->n_hyper) return NULL;
    if (is_bool) *is_bool = o->kind->hyper[k].is_bool;
    return o->kind->hyper[k].name;
}

double optim_get_hyper(const Optimizer *o, int64_t group, int k)
{
    if (!group_ok(o, group) || k < 0 || k >= o->kind->n_hyper) return NAN;
    const OptimHyper *h = &o->kind->hyper[k];
    void *options = optim__options(o, group);
    return h->is_bool ? (double)*(bool *)((char *)options + h->offset) : *field(options, h);
}

/* values into a copy of group 0's options (the made mark and any field a
 * value does not cover come from there), then the constructor's check. */
static int candidate(const Optimizer *o, const double *values, AdamOptions *out)
{
    _Static_assert(sizeof(AdamOptions) >= sizeof(SGDOptions), "out holds either options struct");
    const OptimKind *kind = o->kind;
    memcpy(out, optim__options(o, 0), kind->options_size);
    for (int k = 0; k < kind->n_hyper; k++) {
        const OptimHyper *h = &kind->hyper[k];
        if (h->is_bool)
            *(bool *)((char *)out + h->offset) = values[k] != 0;
        else
            *field(out, h) = values[k];
    }
    return kind->check(kind, kind->op, out);
}

int optim_check_hypers(const Optimizer *o, const double *values)
{
    if (!o || !values) return -1;
    AdamOptions c;
    return candidate(o, values, &c);
}

int optim_set_hypers(Optimizer *o, int64_t group, const double *values)
{
    if (!o || !values) return -1;
    if (!group_ok(o, group)) return no_group(o, group);
    AdamOptions c;
    if (candidate(o, values, &c)) return -1;
    memcpy(optim__options(o, group), &c, o->kind->options_size);
    return 0;
}

/* ---- learning rates ------------------------------------------------------------ */

int optim_set_lr(Optimizer *o, int64_t group, double lr)
{
    if (!o) return -1;
    if (!group_ok(o, group)) return no_group(o, group);
    if (!(lr >= 0) || !isfinite(lr))
        return tensor_set_error("%s: invalid learning rate %g", o->type, lr), -1;
    *field(optim__options(o, group), &o->kind->hyper[0]) = lr;
    return 0;
}

double optim_get_lr(const Optimizer *o, int64_t group) { return optim_get_hyper(o, group, 0); }
