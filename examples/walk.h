/*
 * Printing a gradient beside its central difference, for the walk-through
 * programs (backprop_attention, backprop_block).
 *
 * Gradients print as fixed-point columns with 4 decimals, scaled by a power
 * of ten to their largest element (shown as "x 1e-3") when that is below 0.1
 * or above 100.  Every digit shown is one float32 gets right: PyTorch's
 * printer would switch small gradients to scientific notation, showing
 * digits of tiny elements that float32 rounding has already changed.
 *
 * "Agree to the printed precision" means every pair differs by at most one
 * unit of the last digit shown: a smaller difference can still round to a
 * different last digit.
 */
#ifndef ATTOGRAD_WALK_H
#define ATTOGRAD_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include "attograd.h"

/* The flags both programs take: --seed N (torch.manual_seed, default 123,
 * the book's), --summary (one line per gradient), --dump (every tensor in
 * the fixture format, for tests). */
typedef struct {
    uint64_t seed;
    bool summary, dump;
} WalkFlags;
#define WALK_FLAGS_DEFAULT ((WalkFlags){.seed = 123})
/* When argv[*i] is one of them, reads it (and --seed's value, advancing *i)
 * into f and returns 1; 0 for another flag; -1 after a message on stderr. */
int walk_flag(const char *prog, int argc, char **argv, int *i, WalkFlags *f);

/* max |a - b| over the elements; b NULL: max |a|.  Both contiguous, same numel. */
double walk_max_abs_diff(const Tensor *a, const Tensor *b);

/* t as rows of its last dim, contiguous: (n) -> (1, n), (2, 3, 3) -> (6, 3).
 * NULL in, NULL out. */
Tensor *walk_rows(const Tensor *t);

/* t's PyTorch text, each line indented by 4 spaces. */
void walk_show(const Tensor *t);

/* A gradient as autograd gives it and its central difference. */
typedef struct {
    Tensor *autograd, *numeric;    /* 2-d, contiguous, the same shape */
    bool same_digits;              /* both print the same digits */
    bool agree;                    /* within one unit of the last printed digit */
    double diff;                   /* max |autograd - numeric| */
} WalkCheck;

/* Fills c from autograd's gradient (any layout; viewed as rows of its last
 * dim) and the numeric one (contiguous, the same numel).  0, or -1 when a
 * tensor is NULL or cannot be made 2-d (tensor_error() says why). */
int walk_check(const Tensor *autograd, Tensor *numeric, WalkCheck *c);

/* "agree: the same digits", "agree within the last printed digit" or "DISAGREE". */
const char *walk_verdict(const WalkCheck *c);

/* Both gradients of c side by side, or one above the other when two rows
 * would not fit in 80 columns; more than 8 columns print 8 at a time. */
void walk_show_pair(const WalkCheck *c);

/* The L2 norm of t's elements (contiguous). */
double walk_norm(const Tensor *t);

/* t in the fixture format of tests/reference: "@<prefix><name> d0 d1", then
 * its values, 8 to a line, %.9g. */
void walk_dump(const char *prefix, const char *name, const Tensor *t);

#endif /* ATTOGRAD_WALK_H */
