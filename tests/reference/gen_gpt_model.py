#!/usr/bin/python3
"""Expected output of examples/gpt_model: the book's chapter-4 outputs as
PyTorch prints them, each under a header line (book_ch04.py's modules).
Run with Debian's python3-torch:  /usr/bin/python3 gen_gpt_model.py [SEED]
(default: the book's 123).  Writes gpt_model.expected (or gpt_model_seed<N>.expected).
"""
import os
import sys

import torch
import torch.nn as nn

from book_ch04 import (ExampleDeepNeuralNetwork, GPTModel, GPT_CONFIG_124M, LayerNorm,
                       generate_text_simple)


def gradient_means(model):
    output = model(torch.tensor([[1., 0., -1.]]))
    loss = nn.MSELoss()(output, torch.tensor([[0.]]))
    loss.backward()
    return torch.stack([p.grad.abs().mean() for n, p in model.named_parameters()
                        if "weight" in n])


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 123
    out = []
    torch.manual_seed(seed)
    batch_example = torch.randn(2, 5)
    layer = nn.Sequential(nn.Linear(5, 6), nn.ReLU())
    o = layer(batch_example)
    out += ["Sequential(Linear(5, 6), ReLU()) on torch.randn(2, 5) (seed %d)" % seed, repr(o)]
    mean = o.mean(dim=-1, keepdim=True)
    var = o.var(dim=-1, keepdim=True)
    out += ["Mean:", repr(mean.detach()), "Variance:", repr(var.detach())]
    out += ["Normalized layer outputs:", repr(((o - mean) / torch.sqrt(var)).detach())]
    ln = LayerNorm(emb_dim=5)
    out_ln = ln(batch_example)
    out += ["LayerNorm(5): variance (biased)",
            repr(out_ln.var(dim=-1, keepdim=True, unbiased=False).detach())]

    layer_sizes = [3, 3, 3, 3, 3, 1]
    for shortcut in (False, True):
        torch.manual_seed(seed)
        model = ExampleDeepNeuralNetwork(layer_sizes, use_shortcut=shortcut)
        out += ["Mean |gradient| of layers.0-4.0.weight, %s shortcut" %
                ("with" if shortcut else "without"), repr(gradient_means(model))]

    torch.manual_seed(seed)
    model = GPTModel(GPT_CONFIG_124M)
    batch = torch.tensor([[6109, 3626, 6100, 345], [6109, 1110, 6622, 257]])
    logits = model(batch)
    out += ["Input batch:", str(batch.tolist()),
            "Output shape: " + str(logits.shape), repr(logits.detach())]
    total = sum(p.numel() for p in model.parameters())
    out += [f"Total number of parameters: {total:,}"]
    model.eval()
    start = torch.tensor([[15496, 11, 314, 716]])
    for n in (6, 10):
        ids = generate_text_simple(model, start, n, GPT_CONFIG_124M["context_length"])
        out += [f"generate_text_simple, {n} new tokens:", str(ids.tolist())]

    name = "gpt_model.expected" if len(sys.argv) <= 1 else "gpt_model_seed%d.expected" % seed
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(out) + "\n")
    os.replace(path + ".tmp", path)


main()
