"""Chapter 5 of the book (pretraining on unlabeled data), as the book writes
it, from ../shared/reference/book_ch04_ch05.md.  The model and generate()
are chapter 4's (book_ch04.py); the data pipeline is chapter 2's.  Used only
to write fixtures; tests never run it.
"""
import torch
from torch.utils.data import DataLoader, Dataset

from book_ch04 import generate_text_simple


class ByteTokenizer:
    """--tokenizer bytes: one id per UTF-8 byte (vocab 256)."""

    def encode(self, text, allowed_special=None):
        return list(text.encode("utf-8"))

    def decode(self, ids):
        return bytes(ids).decode("utf-8", errors="replace")


class GPTDatasetV1(Dataset):
    def __init__(self, txt, tokenizer, max_length, stride):
        self.input_ids = []
        self.target_ids = []
        token_ids = tokenizer.encode(txt, allowed_special={"<|endoftext|>"})
        for i in range(0, len(token_ids) - max_length, stride):
            self.input_ids.append(torch.tensor(token_ids[i:i + max_length]))
            self.target_ids.append(torch.tensor(token_ids[i + 1:i + max_length + 1]))

    def __len__(self):
        return len(self.input_ids)

    def __getitem__(self, idx):
        return self.input_ids[idx], self.target_ids[idx]


def create_dataloader_v1(txt, tokenizer, batch_size=4, max_length=256, stride=128,
                         shuffle=True, drop_last=True, num_workers=0):
    dataset = GPTDatasetV1(txt, tokenizer, max_length, stride)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle,
                      drop_last=drop_last, num_workers=num_workers)


def split_loaders(text, tokenizer, cfg, batch_size, train_ratio=0.90):
    """The book's split: by characters, max_length = stride = context."""
    split_idx = int(train_ratio * len(text))
    train_loader = create_dataloader_v1(
        text[:split_idx], tokenizer, batch_size=batch_size,
        max_length=cfg["context_length"], stride=cfg["context_length"],
        shuffle=True, drop_last=True)
    val_loader = create_dataloader_v1(
        text[split_idx:], tokenizer, batch_size=batch_size,
        max_length=cfg["context_length"], stride=cfg["context_length"],
        shuffle=False, drop_last=False)
    return train_loader, val_loader


def text_to_token_ids(text, tokenizer):
    encoded = tokenizer.encode(text, allowed_special={"<|endoftext|>"})
    return torch.tensor(encoded).unsqueeze(0)


def token_ids_to_text(token_ids, tokenizer):
    return tokenizer.decode(token_ids.squeeze(0).tolist())


def calc_loss_batch(input_batch, target_batch, model):
    logits = model(input_batch)
    return torch.nn.functional.cross_entropy(logits.flatten(0, 1), target_batch.flatten())


def calc_loss_loader(data_loader, model, num_batches=None):
    total_loss = 0.0
    if len(data_loader) == 0:
        return float("nan")
    if num_batches is None:
        num_batches = len(data_loader)
    else:
        num_batches = min(num_batches, len(data_loader))
    for i, (input_batch, target_batch) in enumerate(data_loader):
        if i >= num_batches:
            break
        total_loss += calc_loss_batch(input_batch, target_batch, model).item()
    return total_loss / num_batches


def evaluate_model(model, train_loader, val_loader, eval_iter):
    model.eval()
    with torch.no_grad():
        train_loss = calc_loss_loader(train_loader, model, num_batches=eval_iter)
        val_loss = calc_loss_loader(val_loader, model, num_batches=eval_iter)
    model.train()
    return train_loss, val_loss


def generate_and_print_sample(model, tokenizer, start_context, out=print):
    model.eval()
    context_size = model.pos_emb.weight.shape[0]
    encoded = text_to_token_ids(start_context, tokenizer)
    with torch.no_grad():
        token_ids = generate_text_simple(model, encoded, 50, context_size)
    out(token_ids_to_text(token_ids, tokenizer).replace("\n", " "))
    model.train()
    return token_ids


def train_model_simple(model, train_loader, val_loader, optimizer, num_epochs, eval_freq,
                       eval_iter, start_context, tokenizer, out=print, on_eval=None,
                       on_sample=None):
    """The book's loop.  on_eval(step, epoch, tokens_seen, train, val) and
    on_sample(epoch, ids) let fixture writers record what the book prints."""
    train_losses, val_losses, track_tokens_seen = [], [], []
    tokens_seen, global_step = 0, -1
    for epoch in range(num_epochs):
        model.train()
        for input_batch, target_batch in train_loader:
            optimizer.zero_grad()
            loss = calc_loss_batch(input_batch, target_batch, model)
            loss.backward()
            optimizer.step()
            tokens_seen += input_batch.numel()
            global_step += 1
            if global_step % eval_freq == 0:
                train_loss, val_loss = evaluate_model(model, train_loader, val_loader,
                                                      eval_iter)
                train_losses.append(train_loss)
                val_losses.append(val_loss)
                track_tokens_seen.append(tokens_seen)
                out(f"Ep {epoch+1} (Step {global_step:06d}): "
                    f"Train loss {train_loss:.3f}, Val loss {val_loss:.3f}")
                if on_eval is not None:
                    on_eval(global_step, epoch + 1, tokens_seen, train_loss, val_loss)
        ids = generate_and_print_sample(model, tokenizer, start_context, out=out)
        if on_sample is not None:
            on_sample(epoch + 1, ids)
    return train_losses, val_losses, track_tokens_seen
