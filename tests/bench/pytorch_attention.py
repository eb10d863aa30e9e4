"""PyTorch's side of tests/bench/bench_attention.c: the same training step at
the same sizes, printing the same lines with impl=pytorch:

    train_step impl=pytorch model=v2 B=8 T=64 d_in=64 d_out=64 lr=0.01 threads=1 us_per_step=2100.0

One step is the toy task's (examples/toy_task.c, tests/reference/gen_train.py):
x = rand(B, T, d_in); teacher forward under no_grad; student forward; MSE;
zero_grad; backward; Adam step (lr 0.01, 1e-4 from T=256 on).  Each figure is the median over several
repetitions after a warm-up, as in the C benchmark.

Threads: Debian's torch does its matrix products in OpenBLAS (pthreads),
whose thread count torch.set_num_threads() does not set: left alone, a
"1 thread" run multiplies on every core.  So threads=N here means OpenBLAS
on N threads, and torch's own (OpenMP) threads on 1 or on N, whichever is
faster for that size: on N, their workers spin while OpenBLAS's threads
want the same cores, and the step at B=8, T=256 took 180 ms instead of 34;
on 1, torch's elementwise ops run on one core (MultiHeadAttention at T=64
is 15% slower so).  PyTorch gets its best figure either way.

Run with Debian's python3-torch:  /usr/bin/python3 tests/bench/pytorch_attention.py [--threads 1,2] [--quick]
"""
import argparse
import ctypes
import math
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'reference'))
from book_ch03 import MultiHeadAttention, SelfAttention_v2  # noqa: E402

# (model, B, T, d_in, d_out, Adam's lr[, flush_denormal]): bench_attention.c's
# cases; it says why the large sizes train at lr 1e-4
CASES = [
    ('v2', 8, 6, 3, 2, 0.01),
    ('v2', 8, 64, 64, 64, 0.01),
    ('mha', 8, 64, 64, 64, 0.01),
    ('v2', 8, 256, 256, 256, 1e-4),
    ('mha', 8, 256, 256, 256, 1e-4),
    ('v2', 4, 512, 512, 512, 1e-4),
    ('mha', 4, 512, 512, 512, 1e-4),
    # torch.set_flush_denormal(True), see bench_attention.c; it sets the calling
    # thread only, so OpenBLAS's threads at threads=2 keep their subnormals
    ('v2', 4, 512, 512, 512, 1e-4, True),
]


def openblas():
    """The OpenBLAS torch loaded (its pthread build), or None."""
    with open('/proc/self/maps') as maps:
        for line in maps:
            path = line.split()[-1]
            if 'libopenblas' in path:
                return ctypes.CDLL(path)
    return None


def us_per_step(case, threads, blas):
    """Median us per step with OpenBLAS on `threads`, the best over torch's
    own thread count 1 and `threads`."""
    best = math.inf
    for torch_threads in sorted({1, threads}):
        torch.set_num_threads(torch_threads)
        if blas is not None:
            blas.openblas_set_num_threads(threads)
        best = min(best, median_us_per_step(make_step(*case[:6])))
    return best


def make_step(model, B, T, d_in, d_out, lr):
    torch.manual_seed(123)
    teacher = SelfAttention_v2(d_in, d_out)
    if model == 'mha':
        student = MultiHeadAttention(d_in, d_out, T, 0.0, 4)
    else:
        student = SelfAttention_v2(d_in, d_out)
    opt = torch.optim.Adam(student.parameters(), lr=lr)

    def step():
        x = torch.rand(B, T, d_in)
        with torch.no_grad():
            y = teacher(x)
        loss = torch.nn.functional.mse_loss(student(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def median_us_per_step(step):
    t0 = time.perf_counter()
    warm = 0
    while warm < 3 or time.perf_counter() - t0 < 0.05:
        step()
        warm += 1
    per_step = (time.perf_counter() - t0) / warm
    steps = max(1, math.ceil(0.02 / per_step))
    reps = 5 if per_step > 0.1 else 7 if per_step > 0.02 else 15
    us = []
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        us.append((time.perf_counter() - start) / steps * 1e6)
    return statistics.median(us)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--threads', default='1,2', help='comma-separated thread counts')
    ap.add_argument('--quick', action='store_true', help='the toy size only')
    args = ap.parse_args()
    cases = CASES[:1] if args.quick else CASES
    blas = openblas()
    for threads in [int(t) for t in args.threads.split(',')]:
        for case in cases:
            model, B, T, d_in, d_out, lr = case[:6]
            flush = len(case) > 6 and case[6]
            torch.set_flush_denormal(flush)
            us = us_per_step(case, threads, blas)
            torch.set_flush_denormal(False)
            print('train_step impl=pytorch model=%s B=%d T=%d d_in=%d d_out=%d lr=%g%s threads=%d '
                  'us_per_step=%.1f' % (model, B, T, d_in, d_out, lr,
                                        ' flush_denormal=1' if flush else '', threads, us),
                  flush=True)


if __name__ == '__main__':
    main()
