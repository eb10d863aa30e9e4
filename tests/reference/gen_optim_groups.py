#!/usr/bin/python3
"""Fixtures for parameter groups, freezing and learning-rate schedules (issue 23),
as torch.optim and torch.optim.lr_scheduler 1.13 compute them.

Run with Debian's python3-torch (1.13):  /usr/bin/python3 gen_optim_groups.py
It writes two files next to itself.

optim_groups.txt -- named tensors in the fixtures' format (testutil_fixture:
  "@name d0 d1 ..." then the values, %.9g).  The model is
      nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.ReLU(), nn.Linear(4, 3))
  built after torch.manual_seed(123); its parameters by their dotted names
  0.weight (4,3), 0.bias (4), 1.weight (4), 1.bias (4), 3.weight (3,4), 3.bias (3).
      @init.<param>         the parameters before any step (every case starts here)
      @data.x (8,3), @data.y (8)   inputs and class targets (whole floats)
  Every step k = 1, 2, ...: optimizer.zero_grad() (1.13's default keeps a
  gradient tensor and fills it with zeros; set_to_none=False), loss =
  F.cross_entropy(model(x), y), loss.backward(), optimizer.step().  Per case:
      @<case>.loss.s<k>              the loss at step k (before the update)
      @<case>.grad.<param>.s<k>      the gradient step k used (absent when None),
                                     so a test can also feed the optimizer directly
      @<case>.<param>.s<k>           the parameter after step k
      @<case>.<param>.<state>        its state after the last step (exp_avg,
                                     exp_avg_sq, step; momentum_buffer), absent
                                     when the optimizer holds none for it
      @<case>.trainable              sum(p.numel() for p in parameters if
                                     p.requires_grad) after the last step
  The usual split: decay = [0.weight, 3.weight], no_decay = [0.bias, 1.weight,
  1.bias, 3.bias] (biases and LayerNorm).  Cases:
    adamw_groups        AdamW([{decay, lr 0.01, weight_decay 0.1},
                               {no_decay, lr 0.02, weight_decay 0.0}]), 6 steps
    adamw_set_lr        the same, and before step 3 param_groups[0]["lr"] = 0.005,
                        param_groups[1]["lr"] = 0.001 (steps 3 to 6 use them)
    adamw_frozen        as adamw_groups with 0.weight.requires_grad_(False) before
                        the optimizer is made (it stays in its group): it never has
                        a gradient, is never updated or decayed, holds no state
    adamw_freeze_later  as adamw_groups; after step 3, 3.weight.requires_grad_(False)
                        and 3.weight.grad = None: steps 4 to 6 leave it and its
                        Adam state (step 3's exp_avg, exp_avg_sq, step) untouched
    adamw_freeze_later_zero_grad  the same freeze but without grad = None:
                        zero_grad() (set_to_none=False in 1.13) keeps a zero
                        gradient, and AdamW keeps stepping the frozen weight
                        (moments decay, step counts on, weight decay and the
                        momentum move it).  PyTorch 2.x's zero_grad() sets None.
    sgd_groups          SGD([{decay, lr 0.1, momentum 0.9, weight_decay 0.01},
                             {no_decay, lr 0.05}]) (momentum 0 in the second), 6 steps
  Lines "#error <case>: <message>" at the end: PyTorch's refusal of two groups
  sharing a parameter (and of one tensor given twice in one group: a warning,
  not an error, in 1.13 -- "#warning").

lr_schedules.txt -- learning rates as doubles: "@name n" then n values printed
  with %.17g (Python's float, 17 significant digits: strtod gives the same
  double back; compare them exactly, not as floats).  Each value is the lr the
  optimizer step k = 0, 1, ..., n-1 uses, i.e. group["lr"] before
  scheduler.step() (torch's order: optimizer.step(), then scheduler.step()).
  Two groups (base lrs 0.1 and 0.01), "<name>.g0" and "<name>.g1":
    step.s3_g0.5        StepLR(step_size=3, gamma=0.5), 14 steps
    step.s2_g0.1        StepLR(step_size=2, gamma=0.1), 14 steps (0.1 is inexact:
                        torch multiplies the running lr by gamma at each boundary,
                        lr * 0.1 * 0.1 ..., not base * 0.1 ** n)
    lambda.pow          LambdaLR(lambda e: 0.95 ** e), 14 steps (base * f(e))
    lambda.warmup       LambdaLR(lambda e: min(1.0, (e + 1) / 5)), 14 steps
    cosine.t10_min1e-3  CosineAnnealingLR(T_max=10, eta_min=0.001), 45 steps
    cosine.t7           CosineAnnealingLR(T_max=7), 30 steps
  torch's CosineAnnealingLR is recursive (its get_lr, not the closed form): at
  e = 0 the base lr; at e with (e - 1 - T_max) % (2 T_max) == 0:
  lr + (base - eta_min) * (1 - cos(pi / T_max)) / 2; otherwise
  (1 + cos(pi e / T_max)) / (1 + cos(pi (e - 1) / T_max)) * (lr - eta_min) + eta_min.
  It reaches eta_min at T_max and then climbs back: base again at 2 T_max,
  a period of 2 T_max -- the cases run past 2 T_max (and 4 T_max for t10) to pin
  that.  "@cosine.t10_min1e-3.closed.g0" is the closed form
  eta_min + (base - eta_min) (1 + cos(pi e / T_max)) / 2 for comparison (equal
  within a few ulps, not bit for bit).
  The book's appendix D schedule (one group; "global_step" from 0):
      lr_increment = (peak_lr - initial_lr) / warmup_steps
      step < warmup_steps:  lr = initial_lr + step * lr_increment
      otherwise:  progress = (step - warmup_steps) / (total_steps - warmup_steps)
                  lr = min_lr + (peak_lr - min_lr) * 0.5 * (1 + cos(pi * progress))
  evaluated in that order in doubles:
    book.demo  initial 1e-4, peak 0.01, min 1e-5, total 135, warmup 27
    book.run   initial = min = 1e-5, peak 0.001, total 135, warmup 27 (the
               appendix's training run)
  300 steps each: the book's loop stops at step total_steps - 1 (134); at
  step total_steps the formula gives min_lr exactly, and past it cos climbs
  again: lr rises back towards peak_lr (reached at 2 total - warmup = 243) and
  falls again -- the formula has no clamp, so a schedule object that runs past
  total_steps must say what it does there (this is what the book's formula gives).
"""
import math
import os
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

from book_ch03 import write_tensor

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = 6
DECAY = ["0.weight", "3.weight"]
NO_DECAY = ["0.bias", "1.weight", "1.bias", "3.bias"]


class Out:
    def __init__(self):
        self.parts = []

    def write(self, s):
        self.parts.append(s)

    def tensor(self, name, t):
        write_tensor(self, name, torch.as_tensor(t).float())


OUT = Out()
ERRORS = []


def make_model():
    torch.manual_seed(123)
    return nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.ReLU(), nn.Linear(4, 3))


def groups(model, decay_kw, no_decay_kw):
    named = dict(model.named_parameters())
    return [dict(params=[named[n] for n in DECAY], **decay_kw),
            dict(params=[named[n] for n in NO_DECAY], **no_decay_kw)]


ADAMW_GROUPS = ({"lr": 0.01, "weight_decay": 0.1}, {"lr": 0.02, "weight_decay": 0.0})


def run(case, x, y, make_opt, before_step=None, frozen_at_start=()):
    model = make_model()
    named = dict(model.named_parameters())
    for n in frozen_at_start:
        named[n].requires_grad_(False)
    opt = make_opt(model)
    for k in range(1, STEPS + 1):
        if before_step:
            before_step(k, model, opt)
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        OUT.tensor("%s.loss.s%d" % (case, k), loss.detach())
        for n, p in named.items():
            if p.grad is not None:
                OUT.tensor("%s.grad.%s.s%d" % (case, n, k), p.grad)
        opt.step()
        for n, p in named.items():
            OUT.tensor("%s.%s.s%d" % (case, n, k), p.detach())
    for n, p in named.items():
        for key, value in opt.state.get(p, {}).items():
            if value is not None:
                OUT.tensor("%s.%s.%s" % (case, n, key), value)
    OUT.tensor("%s.trainable" % case,
               torch.tensor(float(sum(p.numel() for p in model.parameters() if p.requires_grad))))
    return model, opt


def optimizer_cases():
    torch.manual_seed(7)
    x = torch.randn(8, 3)
    y = torch.tensor([0, 2, 1, 1, 0, 2, 2, 1])
    init = make_model()
    for n, p in init.named_parameters():
        OUT.tensor("init." + n, p.detach())
    OUT.tensor("data.x", x)
    OUT.tensor("data.y", y)

    def adamw(model):
        return torch.optim.AdamW(groups(model, *ADAMW_GROUPS))

    run("adamw_groups", x, y, adamw)

    def set_lr(k, model, opt):
        if k == 3:
            opt.param_groups[0]["lr"] = 0.005
            opt.param_groups[1]["lr"] = 0.001
    run("adamw_set_lr", x, y, adamw, set_lr)

    model, opt = run("adamw_frozen", x, y, adamw, frozen_at_start=["0.weight"])
    w = dict(model.named_parameters())["0.weight"]
    assert w.grad is None and w not in opt.state
    assert torch.equal(w.detach(), dict(init.named_parameters())["0.weight"].detach())

    snapshot = {}

    def freeze(k, model, opt, clear):
        if k == 4:
            w = dict(model.named_parameters())["3.weight"]
            w.requires_grad_(False)
            if clear:
                w.grad = None
            snapshot.clear()
            snapshot.update({key: v.clone() for key, v in opt.state[w].items()})
            snapshot["param"] = w.detach().clone()

    model, opt = run("adamw_freeze_later", x, y, adamw,
                     lambda k, m, o: freeze(k, m, o, True))
    w = dict(model.named_parameters())["3.weight"]
    assert torch.equal(w.detach(), snapshot["param"])
    assert all(torch.equal(opt.state[w][key], snapshot[key]) for key in opt.state[w])
    model, opt = run("adamw_freeze_later_zero_grad", x, y, adamw,
                     lambda k, m, o: freeze(k, m, o, False))
    w = dict(model.named_parameters())["3.weight"]
    assert not torch.equal(w.detach(), snapshot["param"])
    assert opt.state[w]["step"].item() == STEPS

    def sgd(model):
        return torch.optim.SGD(groups(model, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01},
                                      {"lr": 0.05}))
    run("sgd_groups", x, y, sgd)

    # two groups sharing a parameter
    model = make_model()
    named = dict(model.named_parameters())
    try:
        torch.optim.AdamW([{"params": [named["0.weight"], named["0.bias"]]},
                           {"params": [named["0.bias"]], "lr": 0.1}])
    except ValueError as e:
        ERRORS.append("#error groups.shared_parameter: ValueError: %s" % e)
    else:
        raise AssertionError("PyTorch accepted a parameter in two groups")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.optim.AdamW([named["0.weight"], named["0.weight"]])
    assert caught, "no warning for a duplicated parameter"
    ERRORS.append("#warning groups.duplicate_in_group: %s" % str(caught[0].message).splitlines()[0])
    # a parameter that needs no grad is accepted in a group
    torch.optim.AdamW([named["0.weight"].requires_grad_(False)])


# ---- learning-rate schedules ---------------------------------------------------
LR_LINES = []


def put_lrs(name, values):
    LR_LINES.append("@%s %d" % (name, len(values)))
    LR_LINES.append(" ".join("%.17g" % v for v in values))


def scheduled(make_sched, steps):
    p0 = torch.zeros(1, requires_grad=True)
    p1 = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([{"params": [p0], "lr": 0.1}, {"params": [p1], "lr": 0.01}])
    sched = make_sched(opt)
    seq = [[], []]
    for _ in range(steps):
        for i, g in enumerate(opt.param_groups):
            seq[i].append(g["lr"])
        opt.step()          # no gradients: changes nothing, keeps torch's call order
        sched.step()
    return seq


def book_lr(step, initial_lr, peak_lr, min_lr, total_steps, warmup_steps):
    lr_increment = (peak_lr - initial_lr) / warmup_steps
    if step < warmup_steps:
        return initial_lr + step * lr_increment
    progress = ((step - warmup_steps) / (total_steps - warmup_steps))
    return min_lr + (peak_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))


def schedule_cases():
    S = torch.optim.lr_scheduler
    cases = [
        ("step.s3_g0.5", lambda o: S.StepLR(o, step_size=3, gamma=0.5), 14),
        ("step.s2_g0.1", lambda o: S.StepLR(o, step_size=2, gamma=0.1), 14),
        ("lambda.pow", lambda o: S.LambdaLR(o, lambda e: 0.95 ** e), 14),
        ("lambda.warmup", lambda o: S.LambdaLR(o, lambda e: min(1.0, (e + 1) / 5)), 14),
        ("cosine.t10_min1e-3", lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001), 45),
        ("cosine.t7", lambda o: S.CosineAnnealingLR(o, T_max=7), 30),
    ]
    for name, make, steps in cases:
        seq = scheduled(make, steps)
        put_lrs(name + ".g0", seq[0])
        put_lrs(name + ".g1", seq[1])
    # StepLR multiplies the running lr: not base * gamma ** n
    seq = scheduled(cases[1][1], 14)[0]
    assert seq[4] == 0.1 * 0.1 * 0.1
    # the recursive cosine against its closed form; period 2 T_max
    seq = scheduled(cases[4][1], 45)[0]
    closed = [0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(45)]
    put_lrs("cosine.t10_min1e-3.closed.g0", closed)
    assert max(abs(a - b) for a, b in zip(seq, closed)) < 1e-15
    assert seq[10] == 0.001 and abs(seq[20] - 0.1) < 1e-15
    for name, kw in (("book.demo", dict(initial_lr=1e-4, peak_lr=0.01, min_lr=1e-5)),
                     ("book.run", dict(initial_lr=1e-5, peak_lr=0.001, min_lr=1e-5))):
        seq = [book_lr(s, total_steps=135, warmup_steps=27, **kw) for s in range(300)]
        put_lrs(name, seq)
        assert seq[135] == kw["min_lr"]
    run_seq = [book_lr(s, 1e-5, 0.001, 1e-5, 135, 27) for s in range(135)]
    assert abs(run_seq[26] - 9.6333e-4) < 1e-8 and run_seq[27] == 0.001
    assert abs(run_seq[134] - 1.0209e-5) < 1e-9


def main():
    OUT.write("# Generated by gen_optim_groups.py with torch %s; do not edit.\n"
              % torch.__version__)
    optimizer_cases()
    schedule_cases()
    with open(os.path.join(HERE, "optim_groups.txt"), "w") as f:
        f.write("".join(OUT.parts))
        f.write("\n".join(ERRORS) + "\n")
    with open(os.path.join(HERE, "lr_schedules.txt"), "w") as f:
        f.write("# Generated by gen_optim_groups.py with torch %s; see its docstring.\n"
                % torch.__version__)
        f.write("\n".join(LR_LINES) + "\n")


if __name__ == "__main__":
    main()
