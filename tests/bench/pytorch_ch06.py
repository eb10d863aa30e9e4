"""The book's chapter-6 fine-tuning in PyTorch, timed: the PyTorch side of
README's chapter-6 CPU figure (issue 24: one epoch with 124M at the book's
settings, random weights, beside the C program on the same threads).

    /usr/bin/python3 tests/bench/pytorch_ch06.py [--threads N] [--epochs N] [--steps N]
        [--sms SMSSpamCollection.tsv]   (after ./run vocab)

The model: gpt2-small's config as chapter 6 loads it (vocab 50257, context
1024, emb 768, 12 heads, 12 layers, drop_rate 0.0, qkv_bias True), built
with torch.manual_seed(123) and left with its random init (no weights are
fetched: the cost is the same).  The data: --sms, the SMS Spam Collection
(or any file of its format), through the book's pandas rules, balanced set,
70/10/20 split, SpamDataset and loaders (tests/reference/book_ch06.py);
without --sms, a stand-in of the real data's shapes (1,045 training and 149
validation rows of 120 ids, labels alternating, ids drawn from
torch.Generator seeded 0): 130 training batches of 8 x 120 an epoch, 19
validation batches.  Then the book's order: every parameter frozen,
manual_seed(123), out_head = Linear(768, 2), trf_blocks[-1] and final_norm
trainable, manual_seed(123), AdamW(lr 5e-5, weight_decay 0.1), and
train_classifier_simple with eval_freq 50, eval_iter 5 (1 epoch unless
--epochs).  It prints the book's lines, then one summary line on stderr:

    ch06 impl=pytorch threads=N wall_s=... examples_seen=1040 examples_per_s=... peak_rss_kb=...

examples_per_s is training examples over the whole wall time from the model's
construction on (evaluations and accuracies included).  Threads as
pytorch_ch05.py: --threads N sets torch's threads and, before torch is
imported, OPENBLAS_NUM_THREADS and OMP_NUM_THREADS.  --steps N stops after N
optimizer steps.
"""
import argparse
import os
import resource
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--sms")
    args = ap.parse_args()
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)

    import torch
    from torch.utils.data import DataLoader, TensorDataset
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "reference"))
    import book_ch04
    import book_ch06
    import gpt2_bpe

    torch.set_num_threads(args.threads)
    cfg = dict(book_ch04.GPT_CONFIG_124M, drop_rate=0.0, qkv_bias=True)

    if args.sms:
        tokenizer = gpt2_bpe.BookTokenizer()
        rows = book_ch06.read_sms_tsv(args.sms)
        train, val, _ = book_ch06.random_split(book_ch06.create_balanced_dataset(rows), 0.7, 0.1)
        train_ds = book_ch06.SpamDataset(train, tokenizer)
        val_ds = book_ch06.SpamDataset(val, tokenizer, max_length=train_ds.max_length)
    else:
        g = torch.Generator().manual_seed(0)

        def standin(n):
            return TensorDataset(torch.randint(0, 50257, (n, 120), generator=g),
                                 torch.arange(n) % 2)
        train_ds, val_ds = standin(1045), standin(149)
    torch.manual_seed(123)
    train_loader = DataLoader(train_ds, batch_size=8, shuffle=True, drop_last=True)
    val_loader = DataLoader(val_ds, batch_size=8, shuffle=False, drop_last=False)

    t0 = time.monotonic()
    torch.manual_seed(123)
    model = book_ch04.GPTModel(cfg)
    model.eval()
    book_ch06.finish_classifier(model, cfg["emb_dim"])
    torch.manual_seed(123)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.1)

    class Stop(Exception):
        pass

    seen = {"steps": 0}
    real_step = optimizer.step

    def counted_step(*a, **k):
        out = real_step(*a, **k)
        seen["steps"] += 1
        if args.steps and seen["steps"] >= args.steps:
            raise Stop()
        return out
    optimizer.step = counted_step

    def out(line):
        print(line, flush=True)

    try:
        book_ch06.train_classifier_simple(model, train_loader, val_loader, optimizer,
                                          args.epochs, 50, 5, out=out)
    except Stop:
        pass
    wall = time.monotonic() - t0
    examples = seen["steps"] * 8
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("ch06 impl=pytorch threads=%d wall_s=%.1f examples_seen=%d examples_per_s=%.2f "
          "peak_rss_kb=%d" % (args.threads, wall, examples, examples / wall, rss),
          file=sys.stderr)


if __name__ == "__main__":
    main()
