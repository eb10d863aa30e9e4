/*
 * train_gpt --grad-norms: each layer's gradient L2 norm at every step, so a
 * reader sees gradients vanish or explode.  The layers of a GPTModel are
 * the top-level groups of its parameter names: tok_emb, pos_emb, each
 * trf_blocks.i, final_norm, out_head; a group's norm is
 * sqrt(sum over its parameters of sum(grad^2)), taken after backward and
 * before the optimizer's step (in double).
 *
 * The rows go to a CSV beside the picture (FILE.png -> FILE.csv), a run's
 * CSV of the plot room (PlotCsv: on disk as they come, whole after kill -9,
 * a resumed run's kept); the picture, one log-scale curve per layer against
 * the step, is drawn from it by plot_lines.
 *
 *     GradNorms *g = grad_norms_open(model, "norms.png");
 *     ... each step, after tensor_backward:  grad_norms_record(g, step);
 *     grad_norms_close(g, true);                  CSV written, picture drawn
 *
 * Errors: NULL or -1 with tensor_error() set.
 */
#ifndef ATTOGRAD_GRAD_NORMS_H
#define ATTOGRAD_GRAD_NORMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nn/nn.h"

typedef struct GradNorms GradNorms;

/* The CSV path for a picture path: its extension replaced by .csv; -1 when
 * it does not fit n bytes. */
int grad_norms_csv_path(const char *picture, char *csv, size_t n);
/* Groups model's parameters and opens the CSV (nothing written yet): NULL
 * on failure (more than GRAD_NORMS_MAX_GROUPS layers, an unwritable place). */
#define GRAD_NORMS_MAX_GROUPS 64
GradNorms *grad_norms_open(const Module *model, const char *picture);
/* A resumed run: keeps the existing CSV's rows up to step last. */
int grad_norms_resume(GradNorms *g, int64_t last);
/* Appends "step,norm0,norm1,..." for the gradients now in the parameters. */
int grad_norms_record(GradNorms *g, int64_t step);
/* Writes the CSV now (before a checkpoint is saved). */
int grad_norms_sync(GradNorms *g);
/* Writes the CSV and, when draw, the picture; frees g either way (NULL is
 * fine). */
int grad_norms_close(GradNorms *g, bool draw);

#endif /* ATTOGRAD_GRAD_NORMS_H */
