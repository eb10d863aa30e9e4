/*
 * Shape ops (tensor/ops/shape.c, tensor/ops/join.c): values, strides, offsets,
 * grad_fn names and gradients against PyTorch fixtures
 * (tests/reference/gen_shape.py), storage sharing, and every error message.
 *
 * Tolerance: none.  The inputs are small whole numbers, the ops only move
 * them, and the gradients are sums of a few small whole numbers: every value
 * is exact in float32, so results must equal PyTorch's bit for bit.
 */
#include "testutil.h"

#define FIXTURES "shape.txt"

static Tensor *index_of(int n, const float *v) { return tensor_from_data(v, 1, (int64_t[]){n}); }
#define INDEX(...) index_of(sizeof((float[]){__VA_ARGS__}) / sizeof(float), (float[]){__VA_ARGS__})

/* ---- the fixture cases: the same calls as gen_shape.py's CASES ---------- */

static Tensor *t_of(Tensor **x) { return tensor_t(x[0]); }
static Tensor *transpose3d(Tensor **x) { return tensor_transpose(x[0], 0, 2); }
static Tensor *transpose_neg(Tensor **x) { return tensor_transpose(x[0], -1, -2); }
static Tensor *permute3d(Tensor **x) { return tensor_permute(x[0], IDX(2, 0, 1)); }
static Tensor *permute4d_neg(Tensor **x) { return tensor_permute(x[0], IDX(-4, 2, -1, 1)); }
static Tensor *permute_t(Tensor **x) { return tensor_permute(tensor_t(x[0]), IDX(1, 0)); }
static Tensor *view_split(Tensor **x) { return tensor_view(x[0], SHAPE(2, -1, 2)); }
static Tensor *view_0d(Tensor **x) { return tensor_view(x[0], SHAPE(1, 1)); }
static Tensor *view_to_0d(Tensor **x) { return tensor_view(x[0], 0, NULL); }
static Tensor *narrow_1_1_4(Tensor *x) { return tensor_narrow(x, 1, 1, 4); }
static Tensor *view_narrowed(Tensor **x) { return tensor_view(narrow_1_1_4(x[0]), SHAPE(4, 2, 2)); }
static Tensor *view_narrowed_rows(Tensor **x)
{
    return tensor_view(narrow_1_1_4(x[0]), SHAPE(2, 2, 4));
}
static Tensor *view_permuted(Tensor **x)
{
    return tensor_view(tensor_permute(x[0], IDX(1, 0, 2)), SHAPE(3, 2, 2, 2));
}
static Tensor *view_transposed_unit(Tensor **x)
{
    return tensor_view(tensor_t(x[0]), SHAPE(4, 1, 3));
}
static Tensor *view_heads(Tensor **x)
{
    return tensor_transpose(tensor_view(x[0], SHAPE(2, 6, 2, 2)), 1, 2);
}
static Tensor *view_heads_back(Tensor **x)
{
    return tensor_view(tensor_contiguous(tensor_transpose(x[0], 1, 2)), SHAPE(2, 6, 4));
}
static Tensor *reshape_view(Tensor **x)
{
    return tensor_reshape(narrow_1_1_4(x[0]), SHAPE(2, 2, 4));
}
static Tensor *reshape_copy(Tensor **x) { return tensor_reshape(tensor_t(x[0]), SHAPE(2, 6)); }
static Tensor *reshape_heads(Tensor **x)
{
    return tensor_reshape(tensor_transpose(x[0], 1, 2), SHAPE(2, 6, -1));
}
static Tensor *flatten(Tensor **x) { return tensor_flatten(x[0]); }
static Tensor *flatten_t(Tensor **x) { return tensor_flatten(tensor_t(x[0])); }
static Tensor *narrow_last(Tensor **x) { return tensor_narrow(x[0], 2, 1, 2); }
static Tensor *narrow_neg(Tensor **x) { return tensor_narrow(x[0], 1, -2, 2); }
static Tensor *narrow_t(Tensor **x) { return tensor_narrow(tensor_t(x[0]), 0, 1, 2); }
static Tensor *narrow_empty(Tensor **x) { return tensor_narrow(x[0], 1, 4, 0); }
static Tensor *unsqueeze0(Tensor **x) { return tensor_unsqueeze(x[0], 0); }
static Tensor *unsqueeze1(Tensor **x) { return tensor_unsqueeze(x[0], 1); }
static Tensor *unsqueeze_end(Tensor **x) { return tensor_unsqueeze(x[0], 2); }
static Tensor *unsqueeze_neg(Tensor **x) { return tensor_unsqueeze(x[0], -3); }
static Tensor *unsqueeze_t(Tensor **x) { return tensor_unsqueeze(tensor_t(x[0]), 1); }
static Tensor *squeeze1(Tensor **x) { return tensor_squeeze(x[0], 1); }
static Tensor *squeeze0(Tensor **x) { return tensor_squeeze(x[0], 0); }
static Tensor *squeeze_neg(Tensor **x) { return tensor_squeeze(x[0], -1); }
static Tensor *expand_col(Tensor **x) { return tensor_expand(x[0], SHAPE(2, 3, 4)); }
static Tensor *expand_keep(Tensor **x) { return tensor_expand(x[0], SHAPE(3, -1)); }
static Tensor *expand_0d(Tensor **x) { return tensor_expand(x[0], SHAPE(2, 3)); }
static Tensor *expand_narrowed(Tensor **x)
{
    return tensor_expand(tensor_narrow(x[0], 1, 1, 1), SHAPE(3, 5));
}
static Tensor *expand_same(Tensor **x) { return tensor_expand(x[0], SHAPE(3, 4)); }
static Tensor *expand_unit(Tensor **x) { return tensor_expand(x[0], SHAPE(1, 1, 3, 4)); }
static Tensor *contiguous_t(Tensor **x) { return tensor_contiguous(tensor_t(x[0])); }
static Tensor *cat0(Tensor **x) { return tensor_cat(2, x, 0); }
static Tensor *cat1(Tensor **x) { return tensor_cat(3, x, 1); }
static Tensor *cat_neg_t(Tensor **x)
{
    return tensor_cat(2, (Tensor *[]){x[0], tensor_t(x[1])}, -1);
}
static Tensor *cat_one(Tensor **x) { return tensor_cat(1, x, 0); }
static Tensor *stack0(Tensor **x) { return tensor_stack(2, x, 0); }
static Tensor *stack1_three(Tensor **x) { return tensor_stack(3, x, 1); }
static Tensor *stack_end(Tensor **x) { return tensor_stack(2, x, 2); }
static Tensor *stack_neg_t(Tensor **x)
{
    return tensor_stack(2, (Tensor *[]){x[0], tensor_t(x[1])}, -1);
}
static Tensor *index_select0(Tensor **x) { return tensor_index_select(x[0], 0, INDEX(2, 0, 2)); }
static Tensor *index_select1_t(Tensor **x)
{
    return tensor_index_select(tensor_t(x[0]), 1, INDEX(1, 1, 0, 2));
}
static Tensor *index_select_neg(Tensor **x) { return tensor_index_select(x[0], -1, INDEX(3, 0)); }
static Tensor *embedding(Tensor **x)
{
    Tensor *idx = tensor_from_data((const float[]){1, 4, 1, 0, 2, 1}, SHAPE(2, 3));
    return tensor_embedding(x[0], idx);
}
static Tensor *embedding_t(Tensor **x)
{
    return tensor_embedding(tensor_t(x[0]), INDEX(4, 0, 4, 4));
}

typedef struct {
    const char *name;
    const char *leaves[3];          /* shapes: "2,3"; "" a 0-d leaf */
    Tensor *(*fn)(Tensor **leaves);
    const char *grad_fn;            /* what torch 1.13 prints (asserted by the generator) */
} Case;

static const Case cases[] = {
    {"t2d", {"2,3"}, t_of, "TBackward0"},
    {"t1d", {"4"}, t_of, "TBackward0"},
    {"t0d", {""}, t_of, "TBackward0"},
    {"transpose3d", {"2,3,4"}, transpose3d, "TransposeBackward0"},
    {"transpose_neg", {"2,3,4"}, transpose_neg, "TransposeBackward0"},
    {"permute3d", {"2,3,4"}, permute3d, "PermuteBackward0"},
    {"permute4d_neg", {"2,3,4,5"}, permute4d_neg, "PermuteBackward0"},
    {"permute_t", {"3,4"}, permute_t, "PermuteBackward0"},
    {"view_split", {"3,4"}, view_split, "ViewBackward0"},
    {"view_0d", {""}, view_0d, "ViewBackward0"},
    {"view_to_0d", {"1,1"}, view_to_0d, "ViewBackward0"},
    {"view_narrowed", {"4,6"}, view_narrowed, "ViewBackward0"},
    {"view_narrowed_rows", {"4,6"}, view_narrowed_rows, "ViewBackward0"},
    {"view_permuted", {"2,3,4"}, view_permuted, "ViewBackward0"},
    {"view_transposed_unit", {"3,4"}, view_transposed_unit, "ViewBackward0"},
    {"view_heads", {"2,6,4"}, view_heads, "TransposeBackward0"},
    {"view_heads_back", {"2,2,6,2"}, view_heads_back, "ViewBackward0"},
    {"reshape_view", {"4,6"}, reshape_view, "ReshapeAliasBackward0"},
    {"reshape_copy", {"3,4"}, reshape_copy, "UnsafeViewBackward0"},
    {"reshape_heads", {"2,2,6,2"}, reshape_heads, "UnsafeViewBackward0"},
    {"flatten3d", {"2,3,4"}, flatten, "ReshapeAliasBackward0"},
    {"flatten_t", {"3,4"}, flatten_t, "UnsafeViewBackward0"},
    {"flatten_0d", {""}, flatten, "ReshapeAliasBackward0"},
    {"narrow_last", {"2,3,4"}, narrow_last, "SliceBackward0"},
    {"narrow_neg", {"2,3,4"}, narrow_neg, "SliceBackward0"},
    {"narrow_t", {"3,4"}, narrow_t, "SliceBackward0"},
    {"narrow_empty", {"3,4"}, narrow_empty, "SliceBackward0"},
    {"unsqueeze0", {"3,4"}, unsqueeze0, "UnsqueezeBackward0"},
    {"unsqueeze1", {"3,4"}, unsqueeze1, "UnsqueezeBackward0"},
    {"unsqueeze_end", {"3,4"}, unsqueeze_end, "UnsqueezeBackward0"},
    {"unsqueeze_neg", {"3,4"}, unsqueeze_neg, "UnsqueezeBackward0"},
    {"unsqueeze_t", {"3,4"}, unsqueeze_t, "UnsqueezeBackward0"},
    {"unsqueeze_0d", {""}, unsqueeze0, "UnsqueezeBackward0"},
    {"squeeze1", {"3,1,4"}, squeeze1, "SqueezeBackward1"},
    {"squeeze_noop", {"3,1,4"}, squeeze0, "SqueezeBackward1"},
    {"squeeze_neg", {"3,4,1"}, squeeze_neg, "SqueezeBackward1"},
    {"squeeze_0d", {""}, squeeze0, "SqueezeBackward1"},
    {"expand_col", {"3,1"}, expand_col, "ExpandBackward0"},
    {"expand_keep", {"4"}, expand_keep, "ExpandBackward0"},
    {"expand_0d", {""}, expand_0d, "ExpandBackward0"},
    {"expand_narrowed", {"3,4"}, expand_narrowed, "ExpandBackward0"},
    {"expand_same", {"3,4"}, expand_same, "ExpandBackward0"},
    {"expand_unit", {"1,4"}, expand_unit, "ExpandBackward0"},
    {"contiguous_t", {"3,4"}, contiguous_t, "CloneBackward0"},
    {"cat0", {"2,3", "1,3"}, cat0, "CatBackward0"},
    {"cat1_three", {"2,1", "2,3", "2,2"}, cat1, "CatBackward0"},
    {"cat_neg_t", {"3,2", "4,3"}, cat_neg_t, "CatBackward0"},
    {"cat3d_mid", {"2,1,4", "2,2,4", "2,3,4"}, cat1, "CatBackward0"},
    {"cat_one", {"2,3"}, cat_one, "CatBackward0"},
    {"stack0", {"2,3", "2,3"}, stack0, "StackBackward0"},
    {"stack1_three", {"2,3", "2,3", "2,3"}, stack1_three, "StackBackward0"},
    {"stack_end", {"2,3", "2,3"}, stack_end, "StackBackward0"},
    {"stack_neg_t", {"2,3", "3,2"}, stack_neg_t, "StackBackward0"},
    {"stack_0d", {"", ""}, stack0, "StackBackward0"},
    {"index_select0", {"4,3"}, index_select0, "IndexSelectBackward0"},
    {"index_select1_t", {"3,4"}, index_select1_t, "IndexSelectBackward0"},
    {"index_select_neg", {"2,3,4"}, index_select_neg, "IndexSelectBackward0"},
    {"embedding", {"5,3"}, embedding, "EmbeddingBackward0"},
    {"embedding_t", {"3,5"}, embedding_t, "EmbeddingBackward0"},
};
enum { N_CASES = sizeof cases / sizeof cases[0] };

/* Leaf i of the given shape: 100 * i + arange(numel), as gen_shape.py's leaf(). */
static Tensor *leaf(int i, const char *spec)
{
    int64_t shape[TENSOR_MAX_DIMS];
    int ndim = 0;
    for (const char *p = spec; *p;) {
        char *end;
        shape[ndim++] = strtoll(p, &end, 10);
        p = *end == ',' ? end + 1 : end;
    }
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    Tensor *flat = tensor_arange(100.0f * i, 100.0f * i + (float)n, 1);
    return tensor_requires_grad_(tensor_view(flat, ndim, shape), true);
}

static Tensor *name_fixture(const char *name, const char *suffix)
{
    char full[128];
    snprintf(full, sizeof full, "%s%s", name, suffix);
    return testutil_fixture(FIXTURES, full);
}

START_TEST(test_case_matches_torch)
{
    const Case *c = &cases[_i];
    Tensor *x[3] = {0};
    int n = 0;
    while (n < 3 && c->leaves[n]) {
        x[n] = leaf(n, c->leaves[n]);
        n++;
    }
    Tensor *out = c->fn(x);
    ck_assert_msg(out != NULL, "%s: %s", c->name, tensor_error());
    ck_assert_tensor_close(out, name_fixture(c->name, ""), 0, 0);
    ck_assert_str_eq(tensor_grad_fn_name(out), c->grad_fn);

    Tensor *stride = name_fixture(c->name, "_stride");
    ck_assert_int_eq(stride->numel, out->ndim);
    for (int d = 0; d < out->ndim; d++)
        ck_assert_msg(out->stride[d] == (int64_t)stride->data[d], "%s: stride %d is %lld, torch %g",
                      c->name, d, (long long)out->stride[d], (double)stride->data[d]);
    ck_assert_int_eq(out->offset, (int64_t)tensor_item(name_fixture(c->name, "_offset")));
    ck_assert_int_eq(out->storage == x[0]->storage,
                     tensor_item(name_fixture(c->name, "_shares")) != 0);
    ck_assert_ptr_eq(out->data, out->storage + out->offset);

    Tensor *dy = tensor_empty(out->ndim, out->shape);
    for (int64_t i = 0; i < dy->numel; i++) dy->data[i] = (float)(1 + i % 7);
    ck_assert_int_eq(tensor_backward(out, dy), 0);
    for (int i = 0; i < n; i++) {
        char suffix[16];
        snprintf(suffix, sizeof suffix, "_grad%d", i);
        ck_assert_msg(x[i]->grad != NULL, "%s: leaf %d has no gradient", c->name, i);
        ck_assert_tensor_close(x[i]->grad, name_fixture(c->name, suffix), 0, 0);
    }
}
END_TEST

/* ---- storage sharing --------------------------------------------------- */

static Tensor *arange_2d(int64_t rows, int64_t cols)
{
    return tensor_view(tensor_arange(0, (float)(rows * cols), 1), SHAPE(rows, cols));
}

START_TEST(test_writing_through_views_changes_the_base)
{
    Tensor *x = arange_2d(3, 4);   /* x[i][j] = 4i + j */
    struct { Tensor *v; int64_t at[2]; float *base; } views[] = {
        {tensor_t(x), {2, 1}, &x->data[1 * 4 + 2]},
        {tensor_transpose(x, 0, 1), {3, 0}, &x->data[0 * 4 + 3]},
        {tensor_permute(x, IDX(1, 0)), {1, 2}, &x->data[2 * 4 + 1]},
        {tensor_view(x, SHAPE(6, 2)), {4, 1}, &x->data[9]},
        {tensor_reshape(x, SHAPE(2, 6)), {1, 0}, &x->data[6]},
        {tensor_narrow(x, 1, 1, 2), {2, 1}, &x->data[2 * 4 + 2]},
        {tensor_squeeze(tensor_unsqueeze(x, 0), 0), {1, 3}, &x->data[7]},
        {tensor_expand(tensor_narrow(x, 0, 1, 1), SHAPE(5, 4)), {4, 2}, &x->data[6]},
    };
    float value = 1000;
    for (size_t k = 0; k < sizeof views / sizeof views[0]; k++, value++) {
        ck_assert_msg(views[k].v != NULL, "view %zu: %s", k, tensor_error());
        ck_assert_ptr_eq(views[k].v->storage, x->storage);
        ck_assert_int_eq(tensor_set(views[k].v, value, 2, views[k].at), 0);
        ck_assert_float_eq(*views[k].base, value);
    }
    Tensor *flat = tensor_flatten(x);
    flat->data[11] = -1;
    ck_assert_float_eq(x->data[11], -1);
    ck_assert_ptr_eq(tensor_flatten(flat), flat);        /* 1-d: the tensor itself, as torch */
    ck_assert_ptr_eq(tensor_contiguous(x), x);
    Tensor *copy = tensor_contiguous(tensor_t(x));
    ck_assert_ptr_ne(copy->storage, x->storage);
    ck_assert(tensor_is_contiguous(copy));
    Tensor *copied = tensor_reshape(tensor_t(x), SHAPE(12));
    ck_assert_ptr_ne(copied->storage, x->storage);
}
END_TEST

START_TEST(test_no_graph_without_grad)
{
    Tensor *x = arange_2d(3, 4);
    ck_assert_ptr_null(tensor_t(x)->grad_fn);
    ck_assert(!tensor_view(x, SHAPE(12))->requires_grad);
    tensor_requires_grad_(x, true);
    tensor_no_grad_begin();
    ck_assert_ptr_null(tensor_narrow(x, 0, 0, 1)->grad_fn);
    ck_assert_ptr_null(tensor_cat(2, (Tensor *[]){x, x}, 0)->grad_fn);
    tensor_no_grad_end();
    ck_assert_str_eq(tensor_grad_fn_name(tensor_cat(2, (Tensor *[]){x, x}, 0)), "CatBackward0");
}
END_TEST

START_TEST(test_gradients_accumulate)
{
    /* cat with a constant and the same leaf twice: dx = dy's two slices, summed,
     * then once more by a second backward (the first keeps the graph) */
    Tensor *x = tensor_requires_grad_(tensor_arange(0, 3, 1), true);
    Tensor *c = tensor_arange(10, 12, 1);
    Tensor *y = tensor_cat(3, (Tensor *[]){x, c, x}, 0);
    Tensor *dy = tensor_arange(1, 9, 1);
    ck_assert_int_eq(tensor_backward_retain(y, dy), 0);
    ck_assert_int_eq(tensor_backward(y, dy), 0);
    const float want[] = {2 * (1 + 6), 2 * (2 + 7), 2 * (3 + 8)};
    ck_assert_tensor_close(x->grad, tensor_from_data(want, SHAPE(3)), 0, 0);
    ck_assert_ptr_null(c->grad);
}
END_TEST

/* ---- errors -------------------------------------------------------------- */

#define ck_assert_error(call, message)                 \
    do {                                               \
        tensor_clear_error();                          \
        ck_assert_ptr_null(call);                      \
        ck_assert_str_eq(tensor_error(), message);     \
    } while (0)

START_TEST(test_view_needs_compatible_strides)
{
    Tensor *x = arange_2d(3, 4);
    ck_assert_error(tensor_view(tensor_t(x), SHAPE(12)),
                    "view: shape (12) is not compatible with the strides (1,4) of (4,3) "
                    "(a dim would span two non-contiguous parts); use reshape");
    Tensor *heads = tensor_transpose(tensor_view(tensor_arange(0, 48, 1), SHAPE(2, 6, 2, 2)), 1, 2);
    ck_assert_error(tensor_view(heads, SHAPE(2, 2, 12)),
                    "view: shape (2,2,12) is not compatible with the strides (24,2,4,1) of "
                    "(2,2,6,2) (a dim would span two non-contiguous parts); use reshape");
    ck_assert_error(tensor_view(tensor_narrow(x, 1, 1, 2), SHAPE(6)),
                    "view: shape (6) is not compatible with the strides (4,1) of (3,2) "
                    "(a dim would span two non-contiguous parts); use reshape");
    /* reshape copies where view cannot */
    ck_assert_ptr_nonnull(tensor_reshape(heads, SHAPE(2, 2, 12)));
}
END_TEST

START_TEST(test_error_messages)
{
    Tensor *x = arange_2d(3, 4);
    Tensor *x3 = tensor_view(tensor_arange(0, 24, 1), SHAPE(2, 3, 4));
    ck_assert_error(tensor_t(x3), "t: expects a tensor with <= 2 dimensions, but got a 3-d "
                                  "tensor (2,3,4)");
    ck_assert_error(tensor_transpose(x, 0, 2),
                    "transpose: dim 2 out of range for a 2-d tensor (3,4) (expected -2 to 1)");
    ck_assert_error(tensor_permute(x, IDX(0)), "permute: 1 dims given for a 2-d tensor (3,4)");
    ck_assert_error(tensor_permute(x, IDX(1, -1)),
                    "permute: dims (1,-1) are not a permutation of the dims of (3,4)");
    ck_assert_error(tensor_permute(x, IDX(0, 2)),
                    "permute: dims (0,2) are not a permutation of the dims of (3,4)");
    ck_assert_error(tensor_view(x, SHAPE(5, -1)),
                    "view: shape (5,-1) is invalid for a tensor (3,4) of 12 elements");
    ck_assert_error(tensor_view(x, SHAPE(2, 5)),
                    "view: shape (2,5) is invalid for a tensor (3,4) of 12 elements");
    ck_assert_error(tensor_reshape(x, SHAPE(-1, -1)),
                    "reshape: shape (-1,-1): only one size may be -1, and no other may be "
                    "negative");
    ck_assert_error(tensor_view(x, SHAPE(-2, -6)),
                    "view: shape (-2,-6): only one size may be -1, and no other may be negative");
    ck_assert_error(tensor_view(tensor_zeros(SHAPE(0, 3)), SHAPE(0, -1)),
                    "view: shape (0,-1) is invalid for a tensor (0,3) of 0 elements");
    ck_assert_error(tensor_view(x, 9, (const int64_t[9]){0}),
                    "view: 9 sizes given; between 0 and 8 are supported");
    ck_assert_error(tensor_narrow(x, 1, 5, 0),
                    "narrow: start 5 out of range for dim 1 of (3,4) (expected -4 to 4)");
    ck_assert_error(tensor_narrow(x, 1, -2, 3),
                    "narrow: start 2 + length 3 does not fit in size 4 of dim 1 of (3,4)");
    ck_assert_error(tensor_narrow(x, 0, 0, -1),
                    "narrow: start 0 + length -1 does not fit in size 3 of dim 0 of (3,4)");
    ck_assert_error(tensor_narrow(x, -3, 0, 1),
                    "narrow: dim -3 out of range for a 2-d tensor (3,4) (expected -2 to 1)");
    ck_assert_error(tensor_narrow(tensor_scalar(1), 0, 0, 1), "narrow: cannot narrow a 0-d tensor");
    ck_assert_error(tensor_unsqueeze(x, 3),
                    "unsqueeze: dim 3 out of range for a 2-d tensor (3,4) (expected -3 to 2)");
    ck_assert_error(tensor_unsqueeze(tensor_zeros(SHAPE(1, 1, 1, 1, 1, 1, 1, 1)), 0),
                    "unsqueeze: (1,1,1,1,1,1,1,1) already has 8 dims, the most supported");
    ck_assert_error(tensor_squeeze(x, -3),
                    "squeeze: dim -3 out of range for a 2-d tensor (3,4) (expected -2 to 1)");
    ck_assert_error(tensor_expand(x, SHAPE(3, 5)),
                    "expand: size 5 does not match size 4 of (3,4) in dim 1 (only size-1 dims "
                    "expand; -1 keeps an existing size), target (3,5)");
    ck_assert_error(tensor_expand(x, SHAPE(12)),
                    "expand: 1 sizes given for a 2-d tensor (3,4) (expected 2 to 8)");
    ck_assert_error(tensor_expand(x, SHAPE(-1, 3, 4)),
                    "expand: size -1 is not allowed in new leading dim 0 of target (-1,3,4) "
                    "for (3,4)");
    ck_assert_error(tensor_expand(tensor_zeros(SHAPE(1)), SHAPE(-2)),
                    "expand: size -2 does not match size 1 of (1) in dim 0 (only size-1 dims "
                    "expand; -1 keeps an existing size), target (-2)");
}
END_TEST

START_TEST(test_join_and_index_errors)
{
    Tensor *x = arange_2d(3, 4);
    Tensor *y = arange_2d(3, 3);
    ck_assert_error(tensor_cat(0, NULL, 0), "cat: expected a non-empty list of tensors, got 0");
    ck_assert_error(tensor_cat(3, (Tensor *[]){x, x, y}, 0),
                    "cat: sizes must match except in dim 0: tensor 0 is (3,4), tensor 2 is (3,3)");
    ck_assert_error(tensor_cat(2, (Tensor *[]){x, tensor_flatten(x)}, 1),
                    "cat: sizes must match except in dim 1: tensor 0 is (3,4), tensor 1 is (12)");
    ck_assert_error(tensor_cat(2, (Tensor *[]){x, y}, 2),
                    "cat: dim 2 out of range for a 2-d tensor (3,4) (expected -2 to 1)");
    ck_assert_error(tensor_cat(1, (Tensor *[]){tensor_scalar(1)}, 0),
                    "cat: tensor 0 is 0-d; 0-d tensors cannot be concatenated");
    ck_assert_error(tensor_stack(-1, (Tensor *[]){x}, 0),
                    "stack: expected a non-empty list of tensors, got -1");
    ck_assert_error(tensor_stack(2, (Tensor *[]){x, y}, 0),
                    "stack: tensors must have the same shape: tensor 0 is (3,4), "
                    "tensor 1 is (3,3)");
    ck_assert_error(tensor_stack(2, (Tensor *[]){x, x}, 3),
                    "stack: dim 3 out of range for a 2-d tensor (3,4) (expected -3 to 2)");
    ck_assert_error(tensor_index_select(x, 0, INDEX(0, 1.5f)),
                    "index_select: index 1.5 at position 1 is not a whole number");
    ck_assert_error(tensor_index_select(x, 1, INDEX(0, 3, 4)),
                    "index_select: index 4 at position 2 is out of range for dim 1 of (3,4) "
                    "(expected 0 to 3)");
    ck_assert_error(tensor_index_select(x, 0, INDEX(-1)),
                    "index_select: index -1 at position 0 is out of range for dim 0 of (3,4) "
                    "(expected 0 to 2)");
    ck_assert_error(tensor_index_select(x, 0, INDEX(NAN)),
                    "index_select: index nan at position 0 is not a whole number");
    ck_assert_error(tensor_index_select(x, 0, y),
                    "index_select: index must be 0-d or 1-d, got (3,3)");
    ck_assert_error(tensor_index_select(x, 2, INDEX(0)),
                    "index_select: dim 2 out of range for a 2-d tensor (3,4) (expected -2 to 1)");
    ck_assert_error(tensor_index_select(tensor_scalar(1), 0, INDEX(0)),
                    "index_select: cannot index a 0-d tensor");
    ck_assert_error(tensor_embedding(tensor_zeros(SHAPE(5)), INDEX(0)),
                    "embedding: weight must be 2-d (num_embeddings, embedding_dim), got (5)");
    ck_assert_error(tensor_embedding(x, tensor_full(3, SHAPE(2, 2))),
                    "embedding: index 3 at position 0 is out of range for dim 0 of (3,4) "
                    "(expected 0 to 2)");
    ck_assert_error(tensor_embedding(x, tensor_zeros(SHAPE(1, 1, 1, 1, 1, 1, 1, 1))),
                    "embedding: indices (1,1,1,1,1,1,1,1) have 8 dims; the output would have "
                    "more than the 8 supported");
}
END_TEST

START_TEST(test_null_propagates_without_a_message)
{
    Tensor *x = arange_2d(3, 4);
    tensor_clear_error();
    ck_assert_ptr_null(tensor_t(NULL));
    ck_assert_ptr_null(tensor_transpose(NULL, 0, 1));
    ck_assert_ptr_null(tensor_permute(NULL, IDX(1, 0)));
    ck_assert_ptr_null(tensor_view(NULL, SHAPE(12)));
    ck_assert_ptr_null(tensor_reshape(NULL, SHAPE(12)));
    ck_assert_ptr_null(tensor_flatten(NULL));
    ck_assert_ptr_null(tensor_narrow(NULL, 0, 0, 1));
    ck_assert_ptr_null(tensor_unsqueeze(NULL, 0));
    ck_assert_ptr_null(tensor_squeeze(NULL, 0));
    ck_assert_ptr_null(tensor_expand(NULL, SHAPE(3, 4)));
    ck_assert_ptr_null(tensor_contiguous(NULL));
    ck_assert_ptr_null(tensor_cat(2, (Tensor *[]){x, NULL}, 0));
    ck_assert_ptr_null(tensor_stack(2, (Tensor *[]){NULL, x}, 0));
    ck_assert_ptr_null(tensor_index_select(NULL, 0, INDEX(0)));
    ck_assert_ptr_null(tensor_index_select(x, 0, NULL));
    ck_assert_ptr_null(tensor_embedding(NULL, INDEX(0)));
    ck_assert_ptr_null(tensor_embedding(x, NULL));
    ck_assert_str_eq(tensor_error(), "");
    /* the first cause is kept through a chain */
    tensor_t(tensor_view(x, SHAPE(5, 5)));
    ck_assert_str_eq(tensor_error(),
                     "view: shape (5,5) is invalid for a tensor (3,4) of 12 elements");
}
END_TEST

static Suite *shape_suite(void)
{
    Suite *s = suite_create("shape");
    TCase *tc = tcase_create("shape");
    tcase_add_loop_test(tc, test_case_matches_torch, 0, N_CASES);
    tcase_add_test(tc, test_writing_through_views_changes_the_base);
    tcase_add_test(tc, test_no_graph_without_grad);
    tcase_add_test(tc, test_gradients_accumulate);
    tcase_add_test(tc, test_view_needs_compatible_strides);
    tcase_add_test(tc, test_error_messages);
    tcase_add_test(tc, test_join_and_index_errors);
    tcase_add_test(tc, test_null_propagates_without_a_message);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(shape_suite)
