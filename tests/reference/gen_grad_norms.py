#!/usr/bin/python3
"""Fixture for train_gpt --grad-norms (tests/test_pictures.c): the book's
chapter-5 loop (book_ch05.train_model_simple) in PyTorch on the-verdict.txt,
each layer's gradient L2 norm recorded after loss.backward() and before
optimizer.step(), as train_gpt's CSV writes them.

    /usr/bin/python3 tests/reference/gen_grad_norms.py > tests/reference/grad_norms.csv

The run is train_gpt's
    --config book-test --tokenizer bytes --context-length 32 --epochs 1
    --batch 4 --eval-freq 10 --eval-iter 2 --lr 5e-4 --seed 7
A layer is a top-level group of the parameter names (tok_emb, pos_emb,
trf_blocks.i, final_norm, out_head); its norm is
sqrt(sum over its parameters of sum(grad^2)), summed in float64.
"""
import math
import os
import sys

import torch

import book_ch04
import book_ch05

HERE = os.path.dirname(os.path.abspath(__file__))
TEXT = os.path.join(HERE, "..", "..", "examples", "data", "the-verdict.txt")


def group(name):
    parts = name.split(".")
    return ".".join(parts[:2]) if parts[0] == "trf_blocks" else parts[0]


def main():
    cfg = dict(book_ch04.GPT_CONFIG_BOOK_TEST, vocab_size=256, context_length=32)
    with open(TEXT, encoding="utf-8") as f:
        text = f.read()
    torch.manual_seed(7)
    model = book_ch04.GPTModel(cfg)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.1)
    tokenizer = book_ch05.ByteTokenizer()
    train_loader, val_loader = book_ch05.split_loaders(text, tokenizer, cfg, 4)
    groups = []
    for name, _ in model.named_parameters():
        if group(name) not in groups:
            groups.append(group(name))
    rows = ["step," + ",".join(groups)]
    step_of_optimizer = optimizer.step

    def step():
        sq = dict.fromkeys(groups, 0.0)
        for name, p in model.named_parameters():
            sq[group(name)] += float((p.grad.double() ** 2).sum())
        rows.append(",".join([str(len(rows) - 1)] +
                             ["%.9g" % math.sqrt(sq[g]) for g in groups]))
        step_of_optimizer()

    optimizer.step = step
    book_ch05.train_model_simple(model, train_loader, val_loader, optimizer, 1, 10, 2,
                                 "Every effort moves you", tokenizer, out=lambda line: None)
    sys.stdout.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
