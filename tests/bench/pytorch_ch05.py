"""The book's chapter-5 run in PyTorch, timed: what `train_gpt` with no flags
does, for the side-by-side figures of README's Performance section.

    /usr/bin/python3 tests/bench/pytorch_ch05.py [--threads N] [--steps N]   (after ./run vocab)

GPTModel 124M with context 256 (tests/reference/book_ch04.py), the-verdict.txt
through GPT-2's BPE (tests/reference/gpt2_bpe.py, tiktoken's ids), the book's
loaders and train_model_simple (tests/reference/book_ch05.py), AdamW lr 0.0004
weight_decay 0.1, 10 epochs, batch 2, eval_freq 5, eval_iter 5, seed 123.  It
prints the book's lines, then one summary line on stderr:

    ch05 impl=pytorch threads=2 wall_s=... tokens_seen=46080 tokens_per_s=... peak_rss_kb=...

tokens_per_s is tokens seen by the optimizer over the whole run's wall time
(evaluations and samples included), as `train_gpt` reports it.

Threads: --threads N sets torch's threads and, before torch is imported,
OPENBLAS_NUM_THREADS and OMP_NUM_THREADS (Debian's torch multiplies in
OpenBLAS, which torch.set_num_threads does not reach).  --steps N stops after
N optimizer steps (a shorter measurement; the printed lines are then a prefix
of the full run's).
"""
import argparse
import os
import resource
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=10)
    args = ap.parse_args()
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)

    import torch
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "reference"))
    import book_ch04
    import book_ch05
    import gpt2_bpe

    torch.set_num_threads(args.threads)

    cfg = dict(book_ch04.GPT_CONFIG_124M, context_length=256)
    with open(os.path.join(here, "..", "..", "examples", "data", "the-verdict.txt"),
              encoding="utf-8") as f:
        text = f.read()
    t0 = time.monotonic()
    torch.manual_seed(123)
    model = book_ch04.GPTModel(cfg)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.0004, weight_decay=0.1)
    tokenizer = gpt2_bpe.BookTokenizer()
    train_loader, val_loader = book_ch05.split_loaders(text, tokenizer, cfg, 2)

    class Stop(Exception):
        pass

    seen = {"tokens": 0}
    if args.steps:
        # counts steps through the optimizer: the book's loop is unchanged
        real_step = optimizer.step

        def counted_step(*a, **k):
            out = real_step(*a, **k)
            seen["steps"] = seen.get("steps", 0) + 1
            seen["tokens"] = seen["steps"] * 2 * cfg["context_length"]
            if seen["steps"] >= args.steps:
                raise Stop()
            return out
        optimizer.step = counted_step

    def out(line):
        print(line, flush=True)

    try:
        book_ch05.train_model_simple(model, train_loader, val_loader, optimizer, args.epochs, 5,
                                     5, "Every effort moves you", tokenizer, out=out)
        seen["tokens"] = args.epochs * len(train_loader) * 2 * cfg["context_length"]
    except Stop:
        pass
    wall = time.monotonic() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("ch05 impl=pytorch threads=%d wall_s=%.1f tokens_seen=%d tokens_per_s=%.1f "
          "peak_rss_kb=%d" % (args.threads, wall, seen["tokens"], seen["tokens"] / wall, rss),
          file=sys.stderr)


if __name__ == "__main__":
    main()
