/*
 * Heatmaps (see plot.h): panels of cells drawn with gnuplot's "with image",
 * laid out here in pixels (each panel's cells square, its labels, its title,
 * the colour bar) and placed with screen margins, so that every panel has
 * the same size and a colour scale shared by the figure is one bar beside
 * it.
 */
#include "plot/plot_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t panels, rows, cols;
    int64_t grid_cols, grid_rows;
    int64_t cell;                  /* pixels per cell */
    int64_t every;                 /* a tic label every this many cells */
    int64_t left, top, right, bottom, panel_w, panel_h;   /* one panel's box */
    int64_t head, bar;             /* the figure's title lines, its shared colour bar */
    int64_t width, height;
} Layout;

/* Characters (UTF-8 code points) of s's first max bytes, and of the longest
 * label drawn (at most PLOT_LABEL_MAX bytes). */
static int64_t chars_of(const char *s, size_t max)
{
    int64_t chars = 0;
    for (size_t k = 0; s && s[k] && k < max; k++) chars += ((unsigned char)s[k] & 0xc0) != 0x80;
    return chars;
}

static int64_t widest(const char *const *labels, int64_t n)
{
    int64_t most = n > 0 ? (int64_t)snprintf(NULL, 0, "%lld", (long long)(n - 1)) : 1;
    for (int64_t i = 0; labels && i < n; i++)
        if (chars_of(labels[i], PLOT_LABEL_MAX) > most) most = chars_of(labels[i], PLOT_LABEL_MAX);
    return most;
}

static int64_t lines_of(const char *s)
{
    int64_t n = s ? 1 : 0;
    for (; s && *s; s++) n += *s == '\n';
    return n;
}

static Layout layout(int64_t panels, int64_t rows, int64_t cols, const PlotHeatmapOptions *o)
{
    Layout l = {.panels = panels, .rows = rows, .cols = cols};
    while (l.grid_cols * l.grid_cols < panels) l.grid_cols++;
    l.grid_rows = (panels + l.grid_cols - 1) / l.grid_cols;
    int64_t most = rows > cols ? rows : cols;
    l.cell = (240 + most - 1) / most;
    if (l.cell < (most <= 64 ? 16 : 6)) l.cell = most <= 64 ? 16 : 6;
    l.every = (12 + l.cell - 1) / l.cell;
    /* gnuplot places the axis labels beyond the tic labels as if those
     * were in the terminal's font (about 10 pixels a character), though
     * they are drawn smaller; the column labels turn by 60 degrees */
    l.left = 16 + (o->ylabel ? 28 : 0) + 10 * widest(o->row_labels, rows) + 12;
    l.top = o->panel_titles ? 36 : 14;
    /* a panel's title is centred over its cells (about 8 pixels a
     * character at 12 points) and must not reach the next panel */
    int64_t title = 0;
    for (int64_t p = 0; o->panel_titles && p < panels; p++) {
        int64_t w = 8 * chars_of(o->panel_titles[p], (size_t)-1);
        if (w > title) title = w;
    }
    int64_t overhang = (title - cols * l.cell) / 2 + 16;
    l.right = o->scale == PLOT_SCALE_PER_PANEL ? 100 : overhang > 24 ? overhang : 24;
    if (l.left < overhang) l.left = overhang;
    l.bottom = 9 * widest(o->col_labels, cols) + 16 + (o->xlabel ? 40 : 0) + 16;
    l.panel_w = l.left + cols * l.cell + l.right;
    l.panel_h = l.top + rows * l.cell + l.bottom;
    l.head = 22 * (lines_of(o->title) + lines_of(o->subtitle) +
                   (o->scale == PLOT_SCALE_PER_PANEL)) + 24;
    l.bar = o->scale == PLOT_SCALE_PER_PANEL ? 0 : 110;
    l.width = l.grid_cols * l.panel_w + l.bar + 10;
    l.height = l.head + l.grid_rows * l.panel_h + 10;
    return l;
}

/* The panels as gnuplot index blocks of "column row value" lines, one
 * blank line after each row (a scan line), two after each panel. */
static int write_cells(PlotScratch *s, const char *path, int64_t n, int64_t rows, int64_t cols,
                       const float *values)
{
    FILE *f = plot__scratch_file(s, "heatmap.dat", path);
    if (!f) return -1;
    const float *v = values;
    for (int64_t p = 0; p < n / (rows * cols); p++) {
        for (int64_t r = 0; r < rows; r++) {
            for (int64_t c = 0; c < cols; c++, v++)
                if (isfinite(*v)) fprintf(f, "%lld %lld %.9g\n", (long long)c, (long long)r,
                                          (double)*v);
                else fprintf(f, "%lld %lld NaN\n", (long long)c, (long long)r);
            fputc('\n', f);
        }
        fputs("\n\n", f);
    }
    if (fclose(f) != 0) return plot__fail("%s: cannot write the heatmap's data", path);
    return 0;
}

/* ('label' 0, 'label' 1, ...), every l->every cells; a label's '%' doubled
 * (gnuplot reads tic labels as formats). */
static void put_tics(FILE *f, const char *const *labels, int64_t n, int64_t every)
{
    fputc('(', f);
    for (int64_t i = 0; i < n; i += every) {
        if (i) fputs(", ", f);
        if (labels) plot__put_string(f, labels[i], PLOT_LABEL_MAX, true);
        else fprintf(f, "'%lld'", (long long)i);
        fprintf(f, " %lld", (long long)i);
    }
    fputc(')', f);
}

/* The range of panel p's finite values (all panels when p < 0); [0, 1] when none. */
static void range_of(const Layout *l, const float *values, int64_t p, double *lo, double *hi)
{
    int64_t per = l->rows * l->cols, from = p < 0 ? 0 : p * per, to = p < 0 ? l->panels * per
                                                                             : from + per;
    *lo = INFINITY, *hi = -INFINITY;
    for (int64_t i = from; i < to; i++)
        if (isfinite(values[i])) {
            if (values[i] < *lo) *lo = values[i];
            if (values[i] > *hi) *hi = values[i];
        }
    if (*lo > *hi) *lo = 0, *hi = 1;
    if (*lo == *hi) *hi = *lo + 1;
}

static double sx(const Layout *l, int64_t x) { return (double)x / (double)l->width; }
static double sy(const Layout *l, int64_t y) { return 1.0 - (double)y / (double)l->height; }

static void write_script(FILE *f, const char *term, const Layout *l, const float *values,
                         const PlotHeatmapOptions *o)
{
    plot__put_terminal(f, term, l->width, l->height);
    fputs("set palette defined (0 '#440154', 0.5 '#21918c', 1 '#fde725')\n", f);
    fprintf(f, "set xrange [-0.5:%lld.5]\nset yrange [%lld.5:-0.5]\n", (long long)l->cols - 1,
            (long long)l->rows - 1);
    fputs("set xtics rotate by 60 right font ',9' ", f);
    put_tics(f, o->col_labels, l->cols, l->every);
    fputs("\nset ytics font ',9' ", f);
    put_tics(f, o->row_labels, l->rows, l->every);
    fputc('\n', f);
    if (o->xlabel) fputs("set xlabel ", f), plot__put_string(f, o->xlabel, (size_t)-1, false),
                   fputc('\n', f);
    if (o->ylabel) fputs("set ylabel ", f), plot__put_string(f, o->ylabel, (size_t)-1, false),
                   fputc('\n', f);
    double lo, hi;
    if (o->scale == PLOT_SCALE_FIXED) lo = o->min, hi = o->max;
    else range_of(l, values, -1, &lo, &hi);
    fputs("set multiplot", f);
    const char *own = "each panel has its own colour scale";
    if (o->title || o->subtitle || o->scale == PLOT_SCALE_PER_PANEL) {
        fputs(" title ", f);
        plot__put_string(f, o->title ? o->title : "", (size_t)-1, false);
        if (o->subtitle) fputs(" . \"\\n\" . ", f), plot__put_string(f, o->subtitle, (size_t)-1, false);
        if (o->scale == PLOT_SCALE_PER_PANEL) fprintf(f, " . \"\\n(%s)\"", own);
    }
    fputc('\n', f);
    int64_t area_w = l->cols * l->cell, area_h = l->rows * l->cell;
    for (int64_t p = 0; p < l->panels; p++) {
        int64_t x0 = p % l->grid_cols * l->panel_w + l->left;
        int64_t y0 = l->head + p / l->grid_cols * l->panel_h + l->top;
        fprintf(f, "set lmargin at screen %.6f\nset rmargin at screen %.6f\n", sx(l, x0),
                sx(l, x0 + area_w));
        fprintf(f, "set tmargin at screen %.6f\nset bmargin at screen %.6f\n", sy(l, y0),
                sy(l, y0 + area_h));
        fputs("set title ", f);
        plot__put_string(f, o->panel_titles ? o->panel_titles[p] : "", (size_t)-1, false);
        fputc('\n', f);
        if (o->scale == PLOT_SCALE_PER_PANEL) {
            range_of(l, values, p, &lo, &hi);
            fputs("set colorbox default\n", f);
        } else if (p == l->panels - 1) {
            /* the figure's one bar, beside the grid, as tall as its rows */
            int64_t top = l->head + l->top, bottom = l->head + (l->grid_rows - 1) * l->panel_h +
                                                     l->top + area_h;
            fprintf(f, "set colorbox user origin screen %.6f,%.6f size screen %.6f,%.6f\n",
                    sx(l, l->grid_cols * l->panel_w + 16), sy(l, bottom), sx(l, 22),
                    (double)(bottom - top) / (double)l->height);
        } else {
            fputs("unset colorbox\n", f);
        }
        fprintf(f, "set cbrange [%.9g:%.9g]\n", lo, hi);
        fprintf(f, "plot 'heatmap.dat' index %lld using 1:2:3 with image notitle\n", (long long)p);
    }
    fputs("unset multiplot\n", f);
}

void plot__heatmap_script(FILE *f, const char *term, int64_t panels, int64_t rows, int64_t cols,
                          const float *values, const PlotHeatmapOptions *o)
{
    Layout l = layout(panels, rows, cols, o);
    write_script(f, term, &l, values, o);
}

static int check(const char *path, int64_t panels, int64_t rows, int64_t cols,
                 const float *values, const PlotHeatmapOptions *o)
{
    if (panels < 1 || panels > PLOT_HEATMAP_MAX_PANELS || rows < 1 || rows > PLOT_HEATMAP_MAX_SIZE ||
        cols < 1 || cols > PLOT_HEATMAP_MAX_SIZE)
        return plot__fail("%s: a heatmap of %lld panels of %lld x %lld cells (1 to %d panels "
                                "of at most %d x %d)", path, (long long)panels, (long long)rows,
                                (long long)cols, PLOT_HEATMAP_MAX_PANELS, PLOT_HEATMAP_MAX_SIZE,
                                PLOT_HEATMAP_MAX_SIZE);
    if (!values) return plot__fail("%s: the heatmap's values are NULL", path);
    if ((unsigned)o->scale > PLOT_SCALE_PER_PANEL)
        return plot__fail("%s: unknown colour scale %d", path, (int)o->scale);
    if (o->scale == PLOT_SCALE_FIXED && !(isfinite(o->min) && isfinite(o->max) && o->min < o->max))
        return plot__fail("%s: a fixed colour scale from %g to %g (min < max, finite)", path,
                                o->min, o->max);
    return 0;
}

int plot_heatmap(const char *path, int64_t panels, int64_t rows, int64_t cols,
                 const float *values, PlotHeatmapOptions o)
{
    if (plot_check_path(path) || check(path, panels, rows, cols, values, &o)) return -1;
    PlotScratch s;
    if (plot__scratch_open(&s, path)) return -1;
    int rc = write_cells(&s, path, panels * rows * cols, rows, cols, values);
    FILE *f = rc == 0 ? plot__scratch_file(&s, "heatmap.gp", path) : NULL;
    if (rc == 0 && !f) rc = -1;
    if (f) {
        plot__heatmap_script(f, plot__terminal(path), panels, rows, cols, values, &o);
        if (fclose(f) != 0) rc = plot__fail("%s: cannot write the heatmap's script", path);
    }
    char *argv[] = {"gnuplot", "-d", "heatmap.gp", NULL};
    if (rc == 0) rc = plot__run(&s, argv, path);
    if (rc == 0) rc = plot__deliver(&s, "picture", path);
    plot__scratch_close(&s);
    return rc;
}

int plot_heatmap_tensor(const char *path, const Tensor *t, PlotHeatmapOptions o)
{
    if (!t) return tensor_error()[0] ? -1 : (plot__fail("%s: the tensor is NULL", path));
    if (t->ndim != 2 && t->ndim != 3)
        return plot__fail("%s: a heatmap of a %d-dim tensor; (rows, cols) or (panels, rows, "
                                "cols)", path, t->ndim);
    int64_t panels = t->ndim == 3 ? t->shape[0] : 1, rows = t->shape[t->ndim - 2],
            cols = t->shape[t->ndim - 1];
    if (check(path, panels, rows, cols, (const float *)1, &o)) return -1;
    float *values = malloc((size_t)(panels * rows * cols) * sizeof *values);
    if (!values) return plot__fail("%s: out of memory", path);
    for (int64_t p = 0, i = 0; p < panels; p++)
        for (int64_t r = 0; r < rows; r++)
            for (int64_t c = 0; c < cols; c++)
                values[i++] = t->ndim == 3 ? tensor_get(t, IDX(p, r, c)) : tensor_get(t, IDX(r, c));
    int rc = plot_heatmap(path, panels, rows, cols, values, o);
    free(values);
    return rc;
}
