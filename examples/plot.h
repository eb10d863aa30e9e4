/*
 * Pictures of CSV columns with gnuplot, the one plotting path of the
 * example programs.  gnuplot never sees a user's string as a path or a
 * command: the CSVs are copied into a private directory (subprocess.h), the
 * script names only files made there, titles and labels are written as
 * single-quoted strings of printable characters, and the picture is renamed
 * onto the user's path at the end.
 *
 * The terminal follows the file's extension: .png (pngcairo), .svg, .pdf;
 * any other is refused.  With ascii, the same picture is also drawn on
 * stdout with gnuplot's dumb terminal, as wide as the terminal (or 80).
 *
 * The book's chapter-5 figure: training loss solid, validation dashed,
 * against epochs, with tokens seen on a second x axis at the top; the CSV
 * has the header "epoch,tokens,train,val":
 *
 *     Plot p = {.title = "GPT-124M on the-verdict.txt", .xlabel = "epochs",
 *               .ylabel = "loss", .x2label = "tokens seen", .n = 2,
 *               .curves = {{.csv = "loss.csv", .x = 1, .y = 3, .label = "training loss",
 *                           .x2 = 2},
 *                          {.csv = "loss.csv", .x = 1, .y = 4, .label = "validation loss",
 *                           .dashed = true}}};
 *     char why[256];
 *     if (plot_render(&p, "loss.png", false, why, sizeof why)) fprintf(stderr, "%s\n", why);
 */
#ifndef ATTOGRAD_PLOT_H
#define ATTOGRAD_PLOT_H

#include <stdbool.h>
#include <stddef.h>

/* Curves naming the same CSV share one copy of it. */
#define PLOT_MAX_CURVES 32

/* One curve: columns x and y (1-based) of a CSV with a header row.  x2 > 0
 * also lays column x2 out on a second x axis at the top (the curve is drawn
 * once, against x). color: "#rrggbb", or NULL for gnuplot's sequence. */
typedef struct PlotCurve {
    const char *csv;
    int x, y;
    const char *label, *color;
    bool dashed;
    int x2;
} PlotCurve;

typedef struct Plot {
    const char *title, *subtitle, *xlabel, *ylabel, *x2label; /* NULL: none */
    bool logy;
    double xtics;                                             /* x tic step; 0: gnuplot's */
    int n;
    PlotCurve curves[PLOT_MAX_CURVES];
} Plot;

/* Draws p into path (by its extension), and on stdout too when ascii.
 * 0; 1 when gnuplot is not installed; -1 on any other failure; why says
 * what happened, naming the user's path. */
int plot_render(const Plot *p, const char *path, bool ascii, char *why, size_t n);

/* A heatmap: panels of size x size cells (attention weights: one panel per
 * head, queries down, keys across), drawn with gnuplot's "with image", a
 * colour bar beside each, the panels side by side (multiplot).  A NaN cell
 * is left empty (a causal mask's future tokens).  labels name the rows and
 * columns both (tokens); like every title they are written as quoted
 * printable ASCII (quotes doubled, anything else '?') and cut at
 * PLOT_LABEL_MAX bytes, so a token cannot end its string or its line. */
#define PLOT_HEATMAP_MAX_PANELS 32
#define PLOT_HEATMAP_MAX_SIZE 64
#define PLOT_LABEL_MAX 24
typedef struct PlotHeatmap {
    const char *title, *xlabel, *ylabel;      /* NULL: none */
    int panels, size;
    const float *values;                      /* panels * size * size, row-major */
    const char *const *panel_titles;          /* panels titles, or NULL */
    const char *const *labels;                /* size labels, or NULL: 0, 1, ... */
} PlotHeatmap;

/* Draws h into path (.png, .svg or .pdf): 0; 1 when gnuplot is not
 * installed; -1 otherwise (more than the MAX panels or size, say), with why. */
int plot_heatmap(const PlotHeatmap *h, const char *path, char *why, size_t n);

/* The terminal for path's extension ("pngcairo", "svg", "pdfcairo"), or
 * NULL when the extension is none of png, svg, pdf. */
const char *plot_terminal(const char *path);

/* 0 when path can take a picture: its extension is png, svg or pdf and
 * output_path_check accepts it; else -1 with why naming path. */
int plot_path_check(const char *path, char *why, size_t n);

/* The columns of the terminal on stdout, or 80. */
int plot_ascii_width(void);

#endif /* ATTOGRAD_PLOT_H */
