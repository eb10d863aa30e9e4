"""Fixture for the toy teacher-student task of examples/train_attention.

Writes train.txt: the loss of every step of 50-step runs (v1 and v2 students,
Adam and SGD, lr 0.01, batch 8, seed 123), exactly as train_attention
defines the task.  Run with Debian's python3-torch: python3 gen_train.py
"""
import os
import torch
import torch.nn.functional as F

from book_ch03 import (SelfAttention_v1, SelfAttention_v2, CausalAttention,
                       MultiHeadAttention, write_tensor)

torch.set_num_threads(1)


def run(model, optim, lr=0.01, steps=50, batch=8, seed=123):
    torch.manual_seed(seed)
    teacher = SelfAttention_v2(3, 2)
    student = {
        'v1': lambda: SelfAttention_v1(3, 2),
        'v2': lambda: SelfAttention_v2(3, 2),
        'causal': lambda: CausalAttention(3, 2, 6, 0.0),
        'mha': lambda: MultiHeadAttention(3, 2, 6, 0.0, 2),
    }[model]()
    opt = {
        'sgd': lambda p: torch.optim.SGD(p, lr=lr),
        'adam': lambda p: torch.optim.Adam(p, lr=lr),
        'adamw': lambda p: torch.optim.AdamW(p, lr=lr, weight_decay=0.01),
    }[optim](student.parameters())
    losses = []
    for _ in range(steps):
        x = torch.rand(batch, 6, 3)
        with torch.no_grad():
            y = teacher(x)
        loss = F.mse_loss(student(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return torch.tensor(losses)


here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, 'train.txt'), 'w') as f:
    f.write('# losses of the toy task, seed 123, lr 0.01, batch 8 (gen_train.py)\n')
    for model in ('v1', 'v2', 'causal', 'mha'):
        for optim in ('adam', 'sgd', 'adamw'):
            write_tensor(f, 'loss_%s_%s' % (model, optim), run(model, optim))
