#!/usr/bin/python3
"""Fixture for tests/test_teaching.c: examples/backprop_attention in PyTorch.

Run with Debian's python3-torch (1.13), from this folder:
    /usr/bin/python3 gen_backprop.py > backprop.txt

SelfAttention_v1 (the book's Listing 3.1) on the book's inputs with seed 123,
its forward written out step by step with every intermediate's gradient kept
(retain_grad), for the two losses the C program offers:
  sum   loss = context.sum()
  mse   loss = mse_loss(context, target), target = torch.rand(6, 2) drawn
        right after the three weight matrices
Entries:
  @W_query @W_key @W_value @target          the leaves
  @keys @queries @values @scores @scaled @weights @context
  @<loss>.loss                              sum or mse
  @<loss>.d_<name>                          the gradient of each intermediate
  @<loss>.dW_query @<loss>.dW_key @<loss>.dW_value
"""
import torch

from book_ch03 import INPUTS, SelfAttention_v1, write_tensor

SEED = 123
INTERMEDIATES = ['keys', 'queries', 'values', 'scores', 'scaled', 'weights', 'context']


def forward(sa, x):
    """Listing 3.1's forward, one named step per line."""
    t = {}
    t['keys'] = x @ sa.W_key
    t['queries'] = x @ sa.W_query
    t['values'] = x @ sa.W_value
    t['scores'] = t['queries'] @ t['keys'].T                # omega
    t['scaled'] = t['scores'] / t['keys'].shape[-1]**0.5
    t['weights'] = torch.softmax(t['scaled'], dim=-1)
    t['context'] = t['weights'] @ t['values']
    for v in t.values():
        v.retain_grad()
    return t


def main():
    import sys
    out = sys.stdout
    torch.manual_seed(SEED)
    sa = SelfAttention_v1(3, 2)          # draws W_query, W_key, W_value in this order
    target = torch.rand(6, 2)
    for name in ('W_query', 'W_key', 'W_value'):
        write_tensor(out, name, getattr(sa, name))
    write_tensor(out, 'target', target)

    losses = {
        'sum': lambda context: context.sum(),
        'mse': lambda context: torch.nn.functional.mse_loss(context, target),
    }
    for i, (kind, loss_fn) in enumerate(losses.items()):
        sa.zero_grad(set_to_none=True)
        t = forward(sa, INPUTS)
        if i == 0:
            for name in INTERMEDIATES:
                write_tensor(out, name, t[name])
        loss = loss_fn(t['context'])
        loss.backward()
        write_tensor(out, kind + '.loss', loss)
        for name in INTERMEDIATES:
            write_tensor(out, kind + '.d_' + name, t[name].grad)
        for name in ('W_query', 'W_key', 'W_value'):
            write_tensor(out, kind + '.d' + name, getattr(sa, name).grad)


if __name__ == '__main__':
    main()
