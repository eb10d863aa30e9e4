"""PyTorch's side of tests/bench/bench_accuracy.c: the book's GPTModel
trained on the-verdict.txt, float32 and under torch.autocast("cpu",
dtype=torch.bfloat16), printing each training-loss curve as the C
benchmark does:

    accuracy impl=pytorch config=bytes_toy mode=bf16 steps=200 losses=5.61,5.48,...

The same configurations, batches (the text's windows in order, stride T),
seed (123: the same initial weights), AdamW (lr 0.0004, weight decay 0.1)
and dropout 0.  Autocast is used as PyTorch documents it: the forward and
the loss inside the region, backward and the optimizer step after it.

Run with Debian's python3-torch (after ./run vocab for GPT-2's BPE):
    /usr/bin/python3 tests/bench/pytorch_accuracy.py [--steps N] [--configs bytes_toy,book_test] [--threads N]
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# name: (bytes tokenizer, vocab, context, emb, heads, layers, B, T): bench_accuracy.c's
CONFIGS = {
    'bytes_toy': (True, 256, 128, 128, 4, 4, 8, 128),
    'book_test': (False, 50257, 12, 32, 4, 2, 2, 12),
}


def curve(torch, GPTModel, ids, cfg, bf16, steps):
    _, V, ctx, C, H, L, B, T = cfg
    torch.manual_seed(123)
    model = GPTModel({'vocab_size': V, 'context_length': ctx, 'emb_dim': C, 'n_heads': H,
                      'n_layers': L, 'drop_rate': 0.0, 'qkv_bias': False})
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=0.0004, weight_decay=0.1)
    windows = (len(ids) - 1) // T
    data = torch.tensor(ids)
    losses = []
    for s in range(steps):
        rows = [(s * B + b) % windows for b in range(B)]
        x = torch.stack([data[w * T:w * T + T] for w in rows])
        y = torch.stack([data[w * T + 1:w * T + T + 1] for w in rows])
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
            logits = model(x)
            loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--steps', type=int, default=200)
    ap.add_argument('--configs', default=','.join(CONFIGS))
    ap.add_argument('--threads', type=int, default=1)
    args = ap.parse_args()
    os.environ['OPENBLAS_NUM_THREADS'] = str(args.threads)
    os.environ['OMP_NUM_THREADS'] = str(args.threads)
    import torch
    sys.path.insert(0, os.path.join(HERE, '..', 'reference'))
    from book_ch04 import GPTModel
    import gpt2_bpe
    torch.set_num_threads(args.threads)
    with open(os.path.join(HERE, '..', '..', 'examples', 'data', 'the-verdict.txt'),
              encoding='utf-8') as f:
        text = f.read()
    for name in args.configs.split(','):
        if name not in CONFIGS:
            sys.exit('pytorch_accuracy.py: unknown config %r (known: %s)' % (name, ', '.join(CONFIGS)))
        cfg = CONFIGS[name]
        ids = list(text.encode('utf-8')) if cfg[0] else gpt2_bpe.BookTokenizer().encode(text)
        for bf16 in (False, True):
            losses = curve(torch, GPTModel, ids, cfg, bf16, args.steps)
            print('accuracy impl=pytorch config=%s mode=%s steps=%d losses=%s'
                  % (name, 'bf16' if bf16 else 'fp32', args.steps,
                     ','.join('%.6f' % v for v in losses)), flush=True)


if __name__ == '__main__':
    main()
