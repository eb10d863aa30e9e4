#!/usr/bin/python3
"""PyTorch reference values for tests/test_elementwise.c (elementwise and reduction ops).

Run with Debian's python3-torch 1.13 (the pyenv `python3` has no torch):

    /usr/bin/python3 tests/reference/gen_elementwise.py > tests/reference/elementwise.txt

Writes named tensors in the `@name d0 d1 ...` + values (%.9g) format that
testutil_fixture() reads: first the inputs, then for every case its output
`@<case>` and, for differentiable cases, the gradient of each input
`@<case>_g<i>` after `out.backward(W)`, W[i] = 0.5 + (i % 7) / 8 in row-major
order (the test builds the same W).  The CASES table below and the one in
tests/test_elementwise.c list the same cases in the same words.
"""
import math
import sys

import torch

from book_ch03 import backward_weights, write_tensor

torch.manual_seed(2024)


def uniform(lo, hi, *shape):
    return torch.rand(*shape) * (hi - lo) + lo


def away_from_zero(*shape):
    """Values in (-2, -0.5] and [0.5, 2): safe divisors."""
    sign = torch.where(torch.rand(*shape) < 0.5, -1.0, 1.0)
    return sign * uniform(0.5, 2.0, *shape)


nan = float("nan")
inf = float("inf")
INPUTS = {
    "x": uniform(-2, 2, 3, 4),
    "y": uniform(-2, 2, 3, 4),
    "den": away_from_zero(3, 4),
    "pos": uniform(0.1, 3, 3, 4),
    "col": uniform(-2, 2, 3, 1),
    "row": uniform(-2, 2, 1, 4),
    "x3": uniform(-2, 2, 2, 3, 4),
    "v": away_from_zero(4),
    "s": uniform(0.5, 2, ()),
    "src43": uniform(-2, 2, 4, 3),      # read transposed, as a (3,4) view
    "wide": uniform(-8, 8, 4, 50),      # activations over their whole shape
    "big": uniform(0, 1, 1000),         # long sums
    "big2": uniform(-1, 1, 20, 50),
    "ties": torch.tensor([[1.0, 3, 3, 0], [2, 2, 1, 2], [-1, -1, -1, -1]]),
    "nans": torch.tensor([[1.0, nan, 3, nan], [0, 5, 5, -1]]),
    # Kinks and non-finite values: what each op's gradient is at NaN, +-inf and 0.
    "kinks": torch.tensor([[nan, -1.0, 0, 2, inf, -inf], [1, nan, nan, 3, 3, 1]]),
}

SQRT2F = math.sqrt(2.0)   # becomes float32 1.41421354 inside the division, as sqrtf(2)

# name, inputs, function, differentiable
CASES = [
    ("add", ["x", "y"], lambda a, b: a + b, True),
    ("sub", ["x", "y"], lambda a, b: a - b, True),
    ("mul", ["x", "y"], lambda a, b: a * b, True),
    ("div", ["x", "den"], lambda a, b: a / b, True),
    ("add_bcast", ["col", "row"], lambda a, b: a + b, True),
    ("sub_bcast", ["row", "col"], lambda a, b: a - b, True),
    ("mul_bcast", ["x3", "v"], lambda a, b: a * b, True),
    ("div_bcast", ["x3", "v"], lambda a, b: a / b, True),
    ("add_0d", ["s", "x"], lambda a, b: a + b, True),
    ("sub_0d", ["x", "s"], lambda a, b: a - b, True),
    ("mul_0d", ["s", "x"], lambda a, b: a * b, True),
    ("div_0d", ["x", "s"], lambda a, b: a / b, True),
    ("add_strided", ["src43", "y"], lambda a, b: a.t() + b, True),
    ("add_scalar", ["x"], lambda a: a + 0.5, True),
    ("sub_scalar", ["x"], lambda a: a - 0.75, True),
    ("mul_scalar", ["x"], lambda a: a * -1.5, True),
    ("div_scalar", ["x"], lambda a: a / SQRT2F, True),
    ("neg", ["x"], lambda a: -a, True),
    ("pow0", ["x"], lambda a: a ** 0.0, True),
    ("pow1", ["x"], lambda a: a ** 1.0, True),
    ("pow2", ["x"], lambda a: a ** 2.0, True),
    ("pow3", ["x"], lambda a: a ** 3.0, True),
    ("pow_half", ["pos"], lambda a: a ** 0.5, True),
    ("pow_mhalf", ["pos"], lambda a: a ** -0.5, True),
    ("pow_m1", ["pos"], lambda a: a ** -1.0, True),
    ("pow_m2", ["pos"], lambda a: a ** -2.0, True),
    ("pow_1_5", ["pos"], lambda a: a ** 1.5, True),
    ("pow_m2_5", ["pos"], lambda a: a ** -2.5, True),
    ("exp", ["wide"], torch.exp, True),
    ("log", ["pos"], torch.log, True),
    ("sqrt", ["pos"], torch.sqrt, True),
    ("tanh", ["wide"], torch.tanh, True),
    ("sigmoid", ["wide"], torch.sigmoid, True),
    ("relu", ["wide"], torch.relu, True),
    ("gelu", ["wide"], lambda a: torch.nn.functional.gelu(a, approximate="tanh"), True),
    ("abs", ["x"], torch.abs, True),
    ("clamp", ["x"], lambda a: torch.clamp(a, -0.5, 0.8), True),
    ("clamp_min", ["x"], lambda a: torch.clamp(a, min=-0.5), True),
    ("clamp_max", ["x"], lambda a: torch.clamp(a, max=0.8), True),
    ("clone", ["x"], torch.clone, True),
    ("exp_strided", ["src43"], lambda a: torch.exp(a.t()), True),
    ("gelu_strided", ["src43"], lambda a: torch.nn.functional.gelu(a.t(), approximate="tanh"),
     True),
    ("sum", ["x"], torch.sum, True),
    ("sum_big", ["big"], torch.sum, True),
    ("sum_0d", ["s"], torch.sum, True),
    ("sum_d0", ["x3"], lambda a: a.sum(0), True),
    ("sum_d1", ["x3"], lambda a: a.sum(1), True),
    ("sum_dm1_keep", ["x3"], lambda a: a.sum(-1, keepdim=True), True),
    ("sum_big2_d0", ["big2"], lambda a: a.sum(0), True),
    ("sum_big2_d1", ["big2"], lambda a: a.sum(1), True),
    ("sum_dim_0d", ["s"], lambda a: a.sum(0), True),
    ("sum_strided", ["src43"], lambda a: a.t().sum(1), True),
    ("mean", ["x"], torch.mean, True),
    ("mean_big", ["big"], torch.mean, True),
    ("mean_0d", ["s"], torch.mean, True),
    ("mean_d1_keep", ["x3"], lambda a: a.mean(1, keepdim=True), True),
    ("mean_big2_d0", ["big2"], lambda a: a.mean(0), True),
    ("mean_dim_0d", ["s"], lambda a: a.mean(-1, keepdim=True), True),
    ("max_d1", ["x3"], lambda a: a.max(1)[0], True),
    ("max_d1_idx", ["x3"], lambda a: a.max(1)[1].float(), False),
    ("max_d0_keep", ["x3"], lambda a: a.max(0, keepdim=True)[0], True),
    ("max_d0_keep_idx", ["x3"], lambda a: a.max(0, keepdim=True)[1].float(), False),
    ("max_ties", ["ties"], lambda a: a.max(1)[0], True),
    ("max_ties_idx", ["ties"], lambda a: a.max(1)[1].float(), False),
    ("max_nans", ["nans"], lambda a: a.max(1)[0], False),
    ("max_nans_idx", ["nans"], lambda a: a.max(1)[1].float(), False),
    ("max_0d", ["s"], lambda a: a.max(-1)[0], True),
    ("max_strided", ["src43"], lambda a: a.t().max(1)[0], True),
    ("argmax_d2", ["x3"], lambda a: a.argmax(2).float(), False),
    ("argmax_d0_keep", ["x3"], lambda a: a.argmax(0, keepdim=True).float(), False),
    ("argmax_ties", ["ties"], lambda a: a.argmax(1).float(), False),
    ("argmax_nans", ["nans"], lambda a: a.argmax(1).float(), False),
    ("var1", ["x"], lambda a: torch.var(a, None, correction=1), True),
    ("var0", ["x"], lambda a: torch.var(a, None, correction=0), True),
    ("var_big2", ["big2"], lambda a: torch.var(a, None, correction=1), True),
    ("var_d1", ["x3"], lambda a: torch.var(a, 1, correction=1), True),
    ("var_d1_c0_keep", ["x3"], lambda a: torch.var(a, 1, correction=0, keepdim=True), True),
    ("var_big2_d1", ["big2"], lambda a: torch.var(a, 1, correction=1), True),
    ("var_strided", ["src43"], lambda a: torch.var(a.t(), 0, correction=1), True),
    ("relu_kinks", ["kinks"], torch.relu, True),
    ("abs_kinks", ["kinks"], torch.abs, True),
    ("clamp_kinks", ["kinks"], lambda a: torch.clamp(a, -0.5, 0.8), True),
    ("clamp_min_kinks", ["kinks"], lambda a: torch.clamp(a, min=-0.5), True),
    ("clamp_max_kinks", ["kinks"], lambda a: torch.clamp(a, max=0.8), True),
    ("clamp_inf_kinks", ["kinks"], lambda a: torch.clamp(a, -inf, inf), True),
    ("clamp_crossed_kinks", ["kinks"], lambda a: torch.clamp(a, 1.0, -1.0), True),
    ("max_kinks", ["kinks"], lambda a: a.max(1)[0], True),
    ("max_kinks_idx", ["kinks"], lambda a: a.max(1)[1].float(), False),
    ("sqrt_kinks", ["kinks"], torch.sqrt, True),
    ("pow0_kinks", ["kinks"], lambda a: a ** 0.0, True),
    ("pow2_kinks", ["kinks"], lambda a: a ** 2.0, True),
    ("pow_half_kinks", ["kinks"], lambda a: a ** 0.5, True),
    ("exp_kinks", ["kinks"], torch.exp, True),
    ("log_kinks", ["kinks"], torch.log, True),
    ("tanh_kinks", ["kinks"], torch.tanh, True),
    ("sigmoid_kinks", ["kinks"], torch.sigmoid, True),
    ("gelu_kinks", ["kinks"], lambda a: torch.nn.functional.gelu(a, approximate="tanh"), True),
]

# grad_fn names the C test expects (tensor_grad_fn_name); checked here.
GRAD_FN_NAMES = {
    "add_bcast": "AddBackward0", "sub_scalar": "SubBackward0", "div_scalar": "DivBackward0",
    "pow_half": "PowBackward0", "gelu": "GeluBackward0", "clamp": "ClampBackward1",
    "clone": "CloneBackward0", "sum": "SumBackward0", "sum_d1": "SumBackward1",
    "mean_d1_keep": "MeanBackward1", "max_d1": "MaxBackward0", "var_d1": "VarBackward0",
}


def emit(name, t):
    write_tensor(sys.stdout, name, t)


def main():
    print("# Generated by gen_elementwise.py with torch %s; do not edit." % torch.__version__)
    for name, t in INPUTS.items():
        emit(name, t)
    for name, args, fn, grad in CASES:
        ins = [INPUTS[a].clone().requires_grad_(grad) for a in args]
        out = fn(*ins)
        if name in GRAD_FN_NAMES:
            assert out.grad_fn.name() == GRAD_FN_NAMES[name], (name, out.grad_fn.name())
        emit(name, out)
        if grad:
            out.backward(backward_weights(out.shape))
            for i, t in enumerate(ins):
                emit("%s_g%d" % (name, i), t.grad)


if __name__ == "__main__":
    main()
