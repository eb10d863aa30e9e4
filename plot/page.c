/*
 * The backward pass as one HTML page (see plot.h, plot_backward_page).
 *
 * Order of work, so that a refusal changes nothing: the path, the options
 * and the graph's size are checked and the graph is drawn (dot, in the
 * private folder, on a DOT file of this room's naming) before the backward
 * runs; then the traced backward (tensor_trace_backward), the estimates,
 * and the page, written through the safe output file.
 *
 * dot's SVG goes into the page inline, without what would point outside
 * it: the XML prolog and DOCTYPE (a URL), the comments, and the xmlns
 * attributes (URLs an SVG inside HTML does not need).
 */
#include "plot/plot_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bool is_html(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot && !strchr(dot, '/') && (strcmp(dot, ".html") == 0 || strcmp(dot, ".htm") == 0);
}

/* The id of t in tr, or -1. */
static int64_t id_in(const TensorTrace *tr, const Tensor *t)
{
    for (int64_t i = 0; i < tr->n_tensors; i++)
        if (tr->tensors[i].tensor == t) return i;
    return -1;
}

/* Each note names a tensor of the graph, once, and its estimate has that
 * tensor's number of elements. */
static int check_notes(const TensorTrace *tr, const PlotPageOptions *o, const char *path,
                       PlotPageTensor *pt)
{
    if (o->n_notes < 0 || (o->n_notes && !o->notes))
        return plot__fail("%s: %lld notes at %p", path, (long long)o->n_notes,
                          (const void *)o->notes);
    for (int64_t i = 0; i < o->n_notes; i++) {
        const PlotPageNote *n = &o->notes[i];
        int64_t id = n->tensor ? id_in(tr, n->tensor) : -1;
        if (id < 0)
            return plot__fail("%s: note %lld: its tensor is not in the graph behind the loss",
                              path, (long long)i);
        if (pt[id].note)
            return plot__fail("%s: notes %lld and another name the same tensor", path,
                              (long long)i);
        if (n->numeric && n->numeric->numel != n->tensor->numel)
            return plot__fail("%s: note %lld: the estimate %s has not the %lld elements of the "
                              "tensor %s",
                              path, (long long)i, tensor_shape_str(n->numeric),
                              (long long)n->tensor->numel, tensor_shape_str(n->tensor));
        pt[id].note = n;
    }
    return 0;
}

/* ---- the graph, as inline SVG ------------------------------------------------------- */

/* dot's SVG from the svg element on, without comments and xmlns
 * attributes; malloc'd, NULL with a message. */
static char *inline_svg(const char *svg, const char *path)
{
    const char *start = strstr(svg, "<svg");
    const char *tag_end = start ? strchr(start, '>') : NULL;
    char *out = tag_end ? malloc(strlen(start) + 1) : NULL;
    if (!out) {
        plot__fail("%s: dot wrote no SVG", path);
        return NULL;
    }
    size_t n = 0;
    for (const char *p = start; *p;) {
        if (p < tag_end && strncmp(p, " xmlns", 6) == 0) {   /* xmlns="..." or xmlns:xlink="..." */
            const char *q = strchr(p + 1, '"');
            q = q ? strchr(q + 1, '"') : NULL;
            if (q && q < tag_end) {
                p = q + 1;
                continue;
            }
        }
        if (strncmp(p, "<!--", 4) == 0) {
            const char *q = strstr(p, "-->");
            p = q ? q + 3 : p + strlen(p);
            continue;
        }
        out[n++] = *p++;
    }
    out[n] = '\0';
    return out;
}

/* The graph behind loss drawn by dot as SVG (before the backward, so the
 * boxes carry no gradient norms: the page shows those as they arrive). */
static char *draw_graph(Tensor *loss, const char *path)
{
    PlotScratch s;
    if (plot__scratch_open(&s, path)) return NULL;
    FILE *f = plot__scratch_file(&s, "graph.dot", path);
    int rc = f ? 0 : -1;
    if (f && tensor_graph_dot(loss, f) != 0) rc = -1;
    if (f && fclose(f) != 0 && rc == 0) rc = plot__fail("%s: cannot write the graph's DOT", path);
    char *argv[] = {"dot", "-Tsvg", "-o", "graph.svg", "graph.dot", NULL};
    if (rc == 0) rc = plot__run(&s, argv, path);
    char *svg = NULL, *inl = NULL;
    size_t len = 0;
    if (rc == 0) {
        FILE *out = open_memstream(&svg, &len);
        if (!out || plot__copy_out(&s, "graph.svg", out, path) != 0) rc = -1;
        if (out) fclose(out);
    }
    plot__scratch_close(&s);
    if (rc == 0) inl = inline_svg(svg, path);
    free(svg);
    return inl;
}

/* ---- what the page shows whole --------------------------------------------------- */

typedef struct {
    int64_t id, cost;
} Cost;

static int by_cost(const void *a, const void *b)
{
    const Cost *x = a, *y = b;
    if (x->cost != y->cost) return x->cost < y->cost ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Tensors of at most PLOT_PAGE_WHOLE elements are shown whole, the
 * smallest first, while the numbers written stay within
 * PLOT_PAGE_MAX_NUMBERS: a value, a gradient and an estimate, and a
 * before, a part and an after for each part it receives. */
static int plan_whole(const TensorTrace *tr, PlotPageTensor *pt, const char *path)
{
    Cost *c = calloc((size_t)tr->n_tensors, sizeof *c);
    int64_t *parts = calloc((size_t)tr->n_tensors, sizeof *parts);
    if (!c || !parts) {
        free(c);
        free(parts);
        return plot__fail("%s: out of memory", path);
    }
    for (int64_t s = 0; s < tr->n_steps; s++)
        for (int i = 0; i < tr->steps[s].n_sent; i++) parts[tr->steps[s].sent[i].to]++;
    for (int64_t i = 0; i < tr->n_tensors; i++)
        c[i] = (Cost){i, tr->tensors[i].tensor->numel * (3 + 3 * parts[i])};
    qsort(c, (size_t)tr->n_tensors, sizeof *c, by_cost);
    int64_t used = 0;
    for (int64_t i = 0; i < tr->n_tensors; i++) {
        int64_t id = c[i].id;
        if (tr->tensors[id].tensor->numel > PLOT_PAGE_WHOLE) continue;
        if (used + c[i].cost > PLOT_PAGE_MAX_NUMBERS) break;
        used += c[i].cost;
        pt[id].whole = true;
    }
    free(c);
    free(parts);
    return 0;
}

/* The estimates: a note's, else tensor_numeric_grad's while the budget of
 * PLOT_PAGE_MAX_NUDGES elements lasts; reasons kept for the rest (in
 * messages, freed by the caller). */
static void plan_numeric(const TensorTrace *tr, PlotPageTensor *pt, const PlotPageOptions *o,
                         Tensor *loss, char **messages)
{
    int64_t budget = PLOT_PAGE_MAX_NUDGES;
    for (int64_t i = 0; i < tr->n_tensors; i++) {
        const TensorTraceTensor *t = &tr->tensors[i];
        PlotPageTensor *p = &pt[i];
        if (!t->grad && isnan(t->grad_norm)) continue;          /* no gradient to estimate */
        if (!p->whole) {
            p->no_numeric = "shown by its norms only (see the limits at the bottom)";
        } else if (p->note && p->note->numeric) {
            p->numeric = p->note->numeric;
            p->yours = true;
        } else if (!o->forward) {
            p->no_numeric = "no estimate: no note gives one, and the page was not given the "
                            "forward to run again";
        } else if (t->tensor->numel > budget) {
            p->no_numeric = "not estimated: the page runs your forward again for at most 4096 "
                            "elements in all (PLOT_PAGE_MAX_NUDGES), and smaller tensors took "
                            "them";
        } else {
            budget -= t->tensor->numel;
            p->numeric = tensor_numeric_grad(o->forward, o->forward_ctx, loss, t->tensor);
            if (!p->numeric) {
                size_t n = strlen(tensor_error()) + 16;
                messages[i] = malloc(n);
                if (messages[i]) snprintf(messages[i], n, "no estimate: %s", tensor_error());
                p->no_numeric = messages[i] ? messages[i] : "no estimate";
                tensor_clear_error();
            }
        }
    }
}

/* ---- the page ------------------------------------------------------------------------ */

/* s as HTML text: the markup characters as entities, control bytes and
 * invalid UTF-8 as '?'. */
static void put_html(FILE *f, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        unsigned char c = u[i];
        size_t n = c >= 0x80 ? plot__utf8_length(u + i, len - i) : 1;
        if (c >= 0x80 && n) fwrite(u + i, 1, n, f);
        else if (c == '&') fputs("&amp;", f);
        else if (c == '<') fputs("&lt;", f);
        else if (c == '>') fputs("&gt;", f);
        else if (c == '"') fputs("&quot;", f);
        else fputc(c >= 0x20 && c != 0x7f ? c : '?', f);
        i += n ? n : 1;
    }
}

static void write_page(FILE *f, const char *svg, const TensorTrace *tr, const PlotPageTensor *pt,
                       const PlotPageOptions *o, double loss)
{
    const char *title = o->title ? o->title : "The backward pass, step by step";
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", f);
    put_html(f, title);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header>\n<h1>", plot__page_css);
    put_html(f, title);
    fputs("</h1>\n", f);
    if (o->intro) {
        fputs("<p class=\"intro\">", f);
        put_html(f, o->intro);
        fputs("</p>\n", f);
    }
    fputs("<p class=\"how\">The graph below is what autograd recorded during the forward pass: "
          "data flowed down the arrows.  The backward pass walks it back up, from the loss to "
          "the parameters: press <b>Step</b> (or the right arrow key) to run it one node at a "
          "time in the engine's own order, and click any box to see its value, its gradient "
          "beside a central-difference estimate, and how that gradient was made.</p>\n"
          "</header>\n<main>\n<section id=\"graph-pane\">\n<div id=\"legend\"></div>\n"
          "<div id=\"graph\">\n", f);
    fputs(svg, f);
    fputs("</div>\n</section>\n<aside id=\"side\">\n<section id=\"stepper\"></section>\n"
          "<section id=\"detail\"></section>\n</aside>\n</main>\n<footer id=\"limits\"></footer>\n"
          "<script type=\"application/json\" id=\"trace\">", f);
    plot__page_data(f, tr, pt, o, loss);
    fprintf(f, "</script>\n<script>\n%s</script>\n</body>\n</html>\n", plot__page_js);
}

int plot_backward_page(Tensor *loss, const char *path, PlotPageOptions o)
{
    if (!path) return plot__fail("backward page: the path is NULL");
    if (!is_html(path)) return plot__fail("%s: the name must end in .html or .htm", path);
    if (!loss) return tensor_error()[0] ? -1 : plot__fail("%s: the loss is NULL", path);
    if (loss->numel != 1)
        return plot__fail("%s: the loss has shape %s; a page walks back from one number", path,
                          tensor_shape_str(loss));
    if (!loss->requires_grad)
        return plot__fail("%s: the loss does not require grad: there is no graph to walk back",
                          path);
    if (tensor_output_check(path)) return -1;
    TensorTrace *tr = tensor_trace_graph(loss, TENSOR_TRACE_OPTIONS(.keep = PLOT_PAGE_WHOLE));
    if (!tr) return -1;
    PlotPageTensor *pt = calloc((size_t)tr->n_tensors, sizeof *pt);
    char **messages = calloc((size_t)tr->n_tensors, sizeof *messages);
    char *svg = NULL;
    int rc = 0;
    if (!pt || !messages) {
        rc = plot__fail("%s: out of memory", path);
    } else if (tr->n_tensors > PLOT_PAGE_MAX_TENSORS) {
        rc = plot__fail("%s: the graph behind the loss has %lld tensors; a page draws at most %d "
                        "(PLOT_PAGE_MAX_TENSORS): make one of a smaller model (fewer layers, a "
                        "shorter input), or draw the graph alone with plot_graph",
                        path, (long long)tr->n_tensors, PLOT_PAGE_MAX_TENSORS);
    } else if (check_notes(tr, &o, path, pt) != 0 || !(svg = draw_graph(loss, path))) {
        rc = -1;
    }
    if (rc == 0 && tensor_trace_backward(tr) != 0) rc = -1;
    TensorScope *scope = rc == 0 ? tensor_scope_begin() : NULL;   /* the estimates live here */
    if (rc == 0 && plan_whole(tr, pt, path) != 0) rc = -1;
    TensorOutput *out = NULL;
    if (rc == 0) {
        plan_numeric(tr, pt, &o, loss, messages);
        out = tensor_output_open(path);
        if (!out) rc = -1;
    }
    if (rc == 0) {
        write_page(tensor_output_file(out), svg, tr, pt, &o, (double)tensor_item(loss));
        rc = tensor_output_commit(out);
    }
    tensor_scope_end(scope);
    for (int64_t i = 0; messages && i < tr->n_tensors; i++) free(messages[i]);
    free(messages);
    free(pt);
    free(svg);
    tensor_trace_free(tr);
    return rc;
}

int plot_page_report(FILE *out, const char *path)
{
    struct stat st;
    if (!out || !path)
        return tensor_set_error("plot_page_report: out and path must not be NULL"), -1;
    if (stat(path, &st) != 0)
        return tensor_set_error("plot_page_report: %s: %s", path, strerror(errno)), -1;
    fprintf(out, "page: %s (%lld KB; open it in a browser)\n", path,
            (long long)(st.st_size + 1023) / 1024);
    return 0;
}
