/*
 * Gradcheck rows for tensor/ops/select.c (see tests/gradcheck.h): where with
 * a fixed condition (broadcast from a column, a row, a scalar), maximum and
 * minimum of contiguous, strided and broadcast operands.  Inputs are drawn
 * independently, so an exact tie has probability 0; but a difference of
 * +-eps crosses the kink whenever two operands lie within eps (with eps 1e-2
 * and 12 pairs from [-1, 1), about one draw in nine).  Maximum and minimum
 * rows take eps 1e-4 (a crossing then has odds near 1 in 1,000): the ops are
 * piecewise linear, so the differences are exact up to float32 rounding,
 * about 1e-7 / 1e-4 = 1e-3 of a unit gradient, inside rtol 1e-2.
 */
#include "gradcheck.h"

static Tensor *pattern(int64_t rows, int64_t cols)
{
    Tensor *c = tensor_zeros(SHAPE(rows, cols));
    for (int64_t i = 0; i < c->numel; i++) c->data[i] = (float)((i * 7 + 3) % 3 == 0);
    return c;
}

FN(f_where, tensor_where(pattern(3, 4), x[0], x[1]))
FN(f_where_col, tensor_where(pattern(3, 1), x[0], x[1]))
FN(f_where_scalar_b, tensor_where(pattern(1, 4), x[0], tensor_scalar(0.5f)))
FN(f_maximum, tensor_maximum(x[0], x[1]))
FN(f_minimum, tensor_minimum(x[0], x[1]))

#define ROW2(label, OPID, f, s0, s1) {label, OPID, 2, {s0, s1}, f, 0, 0, 0, 0, 0, {0}}
#define EXT_ROW(label, OPID, f, s0, s1) {label, OPID, 2, {s0, s1}, f, 0, 0, 1e-4, 0, 0, {0}}

const GradcheckRow gradcheck_select[] = {
    ROW2("where (3,4) (3,4)", OP_WHERE, f_where, "3,4", "3,4"),
    ROW2("where strided (3,4)T (3,4)S", OP_WHERE, f_where, "3,4T", "3,4S"),
    ROW2("where broadcast cond (3,1), (3,4) (4)", OP_WHERE, f_where_col, "3,4", "4"),
    {"where broadcast cond (1,4), (3,1) ()", OP_WHERE, 1, {"3,1"}, f_where_scalar_b, 0, 0, 0, 0, 0,
     {0}},
    EXT_ROW("maximum (3,4) (3,4)", OP_MAXIMUM, f_maximum, "3,4", "3,4"),
    EXT_ROW("maximum strided (4,3)T (4,3)S", OP_MAXIMUM, f_maximum, "4,3T", "4,3S"),
    EXT_ROW("maximum broadcast (3,1) (1,4)", OP_MAXIMUM, f_maximum, "3,1", "1,4"),
    EXT_ROW("maximum broadcast () (2,3)", OP_MAXIMUM, f_maximum, "", "2,3"),
    EXT_ROW("minimum (3,4) (3,4)", OP_MINIMUM, f_minimum, "3,4", "3,4"),
    EXT_ROW("minimum strided (4,3)T (4,3)S", OP_MINIMUM, f_minimum, "4,3T", "4,3S"),
    EXT_ROW("minimum broadcast (2,3,4) (4)", OP_MINIMUM, f_minimum, "2,3,4", "4"),
    {0},
};
