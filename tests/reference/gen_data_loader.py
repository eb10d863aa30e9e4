#!/usr/bin/python3
"""Writes tests/reference/data_loader.txt: PyTorch 1.13's DataLoader
(num_workers 0, no generator given) over TensorDatasets and a dataset of
lists with the book's chapter-7 collate, read by tests/test_data.c.

Run with Debian's python3-torch:
    /usr/bin/python3 tests/reference/gen_data_loader.py
Each case starts from torch.manual_seed; torch.rand values recorded along
the way and after it show what the loaders took from the default
generator (a base seed per iterator, shuffled or not; with shuffle,
RandomSampler's seed at the iterator's first batch).

Format, one line each:  <name> <values...>  (%.9g; ids and rows are whole)
  issue_*      the book's loop on a shuffled training loader that is also
               evaluated inside its own epoch (calc_loss_loader's partial
               passes over the training and validation loaders), 2 epochs:
               issue_step<k> the step's row ids, issue_step<k>_rand the
               torch.rand(1) the step draws (dropout's place), and at even
               steps issue_step<k>_train<i> / _val<i> the evaluation's batches
  lazy_*       two iterators made before either takes a batch
  td_<case>_*  TensorDataset(X (n,2,3), y (n), w (n,1)): len, then per
               epoch e and batch k the three fields, flattened
  collate_*    the book's custom_collate_fn (pad 50256, ignore -100,
               allowed_max_length 5) returning (inputs, targets, lengths)
"""
import os
from functools import partial

import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

HERE = os.path.dirname(os.path.abspath(__file__))
out = open(os.path.join(HERE, "data_loader.txt"), "w")
out.write("# written by gen_data_loader.py with torch %s\n" % torch.__version__)


def put(name, values):
    if isinstance(values, torch.Tensor):
        values = values.flatten().tolist()
    out.write("%s %s\n" % (name, " ".join("%.9g" % v for v in values)))


def rows(n):
    """X (n, 2, 3), y (n), w (n, 1): row i's values say i."""
    X = torch.arange(n * 6, dtype=torch.float32).view(n, 2, 3) / 4
    y = torch.arange(n, dtype=torch.float32)
    w = -torch.arange(n, dtype=torch.float32).view(n, 1) - 0.5
    return X, y, w


# ---- the test: evaluation on the training loader inside its epoch ----
def calc_loss_loader_batches(loader, num_batches):
    """The batches calc_loss_loader(loader, model, num_batches) reads."""
    seen = []
    num_batches = min(num_batches, len(loader))
    for i, (x, y) in enumerate(loader):
        if i < num_batches:
            seen.append(y)
        else:
            break
    return seen


X, y, _ = rows(11)
torch.manual_seed(123)
train_loader = DataLoader(TensorDataset(X[:, 0, :2], y), batch_size=2, shuffle=True,
                          drop_last=True)
val_loader = DataLoader(TensorDataset(X[:5, 0, :2], y[:5]), batch_size=2, shuffle=False,
                        drop_last=False)
put("issue_len", [len(train_loader), len(val_loader)])
step = -1
for epoch in range(2):
    for input_batch, target_batch in train_loader:
        step += 1
        put("issue_step%d" % step, target_batch)
        put("issue_step%d_rand" % step, torch.rand(1))
        if step % 2 == 0:
            # eval_iter 2 at steps 0, 4, 8; the whole loader at 2, 6
            eval_iter = 2 if step % 4 == 0 else len(train_loader)
            for i, b in enumerate(calc_loss_loader_batches(train_loader, eval_iter)):
                put("issue_step%d_train%d" % (step, i), b)
            for i, b in enumerate(calc_loss_loader_batches(val_loader, eval_iter)):
                put("issue_step%d_val%d" % (step, i), b)
put("issue_steps", [step + 1])
put("issue_rand", torch.rand(4))

# ---- when the shuffle's seed is drawn: two iterators, then their batches ----
torch.manual_seed(5)
loader = DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True)
a = iter(loader)
b = iter(loader)
put("lazy_b0", next(b)[1])
put("lazy_a0", next(a)[1])
put("lazy_mid", torch.rand(2))
put("lazy_a", torch.cat([batch[1] for batch in a]))
put("lazy_b", torch.cat([batch[1] for batch in b]))
put("lazy_rand", torch.rand(4))

# ---- TensorDataset: batch sizes that do and do not divide n, drop_last ----
# name, n, batch_size, shuffle, drop_last, seed
CASES = [
    ("b3_shuffle", 10, 3, True, False, 123),
    ("b3_shuffle_drop", 10, 3, True, True, 123),
    ("b5_shuffle", 10, 5, True, False, 7),
    ("b5_ordered_drop", 10, 5, False, True, 7),
    ("b4_ordered", 10, 4, False, False, 7),
    ("b12_shuffle", 10, 12, True, False, 1),
    ("b12_shuffle_drop", 10, 12, True, True, 1),
    ("defaults", 3, 1, False, False, 1),
]
for name, n, bs, shuffle, drop_last, seed in CASES:
    torch.manual_seed(seed)
    loader = DataLoader(TensorDataset(*rows(n)), batch_size=bs, shuffle=shuffle,
                        drop_last=drop_last)
    put("td_%s_len" % name, [len(loader)])
    for e in range(2):
        k = -1
        for k, fields in enumerate(loader):
            for f, t in enumerate(fields):
                put("td_%s_e%d_b%d_%d" % (name, e, k, f), t)
        put("td_%s_e%d_batches" % (name, e), [k + 1])
    put("td_%s_rand" % name, torch.rand(4))


# ---- a custom collate: the book's chapter 7, plus the lengths ----
class ListDataset(Dataset):
    def __init__(self, items):
        self.items = items

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self):
        return len(self.items)


def custom_collate_fn(batch, pad_token_id=50256, ignore_index=-100, allowed_max_length=None):
    batch_max_length = max(len(item) + 1 for item in batch)
    inputs_lst, targets_lst = [], []
    for item in batch:
        new_item = item.copy()
        new_item += [pad_token_id]
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
    lengths = torch.tensor([len(item) for item in batch])
    return torch.stack(inputs_lst), torch.stack(targets_lst), lengths


ITEMS = [[1, 2, 3, 4, 5], [6, 7], [8, 9, 10], [11], [12, 13, 14, 15, 16, 17], [18, 19],
         [20, 21, 22, 23]]
put("collate_items", [len(item) for item in ITEMS])
torch.manual_seed(123)
loader = DataLoader(ListDataset(ITEMS), batch_size=3, shuffle=True,
                    collate_fn=partial(custom_collate_fn, allowed_max_length=5))
for e in range(2):
    for k, (inputs, targets, lengths) in enumerate(loader):
        put("collate_e%d_b%d_shape" % (e, k), list(inputs.shape))
        put("collate_e%d_b%d_x" % (e, k), inputs)
        put("collate_e%d_b%d_y" % (e, k), targets)
        put("collate_e%d_b%d_len" % (e, k), lengths)
put("collate_rand", torch.rand(4))
out.close()
