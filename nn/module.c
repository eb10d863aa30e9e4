/*
 * Module plumbing: registering parameters, buffers and children, walking
 * them with PyTorch's state_dict names, train/eval, and freeing.
 *
 * Names and order follow torch.nn.Module.named_parameters(): a module's own
 * tensors in registration order, then each child's, depth first, with the
 * child's name and a dot in front ("heads.0.W_key.weight").
 */
#include "nn_internal.h"

#include <stdlib.h>
#include <string.h>

static Module *nn_child_(Module *m, const char *name, Module *child);

/* Names and lists take a few bytes each: running out of memory here is
 * fatal, as for an op's workspace (tensor.h, Errors). */
static void *xrealloc(void *p, size_t bytes)
{
    void *q = realloc(p, bytes);
    if (!q) {
        fputs("attograd: out of memory\n", stderr);
        abort();
    }
    return q;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xrealloc(NULL, n), s, n);
}

void *nn_module_new(size_t size, const char *type, ModuleForward forward)
{
    if (size < sizeof(Module))
        return tensor_set_error("nn_module_new: %s: size %zu is smaller than a Module header",
                                type ? type : "module", size);
    Module *m = calloc(1, size);
    if (!m) return tensor_set_error("%s: out of memory", type ? type : "module");
    m->type = type;
    m->forward = forward;
    m->training = true;
    return m;
}

void *nn_module_as(const Module *m, const char *type)
{
    if (!m) return NULL;
    if (!type || !m->type || strcmp(m->type, type) != 0)
        return tensor_set_error("NN_AS: the module is a %s, not a %s", m->type ? m->type : "?",
                                type ? type : "?");
    return (void *)m;
}

static bool any_failed(const Module *m)
{
    if (m->failed) return true;
    for (int i = 0; i < m->n_children; i++)
        if (any_failed(m->children[i].module)) return true;
    return false;
}

void *nn_module_ok(Module *m)
{
    if (!m) return NULL;
    if (!any_failed(m)) return m;
    nn_module_free(m);
    return NULL;
}

/* prefix + name, malloc'd. */
static char *joined(const char *prefix, const char *name)
{
    size_t a = strlen(prefix), b = strlen(name);
    char *s = xrealloc(NULL, a + b + 1);
    memcpy(s, prefix, a);
    memcpy(s + a, name, b + 1);
    return s;
}

/* m's dotted place under its root: "" for a root, "trf_blocks.0.att." for
 * a block's attention; malloc'd. */
static char *path_of(const Module *m)
{
    if (!m->parent) return xstrdup("");
    char *up = path_of(m->parent), *path = NULL;
    for (int i = 0; i < m->parent->n_children && !path; i++)
        if (m->parent->children[i].module == m) {
            char *sub = joined(up, m->parent->children[i].name);
            path = joined(sub, ".");
            free(sub);
        }
    free(up);
    return path ? path : xstrdup("");
}

/* A tensor's full name is its module's path and its own name: the name
 * named_parameters() gives it from the root, which its tensor carries
 * (t->name) for graphs, gradcheck reports and messages. */
static void set_full_name(ModuleTensor *mt, const char *path)
{
    free(mt->full_name);
    mt->full_name = joined(path, mt->name);
    mt->tensor->name = mt->full_name;
}

/* Renames m's tensors, and its children's, under path (m just found its
 * place in a tree). */
static void rename_tree(Module *m, const char *path)
{
    for (int i = 0; i < m->n_params; i++) set_full_name(&m->params[i], path);
    for (int i = 0; i < m->n_buffers; i++) set_full_name(&m->buffers[i], path);
    for (int i = 0; i < m->n_children; i++) {
        char *sub = joined(path, m->children[i].name);
        char *child_path = joined(sub, ".");
        rename_tree(m->children[i].module, child_path);
        free(sub);
        free(child_path);
    }
}

void nn__rename_tree(Module *m)
{
    char *path = path_of(m);
    rename_tree(m, path);
    free(path);
}

/* Appends a long-lived copy of init to m's list; NULL (no change) when init
 * is NULL or its copy does not fit in memory (tensor_keep's message). */
static Tensor *add_tensor(Module *m, ModuleTensor **list, int *count, const char *name,
                          const Tensor *init, bool requires_grad)
{
    Tensor *t = tensor_keep(init);   /* NULL for a NULL init, or with a message */
    if (!t) return NULL;
    t->requires_grad = requires_grad;
    *list = xrealloc(*list, (size_t)(*count + 1) * sizeof **list);
    ModuleTensor *mt = &(*list)[*count];
    *mt = (ModuleTensor){.name = xstrdup(name), .tensor = t};
    char *path = path_of(m);
    set_full_name(mt, path);
    free(path);
    (*count)++;
    return t;
}

/* The kind of m's member already called name ("parameter", "buffer",
 * "child"), or NULL: one name, one member, as torch.nn.Module's attributes. */
static const char *taken(const Module *m, const char *name)
{
    for (int i = 0; i < m->n_params; i++)
        if (strcmp(m->params[i].name, name) == 0) return "parameter";
    for (int i = 0; i < m->n_buffers; i++)
        if (strcmp(m->buffers[i].name, name) == 0) return "buffer";
    for (int i = 0; i < m->n_children; i++)
        if (strcmp(m->children[i].name, name) == 0) return "child";
    return NULL;
}

/* 0 when name may name a new parameter or buffer of m (what
 * register_parameter accepts: not empty, no dot, not taken). */
static int check_tensor_name(const Module *m, const char *what, const char *name)
{
    const char *kind = taken(m, name);
    if (!*name || strchr(name, '.'))
        return tensor_set_error("nn_%s: %s name \"%s\" must be non-empty and hold no \".\"",
                                what, m->type, name), -1;
    if (kind)
        return tensor_set_error("nn_%s: %s already has a %s named \"%s\"", what, m->type, kind,
                                name), -1;
    return 0;
}

/* Sticky errors: a refused registration marks m and its ancestors, which
 * nn_module_ok then frees.  Once marked, later failures keep the first
 * message: the cause, not its consequences. */
typedef struct {
    bool was_failed;
    char message[512];
} Sticky;

static Sticky sticky_begin(const Module *m)
{
    Sticky st = {.was_failed = m && m->failed};
    if (st.was_failed) snprintf(st.message, sizeof st.message, "%s", tensor_error());
    return st;
}

static void *sticky_fail(Module *m, const Sticky *st)
{
    for (Module *a = m; a; a = a->parent) a->failed = true;
    if (st->was_failed) tensor_set_error("%s", st->message);
    return NULL;
}

static bool any_failed(const Module *m);

Tensor *nn_parameter(Module *m, const char *name, const Tensor *init)
{
    Sticky st = sticky_begin(m);
    if (!m || !name || check_tensor_name(m, "parameter", name)) return sticky_fail(m, &st);
    Tensor *t = add_tensor(m, &m->params, &m->n_params, name, init, true);
    return t ? t : sticky_fail(m, &st);
}

Tensor *nn_buffer(Module *m, const char *name, const Tensor *init)
{
    Sticky st = sticky_begin(m);
    if (!m || !name || check_tensor_name(m, "buffer", name)) return sticky_fail(m, &st);
    Tensor *t = add_tensor(m, &m->buffers, &m->n_buffers, name, init, false);
    return t ? t : sticky_fail(m, &st);
}

Tensor *nn__fixed_buffer(Module *m, const char *name, const Tensor *init)
{
    Tensor *t = nn_buffer(m, name, init);
    if (t) m->buffers[m->n_buffers - 1].fixed = true;
    return t;
}

Module *nn_child(Module *m, const char *name, Module *child)
{
    Sticky st = sticky_begin(m);
    Module *c = nn_child_(m, name, child);
    if (!c || any_failed(c)) return sticky_fail(m, &st), c;
    return c;
}

static Module *nn_child_(Module *m, const char *name, Module *child)
{
    if (!m || !name || !child) return NULL;
    const char *kind = taken(m, name);
    if (!*name || kind)
        return tensor_set_error("nn_child: %s already has a %s named \"%s\"", m->type,
                                kind ? kind : "child", name);
    /* A module has one owner (it is freed once) and the tree has no cycle
     * (walks end): m and its ancestors may not become child's children. */
    if (child->parent)
        return tensor_set_error("nn_child: %s \"%s\" is already a child of %s", child->type,
                                name, child->parent->type);
    for (const Module *a = m; a; a = a->parent)
        if (a == child)
            return tensor_set_error("nn_child: %s \"%s\" would contain itself", child->type,
                                    name);
    m->children = xrealloc(m->children, (size_t)(m->n_children + 1) * sizeof *m->children);
    m->children[m->n_children++] = (ModuleChild){xstrdup(name), child};
    child->parent = m;
    char *path = path_of(child);
    rename_tree(child, path);
    free(path);
    return child;
}

Tensor *nn_forward(Module *m, const Tensor *x)
{
    if (!m || !x) return NULL;
    if (!m->forward)   /* a container such as a list of modules */
        return tensor_set_error("nn_forward: module %s has no forward function", m->type);
    return m->forward(m, x);
}

/* ---- lists of modules ------------------------------------------------------ */

static Tensor *sequential_forward(Module *m, const Tensor *x)
{
    if (m->n_children == 0) return (Tensor *)x;   /* nn.Sequential() is the identity */
    Tensor *y = nn_forward(m->children[0].module, x);
    for (int i = 1; i < m->n_children && y; i++) y = nn_forward(m->children[i].module, y);
    return y;
}

Module *nn_sequential(void) { return nn_module_new(sizeof(Module), "Sequential", sequential_forward); }

Module *nn_module_list(void) { return nn_module_new(sizeof(Module), "ModuleList", NULL); }

Module *nn_append(Module *list, Module *item)
{
    if (!list) return NULL;
    char name[16];
    snprintf(name, sizeof name, "%d", list->n_children);
    return nn_child(list, name, item);
}

int64_t nn_len(const Module *m) { return m ? m->n_children : 0; }

Module *nn_item(const Module *m, int64_t i)
{
    if (!m) return NULL;
    int64_t at = i < 0 ? i + m->n_children : i;
    if (at < 0 || at >= m->n_children)
        return tensor_set_error("nn_item: index %lld out of range for %s of %d", (long long)i,
                                m->type, m->n_children);
    return m->children[at].module;
}

void nn_train(Module *m, bool training)
{
    if (!m) return;
    m->training = training;
    for (int i = 0; i < m->n_children; i++) nn_train(m->children[i].module, training);
}

/* ---- walking the tree ---------------------------------------------------- */

static void list_add(NNList *l, const char *prefix, const char *name, Tensor *t)
{
    size_t n = strlen(prefix) + strlen(name) + 1;
    char *full = xrealloc(NULL, n);
    snprintf(full, n, "%s%s", prefix, name);
    l->names = xrealloc(l->names, (size_t)(l->count + 1) * sizeof *l->names);
    l->tensors = xrealloc(l->tensors, (size_t)(l->count + 1) * sizeof *l->tensors);
    l->names[l->count] = full;
    l->tensors[l->count] = t;
    l->count++;
}

/* Own tensors of the kind chosen by buffers, then the children's, pre-order. */
static void collect(const Module *m, const char *prefix, bool buffers, NNList *l)
{
    const ModuleTensor *own = buffers ? m->buffers : m->params;
    int n = buffers ? m->n_buffers : m->n_params;
    for (int i = 0; i < n; i++) list_add(l, prefix, own[i].name, own[i].tensor);
    for (int i = 0; i < m->n_children; i++) {
        const ModuleChild *c = &m->children[i];
        size_t len = strlen(prefix) + strlen(c->name) + 2;
        char *sub = xrealloc(NULL, len);
        snprintf(sub, len, "%s%s.", prefix, c->name);
        collect(c->module, sub, buffers, l);
        free(sub);
    }
}

NNList nn_named_parameters(const Module *m)
{
    NNList l = {0};
    if (m) collect(m, "", false, &l);
    return l;
}

NNList nn_named_buffers(const Module *m)
{
    NNList l = {0};
    if (m) collect(m, "", true, &l);
    return l;
}

void nn_list_free(NNList *l)
{
    if (!l) return;
    for (int64_t i = 0; i < l->count; i++) free(l->names[i]);
    free(l->names);
    free(l->tensors);
    *l = (NNList){0};
}

int64_t nn_num_parameters(const Module *m)
{
    if (!m) return 0;
    int64_t n = 0;
    for (int i = 0; i < m->n_params; i++) n += m->params[i].tensor->numel;
    for (int i = 0; i < m->n_children; i++) n += nn_num_parameters(m->children[i].module);
    return n;
}

int64_t nn_num_trainable_parameters(const Module *m)
{
    if (!m) return 0;
    int64_t n = 0;
    for (int i = 0; i < m->n_params; i++)
        if (m->params[i].tensor->requires_grad) n += m->params[i].tensor->numel;
    for (int i = 0; i < m->n_children; i++) n += nn_num_trainable_parameters(m->children[i].module);
    return n;
}

/* The first parameter under m that is not a leaf, or NULL. */
static const Module *non_leaf(const Module *m, const ModuleTensor **at)
{
    for (int i = 0; i < m->n_params; i++)
        if (tensor_grad_fn_name(m->params[i].tensor)) {
            *at = &m->params[i];
            return m;
        }
    for (int i = 0; i < m->n_children; i++) {
        const Module *found = non_leaf(m->children[i].module, at);
        if (found) return found;
    }
    return NULL;
}

static void set_requires_grad(Module *m, bool requires_grad)
{
    for (int i = 0; i < m->n_params; i++) m->params[i].tensor->requires_grad = requires_grad;
    for (int i = 0; i < m->n_children; i++)
        set_requires_grad(m->children[i].module, requires_grad);
}

Module *nn_requires_grad_(Module *m, bool requires_grad)
{
    if (!m) return NULL;
    const ModuleTensor *at = NULL;
    const Module *owner = non_leaf(m, &at);
    if (owner)
        return tensor_set_error("nn_requires_grad_: %s's parameter \"%s\" %s is not a leaf "
                                "(made by %s)", owner->type, at->full_name,
                                tensor_shape_str(at->tensor), tensor_grad_fn_name(at->tensor));
    set_requires_grad(m, requires_grad);
    return m;
}

static const ModuleTensor *find_own(const ModuleTensor *list, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(list[i].name, name) == 0) return &list[i];
    return NULL;
}

/* "heads.0.W_key.weight": a child whose name and a dot start the rest, or an
 * own tensor.  Child names may contain dots themselves ("heads.0"). */
static const ModuleTensor *find_entry(const Module *m, const char *name)
{
    const ModuleTensor *t = find_own(m->params, m->n_params, name);
    if (!t) t = find_own(m->buffers, m->n_buffers, name);
    for (int i = 0; !t && i < m->n_children; i++) {
        size_t len = strlen(m->children[i].name);
        if (strncmp(name, m->children[i].name, len) == 0 && name[len] == '.')
            t = find_entry(m->children[i].module, name + len + 1);
    }
    return t;
}

static Tensor *find(const Module *m, const char *name)
{
    const ModuleTensor *t = find_entry(m, name);
    return t ? t->tensor : NULL;
}

/* A fixed buffer's values in a file (the causal masks) must be the
 * module's own: its forward applies the mask it was built with and never
 * reads the buffer, so a zeroed or NaN mask would be silently ignored,
 * where the book's model would apply it. */
int nn_check_loaded(const Module *m, const char *name, const void *values)
{
    const ModuleTensor *mt = m && name ? find_entry(m, name) : NULL;
    if (!mt || !mt->fixed || !values) return 0;
    const Tensor *t = mt->tensor;
    for (int64_t j = 0; j < t->numel; j++) {
        float x;
        memcpy(&x, (const char *)values + 4 * j, sizeof x);
        if (x == t->data[j]) continue;
        int64_t idx[TENSOR_MAX_DIMS], rest = j;
        for (int d = t->ndim - 1; d >= 0; d--) {
            idx[d] = rest % t->shape[d];
            rest /= t->shape[d];
        }
        char at[24 * TENSOR_MAX_DIMS + 2] = "(";
        for (int d = 0; d < t->ndim; d++)
            snprintf(at + strlen(at), sizeof at - strlen(at), "%s%lld", d ? "," : "",
                     (long long)idx[d]);
        strcat(at, ")");
        tensor_set_error("%s: %g at %s in file, %g in module: not the mask the module applies "
                         "(it never reads the buffer, so another one is refused)", name,
                         (double)x, at, (double)t->data[j]);
        return -1;
    }
    return 0;
}

Tensor *nn_get_parameter(const Module *m, const char *dotted_name)
{
    if (!m) return NULL;
    if (!dotted_name)
        return tensor_set_error("get_parameter: the name asked of %s is NULL", m->type);
    Tensor *t = find(m, dotted_name);
    if (!t)
        return tensor_set_error("get_parameter: %s has no parameter or buffer \"%s\"", m->type,
                                dotted_name);
    return t;
}

void nn_zero_grad(Module *m)
{
    if (!m) return;
    for (int i = 0; i < m->n_params; i++) tensor_zero_grad(m->params[i].tensor);
    for (int i = 0; i < m->n_children; i++) nn_zero_grad(m->children[i].module);
}

static void free_tensors(ModuleTensor *list, int n)
{
    for (int i = 0; i < n; i++) {
        tensor_free(list[i].tensor);
        free(list[i].name);
        free(list[i].full_name);
    }
    free(list);
}

void nn_module_free(Module *m)
{
    if (!m) return;
    if (m->destroy) m->destroy(m);
    for (int i = 0; i < m->n_children; i++) {
        nn_module_free(m->children[i].module);
        free(m->children[i].name);
    }
    free(m->children);
    free_tensors(m->params, m->n_params);
    free_tensors(m->buffers, m->n_buffers);
    free(m);
}
