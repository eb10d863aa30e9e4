#!/usr/bin/python3
"""Writes tests/reference/porting.txt: forward values and gradients of the
ops a PyTorch user reaches for when porting the book's code (scalar-first
arithmetic, reciprocal, where, maximum/minimum, several-dim reductions,
min/argmin/amax/logsumexp/std, squeeze(), BCE losses), read by
tests/test_porting.c.

Run with Debian's python3-torch (1.13):  /usr/bin/python3 gen_porting.py
Every case draws its inputs from torch.manual_seed(0) in the order written
here (the C test reads the inputs from this file, so only the names must
agree), applies the op, and backpropagates sum(out * w) with w the fixture scripts' seed
(book_ch03.backward_weights, testutil_seed_like in C).
Ties are planted where an op's tie rule matters (maximum, amax).
"""
import os

import torch

from book_ch03 import backward_weights, write_tensor

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "porting.txt")
FILE = open(OUT, "w")
FILE.write("# written by gen_porting.py with torch %s\n" % torch.__version__)


def put(name, t):
    write_tensor(FILE, name, torch.as_tensor(t, dtype=torch.float32))


def case(name, fn, *inputs):
    xs = [x.detach().clone().requires_grad_(x.is_floating_point()) for x in inputs]
    for i, x in enumerate(inputs):
        put("%s_in%d" % (name, i), x)
    out = fn(*xs)
    put("%s_out" % name, out)
    (out * backward_weights(out.shape)).sum().backward()
    for i, x in enumerate(xs):
        if x.grad is not None:
            put("%s_grad%d" % (name, i), x.grad)


torch.manual_seed(0)
a = torch.randn(3, 4)
b = torch.randn(3, 4)
pos = torch.rand(3, 4) + 0.5
cond = (torch.rand(3, 4) > 0.5).float()
tied = b.clone()
tied[0, :2] = a[0, :2]                       # maximum/minimum ties
case("rsub", lambda x: 1 - x, a)
case("rdiv", lambda x: 10 / x, pos)
case("reciprocal", torch.reciprocal, pos)
case("where", lambda c, x, y: torch.where(c != 0, x, y), cond, a, b)
case("where_bcast", lambda c, x, y: torch.where(c != 0, x, y), cond[:, :1], a, b[0])
case("maximum", torch.maximum, a, tied)
case("minimum", torch.minimum, a, tied)
c3 = torch.randn(2, 3, 4)
case("sum_dims", lambda x: torch.sum(x, (0, 2)), c3)
case("mean_dims_keep", lambda x: torch.mean(x, (-1, 0), keepdim=True), c3)
amax_in = torch.randn(2, 3, 4)
amax_in[1, 0, 1] = amax_in[1, 2, 3] = amax_in[1].max() + 1    # a tie inside one result
case("amax_02", lambda x: torch.amax(x, (0, 2)), amax_in)
case("amax_1_keep", lambda x: torch.amax(x, 1, keepdim=True), amax_in)
case("min_dim", lambda x: torch.min(x, 1).values, a)
put("argmin_1", torch.argmin(a, 1))
put("argmin_0_keep", torch.argmin(a, 0, keepdim=True))
case("logsumexp", lambda x: torch.logsumexp(x, -1), a * 5)
case("logsumexp_keep", lambda x: torch.logsumexp(x, 0, keepdim=True), a)
case("std_1", lambda x: torch.std(x, 1), a)
case("std_all_biased", lambda x: torch.std(x, unbiased=False), a)
case("squeeze_all", lambda x: x.squeeze() * 2, torch.randn(1, 3, 1, 2))
p = torch.sigmoid(torch.randn(3, 4))
t = (torch.rand(3, 4) > 0.5).float()
case("bce", lambda x, y: torch.nn.functional.binary_cross_entropy(x, y), p, t)
case("bce_logits", lambda x, y: torch.nn.functional.binary_cross_entropy_with_logits(x, y),
     a * 4, torch.rand(3, 4))
put("bce_edges", torch.nn.functional.binary_cross_entropy(torch.tensor([0., 1., 1.]),
                                                         torch.tensor([1., 0., 1.])))

# The book's appendix D schedule, its arithmetic as written there.
import math
initial_lr, peak_lr, min_lr, warmup, total = 3e-5, 5e-4, 3e-6, 18, 90
lrs = []
for step in range(total):
    if step < warmup:
        lrs.append(initial_lr + step * ((peak_lr - initial_lr) / warmup))
    else:
        progress = (step - warmup) / (total - warmup)
        lrs.append(min_lr + (peak_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress)))
FILE.write("@lr_warmup_cosine %d\n%s\n" % (total, " ".join(repr(v) for v in lrs)))

FILE.close()
