/*
 * Gradcheck rows for tensor/ops/reduce.c (see tests/gradcheck.h).
 *
 * Each reduction is checked over all elements and along first, middle,
 * last and negative dims, with and without keepdim, on contiguous,
 * transposed ("4,3T") and sliced ("3,4S") inputs, and on a 0-d input where
 * PyTorch accepts one.
 *
 * max_dim is not differentiable where two values tie: a central difference
 * there sees the argmax switch.  Its rows add a constant offset pattern along
 * the reduced dim (multiples of 3, inputs in [-1, 1)) so that values along
 * it are at least 1 apart, far more than eps = 1e-2, and the argmax is not
 * always at the same position.
 */
#include "gradcheck.h"

/* x + 3 * pattern[k] along dim (a constant: no gradient of its own). */
static Tensor *separated(const Tensor *x, int dim)
{
    static const float pattern[6] = {3, 9, 0, 6, 15, 12};
    if (dim < 0) dim += x->ndim;
    int64_t shape[TENSOR_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) shape[d] = d == dim ? x->shape[d] : 1;
    int64_t len = x->shape[dim];
    if (len > 6) return NULL;   /* a failed row, not a silent tie */
    return tensor_add(x, tensor_from_data(pattern, x->ndim, shape));
}

/* x + 3 * a distinct whole number per element (a permutation of 0..n-1 for
 * n prime to 7): every pair of values at least 1 apart, for amax over
 * several dims. */
static Tensor *distinct(const Tensor *x)
{
    Tensor *p = tensor_zeros(x->ndim, x->shape);
    for (int64_t i = 0; i < p->numel; i++) p->data[i] = (float)(3 * ((i * 7) % p->numel));
    return tensor_add(x, p);
}

FN(f_sum, tensor_sum(x[0]))
FN(f_sum_d0, tensor_sum_dim(x[0], 0, false))
FN(f_sum_d1, tensor_sum_dim(x[0], 1, false))
FN(f_sum_dm1_keep, tensor_sum_dim(x[0], -1, true))
FN(f_sum_d0_keep, tensor_sum_dim(x[0], 0, true))
FN(f_mean, tensor_mean(x[0]))
FN(f_mean_d0, tensor_mean_dim(x[0], 0, false))
FN(f_mean_d1, tensor_mean_dim(x[0], 1, false))
FN(f_mean_dm1_keep, tensor_mean_dim(x[0], -1, true))
FN(f_mean_d0_keep, tensor_mean_dim(x[0], 0, true))
FN(f_max_d1, tensor_max_dim(separated(x[0], 1), 1, false, NULL))
FN(f_max_d0_keep, tensor_max_dim(separated(x[0], 0), 0, true, NULL))
FN(f_max_dm1_keep, tensor_max_dim(separated(x[0], -1), -1, true, NULL))
FN(f_max_strided, tensor_max_dim(tensor_transpose(separated(x[0], 0), 0, 1), 1, false, NULL))
FN(f_max_0d, tensor_max_dim(x[0], -1, false, NULL))
FN(f_var1, tensor_var(x[0], 1))
FN(f_var0, tensor_var(x[0], 0))
FN(f_var_d0, tensor_var_dim(x[0], 0, 1, false))
FN(f_var_d1, tensor_var_dim(x[0], 1, 1, false))
FN(f_var_dm1_c0_keep, tensor_var_dim(x[0], -1, 0, true))
FN(f_var_d0_c0_keep, tensor_var_dim(x[0], 0, 0, true))

FN(f_amax_d1, tensor_amax(separated(x[0], 1), IDX(1), false))
FN(f_amax_02_keep, tensor_amax(distinct(x[0]), IDX(0, 2), true))
FN(f_amax_all, tensor_amax(distinct(x[0]), 0, NULL, false))
FN(f_sum_dims, tensor_sum_dims(x[0], IDX(0, -1), false))
FN(f_mean_dims_keep, tensor_mean_dims(x[0], IDX(2, 0), true))
FN(f_logsumexp, tensor_logsumexp(x[0], -1, false))
FN(f_logsumexp_keep, tensor_logsumexp(x[0], 0, true))
FN(f_std_d1, tensor_std_dim(x[0], 1, 1, false))
FN(f_min_d1, tensor_min_dim(separated(x[0], 1), 1, false, NULL))

#define ROW(label, OPID, shape, f) {label, OPID, 1, {shape}, f, 0, 0, 0, 0, 0, {0}}

const GradcheckRow gradcheck_reduce[] = {
    ROW("amax dim 1 (3,4)", OP_AMAX, "3,4", f_amax_d1),
    ROW("amax dims (0,2) keepdim (2,3,4)", OP_AMAX, "2,3,4", f_amax_02_keep),
    ROW("amax all (4,3)T", OP_AMAX, "4,3T", f_amax_all),
    ROW("amax dim 1 (3,4)S", OP_AMAX, "3,4S", f_amax_d1),
    ROW("sum_dims (0,-1) (2,3,4)", OP_VIEW, "2,3,4", f_sum_dims),
    ROW("mean_dims (2,0) keepdim (2,3,4)", OP_DIV_SCALAR, "2,3,4", f_mean_dims_keep),
    ROW("logsumexp dim -1 (3,4)", OP_SQUEEZE, "3,4", f_logsumexp),
    ROW("logsumexp dim 0 keepdim (4,3)T", OP_ADD, "4,3T", f_logsumexp_keep),
    ROW("std dim 1 (3,4)S", OP_SQRT, "3,4S", f_std_d1),
    ROW("min_dim 1 (3,4)", OP_NEG, "3,4", f_min_d1),
    ROW("sum (3,4)", OP_SUM, "3,4", f_sum),
    ROW("sum (4,3)T", OP_SUM, "4,3T", f_sum),
    ROW("sum (3,4)S", OP_SUM, "3,4S", f_sum),
    ROW("sum ()", OP_SUM, "", f_sum),
    ROW("sum_dim 0 (3,4)", OP_SUM_DIM, "3,4", f_sum_d0),
    ROW("sum_dim -1 keepdim (3,4)", OP_SUM_DIM, "3,4", f_sum_dm1_keep),
    ROW("sum_dim 1 (2,3,4)", OP_SUM_DIM, "2,3,4", f_sum_d1),
    ROW("sum_dim 1 (4,3)T", OP_SUM_DIM, "4,3T", f_sum_d1),
    ROW("sum_dim 0 keepdim (3,4)S", OP_SUM_DIM, "3,4S", f_sum_d0_keep),
    ROW("sum_dim 0 ()", OP_SUM_DIM, "", f_sum_d0),
    ROW("mean (3,4)", OP_MEAN, "3,4", f_mean),
    ROW("mean (4,3)T", OP_MEAN, "4,3T", f_mean),
    ROW("mean (3,4)S", OP_MEAN, "3,4S", f_mean),
    ROW("mean ()", OP_MEAN, "", f_mean),
    ROW("mean_dim 0 (3,4)", OP_MEAN_DIM, "3,4", f_mean_d0),
    ROW("mean_dim -1 keepdim (3,4)", OP_MEAN_DIM, "3,4", f_mean_dm1_keep),
    ROW("mean_dim 1 (2,3,4)", OP_MEAN_DIM, "2,3,4", f_mean_d1),
    ROW("mean_dim 1 (4,3)T", OP_MEAN_DIM, "4,3T", f_mean_d1),
    ROW("mean_dim 0 keepdim (3,4)S", OP_MEAN_DIM, "3,4S", f_mean_d0_keep),
    ROW("mean_dim -1 ()", OP_MEAN_DIM, "", f_mean_dm1_keep),
    ROW("max_dim 1 (3,4)", OP_MAX_DIM, "3,4", f_max_d1),
    ROW("max_dim 0 keepdim (3,4)", OP_MAX_DIM, "3,4", f_max_d0_keep),
    ROW("max_dim 1 (2,3,4)", OP_MAX_DIM, "2,3,4", f_max_d1),
    ROW("max_dim -1 keepdim (2,3,4)", OP_MAX_DIM, "2,3,4", f_max_dm1_keep),
    ROW("max_dim 1 of a transposed (4,3)", OP_MAX_DIM, "4,3", f_max_strided),
    ROW("max_dim 1 keepdim (4,3)T", OP_MAX_DIM, "4,3T", f_max_dm1_keep),
    ROW("max_dim -1 ()", OP_MAX_DIM, "", f_max_0d),
    ROW("var correction 1 (3,4)", OP_VAR, "3,4", f_var1),
    ROW("var correction 0 (3,4)", OP_VAR, "3,4", f_var0),
    ROW("var correction 1 (4,3)T", OP_VAR, "4,3T", f_var1),
    ROW("var correction 0 (3,4)S", OP_VAR, "3,4S", f_var0),
    ROW("var_dim 0 (3,4)", OP_VAR, "3,4", f_var_d0),
    ROW("var_dim -1 correction 0 keepdim (3,4)", OP_VAR, "3,4", f_var_dm1_c0_keep),
    ROW("var_dim 1 (2,3,4)", OP_VAR, "2,3,4", f_var_d1),
    ROW("var_dim 1 (4,3)T", OP_VAR, "4,3T", f_var_d1),
    ROW("var_dim 0 correction 0 keepdim (3,4)S", OP_VAR, "3,4S", f_var_d0_c0_keep),
    {0},
};
