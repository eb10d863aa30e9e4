"""Appendix E of the book (LoRA), as the book does it, written from
../shared/reference/book_ch06_ch07.md.  Used only to write fixtures
(gen_finetune.py); tests never run it.

Draws: each LoRALayer draws A, an (in_dim, rank) tensor, from the default
generator with kaiming_uniform_(a=sqrt 5).  PyTorch takes fan_in from dim 1
of a 2-d tensor, here rank (not in_dim): gain = sqrt(2 / (1 + 5)), std =
gain / sqrt(rank), bound = sqrt(3) * std = 1 / sqrt(rank); A ~ U(-bound,
bound) drawn in row-major order exactly as a Linear weight of the same
shape.  B is zeros (rank, out_dim), no draw.
"""
import contextlib
import math

import torch


class LoRALayer(torch.nn.Module):
    def __init__(self, in_dim, out_dim, rank, alpha):
        super().__init__()
        self.A = torch.nn.Parameter(torch.empty(in_dim, rank))
        torch.nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))
        self.B = torch.nn.Parameter(torch.zeros(rank, out_dim))
        self.alpha = alpha
        self.rank = rank

    def forward(self, x):
        # (alpha / rank) is a Python float; PyTorch multiplies the float32
        # tensor by it cast to float32.  (x @ A) @ B, left to right.
        return (self.alpha / self.rank) * (x @ self.A @ self.B)


class LinearWithLoRA(torch.nn.Module):
    """The Linear kept as .linear (its weight and bias, frozen or not as they
    were), its LoRALayer as .lora; forward linear(x) + lora(x).  State names:
    ...W_query.linear.weight, ...W_query.lora.A, ...W_query.lora.B."""

    def __init__(self, linear, rank, alpha):
        super().__init__()
        self.linear = linear
        self.lora = LoRALayer(linear.in_features, linear.out_features, rank, alpha)

    def forward(self, x):
        return self.linear(x) + self.lora(x)


def replace_linear_with_lora(model, rank, alpha):
    """Over the direct children in registration order: a Linear is replaced
    in place by its LinearWithLoRA (and not descended into), anything else is
    recursed into.  In the GPT: per block att.W_query, W_key, W_value,
    out_proj, ff.layers.0, ff.layers.2, then out_head (tok_emb, pos_emb,
    norms hold no Linear)."""
    for name, module in model.named_children():
        if isinstance(module, torch.nn.Linear):
            setattr(model, name, LinearWithLoRA(module, rank, alpha))
        else:
            replace_linear_with_lora(module, rank, alpha)


def lora_order(model):
    """The dotted names of the LoRA layers in the order their A was drawn."""
    return [name for name, m in model.named_modules() if isinstance(m, LoRALayer)]


def count_trainable(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def freeze_all(model):
    for p in model.parameters():
        p.requires_grad = False


def lora_count_from_shapes(linears, rank):
    """rank * (in + out) per wrapped Linear: what the book's count gives
    once everything else is frozen."""
    return sum(rank * (i + o) for i, o in linears)


@contextlib.contextmanager
def shapes_only():
    """Modules built inside get torch.empty storage and no init draws (the
    initialisers Linear, Embedding and LoRALayer call are no-ops): parameter
    counts of GPT-2-sized models without the time or the memory (untouched
    pages are never resident).  The default generator is not used."""
    init = torch.nn.init
    saved = {k: getattr(init, k) for k in ("kaiming_uniform_", "uniform_", "normal_")}
    try:
        for k in saved:
            setattr(init, k, lambda t, *a, **kw: t)
        yield
    finally:
        for k, f in saved.items():
            setattr(init, k, f)
