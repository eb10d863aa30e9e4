/* Each layer's gradient L2 norm over the steps (see grad_norms.h). */
#include "grad_norms.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plot.h"

struct GradNorms {
    NNList params;
    int groups;
    int *group_of;                                /* params.count entries */
    char names[GRAD_NORMS_MAX_GROUPS][64];
    const char *picture;
    char csv[4096], tmp[4200];
    FILE *f;
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

static int assign_groups(GradNorms *g, char *why, size_t n)
{
    for (int i = 0; i < g->params.count; i++) {
        char name[64];
        group_name(g->params.names[i], name, sizeof name);
        int k = 0;
        while (k < g->groups && strcmp(g->names[k], name) != 0) k++;
        if (k == g->groups) {
            if (g->groups == GRAD_NORMS_MAX_GROUPS) {
                snprintf(why, n, "more than %d layers to follow", GRAD_NORMS_MAX_GROUPS);
                return -1;
            }
            snprintf(g->names[g->groups++], sizeof g->names[0], "%s", name);
        }
        g->group_of[i] = k;
    }
    return 0;
}

GradNorms *grad_norms_open(const Module *model, const char *picture, char *why, size_t n)
{
    GradNorms *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(why, n, "out of memory");
        return NULL;
    }
    g->picture = picture;
    g->params = nn_named_parameters(model);
    g->group_of = calloc((size_t)g->params.count + 1, sizeof *g->group_of);
    int fd = -1;
    if (!g->group_of) snprintf(why, n, "out of memory");
    else if (grad_norms_csv_path(picture, g->csv, sizeof g->csv) ||
             snprintf(g->tmp, sizeof g->tmp, "%s.XXXXXX", g->csv) >= (int)sizeof g->tmp)
        snprintf(why, n, "%s: the name is too long", picture);
    else if (assign_groups(g, why, n) == 0 && (fd = mkstemp(g->tmp)) < 0)
        snprintf(why, n, "cannot write beside %s: %s", g->csv, strerror(errno));
    if (fd >= 0 && !(g->f = fdopen(fd, "w"))) {
        snprintf(why, n, "cannot write %s: %s", g->tmp, strerror(errno));
        close(fd);
        unlink(g->tmp);
    }
    if (!g->f) {
        nn_list_free(&g->params);
        free(g->group_of);
        free(g);
        return NULL;
    }
    fprintf(g->f, "step");
    for (int k = 0; k < g->groups; k++) fprintf(g->f, ",%s", g->names[k]);
    fputc('\n', g->f);
    return g;
}

int grad_norms_record(GradNorms *g, int64_t step)
{
    double sq[GRAD_NORMS_MAX_GROUPS] = {0};
    for (int i = 0; i < g->params.count; i++) {
        const Tensor *grad = g->params.tensors[i]->grad;   /* contiguous, long-lived */
        for (int64_t j = 0; grad && j < grad->numel; j++)
            sq[g->group_of[i]] += (double)grad->data[j] * grad->data[j];
    }
    fprintf(g->f, "%lld", (long long)step);
    for (int k = 0; k < g->groups; k++) fprintf(g->f, ",%.9g", sqrt(sq[k]));
    fputc('\n', g->f);
    return ferror(g->f) ? -1 : 0;
}

/* One curve per layer: embeddings red and orange, the blocks from light to
 * dark blue, the final norm grey, the head green. */
static void curve_color(const char *name, int block, int blocks, char out[8])
{
    if (strcmp(name, "tok_emb") == 0) snprintf(out, 8, "#d62728");
    else if (strcmp(name, "pos_emb") == 0) snprintf(out, 8, "#ff7f0e");
    else if (strcmp(name, "out_head") == 0) snprintf(out, 8, "#2ca02c");
    else if (block < 0) snprintf(out, 8, "#7f7f7f");
    else {
        double t = blocks > 1 ? (double)block / (blocks - 1) : 1.0;
        snprintf(out, 8, "#%02x%02x%02x", (int)(160 - 150 * t), (int)(200 - 150 * t),
                 (int)(255 - 105 * t));
    }
}

static int draw(const GradNorms *g, char *why, size_t n)
{
    static char colors[GRAD_NORMS_MAX_GROUPS][8];
    int blocks = 0;
    for (int k = 0; k < g->groups; k++) blocks += strncmp(g->names[k], "trf_blocks.", 11) == 0;
    Plot p = {.title = "Gradient L2 norm of each layer, per step",
              .subtitle = "after backward, before the optimizer step",
              .xlabel = "step", .ylabel = "gradient L2 norm (log scale)", .logy = true,
              .n = g->groups < PLOT_MAX_CURVES ? g->groups : PLOT_MAX_CURVES};
    for (int k = 0, block = 0; k < p.n; k++) {
        bool is_block = strncmp(g->names[k], "trf_blocks.", 11) == 0;
        curve_color(g->names[k], is_block ? block++ : -1, blocks, colors[k]);
        p.curves[k] = (PlotCurve){.csv = g->csv, .x = 1, .y = k + 2, .label = g->names[k],
                                  .color = colors[k], .dashed = !is_block};
    }
    return plot_render(&p, g->picture, false, why, n);
}

int grad_norms_close(GradNorms *g, bool finish, char *why, size_t n)
{
    if (!g) return 0;
    int rc = fclose(g->f) == 0 ? 0 : -1;
    if (rc) snprintf(why, n, "cannot write %s", g->csv);
    if (rc == 0 && finish && rename(g->tmp, g->csv) != 0) {
        snprintf(why, n, "cannot rename onto %s: %s", g->csv, strerror(errno));
        rc = -1;
    }
    if (rc || !finish) unlink(g->tmp);
    if (rc == 0 && finish) rc = draw(g, why, n);
    nn_list_free(&g->params);
    free(g->group_of);
    free(g);
    return rc;
}
