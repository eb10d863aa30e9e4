/*
 * Private to the plot room: the private folder a picture is made in, the
 * helper programs run there, and the writing of gnuplot strings.
 */
#ifndef ATTOGRAD_PLOT_INTERNAL_H
#define ATTOGRAD_PLOT_INTERNAL_H

#ifndef ATTOGRAD_PLOT_ROOM
#error "plot/plot_internal.h is private to the plot room"
#endif

#include <limits.h>

#include "plot/plot.h"

/* tensor_set_error's message; returns -1. */
int plot__fail(const char *fmt, ...) TENSOR__PRINTF(1, 2);

/* ---- the private folder (run.c) ---------------------------------------------- */

/* A folder made for one picture: $TMPDIR/attograd-plot-<pid>-XXXXXX (mode
 * 0700).  Every name in it is one of the room's own; closing removes it and
 * its files.  Folders of processes that are gone (kill -9) are removed by
 * the next open. */
typedef struct {
    char dir[PATH_MAX];
} PlotScratch;

int plot__scratch_open(PlotScratch *s, const char *target);
/* Creates s's file name for writing ("plot.gp"): NULL with a message. */
FILE *plot__scratch_file(PlotScratch *s, const char *name, const char *target);
void plot__scratch_close(PlotScratch *s);

/* Runs program (gnuplot or dot) with argv in s's folder, its stdout thrown
 * away and its stderr kept: 0, or -1 with one line naming target ("x.png:
 * gnuplot is not installed (apt-get install gnuplot-nox)", "x.png: gnuplot
 * failed: <the last line it said>"). */
int plot__run(PlotScratch *s, char *const argv[], const char *target);
/* Puts s's file name at target through the safe output file. */
int plot__deliver(PlotScratch *s, const char *name, const char *target);
/* Copies s's file name to f (from byte skip on). */
int plot__copy_out(PlotScratch *s, const char *name, FILE *f, const char *what);

/* ---- a CSV's columns (csv.c) ------------------------------------------------------ */

typedef struct {
    int64_t n;
    double *x, *y, *x2;          /* x: the row's number when no x column; x2: NaN when none */
} PlotPoints;

/* The columns named (x and x2 may be NULL) of the CSV at path, its rows in
 * order: 0, or -1 with a message naming path and the line. */
int plot__csv_read(const char *path, const char *xcol, const char *ycol, const char *x2col,
                   PlotPoints *pts);
void plot__points_free(PlotPoints *pts);

/* ---- gnuplot's strings (script.c) ---------------------------------------------- */

/* s as a gnuplot string expression: single-quoted pieces (a quote doubled;
 * gnuplot reads nothing else in single quotes, not even backquotes or
 * macros) joined by "\n" for each newline; other control bytes and invalid
 * UTF-8 as '?'; at most max bytes of s (cut at a character).  percent:
 * each '%' doubled, for strings gnuplot reads as formats (tic labels). */
void plot__put_string(FILE *f, const char *s, size_t max, bool percent);
/* The length of the UTF-8 character at s (at most avail bytes), or 0 when
 * it is not a valid one (overlong forms and surrogates included). */
size_t plot__utf8_length(const unsigned char *s, size_t avail);
/* The terminal for path's extension ("pngcairo", "svg", "pdfcairo"), NULL for another. */
const char *plot__terminal(const char *path);
/* "set terminal ..." for a picture of w x h pixels (PDF: inches at 96 per inch). */
void plot__put_terminal(FILE *f, const char *term, int64_t w, int64_t h);
/* c is "#rrggbb". */
bool plot__is_color(const char *c);
/* Writes "set title ..." (with the subtitle on a second line, smaller) when there is one. */
void plot__put_title(FILE *f, const char *command, const char *title, const char *subtitle);

/* ---- heatmaps (heatmap.c) ------------------------------------------------------------ */

/* The gnuplot script of a heatmap whose cells are in heatmap.dat (checked arguments). */
void plot__heatmap_script(FILE *f, const char *term, int64_t panels, int64_t rows, int64_t cols,
                          const float *values, const PlotHeatmapOptions *o);

/* ---- the backward page (page.c, page_data.c) ------------------------------------ */

/* What the page shows of each tensor of the trace. */
typedef struct {
    bool whole;                  /* its numbers written whole (else its norms) */
    const PlotPageNote *note;    /* the caller's note, or NULL */
    const Tensor *numeric;       /* an estimate of d loss / d it (its shape), or NULL */
    bool yours;                  /* the estimate is the caller's (else tensor_numeric_grad's) */
    const char *no_numeric;      /* why there is none */
} PlotPageTensor;

/* The page's data as one JSON object on f: every number formatted from the
 * trace; names and notes escaped for a <script> block. */
void plot__page_data(FILE *f, const TensorTrace *tr, const PlotPageTensor *pt,
                     const PlotPageOptions *o, double loss);
/* s as a JSON string (quotes included), safe inside an HTML <script>: '<',
 * '>' and '&' as \u escapes, control bytes escaped, invalid UTF-8 as '?';
 * NULL as null. */
void plot__put_json(FILE *f, const char *s);
/* The page's CSS and JavaScript (page.css, page.js, embedded at build time). */
extern const char plot__page_css[], plot__page_js[];

#endif /* ATTOGRAD_PLOT_INTERNAL_H */
