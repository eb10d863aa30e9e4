/*
 * Teaching aids: tensor names and the recorded graph as Graphviz DOT.
 *
 * The graph drawn is the one tensor_backward() walks: from the root, each
 * tensor's grad_fn points at the op's inputs.  Every tensor becomes one DOT
 * node and every (input, output) pair of an op one edge, drawn in the
 * direction the data flowed.  Node ids are given in post-order of a
 * depth-first walk from the root (inputs in the order the op took them), so
 * the same program writes the same file every time.
 */
#include "core/tensor_internal.h"

#include <stdint.h>
#include <string.h>

Tensor *tensor_set_name(Tensor *t, const char *name)
{
    if (t) t->name = name;
    return t;
}

/* ---- the walk: tensors reachable from the root, numbered ------------------ */

typedef struct {
    const Tensor **slot;       /* open addressing over tensor pointers; NULL: empty */
    int *id;                   /* the slot's id; -1 while its inputs are being walked */
    size_t cap;                /* a power of two, at least twice the count */
    const Tensor **by_id;      /* tensors in id order */
    int count;
} Graph;

static size_t slot_of(const Graph *g, const Tensor *t)
{
    size_t h = (size_t)(((uintptr_t)t >> 4) * 0x9E3779B97F4A7C15ull) & (g->cap - 1);
    while (g->slot[h] && g->slot[h] != t) h = (h + 1) & (g->cap - 1);
    return h;
}

static int graph_grow(Graph *g)
{
    Graph big = {.cap = g->cap ? g->cap * 2 : 64, .count = g->count};
    big.slot = calloc(big.cap, sizeof *big.slot);
    big.id = malloc(big.cap * sizeof *big.id);
    big.by_id = malloc(big.cap / 2 * sizeof *big.by_id);
    if (!big.slot || !big.id || !big.by_id) {
        free(big.slot);
        free(big.id);
        free(big.by_id);
        return -1;
    }
    for (size_t i = 0; i < g->cap; i++) {
        if (!g->slot[i]) continue;
        size_t h = slot_of(&big, g->slot[i]);
        big.slot[h] = g->slot[i];
        big.id[h] = g->id[i];
    }
    if (g->count) memcpy(big.by_id, g->by_id, (size_t)g->count * sizeof *big.by_id);
    free(g->slot);
    free(g->id);
    free(g->by_id);
    *g = big;
    return 0;
}

static void graph_free(Graph *g)
{
    free(g->slot);
    free(g->id);
    free(g->by_id);
}

/* Marks t as seen (id -1 until numbered); 1 if it was new, 0 if seen, -1 out of memory. */
static int graph_visit(Graph *g, const Tensor *t)
{
    if ((size_t)g->count + 1 > g->cap / 2 && graph_grow(g)) return -1;
    size_t h = slot_of(g, t);
    if (g->slot[h]) return 0;
    g->slot[h] = t;
    g->id[h] = -1;
    /* Counts seen tensors so that by_id, sized cap / 2, always has room. */
    g->count++;
    return 1;
}

static int graph_id(const Graph *g, const Tensor *t) { return g->id[slot_of(g, t)]; }

static int n_inputs(const Tensor *t) { return t->grad_fn ? t->grad_fn->n_inputs : 0; }

static const Tensor *input_of(const Tensor *t, int i) { return t->grad_fn->inputs[i]; }

/* Numbers every tensor reachable from root in post-order: inputs before the
 * tensors made from them, the root last.  Iterative: graphs can be deep. */
static int graph_walk(Graph *g, const Tensor *root)
{
    typedef struct { const Tensor *t; int next; } Frame;
    size_t cap = 64, top = 0;
    Frame *stack = malloc(cap * sizeof *stack);
    int next_id = 0;
    if (!stack || graph_visit(g, root) < 0) goto oom;
    stack[top++] = (Frame){root, 0};
    while (top) {
        Frame *f = &stack[top - 1];
        if (f->next < n_inputs(f->t)) {
            const Tensor *in = input_of(f->t, f->next++);
            if (!in) continue;
            int fresh = graph_visit(g, in);
            if (fresh < 0) goto oom;
            if (!fresh) continue;
            if (top == cap) {
                Frame *bigger = realloc(stack, (cap *= 2) * sizeof *stack);
                if (!bigger) goto oom;
                stack = bigger;
            }
            stack[top++] = (Frame){in, 0};
            continue;
        }
        g->id[slot_of(g, f->t)] = next_id;
        g->by_id[next_id++] = f->t;
        top--;
    }
    free(stack);
    return 0;
oom:
    free(stack);
    tensor_set_error("graph_dot: out of memory");
    return -1;
}

/* ---- writing DOT ----------------------------------------------------------- */

/* Writes s inside a DOT double-quoted string. */
static void put_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        if (*s == '\n') fputs("\\n", f);
        else if ((unsigned char)*s < ' ') fputc('?', f);
        else fputc(*s, f);
    }
}

/* Parameters (leaves that require grad) are filled; plain inputs dashed;
 * tensors made by an op plain boxes; the root drawn bold. */
static void write_node(FILE *f, const Tensor *t, int id, bool is_root)
{
    fprintf(f, "    t%d [label=\"", id);
    if (t->name) {
        put_escaped(f, t->name);
        fputs("\\n", f);
    }
    fputs(tensor_shape_str(t), f);
    if (t->grad_fn) fprintf(f, "\\n%s", t->grad_fn->name);
    else fputs(t->requires_grad ? "\\nparameter" : "\\ninput", f);
    if (t->grad) fprintf(f, "\\ngrad norm %.4g", tensor_l2_norm(t->grad));
    fputc('"', f);
    if (!t->grad_fn && t->requires_grad)
        fputs(", style=\"rounded,filled\", fillcolor=\"#9ecae1\"", f);
    else if (!t->grad_fn)
        fputs(", style=\"rounded,dashed\"", f);
    if (is_root) fputs(", penwidth=2", f);
    fputs("];\n", f);
}

int tensor_graph_dot(const Tensor *root, FILE *f)
{
    if (!root) {
        /* A failed forward hands us NULL: keep its message, the first cause. */
        if (!tensor_error()[0]) tensor_set_error("graph_dot: root tensor is NULL");
        return -1;
    }
    if (!f) return tensor_set_error("graph_dot: FILE is NULL"), -1;
    Graph g = {0};
    if (graph_walk(&g, root)) {
        graph_free(&g);
        return -1;
    }
    int edges = 0;
    for (int i = 0; i < g.count; i++)
        for (int k = 0; k < n_inputs(g.by_id[i]); k++) edges += input_of(g.by_id[i], k) != NULL;
    fprintf(f, "digraph attograd {\n"
               "    // %d tensors, %d edges; arrows point from an op's inputs to its output\n"
               "    rankdir=TB;\n"
               "    node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=11];\n",
            g.count, edges);
    /* The title and the legend, as the graph's own label (not nodes): what
     * the arrows, fills, dashes and numbers mean. */
    fputs("    labelloc=t; labeljust=l; fontname=\"Helvetica\"; fontsize=12;\n"
          "    label=\"The autograd graph of the bold box\\l"
          "arrows: data flow of the forward pass (backward runs against them)\\l"
          "blue filled: parameters (leaves that require grad); dashed: inputs; "
          "plain: made by the op named in the box\\l"
          "numbers: shapes, and after backward the L2 norm of each tensor's gradient "
          "(4 significant digits)\\l\";\n",
          f);
    for (int i = 0; i < g.count; i++) {
        const Tensor *t = g.by_id[i];
        write_node(f, t, i, t == root);
        for (int k = 0; k < n_inputs(t); k++)
            if (input_of(t, k)) fprintf(f, "    t%d -> t%d;\n", graph_id(&g, input_of(t, k)), i);
    }
    fputs("}\n", f);
    graph_free(&g);
    if (fflush(f) != 0 || ferror(f)) return tensor_set_error("graph_dot: write failed"), -1;
    return 0;
}
