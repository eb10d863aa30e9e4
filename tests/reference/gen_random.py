#!/usr/bin/python3
"""Writes tests/reference/random.txt: what PyTorch 1.13's CPU generator draws
for rand, uniform_, randn, normal_, bernoulli_ and dropout after a manual
seed, read by tests/test_random.c.

Run with Debian's python3-torch (1.13):  /usr/bin/python3 gen_random.py
Every case starts from torch.manual_seed() (or its own torch.Generator) and
stores each result in row-major logical order; a case with several names
(NAME_a, NAME_b, ...) draws them in that order from one generator, so the
test checks that the generator state, including the cached second normal of
Box-Muller, carries from one call to the next.  The seeds and arguments are
repeated in test_random.c, which must draw the same way.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "random.txt")
LINES = ["# written by gen_random.py with torch %s" % torch.__version__]


def put(name, t):
    t = torch.as_tensor(t, dtype=torch.float32)
    LINES.append("@%s %s" % (name, " ".join(str(s) for s in t.shape)) if t.dim() else "@" + name)
    LINES.append(" ".join("%.9g" % v for v in t.flatten().tolist()))


def transposed(rows, cols):
    """An uninitialised (cols, rows) tensor viewed as (rows, cols): strides (1, rows)."""
    return torch.empty(cols, rows).t()


# rand: seeds whose low 32 bits match (5 and 2**32 + 5) must draw alike.
for seed in (0, 5, 123, 789, 2**32 + 5):
    torch.manual_seed(seed)
    put("rand_s%d_a" % seed, torch.rand(3, 2))
    put("rand_s%d_b" % seed, torch.rand(100))
torch.manual_seed(5)
first5 = torch.rand(3, 2)
torch.manual_seed(2**32 + 5)
assert torch.equal(first5, torch.rand(3, 2))

# uniform_(-b, b) as nn.Linear(3, 6) initialises its weight; b travels as a float32.
B = torch.tensor(3 ** -0.5, dtype=torch.float32).item()
put("uniform_bound", torch.tensor(B))
torch.manual_seed(123)
put("uniform_linear_w", torch.empty(6, 3).uniform_(-B, B))
put("uniform_linear_b", torch.empty(6).uniform_(-B, B))
torch.manual_seed(123)
put("uniform_many", torch.empty(1000).uniform_(-B, B))
torch.manual_seed(4)
put("uniform_wide", torch.empty(200).uniform_(-3.3, 7.1))
# non-contiguous targets are filled in memory order
torch.manual_seed(9)
put("uniform_transposed", transposed(3, 4).uniform_(-1, 1))
torch.manual_seed(9)
put("uniform_sliced", torch.empty(3, 8)[:, 2:6].uniform_(-1, 1))

# randn: under 16 elements Box-Muller in double, from 16 the blocks of 16.
for n in (1, 5, 15, 16, 17, 20, 33, 100):
    torch.manual_seed(123)
    put("randn_%d" % n, torch.randn(n))
torch.manual_seed(123)
put("randn_twice5_a", torch.randn(5))
put("randn_twice5_b", torch.randn(5))
torch.manual_seed(123)
put("randn_twice20_a", torch.randn(20))
put("randn_twice20_b", torch.randn(20))
torch.manual_seed(123)
put("randn_2d", torch.randn(4, 6))

# normal_(mean, std): serial (7), block (40), serial non-contiguous (4, 5)^T
torch.manual_seed(11)
put("normal_a", torch.empty(7).normal_(0.5, 2.0))
put("normal_b", torch.empty(40).normal_(-1.0, 0.25))
put("normal_c", transposed(4, 5).normal_(0.3, 1.7))



def untemper(y):
    """The MT19937 state word whose tempered output is y."""
    y ^= y >> 18
    y ^= (y << 15) & 0xEFC60000
    r = y
    for _ in range(5):
        r = y ^ ((r << 7) & 0x9D2C5680)
    y = r & 0xFFFFFFFF
    r = y
    for _ in range(3):
        r = y ^ (r >> 11)
    return r & 0xFFFFFFFF


def crafted_generator(words):
    """A generator whose next 32-bit draws are exactly words (no twist before them).
    Layout of torch 1.13's CPU generator state: int64 seed, int32 left, int32 seeded,
    uint64 next, uint64 state[624], ..."""
    g = torch.Generator()
    st = g.get_state().numpy().copy()
    st[8:12].view(np.int32)[0] = len(words) + 1
    st[16:24].view(np.uint64)[0] = 0
    state = st[24:24 + 624 * 8].view(np.uint64)
    for i, w in enumerate(words):
        state[i] = untemper(w)
    g.set_state(torch.from_numpy(st))
    return g


# The 16-wide normal kernel on chosen uniforms: u2 = k * 2^-24 for these k are three
# of the rare angles where fusing x - j * DP3 into an FMA changes cos (and is fused).
CRAFTED = [5000000 + i for i in range(8)] + [12582909, 12582912, 12582913, 1, 2, 3, 4, 5]
put("crafted_words", torch.tensor(CRAFTED, dtype=torch.float64))
put("normal_crafted", torch.empty(16).normal_(generator=crafted_generator(CRAFTED)))

# bernoulli_(p) with a scalar p
torch.manual_seed(3)
put("bernoulli_a", torch.empty(50).bernoulli_(0.3))
put("bernoulli_b", transposed(3, 4).bernoulli_(0.5))

# dropout: the book's example, then other p and shapes; inputs drawn first
torch.manual_seed(123)
book = torch.nn.Dropout(0.5)(torch.ones(6, 6))
assert book.tolist() == [[2, 2, 0, 2, 2, 0], [0, 0, 0, 2, 0, 2], [2, 2, 2, 2, 0, 2],
                         [0, 2, 2, 0, 0, 2], [0, 2, 0, 2, 0, 2], [0, 2, 2, 2, 2, 0]]
put("dropout_book", book)
torch.manual_seed(5)
x = torch.rand(5, 7)
put("dropout_p01_x", x)
put("dropout_p01", F.dropout(x, 0.1))
torch.manual_seed(6)
put("dropout_p09", F.dropout(torch.full((8,), 3.0), 0.9))
torch.manual_seed(7)   # 1 / (1 - p) rounds differently in float and double for 0.15
put("dropout_p015", F.dropout(torch.ones(3, 4, 5), 0.15))
torch.manual_seed(8)
x = torch.rand(4, 3)
put("dropout_t_x", x)
put("dropout_t", F.dropout(x.t(), 0.5))   # the noise is drawn in logical order
torch.manual_seed(10)
x = torch.rand(4, 5).requires_grad_()
y = F.dropout(x, 0.45)
dy = 1 + (torch.arange(20, dtype=torch.float32) % 7).reshape(4, 5)
y.backward(dy)
put("dropout_grad_x", x.detach())
put("dropout_grad_y", y.detach())
put("dropout_grad_dx", x.grad)

# mixed sequence: the cached normal survives rand and the block path
torch.manual_seed(42)
put("mix_a", torch.rand(3))
put("mix_b", torch.randn(3))    # pair 1 (cos, sin), pair 2 cos; caches pair 2 sin
put("mix_c", torch.rand(2))
put("mix_d", torch.randn(1))    # the cached sin
put("mix_e", torch.randn(16))   # block path: no cache involved
put("mix_f", torch.randn(1))    # a new pair; caches its sin
put("mix_g", torch.randn(17))   # block path leaves the cache alone
put("mix_h", torch.randn(1))    # still the cached sin from mix_f
put("mix_i", torch.rand(2))

# an explicit generator is independent of the default one
g = torch.Generator().manual_seed(7)
torch.manual_seed(8)
put("gen_a", torch.rand(4, generator=g))
put("gen_b", torch.rand(4))
put("gen_c", torch.randn(3, generator=g))
put("gen_d", torch.randn(3))
put("gen_e", torch.randn(1, generator=g))
put("gen_f", torch.randn(1))

with open(OUT, "w") as f:
    f.write("\n".join(LINES) + "\n")
