/*
 * Gradcheck rows for tensor/ops/sort.c (see tests/gradcheck.h): topk's
 * values along the last dim, from contiguous, transposed and sliced inputs,
 * with k from 1 to the whole row, and both of its paths (partial_sort when
 * 64 k <= size, nth_element and sort otherwise).
 *
 * topk is linear where the order does not change, so central differences
 * are exact up to float32 rounding of L; eps is 1e-3, so that a nudge
 * reorders nothing unless two inputs lie within 2e-3 of each other, which
 * the rows' draws (fixed by each row's name) do not.
 */
#include "gradcheck.h"

FN(f_top2, tensor_topk(x[0], 2, NULL))
FN(f_top1, tensor_topk(x[0], 1, NULL))
FN(f_top_all, tensor_topk(x[0], 4, NULL))
FN(f_top3_wide, tensor_topk(x[0], 3, NULL))

#define ROW(name_, shape_, fn_)                                                          \
    {.name = name_, .op = OP_TOPK, .n = 1, .shapes = {shape_}, .fn = fn_, .eps = 1e-3}

const GradcheckRow gradcheck_sort[] = {
    ROW("topk k 2 (3,6)", "3,6", f_top2),
    ROW("topk k 2 (4,3)T", "4,3T", f_top2),
    ROW("topk k 2 (2,3,4)S", "2,3,4S", f_top2),
    ROW("topk k 1 (5)", "5", f_top1),
    ROW("topk k = size (2,4)", "2,4", f_top_all),
    ROW("topk k 3 of 200, partial_sort (2,200)", "2,200", f_top3_wide),
    {0},
};
