/* Loss curves with gnuplot (see plot.h). */
#include "plot.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

bool plot_have_gnuplot(void)
{
    return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

/* s as a gnuplot single-quoted string: a quote inside is written twice, so
 * no path or label can end the string and add commands. */
static void put_quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputc('\'', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

/* The plot commands shared by the PNG and the ASCII rendering. */
static void write_plot(FILE *f, const char *title, int n, char *const *csv,
                       const char *const *labels)
{
    fprintf(f, "set datafile separator ','\nset title ");
    put_quoted(f, title);
    fprintf(f, " noenhanced\n"
               "set xlabel 'step'\n"
               "set ylabel 'MSE loss (log scale)'\n"
               "set logscale y\n"
               "set grid\n"
               "set key top right noenhanced\n"
               "plot ");
    for (int i = 0; i < n; i++) {
        fputs(i ? ", " : "", f);
        put_quoted(f, csv[i]);
        fprintf(f, " using 1:2 skip 1 with lines lw 2 title ");
        put_quoted(f, labels[i]);
    }
    fprintf(f, "\n");
}

/* gnuplot SCRIPT, without a shell in between. */
static int run_gnuplot(const char *script)
{
    char *argv[] = {"gnuplot", (char *)script, NULL};
    pid_t pid;
    int status;
    if (posix_spawnp(&pid, "gnuplot", NULL, NULL, argv, environ) != 0) return -1;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int plot_loss_curves(const char *png_path, const char *title, int n, char *const *csv_paths,
                     const char *const *labels, bool ascii)
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
    fprintf(f, "set terminal pngcairo size 900,560\nset output ");
    put_quoted(f, png_path);
    fprintf(f, "\n");
    write_plot(f, title, n, csv_paths, labels);
    if (fclose(f) != 0 || run_gnuplot(script) != 0) {
        fprintf(stderr, "plot: gnuplot failed on %s\n", script);
        return -1;
    }
    if (!ascii) return 0;
    /* gnuplot's dumb terminal writes to its stdout, which is ours. */
    fflush(stdout);
    FILE *g = popen("gnuplot", "w");
    if (!g) return -1;
    fprintf(g, "set terminal dumb size 100,28\n");
    write_plot(g, title, n, csv_paths, labels);
    return pclose(g) == 0 ? 0 : -1;
}
