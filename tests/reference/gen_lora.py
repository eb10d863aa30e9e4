#!/usr/bin/python3
"""Writes lora.txt: the book's appendix-E LoRA (book_appendix_e.py) on small
shapes, computed with PyTorch 1.13, for tests/test_lora.c:

    OMP_NUM_THREADS=1 /usr/bin/python3 tests/reference/gen_lora.py   (a second)

Records in the fixtures' format ("@name d0 d1 ...", then float32 values %.9g):

One LinearWithLoRA: torch.manual_seed(123); Linear(5, 3) (weight, then bias
drawn); LinearWithLoRA(it, rank 2, alpha 3) (A drawn, B zeros); then B set
to B[r, o] = 0.1 * (3 r + o) - 0.25, so that A gets a gradient.
  one_weight 3 5, one_bias 3, one_A 5 2     as drawn
  one_x 2 4 5                                torch.manual_seed(1); randn
  one_out 2 4 3                              the wrapper's forward
  one_grad_weight, _bias, _A, _B, _x         of sum(out * w), w[i] = 0.5 + (i % 7) / 8
                                             row-major (testutil_seed_like)
  one_frozen_grad_A, _B                      the same with the Linear frozen
  one_merged_weight 3 5                      weight + (alpha / rank) * (A @ B).T
  one_merged_out 2 4 3                       F.linear(x, merged weight, bias)

A GPT with LoRA layers in its tree: cfg vocab 50, context 8, emb 8, 2 heads,
2 layers, drop 0, qkv_bias True; torch.manual_seed(123); GPTModel(cfg);
eval(); every parameter frozen; torch.manual_seed(123); four int64 draws
(the three accuracy loaders of appendix E); replace_linear_with_lora(rank 2,
alpha 4); then every B set to B[r, o] = 0.01 * ((7 k + 5 r + 3 o) % 11 - 5)
for the k-th LoRA layer (the order A was drawn).
  gpt_trainable                              parameters that train: the LoRA ones
  gpt_A_<k> 1 2 .. gpt_A_<k> in_dim rank     the k-th layer's A, whole
  gpt_idx 2 6                                ids; gpt_targets 2 6
  gpt_logits 2 6 50                          the model's forward
  gpt_loss                                   cross_entropy(logits.flatten(0, 1), targets)
  gpt_grad_A_0, gpt_grad_B_0, gpt_grad_A_12, gpt_grad_B_12   its gradients in the first
                                             (W_query of block 0) and last (out_head) layer
  gpt_merged_logits 2 6 50                   after merging every layer as
                                             weight += (alpha / rank) * (A @ B).T
"""
import os

import torch

import book_appendix_e
import book_ch04

HERE = os.path.dirname(os.path.abspath(__file__))
CFG = {"vocab_size": 50, "context_length": 8, "emb_dim": 8, "n_heads": 2, "n_layers": 2,
       "drop_rate": 0.0, "qkv_bias": True}


class Fixture:
    def __init__(self, header):
        self.lines = ["# " + l for l in header.split("\n")]

    def comment(self, text):
        self.lines.append("# " + text)

    def tensor(self, name, t):
        t = torch.as_tensor(t, dtype=torch.float64).detach()
        self.lines.append("@" + " ".join([name] + [str(d) for d in t.shape]))
        vals = t.reshape(-1).tolist()
        for i in range(0, len(vals), 16):
            self.lines.append(" ".join("%.9g" % v for v in vals[i:i + 16]))

    def write(self, name):
        with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(self.lines) + "\n")


def seed_like(t):
    n = t.numel()
    return torch.tensor([0.5 + (i % 7) / 8 for i in range(n)], dtype=torch.float32).reshape(
        t.shape)


def merge(model):
    """Every LinearWithLoRA replaced by its Linear with the LoRA update added."""
    for name, module in model.named_children():
        if isinstance(module, book_appendix_e.LinearWithLoRA):
            lora = module.lora
            with torch.no_grad():
                module.linear.weight += (lora.alpha / lora.rank) * (lora.A @ lora.B).T
            setattr(model, name, module.linear)
        else:
            merge(module)


def one_layer(fx):
    for frozen in (False, True):
        torch.manual_seed(123)
        lin = torch.nn.Linear(5, 3)
        layer = book_appendix_e.LinearWithLoRA(lin, rank=2, alpha=3)
        with torch.no_grad():
            for r in range(2):
                for o in range(3):
                    layer.lora.B[r, o] = 0.1 * (3 * r + o) - 0.25
        if frozen:
            lin.weight.requires_grad_(False)
            lin.bias.requires_grad_(False)
        torch.manual_seed(1)
        x = torch.randn(2, 4, 5, requires_grad=True)
        out = layer(x)
        (out * seed_like(out)).sum().backward()
        if frozen:
            assert lin.weight.grad is None
            fx.tensor("one_frozen_grad_A", layer.lora.A.grad)
            fx.tensor("one_frozen_grad_B", layer.lora.B.grad)
            continue
        fx.tensor("one_weight", lin.weight)
        fx.tensor("one_bias", lin.bias)
        fx.tensor("one_A", layer.lora.A)
        fx.tensor("one_x", x)
        fx.tensor("one_out", out)
        for name, p in (("weight", lin.weight), ("bias", lin.bias), ("A", layer.lora.A),
                        ("B", layer.lora.B), ("x", x)):
            fx.tensor("one_grad_" + name, p.grad)
        holder = torch.nn.Sequential(layer)
        merge(holder)
        fx.tensor("one_merged_weight", holder[0].weight)
        fx.tensor("one_merged_out", torch.nn.functional.linear(x, holder[0].weight,
                                                               holder[0].bias))


def gpt(fx):
    torch.manual_seed(123)
    model = book_ch04.GPTModel(CFG)
    model.eval()
    book_appendix_e.freeze_all(model)
    torch.manual_seed(123)
    for _ in range(4):
        torch.empty((), dtype=torch.int64).random_()
    book_appendix_e.replace_linear_with_lora(model, rank=2, alpha=4)
    names = book_appendix_e.lora_order(model)
    fx.comment("LoRA layers in draw order: " + ", ".join(names))
    fx.tensor("gpt_trainable", book_appendix_e.count_trainable(model))
    layers = [m for _, m in model.named_modules() if isinstance(m, book_appendix_e.LoRALayer)]
    with torch.no_grad():
        for k, lora in enumerate(layers):
            fx.tensor("gpt_A_%d" % k, lora.A)
            for r in range(lora.B.shape[0]):
                for o in range(lora.B.shape[1]):
                    lora.B[r, o] = 0.01 * ((7 * k + 5 * r + 3 * o) % 11 - 5)
    idx = torch.tensor([[1, 7, 49, 0, 23, 5], [3, 3, 8, 40, 12, 30]])
    targets = torch.tensor([[7, 49, 0, 23, 5, 2], [3, 8, 40, 12, 30, 11]])
    fx.tensor("gpt_idx", idx)
    fx.tensor("gpt_targets", targets)
    logits = model(idx)
    fx.tensor("gpt_logits", logits)
    loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())
    fx.tensor("gpt_loss", loss)
    loss.backward()
    for k in (0, len(layers) - 1):
        fx.tensor("gpt_grad_A_%d" % k, layers[k].A.grad)
        fx.tensor("gpt_grad_B_%d" % k, layers[k].B.grad)
    merge(model)
    assert not any(isinstance(m, book_appendix_e.LoRALayer) for m in model.modules())
    with torch.no_grad():
        fx.tensor("gpt_merged_logits", model(idx))


def main():
    torch.set_num_threads(1)
    fx = Fixture("lora.txt: written by gen_lora.py (its docstring gives every record); torch "
                 + torch.__version__)
    one_layer(fx)
    gpt(fx)
    fx.write("lora.txt")


if __name__ == "__main__":
    main()
