#!/usr/bin/python3
"""Writes tests/reference/bf16.txt: float32 values and what PyTorch's
conversion to bfloat16 makes of them (x.bfloat16().float()), the rounding
attograd's autocast uses (tests/test_autocast.c).

Run with Debian's python3-torch (1.13):  /usr/bin/python3 gen_bf16.py
The values: exact ties between two bf16 (to even, both ways), one bit either
side of a tie, the largest float (overflows to inf), infinities, zeros,
subnormals (kept, as PyTorch keeps them), NaN, and random floats.
"""
import os
import struct

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bf16.txt")


def f32(bits):
    return struct.unpack('<f', struct.pack('<I', bits))[0]


def main():
    bits = [0x3f808000, 0x3f818000, 0xbf808000, 0xbf818000,   # ties: to even
            0x3f808001, 0x3f807fff, 0x3f818001, 0x3f817fff,   # one bit off
            0x7f7fffff, 0xff7fffff, 0x7f7f7fff, 0x7f800000, 0xff800000,
            0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x00018000, 0x00008000,
            0x007fffff, 0x00800000, 0x7fc00000, 0x7f800001, 0xffc00123]
    g = torch.Generator().manual_seed(26)
    x = torch.cat([torch.tensor([f32(b) for b in bits], dtype=torch.float32),
                   torch.randn(40, generator=g) * 10.0 ** torch.randint(-30, 30, (40,), generator=g)])
    y = x.bfloat16().float()
    with open(OUT, 'w') as f:
        f.write("# x.bfloat16().float() in PyTorch %s (gen_bf16.py)\n" % torch.__version__)
        for name, t in (("x", x), ("bf16", y)):
            f.write("@%s %d\n" % (name, t.numel()))
            f.write(" ".join("%.9g" % v for v in t.tolist()) + "\n")


if __name__ == '__main__':
    main()
