/*
 * The generator's entries of a run state (see checkpoint.h): MT19937's
 * words and position, the seed, and the cached normal samples torch keeps,
 * read from and written to the generator's public fields (tensor.h).
 */
#include "run_state.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MT_WORDS = 624 };

/* The saved form: the generator's fields in the dtypes of the file. */
typedef struct {
    TensorGenerator *g;
    uint32_t mt[MT_WORDS];
    int64_t index;
    uint64_t seed;
    double normal[2];    /* NaN: no cached sample */
} Saved;

static int check(void *ctx, const CheckpointState *s)
{
    (void)ctx;
    const int64_t *index = checkpoint__state_staged(s, "generator.index");
    const uint32_t *mt = checkpoint__state_staged(s, "generator.mt");
    const double *normal = checkpoint__state_staged(s, "generator.normal");
    int64_t i;
    memcpy(&i, index, sizeof i);
    if (i < 0 || i > MT_WORDS)
        return checkpoint__state_fail(s, "generator.index %lld is out of range (0 to %d)",
                                      (long long)i, MT_WORDS),
               -1;
    /* MT19937 uses only the top bit of word 0; with it and every other word
     * zero the generator gives zeros forever. */
    uint32_t any = 0, w;
    memcpy(&w, mt, sizeof w);
    any = w & 0x80000000u;
    for (int k = 1; k < MT_WORDS && !any; k++) {
        memcpy(&w, mt + k, sizeof w);
        any = w;
    }
    if (!any) return checkpoint__state_fail(s, "generator.mt is all zero (no MT19937 state)"), -1;
    for (int k = 0; k < 2; k++) {
        double v;
        memcpy(&v, normal + k, sizeof v);
        if (isinf(v))
            return checkpoint__state_fail(s, "generator.normal[%d] is %g (a sample, or NaN for "
                                          "none)", k, v),
                   -1;
    }
    return 0;
}

/* The generic commit has copied the staged values into the saved form. */
static void commit(void *ctx, const CheckpointState *s)
{
    (void)s;
    const Saved *v = ctx;
    TensorGenerator *g = v->g;
    memcpy(g->state, v->mt, sizeof v->mt);
    g->index = (int)v->index;
    g->seed = v->seed;
    g->has_next_double_normal = !isnan(v->normal[0]);
    g->next_double_normal = g->has_next_double_normal ? v->normal[0] : 0;
    g->has_next_float_normal = !isnan(v->normal[1]);
    g->next_float_normal = g->has_next_float_normal ? (float)v->normal[1] : 0;
}

int checkpoint__generator_add(CheckpointState *s, TensorGenerator *g)
{
    if (!s) return -1;
    Saved *v = calloc(1, sizeof *v);
    if (!v) return tensor_set_error("checkpoint: out of memory"), -1;
    v->g = g = g ? g : tensor_default_generator();
    memcpy(v->mt, g->state, sizeof v->mt);
    v->index = g->index;
    v->seed = g->seed;
    v->normal[0] = g->has_next_double_normal ? g->next_double_normal : NAN;
    v->normal[1] = g->has_next_float_normal ? (double)g->next_float_normal : NAN;
    static const CheckpointStateHooks hooks = {.check = check, .commit = commit};
    if (checkpoint__state_add_part(s, &hooks, v)) return -1;
    int rc = checkpoint__state_add(s, "generator.mt", TENSOR_U32, 1,
                                   (const int64_t[]){MT_WORDS}, v->mt, 0);
    rc = rc ? rc : checkpoint__state_add(s, "generator.index", TENSOR_I64, 0, NULL, &v->index, 0);
    rc = rc ? rc : checkpoint__state_add(s, "generator.seed", TENSOR_U64, 0, NULL, &v->seed, 0);
    return rc ? rc
              : checkpoint__state_add(s, "generator.normal", TENSOR_F64, 1,
                                      (const int64_t[]){2}, v->normal, 0);
}
