"""Writes what examples/train_gpt prints (and its --csv), computed with
PyTorch and the book's chapter-5 loop (book_ch05.py) on the-verdict.txt.

    /usr/bin/python3 tests/reference/gen_train_gpt.py   (after ./run vocab)

train_gpt_NAME.expected: the printed lines and samples; train_gpt_NAME.csv:
step,epoch,tokens_seen,train_loss,val_loss (%.9g), as --csv writes it.
"""
import os
import torch
import book_ch04
import book_ch05
import gpt2_bpe

HERE = os.path.dirname(os.path.abspath(__file__))
TEXT = os.path.join(HERE, "..", "..", "examples", "data", "the-verdict.txt")


GPT2 = gpt2_bpe.BookTokenizer


BOOK_TEST = book_ch04.GPT_CONFIG_BOOK_TEST
CASES = [
    # name, flags, config, tokenizer, lr, wd, epochs, batch, eval_freq, eval_iter, seed
    ("bytes", "--config book-test --tokenizer bytes --context-length 32 --epochs 2 "
     "--batch 4 --eval-freq 10 --eval-iter 2 --lr 5e-4 --seed 7",
     dict(BOOK_TEST, vocab_size=256, context_length=32), "bytes", 5e-4, 0.1, 2, 4, 10, 2, 7),
    ("book_test", "--config book-test --epochs 1 --lr 5e-4",
     BOOK_TEST, "gpt2", 5e-4, 0.1, 1, 2, 5, 5, 123),
]


def run(name, cfg, tok_name, lr, wd, epochs, batch, eval_freq, eval_iter, seed):
    tokenizer = book_ch05.ByteTokenizer() if tok_name == "bytes" else GPT2()
    with open(TEXT, encoding="utf-8") as f:
        text = f.read()
    torch.manual_seed(seed)
    model = book_ch04.GPTModel(cfg)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
    train_loader, val_loader = book_ch05.split_loaders(text, tokenizer, cfg, batch)
    lines, rows = [], []

    def on_eval(step, epoch, tokens, train, val):
        rows.append("%d,%d,%d,%.9g,%.9g" % (step, epoch, tokens, train, val))

    book_ch05.train_model_simple(model, train_loader, val_loader, optimizer, epochs,
                                 eval_freq, eval_iter, "Every effort moves you", tokenizer,
                                 out=lines.append, on_eval=on_eval)
    with open(os.path.join(HERE, f"train_gpt_{name}.expected"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(HERE, f"train_gpt_{name}.csv"), "w") as f:
        f.write("step,epoch,tokens_seen,train_loss,val_loss\n" + "\n".join(rows) + "\n")


def main():
    for name, flags, *args in CASES:
        run(name, *args)
        print(name, "<-", flags)


if __name__ == "__main__":
    main()
