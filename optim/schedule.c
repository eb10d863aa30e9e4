/*
 * Learning-rate schedules, as the book's appendix D trains: a linear
 * warm-up from initial_lr to peak_lr, then a cosine decay to min_lr.
 */
#include "optim_internal.h"

#include <math.h>

/*   if step < warmup_steps:  lr = initial_lr + step * (peak_lr - initial_lr) / warmup_steps
 *   else: progress = (step - warmup_steps) / (total_steps - warmup_steps)
 *         lr = min_lr + (peak_lr - min_lr) * 0.5 * (1 + cos(pi * progress))
 * The arithmetic is the book's, in double as Python's floats. */
double optim_lr_warmup_cosine(const OptimWarmupCosine *s, int64_t step)
{
    if (!s || s->warmup_steps < 0 || s->total_steps <= s->warmup_steps || step < 0) {
        tensor_set_error("lr_warmup_cosine: need 0 <= warmup_steps < total_steps and step >= 0 "
                         "(warmup %lld, total %lld, step %lld)",
                         s ? (long long)s->warmup_steps : 0LL,
                         s ? (long long)s->total_steps : 0LL, (long long)step);
        return NAN;
    }
    if (step < s->warmup_steps) {
        double increment = (s->peak_lr - s->initial_lr) / (double)s->warmup_steps;
        return s->initial_lr + (double)step * increment;
    }
    double progress = (double)(step - s->warmup_steps) / (double)(s->total_steps - s->warmup_steps);
    return s->min_lr + (s->peak_lr - s->min_lr) * 0.5 * (1 + cos(M_PI * progress));
}

/* Where o keeps its learning rate (torch's param_groups[0]["lr"]): every
 * kind's first hyper-parameter (its table, optim_internal.h). */
static double *lr_of(Optimizer *o)
{
    return (double *)((char *)o + o->kind->options_offset + o->kind->hyper[0].offset);
}

int optim_set_lr(Optimizer *o, double lr)
{
    if (!o) return -1;
    if (!(lr >= 0) || !isfinite(lr)) {
        tensor_set_error("%s: invalid learning rate %g", o->type, lr);
        return -1;
    }
    *lr_of(o) = lr;
    return 0;
}

double optim_get_lr(const Optimizer *o) { return o ? *lr_of((Optimizer *)o) : NAN; }
