/*
 * The gradcheck table: every differentiable op gets rows here, checked by
 * central differences (tensor_gradcheck) in tests/test_gradcheck.c.
 * Each family has its own rows file, tests/gradcheck_<family>.c, exporting
 * `const GradcheckRow gradcheck_<family>[]` ended by a row with name NULL.
 *
 * Input shapes are strings: "3,4" a contiguous (3,4) tensor; "" a 0-d
 * scalar; a trailing "T" ("4,3T") makes the input non-contiguous: it is
 * built as (3,4) and transposed (last two dims), then detached into a leaf,
 * so the op reads it through strides.  "3,4S" is a non-contiguous slice:
 * built as (3,8) and narrowed to columns 2..5 of the last dim (a view with
 * an offset and a row stride of 8).
 */
#ifndef ATTOGRAD_GRADCHECK_H
#define ATTOGRAD_GRADCHECK_H

#include "attograd.h"
#include "internal.h"

typedef struct {
    const char *name;            /* "add broadcast (3,1)+(1,4)" */
    TensorOp op;                 /* the op this row covers */
    int n;                       /* number of inputs */
    const char *shapes[4];
    TensorFn fn;                 /* builds the output from the inputs */
    float lo, hi;                /* inputs drawn uniform in [lo, hi); 0,0: [-1, 1) */
    double eps, atol, rtol;      /* 0: defaults 1e-2, 1e-3, 1e-2 */
    bool no_grad[4];             /* inputs that must not require grad (masks, indices) */
} GradcheckRow;

/* A row's function from one expression of its inputs x[0], x[1], ...:
 * FN(add_fn, tensor_add(x[0], x[1])) */
#define FN(name, expr)                               \
    static Tensor *name(Tensor *const *x, void *ctx) \
    {                                                \
        (void)ctx;                                   \
        return (expr);                               \
    }

extern const GradcheckRow gradcheck_elementwise[];
extern const GradcheckRow gradcheck_reduce[];
extern const GradcheckRow gradcheck_matmul[];
extern const GradcheckRow gradcheck_softmax[];
extern const GradcheckRow gradcheck_shape[];
extern const GradcheckRow gradcheck_loss[];
extern const GradcheckRow gradcheck_random[];

#endif /* ATTOGRAD_GRADCHECK_H */
