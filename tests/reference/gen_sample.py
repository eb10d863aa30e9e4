#!/usr/bin/python3
"""Writes tests/reference/sample.txt: PyTorch 1.13's CPU draws for randperm,
a DataLoader's shuffled order (RandomSampler), exponential_, multinomial
and topk, and tests/reference/randperm_large.txt: randperm (int64, its
default dtype) past 2^24, where floats no longer hold every index; both read
by tests/test_sample.c.

Run with Debian's python3-torch (1.13):  /usr/bin/python3 gen_sample.py
Each case starts from torch.manual_seed() (or a torch.Generator of its own);
the seeds and arguments are repeated in test_sample.c, which draws the same
way.  The sampling cases are the book's chapter-5 demo: a vocabulary of 9
words and its next-token logits.
"""
import os

import numpy
import torch

from book_ch03 import write_tensor

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sample.txt")
FILE = open(OUT, "w")
FILE.write("# written by gen_sample.py with torch %s\n" % torch.__version__)


def put(name, t):
    write_tensor(FILE, name, torch.as_tensor(t, dtype=torch.float32))


for seed, n in ((123, 10), (0, 1), (7, 2), (42, 100), (123, 1000)):
    torch.manual_seed(seed)
    put("randperm_s%d_n%d" % (seed, n), torch.randperm(n))
g = torch.Generator()
g.manual_seed(5)
put("randperm_gen5_n10", torch.randperm(10, generator=g))

# Three epochs of a shuffled DataLoader over 9 items (the book's 9 training
# batches): each epoch's RandomSampler draws its seed from the default
# generator.
torch.manual_seed(123)
loader = torch.utils.data.DataLoader(list(range(9)), batch_size=1, shuffle=True)
put("loader_s123_n9", [[int(b) for b in loader] for _ in range(3)])

torch.manual_seed(123)
put("exponential_s123", torch.empty(3, 5).exponential_())
torch.manual_seed(7)
put("exponential_s7_lambda2", torch.empty(40).exponential_(2.0))

logits = torch.tensor([4.51, 0.89, -1.90, 6.75, 1.63, -1.62, -1.89, 6.28, 1.79])
for name, temp in (("t1", 1.0), ("t01", 0.1), ("t5", 5.0)):
    probs = torch.softmax(logits / temp, dim=0)
    torch.manual_seed(123)
    counts = torch.bincount(torch.stack([torch.multinomial(probs, 1) for _ in range(1000)]).flatten(),
                            minlength=9)
    put("multinomial_counts_%s" % name, counts)
torch.manual_seed(123)
put("multinomial_first", torch.multinomial(torch.softmax(logits, dim=0), 1))
torch.manual_seed(3)
rows = torch.softmax(torch.randn(4, 30), dim=-1)
put("multinomial_rows_probs", rows)
torch.manual_seed(11)
put("multinomial_rows_1", torch.multinomial(rows, 1))
torch.manual_seed(12)
put("multinomial_rows_5", torch.multinomial(rows, 5))

top_logits, top_pos = torch.topk(logits, 3)
put("topk3_values", top_logits)
put("topk3_indices", top_pos)
masked = torch.where(logits < top_logits[-1], torch.tensor(float("-inf")), logits)
put("topk3_softmax", torch.softmax(masked, dim=0))

# The book's printed figures, so a wrong reference cannot pass.
assert top_pos.tolist() == [3, 7, 0]
torch.manual_seed(123)
assert torch.multinomial(torch.softmax(logits, dim=0), 1).item() == 3

FILE.close()

# randperm past 2^24 (a loader over more than 2^24 windows): n too large for
# float32, so each permutation is written as its first and last 8 values and
# sum(p[i] * (i + 1)) mod 2^64.  Format, one case per line:
#   <name> <seed, or -1 for the default generator after manual_seed(123)> <n> <checksum>
#   <first 8> <last 8>
# "loader_s123_b4" is the order of a shuffled DataLoader's first pass over
# range(n) after manual_seed(123), batch_size 4: its first two batches are
# the first 8 values.
def loader_order(n):
    torch.manual_seed(123)
    it = iter(torch.utils.data.DataLoader(range(n), batch_size=4, shuffle=True))
    first = torch.cat([next(it), next(it)]).tolist()
    # what RandomSampler drew: after the iterator's base seed, its own seed
    torch.manual_seed(123)
    torch.empty((), dtype=torch.int64).random_()
    seed = int(torch.empty((), dtype=torch.int64).random_().item())
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    assert order[:8].tolist() == first
    return order


with open(os.path.join(os.path.dirname(OUT), "randperm_large.txt"), "w") as out:
    out.write("# written by gen_sample.py with torch %s\n" % torch.__version__)
    for name, seed, n in (("gen0", 0, 2**24 + 3), ("default123", -1, 1001),
                          ("gen7_small", 7, 1000), ("loader_s123_b4", 123, 2**24 + 4)):
        if name.startswith("loader"):
            p = loader_order(n)
        elif seed < 0:
            torch.manual_seed(123)
            p = torch.randperm(n)
        else:
            p = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
        assert p.dtype == torch.int64
        v = p.numpy().astype(numpy.uint64)
        checksum = int((v * numpy.arange(1, n + 1, dtype=numpy.uint64)).sum(dtype=numpy.uint64))
        out.write("%s %d %d %d %s %s\n" % (name, seed, n, checksum,
                                            " ".join(map(str, p[:8].tolist())),
                                            " ".join(map(str, p[-8:].tolist()))))
