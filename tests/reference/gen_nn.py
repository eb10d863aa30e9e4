#!/usr/bin/python3
"""Fixtures for tests/test_nn.c: the book's chapter 3 modules run in PyTorch.

Run with Debian's python3-torch (1.13):  /usr/bin/python3 gen_nn.py > nn.txt

For each case the C test builds the same module with the same seed and
compares, name by name:
  @<case>.param.<name>   parameters right after construction (bit-exact)
  @<case>.buffer.<name>  buffers (the causal mask)
  @<case>.x              the input (drawn from a private generator, so the
                         default generator holds the same state in C and here
                         between construction and forward)
  @<case>.target         the target of an mse loss (cases with loss "mse")
  @<case>.out            the module's output
  @<case>.grad.<name>    every parameter's gradient after loss.backward()
  @<case>.num_parameters sum(p.numel() for p in module.parameters())
and, as comment lines the C test parses:
  #names <case> <named_parameters() in order>
  #buffers <case> <named_buffers() in order>
  #grad_fn <case> <output.grad_fn name>
"""
import math
import sys

import torch
import torch.nn as nn

torch.set_printoptions(precision=9)


# ---- The book's classes (Listings 3.1, 3.2 and the rest of chapter 3) -------
# v1 and v2 transpose keys on the last two dims (the book's keys.T) so that a
# batch (B, T, d_in) works too; for 2-d input the two are the same.

class SelfAttention_v1(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.W_query = nn.Parameter(torch.rand(d_in, d_out))
        self.W_key = nn.Parameter(torch.rand(d_in, d_out))
        self.W_value = nn.Parameter(torch.rand(d_in, d_out))

    def forward(self, x):
        keys = x @ self.W_key
        queries = x @ self.W_query
        values = x @ self.W_value
        attn_scores = queries @ keys.transpose(-2, -1)  # omega
        attn_weights = torch.softmax(attn_scores / keys.shape[-1]**0.5, dim=-1)
        context_vec = attn_weights @ values
        return context_vec


class SelfAttention_v2(nn.Module):
    def __init__(self, d_in, d_out, qkv_bias=False):
        super().__init__()
        self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)

    def forward(self, x):
        keys = self.W_key(x)
        queries = self.W_query(x)
        values = self.W_value(x)
        attn_scores = queries @ keys.transpose(-2, -1)
        attn_weights = torch.softmax(attn_scores / keys.shape[-1]**0.5, dim=-1)
        context_vec = attn_weights @ values
        return context_vec


class CausalAttention(nn.Module):
    def __init__(self, d_in, d_out, context_length, dropout, qkv_bias=False):
        super().__init__()
        self.d_out = d_out
        self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer(
            'mask', torch.triu(torch.ones(context_length, context_length), diagonal=1))

    def forward(self, x):
        b, num_tokens, d_in = x.shape
        keys = self.W_key(x)
        queries = self.W_query(x)
        values = self.W_value(x)
        attn_scores = queries @ keys.transpose(1, 2)
        attn_scores.masked_fill_(self.mask.bool()[:num_tokens, :num_tokens], -torch.inf)
        attn_weights = torch.softmax(attn_scores / keys.shape[-1]**0.5, dim=-1)
        attn_weights = self.dropout(attn_weights)
        context_vec = attn_weights @ values
        return context_vec


class MultiHeadAttentionWrapper(nn.Module):
    def __init__(self, d_in, d_out, context_length, dropout, num_heads, qkv_bias=False):
        super().__init__()
        self.heads = nn.ModuleList(
            [CausalAttention(d_in, d_out, context_length, dropout, qkv_bias)
             for _ in range(num_heads)])

    def forward(self, x):
        return torch.cat([head(x) for head in self.heads], dim=-1)


class MultiHeadAttention(nn.Module):
    def __init__(self, d_in, d_out, context_length, dropout, num_heads, qkv_bias=False):
        super().__init__()
        assert d_out % num_heads == 0, "d_out must be divisible by num_heads"
        self.d_out = d_out
        self.num_heads = num_heads
        self.head_dim = d_out // num_heads
        self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.out_proj = nn.Linear(d_out, d_out)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer(
            'mask', torch.triu(torch.ones(context_length, context_length), diagonal=1))

    def forward(self, x):
        b, num_tokens, d_in = x.shape
        keys = self.W_key(x)
        queries = self.W_query(x)
        values = self.W_value(x)
        keys = keys.view(b, num_tokens, self.num_heads, self.head_dim)
        values = values.view(b, num_tokens, self.num_heads, self.head_dim)
        queries = queries.view(b, num_tokens, self.num_heads, self.head_dim)
        keys = keys.transpose(1, 2)
        queries = queries.transpose(1, 2)
        values = values.transpose(1, 2)
        attn_scores = queries @ keys.transpose(2, 3)
        mask_bool = self.mask.bool()[:num_tokens, :num_tokens]
        attn_scores.masked_fill_(mask_bool, -torch.inf)
        attn_weights = torch.softmax(attn_scores / keys.shape[-1]**0.5, dim=-1)
        attn_weights = self.dropout(attn_weights)
        context_vec = (attn_weights @ values).transpose(1, 2)
        context_vec = context_vec.contiguous().view(b, num_tokens, self.d_out)
        context_vec = self.out_proj(context_vec)
        return context_vec


# ---- Output ----------------------------------------------------------------

out = sys.stdout


def emit(name, t):
    t = t.detach().contiguous().to(torch.float32)
    dims = " ".join(str(d) for d in t.shape)
    out.write(f"@{name} {dims}\n" if dims else f"@{name}\n")
    vals = [f"{v:.9g}" for v in t.reshape(-1).tolist()]
    for i in range(0, len(vals), 8):
        out.write(" ".join(vals[i:i + 8]) + "\n")


BOOK_INPUTS = torch.tensor(
    [[0.43, 0.15, 0.89],   # Your     (x^1)
     [0.55, 0.87, 0.66],   # journey  (x^2)
     [0.57, 0.85, 0.64],   # starts   (x^3)
     [0.22, 0.58, 0.33],   # with     (x^4)
     [0.77, 0.25, 0.10],   # one      (x^5)
     [0.05, 0.80, 0.55]])  # step     (x^6)
BOOK_BATCH = torch.stack((BOOK_INPUTS, BOOK_INPUTS), dim=0)


def build(kind, args):
    if kind == "linear":
        return nn.Linear(*args)
    if kind == "dropout":
        return nn.Dropout(*args)
    if kind == "v1":
        return SelfAttention_v1(*args)
    if kind == "v2":
        return SelfAttention_v2(*args)
    if kind == "ca":
        return CausalAttention(*args)
    if kind == "mhaw":
        return MultiHeadAttentionWrapper(*args)
    if kind == "mha":
        return MultiHeadAttention(*args)
    raise ValueError(kind)


def run_case(name, kind, args, seed, x, loss="sum", train=True):
    """Seeds, builds, runs forward and backward, and writes everything."""
    torch.manual_seed(seed)
    m = build(kind, args)
    m.train(train)
    params = list(m.named_parameters())
    buffers = list(m.named_buffers())
    # state_dict order is parameters and buffers per module, pre-order; the
    # names themselves must be the same as named_parameters'.
    assert [n for n, _ in params] == [k for k in m.state_dict() if k not in dict(buffers)]
    out.write(f"#names {name} {' '.join(n for n, _ in params)}\n")
    out.write(f"#buffers {name} {' '.join(n for n, _ in buffers)}\n")
    for n, p in params:
        emit(f"{name}.param.{n}", p)
    for n, b in buffers:
        emit(f"{name}.buffer.{n}", b)
    emit(f"{name}.num_parameters", torch.tensor(float(sum(p.numel() for p in m.parameters()))))
    emit(f"{name}.x", x)
    # Batched classes of the book unpack x.shape into three sizes: an
    # unbatched input runs as a batch of one (same draws, same order).
    unbatched = x.dim() == 2 and kind in ("ca", "mhaw", "mha")
    y = m(x.unsqueeze(0)).squeeze(0) if unbatched else m(x)
    gf = y.grad_fn.name() if y.grad_fn is not None else "None"
    if not unbatched:
        out.write(f"#grad_fn {name} {gf}\n")
    emit(f"{name}.out", y)
    if not params:
        return y
    if loss == "sum":
        L = y.sum()
    else:
        g = torch.Generator().manual_seed(seed + 1000)
        target = torch.rand(y.shape, generator=g)
        emit(f"{name}.target", target)
        L = torch.nn.functional.mse_loss(y, target)
    L.backward()
    for n, p in params:
        emit(f"{name}.grad.{n}", p.grad)
    return y


def private_rand(seed, *shape):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


def main():
    out.write("# Generated by gen_nn.py with torch %s; do not edit.\n" % torch.__version__)

    # The book's printed cases.
    y = run_case("book_v1", "v1", (3, 2), 123, BOOK_INPUTS)
    y2 = run_case("book_v2", "v2", (3, 2), 789, BOOK_INPUTS)
    run_case("book_ca", "ca", (3, 2, 6, 0.0), 123, BOOK_BATCH)
    run_case("book_mhaw", "mhaw", (3, 2, 6, 0.0, 2), 123, BOOK_BATCH)
    run_case("book_mha", "mha", (3, 2, 6, 0.0, 2), 123, BOOK_BATCH)
    assert [f"{v:.4f}" for v in y[1].tolist()] == ["0.3061", "0.8210"]
    assert [f"{v:.4f}" for v in y2[0].tolist()] == ["-0.0739", "0.0713"]

    # Exercise 3.1: v1 with v2's weights transposed gives v2's output.
    torch.manual_seed(123)
    v1 = SelfAttention_v1(3, 2)
    torch.manual_seed(789)
    v2 = SelfAttention_v2(3, 2)
    v1.W_query = nn.Parameter(v2.W_query.weight.T)
    v1.W_key = nn.Parameter(v2.W_key.weight.T)
    v1.W_value = nn.Parameter(v2.W_value.weight.T)
    emit("ex31.out", v1(BOOK_INPUTS))
    assert torch.allclose(v1(BOOK_INPUTS), v2(BOOK_INPUTS), rtol=1e-6, atol=0)

    # Dropout alone: the book's mask on ones(6, 6), and a train/eval pair.
    run_case("dropout_book", "dropout", (0.5,), 123, torch.ones(6, 6))
    run_case("dropout_eval", "dropout", (0.5,), 123, torch.ones(6, 6), train=False)

    # Linear: parameters for many fan-ins (the bound's rounding), forward and grads.
    for fan_in in (1, 2, 3, 5, 7, 10, 16, 64, 100, 768):
        run_case(f"linear_in{fan_in}", "linear", (fan_in, 3), fan_in,
                 private_rand(fan_in, 2, fan_in), loss="mse")
    run_case("linear_nobias", "linear", (7, 5, False), 11, private_rand(11, 3, 4, 7), loss="mse")

    # v1 / v2: other seeds and sizes, batched and unbatched, with and without bias.
    run_case("v1_batch", "v1", (5, 4), 1, private_rand(1, 2, 7, 5), loss="mse")
    run_case("v1_d6", "v1", (6, 3), 21, private_rand(21, 4, 6), loss="mse")
    run_case("v2_bias", "v2", (4, 3, True), 2, private_rand(2, 5, 4), loss="mse")
    run_case("v2_batch", "v2", (6, 8, False), 3, private_rand(3, 3, 4, 6), loss="mse")
    run_case("v2_batch_bias", "v2", (3, 2, True), 31, private_rand(31, 2, 6, 3))

    # CausalAttention: bias, T < context, unbatched, dropout in train and eval.
    run_case("ca_bias", "ca", (5, 3, 8, 0.0, True), 4, private_rand(4, 2, 6, 5), loss="mse")
    run_case("ca_unbatched", "ca", (5, 3, 8, 0.0, False), 41, private_rand(41, 6, 5), loss="mse")
    run_case("ca_drop_train", "ca", (3, 2, 6, 0.5), 5, private_rand(5, 2, 6, 3), loss="mse")
    run_case("ca_drop_eval", "ca", (3, 2, 6, 0.5), 5, private_rand(5, 2, 6, 3), loss="mse",
             train=False)

    # The wrapper: three heads with bias and dropout.
    run_case("mhaw_drop", "mhaw", (4, 2, 5, 0.5, 3, True), 6, private_rand(6, 2, 5, 4),
             loss="mse")
    run_case("mhaw_unbatched", "mhaw", (3, 4, 6, 0.0, 2), 61, private_rand(61, 5, 3))

    # MultiHeadAttention: several heads and sizes, bias, dropout, unbatched.
    run_case("mha_bias", "mha", (6, 8, 10, 0.0, 4, True), 7, private_rand(7, 3, 7, 6),
             loss="mse")
    run_case("mha_drop_train", "mha", (4, 6, 5, 0.5, 3), 8, private_rand(8, 2, 5, 4), loss="mse")
    run_case("mha_drop_eval", "mha", (4, 6, 5, 0.3, 3), 8, private_rand(8, 2, 5, 4), loss="mse",
             train=False)
    run_case("mha_unbatched", "mha", (4, 6, 5, 0.5, 3), 9, private_rand(9, 5, 4), loss="mse")
    run_case("mha_one_head", "mha", (3, 4, 6, 0.0, 1), 10, private_rand(10, 2, 6, 3))

    # The book's parameter count; the mask makes this a (1024, 1024) buffer.
    torch.manual_seed(0)
    big = MultiHeadAttention(768, 768, 1024, 0.0, 12)
    emit("mha768.num_parameters", torch.tensor(float(sum(p.numel() for p in big.parameters()))))
    assert sum(p.numel() for p in big.parameters()) == 2360064


main()
