/*
 * Why shortcut connections matter (the book's chapter 4): the gradients of
 * the book's 5-layer ExampleDeepNeuralNetwork (nn_shortcut_gradient_means, seed 123,
 * input [[1., 0., -1.]], MSE against [[0.]]) without and with shortcuts,
 * each layer's mean |gradient| printed as the book's print_gradients prints
 * it.  Without shortcuts the mean shrinks towards the first layer (it
 * vanishes); with them it stays large.
 *
 *     shortcut_gradients [--seed N] [--plot FILE.png|svg|pdf] [--ascii]
 *
 * --plot draws both series on one log-scale chart, layer by layer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attograd.h"

#define PROG "shortcut_gradients"

enum { LAYERS = 5 };            /* the book's layer_sizes [3, 3, 3, 3, 3, 1] */

static void print_gradients(const char *header, const Tensor *means)
{
    printf("%s\n", header);
    for (int i = 0; i < LAYERS; i++) {
        char repr[48];
        cli_float_repr((double)means->data[i], repr, sizeof repr);  /* grad.abs().mean().item() */
        printf("layers.%d.0.weight has gradient mean of %s\n", i, repr);
    }
}

/* Both series in one log-scale chart, layer by layer (and on stdout as
 * text with --ascii). */
static int plot(const char *path, bool ascii, const Tensor *without, const Tensor *with)
{
    double layer[LAYERS], no[LAYERS], yes[LAYERS];
    for (int i = 0; i < LAYERS; i++)
        layer[i] = i, no[i] = (double)without->data[i], yes[i] = (double)with->data[i];
    PlotSeries s[] = {
        {.label = "without shortcut", .n = LAYERS, .x = layer, .y = no,
         .color = "#d62728", .dash = PLOT_DASHED},
        {.label = "with shortcut", .n = LAYERS, .x = layer, .y = yes,
         .color = "#1f77b4"},
    };
    PlotOptions o = PLOT_OPTIONS(
        .title = "Mean |gradient| of each layer's weight (the book's chapter 4)",
        .subtitle = "5 layers of Linear + GELU, one backward of MSE against 0",
        .xlabel = "layer (layers.i.0.weight)", .ylabel = "mean |gradient| (log scale)",
        .logy = true, .xtics = 1);
    int rc = plot_lines(path, 2, s, o);
    if (rc == 0 && ascii) {
        fflush(stdout);
        rc = plot_lines_ascii(stdout, 2, s, o);
    }
    if (rc) fprintf(stderr, PROG ": --plot %s\n", tensor_error());
    return rc;
}

/* A bad flag's line (cli.h records it); exit status 2. */
static int bad_flag(void)
{
    fprintf(stderr, "%s\n", tensor_error());
    return 2;
}

int main(int argc, char **argv)
{
    uint64_t seed = 123;
    const char *picture = NULL;
    bool ascii = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            printf("usage: " PROG " [--seed N] [--plot FILE.png|svg|pdf] [--ascii]\n"
                   "The book's chapter-4 experiment: each layer's mean |gradient| of a 5-layer\n"
                   "network without and with shortcut connections (seed 123 unless --seed).\n"
                   "--plot draws both on one log-scale chart (gnuplot); --ascii also on stdout.\n");
            return 0;
        } else if (strcmp(a, "--seed") == 0) {
            if (!cli_u64_flag(PROG, argc, argv, &i, &seed)) return bad_flag();
        } else if (strcmp(a, "--plot") == 0) {
            if (!cli_picture_flag(PROG, argc, argv, &i, &picture)) return bad_flag();
        } else if (strcmp(a, "--ascii") == 0) {
            ascii = true;
        } else {
            cli_unknown_option(PROG, a);
            return bad_flag();
        }
    }
    if (ascii && !picture) {
        fprintf(stderr, PROG ": --ascii draws the chart of --plot FILE; give --plot too\n");
        return 2;
    }
    tensor_manual_seed(seed);                     /* before each model, as the book */
    Tensor *without = nn_shortcut_gradient_means(false), *with = NULL;
    tensor_manual_seed(seed);
    if (without) with = nn_shortcut_gradient_means(true);
    if (!with) {
        fprintf(stderr, PROG ": %s\n", tensor_error());
        tensor_cleanup();
        return 1;
    }
    print_gradients("Without shortcut connections:", without);
    print_gradients("\nWith shortcut connections:", with);
    int rc = picture && plot(picture, ascii, without, with) ? 1 : 0;
    tensor_cleanup();
    if (fflush(stdout) != 0) {
        fprintf(stderr, PROG ": cannot write stdout\n");
        rc = 1;
    }
    return rc;
}
