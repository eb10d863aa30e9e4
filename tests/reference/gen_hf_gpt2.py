"""Writes a small random GPT-2 in Hugging Face's layout (hf_gpt2_tiny.safetensors)
and the ids the book's GPTModel generates from it (hf_gpt2.txt), after the
book's chapter-5 load_weights_into_gpt (book_ch05.py) has mapped it in.

    /usr/bin/python3 tests/reference/gen_hf_gpt2.py

The file has GPT-2's names and layout: wte.weight, wpe.weight,
h.N.ln_1.weight|bias, h.N.attn.c_attn.weight (Conv1D: (in, out), q, k, v
side by side along out) and .bias, h.N.attn.c_proj.*, h.N.ln_2.*,
h.N.mlp.c_fc.*, h.N.mlp.c_proj.*, ln_f.*, and the causal-mask buffers
h.N.attn.bias (1, 1, T, T) that the published file carries and a loader
ignores; the head is tied to wte.  Its size: a byte vocabulary (256, the
bytes tokenizer) keeps it at ~140 KB; GPT-2's 50,257 tokens would take
1.6 MB at emb 8, too much for git and too narrow to say much.  emb 32 is not
one of GPT-2's widths, so the program needs --n-heads 4.

The weights are drawn wider than GPT-2's init (std 0.02) so that the
logits are far apart: greedy ids then never hinge on float32 rounding.

Each case is (name, gpt_generate flags, prompt, new tokens, temperature,
top_k, eos_id, seed); the test runs gpt_generate with those flags.  Last,
torch.rand(4) right after the load (seed 123): where the generator stands
once the book's GPTModel has drawn its initial weights.
"""
import json
import os
import struct

import numpy as np
import torch

import book_ch04
import book_ch05

HERE = os.path.dirname(os.path.abspath(__file__))
CFG = {"vocab_size": 256, "context_length": 16, "emb_dim": 32, "n_heads": 4,
       "n_layers": 2, "drop_rate": 0.1, "qkv_bias": True}
FLAGS = "--hf-gpt2 hf_gpt2_tiny.safetensors --tokenizer bytes --n-heads 4"
CASES = [
    ("greedy", "--prompt 'Every effort' --max-new-tokens 10", "Every effort", 10, 0.0, None,
     None, 123),
    ("sampled", "--prompt 'Every effort' --max-new-tokens 12 --temperature 1.5 --top-k 50 "
     "--seed 123", "Every effort", 12, 1.5, 50, None, 123),
    ("eos", "--prompt 'Every effort' --max-new-tokens 10 --eos-id 237", "Every effort", 10, 0.0,
     None, 237, 123),
]


def hf_state(cfg, seed):
    """GPT-2's state_dict (Hugging Face's GPT2Model names), random."""
    g = torch.Generator().manual_seed(seed)
    E, V, T = cfg["emb_dim"], cfg["vocab_size"], cfg["context_length"]

    def rand(*shape, std=0.2, mean=0.0):
        return (mean + std * torch.randn(*shape, generator=g)).numpy().astype(np.float32)

    s = {"wte.weight": rand(V, E, std=0.5), "wpe.weight": rand(T, E, std=0.5)}
    for b in range(cfg["n_layers"]):
        h = f"h.{b}."
        s[h + "ln_1.weight"] = rand(E, std=0.1, mean=1.0)
        s[h + "ln_1.bias"] = rand(E, std=0.1)
        s[h + "attn.bias"] = np.tril(np.ones((T, T), np.float32)).reshape(1, 1, T, T)
        s[h + "attn.c_attn.weight"] = rand(E, 3 * E)
        s[h + "attn.c_attn.bias"] = rand(3 * E, std=0.1)
        s[h + "attn.c_proj.weight"] = rand(E, E)
        s[h + "attn.c_proj.bias"] = rand(E, std=0.1)
        s[h + "ln_2.weight"] = rand(E, std=0.1, mean=1.0)
        s[h + "ln_2.bias"] = rand(E, std=0.1)
        s[h + "mlp.c_fc.weight"] = rand(E, 4 * E)
        s[h + "mlp.c_fc.bias"] = rand(4 * E, std=0.1)
        s[h + "mlp.c_proj.weight"] = rand(4 * E, E)
        s[h + "mlp.c_proj.bias"] = rand(E, std=0.1)
    s["ln_f.weight"] = rand(E, std=0.1, mean=1.0)
    s["ln_f.bias"] = rand(E, std=0.1)
    return s


def write_safetensors(path, state):
    """safetensors by hand: 8-byte little-endian header length, the JSON
    header {name: {dtype, shape, data_offsets}}, then the data back to back."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(state):
        data = np.ascontiguousarray(state[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(state[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def book_params(state, n_layers):
    """The state in the shape of the book's params dict (its gpt_download
    gives the same arrays under these keys)."""
    def block(b):
        h = f"h.{b}."
        return {"attn": {"c_attn": {"w": state[h + "attn.c_attn.weight"],
                                    "b": state[h + "attn.c_attn.bias"]},
                         "c_proj": {"w": state[h + "attn.c_proj.weight"],
                                    "b": state[h + "attn.c_proj.bias"]}},
                "mlp": {"c_fc": {"w": state[h + "mlp.c_fc.weight"],
                                 "b": state[h + "mlp.c_fc.bias"]},
                        "c_proj": {"w": state[h + "mlp.c_proj.weight"],
                                   "b": state[h + "mlp.c_proj.bias"]}},
                "ln_1": {"g": state[h + "ln_1.weight"], "b": state[h + "ln_1.bias"]},
                "ln_2": {"g": state[h + "ln_2.weight"], "b": state[h + "ln_2.bias"]}}
    return {"wte": state["wte.weight"], "wpe": state["wpe.weight"],
            "blocks": [block(b) for b in range(n_layers)],
            "g": state["ln_f.weight"], "b": state["ln_f.bias"]}


def main():
    state = hf_state(CFG, 2024)
    write_safetensors(os.path.join(HERE, "hf_gpt2_tiny.safetensors"), state)
    torch.manual_seed(123)
    gpt = book_ch04.GPTModel(CFG)
    book_ch05.load_weights_into_gpt(gpt, book_params(state, CFG["n_layers"]))
    # The generator after the book's load: GPTModel drew its initial weights,
    # the assigns drew nothing.  A loader that skips those draws must leave it here.
    after = torch.rand(4)
    gpt.eval()
    tok = book_ch05.ByteTokenizer()
    lines = ["# gen_hf_gpt2.py: ids of gpt_generate " + FLAGS + " <case flags>"]
    for name, flags, prompt, new, temperature, top_k, eos_id, seed in CASES:
        x = torch.tensor(tok.encode(prompt)).unsqueeze(0)
        torch.manual_seed(seed)   # chapter 5 re-seeds right before sampling
        out = book_ch04.generate(gpt, x, new, CFG["context_length"], temperature, top_k, eos_id)
        ids = out.squeeze(0).tolist()
        lines += [f"# {name}: {flags}", f"@{name} {len(ids)}", " ".join(map(str, ids))]
        print(name, ids)
    lines += ["# torch.manual_seed(123), GPTModel(CFG), load_weights_into_gpt, torch.rand(4)",
              "@rand_after_load 4", " ".join(f"{v:.9g}" for v in after.tolist())]
    with open(os.path.join(HERE, "hf_gpt2.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
