#!/usr/bin/python3
"""Writes tests/reference/tokenizer.txt: GPT-2 ids for texts that exercise
the pre-tokenisation (Unicode letters and digits, whitespace runs,
contractions, emoji, <|endoftext|>) and the whole of the-verdict.txt, and
tests/reference/tokenizer_long.txt: long runs without a break (random
letters, digits, symbols, one letter repeated), each one piece of thousands
of bytes, where BPE's merge loop does most of its work; both read by
tests/test_text.c.

Run with Debian's python3 and python3-regex after ./run vocab:
    /usr/bin/python3 tests/reference/gen_tokenizer.py
Debian has no tiktoken: gpt2_bpe.py beside this file is the reference.
It is checked here against the ids the book prints.

The long runs take the reference minutes (its merge loop is quadratic).

Format, one case per line:  <name> <allow_special 0|1> <text as UTF-8 hex> <ids...>
(hex keeps whitespace and NUL bytes intact; "-" for the empty text).
"""
import os
import random

import gpt2_bpe

HERE = os.path.dirname(os.path.abspath(__file__))
VERDICT = os.path.join(HERE, "..", "..", "examples", "data", "the-verdict.txt")

bpe = gpt2_bpe.load()

# The book's printed encodings (chapters 2, 4 and 5).
BOOK = [
    ("Hello, I am", False, [15496, 11, 314, 716]),
    ("Every effort moves you", False, [6109, 3626, 6100, 345]),
    ("Every day holds a", False, [6109, 1110, 6622, 257]),
    ("Akwirw ier", False, [33901, 86, 343, 86, 220, 959]),
    ("Hello, do you like tea? <|endoftext|> In the sunlit terraces of someunknownPlace.", True,
     [15496, 11, 466, 345, 588, 8887, 30, 220, 50256, 554, 262, 4252, 18250, 8812, 2114, 286,
      617, 34680, 27271, 13]),
]
for text, special, ids in BOOK:
    got = bpe.encode(text, allow_special=special)
    assert got == ids, (text, got, ids)

CASES = [
    ("hello", "Hello, I am", False),
    ("every_effort", "Every effort moves you", False),
    ("every_day", "Every day holds a", False),
    ("unknown_word", "Akwirw ier", False),
    ("book_eot", BOOK[4][0], True),
    ("book_eot_ordinary", BOOK[4][0], False),
    ("eot_alone", "<|endoftext|>", True),
    ("eot_twice", "<|endoftext|><|endoftext|>x<|endoftext|>", True),
    ("eot_ordinary", "<|endoftext|>", False),
    ("eot_partial", "<|endoftext| <|endoftext", True),
    ("empty", "", False),
    ("contractions", "I'm sure you're right, they've gone; she'll know, he'd say it's "
     "don't. I'M YOU'RE 'tis 'S", False),
    ("spaces", "a  b   c    d", False),
    ("whitespace_runs", "line one\n\nline two\t\ttabbed \n  indented   \r\n   ", False),
    ("only_spaces", "     ", False),
    ("unicode_spaces", "a\u00a0b\u3000c\u2003 d\u0085e\u180ef \u2028g", False),
    ("digits", "1234567 3.14159 2024-01-01 10,000 x2 \u0661\u0662\u0663 \u00bd \u2167", False),
    ("latin", "na\u00efve caf\u00e9 \u00dcn\u00efc\u00f6d\u00e9 \u00c5ngstr\u00f6m "
     "stra\u00dfe \u0153uvre", False),
    ("scripts", "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8 \u041f\u0440\u0438\u0432"
     "\u0435\u0442 \u043c\u0438\u0440 \u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac "
     "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 \ud55c\uad6d\uc5b4 "
     "\u0939\u093f\u0928\u094d\u0926\u0940", False),
    ("combining", "e\u0301 n\u0303 a\u0308\u0304", False),
    ("emoji", "\U0001f600\U0001f44d\U0001f3fd \U0001f468\u200d\U0001f469\u200d\U0001f467 "
     "\U0001f1eb\U0001f1f7!! I \u2764\ufe0f it \U0001f680\U0001f680\U0001f680", False),
    ("symbols", "<<>> ---- ... $$$ #hashtag @user a+b=c (x) [y] {z} ~/path_to/file.txt", False),
    ("controls", "a\x00b\x01\x1f\x7f c\x00", False),
    ("long_word", "supercalifragilisticexpialidocious" * 8, False),
    ("code", "int main(void) {\n    return 0;\n}\n", False),
]

with open(os.path.join(HERE, "tokenizer.txt"), "w") as out:
    out.write("# written by gen_tokenizer.py (gpt2_bpe.py, python3-regex %s)\n"
              % gpt2_bpe.regex.__version__)
    def put(name, text, special):
        ids = bpe.encode(text, allow_special=special)
        assert bpe.decode_bytes(ids) == text.encode("utf-8"), name
        hexed = text.encode("utf-8").hex() or "-"
        out.write("%s %d %s %s\n" % (name, int(special), hexed, " ".join(map(str, ids))))
        return ids
    for name, text, special in CASES:
        put(name, text, special)
    with open(VERDICT, encoding="utf-8") as f:
        verdict = f.read()
    ids = bpe.encode(verdict)
    assert len(verdict) == 20479 and len(ids) == 5145, (len(verdict), len(ids))
    out.write("verdict 0 file %s\n" % " ".join(map(str, ids)))


def random_run(seed, alphabet, n):
    r = random.Random(seed)
    return "".join(r.choice(alphabet) for _ in range(n))


LOWER = "abcdefghijklmnopqrstuvwxyz"
# Two-byte letters (Latin-1, Latin Extended-A, Greek, Cyrillic) among ASCII ones.
ACCENTED = (LOWER + "\u00e0\u00e9\u00ef\u00f1\u00f6\u00df\u0107\u0142\u0151"
            "\u03b1\u03bb\u03c9\u0434\u0436\u044f")
LONG = [
    ("long_letters", random_run(8, LOWER, 16000)),
    ("long_mixed_case", random_run(25, LOWER + LOWER.upper(), 8000)),
    ("long_accented", random_run(3, ACCENTED, 4000)),
    ("long_cjk", random_run(4, "".join(chr(c) for c in range(0x4E00, 0x4E00 + 400)), 2000)),
    ("long_digits", random_run(5, "0123456789", 8000)),
    ("long_symbols", random_run(6, "!#$%&()*+,-./:;<=>?@[]^_`{|}~", 8000)),
    ("long_repeated_a", "a" * 10000),
    ("long_repeated_ab", "ab" * 5000),
    ("long_spaces", " " * 5000 + "x"),
]

with open(os.path.join(HERE, "tokenizer_long.txt"), "w") as out:
    out.write("# written by gen_tokenizer.py (gpt2_bpe.py, python3-regex %s)\n"
              % gpt2_bpe.regex.__version__)
    for name, text in LONG:
        ids = bpe.encode(text)
        assert bpe.decode_bytes(ids) == text.encode("utf-8"), name
        out.write("%s 0 %s %s\n" % (name, text.encode("utf-8").hex(), " ".join(map(str, ids))))
