#!/usr/bin/python3
"""Writes tests/reference/text_loader.txt: the book's GPTDatasetV1 and
PyTorch 1.13's DataLoader over the-verdict.txt's GPT-2 ids, read by
tests/test_text_loader.c.

Run with Debian's python3-torch after ./run vocab:
    /usr/bin/python3 tests/reference/gen_text_loader.py
Every case starts from torch.manual_seed(123); after its epochs it draws
torch.rand(4), which shows what the loader took from the default generator
(the iterator's base seed, shuffled or not, and RandomSampler's seed).

Format, one line each:  <name> <values...>
  <case>_windows              len(dataset)
  <case>_len                  len(loader)
  <case>_e<epoch>_order       the window index of every row, batch after batch
  <case>_e<epoch>_b<k>_x/_y   a batch's ids, row-major (the small case: every batch)
  <case>_rand                 torch.rand(4) after the epochs, %.9g
"""
import os

import torch
from torch.utils.data import DataLoader

import book_ch05
import gpt2_bpe

HERE = os.path.dirname(os.path.abspath(__file__))
VERDICT = os.path.join(HERE, "..", "..", "examples", "data", "the-verdict.txt")


class Ids:
    """A "tokenizer" over ids already encoded, so that the book's
    GPTDatasetV1 (book_ch05.py) windows them as it windows a text."""

    def __init__(self, ids):
        self.ids = ids

    def encode(self, text, allowed_special=None):
        return self.ids


def GPTDatasetV1(token_ids, max_length, stride):
    return book_ch05.GPTDatasetV1(None, Ids(token_ids), max_length, stride)


with open(VERDICT, encoding="utf-8") as f:
    IDS = gpt2_bpe.load().encode(f.read())
assert len(IDS) == 5145

# name, ids, max_length, stride, batch_size, shuffle, drop_last, epochs, every batch in full
CASES = [
    ("ctx256_shuffle", IDS, 256, 256, 2, True, True, 2, False),
    ("ctx256_ordered", IDS, 256, 256, 3, False, False, 1, False),
    ("small_shuffle", IDS[:50], 4, 2, 3, True, False, 2, True),
    ("small_ordered", IDS[:50], 4, 2, 3, False, True, 1, True),
]

with open(os.path.join(HERE, "text_loader.txt"), "w") as out:
    out.write("# written by gen_text_loader.py with torch %s\n" % torch.__version__)

    def put(name, values):
        out.write("%s %s\n" % (name, " ".join(values)))

    for name, ids, T, stride, B, shuffle, drop_last, epochs, full in CASES:
        torch.manual_seed(123)
        ds = GPTDatasetV1(ids, T, stride)
        loader = DataLoader(ds, batch_size=B, shuffle=shuffle, drop_last=drop_last,
                            num_workers=0)
        put(name + "_windows", [str(len(ds))])
        put(name + "_len", [str(len(loader))])
        for e in range(epochs):
            order = []
            for k, (x, y) in enumerate(loader):
                for row in x:
                    match = [i for i, w in enumerate(ds.input_ids) if torch.equal(w, row)]
                    assert len(match) == 1
                    order.append(str(match[0]))
                if full or k == 0:
                    put("%s_e%d_b%d_x" % (name, e, k), [str(int(v)) for v in x.flatten()])
                    put("%s_e%d_b%d_y" % (name, e, k), [str(int(v)) for v in y.flatten()])
            put("%s_e%d_order" % (name, e), order)
        put(name + "_rand", ["%.9g" % v for v in torch.rand(4).tolist()])
