"""Writes what examples/gpt_generate prints for configs and seeds other than
the book's, computed with PyTorch and the book's chapter-4/5 code
(book_ch04.py, gpt2_bpe.py), in the book's script's format.

    /usr/bin/python3 tests/reference/gen_gpt_generate.py   (after ./run vocab)

Each case is (file, flags, config, seed, prompt, new tokens, temperature, top_k)
and, for the bytes tokenizer, "bytes" after them.  Output text is what
Python's print(tokenizer.decode(ids)) prints: the bytes case's ids are no
UTF-8 (a random model's bytes), and decode's errors="replace" makes each ill-formed
part one U+FFFD, as gpt_generate prints it (text_decode_replace).
"""
import os
import torch
import book_ch04
import book_ch05
import gpt2_bpe

HERE = os.path.dirname(os.path.abspath(__file__))
BANNER = 50 * "="

CASES = [
    ("gpt_generate_book_test_seed7.expected",
     "--config book-test --seed 7 --prompt 'Every effort moves you' --max-new-tokens 8",
     book_ch04.GPT_CONFIG_BOOK_TEST, 7, "Every effort moves you", 8, 0.0, None),
    ("gpt_generate_book_test_sampled.expected",
     "--config book-test --n-layers 3 --qkv-bias --seed 11 --prompt 'Every day holds a' "
     "--max-new-tokens 12 --temperature 1.4 --top-k 25",
     dict(book_ch04.GPT_CONFIG_BOOK_TEST, n_layers=3, qkv_bias=True), 11,
     "Every day holds a", 12, 1.4, 25),
    ("gpt_generate_bytes_replace.expected",
     "--config book-test --vocab-size 256 --tokenizer bytes --prompt 'Every effort moves you' "
     "--max-new-tokens 12",
     dict(book_ch04.GPT_CONFIG_BOOK_TEST, vocab_size=256), 123, "Every effort moves you", 12,
     0.0, None, "bytes"),
]


class Bytes:
    """book_ch05's ByteTokenizer with this script's encode call."""

    def __init__(self):
        self.tok = book_ch05.ByteTokenizer()

    def encode(self, text, allow_special=True):
        return self.tok.encode(text)

    def decode(self, ids):
        return self.tok.decode(ids)


def run(cfg, seed, prompt, new, temperature, top_k, enc):
    ids = enc.encode(prompt, allow_special=True)
    torch.manual_seed(seed)
    model = book_ch04.GPTModel(cfg)
    model.eval()
    x = torch.tensor(ids).unsqueeze(0)
    lines = [f"\n{BANNER}\n{22 * ' '}IN\n{BANNER}", f"\nInput text: {prompt}",
             f"Encoded input text: {ids}", f"encoded_tensor.shape: {x.shape}"]
    if temperature > 0:
        torch.manual_seed(seed)   # chapter 5 re-seeds right before sampling
    out = book_ch04.generate(model, x, new, cfg["context_length"], temperature, top_k)
    lines += [f"\n\n{BANNER}\n{22 * ' '}OUT\n{BANNER}", f"\nOutput: {out}",
              f"Output length: {len(out[0])}",
              f"Output text: {enc.decode(out.squeeze(0).tolist())}"]
    return "\n".join(lines) + "\n"


def main():
    gpt2 = gpt2_bpe.load()
    for name, flags, cfg, seed, prompt, new, temperature, top_k, *tok in CASES:
        enc = Bytes() if tok == ["bytes"] else gpt2
        text = run(cfg, seed, prompt, new, temperature, top_k, enc)
        with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
            f.write(text)
        print(name, "<-", flags)


if __name__ == "__main__":
    main()
