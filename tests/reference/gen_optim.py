#!/usr/bin/python3
"""Fixtures for tests/test_optim.c: torch.optim and clip_grad_norm_ on a small problem.

Run with Debian's python3-torch (1.13):  /usr/bin/python3 gen_optim.py > optim.txt

Three parameters, shapes (3,2), (2) and (4,5) (the last has 20 elements, so torch's
kernels take their vectorised path as well as the scalar tail).  The gradients of
every step are fixed random tensors, written to p.grad directly, so the C test
needs no other op:
  @init.p<i>              the parameters before the first step
  @grad.p<i>.s<k>         the gradient of parameter i at step k (1..10)
For each optimizer case (fresh parameters and optimizer):
  @<case>.p<i>.s<k>       parameter i after steps 1, 2 and 10
  @<case>.p<i>.<name>     its state after step 10 (momentum_buffer, exp_avg,
                          exp_avg_sq, and step as a scalar)
Case "adam_skip" sets p1.grad = None at steps 3 and 4: torch skips it there, so
its step count and moments lag the others'.
Clipping (clip_grad_norm_ on the step-1 gradients times 3):
  @clip.<case>.total      the returned norm
  @clip.<case>.p<i>       the gradients afterwards
Case "skip" gives p1 no gradient.
"""
import torch

SHAPES = [(3, 2), (2,), (4, 5)]
STEPS = 10
SAVED_STEPS = (1, 2, 10)
SKIP = {"adam_skip": (1, (3, 4))}       # case: (parameter, steps without grad)

CASES = {
    "sgd": lambda p: torch.optim.SGD(p, lr=0.1),
    "sgd_momentum": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.1,
                                              weight_decay=0.01),
    "sgd_nesterov": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True,
                                              weight_decay=0.01),
    "adam": lambda p: torch.optim.Adam(p, lr=0.1),
    "adam_wd": lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.8, 0.99), eps=1e-3,
                                          weight_decay=0.1),
    "adamw": lambda p: torch.optim.AdamW(p, lr=0.1),
    "adam_skip": lambda p: torch.optim.Adam(p, lr=0.1),
}


def emit(name, t):
    t = torch.as_tensor(t, dtype=torch.float32)
    print("@" + " ".join([name] + [str(d) for d in t.shape]))
    print(" ".join("%.9g" % v for v in t.reshape(-1).tolist()))


def run_case(case, init, grads):
    params = [p.clone().requires_grad_(True) for p in init]
    opt = CASES[case](params)
    skip_param, skip_steps = SKIP.get(case, (None, ()))
    for k in range(1, STEPS + 1):
        for i, p in enumerate(params):
            skipped = i == skip_param and k in skip_steps
            p.grad = None if skipped else grads[k - 1][i].clone()
        opt.step()
        if k in SAVED_STEPS:
            for i, p in enumerate(params):
                emit("%s.p%d.s%d" % (case, i, k), p.detach())
    for i, p in enumerate(params):
        for name, value in opt.state[p].items():
            if value is not None:
                emit("%s.p%d.%s" % (case, i, name), value)


def run_clip(case, grads, max_norm, skip):
    params = [torch.zeros(s, requires_grad=True) for s in SHAPES]
    for i, p in enumerate(params):
        p.grad = None if i == skip else grads[i].clone()
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    emit("clip.%s.total" % case, total)
    for i, p in enumerate(params):
        if p.grad is not None:
            emit("clip.%s.p%d" % (case, i), p.grad)


def main():
    torch.manual_seed(0)
    init = [torch.randn(s) for s in SHAPES]
    grads = [[torch.randn(s) for s in SHAPES] for _ in range(STEPS)]
    print("# torch %s; written by gen_optim.py" % torch.__version__)
    for i, p in enumerate(init):
        emit("init.p%d" % i, p)
    for k, step_grads in enumerate(grads, start=1):
        for i, g in enumerate(step_grads):
            emit("grad.p%d.s%d" % (i, k), g)
    for case in CASES:
        run_case(case, init, grads)
    big = [g * 3 for g in grads[0]]
    run_clip("clipped", big, 1.0, None)
    run_clip("unclipped", big, 100.0, None)
    run_clip("skip", big, 2.5, 1)


if __name__ == "__main__":
    main()
