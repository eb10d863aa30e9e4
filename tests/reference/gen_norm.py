#!/usr/bin/python3
"""Writes tests/reference/norm.txt: layer_norm against PyTorch 1.13, read by
tests/test_norm.c.

Run with Debian's python3-torch (1.13):  /usr/bin/python3 gen_norm.py
Inputs from torch.manual_seed(0); for each case the output of
F.layer_norm, the output of the book's LayerNorm composite (mean, biased
var, sqrt, div; book_ch04.LayerNorm) with the same scale and shift, and the
gradients of sum(out * w) (w: book_ch03.backward_weights) through
F.layer_norm.  One case has rows far from zero mean (x * 3 + 50), where the
composite's rounding differs most.
"""
import os

import torch
import torch.nn.functional as F

from book_ch03 import backward_weights, write_tensor
from book_ch04 import LayerNorm

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "norm.txt")
FILE = open(OUT, "w")
FILE.write("# written by gen_norm.py with torch %s\n" % torch.__version__)


def case(name, x, weight, bias):
    write_tensor(FILE, name + "_x", x)
    write_tensor(FILE, name + "_w", weight)
    write_tensor(FILE, name + "_b", bias)
    xs, ws, bs = (t.detach().clone().requires_grad_(True) for t in (x, weight, bias))
    out = F.layer_norm(xs, (x.shape[-1],), ws, bs, 1e-5)
    write_tensor(FILE, name + "_out", out)
    (out * backward_weights(out.shape)).sum().backward()
    write_tensor(FILE, name + "_dx", xs.grad)
    write_tensor(FILE, name + "_dw", ws.grad)
    write_tensor(FILE, name + "_db", bs.grad)
    book = LayerNorm(x.shape[-1])
    with torch.no_grad():
        book.scale.copy_(weight)
        book.shift.copy_(bias)
        write_tensor(FILE, name + "_book", book(x))


torch.manual_seed(0)
case("small", torch.randn(2, 5), torch.randn(5), torch.randn(5))
case("rows", torch.randn(3, 4, 32), torch.randn(32), torch.randn(32))
case("offset", torch.randn(4, 768) * 3 + 50, torch.randn(768), torch.randn(768))
FILE.close()
