/* Each layer's gradient L2 norm over the steps (train.h). */
#include "train_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot/plot.h"

struct TrainGradNorms {
    NNList params;
    int groups;
    int *group_of;                                /* params.count entries */
    char names[TRAIN_GRAD_NORMS_MAX_GROUPS][64];
    bool listed[TRAIN_GRAD_NORMS_MAX_GROUPS];     /* an item of a list: "trf_blocks.3" */
    const char *picture;
    char csv[4096];
    PlotCsv *rows;
};

int train_grad_norms_csv_path(const char *picture, char *csv, size_t n)
{
    if (!picture || !csv) return tensor_set_error("grad_norms_csv_path: a path is NULL"), -1;
    const char *dot = strrchr(picture, '.');
    size_t stem = dot && !strchr(dot, '/') ? (size_t)(dot - picture) : strlen(picture);
    int w = snprintf(csv, n, "%.*s.csv", (int)stem, picture);
    return w < 0 || (size_t)w >= n ? -1 : 0;
}

/* The layer of a dotted name: its first part, and the second when that is
 * an index ("trf_blocks.3.att.W_query.weight" is "trf_blocks.3",
 * "tok_emb.weight" is "tok_emb"). */
static bool group_name(const char *name, char *out, size_t n)
{
    size_t len = strcspn(name, ".");
    const char *second = name[len] == '.' ? name + len + 1 : NULL;
    size_t digits = second ? strspn(second, "0123456789") : 0;
    bool listed = digits > 0 && (second[digits] == '.' || second[digits] == '\0');
    if (listed) len += 1 + digits;
    snprintf(out, n, "%.*s", (int)len, name);
    return listed;
}

static int assign_groups(TrainGradNorms *g)
{
    for (int64_t i = 0; i < g->params.count; i++) {
        char name[64];
        bool listed = group_name(g->params.names[i], name, sizeof name);
        int k = 0;
        while (k < g->groups && strcmp(g->names[k], name) != 0) k++;
        if (k == g->groups) {
            if (g->groups == TRAIN_GRAD_NORMS_MAX_GROUPS)
                return tensor_set_error("grad_norms: more than %d layers to follow",
                                        TRAIN_GRAD_NORMS_MAX_GROUPS), -1;
            snprintf(g->names[g->groups], sizeof g->names[0], "%s", name);
            g->listed[g->groups++] = listed;
        }
        g->group_of[i] = k;
    }
    return 0;
}

static void grad_norms_free(TrainGradNorms *g)
{
    nn_list_free(&g->params);
    free(g->group_of);
    free(g);
}

TrainGradNorms *train_grad_norms_open(const Module *model, const char *picture)
{
    if (!model || !picture) return tensor_set_error("grad_norms_open: model or path is NULL");
    TrainGradNorms *g = calloc(1, sizeof *g);
    if (!g) return tensor_set_error("grad_norms_open: out of memory");
    g->picture = picture;
    g->params = nn_named_parameters(model);
    g->group_of = calloc((size_t)g->params.count + 1, sizeof *g->group_of);
    char header[TRAIN_GRAD_NORMS_MAX_GROUPS * 64 + 8];
    if (!g->group_of) tensor_set_error("grad_norms_open: out of memory");
    else if (train_grad_norms_csv_path(picture, g->csv, sizeof g->csv))
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

int train_grad_norms_resume(TrainGradNorms *g, int64_t last)
{
    if (!g) return tensor_set_error("grad_norms_resume: NULL"), -1;
    return plot_csv_keep(g->rows, (double)last) < 0 ? -1 : 0;
}

int train_grad_norms_record(TrainGradNorms *g, int64_t step)
{
    if (!g) return tensor_set_error("grad_norms_record: NULL"), -1;
    double sq[TRAIN_GRAD_NORMS_MAX_GROUPS] = {0};
    for (int64_t i = 0; i < g->params.count; i++) {
        const Tensor *grad = g->params.tensors[i]->grad;   /* contiguous, long-lived */
        for (int64_t j = 0; grad && j < grad->numel; j++)
            sq[g->group_of[i]] += (double)grad->data[j] * grad->data[j];
    }
    char row[TRAIN_GRAD_NORMS_MAX_GROUPS * 20 + 24];
    int n = snprintf(row, sizeof row, "%lld", (long long)step);
    for (int k = 0; k < g->groups; k++)
        n += snprintf(row + n, sizeof row - (size_t)n, ",%.9g", sqrt(sq[k]));
    return plot_csv_row(g->rows, "%s", row);
}

int train_grad_norms_sync(TrainGradNorms *g) { return g ? plot_csv_sync(g->rows) : 0; }

/* One curve per layer: a GPT's embeddings red (tokens, dashed) and orange
 * (positions, dotted), the items of a list (its blocks) from light to dark
 * blue, its head green (dashed), any other layer (the final norm) grey
 * (dash-dot). */
static void curve_style(const char *name, int item, int items, char out[8], PlotDash *dash)
{
    *dash = PLOT_SOLID;
    if (strcmp(name, "tok_emb") == 0) snprintf(out, 8, "#d62728"), *dash = PLOT_DASHED;
    else if (strcmp(name, "pos_emb") == 0) snprintf(out, 8, "#ff7f0e"), *dash = PLOT_DOTTED;
    else if (strcmp(name, "out_head") == 0) snprintf(out, 8, "#2ca02c"), *dash = PLOT_DASHED;
    else if (item < 0) snprintf(out, 8, "#7f7f7f"), *dash = PLOT_DASH_DOT;
    else {
        double t = items > 1 ? (double)item / (items - 1) : 1.0;
        snprintf(out, 8, "#%02x%02x%02x", (int)(160 - 150 * t), (int)(200 - 150 * t),
                 (int)(255 - 105 * t));
    }
}

static int draw(const TrainGradNorms *g)
{
    char colors[TRAIN_GRAD_NORMS_MAX_GROUPS][8];
    PlotSeries s[TRAIN_GRAD_NORMS_MAX_GROUPS];
    int items = 0;
    for (int k = 0; k < g->groups; k++) items += g->listed[k];
    for (int k = 0, item = 0; k < g->groups; k++) {
        s[k] = (PlotSeries){.label = g->names[k], .csv = g->csv, .x_column = "step",
                            .y_column = g->names[k], .color = colors[k]};
        curve_style(g->names[k], g->listed[k] ? item++ : -1, items, colors[k], &s[k].dash);
    }
    PlotOptions o = PLOT_OPTIONS(.title = "Gradient L2 norm of each layer, per step",
                                 .subtitle = "after backward, before the optimizer step",
                                 .xlabel = "step", .ylabel = "gradient L2 norm (log scale)",
                                 .logy = true);
    return plot_lines(g->picture, g->groups, s, o);
}

int train_grad_norms_close(TrainGradNorms *g, bool finish)
{
    if (!g) return 0;
    int rc = plot_csv_close(g->rows);
    if (rc == 0 && finish) rc = draw(g);
    grad_norms_free(g);
    return rc;
}
