#!/usr/bin/python3
"""Fixtures for tests/test_gpt.c: the book's chapter 4 GPTModel (book_ch04.py)
run in PyTorch, and the chapter 5 generate on ids.

Run with Debian's python3-torch (1.13):  /usr/bin/python3 gen_gpt.py > gpt.txt

For each case (a small config, built after torch.manual_seed(123)):
  @<case>.idx, @<case>.target      (2, 6) ids, from a private generator
  @<case>.param.<name>             every parameter right after construction
  @<case>.logits_eval              model.eval(); model(idx)
  @<case>.grad.<name>              gradients of cross_entropy(logits_eval, target)
  @<case>.logits_train             model.train(); manual_seed(321); model(idx)
                                   (dropout 0.1 in drop_emb, att, drop_shortcut)
  @<case>.grad_train.<name>        gradients of the train-mode loss
  @<case>.start                    (1, 4) ids to continue
  @<case>.greedy                   generate_text_simple(model, start, 6, context_length)
  @<case>.sample                   manual_seed(456); generate(..., 6, context_length,
                                   temperature=1.4, top_k=3)
  @<case>.eos_id, @<case>.eos      generate(..., temperature 0, eos_id) with eos_id
                                   the greedy run's third new id
and the comment line  #names <case> <named_parameters() in order>.
Also checkpoint_gpt.safetensors: the state_dict of small_bias's config built
after manual_seed(999), as safetensors.torch.save_file writes it, and
@ckpt.logits, its eval logits on small_bias's idx.
"""
import os
import sys

import torch

from gen_checkpoint import save_file
from book_ch03 import write_tensor
from book_ch04 import (GPTModel, GPT_CONFIG_124M, GPT_CONFIG_BOOK_TEST,
                       generate_text_simple, generate)

out = sys.stdout


def emit(name, t):
    write_tensor(out, name, t)


def small(qkv_bias):
    return {"vocab_size": 50, "context_length": 8, "emb_dim": 16, "n_heads": 4,
            "n_layers": 2, "drop_rate": 0.1, "qkv_bias": qkv_bias}


CASES = [("small", small(False)), ("small_bias", small(True))]


def loss_of(logits, target):
    return torch.nn.functional.cross_entropy(logits.flatten(0, 1), target.flatten())


for case, cfg in CASES:
    torch.manual_seed(123)
    model = GPTModel(cfg)
    gen = torch.Generator().manual_seed(1)
    idx = torch.randint(0, cfg["vocab_size"], (2, 6), generator=gen)
    target = torch.randint(0, cfg["vocab_size"], (2, 6), generator=gen)
    start = torch.randint(0, cfg["vocab_size"], (1, 4), generator=gen)
    emit(f"{case}.idx", idx)
    emit(f"{case}.target", target)
    names = [n for n, _ in model.named_parameters()]
    out.write(f"#names {case} {' '.join(names)}\n")
    for n, p in model.named_parameters():
        emit(f"{case}.param.{n}", p)

    model.eval()
    logits = model(idx)
    emit(f"{case}.logits_eval", logits)
    loss_of(logits, target).backward()
    for n, p in model.named_parameters():
        emit(f"{case}.grad.{n}", p.grad)

    model.zero_grad()
    model.train()
    torch.manual_seed(321)
    logits = model(idx)
    emit(f"{case}.logits_train", logits)
    loss_of(logits, target).backward()
    for n, p in model.named_parameters():
        emit(f"{case}.grad_train.{n}", p.grad)

    model.eval()
    emit(f"{case}.start", start)
    greedy = generate_text_simple(model, start, 6, cfg["context_length"])
    emit(f"{case}.greedy", greedy)
    torch.manual_seed(456)
    emit(f"{case}.sample", generate(model, start, 6, cfg["context_length"],
                                    temperature=1.4, top_k=3))
    eos_id = int(greedy[0, 4 + 2])
    emit(f"{case}.eos_id", torch.tensor(float(eos_id)))
    emit(f"{case}.eos", generate(model, start, 6, cfg["context_length"], eos_id=eos_id))

torch.manual_seed(999)
model = GPTModel(small(True))
model.eval()
here = os.path.dirname(os.path.abspath(__file__))
save_file(model.state_dict(), os.path.join(here, "checkpoint_gpt.safetensors.tmp"),
          {"format": "pt"})
os.replace(os.path.join(here, "checkpoint_gpt.safetensors.tmp"),
           os.path.join(here, "checkpoint_gpt.safetensors"))
emit("ckpt.logits", model(idx))

for name, cfg in (("124m", GPT_CONFIG_124M), ("book_test", GPT_CONFIG_BOOK_TEST)):
    torch.manual_seed(123)
    n = sum(p.numel() for p in GPTModel(cfg).parameters())
    emit(f"{name}.num_parameters", torch.tensor(float(n), dtype=torch.float64))
