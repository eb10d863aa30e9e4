/* Loss curves with gnuplot (see plot.h). */
#include "plot.h"

#include <stdlib.h>
#include <string.h>

bool plot_have_gnuplot(void)
{
    return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

/* The plot commands shared by the PNG and the ASCII rendering. */
static void write_plot(FILE *f, const char *title, int n, char *const *csv,
                       const char *const *labels)
{
    fprintf(f, "set datafile separator ','\n"
               "set title \"%s\" noenhanced\n"
               "set xlabel 'step'\n"
               "set ylabel 'MSE loss (log scale)'\n"
               "set logscale y\n"
               "set grid\n"
               "set key top right noenhanced\n"
               "plot ",
            title);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s'%s' using 1:2 skip 1 with lines lw 2 title '%s'", i ? ", " : "", csv[i],
                labels[i]);
    fprintf(f, "\n");
}

static int run_gnuplot(const char *script)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "gnuplot '%s'", script);
    return system(cmd) == 0 ? 0 : -1;
}

int plot_loss_curves(const char *png_path, const char *title, int n, char *const *csv_paths,
                     const char *const *labels, bool ascii, FILE *out)
{
    if (!plot_have_gnuplot()) {
        fprintf(stderr, "plot: gnuplot not found; the CSV is written. Install it with: "
                        "apt-get install gnuplot-nox\n");
        return -1;
    }
    char script[4096];
    snprintf(script, sizeof script, "%s.gp", png_path);
    FILE *f = fopen(script, "w");
    if (!f) {
        fprintf(stderr, "plot: cannot write %s\n", script);
        return -1;
    }
    fprintf(f, "set terminal pngcairo size 900,560\nset output '%s'\n", png_path);
    write_plot(f, title, n, csv_paths, labels);
    if (fclose(f) != 0 || run_gnuplot(script) != 0) {
        fprintf(stderr, "plot: gnuplot failed on %s\n", script);
        return -1;
    }
    if (!ascii) return 0;
    /* The ASCII curve goes through a pipe so it lands on `out`, not the PNG. */
    fflush(out);
    FILE *g = popen("gnuplot", "w");
    if (!g) return -1;
    fprintf(g, "set terminal dumb size 100,28\n");
    write_plot(g, title, n, csv_paths, labels);
    return pclose(g) == 0 ? 0 : -1;
}
