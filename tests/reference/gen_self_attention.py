"""Expected output of examples/self_attention: the book's chapter-3 tensors as
PyTorch prints them, each under a header line.  Run with Debian's
python3-torch: python3 gen_self_attention.py [SEED]  (default: the book's seeds).
Writes self_attention.expected (or self_attention_seed<N>.expected).
"""
import os
import sys
import torch

from book_ch03 import (INPUTS, SelfAttention_v1, SelfAttention_v2, CausalAttention,
                       MultiHeadAttentionWrapper, MultiHeadAttention)


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else None
    s = (lambda book: book if seed is None else seed)
    out = []
    d_in, d_out = 3, 2
    batch = torch.stack((INPUTS, INPUTS), dim=0)

    torch.manual_seed(s(123))
    out.append('torch.rand(3, 2) (seed %d)' % s(123))
    out.append(repr(torch.rand(3, 2)))

    torch.manual_seed(s(123))
    sa_v1 = SelfAttention_v1(d_in, d_out)
    out.append('SelfAttention_v1 (seed %d)' % s(123))
    out.append(repr(sa_v1(INPUTS)))

    torch.manual_seed(s(789))
    sa_v2 = SelfAttention_v2(d_in, d_out)
    out.append('SelfAttention_v2 (seed %d)' % s(789))
    out.append(repr(sa_v2(INPUTS)))

    sa_v1.W_query = torch.nn.Parameter(sa_v2.W_query.weight.T)
    sa_v1.W_key = torch.nn.Parameter(sa_v2.W_key.weight.T)
    sa_v1.W_value = torch.nn.Parameter(sa_v2.W_value.weight.T)
    out.append('Exercise 3.1: SelfAttention_v1 with the weights of SelfAttention_v2')
    out.append(repr(sa_v1(INPUTS)))
    out.append(repr(sa_v2(INPUTS)))

    torch.manual_seed(s(123))
    ca = CausalAttention(d_in, d_out, batch.shape[1], 0.0)
    out.append('CausalAttention (seed %d)' % s(123))
    out.append(repr(ca(batch)))

    torch.manual_seed(s(123))
    mha = MultiHeadAttentionWrapper(d_in, d_out, batch.shape[1], 0.0, num_heads=2)
    out.append('MultiHeadAttentionWrapper (seed %d)' % s(123))
    out.append(repr(mha(batch)))

    torch.manual_seed(s(123))
    mha = MultiHeadAttention(d_in, d_out, batch.shape[1], 0.0, num_heads=2)
    out.append('MultiHeadAttention (seed %d)' % s(123))
    out.append(repr(mha(batch)))

    torch.manual_seed(s(123))
    dropout = torch.nn.Dropout(0.5)
    out.append('Dropout(0.5) on ones(6, 6) (seed %d)' % s(123))
    out.append(repr(dropout(torch.ones(6, 6))))

    here = os.path.dirname(os.path.abspath(__file__))
    name = 'self_attention.expected' if seed is None else 'self_attention_seed%d.expected' % seed
    with open(os.path.join(here, name), 'w') as f:
        f.write('\n\n'.join(out) + '\n')


main()
