#!/usr/bin/python3
"""Writes tests/reference/grad_fn.txt: the grad_fn name PyTorch 1.13 gives the
result of every differentiable op attograd has, for each call form that
changes PyTorch's answer (issue 22 item 5: "an op's printed grad_fn as
PyTorch prints it for that call"), and for issue 23's new ops.

Run with Debian's python3-torch (1.13):  /usr/bin/python3 gen_grad_fn.py

Format of grad_fn.txt: a comment block ('#' lines) that repeats the case
table below, then one line per case

    case-id<TAB>name

where name is type(out.grad_fn).__name__ (the same as out.grad_fn.name()),
or "-" when the result has no grad_fn: PyTorch returned the input leaf itself
(flatten of a 1-d tensor, contiguous of a contiguous one, dropout with p = 0 or
in eval mode) or the op is not differentiable (argmax, comparisons).  print(t)
shows exactly "grad_fn=<name>" at the end of the repr for every named case
(asserted here); for the "-" cases it shows "requires_grad=True" when the
result is the leaf itself and neither when the result needs no gradient
(the column "print" in the comment block says which).

Each case is one Python expression, evaluated as written (the comment block
shows it verbatim), in which
    L(d0, d1, ...)   a fresh leaf of that shape with requires_grad=True
                     (standard normal values; the names never depend on the
                     values, only on shapes, strides and arguments)
    P(d0, ...)       the same with values in [0.5, 1.5) (log, sqrt, pow 0.5)
    C(d0, ...)       a constant of that shape (requires_grad=False)
    M(d0, ...)       a bool mask of that shape (the C side: a 0/1 float mask)
    I(...)           an int64 index / class tensor with these values
                     (the C side: the same whole numbers as floats)
    F                torch.nn.functional
and the result of the expression is the tensor whose grad_fn is named.  The
second comment column, "attograd", is the call the C side makes for the same
case (today's API, with the names PLAN.md's conventions give: rsub_scalar,
rdiv_scalar; "new" marks issue 23's ops whose C names are not settled).  Where
attograd builds an op from several others, the note says so: its printed name
is then that of the last op it records, which may differ from PyTorch's.
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from book_ch04 import GELU, LayerNorm

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "grad_fn.txt")


def L(*shape):
    return torch.randn(shape).requires_grad_()


def P(*shape):
    return (torch.rand(shape) + 0.5).requires_grad_()


def C(*shape):
    return torch.randn(shape)


def M(*shape):
    return torch.rand(shape) < 0.5


def I(*values):
    return torch.tensor(values, dtype=torch.long)


# case-id, Python expression, attograd call / note
CASES = [
    # ---- elementwise, binary (broadcasting does not change the name)
    ("add", "L(3,4) + L(3,4)", "tensor_add"),
    ("add.broadcast", "L(3,4) + L(4)", "tensor_add"),
    ("add.one_grad", "L(3,4) + C(3,4)", "tensor_add"),
    ("add_scalar", "L(3,4) + 1.5", "tensor_add_scalar(x, 1.5)"),
    ("add_scalar.reflected", "1.5 + L(3,4)", "tensor_add_scalar(x, 1.5)"),
    ("sub", "L(3,4) - L(3,4)", "tensor_sub"),
    ("sub_scalar", "L(3,4) - 1.5", "tensor_sub_scalar(x, 1.5)"),
    ("rsub_scalar", "1 - L(3,4)", "tensor_rsub_scalar(x, 1) (today tensor_scalar_sub(1, x))"),
    ("rsub_scalar.torch_rsub", "torch.rsub(L(3,4), 1)", "tensor_rsub_scalar(x, 1)"),
    ("mul", "L(3,4) * L(3,4)", "tensor_mul"),
    ("mul.broadcast", "L(3,4) * L(3,1)", "tensor_mul"),
    ("mul_scalar", "L(3,4) * 2.0", "tensor_mul_scalar(x, 2)"),
    ("mul_scalar.reflected", "2.0 * L(3,4)", "tensor_mul_scalar(x, 2)"),
    ("div", "L(3,4) / P(3,4)", "tensor_div"),
    ("div_scalar", "L(3,4) / 2.0", "tensor_div_scalar(x, 2)"),
    ("rdiv_scalar", "10 / P(3,4)",
     "tensor_rdiv_scalar(x, 10) (today tensor_scalar_div(10, x)): PyTorch computes "
     "x.reciprocal() * 10, attograd reciprocal then mul_scalar: both MulBackward0"),
    ("reciprocal", "P(3,4).reciprocal()", "tensor_reciprocal"),
    ("neg", "-L(3,4)", "tensor_neg"),
    ("pow.2", "L(3,4) ** 2", "tensor_pow(x, 2)"),
    ("pow.0_5", "P(3,4) ** 0.5", "tensor_pow(x, 0.5)"),
    ("pow.1", "L(3,4) ** 1", "tensor_pow(x, 1): still a node"),
    ("pow.0", "L(3,4) ** 0", "tensor_pow(x, 0): still a node"),
    ("pow.torch_pow", "torch.pow(L(3,4), 3.0)", "tensor_pow(x, 3)"),
    ("maximum", "torch.maximum(L(3,4), L(3,4))", "tensor_maximum"),
    ("maximum.torch_max2", "torch.max(L(3,4), L(3,4))", "tensor_maximum"),
    ("minimum", "torch.minimum(L(3,4), L(3,4))", "tensor_minimum"),
    ("minimum.torch_min2", "torch.min(L(3,4), L(3,4))", "tensor_minimum"),
    ("where", "torch.where(M(3,4), L(3,4), L(3,4))", "tensor_where(mask, a, b)"),
    ("where.broadcast", "torch.where(M(3,1), L(3,4), L(4))", "tensor_where(mask, a, b)"),
    ("where.scalar_other", "torch.where(M(3,4), L(3,4), 0.0)",
     "tensor_where(mask, a, tensor_scalar(0))"),
    ("where.one_grad", "torch.where(M(3,4), L(3,4), C(3,4))", "tensor_where(mask, a, b)"),
    # ---- elementwise, unary
    ("exp", "L(3,4).exp()", "tensor_exp"),
    ("log", "P(3,4).log()", "tensor_log"),
    ("sqrt", "P(3,4).sqrt()", "tensor_sqrt"),
    ("tanh", "L(3,4).tanh()", "tensor_tanh"),
    ("sigmoid", "L(3,4).sigmoid()", "tensor_sigmoid"),
    ("relu", "F.relu(L(3,4))", "tensor_relu"),
    ("relu.module", "nn.ReLU()(L(3,4))", "tensor_relu / an nn ReLU module"),
    ("gelu.tanh", "F.gelu(L(3,4), approximate='tanh')", "tensor_gelu"),
    ("gelu.book_module", "GELU()(L(3,4))",
     "the book's GELU class computes 0.5 * x * (1 + tanh(...)): the last op is a mul; "
     "attograd's GELU module calls tensor_gelu (GeluBackward0)"),
    ("abs", "L(3,4).abs()", "tensor_abs"),
    ("clamp.both", "L(3,4).clamp(-1, 1)", "tensor_clamp(x, -1, 1)"),
    ("clamp.min_only", "L(3,4).clamp(min=-1)", "tensor_clamp(x, -1, INFINITY)"),
    ("clamp.max_only", "L(3,4).clamp(max=1)", "tensor_clamp(x, -INFINITY, 1)"),
    ("clamp.clamp_min", "L(3,4).clamp_min(-1)",
     "torch's separate clamp_min op (attograd has none; tensor_clamp gives ClampBackward1)"),
    ("clone", "L(3,4).clone()", "tensor_clone"),
    # ---- new activations (issue 23)
    ("silu", "F.silu(L(3,4))", "new: silu"),
    ("silu.module", "nn.SiLU()(L(3,4))", "new: silu module"),
    ("leaky_relu", "F.leaky_relu(L(3,4))", "new: leaky_relu(x, 0.01)"),
    ("leaky_relu.slope", "F.leaky_relu(L(3,4), 0.2)", "new: leaky_relu(x, 0.2)"),
    ("softplus", "F.softplus(L(3,4))", "new: softplus(x, 1, 20)"),
    ("softplus.beta", "F.softplus(L(3,4), beta=2.0, threshold=5.0)", "new: softplus(x, 2, 5)"),
    # ---- reductions
    ("sum", "L(3,4).sum()", "tensor_sum"),
    ("sum.dim", "L(3,4).sum(1)", "tensor_sum_dim(x, 1, false)"),
    ("sum.dim_keepdim", "L(3,4).sum(-1, keepdim=True)", "tensor_sum_dim(x, -1, true)"),
    ("sum.dims", "L(2,3,4).sum((0, 2))", "tensor_sum_dims(x, IDX(0, 2), false)"),
    ("sum.dims_empty", "L(2,3,4).sum(())",
     "tensor_sum_dims(x, 0 dims, false): an empty dim list means every dim, "
     "and PyTorch names it as a dim-list sum"),
    ("mean", "L(3,4).mean()", "tensor_mean"),
    ("mean.dim", "L(3,4).mean(1)", "tensor_mean_dim(x, 1, false)"),
    ("mean.dims", "L(2,3,4).mean((0, 2))",
     "tensor_mean_dims(x, IDX(0, 2), false): attograd divides a sum by the count "
     "(its last op a div_scalar)"),
    ("max.dim", "L(3,4).max(1)[0]", "tensor_max_dim(x, 1, false, &idx)"),
    ("max.dim_keepdim", "L(3,4).max(-1, keepdim=True)[0]", "tensor_max_dim(x, -1, true, NULL)"),
    ("max.all", "L(3,4).max()", "no attograd call (tensor_amax over every dim is the nearest)"),
    ("min.dim", "L(3,4).min(1)[0]",
     "tensor_min_dim(x, 1, false, &idx): attograd computes -max(-x) (its last op a neg)"),
    ("amax", "L(3,4).amax(1)", "tensor_amax(x, IDX(1), false)"),
    ("amax.dims", "L(2,3,4).amax((0, 2))", "tensor_amax(x, IDX(0, 2), false)"),
    ("amax.all", "L(3,4).amax(())", "tensor_amax(x, 0 dims, false)"),
    ("var", "L(3,4).var()", "tensor_var(x, 1)"),
    ("var.dim", "L(3,4).var(1)", "tensor_var_dim(x, 1, 1, false)"),
    ("var.dim_biased", "L(3,4).var(-1, keepdim=True, unbiased=False)",
     "tensor_var_dim(x, -1, 0, true)"),
    ("std", "L(3,4).std()", "tensor_std(x, 1): attograd computes sqrt(var) (its last op a sqrt)"),
    ("std.dim", "L(3,4).std(1)", "tensor_std_dim(x, 1, 1, false): sqrt(var_dim) in attograd"),
    ("logsumexp", "torch.logsumexp(L(3,4), 1)",
     "tensor_logsumexp(x, 1, false): attograd computes log(sum(exp(x - m))) + m, then "
     "squeezes dim when keepdim is false (its last op a squeeze(dim))"),
    ("logsumexp.keepdim", "torch.logsumexp(L(3,4), 1, keepdim=True)",
     "tensor_logsumexp(x, 1, true): attograd's last op is the add of m"),
    # ---- matrix products: torch.matmul's path depends on the operands' dims
    ("matmul.1d_1d", "L(4) @ L(4)", "tensor_matmul (dot)"),
    ("matmul.2d_1d", "L(3,4) @ L(4)", "tensor_matmul (mv)"),
    ("matmul.1d_2d", "L(4) @ L(4,5)", "tensor_matmul (unsqueeze, mm, squeeze)"),
    ("matmul.2d_2d", "L(3,4) @ L(4,5)", "tensor_matmul (mm)"),
    ("matmul.2d_2d_t", "L(4,3).t() @ L(5,4).t()", "tensor_matmul of two transposed views"),
    ("matmul.3d_3d", "L(2,3,4) @ L(2,4,5)", "tensor_matmul (bmm, then a view)"),
    ("matmul.3d_2d", "L(2,3,4) @ L(4,5)", "tensor_matmul (folded into one mm)"),
    ("matmul.3d_2d_nc", "L(2,4,3).transpose(1, 2) @ L(4,5)", "tensor_matmul"),
    ("matmul.3d_1d", "L(2,3,4) @ L(4)", "tensor_matmul"),
    ("matmul.1d_3d", "L(4) @ L(2,4,5)", "tensor_matmul"),
    ("matmul.2d_3d", "L(3,4) @ L(2,4,5)",
     "tensor_matmul: PyTorch folds b^T @ a^T and transposes back, then .contiguous() "
     "copies (CloneBackward0)"),
    ("matmul.2d_3d_row", "L(1,4) @ L(2,4,5)",
     "tensor_matmul: as 2d_3d, but the transposed-back result is already contiguous "
     "(one row), .contiguous() copies nothing and the name is the transpose's"),
    ("matmul.2d_3d_col", "L(3,4) @ L(2,4,1)", "tensor_matmul: as 2d_3d_row (one column)"),
    ("matmul.2d_4d", "L(3,4) @ L(2,2,4,5)", "tensor_matmul (as 2d_3d)"),
    ("matmul.3d_3d_bcast", "L(1,3,4) @ L(2,4,5)", "tensor_matmul, batch dims broadcast"),
    ("matmul.4d_bcast", "L(2,1,3,4) @ L(1,2,4,5)", "tensor_matmul, batch dims broadcast"),
    ("matmul.4d_4d", "L(2,2,3,4) @ L(2,2,4,5)", "tensor_matmul"),
    ("matmul.4d_2d", "L(2,2,3,4) @ L(4,5)", "tensor_matmul"),
    ("matmul.attention", "L(2,2,6,4) @ L(2,2,6,4).transpose(2, 3)",
     "tensor_matmul(q, tensor_transpose(k, 2, 3)): the book's attention scores"),
    # ---- F.linear (nn.Linear): the path depends on input dims, bias and contiguity
    ("linear.1d_bias", "F.linear(L(4), L(5,4), L(5))", "tensor_linear(x, w, b)"),
    ("linear.1d", "F.linear(L(4), L(5,4))", "tensor_linear(x, w, NULL)"),
    ("linear.2d_bias", "F.linear(L(3,4), L(5,4), L(5))", "tensor_linear(x, w, b) (addmm)"),
    ("linear.2d", "F.linear(L(3,4), L(5,4))", "tensor_linear(x, w, NULL) (mm)"),
    ("linear.2d_bias_nc", "F.linear(L(4,3).t(), L(5,4), L(5))", "tensor_linear, x transposed"),
    ("linear.3d_bias", "F.linear(L(2,3,4), L(5,4), L(5))",
     "tensor_linear(x, w, b), x contiguous: one addmm viewed as 3-d"),
    ("linear.3d", "F.linear(L(2,3,4), L(5,4))", "tensor_linear(x, w, NULL) (matmul)"),
    ("linear.3d_bias_nc", "F.linear(L(3,2,4).transpose(0, 1), L(5,4), L(5))",
     "tensor_linear(x, w, b), x not contiguous: matmul then add"),
    ("linear.3d_nc", "F.linear(L(3,2,4).transpose(0, 1), L(5,4))", "tensor_linear(x, w, NULL)"),
    ("linear.4d_bias", "F.linear(L(2,2,3,4), L(5,4), L(5))",
     "tensor_linear(x, w, b): only 3-d contiguous input takes the addmm path"),
    ("linear.4d", "F.linear(L(2,2,3,4), L(5,4))", "tensor_linear(x, w, NULL)"),
    ("linear.module_3d", "nn.Linear(4, 5)(L(2,3,4))", "an nn Linear module on (2,3,4)"),
    ("linear.module_3d_nobias", "nn.Linear(4, 5, bias=False)(L(2,3,4))",
     "an nn Linear module without bias: the GPT's out_head"),
    # ---- softmax, masking
    ("softmax", "F.softmax(L(3,4), -1)", "tensor_softmax(x, -1)"),
    ("softmax.dim0", "torch.softmax(L(3,4), 0)", "tensor_softmax(x, 0)"),
    ("log_softmax", "F.log_softmax(L(3,4), -1)", "tensor_log_softmax(x, -1)"),
    ("causal_softmax",
     "torch.softmax(L(2,6,6).masked_fill(torch.ones(6,6).triu(1).bool(), float('-inf')) / 2.0, -1)",
     "tensor_causal_softmax(scores, 2, 0): PyTorch's three ops end in a softmax"),
    ("masked_fill", "L(3,4).masked_fill(M(3,4), -1.5)", "tensor_masked_fill(x, mask, -1.5)"),
    ("masked_fill.broadcast", "L(2,3,4).masked_fill(M(3,4), float('-inf'))",
     "tensor_masked_fill(x, mask, -INFINITY)"),
    ("masked_fill.inplace", "L(2,6,6).clone().masked_fill_(torch.ones(6,6).triu(1).bool(), 0.0)",
     "the book's in-place masked_fill_ on a non-leaf: the same name"),
    ("triu", "L(3,4).triu()", "tensor_triu(x, 0)"),
    ("triu.diag1", "L(3,4).triu(1)", "tensor_triu(x, 1)"),
    ("tril", "L(3,4).tril()", "tensor_tril(x, 0)"),
    ("tril.diag_m1", "L(2,3,4).tril(-1)", "tensor_tril(x, -1)"),
    # ---- shape ops
    ("view", "L(3,4).view(12)", "tensor_view"),
    ("view.infer", "L(3,4).view(-1, 2)", "tensor_view with -1"),
    ("view.same", "L(3,4).view(3, 4)", "tensor_view to its own shape: still a node"),
    ("reshape", "L(3,4).reshape(12)", "tensor_reshape, contiguous: a view (_reshape_alias)"),
    ("reshape.same", "L(3,4).reshape(3, 4)", "tensor_reshape to its own shape: still a node"),
    ("reshape.nc_view", "L(3,2,4).transpose(0, 1).reshape(2, 3, 4)",
     "tensor_reshape of a non-contiguous tensor that still has a view"),
    ("reshape.nc_copy", "L(4,3).t().reshape(12)",
     "tensor_reshape with no view: a contiguous copy, then _unsafe_view"),
    ("flatten", "L(3,4).flatten()", "tensor_flatten (reshape)"),
    ("flatten.3d", "L(2,3,4).flatten()", "tensor_flatten"),
    ("flatten.nc", "L(4,3).t().flatten()", "tensor_flatten of a transposed view: copies"),
    ("flatten.1d", "L(4).flatten()", "tensor_flatten of a 1-d tensor: the input itself"),
    ("flatten.0d", "L().flatten()", "tensor_flatten of a 0-d tensor: reshape to (1)"),
    ("t.2d", "L(3,4).t()", "tensor_t"),
    ("t.1d", "L(4).t()", "tensor_t"),
    ("T.2d", "L(3,4).T", "x.T is a permute (attograd: tensor_permute(x, IDX(1, 0)))"),
    ("transpose", "L(3,4).transpose(0, 1)", "tensor_transpose(x, 0, 1)"),
    ("transpose.3d", "L(2,3,4).transpose(1, 2)", "tensor_transpose(x, 1, 2)"),
    ("transpose.same_dim", "L(2,3,4).transpose(1, 1)", "tensor_transpose(x, 1, 1): still a node"),
    ("permute", "L(2,3,4).permute(2, 0, 1)", "tensor_permute"),
    ("permute.identity", "L(2,3,4).permute(0, 1, 2)", "tensor_permute: still a node"),
    ("unsqueeze", "L(3,4).unsqueeze(0)", "tensor_unsqueeze"),
    ("squeeze.dim", "L(3,1,4).squeeze(1)", "tensor_squeeze(x, 1)"),
    ("squeeze.dim_not_1", "L(3,4).squeeze(0)",
     "tensor_squeeze(x, 0) on a size-3 dim: still a node"),
    ("squeeze.all", "L(3,1,4).squeeze()", "tensor_squeeze_all"),
    ("squeeze.all_none", "L(3,4).squeeze()", "tensor_squeeze_all with no size-1 dim: still a node"),
    ("expand", "L(4).expand(3, 4)", "tensor_expand"),
    ("expand.keep", "L(3,1).expand(-1, 4)", "tensor_expand with -1"),
    ("expand.same", "L(3,4).expand(3, 4)", "tensor_expand to its own shape: still a node"),
    ("contiguous.transposed", "L(4,3).t().contiguous()", "tensor_contiguous: a copy"),
    ("contiguous.already", "L(3,4).contiguous()", "tensor_contiguous: the input itself"),
    ("narrow", "L(3,4).narrow(1, 1, 2)", "tensor_narrow(x, 1, 1, 2)"),
    ("narrow.full", "L(3,4).narrow(0, 0, 3)", "tensor_narrow over the whole dim: still a node"),
    ("slice", "L(3,4)[:, 1:3]", "Python slicing is the same op (tensor_narrow)"),
    ("slice.dim0", "L(3,4)[1:3]", "tensor_narrow(x, 0, 1, 2)"),
    ("select", "L(3,4)[1]",
     "integer indexing selects (no attograd call: tensor_squeeze(tensor_narrow(x, 0, 1, 1), 0) "
     "would print SqueezeBackward1)"),
    ("cat", "torch.cat([L(3,4), L(2,4)], 0)", "tensor_cat"),
    ("cat.one", "torch.cat([L(3,4)], 1)", "tensor_cat of one tensor: still a node"),
    ("stack", "torch.stack([L(3,4), L(3,4)], 0)", "tensor_stack"),
    ("stack.last", "torch.stack([L(3,4), L(3,4)], -1)", "tensor_stack(n, ts, -1)"),
    ("index_select", "L(3,4).index_select(0, I(2, 0, 2))", "tensor_index_select"),
    ("index_select.dim1", "L(3,4).index_select(1, I(3, 1))", "tensor_index_select"),
    ("embedding", "F.embedding(I([1, 2], [0, 1]), L(5,3))", "tensor_embedding(w, ids)"),
    ("embedding.module", "nn.Embedding(5, 3)(I(1, 2, 4))", "an nn Embedding module"),
    ("gather", "L(3,4).gather(1, I([0, 0], [3, 1], [2, 2]))", "new: gather(x, 1, index)"),
    ("gather.dim0", "L(3,4).gather(0, I([0, 1, 2, 0]))", "new: gather(x, 0, index)"),
    # ---- normalisation, dropout
    ("layer_norm", "F.layer_norm(L(3,4), (4,), L(4), L(4))", "tensor_layer_norm(x, w, b, 1e-5)"),
    ("layer_norm.no_affine", "F.layer_norm(L(3,4), (4,))",
     "tensor_layer_norm(x, NULL, NULL, 1e-5)"),
    ("layer_norm.module", "nn.LayerNorm(4)(L(2,3,4))", "an nn LayerNorm module"),
    ("layer_norm.book_module", "LayerNorm(4)(L(2,3,4))",
     "the book's LayerNorm class ends in scale * norm_x + shift; attograd's calls "
     "tensor_layer_norm (NativeLayerNormBackward0)"),
    ("dropout", "F.dropout(L(3,4), 0.5, True)", "tensor_dropout(x, 0.5, true, g): x * noise"),
    ("dropout.p1", "F.dropout(L(3,4), 1.0, True)", "tensor_dropout(x, 1, true, g): x * 0"),
    ("dropout.p0", "F.dropout(L(3,4), 0.0, True)",
     "tensor_dropout(x, 0, true, g): the input itself"),
    ("dropout.eval", "F.dropout(L(3,4), 0.5, False)",
     "tensor_dropout(x, 0.5, false, g): the input itself"),
    ("dropout.module", "nn.Dropout(0.1)(L(2,3,4))", "an nn Dropout module in train mode"),
    # ---- losses
    ("mse_loss", "F.mse_loss(L(3,4), L(3,4))", "tensor_mse_loss"),
    ("mse_loss.const_target", "F.mse_loss(L(3,4), C(3,4))", "tensor_mse_loss"),
    ("cross_entropy", "F.cross_entropy(L(3,5), I(0, 4, 2))", "tensor_cross_entropy"),
    ("cross_entropy.1d", "F.cross_entropy(L(5), torch.tensor(2))",
     "tensor_cross_entropy on (C) logits and a 0-d target"),
    ("cross_entropy.sum", "F.cross_entropy(L(3,5), I(0, 4, 2), reduction='sum')",
     "new: reduction sum"),
    ("cross_entropy.none", "F.cross_entropy(L(3,5), I(0, 4, 2), reduction='none')",
     "new: reduction none"),
    ("cross_entropy.ignore", "F.cross_entropy(L(3,5), I(0, -100, 2))", "new: ignore_index -100"),
    ("cross_entropy.flat_gpt", "F.cross_entropy(L(2,3,5).flatten(0, 1), I(0, 1, 2, 3, 4, 0))",
     "the book's calc_loss_batch: logits.flatten(0, 1), targets.flatten()"),
    ("cross_entropy.nd", "F.cross_entropy(L(2,5,3), I([0, 1, 4], [2, 2, 0]))",
     "(N, C, d) logits, (N, d) targets: PyTorch's 2-d nll kernel"),
    ("cross_entropy.nd_none",
     "F.cross_entropy(L(2,5,3), I([0, 1, 4], [2, 2, 0]), reduction='none')",
     "(N, C, d), reduction none: the 2-d kernel's (N, 1, d) result viewed as (N, d)"),
    ("nll_loss", "F.nll_loss(L(3,5), I(0, 4, 2))", "new: nll_loss"),
    ("nll_loss.nd", "F.nll_loss(L(2,5,3), I([0, 1, 4], [2, 2, 0]))", "new: nll_loss on (N, C, d)"),
    ("binary_cross_entropy", "F.binary_cross_entropy(torch.sigmoid(L(3,4)), torch.rand(3,4))",
     "tensor_binary_cross_entropy"),
    ("bce_with_logits", "F.binary_cross_entropy_with_logits(L(3,4), torch.rand(3,4))",
     "tensor_bce_with_logits"),
    ("bce_with_logits.none",
     "F.binary_cross_entropy_with_logits(L(3,4), torch.rand(3,4), reduction='none')",
     "new: reduction none"),
    ("bce_with_logits.pos_weight",
     "F.binary_cross_entropy_with_logits(L(3,4), torch.rand(3,4), pos_weight=torch.rand(4) + 0.5)",
     "new: pos_weight"),
    # ---- no gradient
    ("argmax", "L(3,4).argmax(1)", "tensor_argmax: no gradient"),
    ("eq", "L(3,4) == L(3,4)", "new: eq: no gradient"),
    ("gt.scalar", "L(3,4) > 0", "new: gt with a scalar: no gradient"),
    ("topk.values", "L(3,4).topk(2)[0]", "tensor_topk: attograd's values carry no gradient today"),
    ("detach", "L(3,4).detach()", "tensor_detach"),
]


def main():
    torch.manual_seed(0)
    env = {"L": L, "P": P, "C": C, "M": M, "I": I, "F": F, "nn": nn, "torch": torch,
           "GELU": GELU, "LayerNorm": LayerNorm}
    rows = []
    ids = set()
    for case, expr, note in CASES:
        assert case not in ids, case
        ids.add(case)
        out = eval(expr, env)
        text = repr(out)
        if out.grad_fn is not None:
            name = type(out.grad_fn).__name__
            assert name == out.grad_fn.name(), (case, name)
            assert text.endswith("grad_fn=<%s>)" % name), (case, text[-60:])
            shown = "grad_fn=<%s>" % name
        else:
            name = "-"
            shown = "requires_grad=True" if text.endswith("requires_grad=True)") else "(nothing)"
            if out.requires_grad:
                assert out.is_leaf
        rows.append((case, expr, note, name, shown))
    lines = ["# Written by gen_grad_fn.py with torch %s; do not edit." % torch.__version__,
             "# What PyTorch names each call's grad_fn.  Columns of the table:",
             "#   case-id | Python expression (L = leaf, P = positive leaf, C = constant,",
             "#   M = bool mask, I = int64 indices) | print shows | attograd's call / note",
             "#"]
    for case, expr, note, name, shown in rows:
        lines.append("# %s | %s | %s | %s" % (case, expr, shown, note))
    lines.append("#")
    lines.append("# case-id<TAB>grad_fn name (- for none)")
    for case, _, _, name, _ in rows:
        lines.append("%s\t%s" % (case, name))
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
