/*
 * train_gpt --grad-norms: each layer's gradient L2 norm at every step, so a
 * reader sees gradients vanish or explode.  The layers of a GPTModel are
 * the top-level groups of its parameter names: tok_emb, pos_emb, each
 * trf_blocks.i, final_norm, out_head; a group's norm is
 * sqrt(sum over its parameters of sum(grad^2)), taken after backward and
 * before the optimizer's step (in double).
 *
 * The rows go to a CSV beside the picture (FILE.png -> FILE.csv), written
 * under a temporary name and renamed when the run ends; the picture, one
 * log-scale curve per layer against the step, goes through plot.c's path.
 *
 *     GradNorms *g = grad_norms_open(model, "norms.png", why, sizeof why);
 *     ... each step, after tensor_backward:  grad_norms_record(g, step);
 *     grad_norms_close(g, true, why, sizeof why);   CSV renamed, picture drawn
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
/* Groups model's parameters and opens the CSV's temporary file: NULL and why
 * on failure (more than GRAD_NORMS_MAX_GROUPS layers, an unwritable place). */
#define GRAD_NORMS_MAX_GROUPS 64
GradNorms *grad_norms_open(const Module *model, const char *picture, char *why, size_t n);
/* Appends "step,norm0,norm1,..." for the gradients now in the parameters. */
int grad_norms_record(GradNorms *g, int64_t step);
/* finish: close the CSV, rename it onto its path and draw the picture
 * (0; 1 without gnuplot; -1 with why); else remove the temporary file.
 * Frees g either way (NULL is fine). */
int grad_norms_close(GradNorms *g, bool finish, char *why, size_t n);

#endif /* ATTOGRAD_GRAD_NORMS_H */
