#!/usr/bin/env python3
"""Writes print.txt: tensors with the exact string PyTorch 1.13 prints for them.

Run with Debian's python3-torch:  /usr/bin/python3 tests/reference/gen_print.py

Each case in print.txt is:

    @name d0 d1 ...          the tensor's shape (no dims: 0-d)
    v v v ...                its values, row-major, %.9g (float32 round-trips)
    : option ...             zero or more of:
                               grad_fn NAME     a non-leaf made by NAME
                               requires_grad    a leaf that requires grad
                               transpose        print the view with the last two dims swapped
                               precision N      torch.set_printoptions(precision=N)
                               ids              an int64 tensor (values %d): token ids,
                                                printed by tensor_format_ids
    <<<
    repr(tensor), one or more lines, verbatim
    >>>
"""
import math
import os

import torch
import torch.nn as nn

from book_ch03 import SelfAttention_v1, SelfAttention_v2, CausalAttention

torch.set_grad_enabled(True)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "print.txt")
cases = []


def add(name, t, precision=4, transpose=False):
    """Records t (printed as t, or t.transpose(-2, -1) when transpose) under name."""
    torch.set_printoptions(precision=precision)
    shown = t.transpose(-2, -1) if transpose else t
    text = repr(shown)
    torch.set_printoptions(profile="default")
    opts = []
    if t.grad_fn is not None:
        opts.append("grad_fn " + type(t.grad_fn).__name__)
    elif t.requires_grad:
        opts.append("requires_grad")
    if transpose:
        opts.append("transpose")
    if precision != 4:
        opts.append("precision %d" % precision)
    if t.dtype == torch.int64:
        opts.append("ids")
    assert "<<<" not in text and ">>>" not in text
    cases.append((name, t.detach(), opts, text))


def f32(values):
    return torch.tensor(values, dtype=torch.float32)


def leaf(values):
    return f32(values).requires_grad_(True)


def via_mm(t):
    """t itself (x @ I is exact), made by mm: grad_fn=<MmBackward0>."""
    return leaf(t.tolist()) @ torch.eye(t.shape[-1])


# ---- the book's chapter 3 outputs ------------------------------------------
inputs = f32([[0.43, 0.15, 0.89], [0.55, 0.87, 0.66], [0.57, 0.85, 0.64],
              [0.22, 0.58, 0.33], [0.77, 0.25, 0.10], [0.05, 0.80, 0.55]])
batch = torch.stack((inputs, inputs), dim=0)


torch.manual_seed(123)
add("book_rand_3x2", torch.rand(3, 2))
torch.manual_seed(123)
add("book_sa_v1", SelfAttention_v1(3, 2)(inputs))
torch.manual_seed(789)
add("book_sa_v2", SelfAttention_v2(3, 2)(inputs))
torch.manual_seed(123)
add("book_causal_3d", CausalAttention(3, 2, 6, 0.0)(batch))
torch.manual_seed(123)
add("book_dropout_int_mode", nn.Dropout(0.5)(torch.ones(6, 6)))
torch.manual_seed(123)
add("book_randn_20_wraps", torch.randn(20))
torch.manual_seed(123)
add("book_randn_5", torch.randn(5))

# ---- shapes ------------------------------------------------------------------
torch.manual_seed(0)
add("scalar", f32(3.5))
add("scalar_int", f32(-2.0))
add("scalar_nan", f32(math.nan))
add("scalar_grad_fn", leaf(2.25) * 2)
add("one_element", f32([0.1]))
add("row_1x4", torch.rand(1, 4))
add("col_4x1", torch.rand(4, 1))
add("three_d", torch.randn(2, 3, 4))
add("four_d", torch.randn(2, 2, 2, 3))
add("four_d_grad_fn", torch.randn(2, 3, 1, 2) * leaf(1.0))
add("five_d", torch.randn(2, 1, 2, 1, 2))
add("wide_2d_wraps", torch.randn(3, 12))
add("wide_3d_wraps", torch.randn(2, 2, 10) * 100)
add("transposed_view", torch.randn(3, 4), transpose=True)
add("transposed_3d_view", torch.randn(2, 3, 2), transpose=True)

# ---- formatter modes -----------------------------------------------------------
add("int_mode_negative", f32([-3.0, 0.0, 12.0, -100.0]))
add("int_mode_zeros", torch.zeros(2, 3))
add("int_mode_negative_zero", f32([-0.0, 1.0]))
add("int_mode_sci_by_ratio", f32([1.0, 2000.0]))
add("int_mode_sci_by_max", f32([123456792.0, 5.0e8]))
add("int_mode_1e8_not_sci", f32([100000000.0, 1.0e8]))
add("int_mode_nonfinite", f32([1.0, math.nan, math.inf, -math.inf, 0.0]))
add("only_nonfinite", f32([math.nan, math.inf, -math.inf]))
add("zero_and_nan", f32([0.0, math.nan]))
add("sci_small", f32([1.0e-5, 0.5, 0.25]))
add("sci_ratio", f32([0.001, 1.5]))
add("sci_not_quite", f32([0.0015, 1.5]))
add("sci_large", f32([1.5e9, -2.5e-3]))
add("sci_negative_exponents", f32([-1.0e-20, 3.0e-38, 1.0e-45]))
add("sci_huge", f32([3.4e38, -1.0, 1.0e-3]))
add("sci_nonfinite", f32([1.0e-5, math.nan, math.inf, -math.inf, 0.0]))
add("sci_2d", torch.randn(3, 3) * 1.0e-6)
add("negatives_widths", f32([-123.4567, 0.5, 10.0, -0.00015]))
add("mixed_widths_2d", f32([[1.5, -22.25], [333.125, 0.0625]]))
add("float_nonfinite", f32([0.5, math.nan, -math.inf, math.inf, -0.0]))
# ties on exact binary values round half to even: 0.03125 -> 0.0312, 0.09375 -> 0.0938
add("round_half_even", f32([0.03125, 0.09375, 0.15625, 1.00005, 2.5e-4 + 0.5]))
add("precision_2", torch.randn(2, 3), precision=2)
add("precision_0", f32([0.5, 1.5, 2.5, -0.75]), precision=0)
add("precision_6_sci", f32([1.0e-7, 1.0]), precision=6)
add("precision_8", torch.rand(4), precision=8)
# the longest values: 30 digits of the largest float, scientific and fixed
add("precision_30_sci", f32([-3.4028234663852886e38, 0.5]), precision=30)
add("precision_30_fixed", f32([-99999992.0, 100000.5]), precision=30)

# ---- suffixes --------------------------------------------------------------------
add("requires_grad_leaf", leaf([[0.1, 0.2], [0.3, 0.4]]))
add("requires_grad_scalar", leaf(1.0))
add("grad_fn_wraps_suffix", via_mm(torch.randn(1, 8))[0] * 1)
add("grad_fn_wraps_suffix_6", via_mm(torch.randn(1, 6))[0] * 1)
add("grad_fn_fits_suffix", via_mm(torch.randn(1, 5))[0] * 1)
add("requires_grad_wraps_suffix", leaf(torch.randn(8).tolist()))
add("grad_fn_long_row", via_mm(torch.randn(20, 20))[:2] * 1)
# last line + ", " + suffix: exactly 80 columns fits, 81 wraps
add("suffix_boundary_fits", leaf(torch.rand(3).tolist()), precision=13)
add("suffix_boundary_wraps", leaf(torch.rand(4).tolist()), precision=9)
add("grad_fn_mm", via_mm(torch.randn(4, 3)))

# ---- empty -----------------------------------------------------------------------
add("empty_1d", torch.zeros(0))
add("empty_0x3", torch.zeros(0, 3))
add("empty_2x0x3", torch.zeros(2, 0, 3))
add("empty_requires_grad", torch.zeros(0, 3).requires_grad_(True))
add("empty_1d_requires_grad", torch.zeros(0).requires_grad_(True))

# ---- summarized: more than 1000 elements ------------------------------------------
add("summary_1d", torch.randn(2000))
add("summary_1d_1001", torch.arange(1001, dtype=torch.float32))
add("summary_2d", torch.randn(40, 40))
add("summary_2d_few_rows", torch.randn(2, 600))
add("summary_2d_few_cols", torch.randn(600, 2))
add("summary_3d", torch.randn(11, 11, 11))
add("summary_4d", torch.randn(7, 7, 7, 7))
add("summary_sci", torch.randn(30, 40) * 1.0e5)
add("summary_int_mode", torch.arange(2000, dtype=torch.float32).reshape(40, 50))
add("summary_grad_fn", torch.randn(50, 30) * leaf(1.0))
# the middle holds a huge value the summary hides: the formatter must not see it
big = torch.rand(2000)
big[1000] = 1.0e10
add("summary_hides_middle", big)
add("not_summarized_1000", torch.rand(10, 100))

# ---- token ids: int64 tensors (the C side holds them as whole floats) ---------------
def ids(values):
    return torch.tensor(values, dtype=torch.int64)


# the book's chapter-4 generate_text_simple output, and its input
add("ids_book_output", ids([[15496, 11, 314, 716, 27018, 24086, 47843, 30961, 42348, 7267,
                             49706, 43231, 47062, 34657]]))
add("ids_book_input", ids([[15496, 11, 314, 716]]))
add("ids_book_batch", ids([[6109, 3626, 6100, 345], [6109, 1110, 6622, 257]]))
add("ids_scalar", ids(5))
add("ids_scalar_negative", ids(-12))
add("ids_1d", ids([0, 1, 2, 50256]))
add("ids_zeros", torch.zeros(2, 3, dtype=torch.int64))
add("ids_negative", ids([-3, 0, 12, -100]))
add("ids_3d", ids([[[1, 22], [333, 4444]], [[5, 0], [-7, 8]]]))
add("ids_wide_wraps", torch.randint(0, 50257, (3, 30)))
add("ids_narrow_wraps", torch.randint(0, 10, (2, 40)))
add("ids_1d_wraps", torch.randint(0, 1000, (40,)))
# whole floats far past 2^24 are still exact: the width comes from them
add("ids_large", ids([2 ** 40, -(2 ** 62), 16777216, 1]))
add("ids_transposed_view", torch.randint(0, 50257, (3, 4)), transpose=True)
add("ids_empty_1d", torch.zeros(0, dtype=torch.int64))
add("ids_empty_0x3", torch.zeros(0, 3, dtype=torch.int64))
add("ids_summary_1d_vocab_tail", torch.arange(49000, 50257))
add("ids_summary_2d", torch.arange(2000).reshape(40, 50))
add("ids_summary_batch_rows", torch.randint(0, 50257, (2, 1024)))
# the middle holds a wide value the summary hides: the width must not see it
hidden = torch.randint(0, 10, (2000,))
hidden[1000] = 123456789
add("ids_summary_hides_middle", hidden)


def write():
    with open(OUT, "w") as f:
        f.write("# written by gen_print.py with torch %s; see its docstring\n" % torch.__version__)
        for name, t, opts, text in cases:
            f.write("@%s %s\n" % (name, " ".join(str(d) for d in t.shape)) if t.dim()
                    else "@%s\n" % name)
            vals = [("%d" if isinstance(v, int) else "%.9g") % v for v in t.reshape(-1).tolist()]
            for i in range(0, len(vals), 8):
                f.write(" ".join(vals[i:i + 8]) + "\n")
            for o in opts:
                f.write(": %s\n" % o)
            f.write("<<<\n%s\n>>>\n" % text)


write()
