#!/usr/bin/python3
"""PyTorch reference values for tests/test_softmax_loss.c (softmax, masking, losses).

Run with Debian's python3-torch 1.13 (the pyenv `python3` has no torch):

    /usr/bin/python3 tests/reference/gen_softmax_loss.py > tests/reference/softmax_loss.txt

Writes named tensors in the `@name d0 d1 ...` + values (%.9g) format that
testutil_fixture() reads: first the inputs, then for every case its output
`@<case>` and the gradient of each input that requires grad, `@<case>_g<i>`,
after `out.backward(W)`, W[i] = 0.5 + (i % 7) / 8 in row-major order (the test
builds the same W).  Masks and class indices are stored as floats (the C API
takes float tensors) and turned into bool / long tensors here.  The CASES
table below and the one in tests/test_softmax_loss.c list the same cases in
the same words.
"""
import sys

import torch

from book_ch03 import backward_weights, write_tensor

torch.manual_seed(2024)


def uniform(lo, hi, *shape):
    return torch.rand(*shape) * (hi - lo) + lo


def causal(t):
    """The book's mask: ones strictly above the diagonal."""
    return torch.triu(torch.ones(t, t), diagonal=1)


INPUTS = {
    "x": uniform(-3, 3, 3, 4),
    "y": uniform(-3, 3, 3, 4),
    "x3": uniform(-3, 3, 2, 3, 4),
    "src43": uniform(-3, 3, 4, 3),       # read transposed, as a (3,4) view
    "long": torch.randn(3, 37) * 3,      # rows longer than PyTorch's 8-lane sums
    # Large and spread-out values: exp(x) overflows float32 above 88.7, and
    # without subtracting the max these rows would be inf / inf = NaN.
    "big": torch.tensor([[1000.0, 1001.0, 1002.0, 999.0],
                         [-1000.0, -1002.0, -1001.0, -1003.0],
                         [88.0, 89.0, 100.0, 90.5],
                         [3.0e4, -3.0e4, 2.99999e4, 0.0]]),
    "s": uniform(-3, 3, ()),
    "s2": uniform(-3, 3, ()),
    # attention scores (b, T, T) = (2, 6, 6), as queries @ keys^T / sqrt(d)
    "scores": torch.randn(2, 6, 6) * 2,
    "causal6": causal(6),
    "upper34": torch.triu(torch.ones(3, 4), diagonal=1),
    "cols4": torch.tensor([1.0, 0.0, 0.0, 1.0]),
    # row 0 fully masked, row 1 partially, row 2 not at all
    "scores3": torch.randn(2, 3, 3),
    "mask_full": torch.tensor([[1.0, 1.0, 1.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0]]),
    "bigv": uniform(-1, 1, 1000),
    "bigw": uniform(-1, 1, 1000),
    "logits": uniform(-3, 3, 3, 5),
    "target": torch.tensor([0.0, 4.0, 2.0]),
    "logits11": torch.randn(4, 11) * 2,
    "target11": torch.tensor([10.0, 3.0, 0.0, 7.0]),
    "target4": torch.tensor([2.0, 0.0, 1.0, 2.0]),
    "v5": uniform(-3, 3, 5),
    "t0d": torch.tensor(3.0),
    "biglogits": torch.tensor([[500.0, 0.0, -500.0], [-1000.0, -999.0, -1001.0]]),
    "bigtarget": torch.tensor([2.0, 1.0]),
}

NEG_INF = float("-inf")


def masked_softmax(a, m):
    return torch.softmax(a.masked_fill(m.bool(), NEG_INF), -1)


def masked_log_softmax(a, m):
    """-inf where masked; zeroed there, as a loss over the rows ignores them."""
    return torch.log_softmax(a.masked_fill(m.bool(), NEG_INF), -1).masked_fill(m.bool(), 0.0)


def ce(a, t):
    return torch.nn.functional.cross_entropy(a, t.long())


# name, inputs, function, which inputs require grad
CASES = [
    ("softmax_d0", ["x"], lambda a: torch.softmax(a, 0), [True]),
    ("softmax_d1", ["x"], lambda a: torch.softmax(a, 1), [True]),
    ("softmax_x3_dm1", ["x3"], lambda a: torch.softmax(a, -1), [True]),
    ("softmax_x3_d1", ["x3"], lambda a: torch.softmax(a, 1), [True]),
    ("softmax_x3_d0", ["x3"], lambda a: torch.softmax(a, 0), [True]),
    ("softmax_strided", ["src43"], lambda a: torch.softmax(a.t(), -1), [True]),
    ("softmax_strided_d0", ["src43"], lambda a: torch.softmax(a.t(), 0), [True]),
    ("softmax_long", ["long"], lambda a: torch.softmax(a, -1), [True]),
    ("softmax_long_d0", ["long"], lambda a: torch.softmax(a, 0), [True]),
    ("softmax_big", ["big"], lambda a: torch.softmax(a, -1), [True]),
    ("softmax_big_d0", ["big"], lambda a: torch.softmax(a, 0), [True]),
    ("softmax_0d", ["s"], lambda a: torch.softmax(a, 0), [True]),
    ("log_softmax_d0", ["x"], lambda a: torch.log_softmax(a, 0), [True]),
    ("log_softmax_d1", ["x"], lambda a: torch.log_softmax(a, 1), [True]),
    ("log_softmax_x3_dm1", ["x3"], lambda a: torch.log_softmax(a, -1), [True]),
    ("log_softmax_x3_d1", ["x3"], lambda a: torch.log_softmax(a, 1), [True]),
    ("log_softmax_strided", ["src43"], lambda a: torch.log_softmax(a.t(), -1), [True]),
    ("log_softmax_strided_d0", ["src43"], lambda a: torch.log_softmax(a.t(), 0), [True]),
    ("log_softmax_long", ["long"], lambda a: torch.log_softmax(a, -1), [True]),
    ("log_softmax_long_d0", ["long"], lambda a: torch.log_softmax(a, 0), [True]),
    ("log_softmax_big", ["big"], lambda a: torch.log_softmax(a, -1), [True]),
    ("log_softmax_0d", ["s"], lambda a: torch.log_softmax(a, 0), [True]),
    ("masked_fill", ["x3", "upper34"], lambda a, m: a.masked_fill(m.bool(), -1.5),
     [True, False]),
    ("masked_fill_cols", ["x", "cols4"], lambda a, m: a.masked_fill(m.bool(), 2.5),
     [True, False]),
    ("masked_fill_strided", ["src43", "causal6"],
     lambda a, m: a.t().masked_fill(m.bool()[:3, :4], 0.0), [True, False]),
    ("masked_softmax", ["scores", "causal6"], masked_softmax, [True, False]),
    ("masked_log_softmax", ["scores", "causal6"], masked_log_softmax, [True, False]),
    ("fully_masked", ["scores3", "mask_full"], masked_softmax, [True, False]),
    ("triu", ["x"], lambda a: torch.triu(a), [True]),
    ("triu_1", ["x3"], lambda a: torch.triu(a, 1), [True]),
    ("triu_m1_strided", ["src43"], lambda a: torch.triu(a.t(), -1), [True]),
    ("triu_5", ["x"], lambda a: torch.triu(a, 5), [True]),
    ("tril", ["x"], lambda a: torch.tril(a), [True]),
    ("tril_1", ["x3"], lambda a: torch.tril(a, 1), [True]),
    ("tril_m2_strided", ["src43"], lambda a: torch.tril(a.t(), -2), [True]),
    ("mse", ["x", "y"], torch.nn.functional.mse_loss, [True, True]),
    ("mse_strided", ["src43", "x"], lambda a, b: torch.nn.functional.mse_loss(a.t(), b),
     [True, False]),
    ("mse_big", ["bigv", "bigw"], torch.nn.functional.mse_loss, [True, True]),
    ("mse_0d", ["s", "s2"], torch.nn.functional.mse_loss, [True, True]),
    ("ce", ["logits", "target"], ce, [True, False]),
    ("ce_long", ["logits11", "target11"], ce, [True, False]),
    ("ce_strided", ["x", "target4"], lambda a, t: ce(a.t(), t), [True, False]),
    ("ce_1d", ["v5", "t0d"], ce, [True, False]),
    ("ce_big", ["biglogits", "bigtarget"], ce, [True, False]),
]

# grad_fn names the C test expects (tensor_grad_fn_name); checked here.
GRAD_FN_NAMES = {
    "softmax_d1": "SoftmaxBackward0", "log_softmax_d1": "LogSoftmaxBackward0",
    "masked_fill": "MaskedFillBackward0", "triu": "TriuBackward0", "tril": "TrilBackward0",
    "mse": "MseLossBackward0", "ce": "NllLossBackward0",
}


def emit(name, t):
    write_tensor(sys.stdout, name, t)


def main():
    print("# Generated by gen_softmax_loss.py with torch %s; do not edit." % torch.__version__)
    for name, t in INPUTS.items():
        emit(name, t)
    for name, args, fn, grads in CASES:
        ins = [INPUTS[a].clone().requires_grad_(g) for a, g in zip(args, grads)]
        out = fn(*ins)
        if name in GRAD_FN_NAMES:
            assert out.grad_fn.name() == GRAD_FN_NAMES[name], (name, out.grad_fn.name())
        emit(name, out)
        out.backward(backward_weights(out.shape))
        for i, (t, g) in enumerate(zip(ins, grads)):
            if g:
                emit("%s_g%d" % (name, i), t.grad)


if __name__ == "__main__":
    main()
