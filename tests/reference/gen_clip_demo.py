#!/usr/bin/python3
"""Writes clip_demo.txt and clip_demo.expected: the book's appendix-D
gradient-clipping demo (find_highest_gradient before and after
clip_grad_norm_), computed with PyTorch 1.13 and book_appendix_d.py:

    OMP_NUM_THREADS=1 /usr/bin/python3 tests/reference/gen_clip_demo.py

after ./run vocab (or with ATTOGRAD_VOCAB_DIR set): about 20 s of CPU on one
core, most of it the 124M model.

The demo as the book runs it, for a configuration: torch.manual_seed(123);
model; torch.manual_seed(123); the-verdict loaders (90 % split, max_length =
stride = context); the warmup demo's and the cosine demo's 15 passes each over
the training loader, which draw the shuffles and leave the last batch in
(input_batch, target_batch); torch.manual_seed(123); a fresh model (train
mode, dropout on); loss of that batch; backward; find_highest_gradient;
clip_grad_norm_(max_norm); find_highest_gradient.

Configurations
  small   finetune_d_run's (gen_finetune.py D_CFG and BATCH): book-test (emb 32,
          4 heads, 2 layers, drop 0.1, qkv False) with the bytes tokenizer
          (vocab 256), context 64, batch 8 (35 training batches).  Its total
          norm is below 1, so max_norm 1.0 leaves the gradients as they are
          (clip_coef clamped to 1); 0.5 and 0.25 scale them.
  124m    the book's: GPT_CONFIG_124M with context 256, GPT-2's BPE, batch 2
          (9 training batches); max_norm 1.0: the book's tensor(0.0411) and
          tensor(0.0185).

clip_demo.txt: for each configuration c (small, 124m): @clip_<c>_loss (the
  loss), @clip_<c>_norm (the total norm clip_grad_norm_ returns), then, over
  the max_norms @clip_<c>_max_norm k: @clip_<c>_before k and @clip_<c>_after k
  (the largest gradient element, float32 %.9g).
clip_demo.expected: for each configuration and max_norm a line
  "<c> max_norm=<m>", then what print(find_highest_gradient(model)) prints
  before and after clipping.
"""
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import book_appendix_d  # noqa: E402
import book_ch04  # noqa: E402
import book_ch05  # noqa: E402
import gen_finetune  # noqa: E402
import gpt2_bpe  # noqa: E402

CONFIGS = [
    ("small", gen_finetune.D_CFG, gen_finetune.BATCH, "bytes", [1.0, 0.5, 0.25]),
    ("124m", dict(book_ch04.GPT_CONFIG_124M, context_length=256), 2, "gpt2", [1.0]),
]


def last_batch(text, tok, cfg, batch):
    torch.manual_seed(123)
    book_ch04.GPTModel(cfg)
    torch.manual_seed(123)
    train_loader, _ = book_ch05.split_loaders(text, tok, cfg, batch_size=batch)
    for _ in range(15 + 15):      # the warmup demo, then the cosine demo
        for input_batch, target_batch in train_loader:
            pass
    return input_batch, target_batch


def demo(cfg, x, y, max_norm):
    torch.manual_seed(123)
    model = book_ch04.GPTModel(cfg)
    loss = book_ch05.calc_loss_batch(x, y, model)
    loss.backward()
    before = book_appendix_d.find_highest_gradient(model)
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_norm)
    after = book_appendix_d.find_highest_gradient(model)
    return loss.item(), norm.item(), before, after


def main():
    torch.set_num_threads(1)
    with open(gen_finetune.VERDICT, encoding="utf-8") as f:
        text = f.read()
    fx = gen_finetune.Fixture("clip_demo.txt", "clip_demo.txt: written by gen_clip_demo.py (its "
                              "docstring gives the runs); torch " + torch.__version__)
    lines = []
    for name, cfg, batch, tokenizer, max_norms in CONFIGS:
        tok = book_ch05.ByteTokenizer() if tokenizer == "bytes" else gpt2_bpe.BookTokenizer()
        x, y = last_batch(text, tok, cfg, batch)
        befores, afters = [], []
        for m in max_norms:
            loss, norm, before, after = demo(cfg, x, y, m)
            befores.append(before.item())
            afters.append(after.item())
            lines += ["%s max_norm=%r" % (name, m), str(before), str(after)]
        fx.tensor("clip_%s_loss" % name, loss)
        fx.tensor("clip_%s_norm" % name, norm)
        fx.tensor("clip_%s_max_norm" % name, max_norms)
        fx.tensor("clip_%s_before" % name, befores)
        fx.tensor("clip_%s_after" % name, afters)
    assert lines[-2:] == ["tensor(0.0411)", "tensor(0.0185)"], lines[-2:]
    fx.write()
    gen_finetune.write_expected("clip_demo.expected", lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
