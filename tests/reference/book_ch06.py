"""Chapter 6 of the book (fine-tuning for classification), as the book does
it, written from ../shared/reference/book_ch06_ch07.md.  Used only to write
fixtures (gen_finetune.py) and to check the specification against the real
data (check_book_ch06_ch07.py); tests never run it.

The book's pandas calls are replaced by what they do, so that no pandas is
needed and the C side can follow every step:
  read_sms_tsv            pd.read_csv(path, sep="\\t", header=None,
                          names=["Label", "Text"]) with its default quoting
  create_balanced_dataset df[ham].sample(n_spam, random_state=123) + df[spam]
  random_split            df.sample(frac=1, random_state=123), then cut
  LegacyRandomState       numpy's RandomState(seed) (MT19937, legacy seeding)
                          as far as sample() uses it: permutation(n)
A frame is a list of Row(index, label, text); index is the row number in
the parsed file (0-based), which pandas keeps as the frame's index.
"""
from collections import namedtuple

import torch
from torch.utils.data import Dataset

import book_ch04

PAD_ID = 50256
Row = namedtuple("Row", "index label text")

# pandas' default na_values: a field equal to one of these is read as NaN.
# The book's SpamDataset would then fail on encode(NaN); we refuse them.
PANDAS_NA = {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
             "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a",
             "nan", "null"}


# ---- the SMS Spam Collection file ------------------------------------------------

def parse_tsv_records(text):
    """pandas' C tokenizer with sep="\\t", quotechar '"', doublequote, no
    escapechar, skip_blank_lines: the list of (first line number, fields).

    A field whose first character is '"' is quoted: that quote is dropped and
    everything (tab and newline too) is taken literally up to the next lone
    '"'; a doubled '""' in there gives one '"'.  After the closing quote the
    field goes on unquoted up to the next tab or line end (the closing quote
    itself dropped).  A '"' anywhere else in an unquoted field is kept.
    Outside quotes, "\\n", "\\r\\n" and "\\r" end a record; an empty line, or
    one of spaces only, is skipped."""
    records, fields, field = [], [], []
    i, n, line, first_line = 0, len(text), 1, 1
    state = "start_record"
    while i < n:
        c = text[i]
        if state == "start_record":
            first_line = line
            if c in "\n\r":
                # an empty line: skipped
                if c == "\r" and i + 1 < n and text[i + 1] == "\n":
                    i += 1
                line += 1
                i += 1
                continue
            if c == " ":
                j = i
                while j < n and text[j] == " ":
                    j += 1
                if j == n or text[j] in "\n\r":
                    i = j   # a line of spaces only: skipped with its end
                    continue
            state = "start_field"
            continue
        if state == "start_field":
            if c == '"':
                state = "quoted"
                i += 1
                continue
            state = "field"
            continue
        if state == "field":
            if c == "\t":
                fields.append("".join(field))
                field = []
                state = "start_field"
            elif c in "\n\r":
                fields.append("".join(field))
                records.append((first_line, fields))
                fields, field = [], []
                if c == "\r" and i + 1 < n and text[i + 1] == "\n":
                    i += 1
                line += 1
                state = "start_record"
            else:
                field.append(c)
            i += 1
            continue
        if state == "quoted":
            if c == '"':
                state = "quote_in_quoted"
            else:
                if c == "\n":
                    line += 1
                field.append(c)
            i += 1
            continue
        if state == "quote_in_quoted":
            if c == '"':          # "" inside quotes: one "
                field.append('"')
                state = "quoted"
                i += 1
                continue
            state = "field"       # the closing quote: the field goes on unquoted
            continue
    if state in ("quoted",):
        raise ValueError("EOF inside string starting at line %d" % first_line)
    if state != "start_record":
        # the last record without a final line end
        fields.append("".join(field))
        records.append((first_line, fields))
    return records


def read_sms_tsv(path):
    """The book's frame of the SMS Spam Collection: Row(index, label, text)
    for each record, index = 0, 1, ... in file order."""
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    rows = []
    for line, fields in parse_tsv_records(text):
        if len(fields) != 2:
            raise ValueError("%s: line %d: %d fields, expected label<TAB>text"
                             % (path, line, len(fields)))
        label, body = fields
        if body in PANDAS_NA or label in PANDAS_NA:
            raise ValueError("%s: line %d: pandas would read NaN" % (path, line))
        rows.append(Row(len(rows), label, body))
    return rows


# ---- numpy's legacy RandomState, as pandas' sample() uses it ------------------------

class LegacyRandomState:
    """numpy.random.RandomState(seed) for an int seed: MT19937 seeded by the
    classic init_genrand (not init_by_array), 32-bit outputs; permutation(n)
    shuffles arange(n) from the back with a masked rejection draw."""

    N, M = 624, 397

    def __init__(self, seed):
        if not 0 <= seed <= 0xFFFFFFFF:
            raise ValueError("Seed must be between 0 and 2**32 - 1")
        mt = [0] * self.N
        mt[0] = seed
        for i in range(1, self.N):
            mt[i] = (1812433253 * (mt[i - 1] ^ (mt[i - 1] >> 30)) + i) & 0xFFFFFFFF
        self.mt, self.pos = mt, self.N

    def _twist(self):
        mt = self.mt
        for i in range(self.N):
            y = (mt[i] & 0x80000000) | (mt[(i + 1) % self.N] & 0x7FFFFFFF)
            v = mt[(i + self.M) % self.N] ^ (y >> 1)
            if y & 1:
                v ^= 0x9908B0DF
            mt[i] = v
        self.pos = 0

    def next_uint32(self):
        if self.pos >= self.N:
            self._twist()
        y = self.mt[self.pos]
        self.pos += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C5680
        y ^= (y << 15) & 0xEFC60000
        y ^= y >> 18
        return y

    def bounded(self, m):
        """numpy's random_interval(m): a uniform integer in [0, m] by
        rejection on next_uint32 & mask (mask: m with every lower bit set).
        m < 2**32 here; numpy draws 64-bit words only above that."""
        if m == 0:
            return 0
        mask = m
        for s in (1, 2, 4, 8, 16, 32):
            mask |= mask >> s
        while True:
            v = self.next_uint32() & mask
            if v <= m:
                return v

    def permutation(self, n):
        a = list(range(n))
        for i in range(n - 1, 0, -1):
            j = self.bounded(i)
            a[i], a[j] = a[j], a[i]
        return a


def frame_sample(rows, n, random_state):
    """DataFrame.sample(n, random_state=int): RandomState(int).choice(len,
    n, replace=False) = permutation(len)[:n], rows taken in that order,
    index labels kept.  Each call makes a fresh RandomState."""
    perm = LegacyRandomState(random_state).permutation(len(rows))
    return [rows[k] for k in perm[:n]]


def create_balanced_dataset(rows):
    """As many ham rows as there are spam rows, sampled with random_state
    123, then the spam rows in file order; labels mapped ham -> 0, spam -> 1.
    Rows with another label are in neither part (the book's selection)."""
    spam = [r for r in rows if r.label == "spam"]
    ham = [r for r in rows if r.label == "ham"]
    ham_subset = frame_sample(ham, len(spam), 123)
    return [r._replace(label={"ham": 0, "spam": 1}[r.label]) for r in ham_subset + spam]


def random_split(rows, train_frac, validation_frac):
    """The book's split: the whole frame sampled (frac=1, random_state=123:
    size round(1 * n) = n), the index reset, then cut at int(n * train_frac)
    and that + int(n * validation_frac) (Python float products, truncated).
    Returns (train, validation, test); each Row keeps the index it had in the
    file (what the frame's index said before reset_index), so that fixtures
    can name the rows."""
    shuffled = frame_sample(rows, round(1.0 * len(rows)), 123)
    train_end = int(len(shuffled) * train_frac)
    validation_end = train_end + int(len(shuffled) * validation_frac)
    return shuffled[:train_end], shuffled[train_end:validation_end], shuffled[validation_end:]


# ---- dataset and model -------------------------------------------------------------

class SpamDataset(Dataset):
    """encode each text (plain encode: tiktoken refuses '<|endoftext|>' in
    it, so do we), max_length None -> the longest encoding, else every
    encoding cut to max_length; right-padded with pad_token_id.  Items:
    int64 (max_length,), int64 label."""

    def __init__(self, rows, tokenizer, max_length=None, pad_token_id=PAD_ID):
        self.labels = [r.label for r in rows]
        self.encoded_texts = []
        for r in rows:
            if "<|endoftext|>" in r.text:
                raise ValueError("row %d: disallowed special token <|endoftext|>" % r.index)
            self.encoded_texts.append(tokenizer.encode(r.text))
        if max_length is None:
            self.max_length = self._longest_encoded_length()
        else:
            self.max_length = max_length
            self.encoded_texts = [t[:max_length] for t in self.encoded_texts]
        self.encoded_texts = [t + [pad_token_id] * (self.max_length - len(t))
                              for t in self.encoded_texts]

    def __getitem__(self, index):
        return (torch.tensor(self.encoded_texts[index], dtype=torch.long),
                torch.tensor(self.labels[index], dtype=torch.long))

    def __len__(self):
        return len(self.labels)

    def _longest_encoded_length(self):
        return max(len(t) for t in self.encoded_texts)


def replace_head(model, emb_dim, num_classes=2):
    """out_head <- Linear(emb_dim, num_classes) with bias: PyTorch's init
    (weight kaiming_uniform_(a=sqrt 5), then bias U(+-1/sqrt(emb_dim))) from
    the default generator.  The caller seeds first (the book:
    torch.manual_seed(123) just before)."""
    model.out_head = torch.nn.Linear(in_features=emb_dim, out_features=num_classes)
    return model


def set_trainable(model, which="last_block"):
    """The book's freezing: every parameter frozen, then out_head (new, so
    trainable) and, for "last_block", trf_blocks[-1] and final_norm made
    trainable again.  "all": everything trainable; "head": out_head only.
    (Run it after replace_head, as the book's order leaves the same flags.)"""
    for p in model.parameters():
        p.requires_grad = which == "all"
    for p in model.out_head.parameters():
        p.requires_grad = True
    if which == "last_block":
        for p in model.trf_blocks[-1].parameters():
            p.requires_grad = True
        for p in model.final_norm.parameters():
            p.requires_grad = True


def count_trainable(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# ---- loss, accuracy, training ------------------------------------------------------

def calc_accuracy_loader(data_loader, model, num_batches=None):
    """eval() (left on), no_grad; the first min(num_batches, len) batches
    (all when None); argmax of the last position's logits; correct / seen.
    Starting the iteration draws what the loader draws, even when
    num_batches would be 0."""
    model.eval()
    correct, seen = 0, 0
    num_batches = len(data_loader) if num_batches is None else min(num_batches,
                                                                    len(data_loader))
    for i, (input_batch, target_batch) in enumerate(data_loader):
        if i >= num_batches:
            break
        with torch.no_grad():
            logits = model(input_batch)[:, -1, :]
        predicted = torch.argmax(logits, dim=-1)
        seen += predicted.shape[0]
        correct += (predicted == target_batch).sum().item()
    return correct / seen


def calc_loss_batch(input_batch, target_batch, model):
    """Mean cross-entropy of the last position's (b, classes) logits."""
    logits = model(input_batch)[:, -1, :]
    return torch.nn.functional.cross_entropy(logits, target_batch)


def calc_loss_loader(data_loader, model, num_batches=None):
    """Chapter 5's: the mean of the first min(num_batches, len) batch losses
    (Python floats), NaN for an empty loader."""
    if len(data_loader) == 0:
        return float("nan")
    num_batches = len(data_loader) if num_batches is None else min(num_batches,
                                                                    len(data_loader))
    total = 0.0
    for i, (input_batch, target_batch) in enumerate(data_loader):
        if i >= num_batches:
            break
        total += calc_loss_batch(input_batch, target_batch, model).item()
    return total / num_batches


def evaluate_model(model, train_loader, val_loader, eval_iter):
    model.eval()
    with torch.no_grad():
        train_loss = calc_loss_loader(train_loader, model, num_batches=eval_iter)
        val_loss = calc_loss_loader(val_loader, model, num_batches=eval_iter)
    model.train()
    return train_loss, val_loss


def train_classifier_simple(model, train_loader, val_loader, optimizer, num_epochs,
                            eval_freq, eval_iter, out=print, on_eval=None, on_epoch=None):
    """The book's loop: per epoch model.train(); per batch zero_grad, loss,
    backward, step, examples_seen += batch size, global_step += 1 (from -1);
    at global_step % eval_freq == 0 evaluate_model and print the loss line;
    after each epoch the accuracies on eval_iter batches of train and
    validation (the model stays in eval mode until the next epoch's
    train()).  on_eval(step, epoch, examples, train, val) and
    on_epoch(epoch, examples, train_acc, val_acc) record for fixtures."""
    train_losses, val_losses, train_accs, val_accs = [], [], [], []
    examples_seen, global_step = 0, -1
    for epoch in range(num_epochs):
        model.train()
        for input_batch, target_batch in train_loader:
            optimizer.zero_grad()
            loss = calc_loss_batch(input_batch, target_batch, model)
            loss.backward()
            optimizer.step()
            examples_seen += input_batch.shape[0]
            global_step += 1
            if global_step % eval_freq == 0:
                train_loss, val_loss = evaluate_model(model, train_loader, val_loader,
                                                      eval_iter)
                train_losses.append(train_loss)
                val_losses.append(val_loss)
                out(f"Ep {epoch+1} (Step {global_step:06d}): "
                    f"Train loss {train_loss:.3f}, Val loss {val_loss:.3f}")
                if on_eval is not None:
                    on_eval(global_step, epoch + 1, examples_seen, train_loss, val_loss)
        train_accuracy = calc_accuracy_loader(train_loader, model, num_batches=eval_iter)
        val_accuracy = calc_accuracy_loader(val_loader, model, num_batches=eval_iter)
        out(f"Training accuracy: {train_accuracy*100:.2f}% | "
            f"Validation accuracy: {val_accuracy*100:.2f}%")
        train_accs.append(train_accuracy)
        val_accs.append(val_accuracy)
        if on_epoch is not None:
            on_epoch(epoch + 1, examples_seen, train_accuracy, val_accuracy)
    return train_losses, val_losses, train_accs, val_accs, examples_seen


def classify_review(text, model, tokenizer, max_length, pad_token_id=PAD_ID,
                    return_logits=False):
    """eval(); encode; cut to min(max_length, context rows of pos_emb); pad
    to max_length; argmax of the last position -> "spam" (1) / "not spam"."""
    model.eval()
    input_ids = tokenizer.encode(text)
    supported_context_length = model.pos_emb.weight.shape[0]
    input_ids = input_ids[:min(max_length, supported_context_length)]
    input_ids += [pad_token_id] * (max_length - len(input_ids))
    input_tensor = torch.tensor(input_ids).unsqueeze(0)
    with torch.no_grad():
        logits = model(input_tensor)[:, -1, :]
    label = "spam" if torch.argmax(logits, dim=-1).item() == 1 else "not spam"
    return (label, logits[0]) if return_logits else label


def classifier_from_config(cfg, trainable="last_block"):
    """The test-mode model: GPTModel(cfg) (its init drawn now), eval(),
    every parameter frozen, torch.manual_seed(123), out_head = Linear(emb, 2),
    then trf_blocks[-1] and final_norm trainable.  The caller has already
    seeded and built the loaders (the book: manual_seed(123), loaders, model)."""
    model = book_ch04.GPTModel(cfg)
    model.eval()
    return finish_classifier(model, cfg["emb_dim"], trainable)


def finish_classifier(model, emb_dim, trainable="last_block"):
    for p in model.parameters():
        p.requires_grad = False
    torch.manual_seed(123)
    replace_head(model, emb_dim)
    set_trainable(model, trainable)
    return model


DEMO_TEXTS = [
    "You are a winner you have been specially selected to receive $1000 cash or a $2000 award.",
    "Hey, just wanted to check if we're still on for dinner tonight? Let me know!",
]


def epochs_axis(num_epochs, n):
    """torch.linspace(0, num_epochs, n), the plots' x values."""
    return [float(v) for v in torch.linspace(0, num_epochs, n)]

