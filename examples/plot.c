/* Pictures of CSV columns with gnuplot (see plot.h). */
#include "plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "subprocess.h"

const char *plot_terminal(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/')) return NULL;
    if (strcmp(dot, ".png") == 0) return "pngcairo size 900,560";
    if (strcmp(dot, ".svg") == 0) return "svg size 900,560";
    if (strcmp(dot, ".pdf") == 0) return "pdfcairo size 6in,3.75in";
    return NULL;
}

int plot_path_check(const char *path, char *why, size_t n)
{
    if (!plot_terminal(path)) {
        snprintf(why, n, "'%s' does not end in .png, .svg or .pdf", path);
        return -1;
    }
    return output_path_check(path, why, n);
}

int plot_ascii_width(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40 && ws.ws_col <= 400)
        return ws.ws_col;
    return 80;
}

/* s as a gnuplot single-quoted string: only printable ASCII is kept (a
 * newline or a control byte becomes '?'), and a quote is written twice,
 * which is the only escape gnuplot reads in single quotes; so no title
 * can end its string or its line. */
static void put_quoted_n(FILE *f, const char *s, size_t max)
{
    fputc('\'', f);
    for (size_t i = 0; s && s[i] && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\'') fputc('\'', f);
        fputc(c >= 0x20 && c < 0x7f ? c : '?', f);
    }
    fputc('\'', f);
}

static void put_quoted(FILE *f, const char *s) { put_quoted_n(f, s, (size_t)-1); }

static bool is_color(const char *c)
{
    if (!c || c[0] != '#' || strlen(c) != 7) return false;
    for (int i = 1; i < 7; i++)
        if (!strchr("0123456789abcdefABCDEF", c[i])) return false;
    return true;
}

/* Copies the user's CSV at src into the scratch as name. */
static int copy_in(Scratch *s, const char *src, const char *name, char *why, size_t n)
{
    FILE *in = fopen(src, "rb");
    if (!in) {
        snprintf(why, n, "plot: cannot read %s", src);
        return -1;
    }
    FILE *out = scratch_fopen(s, name, why, n);
    int rc = out ? 0 : -1;
    char buf[8192];
    size_t got;
    while (rc == 0 && (got = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, got, out) != got) rc = -1;
    if (ferror(in)) rc = -1;
    fclose(in);
    if (out && fclose(out) != 0) rc = -1;
    if (rc && out) snprintf(why, n, "plot: cannot copy %s", src);
    return rc;
}

/* The scratch file holding curve i's CSV: data<j>.csv for the first curve j
 * naming the same CSV, so a CSV of many columns is copied once. */
static int data_index(const Plot *p, int i)
{
    for (int j = 0; j < i; j++)
        if (strcmp(p->curves[j].csv, p->curves[i].csv) == 0) return j;
    return i;
}

/* The commands after "set terminal" and "set output", shared by both renderings. */
static void write_plot(FILE *f, const Plot *p)
{
    fprintf(f, "set datafile separator ','\n");
    if (p->title) {
        fprintf(f, "set title ");
        put_quoted(f, p->title);
        if (p->subtitle) {
            fprintf(f, " . \"\\n\" . ");
            put_quoted(f, p->subtitle);
        }
        fprintf(f, " noenhanced\n");
    }
    if (p->xlabel) fprintf(f, "set xlabel "), put_quoted(f, p->xlabel), fprintf(f, " noenhanced\n");
    if (p->ylabel) fprintf(f, "set ylabel "), put_quoted(f, p->ylabel), fprintf(f, " noenhanced\n");
    bool x2 = false;
    for (int i = 0; i < p->n; i++) x2 |= p->curves[i].x2 > 0;
    if (x2) {
        fprintf(f, "set x2tics\nset xtics nomirror\n");
        if (p->x2label)
            fprintf(f, "set x2label "), put_quoted(f, p->x2label), fprintf(f, " noenhanced\n");
    }
    if (p->logy) fprintf(f, "set logscale y\n");
    if (p->xtics > 0 && isfinite(p->xtics)) fprintf(f, "set xtics %.9g\n", p->xtics);
    fprintf(f, "set grid\nset key top right noenhanced\nplot ");
    for (int i = 0; i < p->n; i++) {
        const PlotCurve *c = &p->curves[i];
        fprintf(f, "%s'data%d.csv' using %d:%d skip 1 with lines lw 2 dt %d", i ? ", " : "",
                data_index(p, i), c->x, c->y, c->dashed ? 2 : 1);
        if (is_color(c->color)) fprintf(f, " lc rgb '%s'", c->color);
        fprintf(f, " title ");
        put_quoted(f, c->label ? c->label : "");
        /* The second axis: the same points against column x2, not drawn,
         * so gnuplot sets the top axis's range from them. */
        if (c->x2 > 0)
            fprintf(f, ", 'data%d.csv' using %d:%d skip 1 axes x2y1 with lines lt nodraw notitle",
                    data_index(p, i), c->x2, c->y);
    }
    fprintf(f, "\n");
}

static int check(const Plot *p, char *why, size_t n)
{
    if (p->n < 1 || p->n > PLOT_MAX_CURVES) {
        snprintf(why, n, "plot: %d curves (1 to %d)", p->n, PLOT_MAX_CURVES);
        return -1;
    }
    for (int i = 0; i < p->n; i++) {
        const PlotCurve *c = &p->curves[i];
        if (!c->csv || c->x < 1 || c->y < 1 || c->x2 < 0 || c->x > 64 || c->y > 64 || c->x2 > 64) {
            snprintf(why, n, "plot: curve %d: no CSV, or columns x %d, y %d, x2 %d out of 1..64",
                     i, c->x, c->y, c->x2);
            return -1;
        }
    }
    return 0;
}

/* Runs gnuplot on script in s, then renames out onto target. */
static int render(Scratch *s, const char *script, const char *out, const char *target, char *why,
                  size_t n)
{
    char *argv[] = {"gnuplot", (char *)script, NULL};
    char err[256];
    int rc = spawn_wait(argv, s->dir, err, sizeof err);
    if (rc) {
        snprintf(why, n, "plot: %s: %s%s", target, err,
                 rc == 1 ? " (apt-get install gnuplot-nox)" : "");
        return rc;
    }
    return scratch_commit(s, out, target, why, n);
}

static int ascii_to_stdout(Scratch *s, const Plot *p, char *why, size_t n)
{
    FILE *f = scratch_fopen(s, "ascii.gp", why, n);
    if (!f || scratch_expect(s, "ascii.txt", why, n)) {
        if (f) fclose(f);
        return -1;
    }
    fprintf(f, "set terminal dumb size %d,%d\nset output 'ascii.txt'\n", plot_ascii_width(), 24);
    write_plot(f, p);
    if (fclose(f) != 0) {
        snprintf(why, n, "plot: cannot write the ASCII script");
        return -1;
    }
    char *argv[] = {"gnuplot", "ascii.gp", NULL};
    char err[256];
    int rc = spawn_wait(argv, s->dir, err, sizeof err);
    if (rc) {
        snprintf(why, n, "plot: ASCII picture: %s", err);
        return rc;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/ascii.txt", s->dir);
    FILE *in = fopen(path, "r");
    if (!in) {
        snprintf(why, n, "plot: gnuplot wrote no ASCII picture");
        return -1;
    }
    fflush(stdout);
    char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, got, stdout);
    fclose(in);
    fflush(stdout);
    return 0;
}

int plot_render(const Plot *p, const char *path, bool ascii, char *why, size_t n)
{
    if (check(p, why, n)) return -1;
    const char *term = plot_terminal(path);
    if (!term) {
        snprintf(why, n, "plot: %s: unknown picture type (the name must end in .png, .svg or .pdf)",
                 path);
        return -1;
    }
    Scratch s;
    if (scratch_open(&s, path, why, n)) return -1;
    int rc = 0;
    for (int i = 0; i < p->n && rc == 0; i++) {
        if (data_index(p, i) != i) continue;
        char name[32];
        snprintf(name, sizeof name, "data%d.csv", i);
        rc = copy_in(&s, p->curves[i].csv, name, why, n);
    }
    FILE *f = rc == 0 ? scratch_fopen(&s, "plot.gp", why, n) : NULL;
    if (rc == 0 && (!f || scratch_expect(&s, "picture", why, n))) rc = -1;
    if (f) {
        fprintf(f, "set terminal %s\nset output 'picture'\n", term);
        write_plot(f, p);
        if (fclose(f) != 0) {
            snprintf(why, n, "plot: cannot write the gnuplot script");
            rc = -1;
        }
    }
    if (rc == 0) rc = render(&s, "plot.gp", "picture", path, why, n);
    if (rc == 0 && ascii) rc = ascii_to_stdout(&s, p, why, n);
    scratch_close(&s);
    return rc;
}

/* ---- heatmaps ------------------------------------------------------------------ */

static int heatmap_check(const PlotHeatmap *h, char *why, size_t n)
{
    if (h->panels < 1 || h->panels > PLOT_HEATMAP_MAX_PANELS || h->size < 1 ||
        h->size > PLOT_HEATMAP_MAX_SIZE || !h->values) {
        snprintf(why, n, "plot: heatmap of %d panels of %d x %d cells (1 to %d panels of at most "
                 "%d x %d, with values)", h->panels, h->size, h->size, PLOT_HEATMAP_MAX_PANELS,
                 PLOT_HEATMAP_MAX_SIZE, PLOT_HEATMAP_MAX_SIZE);
        return -1;
    }
    return 0;
}

/* The panels as gnuplot index blocks of "column row value" lines, one
 * blank line after each row (a scan line), two after each panel. */
static int heatmap_data(Scratch *s, const PlotHeatmap *h, char *why, size_t n)
{
    FILE *f = scratch_fopen(s, "heatmap.dat", why, n);
    if (!f) return -1;
    const float *v = h->values;
    for (int p = 0; p < h->panels; p++) {
        for (int r = 0; r < h->size; r++) {
            for (int c = 0; c < h->size; c++, v++)
                if (isfinite(*v)) fprintf(f, "%d %d %.9g\n", c, r, (double)*v);
                else fprintf(f, "%d %d NaN\n", c, r);
            fputc('\n', f);
        }
        fputs("\n\n", f);
    }
    if (fclose(f) != 0) {
        snprintf(why, n, "plot: cannot write the heatmap's data");
        return -1;
    }
    return 0;
}

/* ('label' 0, 'label' 1, ...) */
static void heatmap_tics(FILE *f, const PlotHeatmap *h)
{
    fputc('(', f);
    for (int i = 0; i < h->size; i++) {
        if (i) fputs(", ", f);
        if (h->labels) put_quoted_n(f, h->labels[i], PLOT_LABEL_MAX);
        else fprintf(f, "'%d'", i);
        fprintf(f, " %d", i);
    }
    fputc(')', f);
}

static void heatmap_script(FILE *f, const PlotHeatmap *h, const char *term, int cols, int rows)
{
    /* a panel: its cells (at least 16 pixels each), its token labels (about
     * 130 pixels), its colour bar (about 90) */
    int cells = h->size * 16 < 220 ? 220 : h->size * 16;
    int w = 60 + (cells + 260) * cols, ht = 60 + (cells + 200) * rows;
    if (strncmp(term, "pdf", 3) == 0) fprintf(f, "set terminal pdfcairo size %.2fin,%.2fin\n",
                                              w / 96.0, ht / 96.0);
    else fprintf(f, "set terminal %s size %d,%d\n", term, w, ht);
    fprintf(f, "set output 'picture'\nset termoption noenhanced\n");
    fprintf(f, "set palette defined (0 '#440154', 0.5 '#21918c', 1 '#fde725')\n"
               "set cbrange [0:*]\nset size ratio -1\n");
    fprintf(f, "set xrange [-0.5:%d.5]\nset yrange [%d.5:-0.5]\n", h->size - 1, h->size - 1);
    fprintf(f, "set xtics rotate by 60 right font ',9' ");
    heatmap_tics(f, h);
    fprintf(f, "\nset ytics font ',9' ");
    heatmap_tics(f, h);
    fputc('\n', f);
    if (h->xlabel) fprintf(f, "set xlabel "), put_quoted(f, h->xlabel), fputc('\n', f);
    if (h->ylabel) fprintf(f, "set ylabel "), put_quoted(f, h->ylabel), fputc('\n', f);
    fprintf(f, "set multiplot layout %d,%d", rows, cols);
    if (h->title) fprintf(f, " title "), put_quoted(f, h->title);
    fputc('\n', f);
    for (int p = 0; p < h->panels; p++) {
        fprintf(f, "set title ");
        put_quoted(f, h->panel_titles ? h->panel_titles[p] : "");
        fprintf(f, "\nplot 'heatmap.dat' index %d using 1:2:3 with image notitle\n", p);
    }
    fprintf(f, "unset multiplot\n");
}

int plot_heatmap(const PlotHeatmap *h, const char *path, char *why, size_t n)
{
    if (heatmap_check(h, why, n)) return -1;
    const char *term = plot_terminal(path);
    if (!term) {
        snprintf(why, n, "plot: %s: unknown picture type (the name must end in .png, .svg or .pdf)",
                 path);
        return -1;
    }
    int cols = 1;
    while (cols * cols < h->panels) cols++;
    int rows = (h->panels + cols - 1) / cols;
    char kind[16];
    snprintf(kind, sizeof kind, "%.*s", (int)strcspn(term, " "), term);   /* "pngcairo" */
    Scratch s;
    if (scratch_open(&s, path, why, n)) return -1;
    int rc = heatmap_data(&s, h, why, n);
    FILE *f = rc == 0 ? scratch_fopen(&s, "heatmap.gp", why, n) : NULL;
    if (rc == 0 && (!f || scratch_expect(&s, "picture", why, n))) rc = -1;
    if (f) {
        heatmap_script(f, h, kind, cols, rows);
        if (fclose(f) != 0) {
            snprintf(why, n, "plot: cannot write the gnuplot script");
            rc = -1;
        }
    }
    if (rc == 0) rc = render(&s, "heatmap.gp", "picture", path, why, n);
    scratch_close(&s);
    return rc;
}
