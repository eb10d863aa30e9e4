/*
 * Gradcheck rows for tensor/ops/shape.c, the views (see tests/gradcheck.h).
 *
 * Each op gets contiguous rows and rows whose input is itself a view
 * ("4,3T" transposed, "3,4S" a slice with an offset), so the backward must
 * land the gradient in the input's logical layout whatever its strides.
 * 3-d and 4-d rows follow the multi-head attention reshapes of the book's
 * chapter 3: (b, T, d) -> view (b, T, h, hd) -> transpose(1, 2) and back
 * through contiguous and view.
 *
 * The ops are linear, so central differences are exact up to float32
 * rounding of L (about 1e-7 * |L| / eps with eps 1e-2): far inside the
 * default atol 1e-3 + rtol 1e-2.
 */
#include "gradcheck.h"

FN(f_t, tensor_t(x[0]))
FN(f_transpose_12, tensor_transpose(x[0], 1, 2))
FN(f_transpose_neg, tensor_transpose(x[0], -1, -2))
FN(f_transpose_01, tensor_transpose(x[0], 0, 1))
FN(f_permute_201, tensor_permute(x[0], IDX(2, 0, 1)))
FN(f_permute_4d, tensor_permute(x[0], IDX(3, 1, 0, 2)))
FN(f_permute_10, tensor_permute(x[0], IDX(-1, 0)))
FN(f_view_2_6, tensor_view(x[0], SHAPE(2, 6)))
FN(f_view_split_last, tensor_view(x[0], SHAPE(3, 2, 2)))
FN(f_view_heads_t, tensor_view(x[0], SHAPE(2, 3, 2, 2)))
FN(f_view_0d, tensor_view(x[0], SHAPE(1, 1)))
/* (b, T, d) -> (b, T, h, hd) -> (b, h, T, hd): the heads, as the book splits them */
FN(f_split_heads, tensor_transpose(tensor_view(x[0], SHAPE(2, 6, 2, 2)), 1, 2))
/* (b, h, T, hd) -> (b, T, h, hd) -> contiguous -> (b, T, d): the heads merged back */
FN(f_merge_heads,
   tensor_view(tensor_contiguous(tensor_transpose(x[0], 1, 2)), SHAPE(2, 6, 4)))
FN(f_split_merge,
   tensor_view(tensor_contiguous(tensor_transpose(tensor_view(x[0], SHAPE(2, 6, 2, 2)), 1, 2)),
               SHAPE(2, 2, 12)))
FN(f_reshape_12, tensor_reshape(x[0], SHAPE(12)))
FN(f_reshape_2_6, tensor_reshape(x[0], SHAPE(2, 6)))
FN(f_reshape_infer, tensor_reshape(x[0], SHAPE(4, -1)))
FN(f_flatten, tensor_flatten(x[0]))
FN(f_narrow_cols, tensor_narrow(x[0], 1, 1, 2))
FN(f_narrow_neg, tensor_narrow(x[0], 0, -3, 2))
FN(f_narrow_batch, tensor_narrow(x[0], 0, 1, 1))
FN(f_narrow_3, tensor_narrow(x[0], 1, 0, 3))
FN(f_unsqueeze_0, tensor_unsqueeze(x[0], 0))
FN(f_unsqueeze_1, tensor_unsqueeze(x[0], 1))
FN(f_unsqueeze_neg, tensor_unsqueeze(x[0], -1))
FN(f_squeeze_0, tensor_squeeze(x[0], 0))
FN(f_squeeze_1, tensor_squeeze(x[0], 1))
FN(f_squeeze_neg, tensor_squeeze(x[0], -1))
FN(f_expand_col, tensor_expand(x[0], SHAPE(2, 3, 4)))
FN(f_expand_keep, tensor_expand(x[0], SHAPE(3, -1)))
FN(f_expand_0d, tensor_expand(x[0], SHAPE(2, 3)))
FN(f_expand_lead, tensor_expand(x[0], SHAPE(2, 4, 3)))
FN(f_expand_sliced, tensor_expand(x[0], SHAPE(2, 3, 5)))
FN(f_contiguous, tensor_contiguous(x[0]))

FN(f_squeeze_all, tensor_squeeze_all(x[0]))

#define ROW(name, op, n, fn, ...) {name, OP_##op, n, {__VA_ARGS__}, fn, 0, 0, 0, 0, 0, {0}}

const GradcheckRow gradcheck_shape[] = {
    ROW("t (3,4)", TRANSPOSE, 1, f_t, "3,4"),
    ROW("t (4,3T)", TRANSPOSE, 1, f_t, "4,3T"),
    ROW("t 1-d (5)", TRANSPOSE, 1, f_t, "5"),
    ROW("t 0-d", TRANSPOSE, 1, f_t, ""),
    ROW("transpose(1,2) (2,3,4)", TRANSPOSE, 1, f_transpose_12, "2,3,4"),
    ROW("transpose(-1,-2) (2,4,3T)", TRANSPOSE, 1, f_transpose_neg, "2,4,3T"),
    ROW("transpose(0,1) (3,4S)", TRANSPOSE, 1, f_transpose_01, "3,4S"),
    ROW("permute(2,0,1) (2,3,4)", PERMUTE, 1, f_permute_201, "2,3,4"),
    ROW("permute(2,0,1) (2,3,4T)", PERMUTE, 1, f_permute_201, "2,3,4T"),
    ROW("permute(3,1,0,2) (2,3,4,2)", PERMUTE, 1, f_permute_4d, "2,3,4,2"),
    ROW("permute(-1,0) (3,4S)", PERMUTE, 1, f_permute_10, "3,4S"),
    ROW("view (3,4)->(2,6)", VIEW, 1, f_view_2_6, "3,4"),
    ROW("view (3,4S)->(3,2,2)", VIEW, 1, f_view_split_last, "3,4S"),
    ROW("view (2,3,4T)->(2,3,2,2)", VIEW, 1, f_view_heads_t, "2,3,4T"),
    ROW("view 0-d->(1,1)", VIEW, 1, f_view_0d, ""),
    ROW("split heads (2,6,4)->(2,2,6,2)", TRANSPOSE, 1, f_split_heads, "2,6,4"),
    ROW("merge heads (2,2,6,2)->(2,6,4)", VIEW, 1, f_merge_heads, "2,2,6,2"),
    ROW("split, contiguous, view (2,6,4)->(2,2,12)", VIEW, 1, f_split_merge, "2,6,4"),
    ROW("reshape copies (4,3T)->(12)", VIEW, 1, f_reshape_12, "4,3T"),
    ROW("reshape copies (3,4S)->(2,6)", VIEW, 1, f_reshape_2_6, "3,4S"),
    ROW("reshape views (2,3,4)->(4,-1)", VIEW, 1, f_reshape_infer, "2,3,4"),
    ROW("flatten (2,3,4)", VIEW, 1, f_flatten, "2,3,4"),
    ROW("flatten (4,3T)", VIEW, 1, f_flatten, "4,3T"),
    ROW("flatten 0-d", VIEW, 1, f_flatten, ""),
    ROW("narrow(1,1,2) (3,4)", NARROW, 1, f_narrow_cols, "3,4"),
    ROW("narrow(0,-3,2) (4,3T)", NARROW, 1, f_narrow_neg, "4,3T"),
    ROW("narrow(0,1,1) (2,3,4)", NARROW, 1, f_narrow_batch, "2,3,4"),
    ROW("narrow(1,0,3) (3,4S)", NARROW, 1, f_narrow_3, "3,4S"),
    ROW("unsqueeze(0) (3,4)", UNSQUEEZE, 1, f_unsqueeze_0, "3,4"),
    ROW("unsqueeze(1) (4,3T)", UNSQUEEZE, 1, f_unsqueeze_1, "4,3T"),
    ROW("unsqueeze(-1) (3,4S)", UNSQUEEZE, 1, f_unsqueeze_neg, "3,4S"),
    ROW("unsqueeze(0) 0-d", UNSQUEEZE, 1, f_unsqueeze_0, ""),
    ROW("squeeze(1) (3,1,4)", SQUEEZE, 1, f_squeeze_1, "3,1,4"),
    ROW("squeeze(0) no-op (3,4)", SQUEEZE, 1, f_squeeze_0, "3,4"),
    ROW("squeeze(0) (1,4,3T)", SQUEEZE, 1, f_squeeze_0, "1,4,3T"),
    ROW("squeeze(-1) (4,1S)", SQUEEZE, 1, f_squeeze_neg, "4,1S"),
    ROW("squeeze() (1,3,1,4)", SQUEEZE_ALL, 1, f_squeeze_all, "1,3,1,4"),
    ROW("squeeze() (1,4,3T)", SQUEEZE_ALL, 1, f_squeeze_all, "1,4,3T"),
    ROW("squeeze() (1,1)", SQUEEZE_ALL, 1, f_squeeze_all, "1,1"),
    ROW("expand (3,1)->(2,3,4)", EXPAND, 1, f_expand_col, "3,1"),
    ROW("expand (4)->(3,-1)", EXPAND, 1, f_expand_keep, "4"),
    ROW("expand 0-d->(2,3)", EXPAND, 1, f_expand_0d, ""),
    ROW("expand (4,3T)->(2,4,3)", EXPAND, 1, f_expand_lead, "4,3T"),
    ROW("expand (3,1S)->(2,3,5)", EXPAND, 1, f_expand_sliced, "3,1S"),
    ROW("contiguous (4,3T)", CLONE, 1, f_contiguous, "4,3T"),
    ROW("contiguous (3,4S)", CLONE, 1, f_contiguous, "3,4S"),
    {0},
};
