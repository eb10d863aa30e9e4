#!/usr/bin/python3
"""Writes tests/reference/matmul.txt: torch.matmul and F.linear on fixed
inputs, with the gradients backward() gives for a fixed upstream gradient.

Run with Debian's python3-torch (1.13):  /usr/bin/python3 gen_matmul.py
Each case NAME stores its inputs (NAME_a, NAME_b, or NAME_x, NAME_w, NAME_bias),
the result NAME_out, the upstream gradient NAME_dout and the input gradients
(NAME_da, NAME_db, or NAME_dx, NAME_dw, NAME_dbias).  An input stored with a
"t" suffix (NAME_bt) is stored transposed (last two dims): the C test reads it
through a transposed view, and the gradient is the one of that view.
"""
import os

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "matmul.txt")


def uniform(*shape):
    return torch.rand(tuple(shape)) * 2 - 1


def write(f, name, t):
    t = t.detach().contiguous()
    f.write("@%s %s\n" % (name, " ".join(str(d) for d in t.shape)))
    f.write(" ".join("%.9g" % v for v in t.reshape(-1).tolist()) + "\n")


def leaf(stored, transposed):
    """The operand as the C test builds it: stored, or a transposed view."""
    v = stored.transpose(-2, -1) if transposed else stored
    return v.detach().requires_grad_()


def matmul_case(f, name, sa, sb, ta=False, tb=False):
    a_s, b_s = uniform(*sa), uniform(*sb)
    a, b = leaf(a_s, ta), leaf(b_s, tb)
    out = torch.matmul(a, b)
    dout = uniform(*out.shape)
    out.backward(dout)
    write(f, name + ("_at" if ta else "_a"), a_s)
    write(f, name + ("_bt" if tb else "_b"), b_s)
    for suffix, t in (("out", out), ("dout", dout), ("da", a.grad), ("db", b.grad)):
        write(f, name + "_" + suffix, t)
    f.write("# %s grad_fn %s\n" % (name, out.grad_fn.name()))


def linear_case(f, name, sx, d_in, d_out, bias):
    x = uniform(*sx).requires_grad_()
    w = uniform(d_out, d_in).requires_grad_()
    b = uniform(d_out).requires_grad_() if bias else None
    out = F.linear(x, w, b)
    dout = uniform(*out.shape)
    out.backward(dout)
    write(f, name + "_x", x)
    write(f, name + "_w", w)
    if bias:
        write(f, name + "_bias", b)
    for suffix, t in (("out", out), ("dout", dout), ("dx", x.grad), ("dw", w.grad)):
        write(f, name + "_" + suffix, t)
    if bias:
        write(f, name + "_dbias", b.grad)
    f.write("# %s grad_fn %s\n" % (name, out.grad_fn.name()))


def main():
    torch.manual_seed(20240601)
    with open(OUT, "w") as f:
        f.write("# written by gen_matmul.py with torch %s\n" % torch.__version__)
        matmul_case(f, "dot", (3,), (3,))
        matmul_case(f, "mv", (4, 3), (3,))
        matmul_case(f, "vm", (3,), (3, 4))
        matmul_case(f, "mm", (6, 3), (3, 2))
        matmul_case(f, "mm_odd", (7, 13), (13, 5))
        matmul_case(f, "mm_t", (3, 6), (2, 3), ta=True, tb=True)
        matmul_case(f, "mm_big", (40, 33), (33, 30))
        matmul_case(f, "mm_big_t", (33, 40), (30, 33), ta=True, tb=True)
        matmul_case(f, "b3_2", (2, 4, 3), (3, 5))
        matmul_case(f, "b3_3", (2, 4, 3), (2, 3, 5))
        matmul_case(f, "bcast", (2, 1, 4, 3), (3, 3, 5))
        matmul_case(f, "v_b3", (3,), (2, 3, 5))
        matmul_case(f, "b3_v", (2, 4, 3), (3,))
        matmul_case(f, "m_b3", (4, 3), (2, 3, 5))
        matmul_case(f, "attn", (2, 2, 4, 3), (2, 2, 4, 3), tb=True)
        matmul_case(f, "attn_big", (1, 2, 36, 26), (1, 2, 36, 26), tb=True)
        linear_case(f, "lin1b", (3,), 3, 5, True)
        linear_case(f, "lin1", (3,), 3, 5, False)
        linear_case(f, "lin2b", (4, 3), 3, 5, True)
        linear_case(f, "lin2", (4, 3), 3, 5, False)
        linear_case(f, "lin3b", (2, 4, 3), 3, 5, True)
        linear_case(f, "lin3", (2, 4, 3), 3, 5, False)
        linear_case(f, "lin4b", (2, 2, 4, 3), 3, 5, True)
        linear_case(f, "lin_big", (2, 19, 33), 33, 40, True)


if __name__ == "__main__":
    main()
