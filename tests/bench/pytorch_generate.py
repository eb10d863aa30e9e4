"""PyTorch's side of tests/bench/bench_generate.c: one greedy token of the
book's GPTModel (124M, context 1024, no qkv bias) with a key/value cache, at
a context near 1024, float32 and under torch.autocast("cpu",
dtype=torch.bfloat16), printing one line per mode and thread count:

    generate impl=pytorch mode=fp32 threads=1 context=1024 prompt=1000 tokens=12 ms_per_token=60.1 first_ms=3100.2

The cache is the book's bonus KV-cache code (ch04/03_kv-cache): each
MultiHeadAttention keeps cache_k and cache_v, appends a call's keys and
values to them (torch.cat along the tokens), attends the new queries to
the whole cache with the mask's rows of their positions, and the model
counts its position for the positional embeddings.  The prompt's call
fills the cache; then each timed call is one new position (the book's
generate_text_simple_cached, one step of it: argmax of the last logits).
Weights are random (seed 123): the time does not depend on them.  The
median over the tokens is printed.  Under autocast the linear layers give
bf16, so the cache holds bf16 keys and values, as PyTorch runs it.

Threads as pytorch_gpt.py: OPENBLAS_NUM_THREADS and OMP_NUM_THREADS set
before torch is imported, torch.set_num_threads; each run in a process of
its own.

    /usr/bin/python3 tests/bench/pytorch_generate.py [--threads 1,2] [--modes fp32,bf16] [--prompt N] [--tokens N]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CFG = {'vocab_size': 50257, 'context_length': 1024, 'emb_dim': 768, 'n_heads': 12,
       'n_layers': 12, 'drop_rate': 0.0, 'qkv_bias': False}


def build(torch, nn):
    sys.path.insert(0, os.path.join(HERE, '..', 'reference'))
    from book_ch04 import LayerNorm, FeedForward

    class MultiHeadAttention(nn.Module):
        def __init__(self, d_in, d_out, context_length, num_heads, qkv_bias=False):
            super().__init__()
            self.d_out, self.num_heads = d_out, num_heads
            self.head_dim = d_out // num_heads
            self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
            self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
            self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)
            self.out_proj = nn.Linear(d_out, d_out)
            self.register_buffer('mask', torch.triu(torch.ones(context_length, context_length),
                                                    diagonal=1), persistent=False)
            self.cache_k = self.cache_v = None
            self.ptr_current_pos = 0

        def forward(self, x):
            b, n, _ = x.shape
            shape = (b, n, self.num_heads, self.head_dim)
            keys_new = self.W_key(x).view(shape)
            values_new = self.W_value(x).view(shape)
            queries = self.W_query(x).view(shape)
            if self.cache_k is None:
                self.cache_k, self.cache_v = keys_new, values_new
            else:
                self.cache_k = torch.cat([self.cache_k, keys_new], dim=1)
                self.cache_v = torch.cat([self.cache_v, values_new], dim=1)
            keys, values = self.cache_k.transpose(1, 2), self.cache_v.transpose(1, 2)
            queries = queries.transpose(1, 2)
            scores = queries @ keys.transpose(2, 3)
            nk = keys.shape[-2]
            mask = self.mask.bool()[self.ptr_current_pos:self.ptr_current_pos + n, :nk]
            self.ptr_current_pos += n
            scores.masked_fill_(mask, -torch.inf)
            weights = torch.softmax(scores / keys.shape[-1] ** 0.5, dim=-1)
            context = (weights @ values).transpose(1, 2).contiguous().view(b, n, self.d_out)
            return self.out_proj(context)

    class TransformerBlock(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.att = MultiHeadAttention(cfg['emb_dim'], cfg['emb_dim'], cfg['context_length'],
                                          cfg['n_heads'], cfg['qkv_bias'])
            self.ff = FeedForward(cfg)
            self.norm1 = LayerNorm(cfg['emb_dim'])
            self.norm2 = LayerNorm(cfg['emb_dim'])

        def forward(self, x):
            x = x + self.att(self.norm1(x))
            return x + self.ff(self.norm2(x))

    class GPTModel(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.tok_emb = nn.Embedding(cfg['vocab_size'], cfg['emb_dim'])
            self.pos_emb = nn.Embedding(cfg['context_length'], cfg['emb_dim'])
            self.trf_blocks = nn.ModuleList(TransformerBlock(cfg) for _ in range(cfg['n_layers']))
            self.final_norm = LayerNorm(cfg['emb_dim'])
            self.out_head = nn.Linear(cfg['emb_dim'], cfg['vocab_size'], bias=False)
            self.current_pos = 0

        def forward(self, idx):
            n = idx.shape[1]
            pos = torch.arange(self.current_pos, self.current_pos + n)
            self.current_pos += n
            x = self.tok_emb(idx) + self.pos_emb(pos).unsqueeze(0)
            for blk in self.trf_blocks:
                x = blk(x)
            return self.out_head(self.final_norm(x))

    return GPTModel


def child(threads, bf16, prompt, tokens):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(123)
    model = build(torch, torch.nn)(CFG)
    model.eval()
    idx = torch.randint(0, CFG['vocab_size'], (1, prompt))
    ms = []
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
        t0 = time.perf_counter()
        nxt = model(idx)[:, -1].argmax(dim=-1, keepdim=True)
        first = (time.perf_counter() - t0) * 1e3
        for _ in range(tokens):
            t0 = time.perf_counter()
            nxt = model(nxt)[:, -1].argmax(dim=-1, keepdim=True)
            ms.append((time.perf_counter() - t0) * 1e3)
    print('%.2f %.1f' % (statistics.median(ms), first))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == '--child':
        child(int(sys.argv[2]), sys.argv[3] == 'bf16', int(sys.argv[4]), int(sys.argv[5]))
        return
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--threads', default='1,2')
    ap.add_argument('--modes', default='fp32,bf16')
    ap.add_argument('--prompt', type=int, default=1000)
    ap.add_argument('--tokens', type=int, default=12)
    args = ap.parse_args()
    if args.prompt < 1 or args.tokens < 1 or args.prompt + args.tokens > CFG['context_length']:
        sys.exit('pytorch_generate.py: want prompt >= 1, tokens >= 1, prompt + tokens <= 1024')
    for threads in [int(t) for t in args.threads.split(',')]:
        for mode in args.modes.split(','):
            if mode not in ('fp32', 'bf16'):
                sys.exit('pytorch_generate.py: --modes: fp32 or bf16')
            env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
            out = subprocess.run([sys.executable, __file__, '--child', str(threads), mode,
                                  str(args.prompt), str(args.tokens)],
                                 env=env, check=True, capture_output=True, text=True).stdout.split()
            print('generate impl=pytorch mode=%s threads=%d context=%d prompt=%d tokens=%d '
                  'ms_per_token=%s first_ms=%s' % (mode, threads, CFG['context_length'],
                                                   args.prompt, args.tokens, out[0], out[1]),
                  flush=True)


if __name__ == '__main__':
    main()
