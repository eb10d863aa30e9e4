/*
 * The autograd graph as a picture (see plot.h): tensor_graph_dot's DOT,
 * drawn by Graphviz's dot in the private folder, on the same path as the
 * charts.
 */
#include "plot/plot_internal.h"

#include <string.h>

/* dot's output format for path's extension; NULL for another. */
static const char *dot_format(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/')) return NULL;
    if (strcmp(dot, ".png") == 0) return "-Tpng";
    if (strcmp(dot, ".svg") == 0) return "-Tsvg";
    if (strcmp(dot, ".pdf") == 0) return "-Tpdf";
    return NULL;
}

static bool is_dot(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && strcmp(path + n - 4, ".dot") == 0;
}

int plot_graph(const Tensor *root, const char *path)
{
    if (!path) return plot__fail("graph: the path is NULL");
    const char *format = dot_format(path);
    if (!format && !is_dot(path))
        return plot__fail("%s: the name must end in .dot, .png, .svg or .pdf", path);
    if (!root)
        return tensor_error()[0] ? -1 : (plot__fail("%s: the root tensor is NULL", path));
    if (tensor_output_check(path)) return -1;
    if (!format) {
        TensorOutput *out = tensor_output_open(path);
        if (!out) return -1;
        if (tensor_graph_dot(root, tensor_output_file(out)) != 0) {
            tensor_output_abort(out);
            return -1;
        }
        return tensor_output_commit(out);
    }
    PlotScratch s;
    if (plot__scratch_open(&s, path)) return -1;
    FILE *f = plot__scratch_file(&s, "graph.dot", path);
    int rc = f ? 0 : -1;
    if (f && tensor_graph_dot(root, f) != 0) rc = -1;
    if (f && fclose(f) != 0 && rc == 0)
        rc = plot__fail("%s: cannot write the graph's DOT", path);
    char *argv[] = {"dot", (char *)format, "-o", "picture", "graph.dot", NULL};
    if (rc == 0) rc = plot__run(&s, argv, path);
    if (rc == 0) rc = plot__deliver(&s, "picture", path);
    plot__scratch_close(&s);
    return rc;
}
