/*
 * Learning-rate schedulers, as torch.optim.lr_scheduler (1.13) computes
 * them, and the book's appendix D warm-up and cosine decay (see optim.h).
 * Each is a rule for one group's next lr; the object keeps the epoch, the
 * base lrs and the last lrs, and sets every group's lr at once or not at
 * all.  Rates are Python floats: doubles, in torch's order of operations.
 */
#include "optim_internal.h"

#include <math.h>
#include <stdlib.h>

typedef enum { STEP_LR, LAMBDA_LR, COSINE_LR, WARMUP_COSINE_LR } SchedulerKind;

struct OptimScheduler {
    SchedulerKind kind;
    const char *name;            /* torch's class name, for messages */
    Optimizer *o;
    int64_t n_groups;            /* o's, kept: last_lr still answers after optim_free(o) */
    int64_t last_epoch;
    double *base_lrs, *last_lrs; /* [group] */
    int64_t step_size, t_max;
    double gamma, eta_min;
    OptimLambda lr_lambda;
    void *ctx;
    WarmupCosineOptions warmup;
};

/* The book's get_lr(step), with the peak as the group's base lr. */
static double warmup_cosine(const WarmupCosineOptions *w, double peak_lr, int64_t step)
{
    double lr_increment = (peak_lr - w->initial_lr) / (double)w->warmup_steps;
    if (step < w->warmup_steps) return w->initial_lr + (double)step * lr_increment;
    double progress = (double)(step - w->warmup_steps) / (double)(w->total_steps - w->warmup_steps);
    return w->min_lr + (peak_lr - w->min_lr) * 0.5 * (1 + cos(M_PI * progress));
}

/* Group g's lr at epoch e (s->last_epoch, already advanced), from its
 * current lr: torch's get_lr, one group. */
static double next_lr(const OptimScheduler *s, int64_t g, double lr)
{
    int64_t e = s->last_epoch;
    double base = s->base_lrs[g];
    switch (s->kind) {
    case STEP_LR:
        return e == 0 || e % s->step_size != 0 ? lr : lr * s->gamma;
    case LAMBDA_LR:
        return base * s->lr_lambda(e, s->ctx);
    case COSINE_LR: {
        double t = (double)s->t_max, eta = s->eta_min;
        if (e == 0) return lr;
        /* Python's % is never negative; == 0 holds for the same e in C. */
        if ((e - 1 - s->t_max) % (2 * s->t_max) == 0)
            return lr + (base - eta) * (1 - cos(M_PI / t)) / 2;
        return (1 + cos(M_PI * (double)e / t)) / (1 + cos(M_PI * (double)(e - 1) / t)) *
                   (lr - eta) + eta;
    }
    case WARMUP_COSINE_LR:
        return warmup_cosine(&s->warmup, base, e);
    }
    return NAN;
}

/* One epoch on: every group's new lr computed first, then all set; -1 with
 * a message (epoch and lrs unchanged) when one is negative or not finite. */
static int advance(OptimScheduler *s)
{
    Optimizer *o = s->o;
    double *lrs = malloc((size_t)o->n_groups * sizeof *lrs);
    if (!lrs) return tensor_set_error("%s: out of memory", s->name), -1;
    s->last_epoch++;
    for (int64_t g = 0; g < o->n_groups; g++) {
        lrs[g] = next_lr(s, g, optim_get_lr(o, g));
        if (!(lrs[g] >= 0) || !isfinite(lrs[g])) {
            tensor_set_error("%s: epoch %lld: invalid learning rate %g for group %lld", s->name,
                             (long long)s->last_epoch, lrs[g], (long long)g);
            s->last_epoch--;
            free(lrs);
            return -1;
        }
    }
    for (int64_t g = 0; g < o->n_groups; g++) {
        optim_set_lr(o, g, lrs[g]);
        s->last_lrs[g] = lrs[g];
    }
    free(lrs);
    return 0;
}

/* A scheduler at epoch -1 with o's lrs as its bases, then torch's initial
 * step to epoch 0; NULL with a message. */
static OptimScheduler *made(OptimScheduler s)
{
    OptimScheduler *out = malloc(sizeof *out);
    s.n_groups = s.o->n_groups;
    s.base_lrs = malloc((size_t)s.o->n_groups * sizeof *s.base_lrs);
    s.last_lrs = malloc((size_t)s.o->n_groups * sizeof *s.last_lrs);
    if (!out || !s.base_lrs || !s.last_lrs) {
        free(out);
        free(s.base_lrs);
        free(s.last_lrs);
        return tensor_set_error("%s: out of memory", s.name);
    }
    for (int64_t g = 0; g < s.o->n_groups; g++)
        s.base_lrs[g] = s.last_lrs[g] = optim_get_lr(s.o, g);
    s.last_epoch = -1;
    *out = s;
    if (advance(out)) {
        optim_scheduler_free(out);
        return NULL;
    }
    return out;
}

OptimScheduler *optim_step_lr(Optimizer *o, int64_t step_size, double gamma)
{
    if (!o) return NULL;
    if (step_size <= 0) return tensor_set_error("StepLR: step_size %lld must be positive",
                                                (long long)step_size);
    if (!(gamma >= 0) || !isfinite(gamma))
        return tensor_set_error("StepLR: invalid gamma %g", gamma);
    return made((OptimScheduler){.kind = STEP_LR, .name = "StepLR", .o = o,
                                 .step_size = step_size, .gamma = gamma});
}

OptimScheduler *optim_lambda_lr(Optimizer *o, OptimLambda lr_lambda, void *ctx)
{
    if (!o) return NULL;
    if (!lr_lambda) return tensor_set_error("LambdaLR: lr_lambda is NULL");
    return made((OptimScheduler){.kind = LAMBDA_LR, .name = "LambdaLR", .o = o,
                                 .lr_lambda = lr_lambda, .ctx = ctx});
}

OptimScheduler *optim_cosine_annealing_lr(Optimizer *o, int64_t t_max, double eta_min)
{
    if (!o) return NULL;
    /* torch divides by T_max; a bound keeps 2 * t_max and pi / t_max sane. */
    if (t_max <= 0 || t_max > ((int64_t)1 << 53))
        return tensor_set_error("CosineAnnealingLR: T_max %lld must be in [1, 2^53]",
                                (long long)t_max);
    if (!(eta_min >= 0) || !isfinite(eta_min))
        return tensor_set_error("CosineAnnealingLR: invalid eta_min %g", eta_min);
    return made((OptimScheduler){.kind = COSINE_LR, .name = "CosineAnnealingLR", .o = o,
                                 .t_max = t_max, .eta_min = eta_min});
}

/* 0 when w can make a schedule; -1 with a message naming it when not. */
static int check_warmup(const char *name, const WarmupCosineOptions *w)
{
    if (w->optim__made != OPTIM__MADE)
        return tensor_set_error("%s: options not made by OPTIM_WARMUP_COSINE_OPTIONS(): write "
                                "OPTIM_WARMUP_COSINE_OPTIONS(.warmup_steps = 27, "
                                ".total_steps = 135)", name), -1;
    if (w->warmup_steps < 0 || w->total_steps <= w->warmup_steps)
        return tensor_set_error("%s: need 0 <= warmup_steps < total_steps (warmup %lld, total "
                                "%lld)", name, (long long)w->warmup_steps,
                                (long long)w->total_steps), -1;
    if (!(w->initial_lr >= 0) || !isfinite(w->initial_lr))
        return tensor_set_error("%s: invalid initial_lr %g", name, w->initial_lr), -1;
    if (!(w->min_lr >= 0) || !isfinite(w->min_lr))
        return tensor_set_error("%s: invalid min_lr %g", name, w->min_lr), -1;
    return 0;
}

OptimScheduler *optim_warmup_cosine_lr(Optimizer *o, WarmupCosineOptions w)
{
    if (!o) return NULL;
    const char *name = "warmup_cosine_lr";
    if (check_warmup(name, &w)) return NULL;
    return made((OptimScheduler){.kind = WARMUP_COSINE_LR, .name = name, .o = o, .warmup = w});
}

double optim_warmup_cosine_lr_at(WarmupCosineOptions w, double peak_lr, int64_t step)
{
    if (check_warmup("warmup_cosine_lr", &w)) return NAN;
    if (!(peak_lr >= 0) || !isfinite(peak_lr)) {
        tensor_set_error("warmup_cosine_lr: invalid peak lr %g", peak_lr);
        return NAN;
    }
    return warmup_cosine(&w, peak_lr, step);
}

int optim_scheduler_step(OptimScheduler *s) { return s ? advance(s) : -1; }

int64_t optim_scheduler_epoch(const OptimScheduler *s) { return s ? s->last_epoch : -1; }

double optim_scheduler_last_lr(const OptimScheduler *s, int64_t group)
{
    return s && group >= 0 && group < s->n_groups ? s->last_lrs[group] : NAN;
}

void optim_scheduler_free(OptimScheduler *s)
{
    if (!s) return;
    free(s->base_lrs);
    free(s->last_lrs);
    free(s);
}
