#!/usr/bin/python3
"""Fixtures for issue 23's building blocks, as PyTorch 1.13 computes them on CPU.

Run with Debian's python3-torch (1.13):  /usr/bin/python3 gen_building_blocks.py
It writes three files next to itself:

building_blocks.txt -- named tensors in the fixtures' format (testutil_fixture:
  a line "@name d0 d1 ..." (no dims: 0-d), then the values row-major, %.9g, so
  float32 round-trips; "nan" where PyTorch gives NaN).  Indices and class
  targets are whole numbers stored as floats (the C API's ids).  For every
  differentiable case the output's gradient is taken with the fixtures' seed
  out.backward(W), W[i] = 0.5 + (i % 7) / 8 row-major (testutil_seed_like;
  for a 0-d output W = 0.5), and stored as "<case>.g" (the gradient of the
  input named in the case's comment below; only that input requires grad).
  Lines "#error <case>: <message>" at the end give PyTorch's error text for
  bad input (the C side words its own, naming the same value).
  Sections:
  gather.*      x.gather(dim, index): "<case>.x", "<case>.index", "<case>"
                (the output), "<case>.g" (d out / d x; repeated indices add).
                Cases: 1d (repeats), 2d_d0, 2d_d1 (index smaller than x in the
                other dim), 3d_d0, 3d_d1, 3d_d2 (index longer than x along dim),
                neg_dim (dim -1), nc (x a transposed view: "<case>.x" holds the
                (4,3) storage, the op reads x.t()), nc_index (index a
                transposed view: "<case>.index" holds the (2,3) storage, the op
                reads index.t()), expanded (x = base (1,4) expanded to (3,4):
                "<case>.x" is the base, "<case>.g" its gradient), ce_pick (the
                cross-entropy pick: log_softmax(z).gather(1, y.unsqueeze(1)),
                "<case>.x" is z).
  ce.*          F.cross_entropy(logits, target, ...) with class-index targets:
                "<case>.logits", "<case>.target", "<case>" (the loss: 0-d for
                mean and sum, (N) or (N, d) for none), "<case>.g" (d loss /
                d logits).  Options are in the case name: mean/sum/none, the
                ignore_index when not the default -100 (ii_m1 = -1, ii_2 = 2:
                a real class), all_ignored (every target -100: mean NaN and a
                zero gradient, sum 0, none zeros), nd (logits (N, C, d), target
                (N, d)), 1d (logits (C), target 0-d), nc (logits a transposed
                view: "<case>.logits" holds the (C, N) storage, the op reads
                logits.t()).
  nll.*         F.nll_loss(input, target, ...): the same cases with "<case>.input"
                (any values; nll does not need log-probabilities).
  bcel.*        F.binary_cross_entropy_with_logits(logits, target, ...):
                "<case>.logits", "<case>.target", "<case>.pos_weight" when
                given, "<case>", "<case>.g" (d loss / d logits).  Logits include
                +-30 and +-100 (no overflow), soft targets; nc: logits a
                transposed view of the (4,3) storage.
  cmp.*         eq ne gt lt ge le as 0/1 floats: inputs "cmp.a" (3,4) (a NaN at
                [1,1], ties with b), "cmp.b" (3,4), "cmp.row" (4), "cmp.col" (3,1),
                outputs "cmp.<op>.tt" (a op b), "cmp.<op>.row" (a op row),
                "cmp.<op>.col" (a op col), "cmp.<op>.s" (a op 0.5),
                "cmp.<op>.nc" (a.t() op b.t(), shape (4,3)); "cmp.accuracy.logits"
                (6,3), "cmp.accuracy.y" (6), "cmp.accuracy" (0-d):
                (logits.argmax(1) == y).float().mean().
  act.*         silu, leaky_relu (slope 0.01 and 0.2), softplus (beta 1,
                threshold 20; beta 2, threshold 5): inputs "act.x" (4,8, with 0,
                +-1e-3, the thresholds and the floats on either side of them,
                +-100), "act.xt" (3,5 storage, the op reads xt.t(): (5,3)); outputs
                "act.<f>" and "act.<f>.g", "act.<f>.nc" and "act.<f>.nc.g".
                f is silu, leaky_relu, leaky_relu_0.2, softplus, softplus_b2_t5.
  argmax.*/topk.*  inputs for building_blocks_print.txt (below).

building_blocks_print.txt -- argmax and topk results as print() shows an int64
  tensor, in print.txt's format (see gen_print.py): "@name dims", the values,
  ": ids", then "<<<", repr(tensor) verbatim, ">>>".  argmax.<case> comes from
  the input "@argmax.<case>.x" in building_blocks.txt; topk.<case>.indices
  from "@topk.<case>.x" (torch.topk(x, k) along the last dim, k in the case
  comment) and its values are "@topk.<case>.values" in building_blocks.txt.
  Cases whose name holds "ties" have equal values among the top k: PyTorch's
  order of tied indices there is what libstdc++'s std::partial_sort (when
  k * 64 <= n) or std::nth_element + std::sort of the first k - 1 (otherwise)
  leave (aten/src/ATen/native/TopKImpl.h), not "the lower index first".
  argmax's ties give the first index; a NaN counts as the largest value.

randint.txt -- torch.randint draws.  "@name d0 ..." then the values as decimal
  integers (exact: read them with strtoll, not as floats, when they pass 2^24),
  and after every case "@name.next 2": the two floats torch.rand(2) draws next
  from the same generator, pinning how many 32-bit words the case used.
  Each case starts from torch.manual_seed(seed) (or its own torch.Generator
  seeded so) and calls torch.randint(low, high, size) (int64 result); name:
  randint.s<seed>.<low>_<high>.<n> (m = minus, p = 2^, e.g. m2p31 = -2^31).
  The rule (aten/src/ATen/core/DistributionsHelper.h,
  uniform_int_from_to_distribution; TransformationHelper.h uniform_int_from_to;
  cpu/DistributionTemplates.h random_from_to_kernel, a serial loop over the
  elements in order): range = (uint64) high - (uint64) low;
    range >= 2^32:  v = random64() = (w1 << 32) | w2, two 32-bit MT19937 words,
                    the first one the high half;
    range <  2^32:  v = one 32-bit word;
  value = (int64) ((v % range) + (uint64) low) -- a plain modulo, biased, no
  rejection, so every element uses exactly one or exactly two words whatever
  the size (1, 16, 17 elements alike: no vectorised path).  That is the int64
  result (torch.randint's default dtype), cases randint.*.
  Cases randint_f32.* are torch.randint(low, high, size, dtype=torch.float32),
  values %.9g: the same rule after torch moves the bounds inward to floats
  that stay inside [low, high) (native/DistributionTemplates.h update_from /
  update_to; only when low + 1 or high - 1 is not a float32: with n the
  index of the top bit of |high - 1|, high = (int64) (float) (high - 1) -
  2^(n - 23); with n that of |low + 1|, low = (int64) (float) (low + 1) +
  2^(n - 23)), and the int64 value then rounded to float32.  So
  randint(0, 2^32, dtype=float32) draws ONE word per element (range
  2^32 - 256) where the int64 call draws two.  Bounds past +-2^24 only warn in
  1.13.  For ids (whole floats exact to 2^24) both results agree whenever
  high - low <= 2^24 and |low|, |high| <= 2^24.
  The script checks every case against its own MT19937 with these rules.
"""
import math
import os
import warnings

import torch
import torch.nn.functional as F

from book_ch03 import backward_weights, write_tensor

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))


class Out:
    def __init__(self):
        self.lines = []

    def write(self, s):
        self.lines.append(s)

    def tensor(self, name, t):
        write_tensor(self, name, torch.as_tensor(t).float())

    def text(self):
        return "".join(self.lines)


OUT = Out()
ERRORS = []
PRINTS = []


def emit(name, t):
    OUT.tensor(name, t)


def error(case, fn):
    try:
        fn()
    except Exception as e:      # noqa: BLE001 (every kind of error is recorded)
        ERRORS.append("#error %s: %s: %s" % (case, type(e).__name__, str(e).splitlines()[0]))
        return
    raise AssertionError("%s: PyTorch accepted it" % case)


def grad_case(name, fn, xs, x_name="x", store_x=True):
    """out = fn(leaf); emits <name>.<x_name> (the storage), <name>, <name>.g."""
    leaf = xs.clone().requires_grad_()
    out = fn(leaf)
    if store_x:
        emit("%s.%s" % (name, x_name), xs)
    emit(name, out)
    out.backward(backward_weights(out.shape))
    emit(name + ".g", leaf.grad)
    return out


# ---- gather -----------------------------------------------------------------
def gather_cases():
    g = torch.Generator().manual_seed(23)

    def rnd(*shape):
        return torch.randn(shape, generator=g)

    def idx(values):
        return torch.tensor(values, dtype=torch.long)

    cases = [
        ("1d", rnd(6), 0, idx([5, 0, 5, 2])),
        ("2d_d0", rnd(3, 4), 0, idx([[2, 0, 1, 2], [2, 2, 0, 0]])),
        ("2d_d1", rnd(3, 4), 1, idx([[3, 3, 0], [1, 2, 1]])),
        ("3d_d0", rnd(2, 3, 4), 0,
         idx([[[1, 0, 1, 1], [0, 0, 1, 0]], [[1, 1, 1, 1], [0, 1, 0, 1]]])),
        ("3d_d1", rnd(2, 3, 4), 1,
         idx([[[2, 0, 1, 2], [2, 2, 2, 0]], [[0, 1, 0, 1], [1, 1, 2, 2]]])),
        ("3d_d2", rnd(2, 3, 4), 2, idx([[[3, 0, 3, 1, 1, 2], [0, 0, 0, 0, 3, 3]],
                                        [[1, 2, 3, 0, 1, 2], [2, 2, 1, 1, 0, 3]]])),
        ("neg_dim", rnd(3, 4), -1, idx([[0, 1], [3, 3], [2, 0]])),
    ]
    for name, x, dim, index in cases:
        case = "gather." + name
        emit(case + ".index", index)
        grad_case(case, lambda t: t.gather(dim, index), x)
    # x a transposed view
    base = rnd(4, 3)
    index = idx([[3, 0], [1, 1], [2, 3]])
    emit("gather.nc.index", index)
    grad_case("gather.nc", lambda t: t.t().gather(1, index), base)
    # index a transposed view: the op reads index.t() (3, 2)
    x = rnd(3, 4)
    index_storage = idx([[0, 3, 3], [2, 1, 0]])
    emit("gather.nc_index.index", index_storage)
    grad_case("gather.nc_index", lambda t: t.gather(1, index_storage.t()), x)
    # x broadcast by expand: the gradient sums into the (1, 4) base
    base = rnd(1, 4)
    index = idx([[0, 3], [3, 3], [1, 0]])
    emit("gather.expanded.index", index)
    grad_case("gather.expanded", lambda t: t.expand(3, 4).gather(1, index), base)
    # the cross-entropy pick
    z = rnd(4, 5)
    y = idx([1, 0, 4, 1])
    emit("gather.ce_pick.index", y)
    grad_case("gather.ce_pick", lambda t: F.log_softmax(t, 1).gather(1, y.unsqueeze(1)), z)
    # PyTorch's messages for bad indices
    x = rnd(3, 4)
    error("gather.out_of_range", lambda: x.gather(1, idx([[4]])))
    error("gather.negative_index", lambda: x.gather(1, idx([[-1]])))
    error("gather.index_too_big", lambda: x.gather(1, idx([[0], [0], [0], [0]])))
    error("gather.ndim", lambda: x.gather(1, idx([0, 1])))
    error("gather.dim", lambda: x.gather(2, idx([[0]])))


# ---- cross_entropy and nll_loss ---------------------------------------------
def loss_cases():
    g = torch.Generator().manual_seed(2323)
    logits = torch.randn((6, 5), generator=g) * 2
    mixed = torch.tensor([1, -100, 3, 0, -100, 4])
    all_ignored = torch.full((6,), -100, dtype=torch.long)
    with_m1 = torch.tensor([-1, 2, 2, -1, 0, 4])
    with_2 = torch.tensor([2, 0, 2, 1, 3, 2])
    plain = torch.tensor([1, 2, 3, 0, 4, 4])
    logits_nd = torch.randn((2, 5, 3), generator=g) * 2
    target_nd = torch.tensor([[0, -100, 4], [2, 2, 1]])
    logits_1d = torch.randn((5,), generator=g) * 2
    logits_nc = torch.randn((5, 6), generator=g) * 2   # read as .t(): (6, 5)

    def ce(name, x, t, read=lambda v: v, **kw):
        case = "ce." + name
        emit(case + ".target", t)
        out = grad_case(case, lambda v: F.cross_entropy(read(v), t, **kw), x, "logits")
        return out

    def nll(name, x, t, read=lambda v: v, **kw):
        case = "nll." + name
        emit(case + ".target", t)
        return grad_case(case, lambda v: F.nll_loss(read(v), t, **kw), x, "input")

    inputs = torch.randn((6, 5), generator=g)
    inputs_nd = torch.randn((2, 5, 3), generator=g)
    for red in ("mean", "sum", "none"):
        ce("plain.%s" % red, logits, plain, reduction=red)
        ce("ignored.%s" % red, logits, mixed, reduction=red)
        ce("ii_m1.%s" % red, logits, with_m1, ignore_index=-1, reduction=red)
        ce("ii_2.%s" % red, logits, with_2, ignore_index=2, reduction=red)
        out = ce("all_ignored.%s" % red, logits, all_ignored, reduction=red)
        ce("nd.%s" % red, logits_nd, target_nd, reduction=red)
        ce("all_ignored_nd.%s" % red, logits_nd, torch.full((2, 3), -100), reduction=red)
        ce("1d.%s" % red, logits_1d, torch.tensor(3), reduction=red)
        ce("1d_ignored.%s" % red, logits_1d, torch.tensor(-100), reduction=red)
        ce("nc.%s" % red, logits_nc, mixed, read=lambda v: v.t(), reduction=red)
        nll("plain.%s" % red, inputs, plain, reduction=red)
        nll("ignored.%s" % red, inputs, mixed, reduction=red)
        nll("ii_m1.%s" % red, inputs, with_m1, ignore_index=-1, reduction=red)
        nll("all_ignored.%s" % red, inputs, all_ignored, reduction=red)
        nll("nd.%s" % red, inputs_nd, target_nd, reduction=red)
        if red == "mean":
            assert math.isnan(out.item())
        elif red == "sum":
            assert out.item() == 0.0
    # the mean is over the rows not ignored
    kept = mixed != -100
    want = -F.log_softmax(logits, 1)[kept.nonzero().squeeze(1), mixed[kept]].mean()
    assert torch.allclose(F.cross_entropy(logits, mixed), want)
    error("ce.target_out_of_range",
          lambda: F.cross_entropy(logits, torch.tensor([5, 0, 0, 0, 0, 0])))
    error("ce.target_negative", lambda: F.cross_entropy(logits, torch.tensor([-1, 0, 0, 0, 0, 0])))
    error("ce.batch_mismatch", lambda: F.cross_entropy(logits, torch.tensor([1, 0, 0])))
    error("ce.float_target", lambda: F.cross_entropy(logits, plain.float()))
    error("nll.target_out_of_range", lambda: F.nll_loss(inputs, torch.tensor([0, 0, 9, 0, 0, 0])))


# ---- binary_cross_entropy_with_logits ---------------------------------------
def bcel_cases():
    g = torch.Generator().manual_seed(77)
    logits = torch.randn((3, 4), generator=g) * 3
    logits[0, 0], logits[0, 1], logits[1, 2], logits[2, 3] = 30.0, -30.0, 100.0, -100.0
    target = torch.rand((3, 4), generator=g)
    target[0, 0], target[0, 1], target[1, 2], target[2, 3] = 0.0, 1.0, 1.0, 0.0
    target[2, 0], target[2, 1] = 1.0, 0.0
    pos_weight = torch.tensor([1.0, 2.0, 0.5, 3.0])
    logits_nc = torch.randn((4, 3), generator=g) * 3

    def case(name, x, read=lambda v: v, **kw):
        c = "bcel." + name
        emit(c + ".target", target)
        if "pos_weight" in kw:
            emit(c + ".pos_weight", kw["pos_weight"])
        grad_case(c, lambda v: F.binary_cross_entropy_with_logits(read(v), target, **kw),
                  x, "logits")

    for red in ("mean", "sum", "none"):
        case(red, logits, reduction=red)
        case("pos_weight.%s" % red, logits, pos_weight=pos_weight, reduction=red)
        case("nc.%s" % red, logits_nc, read=lambda v: v.t(), reduction=red)


# ---- comparisons -------------------------------------------------------------
def cmp_cases():
    g = torch.Generator().manual_seed(5)
    a = torch.randint(-2, 3, (3, 4), generator=g).float() / 2
    b = torch.randint(-2, 3, (3, 4), generator=g).float() / 2
    a[1, 1] = float("nan")
    row = torch.tensor([0.5, -1.0, 0.0, 1.0])
    col = torch.tensor([[0.0], [0.5], [-0.5]])
    emit("cmp.a", a)
    emit("cmp.b", b)
    emit("cmp.row", row)
    emit("cmp.col", col)
    ops = {"eq": torch.eq, "ne": torch.ne, "gt": torch.gt, "lt": torch.lt, "ge": torch.ge,
           "le": torch.le}
    for name, op in ops.items():
        emit("cmp.%s.tt" % name, op(a, b).float())
        emit("cmp.%s.row" % name, op(a, row).float())
        emit("cmp.%s.col" % name, op(a, col).float())
        emit("cmp.%s.s" % name, op(a, 0.5).float())
        emit("cmp.%s.nc" % name, op(a.t(), b.t()).float())
    logits = torch.randn((6, 3), generator=g)
    y = torch.tensor([0, 2, 1, 1, 0, 2])
    emit("cmp.accuracy.logits", logits)
    emit("cmp.accuracy.y", y)
    emit("cmp.accuracy", (logits.argmax(1) == y).float().mean())


# ---- activations -------------------------------------------------------------
def act_cases():
    g = torch.Generator().manual_seed(11)
    f32 = lambda v: torch.tensor(v, dtype=torch.float32)  # noqa: E731
    up = lambda v: torch.nextafter(f32(v), f32(math.inf)).item()  # noqa: E731
    down = lambda v: torch.nextafter(f32(v), f32(-math.inf)).item()  # noqa: E731
    special = [0.0, 1e-3, -1e-3, 20.0, up(20.0), down(20.0), 2.5, up(2.5), down(2.5),
               -100.0, 100.0, -20.0, 40.0, -2.5, 5.0, -5.0]
    x = torch.randn((4, 8), generator=g) * 4
    x.view(-1)[:len(special)] = f32(special)
    xt = torch.randn((3, 5), generator=g) * 4
    fns = {
        "silu": F.silu,
        "leaky_relu": F.leaky_relu,
        "leaky_relu_0.2": lambda v: F.leaky_relu(v, 0.2),
        "softplus": F.softplus,
        "softplus_b2_t5": lambda v: F.softplus(v, beta=2.0, threshold=5.0),
    }
    emit("act.x", x)
    emit("act.xt", xt)
    for name, fn in fns.items():
        grad_case("act." + name, fn, x, store_x=False)
        grad_case("act.%s.nc" % name, lambda v: fn(v.t()), xt, store_x=False)
    # the threshold switch: beta * x > threshold gives x itself, gradient 1
    y = F.softplus(x, beta=2.0, threshold=5.0)
    assert y.view(-1)[7].item() == up(2.5) and y.view(-1)[6].item() != 2.5
    assert F.softplus(x).view(-1)[4].item() == up(20.0)


# ---- argmax and topk (printed as int64) --------------------------------------
def add_print(name, t):
    assert t.dtype == torch.int64
    PRINTS.append((name, t, repr(t)))


def argmax_topk_cases():
    g = torch.Generator().manual_seed(9)
    x = torch.randn((3, 4), generator=g)
    ties = torch.tensor([[1.0, 3.0, 3.0, 0.0, 3.0], [2.0, 2.0, 2.0, 2.0, 2.0],
                         [5.0, -1.0, 5.0, 4.0, 4.0]])
    nan = torch.tensor([[1.0, float("nan"), 2.0, float("nan")], [0.0, 1.0, 1.0, -1.0]])
    wide = torch.randn((3, 20000), generator=g)
    wide[0, 5], wide[1, 19999], wide[2, 123] = 10.0, 10.0, 10.0
    x3 = torch.randn((2, 3, 4), generator=g)
    cases = [
        ("dim1", x, lambda v: v.argmax(1)),
        ("dim0", x, lambda v: v.argmax(0)),
        ("keepdim", x, lambda v: v.argmax(1, keepdim=True)),
        ("all", x, lambda v: v.argmax()),
        ("ties", ties, lambda v: v.argmax(1)),
        ("nan", nan, lambda v: v.argmax(1)),
        ("wide", wide, lambda v: v.argmax(1)),
        ("3d_dim1", x3, lambda v: v.argmax(1)),
        ("3d_last", x3, lambda v: v.argmax(-1)),
        ("nc", x, lambda v: v.t().argmax(1)),
    ]
    for name, inp, fn in cases:
        emit("argmax.%s.x" % name, inp)
        add_print("argmax." + name, fn(inp))
    v8 = torch.randn((8,), generator=g)
    r = torch.randn((3, 6), generator=g)
    big = torch.randn((2, 200), generator=g)
    ties1 = torch.tensor([1.0] + [3.0] * 20)
    tcases = [
        ("1d_k3", v8, 3), ("2d_k2", r, 2), ("2d_k6", r, 6), ("big_k3", big, 3),
        ("ties_k2", ties, 2), ("ties_k3", ties, 3), ("ties_1d_k5", ties1, 5),
    ]
    for name, inp, k in tcases:
        values, indices = torch.topk(inp, k)
        emit("topk.%s.x" % name, inp)
        emit("topk.%s.values" % name, values)
        add_print("topk.%s.indices" % name, indices)
    # ties among the top k come out in libstdc++'s order, not by index
    assert torch.topk(ties, 2)[1].tolist() == [[2, 4], [2, 4], [0, 2]]


def write_prints(path):
    with open(path, "w") as f:
        f.write("# written by gen_building_blocks.py with torch %s; see its docstring\n"
                % torch.__version__)
        for name, t, text in PRINTS:
            f.write("@%s %s\n" % (name, " ".join(str(d) for d in t.shape)) if t.dim()
                    else "@%s\n" % name)
            vals = ["%d" % v for v in t.reshape(-1).tolist()]
            for i in range(0, len(vals), 8):
                f.write(" ".join(vals[i:i + 8]) + "\n")
            f.write(": ids\n<<<\n%s\n>>>\n" % text)


# ---- randint -------------------------------------------------------------------
class MT19937:
    """The 32-bit Mersenne Twister as torch's CPU generator seeds it (init_genrand
    with the seed's low 32 bits)."""

    def __init__(self, seed):
        self.mt = [0] * 624
        self.mt[0] = seed & 0xFFFFFFFF
        for i in range(1, 624):
            prev = self.mt[i - 1]
            self.mt[i] = (1812433253 * (prev ^ (prev >> 30)) + i) & 0xFFFFFFFF
        self.i = 624

    def next32(self):
        if self.i >= 624:
            for k in range(624):
                y = (self.mt[k] & 0x80000000) | (self.mt[(k + 1) % 624] & 0x7FFFFFFF)
                self.mt[k] = self.mt[(k + 397) % 624] ^ (y >> 1) ^ (0x9908B0DF if y & 1 else 0)
            self.i = 0
        y = self.mt[self.i]
        self.i += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C5680
        y ^= (y << 15) & 0xEFC60000
        y ^= y >> 18
        return y & 0xFFFFFFFF


def randint_model(mt, low, high, n):
    rng = (high - low) % 2 ** 64
    out = []
    for _ in range(n):
        if rng >= 2 ** 32:
            hi = mt.next32()
            v = (hi << 32) | mt.next32()
        else:
            v = mt.next32()
        u = (v % rng + low) % 2 ** 64
        out.append(u - 2 ** 64 if u >= 2 ** 63 else u)
    return out


def rand_model(mt, n):
    """torch.rand (float32): the low 24 bits of one word times 2^-24."""
    return [(mt.next32() & 0xFFFFFF) * 2.0 ** -24 for _ in range(n)]


def bound_name(v):
    for p in range(24, 64):
        for sign, tag in ((1, "p"), (-1, "mp")):
            for off, suffix in ((0, ""), (-1, "m1")):
                if v == sign * 2 ** p + off and v not in (0,):
                    return "%s%d%s" % (tag, p, suffix)
    return ("m%d" % -v) if v < 0 else str(v)


RANDINT_CASES = [
    # seed, low, high, size
    (0, 0, 10, (1,)), (0, 0, 10, (16,)), (0, 0, 10, (17,)), (0, 0, 10, (2, 3)),
    (123, 0, 2, (17,)), (123, -5, 5, (16,)), (123, 0, 50257, (17,)),
    (123, 0, 2 ** 24, (16,)), (123, 0, 2 ** 31, (16,)), (123, -2 ** 31, 0, (16,)),
    (123, 0, 2 ** 32 - 1, (17,)),            # range 2^32 - 1: one word
    (123, 0, 2 ** 32, (17,)),                # range 2^32: two words
    (123, -2 ** 31, 2 ** 31, (16,)),         # range 2^32 again, negative low
    (123, 1, 2 ** 32, (16,)),                # range 2^32 - 1 with low 1
    (123, 0, 2 ** 32 + 1, (16,)),
    (123, 0, 2 ** 40, (17,)), (123, -2 ** 40, 2 ** 40, (16,)),
    (123, -2 ** 62, 2 ** 62, (16,)), (123, 0, 2 ** 63 - 1, (16,)),
    (123, -2 ** 63, 2 ** 63 - 1, (16,)),     # range 2^64 - 1, the widest with a bound
    (42, 5, 6, (17,)),                       # range 1: every value 5, a word each
    (7, 0, 1000, (1,)),
]


RANDINT_F32_CASES = [
    (0, 0, 10, (16,)), (123, -5, 5, (16,)), (123, 0, 2 ** 24, (16,)),
    (123, 0, 2 ** 24 + 2, (16,)),            # high - 1 = 2^24 + 1 is no float: moved
    (123, 0, 2 ** 32, (17,)),                # high moved to 2^32 - 256: one word each
    (123, 0, 2 ** 33, (16,)),                # high moved to 2^33 - 512: two words
    (123, -2 ** 40, 2 ** 40, (16,)),         # both bounds moved
]


def f32_exact(v):
    return int(torch.tensor(v, dtype=torch.int64).float().item())


def f32_to(to):
    """native/DistributionTemplates.h update_to<float>."""
    to_minus_1 = f32_exact(to - 1)
    if to_minus_1 >= to:
        n = abs(to - 1).bit_length() - 1
        to = to_minus_1 - (1 << (n - 24 + 1))
    return to


def f32_from(low):
    """native/DistributionTemplates.h update_from<float>."""
    from_plus_1 = f32_exact(low + 1)
    if from_plus_1 < low:
        n = abs(low + 1).bit_length() - 1
        low = from_plus_1 + (1 << (n - 24 + 1))
    return low


def randint_cases():
    lines = ["# written by gen_building_blocks.py with torch %s; see its docstring"
             % torch.__version__]

    def put(name, values, shape):
        lines.append("@%s %s" % (name, " ".join(str(d) for d in shape)))
        lines.append(" ".join(str(v) for v in values))

    def put_next(name, t):
        lines.append("@%s.next 2" % name)
        lines.append(" ".join("%.9g" % v for v in t.tolist()))

    for seed, low, high, size in RANDINT_CASES:
        n = math.prod(size)
        name = "randint.s%d.%s_%s.%d" % (seed, bound_name(low), bound_name(high), n)
        if size == (2, 3):
            name += "_2x3"
        torch.manual_seed(seed)
        got = torch.randint(low, high, size)
        nxt = torch.rand(2)
        mt = MT19937(seed)
        assert got.reshape(-1).tolist() == randint_model(mt, low, high, n), name
        assert nxt.tolist() == rand_model(mt, 2), name
        put(name, got.reshape(-1).tolist(), size)
        put_next(name, nxt)
    # torch.randint(high, size) is low = 0
    torch.manual_seed(3)
    a = torch.randint(10, (5,))
    torch.manual_seed(3)
    assert torch.equal(a, torch.randint(0, 10, (5,)))
    # an explicit generator leaves the default one alone; draws interleave by generator
    gen = torch.Generator().manual_seed(99)
    torch.manual_seed(100)
    x = torch.randint(0, 2 ** 40, (3,), generator=gen)
    y = torch.randint(0, 7, (3,))
    z = torch.randint(0, 7, (2,), generator=gen)
    nxt_gen = torch.rand(2, generator=gen)
    nxt_def = torch.rand(2)
    mg, md = MT19937(99), MT19937(100)
    assert x.tolist() == randint_model(mg, 0, 2 ** 40, 3)
    assert y.tolist() == randint_model(md, 0, 7, 3)
    assert z.tolist() == randint_model(mg, 0, 7, 2)
    assert nxt_gen.tolist() == rand_model(mg, 2) and nxt_def.tolist() == rand_model(md, 2)
    put("randint.gen99.0_p40.3", x.tolist(), (3,))
    put("randint.gen99.default100.0_7.3", y.tolist(), (3,))
    put("randint.gen99.0_7.2", z.tolist(), (2,))
    put_next("randint.gen99", nxt_gen)
    put_next("randint.default100", nxt_def)
    # float32 results: the bounds moved inward to floats, then the same rule
    torch.manual_seed(0)
    f = torch.randint(0, 10, (16,), dtype=torch.float32)
    torch.manual_seed(0)
    assert f.tolist() == torch.randint(0, 10, (16,)).float().tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # bounds past 2^24 warn
        for seed, low, high, size in RANDINT_F32_CASES:
            n = math.prod(size)
            name = "randint_f32.s%d.%s_%s.%d" % (seed, bound_name(low), bound_name(high), n)
            torch.manual_seed(seed)
            got = torch.randint(low, high, size, dtype=torch.float32)
            nxt = torch.rand(2)
            mt = MT19937(seed)
            lo, hi = f32_from(low), f32_to(high)
            want = torch.tensor(randint_model(mt, lo, hi, n), dtype=torch.int64).float()
            assert torch.equal(got.reshape(-1), want), name
            assert nxt.tolist() == rand_model(mt, 2), name
            lines.append("@%s %s" % (name, " ".join(str(d) for d in size)))
            lines.append(" ".join("%.9g" % v for v in got.reshape(-1).tolist()))
            put_next(name, nxt)
    for case, fn in [
        ("randint.empty_range", lambda: torch.randint(5, 5, (3,))),
        ("randint.reversed", lambda: torch.randint(5, 2, (3,))),
    ]:
        error(case, fn)
    with open(os.path.join(HERE, "randint.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    OUT.write("# Generated by gen_building_blocks.py with torch %s; do not edit.\n"
              % torch.__version__)
    gather_cases()
    loss_cases()
    bcel_cases()
    cmp_cases()
    act_cases()
    argmax_topk_cases()
    randint_cases()
    with open(os.path.join(HERE, "building_blocks.txt"), "w") as f:
        f.write(OUT.text())
        f.write("\n".join(ERRORS) + "\n")
    write_prints(os.path.join(HERE, "building_blocks_print.txt"))


if __name__ == "__main__":
    main()
