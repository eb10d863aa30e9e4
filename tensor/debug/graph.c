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

/* ---- the walk for the tensor room's other teaching aids ---------------------- */

int64_t tensor__graph_tensors(const Tensor *root, const Tensor ***order)
{
    Graph g = {0};
    *order = NULL;
    if (graph_walk(&g, root)) {
        graph_free(&g);
        return -1;
    }
    *order = malloc((size_t)g.count * sizeof **order);
    if (!*order) {
        graph_free(&g);
        tensor_set_error("graph: out of memory");
        return -1;
    }
    memcpy(*order, g.by_id, (size_t)g.count * sizeof **order);
    int64_t n = g.count;
    graph_free(&g);
    return n;
}

/* ---- writing DOT ----------------------------------------------------------- */

/* Writes s as the text of a Graphviz HTML-like label: the characters that
 * mark up escaped, control bytes as '?', a newline as a line break. */
static void put_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\n': fputs("<BR/>", f); break;
        default: fputc((unsigned char)*s < ' ' ? '?' : *s, f);
        }
    }
}

/* One line of a node's label: a row of its table. */
static void put_row(FILE *f, const char *text)
{
    fputs("<TR><TD>", f);
    put_escaped(f, text);
    fputs("</TD></TR>", f);
}

/* The label is a table, one row a line: name, shape, the op that made it
 * (or what kind of leaf it is), and the gradient's norm once it has one.  A
 * thin empty row under the name keeps an underscore in it (W_key) from
 * touching the shape below, where it read as an overbar over "(3,2)".
 * Parameters (leaves that require grad) are filled; plain inputs dashed;
 * tensors made by an op plain boxes; the root drawn bold. */
static void write_node(FILE *f, const Tensor *t, int id, bool is_root)
{
    fprintf(f, "    t%d [label=<<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"0\" "
               "CELLPADDING=\"0\">", id);
    if (t->name) {
        put_row(f, t->name);
        fputs("<TR><TD HEIGHT=\"4\"></TD></TR>", f);
    }
    put_row(f, tensor_shape_str(t));
    put_row(f, t->grad_fn ? t->grad_fn->name : t->requires_grad ? "parameter" : "input");
    if (t->grad) {
        /* %#.4g keeps the zeros a norm of 0.3570 ends in: 4 digits, as the heading says. */
        char norm[48];
        snprintf(norm, sizeof norm, "grad norm %#.4g", tensor_l2_norm(t->grad));
        put_row(f, norm);
    }
    fputs("</TABLE>>", f);
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
          "    label=\"Autograd recorded this graph while computing the bold box; "
          "the backward pass walks it from there, against the arrows.\\l"
          "Each arrow carries a tensor into the op that used it, as the forward pass ran.\\l"
          "Blue boxes are parameters (leaves that require grad), dashed boxes are inputs, "
          "and every other box was made by the op it names.\\l"
          "Each box gives its shape and, after a backward pass, the L2 norm of its gradient "
          "to 4 significant digits.\\l\";\n",
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
