/*
 * Line charts (see plot.h): the series' points written as data files in the
 * private folder, a script naming only those, gnuplot, and the picture
 * delivered through the safe output file (or copied to the caller's stream
 * for the ASCII chart).
 */
#include "plot/plot_internal.h"

#include <math.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* matplotlib's tab10, for series that name no colour. */
static const char *const palette[10] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

static int check_series(const char *what, int64_t n, const PlotSeries *series)
{
    if (n < 1 || n > PLOT_MAX_SERIES || !series)
        return plot__fail("%s: %lld series (1 to %d)", what, (long long)n, PLOT_MAX_SERIES);
    for (int64_t i = 0; i < n; i++) {
        const PlotSeries *s = &series[i];
        if (s->csv && (s->x || s->y || s->x2 || s->n))
            return plot__fail("%s: series %lld: both arrays and a CSV", what, (long long)i);
        if (!s->csv && (s->n < 0 || (s->n > 0 && !s->y)))
            return plot__fail("%s: series %lld: %lld points and %s y values", what,
                                    (long long)i, (long long)s->n, s->y ? "its" : "no");
        if (s->csv && !s->y_column)
            return plot__fail("%s: series %lld: a CSV and no y_column", what, (long long)i);
        if (s->color && !plot__is_color(s->color))
            return plot__fail("%s: series %lld: colour '%.20s' is not #rrggbb", what,
                                    (long long)i, s->color);
        if ((unsigned)s->dash > PLOT_DASH_DOT || !(s->width >= 0 && s->width <= 50))
            return plot__fail("%s: series %lld: dash %d or width %g out of range", what,
                                    (long long)i, (int)s->dash, s->width);
    }
    return 0;
}

/* Series i's points as "x y x2" lines in series<i>.dat; *drawn counts the
 * points with a finite x and y, *top whether any has a finite x2. */
static int write_series(PlotScratch *sc, const char *what, int64_t i, const PlotSeries *s,
                        int64_t *drawn, bool *top)
{
    PlotPoints csv = {0};
    if (s->csv && plot__csv_read(s->csv, s->x_column, s->y_column, s->x2_column, &csv)) return -1;
    char name[32];
    snprintf(name, sizeof name, "series%lld.dat", (long long)i);
    FILE *f = plot__scratch_file(sc, name, what);
    int64_t n = s->csv ? csv.n : s->n;
    for (int64_t k = 0; f && k < n; k++) {
        double x = s->csv ? csv.x[k] : s->x ? s->x[k] : (double)k;
        double y = s->csv ? csv.y[k] : s->y[k];
        double x2 = s->csv ? csv.x2[k] : s->x2 ? s->x2[k] : NAN;
        if (!isfinite(x) || !isfinite(y)) continue;
        fprintf(f, "%.17g %.17g ", x, y);
        if (isfinite(x2)) fprintf(f, "%.17g\n", x2), *top = true;
        else fprintf(f, "NaN\n");
        (*drawn)++;
    }
    plot__points_free(&csv);
    if (!f) return -1;
    if (fclose(f) != 0) return plot__fail("%s: cannot write the chart's data", what);
    return 0;
}

static int lines_of(const char *s)
{
    int n = s ? 1 : 0;
    for (; s && *s; s++) n += *s == '\n';
    return n;
}

static void write_chart(FILE *f, int64_t n, const PlotSeries *series, const PlotOptions *o,
                        bool top)
{
    plot__put_title(f, "set title font ',13'", o->title, o->subtitle);
    if (o->xlabel) fputs("set xlabel ", f), plot__put_string(f, o->xlabel, (size_t)-1, false),
                   fputc('\n', f);
    if (o->ylabel) fputs("set ylabel ", f), plot__put_string(f, o->ylabel, (size_t)-1, false),
                   fputc('\n', f);
    if (top) {
        /* Both x axes span exactly their data, so that a point's two
         * places line up (epochs below, tokens seen above). */
        fputs("set x2tics\nset xtics nomirror\nset autoscale xfix\nset autoscale x2fix\n", f);
        /* The top axis's label sits on its numbers, a line below the
         * title, so that it reads as the axis's and not as a subtitle. */
        if (o->x2label) fputs("set x2label ", f), plot__put_string(f, o->x2label, (size_t)-1, false),
                        fprintf(f, " offset 0,-0.7\nset tmargin %d\n",
                                4 + lines_of(o->title) + lines_of(o->subtitle));
    }
    if (o->logy) fputs("set logscale y\n", f);
    if (o->logx) fputs(top ? "set logscale x\nset logscale x2\n" : "set logscale x\n", f);
    if (o->xtics > 0 && isfinite(o->xtics)) fprintf(f, "set xtics %.17g\n", o->xtics);
    fputs("set grid\nset key top right\nplot ", f);
    int next_color = 0;
    for (int64_t i = 0; i < n; i++) {
        const PlotSeries *s = &series[i];
        const char *color = s->color ? s->color : palette[next_color++ % 10];
        fprintf(f, "%s'series%lld.dat' using 1:2 with lines lw %.3g dt %d lc rgb '%s' ",
                i ? ", \\\n     " : "", (long long)i, s->width > 0 ? s->width : 2.0,
                (int)s->dash + 1, color);
        if (s->label) fputs("title ", f), plot__put_string(f, s->label, (size_t)-1, false);
        else fputs("notitle", f);
        /* The top axis: the same points against x2, not drawn, so that
         * gnuplot sets the top axis's range from them. */
        if (top && (s->x2 || s->x2_column))
            fprintf(f, ", \\\n     'series%lld.dat' using 3:2 axes x2y1 with lines lt nodraw notitle",
                    (long long)i);
    }
    fputc('\n', f);
}

/* Writes the data and the script (after the terminal line term_line),
 * runs gnuplot: 0, or -1 with a message naming what. */
static int render(PlotScratch *sc, const char *what, const char *term, int64_t w, int64_t h,
                  int64_t n, const PlotSeries *series, const PlotOptions *o)
{
    int64_t drawn = 0;
    bool top = false;
    for (int64_t i = 0; i < n; i++)
        if (write_series(sc, what, i, &series[i], &drawn, &top)) return -1;
    if (drawn == 0) return plot__fail("%s: nothing to draw: no series has a point", what);
    FILE *f = plot__scratch_file(sc, "chart.gp", what);
    if (!f) return -1;
    if (strcmp(term, "dumb") == 0)
        fprintf(f, "set terminal dumb size %lld,%lld\nset encoding utf8\nset output 'picture'\n",
                (long long)w, (long long)h);
    else
        plot__put_terminal(f, term, w, h);
    write_chart(f, n, series, o, top);
    if (fclose(f) != 0) return plot__fail("%s: cannot write the chart's script", what);
    char *argv[] = {"gnuplot", "-d", "chart.gp", NULL};
    return plot__run(sc, argv, what);
}

int plot_lines(const char *path, int64_t n, const PlotSeries *series, PlotOptions o)
{
    if (plot_check_path(path) || check_series(path, n, series)) return -1;
    if (o.width < 0 || o.height < 0 || o.width > 20000 || o.height > 20000)
        return plot__fail("%s: a picture of %lld x %lld pixels", path, (long long)o.width,
                                (long long)o.height);
    PlotScratch sc;
    if (plot__scratch_open(&sc, path)) return -1;
    int rc = render(&sc, path, plot__terminal(path), o.width ? o.width : 900,
                    o.height ? o.height : 560, n, series, &o);
    if (rc == 0) rc = plot__deliver(&sc, "picture", path);
    plot__scratch_close(&sc);
    return rc;
}

/* f's terminal width (40 to 400 columns), or 80. */
static int64_t columns_of(FILE *f)
{
    struct winsize ws;
    int fd = fileno(f);
    if (fd >= 0 && isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40 &&
        ws.ws_col <= 400)
        return ws.ws_col;
    return 80;
}

int plot_lines_ascii(FILE *f, int64_t n, const PlotSeries *series, PlotOptions o)
{
    const char *what = "ASCII chart";
    if (!f) return plot__fail("%s: the stream is NULL", what);
    if (check_series(what, n, series)) return -1;
    if (o.width < 0 || o.height < 0 || o.width > 1000 || o.height > 1000 ||
        (o.width && o.width < 20) || (o.height && o.height < 8))
        return plot__fail("%s: %lld x %lld characters (20 x 8 to 1000 x 1000)", what,
                                (long long)o.width, (long long)o.height);
    PlotScratch sc;
    if (plot__scratch_open(&sc, what)) return -1;
    int rc = render(&sc, what, "dumb", o.width ? o.width : columns_of(f), o.height ? o.height : 24,
                    n, series, &o);
    if (rc == 0) rc = plot__copy_out(&sc, "picture", f, what);
    plot__scratch_close(&sc);
    return rc;
}
