"""Chapter 7 of the book (instruction fine-tuning), as the book does it,
written from ../shared/reference/book_ch06_ch07.md.  Used only to write
fixtures (gen_finetune.py) and to check the specification against the real
data (check_book_ch06_ch07.py); tests never run it.

The training loop is chapter 5's (book_ch05.train_model_simple) with the
formatted first validation entry as its start context; the batch loss is
chapter 5's calc_loss_batch (cross-entropy of the flattened logits, targets
-100 ignored).
"""
import json

import torch
from torch.utils.data import Dataset

import book_ch04
import book_ch05

PAD_ID = 50256
IGNORE_INDEX = -100

PREAMBLE = ("Below is an instruction that describes a task. "
            "Write a response that appropriately completes the request.")


def load_instruction_data(path):
    """The JSON array of {instruction, input, output} objects (key order kept:
    it is the order json.dump writes them back in)."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    for i, entry in enumerate(data):
        for key in ("instruction", "input", "output"):
            if not isinstance(entry.get(key), str):
                raise ValueError("%s: entry %d: no string %r" % (path, i, key))
    return data


def format_input(entry):
    """The Alpaca-style prompt: preamble, "\\n\\n### Instruction:\\n" +
    instruction, and only for a non-empty input "\\n\\n### Input:\\n" + input."""
    text = PREAMBLE + "\n\n### Instruction:\n" + entry["instruction"]
    if entry["input"]:
        text += "\n\n### Input:\n" + entry["input"]
    return text


def response_text(entry):
    return "\n\n### Response:\n" + entry["output"]


def split_data(data):
    """No shuffle: train = first int(n * 0.85), test = the next int(n * 0.1),
    validation = the rest (test before validation in the file)."""
    train_portion = int(len(data) * 0.85)
    test_portion = int(len(data) * 0.1)
    train = data[:train_portion]
    test = data[train_portion:train_portion + test_portion]
    val = data[train_portion + test_portion:]
    return train, val, test


class InstructionDataset(Dataset):
    """Each entry's prompt + response, encoded once (plain encode)."""

    def __init__(self, data, tokenizer):
        self.data = data
        self.encoded_texts = [tokenizer.encode(format_input(e) + response_text(e))
                              for e in data]

    def __getitem__(self, index):
        return self.encoded_texts[index]

    def __len__(self):
        return len(self.data)


def custom_collate_fn(batch, pad_token_id=PAD_ID, ignore_index=IGNORE_INDEX,
                      allowed_max_length=None, device="cpu"):
    """L = 1 + the longest item; each item + one pad, then pads up to L;
    inputs = the first L-1, targets = the last L-1; in each target row every
    position holding pad_token_id but the first becomes ignore_index; then
    both cut to allowed_max_length.  int64 (b, min(L-1, allowed))."""
    batch_max_length = max(len(item) + 1 for item in batch)
    inputs_lst, targets_lst = [], []
    for item in batch:
        new_item = list(item) + [pad_token_id]
        padded = new_item + [pad_token_id] * (batch_max_length - len(new_item))
        inputs = torch.tensor(padded[:-1])
        targets = torch.tensor(padded[1:])
        mask = targets == pad_token_id
        indices = torch.nonzero(mask).squeeze()
        if indices.numel() > 1:
            targets[indices[1:]] = ignore_index
        if allowed_max_length is not None:
            inputs = inputs[:allowed_max_length]
            targets = targets[:allowed_max_length]
        inputs_lst.append(inputs)
        targets_lst.append(targets)
    return torch.stack(inputs_lst).to(device), torch.stack(targets_lst).to(device)


def extract_response(generated_text, input_text):
    """The book's response: the decoded text from code point len(prompt) on,
    every "### Response:" removed, then Python's str.strip() (which strips
    every character with str.isspace(): ASCII \\t\\n\\v\\f\\r, \\x1c-\\x1f,
    space, \\x85, \\xa0 and Unicode's other spaces)."""
    return generated_text[len(input_text):].replace("### Response:", "").strip()


def generate_responses(model, test_data, tokenizer, context_size, max_new_tokens=256,
                       eos_id=PAD_ID):
    """For each entry: greedy generate (book_ch04.generate, temperature 0, no
    top-k, stop before an eos) from format_input(entry), decode prompt + new
    ids (errors="replace"), extract the response.  Returns the entries with
    "model_response" added (copies) and the new ids of each."""
    out, all_new = [], []
    for entry in test_data:
        input_text = format_input(entry)
        idx = book_ch05.text_to_token_ids(input_text, tokenizer)
        token_ids = book_ch04.generate(model, idx, max_new_tokens, context_size,
                                       eos_id=eos_id)
        generated_text = book_ch05.token_ids_to_text(token_ids, tokenizer)
        e = dict(entry)
        e["model_response"] = extract_response(generated_text, input_text)
        out.append(e)
        all_new.append(token_ids[0, idx.shape[1]:].tolist())
    return out, all_new


def dump_responses(entries):
    """What the book writes: json.dump(entries, f, indent=4): ensure_ascii
    (\\uXXXX escapes, surrogate pairs above U+FFFF), ", " between items
    written as "," + newline, ": " after keys, no final newline."""
    return json.dumps(entries, indent=4)


def initial_losses(model, train_loader, val_loader, num_batches=5):
    """The script's "Initial losses": no_grad, chapter 5's calc_loss_loader
    over 5 batches of each loader (the model in whatever mode it is: eval
    after loading)."""
    with torch.no_grad():
        train_loss = book_ch05.calc_loss_loader(train_loader, model, num_batches=num_batches)
        val_loss = book_ch05.calc_loss_loader(val_loader, model, num_batches=num_batches)
    return train_loss, val_loss


def test_loss(model, test_loader):
    """Not the book's: what can be measured offline in place of its Llama 3
    scoring (which needs an Ollama server): the fine-tuned model's mean loss
    over every batch of the test loader, as calc_loss_loader computes the
    validation loss, in eval mode and without gradients (after the
    responses, so that their dropout draws are the script's).  Printed as
    "Test loss: {:.3f}"."""
    model.eval()
    with torch.no_grad():
        return book_ch05.calc_loss_loader(test_loader, model)
