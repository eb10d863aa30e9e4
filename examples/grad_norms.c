/* Each layer's gradient L2 norm over the steps (see grad_norms.h). */
#include "grad_norms.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot/plot.h"

struct GradNorms {
    NNList params;
    int groups;
    int *group_of;                                /* params.count entries */
    char names[GRAD_NORMS_MAX_GROUPS][64];
    const char *picture;
    char csv[4096];
    PlotCsv *rows;
};

int grad_norms_csv_path(const char *picture, char *csv, size_t n)
{
    const char *dot = strrchr(picture, '.');
    size_t stem = dot && !strchr(dot, '/') ? (size_t)(dot - picture) : strlen(picture);
    int w = snprintf(csv, n, "%.*s.csv", (int)stem, picture);
    return w < 0 || (size_t)w >= n ? -1 : 0;
}

/* The group of a dotted name: "trf_blocks.3.att.W_query.weight" is
 * "trf_blocks.3", "tok_emb.weight" is "tok_emb". */
static void group_name(const char *name, char *out, size_t n)
{
    size_t len = strcspn(name, ".");
    if (strncmp(name, "trf_blocks.", 11) == 0) len = 11 + strcspn(name + 11, ".");
    snprintf(out, n, "%.*s", (int)len, name);
}

static int assign_groups(GradNorms *g)
{
    for (int i = 0; i < g->params.count; i++) {
        char name[64];
        group_name(g->params.names[i], name, sizeof name);
        int k = 0;
        while (k < g->groups && strcmp(g->names[k], name) != 0) k++;
        if (k == g->groups) {
            if (g->groups == GRAD_NORMS_MAX_GROUPS) {
                tensor_set_error("more than %d layers to follow", GRAD_NORMS_MAX_GROUPS);
                return -1;
            }
            snprintf(g->names[g->groups++], sizeof g->names[0], "%s", name);
        }
        g->group_of[i] = k;
    }
    return 0;
}

static void grad_norms_free(GradNorms *g)
{
    nn_list_free(&g->params);
    free(g->group_of);
    free(g);
}

GradNorms *grad_norms_open(const Module *model, const char *picture)
{
    GradNorms *g = calloc(1, sizeof *g);
    if (!g) return tensor_set_error("out of memory");
    g->picture = picture;
    g->params = nn_named_parameters(model);
    g->group_of = calloc((size_t)g->params.count + 1, sizeof *g->group_of);
    char header[GRAD_NORMS_MAX_GROUPS * 64 + 8];
    if (!g->group_of) tensor_set_error("out of memory");
    else if (grad_norms_csv_path(picture, g->csv, sizeof g->csv))
        tensor_set_error("%s: the name is too long", picture);
    else if (assign_groups(g) == 0) {
        int n = snprintf(header, sizeof header, "step");
        for (int k = 0; k < g->groups; k++)
            n += snprintf(header + n, sizeof header - (size_t)n, ",%s", g->names[k]);
        g->rows = plot_csv_open(g->csv, header);
    }
    if (!g->rows) {
        grad_norms_free(g);
        return NULL;
    }
    return g;
}

int grad_norms_resume(GradNorms *g, int64_t last)
{
    return plot_csv_keep(g->rows, (double)last) < 0 ? -1 : 0;
}

int grad_norms_record(GradNorms *g, int64_t step)
{
    double sq[GRAD_NORMS_MAX_GROUPS] = {0};
    for (int i = 0; i < g->params.count; i++) {
        const Tensor *grad = g->params.tensors[i]->grad;   /* contiguous, long-lived */
        for (int64_t j = 0; grad && j < grad->numel; j++)
            sq[g->group_of[i]] += (double)grad->data[j] * grad->data[j];
    }
    char row[GRAD_NORMS_MAX_GROUPS * 20 + 24];
    int n = snprintf(row, sizeof row, "%lld", (long long)step);
    for (int k = 0; k < g->groups; k++)
        n += snprintf(row + n, sizeof row - (size_t)n, ",%.9g", sqrt(sq[k]));
    return plot_csv_row(g->rows, "%s", row);
}

int grad_norms_sync(GradNorms *g) { return g ? plot_csv_sync(g->rows) : 0; }

/* One curve per layer: the embeddings red (tokens, dashed) and orange
 * (positions, dotted), the blocks from light to dark blue, the final norm
 * grey (dash-dot), the head green (dashed). */
static void curve_style(const char *name, int block, int blocks, char out[8], PlotDash *dash)
{
    *dash = PLOT_SOLID;
    if (strcmp(name, "tok_emb") == 0) snprintf(out, 8, "#d62728"), *dash = PLOT_DASHED;
    else if (strcmp(name, "pos_emb") == 0) snprintf(out, 8, "#ff7f0e"), *dash = PLOT_DOTTED;
    else if (strcmp(name, "out_head") == 0) snprintf(out, 8, "#2ca02c"), *dash = PLOT_DASHED;
    else if (block < 0) snprintf(out, 8, "#7f7f7f"), *dash = PLOT_DASH_DOT;
    else {
        double t = blocks > 1 ? (double)block / (blocks - 1) : 1.0;
        snprintf(out, 8, "#%02x%02x%02x", (int)(160 - 150 * t), (int)(200 - 150 * t),
                 (int)(255 - 105 * t));
    }
}

static int draw(const GradNorms *g)
{
    static char colors[GRAD_NORMS_MAX_GROUPS][8];
    PlotSeries s[GRAD_NORMS_MAX_GROUPS];
    int blocks = 0;
    for (int k = 0; k < g->groups; k++) blocks += strncmp(g->names[k], "trf_blocks.", 11) == 0;
    for (int k = 0, block = 0; k < g->groups; k++) {
        bool is_block = strncmp(g->names[k], "trf_blocks.", 11) == 0;
        s[k] = (PlotSeries){.label = g->names[k], .csv = g->csv, .x_column = "step",
                            .y_column = g->names[k], .color = colors[k]};
        curve_style(g->names[k], is_block ? block++ : -1, blocks, colors[k], &s[k].dash);
    }
    PlotOptions o = PLOT_OPTIONS(.title = "Gradient L2 norm of each layer, per step",
                                 .subtitle = "after backward, before the optimizer step",
                                 .xlabel = "step", .ylabel = "gradient L2 norm (log scale)",
                                 .logy = true);
    return plot_lines(g->picture, g->groups, s, o);
}

int grad_norms_close(GradNorms *g, bool finish)
{
    if (!g) return 0;
    int rc = plot_csv_close(g->rows);
    if (rc == 0 && finish) rc = draw(g);
    grad_norms_free(g);
    return rc;
}
