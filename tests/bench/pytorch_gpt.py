"""One GPT training step in PyTorch at the four configurations of issue 13,
printing one line per configuration and thread count:

    gpt_step impl=pytorch config=book_test V=50257 ctx=12 C=32 H=4 L=2 B=2 T=12 threads=1 mode=fp32 ms_per_step=31.0 peak_rss_kb=345000

The step: the book's GPTModel (tests/reference/book_ch04.py) forward on
random ids, cross-entropy of the flattened logits against random targets,
zero_grad, backward, AdamW (lr 0.0004, weight_decay 0.1).  Dropout 0 (the
bytes toy's setting; the step's cost is the same for the others up to the
masks).  A figure is the median over several steps after warm-up.

mode=bf16: the forward and the loss under torch.autocast("cpu",
dtype=torch.bfloat16), backward and the step after it, as PyTorch documents
autocast (its bf16 products run in oneDNN, with AVX512_BF16 where the CPU
has it).

Threads: threads=1 is torch.set_num_threads(1) with OpenBLAS limited to one
thread too (OPENBLAS_NUM_THREADS=1 and OMP_NUM_THREADS=1 in the environment
before torch is imported: Debian's torch multiplies in OpenBLAS, which
torch's own setting does not reach).  threads=2 is PyTorch's best of its
thread settings: OpenBLAS on 2, torch's own threads on 2 with
OMP_WAIT_POLICY=PASSIVE and without (its OpenMP workers otherwise spin
against OpenBLAS's), and torch's on 1; the fastest is printed, with the
peak RSS of that run.  Each configuration runs in its own process, so its
peak RSS (ru_maxrss of that process) is its own.

Run with Debian's python3-torch:
    /usr/bin/python3 tests/bench/pytorch_gpt.py [--threads 1,2] [--configs book_test,bytes_toy] [--modes fp32,bf16]
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

# name: (vocab, context, emb, heads, layers, B, T)
CONFIGS = {
    'book_test': (50257, 12, 32, 4, 2, 2, 12),
    'bytes_toy': (256, 128, 128, 4, 4, 8, 128),
    '124M_4x64': (50257, 256, 768, 12, 12, 4, 64),
    '124M_2x256': (50257, 256, 768, 12, 12, 2, 256),
}


def child(name, torch_threads, reps, bf16):
    """Runs in a fresh process whose environment already holds the thread
    settings; prints the median ms per step and the peak RSS."""
    import torch
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'reference'))
    from book_ch04 import GPTModel

    torch.set_num_threads(torch_threads)
    V, ctx, C, H, L, B, T = CONFIGS[name]
    torch.manual_seed(123)
    model = GPTModel({'vocab_size': V, 'context_length': ctx, 'emb_dim': C, 'n_heads': H,
                      'n_layers': L, 'drop_rate': 0.0, 'qkv_bias': False})
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=0.0004, weight_decay=0.1)

    def step():
        x = torch.randint(0, V, (B, T))
        y = torch.randint(0, V, (B, T))
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
            logits = model(x)
            loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(2):
        step()
    ms = []
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        ms.append((time.perf_counter() - t0) * 1e3)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print('%.1f %d' % (statistics.median(ms), rss))


def run(name, threads, torch_threads, passive, reps, bf16):
    """(ms, peak RSS KB) of one child: OpenBLAS on `threads`, torch on
    `torch_threads`."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads),
               OMP_NUM_THREADS=str(torch_threads))
    if passive:
        env['OMP_WAIT_POLICY'] = 'PASSIVE'
    else:
        env.pop('OMP_WAIT_POLICY', None)
    out = subprocess.run([sys.executable, __file__, '--child', name, str(torch_threads),
                          str(reps), 'bf16' if bf16 else 'fp32'],
                         env=env, check=True, capture_output=True, text=True).stdout.split()
    return float(out[0]), int(out[1])


def main():
    if len(sys.argv) > 1 and sys.argv[1] == '--child':
        child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == 'bf16')
        return
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--threads', default='1,2', help='comma-separated thread counts')
    ap.add_argument('--configs', default=','.join(CONFIGS), help='comma-separated names')
    ap.add_argument('--modes', default='fp32', help='fp32, bf16 (autocast) or both')
    args = ap.parse_args()
    modes = args.modes.split(',')
    if any(m not in ('fp32', 'bf16') for m in modes):
        sys.exit('pytorch_gpt.py: --modes: fp32 or bf16')
    for threads in [int(t) for t in args.threads.split(',')]:
        for name in args.configs.split(','):
            if name not in CONFIGS:
                sys.exit('pytorch_gpt.py: unknown config %r (known: %s)' % (name, ', '.join(CONFIGS)))
            for mode in modes:
                measure(name, threads, mode)


def measure(name, threads, mode):
    """Prints the line of one configuration, thread count and mode."""
    V, ctx, C, H, L, B, T = CONFIGS[name]
    reps = 5 if C >= 768 else 15
    # (torch's threads, OMP_WAIT_POLICY=PASSIVE)
    tries = [(1, False)] if threads == 1 else [(threads, False), (threads, True), (1, False)]
    ms, rss = min(run(name, threads, t, passive, reps, mode == 'bf16') for t, passive in tries)
    print('gpt_step impl=pytorch config=%s V=%d ctx=%d C=%d H=%d L=%d B=%d T=%d '
          'threads=%d mode=%s ms_per_step=%.1f peak_rss_kb=%d'
          % (name, V, ctx, C, H, L, B, T, threads, mode, ms, rss), flush=True)

if __name__ == '__main__':
    main()
