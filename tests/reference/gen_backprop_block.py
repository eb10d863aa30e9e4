#!/usr/bin/python3
"""Fixture for tests/test_teaching.c: examples/backprop_block in PyTorch.

Run with Debian's python3-torch (1.13), from this folder:
    /usr/bin/python3 gen_backprop_block.py > backprop_block.txt

One TransformerBlock of book_ch04.py (the book's Listing 4.6) in a tiny
config (emb_dim 4, context_length 3, n_heads 2, drop_rate 0, no qkv bias),
in the order of the book's block example: torch.manual_seed(123), the input
x = torch.rand(1, 3, 4), the block, then the mse loss's target
torch.rand(1, 3, 4).  The block's forward is written out one named step per
line through the block's own modules, every intermediate's gradient kept
(retain_grad), and checked against block(x).  Batch 1 is dropped from every
entry; the per-head attention weights (1, 2, 3, 3) are written as (6, 3),
head 0's rows first.
Entries:
  @x @target and each parameter under its state_dict name
  @<intermediate>          norm1 queries keys values weights context att h
                           norm2 hidden gelu ff out
  @loss                    mse_loss(out, target)
  @d_<intermediate>, @d_x, @d_<parameter>
"""
import sys

import torch
import torch.nn.functional as F

from book_ch03 import write_tensor
from book_ch04 import TransformerBlock

SEED = 123
CFG = {"vocab_size": 1, "context_length": 3, "emb_dim": 4, "n_heads": 2, "n_layers": 1,
       "drop_rate": 0.0, "qkv_bias": False}


def forward(block, x):
    """TransformerBlock.forward and MultiHeadAttention.forward, one step a line."""
    att = block.att
    b, T, E = x.shape
    H, hd = att.num_heads, att.head_dim
    t = {}
    t['norm1'] = block.norm1(x)
    t['queries'] = att.W_query(t['norm1'])
    t['keys'] = att.W_key(t['norm1'])
    t['values'] = att.W_value(t['norm1'])

    def heads(v):
        return v.view(b, T, H, hd).transpose(1, 2)
    scores = heads(t['queries']) @ heads(t['keys']).transpose(2, 3)
    scores = scores.masked_fill(att.mask.bool()[:T, :T], -torch.inf)
    t['weights'] = torch.softmax(scores / hd**0.5, dim=-1)
    t['context'] = (t['weights'] @ heads(t['values'])).transpose(1, 2).contiguous().view(b, T, E)
    t['att'] = att.out_proj(t['context'])
    t['h'] = t['att'] + x                              # x = x + shortcut
    t['norm2'] = block.norm2(t['h'])
    t['hidden'] = block.ff.layers[0](t['norm2'])
    t['gelu'] = block.ff.layers[1](t['hidden'])
    t['ff'] = block.ff.layers[2](t['gelu'])
    t['out'] = t['ff'] + t['h']                        # return x + shortcut
    for v in t.values():
        v.retain_grad()
    return t


def flat(v):
    """Batch 1 dropped; (1, H, T, T) as (H * T, T)."""
    return v.reshape(-1, v.shape[-1]) if v.dim() > 1 else v.reshape(1, -1)


def main():
    out = sys.stdout
    torch.manual_seed(SEED)
    x = torch.rand(1, 3, 4, requires_grad=True)
    block = TransformerBlock(CFG)
    target = torch.rand(1, 3, 4)
    t = forward(block, x)
    assert torch.equal(t['out'], block(x)), "the step-by-step forward is not the block's"
    loss = F.mse_loss(t['out'], target)
    loss.backward()
    write_tensor(out, 'x', flat(x))
    write_tensor(out, 'target', flat(target))
    for name, p in block.named_parameters():
        write_tensor(out, name, flat(p))
    for name, v in t.items():
        write_tensor(out, name, flat(v))
    write_tensor(out, 'loss', loss)
    write_tensor(out, 'd_x', flat(x.grad))
    for name, v in t.items():
        write_tensor(out, 'd_' + name, flat(v.grad))
    for name, p in block.named_parameters():
        write_tensor(out, 'd_' + name, flat(p.grad))


if __name__ == '__main__':
    main()
