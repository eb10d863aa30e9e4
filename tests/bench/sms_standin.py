"""A stand-in for the SMS Spam Collection with the real file's shape, for
README's chapter-6 CPU figure: 4,825 ham and 747 spam lines (so the book's
balanced set is 1,494 rows: 1,045 training, 149 validation, 300 test), texts
of the-verdict.txt's words whose longest training text is about the real
data's 120 GPT-2 tokens.  Both sides read it (finetune_classifier --data,
tests/bench/pytorch_ch06.py --sms), so they time the same batches.

    python3 tests/bench/sms_standin.py OUT.tsv
"""
import os
import random
import sys


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "..", "examples", "data", "the-verdict.txt")) as f:
        words = [w for w in f.read().split() if '"' not in w]
    rng = random.Random(0)
    lines = []
    for label, count in (("ham", 4825), ("spam", 747)):
        for _ in range(count):
            n = min(int(rng.expovariate(1 / 16)) + 2, 84)
            start = rng.randrange(len(words) - n)
            lines.append(f"{label}\t{' '.join(words[start:start + n])}")
    rng.shuffle(lines)
    with open(sys.argv[1], "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
