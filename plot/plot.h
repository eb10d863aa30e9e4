/*
 * attograd plot room: pictures of a run's numbers, drawn by gnuplot (and
 * Graphviz's dot for graphs), found on PATH when a picture is asked for.
 * Nothing else in the library needs either program; without one, the call
 * fails with a message that says how to install it
 * ("loss.png: gnuplot is not installed (apt-get install gnuplot-nox)").
 *
 * What it draws
 *   - line charts (loss curves): several series from your own arrays or
 *     from columns of a CSV, solid or dashed, your colours or a palette,
 *     log scales, a second x axis on top (tokens seen), a title and axis
 *     labels: plot_lines, and plot_lines_ascii for a terminal;
 *   - heatmaps (attention weights): panels side by side, row and column
 *     labels (tokens), one colour scale shared by every panel of the figure,
 *     a stated one, or each panel its own (and the figure says so), NaN
 *     cells left empty (a causal mask): plot_heatmap, plot_heatmap_tensor;
 *   - the autograd graph behind a tensor (tensor_graph_dot's DOT, drawn by
 *     dot): plot_graph;
 *   - the backward pass as one HTML page to explore in a browser, step by
 *     step, every gradient beside its central difference: plot_backward_page;
 *   - a CSV that a run appends to (PlotCsv) and a progress bar for long
 *     loops (PlotProgress).
 * The file type follows the path's extension: .png (pngcairo), .svg, .pdf
 * (pdfcairo); another extension is refused.  The ASCII chart (gnuplot's
 * dumb terminal) is written to a stream you give.
 *
 * Safety
 *   No string of yours reaches gnuplot as a command, a file name or a
 *   format: titles, labels and legend entries are written as gnuplot
 *   strings with every quote doubled, tic labels with every '%' doubled
 *   (gnuplot reads those as formats: "100%" draws "100%", "%%" draws "%%"),
 *   a newline as a line break, other control bytes and invalid UTF-8 as
 *   '?'.  Your numbers (and a CSV's columns, read and checked here) are
 *   written by this room into a private folder (mode 0700, in $TMPDIR or
 *   /tmp), gnuplot runs there on a script that names only files made there,
 *   and the picture reaches your path through the safe output file
 *   (tensor/output.h): a FIFO, a device or a folder at the path is
 *   refused before anything is drawn, the target changes only when the
 *   picture is whole.  gnuplot's own messages are kept from your terminal; a
 *   failure is one line naming your path.
 *
 * Errors: the functions return 0, or -1 with tensor_error() set (constructors
 * NULL); like the rest of the library, nothing here prints except
 * plot_lines_ascii and the progress bar, to the stream you give them.
 *
 * Example: the book's loss figure (chapter 5), epochs below, tokens seen on top.
 *
 *     double epochs[N], tokens[N], train[N], val[N];     (filled while training)
 *     PlotSeries s[] = {
 *         {.label = "Training loss", .n = N, .x = epochs, .y = train, .x2 = tokens},
 *         {.label = "Validation loss", .n = N, .x = epochs, .y = val, .dash = PLOT_DASHED},
 *     };
 *     PlotOptions o = PLOT_OPTIONS(.title = "GPT-124M on the-verdict.txt",
 *                                  .xlabel = "Epochs", .ylabel = "Loss",
 *                                  .x2label = "Tokens seen");
 *     if (plot_lines("loss.pdf", 2, s, o) != 0) fprintf(stderr, "%s\n", tensor_error());
 *     plot_lines_ascii(stdout, 2, s, o);                 (the same, as text)
 *
 * The same from a CSV with a header row "step,epoch,tokens_seen,train_loss,val_loss":
 *
 *     PlotSeries s[] = {
 *         {.label = "Training loss", .csv = "loss.csv", .x_column = "epoch",
 *          .y_column = "train_loss", .x2_column = "tokens_seen"},
 *         {.label = "Validation loss", .csv = "loss.csv", .x_column = "epoch",
 *          .y_column = "val_loss", .dash = PLOT_DASHED},
 *     };
 */
#ifndef ATTOGRAD_PLOT_H
#define ATTOGRAD_PLOT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tensor/tensor.h"
#include "tensor/output.h"

/* ---- Line charts ------------------------------------------------------------- */

typedef enum { PLOT_SOLID, PLOT_DASHED, PLOT_DOTTED, PLOT_DASH_DOT } PlotDash;

/* One line of a chart: n points from arrays, or the columns of a CSV (a
 * header row of names, then rows of numbers; an empty cell or "nan" is a
 * point left out).  Points whose x or y is not finite are left out. */
typedef struct {
    const char *label;           /* the legend's entry; NULL: none */
    int64_t n;                   /* from arrays: n points */
    const double *x, *y;         /*   x NULL: 0, 1, ..., n - 1 */
    const double *x2;            /*   NULL, or each point's place on the top x axis */
    const char *csv;             /* or from a CSV file: */
    const char *x_column;        /*   header names; x_column NULL: the row's number */
    const char *y_column;
    const char *x2_column;       /*   NULL, or the top axis's column */
    const char *color;           /* "#rrggbb"; NULL: the next colour of a 10-colour palette */
    PlotDash dash;
    double width;                /* the line's width; 0: 2 */
} PlotSeries;

/* Every field's zero is its default: PLOT_OPTIONS(.title = "loss") is
 * (PlotOptions){.title = "loss"}, and PLOT_OPTIONS() has every default. */
typedef struct {
    const char *title;           /* NULL: none */
    const char *subtitle;        /* a second, smaller line under the title; NULL: none */
    const char *xlabel, *ylabel;
    const char *x2label;         /* the top axis's (drawn when a series has x2) */
    bool logx, logy;             /* log-scale axes */
    double xtics;                /* the step between x tics; 0: gnuplot's choice */
    int64_t width, height;       /* pixels (0: 900 x 560); for ASCII characters (0: 80 x 24,
                                    or the terminal's width) */
} PlotOptions;
#define PLOT_OPTIONS(...) PLOT__OPTIONS(PlotOptions, .title = NULL, __VA_ARGS__)
/* A statement expression (GCC, Clang), so that an option given twice (the
 * NULL above, then the caller's) is not a -Woverride-init warning. */
#define PLOT__OPTIONS(type, ...)                                                              \
    (__extension__({                                                                          \
        _Pragma("GCC diagnostic push")                                                        \
        _Pragma("GCC diagnostic ignored \"-Woverride-init\"")                                 \
        type plot__options = {__VA_ARGS__};                                                   \
        _Pragma("GCC diagnostic pop")                                                         \
        plot__options;                                                                        \
    }))

#define PLOT_MAX_SERIES 64

/* Draws n series (1 to PLOT_MAX_SERIES) into path (.png, .svg or .pdf). */
ATTOGRAD_API int plot_lines(const char *path, int64_t n, const PlotSeries *series,
                            PlotOptions o);
/* The same chart as text (gnuplot's dumb terminal) on f: width 0 is f's
 * terminal width when f is a terminal, else 80; the page's form feed is
 * left out. */
ATTOGRAD_API int plot_lines_ascii(FILE *f, int64_t n, const PlotSeries *series, PlotOptions o);

/* 0 when path can take a picture: its extension is .png, .svg or .pdf and
 * tensor_output_check accepts it; else -1 with a message naming path. */
ATTOGRAD_API int plot_check_path(const char *path);

/* ---- Heatmaps ----------------------------------------------------------------- */

typedef enum {
    PLOT_SCALE_SHARED,           /* one colour scale for all panels: min to max of them all */
    PLOT_SCALE_FIXED,            /* one colour scale for all panels: min to max as given */
    PLOT_SCALE_PER_PANEL,        /* each panel its own min to max; the figure says so */
} PlotScale;

typedef struct {
    const char *title, *subtitle;
    const char *xlabel, *ylabel;           /* beside every panel */
    const char *const *panel_titles;       /* one per panel, or NULL */
    const char *const *row_labels;         /* rows labels (tokens), or NULL: 0, 1, ... */
    const char *const *col_labels;         /* cols labels, or NULL: 0, 1, ... */
    PlotScale scale;
    double min, max;                       /* PLOT_SCALE_FIXED's range, min < max */
} PlotHeatmapOptions;
#define PLOT_HEATMAP_OPTIONS(...) PLOT__OPTIONS(PlotHeatmapOptions, .title = NULL, __VA_ARGS__)

#define PLOT_HEATMAP_MAX_PANELS 64
#define PLOT_HEATMAP_MAX_SIZE 256              /* rows and columns of a panel */
#define PLOT_LABEL_MAX 24                      /* bytes of a row or column label drawn */

/* Draws panels of rows x cols cells (values: panels * rows * cols floats,
 * row-major, panel after panel; a NaN cell is left empty) into path (.png,
 * .svg or .pdf), the panels in a near-square grid.  Row 0 is at the top
 * (queries down, keys across, as attention weights are printed). */
ATTOGRAD_API int plot_heatmap(const char *path, int64_t panels, int64_t rows, int64_t cols,
                              const float *values, PlotHeatmapOptions o);
/* The same for a tensor: (rows, cols) is one panel, (panels, rows, cols)
 * several (the attention weights of batch row 0: tensor_squeeze(tensor_narrow(w, 0, 0, 1),
 * 0)). */
ATTOGRAD_API int plot_heatmap_tensor(const char *path, const Tensor *t, PlotHeatmapOptions o);

/* ---- The autograd graph --------------------------------------------------------- */

/* The graph behind root (tensor_graph_dot) into path: .dot writes the DOT
 * source; .png, .svg or .pdf draws it with Graphviz's dot. */
ATTOGRAD_API int plot_graph(const Tensor *root, const char *path);

/* ---- The backward pass, as a page a browser opens --------------------------------- */

/*
 * plot_backward_page runs loss's backward (call it instead of
 * tensor_backward) and writes one self-contained HTML file that explores
 * it: the autograd graph (tensor_graph_dot drawn by dot as SVG, inline),
 * each box's op, shape and full parameter name; a click on a box shows its
 * forward value and its gradient (tables, or heatmaps for larger tensors),
 * a central-difference estimate beside it and their difference, its op's
 * backward in symbols and words, and the gradients of its consumers it was
 * built from; a step control runs the backward one node at a time in the
 * engine's own order (tensor_trace_backward), showing the gradient that
 * just arrived and the ones that add up (a residual's +, a tensor used
 * twice); a softmax's weights are a heatmap (masked places hatched) whose
 * rows explain the softmax's Jacobian product with the numbers of that
 * row.  Every number on the page is formatted here, from the run, as the
 * walk-throughs print them (tensor_grad_pair_format: 4 decimals after a
 * power-of-ten scale).  The page fetches nothing: its SVG, CSS and
 * JavaScript (plain, no library) are inside it; about 100 KB for the
 * book's attention or one TransformerBlock.
 *
 * The gradients' estimates: for a tensor with a note of yours that gives
 * one (a walk-through's double-precision central difference), yours;
 * otherwise, when the options give your forward again, tensor_numeric_grad's
 * (float32, 4 runs of the forward per element, PLOT_PAGE_MAX_NUDGES
 * elements in all); otherwise none, and the page says why.
 *
 * A model too big for a page: a graph of more than PLOT_PAGE_MAX_TENSORS
 * tensors is refused with a message (nothing is written, and the backward
 * has not run); a tensor of more than PLOT_PAGE_WHOLE elements is shown by
 * its norms (value and gradient), and so are the largest tensors past
 * PLOT_PAGE_MAX_NUMBERS numbers written in all: the page says which.
 *
 *     PlotPageNote notes[] = {{.tensor = weights, .formula = "d_weights = d_context @ values^T",
 *                              .why = "context = weights @ values"}};
 *     PlotPageOptions o = PLOT_PAGE_OPTIONS(.title = "My model's backward", .notes = notes,
 *                                           .n_notes = 1, .forward = my_forward, .forward_ctx = &m);
 *     if (plot_backward_page(loss, "backward.html", o) != 0) fprintf(stderr, "%s\n", tensor_error());
 *
 * The page is written through the safe output file (tensor/output.h): a
 * path that exists and is not a regular file is refused before any work,
 * and the target changes only when the page is whole.  Needs Graphviz's
 * dot, as plot_graph.
 */
typedef struct {
    const Tensor *tensor;        /* a tensor of the graph */
    const char *formula;         /* its gradient, as your walk-through prints it:
                                    "d_weights = d_context @ values^T"; NULL: none */
    const char *why;             /* the forward line and the rule it comes from; NULL: none */
    const Tensor *numeric;       /* your estimate of d loss / d tensor (its elements in row-major
                                    order, any shape), or NULL */
    const char *numeric_how;     /* how you made it ("a central difference of a double-precision
                                    forward"); NULL: "your estimate" */
} PlotPageNote;

typedef struct {
    const char *title;           /* the page's heading; NULL: "The backward pass, step by step" */
    const char *intro;           /* a paragraph under it (the model, the loss); NULL: none */
    const PlotPageNote *notes;   /* n_notes of them, at most one per tensor */
    int64_t n_notes;
    TensorForwardFn forward;     /* your forward again, for tensor_numeric_grad; NULL: none */
    void *forward_ctx;
} PlotPageOptions;
#define PLOT_PAGE_OPTIONS(...) PLOT__OPTIONS(PlotPageOptions, .title = NULL, __VA_ARGS__)

#define PLOT_PAGE_MAX_TENSORS 400      /* tensors in the graph; a larger one is refused */
#define PLOT_PAGE_WHOLE 4096           /* elements of a tensor shown whole; past it, norms */
#define PLOT_PAGE_MAX_NUMBERS 100000   /* numbers written whole in all (about 1 MB) */
#define PLOT_PAGE_MAX_NUDGES 4096      /* elements estimated by tensor_numeric_grad in all */

/* Runs loss's backward (loss: one element) and writes the page at path
 * (.html): 0, or -1 with a message naming path.  On a message about the
 * path, the graph's size or dot, the backward has not run. */
ATTOGRAD_API int plot_backward_page(Tensor *loss, const char *path, PlotPageOptions o);
/* The line a program prints after writing the page, to out: "page: PATH
 * (N KB; open it in a browser)", its size rounded up to whole KB.  0, or -1
 * with a message (nothing printed) when path cannot be stat'ed. */
ATTOGRAD_API int plot_page_report(FILE *out, const char *path);

/* ---- A run's CSV -------------------------------------------------------------------- */

/*
 * A CSV that grows while a program runs (a loss per step or per
 * evaluation).  The rows are kept in memory and the whole file is written
 * through the safe output file: at plot_csv_sync, at plot_csv_close, and by
 * plot_csv_row when a second (or ten times the last write's time) has
 * passed since the last write.  So the file at path always holds whole
 * rows, at most about a second behind, and a run killed with kill -9 leaves
 * its rows there, not in a temporary file (which the next write removes).
 *
 *     PlotCsv *csv = plot_csv_open("loss.csv", "step,loss");
 *     for (...) plot_csv_row(csv, "%lld,%.9g", (long long)step, loss);
 *     if (plot_csv_close(csv)) fprintf(stderr, "%s\n", tensor_error());
 */
typedef struct PlotCsv PlotCsv;

/* The numbers of one column of a CSV with a header row (an empty cell or
 * "nan" is NaN) in *values, malloc'd (free it): how many, or -1 with a
 * message naming the file and the line. */
ATTOGRAD_API int64_t plot_csv_column(const char *path, const char *column, double **values);

/* Checks path (tensor_output_check); writes nothing yet.  NULL with a message. */
ATTOGRAD_API PlotCsv *plot_csv_open(const char *path, const char *header);
/* A resumed run: takes over the rows of the file already at path whose
 * first column is at most last (the steps a checkpoint covers), dropping
 * the rest.  Returns the rows kept: 0 when there is no file; -1 with a
 * message when the file's header is not this CSV's or a row's first cell
 * is not a number. */
ATTOGRAD_API int64_t plot_csv_keep(PlotCsv *c, double last);
/* Adds one row (printf format, no newline). */
ATTOGRAD_API int plot_csv_row(PlotCsv *c, const char *fmt, ...) TENSOR__PRINTF(2, 3);
/* Writes the file now. */
ATTOGRAD_API int plot_csv_sync(PlotCsv *c);
/* Writes the file and frees c (NULL is fine). */
ATTOGRAD_API int plot_csv_close(PlotCsv *c);

/* ---- A progress bar --------------------------------------------------------------- */

/*
 * A bar on a stream (stderr) for loops whose stdout is their record, drawn
 * only when the caller says the stream is a terminal (isatty), redrawn in
 * place with \r at most five times a second, and cleared before the
 * program prints a line, so stdout reads the same with or without it:
 *
 *     [###########.............................]  412/2860  1093 tok/s  ETA 1h02m
 *
 *     PlotProgress *bar = plot_progress_new(stderr, isatty(STDERR_FILENO), 0, steps);
 *     for (step = 1; step <= steps; step++) {
 *         ...
 *         plot_progress_clear(bar);        (before printing a line)
 *         plot_progress_step(bar, step, tokens_in_this_step);
 *     }
 *     plot_progress_free(bar);             (clears it)
 */
typedef struct PlotProgress PlotProgress;

/* draw: the stream is a terminal and the bar is wanted; first of total
 * steps were done before this process began (a resumed run).  NULL with a
 * message (a NULL stream, a negative count). */
ATTOGRAD_API PlotProgress *plot_progress_new(FILE *stream, bool draw, int64_t first,
                                             int64_t total);
/* Step done (of total) and the tokens it took (0: the bar shows steps/s). */
ATTOGRAD_API void plot_progress_step(PlotProgress *p, int64_t done, int64_t tokens);
/* Wipes the bar; the next step draws it again. */
ATTOGRAD_API void plot_progress_clear(PlotProgress *p);
ATTOGRAD_API void plot_progress_free(PlotProgress *p);
/* Monotonic seconds, for timing steps. */
ATTOGRAD_API double plot_clock(void);
/* "1h02m", "3m05s", "42s" into buf (n bytes); returns buf. */
ATTOGRAD_API const char *plot_duration(double seconds, char *buf, size_t n);

#endif /* ATTOGRAD_PLOT_H */
