/*
 * The gradcheck table: every differentiable op gets rows here, checked by
 * central differences (tensor_gradcheck) in tests/test_gradcheck.c.
 * Each op family of tensor/core/ops.def has its own rows file,
 * tests/gradcheck_<family>.c, exporting `const GradcheckRow
 * gradcheck_<family>[]` ended by a row with name NULL (the build and
 * test_gradcheck.c find them through ops.def).
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
#include "core/tensor_internal.h"

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

/* One rows array per op family, the families read from tensor/core/ops.def. */
#define FAMILY(f) extern const GradcheckRow gradcheck_##f[];
#define OP(id, name, backward)
#include "core/ops.def"
#undef OP
#undef FAMILY

/* Rows of one input, or of an input and a mask (masked_fill), for the
 * softmax and mask families: */
#define SOFTMAX_ROW(name_, op_, shape_, fn_, lo_, hi_) \
    {.name = name_, .op = op_, .n = 1, .shapes = {shape_}, .fn = fn_, .lo = lo_, .hi = hi_}
#define MASK_ROW(name_, op_, shape_, mask_, fn_, lo_, hi_)                              \
    {.name = name_, .op = op_, .n = 2, .shapes = {shape_, mask_}, .fn = fn_, .lo = lo_, \
     .hi = hi_, .no_grad = {false, true}}

#endif /* ATTOGRAD_GRADCHECK_H */
