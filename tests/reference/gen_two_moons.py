#!/usr/bin/python3
"""Two moons and a small MLP trained on them: the reference a test program
written only against the installed library reproduces (issue 23, "Done when").

Run with Debian's python3-torch (1.13):  /usr/bin/python3 gen_two_moons.py
Writes two_moons.txt and two_moons.expected next to itself and prints the
latter.

The data set (no numpy, no sklearn: C regenerates it bit for bit from the
generator's float32 draws and the C library's cos and sin in double):
    torch.manual_seed(seed); u = torch.rand(n); e = torch.rand(n, 2)
    for i in 0 .. n-1, with d = double, t = pi * (d) u[i]  (pi = M_PI):
        label  y[i] = i % 2
        moon 0 (y = 0):  cx = cos(t),      cy = sin(t)
        moon 1 (y = 1):  cx = 1 - cos(t),  cy = 0.5 - sin(t)
        x[i] = ((float) (cx + NOISE * (2 * (d) e[i][0] - 1)),
                (float) (cy + NOISE * (2 * (d) e[i][1] - 1)))
    every operation in double in that order, one rounding to float32 at the
    end; NOISE = 0.2.  Training set: seed 0, n = 200; test set: seed 1, n = 100.
    (math.cos / math.sin are glibc's cos / sin, which C's cos / sin call.)
    Checked: a C program with attograd's tensor_manual_seed / tensor_rand and
    these formulas gives every float of train.x and test.x bit for bit (gcc
    -O0, -O2 and -O2 -march=native); keep FMA contraction off
    (-ffp-contract=off) if a compiler fuses the noise term into an FMA.

The run (after the data):
    torch.manual_seed(123)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    optimizer = torch.optim.AdamW([
        {"params": [0.weight, 2.weight], "lr": 0.01, "weight_decay": 0.1},
        {"params": [0.bias, 2.bias], "lr": 0.02, "weight_decay": 0.0}])
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=16, shuffle=True)
    for epoch in 1 .. 25:
        model.train(); total = 0.0 (a Python float, double)
        for xb, yb in loader:        # 13 batches, the last of 8
            optimizer.zero_grad(); loss = F.cross_entropy(model(xb), yb)
            loss.backward(); optimizer.step(); total += loss.item()
        with torch.no_grad(): accuracy = (model(x).argmax(1) == y).float().mean()
        print("epoch %2d  loss %.4f  train acc %.4f  test acc %.4f"
              % (epoch, total / batches, train accuracy, test accuracy))
    The loader's draws: each `for` makes an iterator, which draws one int64
    base seed (torch.empty((), dtype=torch.int64).random_(): two 32-bit words)
    from the default generator when it is made, and the RandomSampler draws
    another int64 seed the same way at the first batch, seeds its own
    torch.Generator with it and takes torch.randperm(200) from that (the
    script checks each epoch's order against exactly these draws).

two_moons.txt (the fixtures' format, "@name d0 ..." then %.9g values):
    @train.x (200,2) @train.y (200)  @test.x (100,2) @test.y (100)
    @init.<param>            0.weight (16,2), 0.bias (16), 2.weight (2,16), 2.bias (2)
    @epoch<k>.order (200)    the sample indices epoch k visits, in order
    @epoch<k>.loss           the epoch's mean batch loss, a double printed %.17g
    @epoch<k>.train_acc, @epoch<k>.test_acc
    @final.<param>           the parameters after the last epoch
    @final.train_logits (200,2)
two_moons.expected: the printed lines.
"""
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from book_ch03 import write_tensor

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
NOISE = 0.2
EPOCHS = 25


def two_moons(seed, n):
    torch.manual_seed(seed)
    u = torch.rand(n)
    e = torch.rand(n, 2)
    xs, ys = [], []
    for i in range(n):
        t = math.pi * float(u[i])
        if i % 2 == 0:
            cx, cy = math.cos(t), math.sin(t)
        else:
            cx, cy = 1 - math.cos(t), 0.5 - math.sin(t)
        xs.append([cx + NOISE * (2 * float(e[i][0]) - 1), cy + NOISE * (2 * float(e[i][1]) - 1)])
        ys.append(i % 2)
    # torch.tensor rounds each double to the nearest float32 once
    return torch.tensor(xs, dtype=torch.float32), torch.tensor(ys, dtype=torch.long)


class RecordingSampler(torch.utils.data.RandomSampler):
    """RandomSampler, recording the order it yields (same draws)."""

    def __iter__(self):
        self.last = []
        for i in super().__iter__():
            self.last.append(i)
            yield i


def main():
    x_train, y_train = two_moons(0, 200)
    x_test, y_test = two_moons(1, 100)
    torch.manual_seed(123)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    named = dict(model.named_parameters())
    optimizer = torch.optim.AdamW([
        {"params": [named["0.weight"], named["2.weight"]], "lr": 0.01, "weight_decay": 0.1},
        {"params": [named["0.bias"], named["2.bias"]], "lr": 0.02, "weight_decay": 0.0}])
    dataset = TensorDataset(x_train, y_train)
    sampler = RecordingSampler(dataset)
    loader = DataLoader(dataset, batch_size=16, sampler=sampler)
    # the same draws as shuffle=True (which makes a RandomSampler itself)
    state = torch.get_rng_state()
    plain = DataLoader(dataset, batch_size=16, shuffle=True)
    a = [yb.tolist() for _, yb in plain]
    torch.set_rng_state(state)
    b = [yb.tolist() for _, yb in loader]
    assert a == b
    torch.set_rng_state(state)

    out = open(os.path.join(HERE, "two_moons.txt"), "w")
    out.write("# Generated by gen_two_moons.py with torch %s; do not edit.\n" % torch.__version__)
    write_tensor(out, "train.x", x_train)
    write_tensor(out, "train.y", y_train)
    write_tensor(out, "test.x", x_test)
    write_tensor(out, "test.y", y_test)
    for n, p in named.items():
        write_tensor(out, "init." + n, p)
    lines = []
    for epoch in range(1, EPOCHS + 1):
        model.train()
        total, batches = 0.0, 0
        # what the loop below draws: a base seed, then the sampler's seed
        state = torch.get_rng_state()
        torch.empty((), dtype=torch.int64).random_()
        seed = int(torch.empty((), dtype=torch.int64).random_().item())
        expect = torch.randperm(200, generator=torch.Generator().manual_seed(seed)).tolist()
        torch.set_rng_state(state)
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item()
            batches += 1
        assert batches == 13 and sampler.last == expect
        with torch.no_grad():
            train_acc = (model(x_train).argmax(1) == y_train).float().mean()
            test_acc = (model(x_test).argmax(1) == y_test).float().mean()
        write_tensor(out, "epoch%d.order" % epoch, torch.tensor(sampler.last))
        out.write("@epoch%d.loss\n%.17g\n" % (epoch, total / batches))
        write_tensor(out, "epoch%d.train_acc" % epoch, train_acc)
        write_tensor(out, "epoch%d.test_acc" % epoch, test_acc)
        lines.append("epoch %2d  loss %.4f  train acc %.4f  test acc %.4f"
                     % (epoch, total / batches, train_acc.item(), test_acc.item()))
    for n, p in named.items():
        write_tensor(out, "final." + n, p)
    with torch.no_grad():
        write_tensor(out, "final.train_logits", model(x_train))
    out.close()
    with open(os.path.join(HERE, "two_moons.expected"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
