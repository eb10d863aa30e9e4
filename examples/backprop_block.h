/*
 * backprop_block's two files (examples/backprop_block.c, the walk;
 * examples/backprop_block_check.c, the checks that do not trust the
 * library): the block's sizes, its tensors, and the checks' calls.
 */
#ifndef BACKPROP_BLOCK_H
#define BACKPROP_BLOCK_H

#include "attograd.h"

enum { T = 3, E = 4, HEADS = 2, HD = E / HEADS, HID = 4 * E, MAX_ELEMS = HID * E };
static const double LN_EPS = 1e-5;

/* Every tensor of the walk: the leaves (the input and the block's
 * parameters, under their state_dict names), then the forward's
 * intermediates in the order it makes them. */
typedef enum {
    X, WQ, WK, WV, WO, BO, W1, B1, W2, B2, SCALE1, SHIFT1, SCALE2, SHIFT2,
    NORM1, QUERIES, KEYS, VALUES, WEIGHTS, CONTEXT, ATT, H, NORM2, HIDDEN, GELU, FF, OUT,
    N_STAGES, FIRST_INTERMEDIATE = NORM1
} Stage;

typedef struct {
    Module *block;
    Tensor *mask;                 /* the block's att.mask buffer */
    Tensor *target;
    Tensor *t[N_STAGES];
    Tensor *loss;
    double block_diff;            /* max |out - nn_forward(block, x)| */
} Walk;

/* d loss / d stage, element by element, from the same forward written in
 * double precision with plain loops: (L(v + h) - L(v - h)) / 2h. */
Tensor *central_difference(const Walk *w, Stage s);
/* LayerNorm's backward (one row at a time) and gelu'(u) * dy, in double:
 * the printed formulas evaluated by hand. */
Tensor *layer_norm_dx(const Tensor *x, const Tensor *dy, const Tensor *scale);
Tensor *gelu_dx(const Tensor *u, const Tensor *dy);

#endif /* BACKPROP_BLOCK_H */
