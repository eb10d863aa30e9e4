/* Loss curves with gnuplot: CSV in, PNG (pngcairo) and terminal ASCII (dumb) out. */
#ifndef ATTOGRAD_PLOT_H
#define ATTOGRAD_PLOT_H

#include <stdbool.h>

/* True when a gnuplot program is on PATH. */
bool plot_have_gnuplot(void);
/* Writes png_path's gnuplot script beside it (<png>.gp) and runs gnuplot;
 * n curves, each a "step,loss" CSV with a header row and a label.  With
 * ascii, also draws the curves as text on stdout.  Returns 0, or -1 with a
 * one-line reason printed to stderr. */
int plot_loss_curves(const char *png_path, const char *title, int n, char *const *csv_paths,
                     const char *const *labels, bool ascii);

#endif /* ATTOGRAD_PLOT_H */
