/*
 * Gradcheck rows for tensor/ops/join.c, the ops that copy (see
 * tests/gradcheck.h): cat and stack of contiguous and strided inputs,
 * index_select, embedding and gather.  Indices repeat, so the scatter-add
 * backwards of index_select, embedding and gather must accumulate.
 *
 * The ops are linear, so central differences are exact up to float32
 * rounding of L: far inside the default atol 1e-3 + rtol 1e-2.
 */
#include "gradcheck.h"

static Tensor *index_of(int n, const float *v) { return tensor_from_data(v, 1, (int64_t[]){n}); }
#define INDEX(...) index_of(sizeof((float[]){__VA_ARGS__}) / sizeof(float), (float[]){__VA_ARGS__})

FN(f_cat2_0, tensor_cat(2, x, 0))
FN(f_cat2_1, tensor_cat(2, x, 1))
FN(f_cat3_neg, tensor_cat(3, x, -1))
FN(f_cat3_1, tensor_cat(3, x, 1))
FN(f_stack2_0, tensor_stack(2, x, 0))
FN(f_stack2_1, tensor_stack(2, x, 1))
FN(f_stack3_end, tensor_stack(3, x, 2))
FN(f_index_rows, tensor_index_select(x[0], 0, INDEX(2, 0, 2, 3, 2)))
FN(f_index_cols, tensor_index_select(x[0], 1, INDEX(1, 1, 0)))
FN(f_index_last, tensor_index_select(x[0], -1, INDEX(3, 0, 3)))
FN(f_index_sliced, tensor_index_select(x[0], 1, INDEX(0, 3, 0, 1)))
FN(f_embedding_2d,
   tensor_embedding(x[0], tensor_from_data((const float[]){1, 4, 1, 0, 4, 4}, SHAPE(2, 3))))
FN(f_embedding_1d, tensor_embedding(x[0], INDEX(2, 2, 0)))
/* gather's index: whole numbers, of index's shape. */
#define IDS(...) (const float[]){__VA_ARGS__}
FN(f_gather_d1, tensor_gather(x[0], 1, tensor_from_data(IDS(3, 3, 0, 1, 2, 1), SHAPE(2, 3))))
FN(f_gather_d0, tensor_gather(x[0], 0, tensor_from_data(IDS(2, 0, 1, 2, 2, 2), SHAPE(2, 3))))
FN(f_gather_neg,
   tensor_gather(x[0], -1, tensor_from_data(IDS(0, 3, 3, 3, 1, 0, 2, 2), SHAPE(2, 4))))
FN(f_gather_3d, tensor_gather(x[0], 2, tensor_from_data(IDS(3, 0, 3, 1, 1, 2, 0, 0, 0, 0, 3, 3),
                                                        SHAPE(2, 1, 6))))
FN(f_gather_expanded, tensor_gather(tensor_expand(x[0], SHAPE(3, 4)), 1,
                                    tensor_from_data(IDS(0, 3, 3, 3, 1, 0), SHAPE(3, 2))))

#define ROW(name, op, n, fn, ...) {name, OP_##op, n, {__VA_ARGS__}, fn, 0, 0, 0, 0, 0, {0}}

const GradcheckRow gradcheck_join[] = {
    ROW("cat dim 0 (2,3),(4,3)", CAT, 2, f_cat2_0, "2,3", "4,3"),
    ROW("cat dim 1 (3,2),(3,4T)", CAT, 2, f_cat2_1, "3,2", "3,4T"),
    ROW("cat dim -1 (2,3,1),(2,3,2),(2,3,4S)", CAT, 3, f_cat3_neg, "2,3,1", "2,3,2", "2,3,4S"),
    ROW("cat dim 1 (2,1,4),(2,3,4T),(2,2,4)", CAT, 3, f_cat3_1, "2,1,4", "2,3,4T", "2,2,4"),
    ROW("stack dim 0 (3,4),(3,4)", STACK, 2, f_stack2_0, "3,4", "3,4"),
    ROW("stack dim 1 (3,4),(3,4T)", STACK, 2, f_stack2_1, "3,4", "3,4T"),
    ROW("stack dim 2 (2,3),(2,3S),(2,3T)", STACK, 3, f_stack3_end, "2,3", "2,3S", "2,3T"),
    ROW("stack 0-d", STACK, 2, f_stack2_0, "", ""),
    ROW("index_select dim 0 repeated (4,3)", INDEX_SELECT, 1, f_index_rows, "4,3"),
    ROW("index_select dim 1 repeated (4,3T)", INDEX_SELECT, 1, f_index_cols, "4,3T"),
    ROW("index_select dim -1 repeated (2,3,4)", INDEX_SELECT, 1, f_index_last, "2,3,4"),
    ROW("index_select dim 1 repeated (3,4S)", INDEX_SELECT, 1, f_index_sliced, "3,4S"),
    ROW("embedding (5,3) indices (2,3)", EMBEDDING, 1, f_embedding_2d, "5,3"),
    ROW("embedding (5,3T) indices (3)", EMBEDDING, 1, f_embedding_1d, "5,3T"),
    ROW("gather dim 1 repeated (3,4)", GATHER, 1, f_gather_d1, "3,4"),
    ROW("gather dim 0 repeated (3,4T)", GATHER, 1, f_gather_d0, "3,4T"),
    ROW("gather dim -1 repeated (2,4S)", GATHER, 1, f_gather_neg, "2,4S"),
    ROW("gather dim 2 longer than x (2,3,4)", GATHER, 1, f_gather_3d, "2,3,4"),
    ROW("gather of (1,4) expanded to (3,4)", GATHER, 1, f_gather_expanded, "1,4"),
    {0},
};
