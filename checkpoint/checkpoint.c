/* A training run's checkpoint (see checkpoint.h): one run state gathered
 * from the rooms below, saved or loaded whole. */
#include "run_state.h"

#include <stdlib.h>
#include <string.h>

/* The extras' ranges, checked on the staged values before anything changes. */
typedef struct {
    int n;
    const CheckpointExtra *extra;
} Extras;

static int check_extras(void *ctx, const CheckpointState *s)
{
    const Extras *x = ctx;
    for (int i = 0; i < x->n; i++) {
        int64_t v;
        memcpy(&v, checkpoint__state_staged(s, x->extra[i].name), sizeof v);
        if (v < x->extra[i].min || v > x->extra[i].max)
            return checkpoint__state_fail(s, "%s is %lld, outside [%lld, %lld]", x->extra[i].name,
                                     (long long)v, (long long)x->extra[i].min,
                                     (long long)x->extra[i].max),
                   -1;
    }
    return 0;
}

static int check_call(const char *op, const Checkpoint *c, const char *path)
{
    if (!c || !c->module) return tensor_set_error("%s %s: no module", op, path ? path : ""), -1;
    if (c->n_extra < 0 || (c->n_extra && !c->extra) || c->n_meta < 0 || (c->n_meta && !c->meta))
        return tensor_set_error("%s %s: bad extra or metadata list (%d, %d)", op,
                                path ? path : "", c->n_extra, c->n_meta),
               -1;
    for (int i = 0; i < c->n_extra; i++) {
        const CheckpointExtra *e = &c->extra[i];
        if (!e->name || !*e->name || !e->value || e->min > e->max)
            return tensor_set_error("%s %s: extra %d has no name, no value or an empty range",
                                    op, path ? path : "", i),
                   -1;
    }
    return 0;
}

/* The whole state of c; NULL with a message. */
static CheckpointState *gather(const Checkpoint *c)
{
    CheckpointState *s = checkpoint__state_new("checkpoint");
    int rc = checkpoint__module_add(s, c->module);
    if (rc == 0 && c->optimizer) rc = checkpoint__optimizer_add(s, c->optimizer);
    if (rc == 0) rc = checkpoint__generator_add(s, c->generator);
    if (rc == 0 && c->step)
        rc = checkpoint__state_add(s, "step", TENSOR_I64, 0, NULL, c->step, CHECKPOINT__COUNT);
    for (int i = 0; rc == 0 && i < c->n_extra; i++)
        rc = checkpoint__state_add(s, c->extra[i].name, TENSOR_I64, 0, NULL, c->extra[i].value,
                                   0);
    Extras *x = malloc(sizeof *x);
    if (rc == 0 && x) *x = (Extras){c->n_extra, c->extra};
    static const CheckpointStateHooks hooks = {.check = check_extras};
    if (rc == 0) rc = x ? checkpoint__state_add_part(s, &hooks, x) : -1;
    else free(x);
    if (rc) checkpoint__state_free(s);
    return rc ? NULL : s;
}

/* A save writes "format" "pt" (as PyTorch's safetensors files), the
 * optimizer's type and the caller's strings; a load expects the caller's
 * first (they name what the user chose: --optim adam), then the type. */
static TensorMeta *meta_list(const Checkpoint *c, bool save, int *n)
{
    TensorMeta *m = malloc((size_t)(c->n_meta + 2) * sizeof *m);
    if (!m) return tensor_set_error("checkpoint: out of memory");
    *n = 0;
    if (save) m[(*n)++] = (TensorMeta){"format", "pt"};
    if (c->n_meta) memcpy(m + *n, c->meta, (size_t)c->n_meta * sizeof *m);
    *n += c->n_meta;
    if (c->optimizer) m[(*n)++] = (TensorMeta){"optimizer", c->optimizer->type};
    return m;
}

static int run(const Checkpoint *c, const char *path, bool save)
{
    if (check_call(save ? "save" : "load", c, path)) return -1;
    for (int i = 0; save && i < c->n_extra; i++) {
        const CheckpointExtra *e = &c->extra[i];
        if (*e->value < e->min || *e->value > e->max)
            return tensor_set_error("save %s: %s is %lld, outside [%lld, %lld]", path, e->name,
                                    (long long)*e->value, (long long)e->min, (long long)e->max),
                   -1;
    }
    CheckpointState *s = gather(c);
    int n_meta = 0;
    TensorMeta *meta = s ? meta_list(c, save, &n_meta) : NULL;
    int rc = !meta ? -1
             : save ? checkpoint__state_save(s, path, n_meta, meta)
                    : checkpoint__state_load(s, path, n_meta, meta);
    free(meta);
    checkpoint__state_free(s);
    return rc;
}

int checkpoint_save(const Checkpoint *c, const char *path) { return run(c, path, true); }
int checkpoint_load(const Checkpoint *c, const char *path) { return run(c, path, false); }

int checkpoint_load_module(Module *m, const char *path, int n_meta, const TensorMeta *meta)
{
    if (!m) return tensor_set_error("load %s: no module", path ? path : ""), -1;
    CheckpointState *s = checkpoint__state_new("module");
    checkpoint__state_ignore_others(s);
    int rc = checkpoint__module_add(s, m) ? -1 : checkpoint__state_load(s, path, n_meta, meta);
    checkpoint__state_free(s);
    return rc;
}
