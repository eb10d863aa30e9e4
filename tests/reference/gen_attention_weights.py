#!/usr/bin/python3
"""Fixtures for the attention-weights tests of tests/test_nn_torch.c: the
weights softmax(masked(Q K^T) / sqrt(d)) each of the book's attention modules
computes in its forward (book_ch03.py, book_ch04.py), taken as PyTorch has
them: the input of the module's dropout, caught with a forward pre-hook (for
v1 and v2, which have no dropout, computed from their weights here).

Run with Debian's python3-torch (1.13):
    /usr/bin/python3 gen_attention_weights.py > attention_weights.txt

  @v1          SelfAttention_v1(3, 2), seed 123, on the book's INPUTS (6, 3)
  @v2          SelfAttention_v2(3, 2), seed 789, on INPUTS
  @causal      CausalAttention(3, 2, 6, 0.0), seed 123, on the (2, 6, 3) batch
  @wrapper     MultiHeadAttentionWrapper(3, 2, 6, 0.0, 2), seed 123: the heads'
               weights stacked on dim 1, (2, 2, 6, 6)
  @mha         MultiHeadAttention(3, 2, 6, 0.0, 2), seed 123, (2, 2, 6, 6)
  @gpt.idx     (2, 6) ids from a private generator seeded 1
  @gpt.layer0, @gpt.layer1
               GPTModel of gen_gpt.py's small config (seed 123), eval mode:
               trf_blocks[i].att's weights on gpt.idx, (2, 4, 6, 6)
"""
import sys

import torch

from book_ch03 import (INPUTS, SelfAttention_v1, SelfAttention_v2, CausalAttention,
                       MultiHeadAttentionWrapper, MultiHeadAttention, write_tensor)
from book_ch04 import GPTModel

out = sys.stdout
batch = torch.stack((INPUTS, INPUTS), dim=0)


def caught(dropout):
    """A list that receives the input of each call of dropout."""
    seen = []
    dropout.register_forward_pre_hook(lambda mod, args: seen.append(args[0].detach()))
    return seen


def unmasked(queries, keys):
    return torch.softmax(queries @ keys.transpose(-2, -1) / keys.shape[-1]**0.5, dim=-1)


with torch.no_grad():
    torch.manual_seed(123)
    v1 = SelfAttention_v1(3, 2)
    write_tensor(out, "v1", unmasked(INPUTS @ v1.W_query, INPUTS @ v1.W_key))

    torch.manual_seed(789)
    v2 = SelfAttention_v2(3, 2)
    write_tensor(out, "v2", unmasked(v2.W_query(INPUTS), v2.W_key(INPUTS)))

    torch.manual_seed(123)
    ca = CausalAttention(3, 2, 6, 0.0)
    seen = caught(ca.dropout)
    ca(batch)
    write_tensor(out, "causal", seen[-1])

    torch.manual_seed(123)
    wrapper = MultiHeadAttentionWrapper(3, 2, 6, 0.0, 2)
    heads = [caught(h.dropout) for h in wrapper.heads]
    wrapper(batch)
    write_tensor(out, "wrapper", torch.stack([h[-1] for h in heads], dim=1))

    torch.manual_seed(123)
    mha = MultiHeadAttention(3, 2, 6, 0.0, 2)
    seen = caught(mha.dropout)
    mha(batch)
    write_tensor(out, "mha", seen[-1])

    cfg = {"vocab_size": 50, "context_length": 8, "emb_dim": 16, "n_heads": 4,
           "n_layers": 2, "drop_rate": 0.1, "qkv_bias": False}
    torch.manual_seed(123)
    model = GPTModel(cfg)
    model.eval()
    idx = torch.randint(0, cfg["vocab_size"], (2, 6), generator=torch.Generator().manual_seed(1))
    layers = [caught(b.att.dropout) for b in model.trf_blocks]
    model(idx)
    write_tensor(out, "gpt.idx", idx)
    for i, seen in enumerate(layers):
        write_tensor(out, f"gpt.layer{i}", seen[-1])
