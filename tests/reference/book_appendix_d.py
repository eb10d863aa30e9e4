"""Appendix D of the book (linear warmup, cosine decay, gradient clipping),
as the book does it, written from ../shared/reference/book_ch06_ch07.md.
Used only to write fixtures (gen_finetune.py); tests never run it.

Every learning rate is a Python float (a C double): the C side computes the
same expressions in the same order and gets the same bits (math.cos is the
C library's cos).
"""
import math

import torch

import book_ch05


def warmup_steps_for(total_steps, fraction=0.2):
    """The book's int(0.2 * total_steps) (27 for 135)."""
    return int(fraction * total_steps)


def lr_at(step, warmup_steps, total_steps, initial_lr, peak_lr, min_lr, cosine=True):
    """The rate of one step (global_step from 0).  Warmup: initial + step *
    ((peak - initial) / warmup_steps) below warmup_steps; then, with cosine,
    progress = (step - warmup) / (total - warmup) and min + (peak - min) *
    0.5 * (1 + cos(pi * progress)); without (the first demo), peak."""
    lr_increment = (peak_lr - initial_lr) / warmup_steps
    if step < warmup_steps:
        return initial_lr + step * lr_increment
    if not cosine:
        return peak_lr
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + (peak_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))


def schedule(total_steps, warmup_steps, initial_lr, peak_lr, min_lr, cosine=True):
    return [lr_at(s, warmup_steps, total_steps, initial_lr, peak_lr, min_lr, cosine)
            for s in range(total_steps)]


def clip_grad_norm(parameters, max_norm=1.0):
    """torch.nn.utils.clip_grad_norm_ (L2) of torch 1.13: total =
    torch.norm(stack(torch.norm(g) for each gradient)), the gradients of
    the parameters that have one, in parameter order; coef = max_norm /
    (total + 1e-6) and clamp(coef, max=1.0), all float32 scalar tensors;
    every gradient multiplied by coef in place (also when coef is 1).
    Returns total (the norm before clipping)."""
    return torch.nn.utils.clip_grad_norm_(parameters, max_norm=max_norm)


def grad_norm(parameters):
    """The same total norm without clipping (for the record of every step)."""
    grads = [p.grad.detach() for p in parameters if p.grad is not None]
    return torch.norm(torch.stack([torch.norm(g, 2.0) for g in grads]), 2.0)


def find_highest_gradient(model):
    """The book's demo: the largest gradient element (signed) over all
    parameters that have a gradient, in parameter order."""
    max_grad = None
    for p in model.parameters():
        if p.grad is not None:
            m = p.grad.data.flatten().max()
            if max_grad is None or m > max_grad:
                max_grad = m
    return max_grad


def train_model(model, train_loader, val_loader, optimizer, n_epochs, eval_freq, eval_iter,
                start_context, tokenizer, warmup_steps, initial_lr=3e-05, min_lr=1e-6,
                out=print, on_eval=None, on_step=None, on_sample=None):
    """The book's better loop.  peak = the optimizer's lr; total =
    len(train_loader) * n_epochs.  Per batch: zero_grad; global_step += 1
    (from -1); lr of that step set on every group; loss; backward; clip to
    1.0 when global_step >= warmup_steps; step; tokens_seen += numel; at
    global_step % eval_freq == 0 the "Iter" line.  After each epoch chapter
    5's 50-token greedy sample.  on_step(step, lr, norm_before_clip, loss)
    records for fixtures (the norm is computed with no_grad and changes
    nothing)."""
    train_losses, val_losses, track_tokens_seen, track_lrs = [], [], [], []
    tokens_seen, global_step = 0, -1
    peak_lr = optimizer.param_groups[0]["lr"]
    total_training_steps = len(train_loader) * n_epochs
    lr_increment = (peak_lr - initial_lr) / warmup_steps
    for epoch in range(n_epochs):
        model.train()
        for input_batch, target_batch in train_loader:
            optimizer.zero_grad()
            global_step += 1
            if global_step < warmup_steps:
                lr = initial_lr + global_step * lr_increment
            else:
                progress = ((global_step - warmup_steps)
                            / (total_training_steps - warmup_steps))
                lr = min_lr + (peak_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))
            for param_group in optimizer.param_groups:
                param_group["lr"] = lr
            track_lrs.append(lr)
            loss = book_ch05.calc_loss_batch(input_batch, target_batch, model)
            loss.backward()
            if on_step is not None:
                with torch.no_grad():
                    norm = grad_norm(list(model.parameters())).item()
                on_step(global_step, lr, norm, loss.item())
            if global_step >= warmup_steps:
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            tokens_seen += input_batch.numel()
            if global_step % eval_freq == 0:
                train_loss, val_loss = book_ch05.evaluate_model(model, train_loader,
                                                                val_loader, eval_iter)
                train_losses.append(train_loss)
                val_losses.append(val_loss)
                track_tokens_seen.append(tokens_seen)
                out(f"Ep {epoch+1} (Iter {global_step:06d}): "
                    f"Train loss {train_loss:.3f}, Val loss {val_loss:.3f}")
                if on_eval is not None:
                    on_eval(global_step, epoch + 1, tokens_seen, train_loss, val_loss)
        ids = book_ch05.generate_and_print_sample(model, tokenizer, start_context, out=out)
        if on_sample is not None:
            on_sample(epoch + 1, ids)
    return train_losses, val_losses, track_tokens_seen, track_lrs
