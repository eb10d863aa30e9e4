#!/usr/bin/python3
"""Writes tests/reference/shape.txt: the shape ops (views, cat, stack,
index_select, embedding) on fixed inputs, as PyTorch 1.13 computes them.

Run with Debian's python3-torch (1.13):  /usr/bin/python3 gen_shape.py
Each case NAME has leaves made by leaf(): leaf i of shape S holds
100 * i + arange(numel(S)), reshaped to S (values exact in float32).  The case
stores the result NAME (values), NAME_stride and NAME_offset (torch's
.stride() and .storage_offset()), NAME_shares (1 when the result shares the
first leaf's storage), and after backward with the upstream gradient
dy = 1 + (arange(numel) % 7) the leaves' gradients NAME_grad0, NAME_grad1, ...
The grad_fn name each case must print is asserted here and repeated in
tests/test_shape.c, so the two stay in step.
"""
import os

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "shape.txt")


def leaf(i, *shape):
    n = 1
    for s in shape:
        n *= s
    return (torch.arange(n, dtype=torch.float32) + 100 * i).reshape(shape).requires_grad_()


def idx(*values):
    return torch.tensor(values, dtype=torch.long)


# name, leaf shapes, function of the leaves, grad_fn name torch prints
CASES = [
    ("t2d", [(2, 3)], lambda x: x.t(), "TBackward0"),
    ("t1d", [(4,)], lambda x: x.t(), "TBackward0"),
    ("t0d", [()], lambda x: x.t(), "TBackward0"),
    ("transpose3d", [(2, 3, 4)], lambda x: x.transpose(0, 2), "TransposeBackward0"),
    ("transpose_neg", [(2, 3, 4)], lambda x: x.transpose(-1, -2), "TransposeBackward0"),
    ("permute3d", [(2, 3, 4)], lambda x: x.permute(2, 0, 1), "PermuteBackward0"),
    ("permute4d_neg", [(2, 3, 4, 5)], lambda x: x.permute(-4, 2, -1, 1), "PermuteBackward0"),
    ("permute_t", [(3, 4)], lambda x: x.t().permute(1, 0), "PermuteBackward0"),
    ("view_split", [(3, 4)], lambda x: x.view(2, -1, 2), "ViewBackward0"),
    ("view_0d", [()], lambda x: x.view(1, 1), "ViewBackward0"),
    ("view_to_0d", [(1, 1)], lambda x: x.view(()), "ViewBackward0"),
    ("view_narrowed", [(4, 6)], lambda x: x.narrow(1, 1, 4).view(4, 2, 2), "ViewBackward0"),
    ("view_narrowed_rows", [(4, 6)], lambda x: x.narrow(1, 1, 4).view(2, 2, 4),
     "ViewBackward0"),
    ("view_permuted", [(2, 3, 4)], lambda x: x.permute(1, 0, 2).view(3, 2, 2, 2),
     "ViewBackward0"),
    ("view_transposed_unit", [(3, 4)], lambda x: x.t().view(4, 1, 3), "ViewBackward0"),
    ("view_heads", [(2, 6, 4)], lambda x: x.view(2, 6, 2, 2).transpose(1, 2),
     "TransposeBackward0"),
    ("view_heads_back", [(2, 2, 6, 2)], lambda x: x.transpose(1, 2).contiguous().view(2, 6, 4),
     "ViewBackward0"),
    ("reshape_view", [(4, 6)], lambda x: x.narrow(1, 1, 4).reshape(2, 2, 4),
     "ReshapeAliasBackward0"),
    ("reshape_copy", [(3, 4)], lambda x: x.t().reshape(2, 6), "UnsafeViewBackward0"),
    ("reshape_heads", [(2, 2, 6, 2)], lambda x: x.transpose(1, 2).reshape(2, 6, -1),
     "UnsafeViewBackward0"),
    ("flatten3d", [(2, 3, 4)], lambda x: x.flatten(), "ReshapeAliasBackward0"),
    ("flatten_t", [(3, 4)], lambda x: x.t().flatten(), "UnsafeViewBackward0"),
    ("flatten_0d", [()], lambda x: x.flatten(), "ReshapeAliasBackward0"),
    ("narrow_last", [(2, 3, 4)], lambda x: x.narrow(2, 1, 2), "SliceBackward0"),
    ("narrow_neg", [(2, 3, 4)], lambda x: x.narrow(1, -2, 2), "SliceBackward0"),
    ("narrow_t", [(3, 4)], lambda x: x.t().narrow(0, 1, 2), "SliceBackward0"),
    ("narrow_empty", [(3, 4)], lambda x: x.narrow(1, 4, 0), "SliceBackward0"),
    ("unsqueeze0", [(3, 4)], lambda x: x.unsqueeze(0), "UnsqueezeBackward0"),
    ("unsqueeze1", [(3, 4)], lambda x: x.unsqueeze(1), "UnsqueezeBackward0"),
    ("unsqueeze_end", [(3, 4)], lambda x: x.unsqueeze(2), "UnsqueezeBackward0"),
    ("unsqueeze_neg", [(3, 4)], lambda x: x.unsqueeze(-3), "UnsqueezeBackward0"),
    ("unsqueeze_t", [(3, 4)], lambda x: x.t().unsqueeze(1), "UnsqueezeBackward0"),
    ("unsqueeze_0d", [()], lambda x: x.unsqueeze(0), "UnsqueezeBackward0"),
    ("squeeze1", [(3, 1, 4)], lambda x: x.squeeze(1), "SqueezeBackward1"),
    ("squeeze_noop", [(3, 1, 4)], lambda x: x.squeeze(0), "SqueezeBackward1"),
    ("squeeze_neg", [(3, 4, 1)], lambda x: x.squeeze(-1), "SqueezeBackward1"),
    ("squeeze_0d", [()], lambda x: x.squeeze(0), "SqueezeBackward1"),
    ("expand_col", [(3, 1)], lambda x: x.expand(2, 3, 4), "ExpandBackward0"),
    ("expand_keep", [(4,)], lambda x: x.expand(3, -1), "ExpandBackward0"),
    ("expand_0d", [()], lambda x: x.expand(2, 3), "ExpandBackward0"),
    ("expand_narrowed", [(3, 4)], lambda x: x.narrow(1, 1, 1).expand(3, 5), "ExpandBackward0"),
    ("expand_same", [(3, 4)], lambda x: x.expand(3, 4), "ExpandBackward0"),
    ("expand_unit", [(1, 4)], lambda x: x.expand(1, 1, 3, 4), "ExpandBackward0"),
    ("contiguous_t", [(3, 4)], lambda x: x.t().contiguous(), "CloneBackward0"),
    ("cat0", [(2, 3), (1, 3)], lambda x, y: torch.cat([x, y], 0), "CatBackward0"),
    ("cat1_three", [(2, 1), (2, 3), (2, 2)], lambda x, y, z: torch.cat([x, y, z], 1),
     "CatBackward0"),
    ("cat_neg_t", [(3, 2), (4, 3)], lambda x, y: torch.cat([x, y.t()], -1), "CatBackward0"),
    ("cat3d_mid", [(2, 1, 4), (2, 2, 4), (2, 3, 4)],
     lambda x, y, z: torch.cat([x, y, z], 1), "CatBackward0"),
    ("cat_one", [(2, 3)], lambda x: torch.cat([x], 0), "CatBackward0"),
    ("stack0", [(2, 3), (2, 3)], lambda x, y: torch.stack([x, y], 0), "StackBackward0"),
    ("stack1_three", [(2, 3), (2, 3), (2, 3)], lambda x, y, z: torch.stack([x, y, z], 1),
     "StackBackward0"),
    ("stack_end", [(2, 3), (2, 3)], lambda x, y: torch.stack([x, y], 2), "StackBackward0"),
    ("stack_neg_t", [(2, 3), (3, 2)], lambda x, y: torch.stack([x, y.t()], -1),
     "StackBackward0"),
    ("stack_0d", [(), ()], lambda x, y: torch.stack([x, y], 0), "StackBackward0"),
    ("index_select0", [(4, 3)], lambda x: x.index_select(0, idx(2, 0, 2)),
     "IndexSelectBackward0"),
    ("index_select1_t", [(3, 4)], lambda x: x.t().index_select(1, idx(1, 1, 0, 2)),
     "IndexSelectBackward0"),
    ("index_select_neg", [(2, 3, 4)], lambda x: x.index_select(-1, idx(3, 0)),
     "IndexSelectBackward0"),
    ("embedding", [(5, 3)], lambda w: F.embedding(idx([1, 4, 1], [0, 2, 1]), w),
     "EmbeddingBackward0"),
    ("embedding_t", [(3, 5)], lambda w: F.embedding(idx(4, 0, 4, 4), w.t()),
     "EmbeddingBackward0"),
]


def write(f, name, t):
    t = t.detach().contiguous()
    f.write("@%s %s\n" % (name, " ".join(str(d) for d in t.shape)))
    f.write(" ".join("%.9g" % v for v in t.reshape(-1).tolist()) + "\n")


def main():
    with open(OUT, "w") as f:
        f.write("# written by gen_shape.py with torch %s\n" % torch.__version__)
        for name, shapes, fn, grad_fn in CASES:
            leaves = [leaf(i, *s) for i, s in enumerate(shapes)]
            out = fn(*leaves)
            got = type(out.grad_fn).__name__
            assert got == grad_fn, "%s: grad_fn %s, expected %s" % (name, got, grad_fn)
            write(f, name, out)
            write(f, name + "_stride", torch.tensor(out.stride(), dtype=torch.float32))
            write(f, name + "_offset", torch.tensor(float(out.storage_offset())))
            shares = out.storage().data_ptr() == leaves[0].storage().data_ptr()
            write(f, name + "_shares", torch.tensor(float(shares)))
            dy = (1 + torch.arange(out.numel()) % 7).float().reshape(out.shape)
            out.backward(dy)
            for i, x in enumerate(leaves):
                write(f, "%s_grad%d" % (name, i), x.grad)


if __name__ == "__main__":
    main()
