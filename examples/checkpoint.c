/* Training checkpoints (see checkpoint.h). */
#include "checkpoint.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum { MT_WORDS = 624, N_HYPER = 5 };

static char message[512];

const char *checkpoint_error(void) { return message; }

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    return -1;
}

static int fail_tensor(void) { return fail("%s", tensor_error()); }

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "checkpoint: out of memory\n");
        abort();
    }
    return p;
}

/* ---- the list of entries ------------------------------------------------- */

typedef struct {
    int n, cap;
    TensorEntry *e; /* names owned */
} List;

static void add(List *l, const char *name, TensorDtype dtype, int ndim, const int64_t *shape,
                void *data)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 32;
        TensorEntry *e = xmalloc((size_t)l->cap * sizeof *e);
        if (l->n) memcpy(e, l->e, (size_t)l->n * sizeof *e);
        free(l->e);
        l->e = e;
    }
    TensorEntry *e = &l->e[l->n++];
    *e = (TensorEntry){.name = strcpy(xmalloc(strlen(name) + 1), name),
                       .dtype = dtype,
                       .ndim = ndim,
                       .data = data};
    if (ndim) memcpy(e->shape, shape, (size_t)ndim * sizeof *shape);
}

/* A long-lived tensor's own data (contiguous), as F32. */
static void add_tensor(List *l, const char *name, Tensor *t)
{
    add(l, name, TENSOR_F32, t->ndim, t->shape, t->data);
}

static void list_free(List *l)
{
    for (int i = 0; i < l->n; i++) free((char *)l->e[i].name);
    free(l->e);
}

/* ---- what is saved besides the tensors ---------------------------------- */

/* The numbers of a checkpoint, in one place so that save and load list the
 * same entries. */
typedef struct {
    int64_t step, steps, index;
    int64_t *param_steps;
    double hyper[N_HYPER];
    uint32_t mt[MT_WORDS];
    uint64_t seed;
    double normal[2];
} Numbers;

static const char *const sgd_hyper[N_HYPER] = {"lr", "momentum", "dampening", "weight_decay",
                                               "nesterov"};
static const char *const adam_hyper[N_HYPER] = {"lr", "beta1", "beta2", "eps", "weight_decay"};

static bool is_sgd(const Optimizer *o) { return strcmp(o->type, "SGD") == 0; }

static void numbers_from(Numbers *s, const Optimizer *o, const TensorGenerator *g, int64_t step)
{
    s->step = step;
    s->steps = o->steps;
    memcpy(s->param_steps, o->param_steps, (size_t)o->n_params * sizeof *s->param_steps);
    const SGDOptions *q = &o->sgd;
    const AdamOptions *a = &o->adam;
    double sgd[N_HYPER] = {q->lr, q->momentum, q->dampening, q->weight_decay, q->nesterov};
    double adam[N_HYPER] = {a->lr, a->beta1, a->beta2, a->eps, a->weight_decay};
    memcpy(s->hyper, is_sgd(o) ? sgd : adam, sizeof s->hyper);
    memcpy(s->mt, g->state, sizeof s->mt);
    s->index = g->index;
    s->seed = g->seed;
    s->normal[0] = g->has_next_double_normal ? g->next_double_normal : NAN;
    s->normal[1] = g->has_next_float_normal ? (double)g->next_float_normal : NAN;
}

static void numbers_to(const Numbers *s, Optimizer *o, TensorGenerator *g, int64_t *step)
{
    *step = s->step;
    o->steps = s->steps;
    memcpy(o->param_steps, s->param_steps, (size_t)o->n_params * sizeof *s->param_steps);
    const double *h = s->hyper;
    if (is_sgd(o))
        o->sgd = (SGDOptions){h[0], h[1], h[2], h[3], h[4] != 0};
    else
        o->adam = (AdamOptions){h[0], h[1], h[2], h[3], h[4]};
    memcpy(g->state, s->mt, sizeof s->mt);
    g->index = (int)s->index;
    g->seed = s->seed;
    g->has_next_double_normal = !isnan(s->normal[0]);
    g->next_double_normal = g->has_next_double_normal ? s->normal[0] : 0;
    g->has_next_float_normal = !isnan(s->normal[1]);
    g->next_float_normal = g->has_next_float_normal ? (float)s->normal[1] : 0;
}

/* Entries for the module and for s; not the optimizer's state tensors. */
static void list_common(List *l, const Module *m, const Optimizer *o, Numbers *s)
{
    char name[96];
    NNList lists[2] = {nn_named_parameters(m), nn_named_buffers(m)};
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < lists[k].count; i++)
            add_tensor(l, lists[k].names[i], lists[k].tensors[i]);
        nn_list_free(&lists[k]);
    }
    for (int i = 0; i < o->n_params; i++) {
        snprintf(name, sizeof name, "optimizer.state.%d.step", i);
        add(l, name, TENSOR_I64, 0, NULL, &s->param_steps[i]);
    }
    add(l, "optimizer.steps", TENSOR_I64, 0, NULL, &s->steps);
    for (int k = 0; k < N_HYPER; k++) {
        snprintf(name, sizeof name, "optimizer.%s", is_sgd(o) ? sgd_hyper[k] : adam_hyper[k]);
        add(l, name, TENSOR_F64, 0, NULL, &s->hyper[k]);
    }
    add(l, "generator.mt", TENSOR_U32, 1, (const int64_t[]){MT_WORDS}, s->mt);
    add(l, "generator.index", TENSOR_I64, 0, NULL, &s->index);
    add(l, "generator.seed", TENSOR_U64, 0, NULL, &s->seed);
    add(l, "generator.normal", TENSOR_F64, 1, (const int64_t[]){2}, s->normal);
    add(l, "step", TENSOR_I64, 0, NULL, &s->step);
}

static const char *state_name(char *buf, size_t cap, const Optimizer *o, int i, int k)
{
    snprintf(buf, cap, "optimizer.state.%d.%s", i, o->state_names[k]);
    return buf;
}

/* ---- saving --------------------------------------------------------------- */

int checkpoint_save(const char *path, const Module *m, const Optimizer *o, const TensorGenerator *g,
                    int64_t step, int n_meta, const TensorMeta *meta)
{
    if (!m || !o) return fail("save %s: the module or the optimizer is NULL", path);
    if (n_meta < 0 || (n_meta && !meta)) return fail("save %s: bad metadata list", path);
    Numbers s = {.param_steps = xmalloc((size_t)o->n_params * sizeof *s.param_steps)};
    numbers_from(&s, o, g ? g : tensor_default_generator(), step);
    List l = {0};
    list_common(&l, m, o, &s);
    char name[96];
    for (int i = 0; i < o->n_params; i++)
        for (int k = 0; k < o->n_state; k++)
            if (o->state[i * o->n_state + k])
                add_tensor(&l, state_name(name, sizeof name, o, i, k),
                           o->state[i * o->n_state + k]);
    TensorMeta *all = xmalloc((size_t)(n_meta + 2) * sizeof *all);
    all[0] = (TensorMeta){"format", "pt"};
    all[1] = (TensorMeta){"optimizer", o->type};
    if (n_meta) memcpy(all + 2, meta, (size_t)n_meta * sizeof *meta);
    int rc = tensor_save_entries(path, l.n, l.e, n_meta + 2, all) ? fail_tensor() : 0;
    free(all);
    list_free(&l);
    free(s.param_steps);
    return rc;
}

/* ---- loading -------------------------------------------------------------- */

/* generator.index drives reads of generator.mt: checked before anything is
 * read (tensor_file_read checks its dtype and shape). */
static int check_index(const char *path, const TensorFile *f)
{
    const TensorEntry *e = tensor_file_find(f, "generator.index");
    if (!e || e->dtype != TENSOR_I64 || e->ndim != 0) return 0;
    int64_t v;
    memcpy(&v, e->data, sizeof v);
    if (v < 0 || v > MT_WORDS)
        return fail("load %s: generator.index %lld is out of range (0 to %d)", path, (long long)v,
                    MT_WORDS);
    return 0;
}

/* Adds the state tensors the file holds; a slot still NULL gets a new
 * tensor in fresh[], installed only once the whole read has succeeded.
 * -1 when one does not fit in memory (tensor_error() says so). */
static int list_state(List *l, const TensorFile *f, const Optimizer *o, Tensor **fresh)
{
    char name[96];
    for (int i = 0; i < o->n_params; i++) {
        for (int k = 0; k < o->n_state; k++) {
            int slot = i * o->n_state + k;
            if (!tensor_file_find(f, state_name(name, sizeof name, o, i, k))) continue;
            Tensor *t = o->state[slot];
            if (!t) t = fresh[slot] = tensor_keep(o->params[i]);
            if (!t) return -1;
            t->requires_grad = false;
            add_tensor(l, name, t);
        }
    }
    return 0;
}

/* The file's state replaces the optimizer's: a slot the file lacks is
 * emptied, as torch's load_state_dict replaces the whole state. */
static void install_state(const TensorFile *f, Optimizer *o, Tensor **fresh)
{
    char name[96];
    for (int i = 0; i < o->n_params; i++) {
        for (int k = 0; k < o->n_state; k++) {
            int slot = i * o->n_state + k;
            if (fresh[slot]) {
                fresh[slot]->name = o->state_names[k];
                o->state[slot] = fresh[slot];
            } else if (!tensor_file_find(f, state_name(name, sizeof name, o, i, k))) {
                tensor_free(o->state[slot]);
                o->state[slot] = NULL;
            }
        }
    }
}

/* Numbers a file must not set to just anything (NaN fails every test). */
static int check_numbers(const char *path, const Numbers *s, const Optimizer *o)
{
    const double *h = s->hyper;
    bool ok = is_sgd(o) ? h[0] >= 0 && h[1] >= 0 && h[2] >= 0 && h[3] >= 0
                        : h[0] >= 0 && h[1] >= 0 && h[1] < 1 && h[2] >= 0 && h[2] < 1 &&
                              h[3] >= 0 && h[4] >= 0;
    if (!ok)
        return fail("load %s: %s hyper-parameters out of range (%g, %g, %g, %g, %g)", path,
                    o->type, h[0], h[1], h[2], h[3], h[4]);
    if (s->step < 0 || s->steps < 0)
        return fail("load %s: negative step count %lld", path, (long long)s->step);
    for (int i = 0; i < o->n_params; i++)
        if (s->param_steps[i] < 0)
            return fail("load %s: negative step count for parameter %d", path, i);
    return 0;
}

static int load_file(const char *path, const TensorFile *f, Module *m, Optimizer *o,
                     TensorGenerator *g, int64_t *step)
{
    int slots = o->n_params * o->n_state;
    Tensor **fresh = calloc((size_t)(slots ? slots : 1), sizeof *fresh);
    Numbers s = {.param_steps = xmalloc((size_t)o->n_params * sizeof *s.param_steps)};
    if (!fresh) return fail("load %s: out of memory", path);
    List l = {0};
    list_common(&l, m, o, &s);
    bool read = list_state(&l, f, o, fresh) == 0 && tensor_file_read(f, l.n, l.e, "run") == 0;
    int rc = read ? 0 : fail_tensor();
    if (rc == 0) rc = check_numbers(path, &s, o);
    if (rc == 0) {
        install_state(f, o, fresh);
        numbers_to(&s, o, g, step);
    } else {
        for (int i = 0; i < slots; i++) tensor_free(fresh[i]);
    }
    list_free(&l);
    free(fresh);
    free(s.param_steps);
    return rc;
}

int checkpoint_load(const char *path, Module *m, Optimizer *o, TensorGenerator *g, int64_t *step,
                    int n_meta, const TensorMeta *meta)
{
    if (!m || !o || !step) return fail("load %s: the module, optimizer or step is NULL", path);
    if (n_meta < 0 || (n_meta && !meta)) return fail("load %s: bad metadata list", path);
    TensorFile *f = tensor_file_open(path);
    if (!f) return fail_tensor();
    int rc = 0;
    /* The caller's keys first: they name what the user chose (--optim adam). */
    for (int i = 0; i <= n_meta && rc == 0; i++)
        rc = i < n_meta ? tensor_file_expect_meta(f, meta[i].key, meta[i].value)
                        : tensor_file_expect_meta(f, "optimizer", o->type);
    if (rc) rc = fail_tensor();
    if (rc == 0) rc = check_index(path, f);
    if (rc == 0) rc = load_file(path, f, m, o, g ? g : tensor_default_generator(), step);
    tensor_file_close(f);
    return rc;
}
