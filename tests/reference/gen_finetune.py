#!/usr/bin/python3
"""Writes the fixtures of issue 24 (fine-tuning: the book's chapters 6 and 7,
appendices D and E), computed with PyTorch 1.13 and this folder's references
(book_ch06.py, book_ch07.py, book_appendix_d.py, book_appendix_e.py) on the
synthetic data of gen_finetune_data.py:

    OMP_NUM_THREADS=1 /usr/bin/python3 tests/reference/gen_finetune.py   (after ./run vocab)

(about 35 s of CPU on one core).  Every run calls torch.set_num_threads(1).

All .txt files hold named records as the other fixtures do: a line
"@name d0 d1 ..." (no dims: a scalar; a 0 dim: no values), then the values
row-major, whitespace-separated; '#' lines are comments.  Unless a file's
header says otherwise values are float32 %.9g (token ids, indices, labels and
counts are whole numbers below 2^24, so testutil_fixture reads them exactly).
The .expected files are exact stdout (UTF-8, "\\n" line ends, a final "\\n").

Tokenizers, pad and end ids
  gpt2   GPT-2's BPE (gpt2_bpe.py, tiktoken's encode: plain encode of SMS
         texts and instruction texts; text_to_token_ids allows
         <|endoftext|>); pad = eos = 50256.
  bytes  one id per UTF-8 byte (vocab 256), for the tiny Hugging Face GPT-2
         hf_gpt2_tiny.safetensors (gen_hf_gpt2.py).  It has no <|endoftext|>;
         these runs use 255, the vocabulary's last id as 50256 is GPT-2's,
         as pad and eos (0xFF never occurs in UTF-8 text, so no text id is
         ever taken for padding).  The C programs need a pad/eos id option
         (or that default for the bytes tokenizer).

======================================================================
finetune_data.txt  (items a, b: data pipeline, no model)
  mt19937_123_hi16 / _lo16 8   numpy RandomState(123)'s first 8 uint32
                               outputs, split in 16-bit halves (float-exact)
  perm_N N                     RandomState(123).permutation(N), whole, for
                               N = 1 2 3 5 16 17 100 257
  perm_4825_head 5, perm_1494_head 5   the specification's check values
                               (3720 3580 4182 3858 4713 / 263 627 887 925 1050)
  sms_rows                     rows read from finetune_sms.tsv (pandas' rule)
  sms_first_line R             1-based line where each row starts
  sms_label R                  0 ham, 1 spam
  sms_text_nbytes R            UTF-8 bytes of each text
  sms_text_row<k> n            the UTF-8 bytes of row k's text, for every row
                               whose text is not the naive split of its line
                               (quoting) or is not ASCII
  balanced_index B, balanced_label B   create_balanced_dataset: the rows (file
                               row numbers, 0-based) in frame order and labels:
                               ham = permutation(n_ham)[:n_spam] of the ham rows
                               in file order (RandomState(123)), then the spam
                               rows in file order
  split_perm B                 RandomState(123).permutation(B) (the frame shuffle)
  split_{train,val,test}_index n, _label n   random_split(0.7, 0.1): file row
                               numbers; cut at int(B*0.7), + int(B*0.1)
  Chapter 6 datasets, prefix cls_ (gpt2, max_length None = the longest
  training encoding) and clsb_ (bytes, max_length 16, pad 255):
  <p>_max_length               the datasets' length (train's, given to val/test)
  <p>_batches 3                len() of train (shuffle, drop_last), val, test
                               loaders (batch 8)
  <p>_train_order_e1/_e2 n     dataset indices the train loader yields in its
                               first and second iteration right after
                               torch.manual_seed(123) (nothing between them)
  <p>_{train,val,test}_b0_x b L, _b0_y b   the first batch of each loader right
                               after torch.manual_seed(123) (train first, then
                               val, then test, one manual_seed before all three)
  <p>_{val,test}_last_x, _last_y   their last (short) batch
  Chapter 7 datasets, prefix ins_ (gpt2, allowed_max_length 64 = the run's
  context) and insb_ (bytes, allowed_max_length 16, pad 255):
  <p>_split 3                  train, validation, test sizes
  <p>_train_lengths n          encoded length of each training text
  <p>_batches 3                loader lengths (batch 8; train shuffle, drop_last)
  <p>_train_order_e1 n         indices of the first iteration after manual_seed(123)
  <p>_train_widths_e1 k        each batch's width in that iteration
  <p>_train_b0_x/_y, <p>_val_b0_x/_y, <p>_test_b0_x/_y   first batches after
                               one torch.manual_seed(123), as for cls_
  toy_x 3 5, toy_y 3 5         the specification's toy collate ([0..4], [5,6],
                               [7,8,9]); toy_cut3_x/_y: the same with
                               allowed_max_length 3; toy_pad255_x/_y: pad 255
  ce_demo 3                    cross-entropy demo: 2 rows; 3 rows; 3 rows with
                               the third target -100 (1.1269 0.7936 1.1269)

======================================================================
Training runs (item c): finetune_<run>.expected (what the book's code prints,
timing lines left out) and finetune_<run>.txt (the same numbers unrounded).
Runs: cls_gpt2, cls_gpt2_lora, ins_gpt2, ins_gpt2_lora (random small GPT,
GPT-2 BPE) and cls_hf, cls_hf_lora, ins_hf, ins_hf_lora (the tiny HF GPT-2,
bytes tokenizer).  Each run: 2 epochs, batch 8, eval_freq 5, eval_iter 5,
AdamW(lr 1e-3, weight_decay 0.1), dropout 0.1 ON during training; LoRA rank 4
with alpha 8 (classifier: scale 2) or 4 (instruction model: scale 1).
  cls_gpt2*  vocab 50257, context 32, emb 16, 2 heads, 2 layers, qkv_bias
             False; SpamDataset max_length None (the longest training text,
             25), pad 50256
  ins_gpt2*  vocab 50257, context 64, emb 16, 2 heads, 2 layers, qkv_bias
             True; allowed_max_length 64, pad 50256
  *_hf*      hf_gpt2_tiny.safetensors: vocab 256, context 16, emb 32, 4 heads,
             2 layers, qkv_bias True (drop_rate 0.1: the file has none);
             SpamDataset max_length 16 / allowed_max_length 16, pad 255  The tiny GPT-2's context is 16, so in
ins_hf* every row of every batch is the same 16 bytes (the start of the
prompt's preamble, cut by allowed_max_length 16): their train and validation
losses coincide and the shuffle does not show in them (ins_gpt2* and
finetune_data.txt test that); they test the loaded weights, LoRA on them and
generation from a context cropped to its last 16 ids.  No run's generation
meets its eos id (gen_hf_gpt2.py's "eos" case tests generate()'s stop).

Order of seeds and draws (the default generator; "draws" = what PyTorch
takes from it; a DataLoader iteration draws one int64 when it starts, and a
shuffled one a second int64 at its first batch, seeding its own generator
for randperm):
  classifier, full (gpt_class_finetune.py's order, --test_mode style):
    datasets; torch.manual_seed(123); the three loaders (no draws);
    model = GPTModel(cfg) (its init drawn: tok_emb, pos_emb, per block
      W_query, W_key, W_value, out_proj, ff.0, ff.2, then out_head; each
      Linear weight then bias); for _hf: the HF weights loaded over it
      (load_weights_into_gpt; out_head a copy of wte); model.eval();
    every parameter frozen; torch.manual_seed(123); out_head = Linear(emb, 2)
      (weight, then bias drawn); trf_blocks[-1] and final_norm trainable;
    torch.manual_seed(123); AdamW(trainable and frozen parameters alike: a
      parameter without a gradient is skipped entirely);
    train_classifier_simple (per epoch: train(); per batch the step (dropout
      draws in forward order); at step % 5 == 0 evaluate: eval(), 5 batches
      of train (2 draws) and val (1 draw), train(); after the epoch
      accuracies on 5 batches of train (2 draws) and val (1), eval() left on);
    then, with no reseed, full-loader accuracies of train (2 draws: its
      shuffle decides which examples drop_last leaves out), val, test (1 each);
    classify_review of the book's two texts (max_length = the train set's).
  classifier, LoRA (appendix E's order):
    as above up to model.eval(); torch.manual_seed(123); out_head =
    Linear(emb, 2) (nothing frozen); torch.manual_seed(123); accuracies on 10
    batches of train, val, test (4 draws; printed); counts printed; every
    parameter frozen; replace_linear_with_lora (A drawn per LoRA layer, per
    block W_query, W_key, W_value, out_proj, ff.0, ff.2, then out_head);
    count printed; torch.manual_seed(123); 10-batch accuracies again
    (printed, unchanged: B = 0); torch.manual_seed(123); AdamW; the training
    loop, final accuracies and classify_review as above.
  instruction model, full (gpt_instruction_finetuning.py's order):
    torch.manual_seed(123); datasets and loaders (no draws); model =
    GPTModel(cfg) (+ HF weights); model.eval(); "Initial losses": no_grad,
    5 batches of train (2 draws) and val (1) in eval mode, printed as Python
    float reprs; AdamW; torch.manual_seed(123); chapter 5's
    train_model_simple (start context format_input(val[0]); per epoch end a
    50-token greedy sample, newlines printed as spaces; it leaves the model
    in train() mode);
    then the test responses: the script never calls eval(), so generation
    runs in train mode and dropout DRAWS during it (no_grad does not stop
    dropout); greedy, context_size = cfg context, eos = pad id, stop before
    appending it; max_new_tokens 16 (gpt2 runs, to keep the replay short;
    the book's 256) or 256 (hf runs); response = decoded text from code
    point len(prompt) on, "### Response:" removed, str.strip();
    then book_ch07.test_loss: eval(), no_grad, every test batch (1 draw).
  instruction model, LoRA (the book's exercise 7.4, exercise_experiments.py):
    as above up to model.eval(); counts printed; every parameter frozen;
    replace_linear_with_lora (draws); count printed; then "Initial losses"
    and the rest as above.

finetune_<run>.expected lines:
  cls:       Ep/Step loss lines and per-epoch accuracy lines; then
             "Training accuracy: x%", "Validation accuracy: x%", "Test accuracy:
             x%" (full loaders); then classify_review's "spam"/"not spam" for
             the two texts.
  cls_lora:  the three 10-batch accuracy lines; "Total trainable parameters
             before: N", "...after: 0", "Total trainable LoRA parameters: N"
             (thousands separated with ","); the three accuracy lines again;
             then as cls.
  ins:       "Initial losses", "   Training loss: <repr>", "   Validation loss:
             <repr>", the Ep/Step loss lines and after each epoch the sample;
             then, after the responses, "Test loss: x" (book_ch07.test_loss:
             ours, offline in place of the book's Llama scoring).
  ins_lora:  the three count lines, then as ins.
finetune_<run>.txt:
  <run>_eval_step n, _train_loss n, _val_loss n, _seen n   each evaluation:
             global step, losses (Python doubles, %.17g: read with strtod),
             examples (cls) or tokens (ins) seen
  <run>_head_w0 emb, <run>_head_b 2    (cls) out_head row 0 and bias after the
             seeded Linear(emb, 2)
  <run>_lora_A0_row0 rank      (lora) the first LoRA layer's A[0, :]
  <run>_trainable              (scalar) trainable parameter count in training
  <run>_train_acc / _val_acc epochs, _final_acc 3   (cls) accuracies
  <run>_classify_logits 2 2    (cls) the two texts' last-position logits
  <run>_initial_loss 2         (ins) %.17g
  <run>_new_ids_<k> n          (ins) the ids generated for test entry k
  <run>_test_loss 1            (ins) book_ch07.test_loss, %.17g
finetune_<run>_responses.json (ins): the book's output file, byte for byte
  (json.dump(indent=4): ASCII escapes, no final newline).

======================================================================
finetune_lora_count_124m.expected, finetune_lora_count_355m.expected (item e):
  the book's three count lines for gpt2-small with a Linear(768, 2) head
  (appendix E) and for gpt2-medium with its vocabulary head (exercise 7.4),
  LoRA rank 16, alpha 16, qkv_bias True, context 1024: computed from the
  module tree (shapes only, no weights, no draws).

finetune_schedule.txt (item d): learning rates, one per step, as Python
  float reprs (doubles: read with strtod and compare exactly):
  d_book_run_lr 135      the book's run: total 135, warmup int(0.2*135) = 27,
                         initial 1e-5, peak 0.001, min 1e-5
  d_warmup_demo_lr 135   the first demo: initial 1e-4, peak 0.01, warmup 27,
                         then constant peak
  d_cosine_demo_lr 135   the second: the same with cosine decay to
                         min_lr = 0.1 * 1e-4 (that double product is 1e-05 exactly)
  d_run_lr n             the short run below
  Each: lr(s) = initial + s * ((peak - initial) / warmup) for s < warmup, else
  min + (peak - min) * 0.5 * (1 + cos(pi * ((s - warmup) / (total - warmup)))).
finetune_d_run.expected: appendix D's train_model on a small config: the
  "Ep e (Iter nnnnnn): Train loss x, Val loss y" lines and a 50-token sample
  after each epoch.  Config: book-test (emb 32, 4 heads, 2 layers, drop 0.1,
  qkv False) with the bytes tokenizer (vocab 256), context 64, the-verdict.txt
  (90 % split, max_length = stride = 64: 35 batches), batch 8, 2 epochs,
  AdamW(lr 0.005 = peak, wd 0.1), warmup int(0.2 * 70) = 14, initial_lr 3e-5,
  min_lr 1e-6 (the function's defaults), eval_freq 5, eval_iter 1, "Every
  effort moves you".  The gradient norm is above 1 at steps 12 to 16:
  unclipped at 12 and 13, clipped from 14 (global_step >= warmup_steps; the
  print book's > would first clip at 15), so that step shows in the numbers.
  Seeds: torch.manual_seed(123); the loaders (no draws); torch.manual_seed(123);
  model; AdamW; train_model.
finetune_d_run.txt: d_run_step_loss n (each step's training loss),
  d_run_grad_norm n (the total gradient norm before clipping, every step;
  clipping to 1.0 applies from step warmup on), d_run_eval_step/_train_loss/
  _val_loss/_seen n.

finetune_decode.txt (item f): what Python prints for ids whose bytes are not
  valid UTF-8: bytes.decode("utf-8", errors="replace") replaces each maximal
  ill-formed subsequence with U+FFFD (the Unicode recommended practice).
  dec_<case>_in n      ids (bytes tokenizer: the bytes; gpt2_ cases: GPT-2 ids of
                       "Every effort moves you" then the first (head<k>) or
                       the last (from<k>) ids of a non-ASCII text's encoding)
  dec_<case>_out m     the UTF-8 bytes of the decoded str
  resp_<case>_prompt n, resp_<case>_new m, resp_<case>_out k   chapter 7's
                       response extraction (bytes tokenizer): prompt bytes,
                       generated bytes, the response's UTF-8 bytes (code point
                       slice, "### Response:" removed, Python's strip(), whose
                       whitespace includes \\x1c-\\x1f, \\x85, \\xa0, U+2000...)
"""
import json
import math
import os
import struct

import numpy as np
import torch
from torch.utils.data import DataLoader

import book_appendix_d
import book_appendix_e
import book_ch03
import book_ch04
import book_ch05
import book_ch06
import book_ch07
import gen_hf_gpt2
import gpt2_bpe

HERE = os.path.dirname(os.path.abspath(__file__))
SMS = os.path.join(HERE, "finetune_sms.tsv")
INSTRUCTIONS = os.path.join(HERE, "finetune_instructions.json")
HF = os.path.join(HERE, "hf_gpt2_tiny.safetensors")
VERDICT = os.path.join(HERE, "..", "..", "examples", "data", "the-verdict.txt")

CLS_GPT2_CFG = {"vocab_size": 50257, "context_length": 32, "emb_dim": 16, "n_heads": 2,
                "n_layers": 2, "drop_rate": 0.1, "qkv_bias": False}
INS_GPT2_CFG = {"vocab_size": 50257, "context_length": 64, "emb_dim": 16, "n_heads": 2,
                "n_layers": 2, "drop_rate": 0.1, "qkv_bias": True}
HF_CFG = dict(gen_hf_gpt2.CFG)   # vocab 256, context 16, emb 32, 4 heads, 2 layers, qkv
D_CFG = dict(book_ch04.GPT_CONFIG_BOOK_TEST, vocab_size=256, context_length=64)
D_PEAK = 0.005   # the gradient norm passes 1 two steps before warmup ends: the
                 # first clipped step (warmup, not warmup + 1) changes the numbers

# name: (task, source, lora (rank, alpha) or None, lr)
RUNS = {
    "cls_gpt2": ("cls", "gpt2", None, 1e-3),
    "cls_gpt2_lora": ("cls", "gpt2", (4, 8), 1e-3),
    "ins_gpt2": ("ins", "gpt2", None, 1e-3),
    "ins_gpt2_lora": ("ins", "gpt2", (4, 4), 1e-3),
    "cls_hf": ("cls", "hf", None, 1e-3),
    "cls_hf_lora": ("cls", "hf", (4, 8), 1e-3),
    "ins_hf": ("ins", "hf", None, 1e-3),
    "ins_hf_lora": ("ins", "hf", (4, 4), 1e-3),
}
EPOCHS, BATCH, EVAL_FREQ, EVAL_ITER, WEIGHT_DECAY = 2, 8, 5, 5, 0.1
BYTES_PAD = 255


# ---- output helpers ------------------------------------------------------------------

class Fixture:
    def __init__(self, name, header):
        self.path = os.path.join(HERE, name)
        self.lines = ["# " + l if l else "#" for l in header.split("\n")]

    def comment(self, text):
        self.lines.append("# " + text)

    def tensor(self, name, values, shape=None):
        t = torch.as_tensor(values, dtype=torch.float64)
        if shape is not None:
            t = t.reshape(shape)
        self.lines.append("@" + " ".join([name] + [str(d) for d in t.shape]))
        vals = t.reshape(-1).tolist()
        for i in range(0, len(vals), 16):
            self.lines.append(" ".join("%.9g" % v for v in vals[i:i + 16]))

    def doubles(self, name, values, fmt=repr):
        self.lines.append("@%s %d" % (name, len(values)))
        for i in range(0, len(values), 4):
            self.lines.append(" ".join(fmt(float(v)) for v in values[i:i + 4]))

    def write(self):
        with open(self.path, "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(self.lines) + "\n")


def write_expected(name, lines):
    with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


def g17(v):
    return "%.17g" % v


# ---- data ----------------------------------------------------------------------------

def tokenizer_for(source):
    if source == "gpt2":
        return gpt2_bpe.BookTokenizer(), 50256
    return book_ch05.ByteTokenizer(), BYTES_PAD


def sms_splits():
    rows = book_ch06.read_sms_tsv(SMS)
    bal = book_ch06.create_balanced_dataset(rows)
    return rows, bal, book_ch06.random_split(bal, 0.7, 0.1)


def cls_datasets(source):
    tok, pad = tokenizer_for(source)
    _, _, (train, val, test) = sms_splits()
    max_length = None if source == "gpt2" else HF_CFG["context_length"]
    train_ds = book_ch06.SpamDataset(train, tok, max_length, pad)
    val_ds = book_ch06.SpamDataset(val, tok, train_ds.max_length, pad)
    test_ds = book_ch06.SpamDataset(test, tok, train_ds.max_length, pad)
    return tok, pad, train_ds, val_ds, test_ds


def cls_loaders(train_ds, val_ds, test_ds):
    return (DataLoader(train_ds, batch_size=BATCH, shuffle=True, drop_last=True),
            DataLoader(val_ds, batch_size=BATCH, shuffle=False, drop_last=False),
            DataLoader(test_ds, batch_size=BATCH, shuffle=False, drop_last=False))


def ins_data(source):
    tok, pad = tokenizer_for(source)
    data = book_ch07.load_instruction_data(INSTRUCTIONS)
    train, val, test = book_ch07.split_data(data)
    allowed = INS_GPT2_CFG["context_length"] if source == "gpt2" else HF_CFG["context_length"]

    def collate(batch):
        return book_ch07.custom_collate_fn(batch, pad_token_id=pad, allowed_max_length=allowed)
    return tok, pad, (train, val, test), collate


def ins_loaders(tok, splits, collate):
    train, val, test = splits
    return (DataLoader(book_ch07.InstructionDataset(train, tok), batch_size=BATCH,
                       collate_fn=collate, shuffle=True, drop_last=True),
            DataLoader(book_ch07.InstructionDataset(val, tok), batch_size=BATCH,
                       collate_fn=collate, shuffle=False, drop_last=False),
            DataLoader(book_ch07.InstructionDataset(test, tok), batch_size=BATCH,
                       collate_fn=collate, shuffle=False, drop_last=False))


class IndexDataset(torch.utils.data.Dataset):
    """Stands for a dataset of n items in a loader built alike: the same
    draws, so the same order; yields the indices."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return i


def train_order(n, drop_last=True):
    loader = DataLoader(IndexDataset(n), batch_size=BATCH, shuffle=True, drop_last=drop_last)
    return [torch.cat(list(loader)).tolist() for _ in range(2)]


# ---- item a, b -----------------------------------------------------------------------

def data_fixture():
    fx = Fixture("finetune_data.txt", "finetune_data.txt: written by gen_finetune.py (its "
                 "docstring gives every record)\nfrom finetune_sms.tsv and "
                 "finetune_instructions.json; torch " + torch.__version__)
    rs = book_ch06.LegacyRandomState(123)
    u = [rs.next_uint32() for _ in range(8)]
    assert u == np.random.RandomState(123).randint(0, 2**32, size=8, dtype=np.uint64).tolist()
    fx.tensor("mt19937_123_hi16", [v >> 16 for v in u])
    fx.tensor("mt19937_123_lo16", [v & 0xFFFF for v in u])
    for n in (1, 2, 3, 5, 16, 17, 100, 257):
        p = book_ch06.LegacyRandomState(123).permutation(n)
        assert p == np.random.RandomState(123).permutation(n).tolist()
        fx.tensor("perm_%d" % n, p)
    for n, want in ((4825, [3720, 3580, 4182, 3858, 4713]), (1494, [263, 627, 887, 925, 1050])):
        p = book_ch06.LegacyRandomState(123).permutation(n)[:5]
        assert p == want
        fx.tensor("perm_%d_head" % n, p)

    rows, bal, (train, val, test) = sms_splits()
    records = book_ch06.parse_tsv_records(open(SMS, encoding="utf-8", newline="").read())
    physical = open(SMS, encoding="utf-8", newline="").read().split("\n")
    fx.comment("finetune_sms.tsv: %d rows, ham %d, spam %d" % (
        len(rows), sum(r.label == "ham" for r in rows), sum(r.label == "spam" for r in rows)))
    fx.tensor("sms_rows", len(rows))
    fx.tensor("sms_first_line", [line for line, _ in records])
    fx.tensor("sms_label", [{"ham": 0, "spam": 1}[r.label] for r in rows])
    fx.tensor("sms_text_nbytes", [len(r.text.encode()) for r in rows])
    for (line, _), r in zip(records, rows):
        naive = physical[line - 1].split("\t", 1)[1]
        if naive != r.text or not r.text.isascii():
            fx.comment("row %d (line %d): %r" % (r.index, line, r.text))
            fx.tensor("sms_text_row%d" % r.index, list(r.text.encode()))
    fx.tensor("balanced_index", [r.index for r in bal])
    fx.tensor("balanced_label", [r.label for r in bal])
    fx.tensor("split_perm", book_ch06.LegacyRandomState(123).permutation(len(bal)))
    for name, part in (("train", train), ("val", val), ("test", test)):
        fx.tensor("split_%s_index" % name, [r.index for r in part])
        fx.tensor("split_%s_label" % name, [r.label for r in part])

    for prefix, source in (("cls", "gpt2"), ("clsb", "bytes")):
        tok, pad, train_ds, val_ds, test_ds = cls_datasets(source)
        fx.comment("%s: %s tokenizer, pad %d" % (prefix, source, pad))
        fx.tensor(prefix + "_max_length", train_ds.max_length)
        loaders = cls_loaders(train_ds, val_ds, test_ds)
        fx.tensor(prefix + "_batches", [len(l) for l in loaders])
        torch.manual_seed(123)
        e1, e2 = train_order(len(train_ds))
        fx.tensor(prefix + "_train_order_e1", e1)
        fx.tensor(prefix + "_train_order_e2", e2)
        torch.manual_seed(123)
        for name, loader in zip(("train", "val", "test"), loaders):
            x, y = next(iter(loader))
            if name == "train":
                assert x.tolist() == [train_ds[i][0].tolist() for i in e1[:BATCH]]
            fx.tensor("%s_%s_b0_x" % (prefix, name), x)
            fx.tensor("%s_%s_b0_y" % (prefix, name), y)
        for name, loader in zip(("val", "test"), loaders[1:]):
            x, y = list(loader)[-1]
            fx.tensor("%s_%s_last_x" % (prefix, name), x)
            fx.tensor("%s_%s_last_y" % (prefix, name), y)

    for prefix, source in (("ins", "gpt2"), ("insb", "bytes")):
        tok, pad, splits, collate = ins_data(source)
        fx.comment("%s: %s tokenizer, pad %d" % (prefix, source, pad))
        fx.tensor(prefix + "_split", [len(s) for s in splits])
        torch.manual_seed(123)
        loaders = ins_loaders(tok, splits, collate)
        fx.tensor(prefix + "_train_lengths", [len(t) for t in loaders[0].dataset.encoded_texts])
        fx.tensor(prefix + "_batches", [len(l) for l in loaders])
        state = torch.get_rng_state()
        e1, _ = train_order(len(splits[0]))
        fx.tensor(prefix + "_train_order_e1", e1)
        torch.set_rng_state(state)
        fx.tensor(prefix + "_train_widths_e1", [x.shape[1] for x, _ in loaders[0]])
        torch.manual_seed(123)
        for name, loader in zip(("train", "val", "test"), loaders):
            x, y = next(iter(loader))
            fx.tensor("%s_%s_b0_x" % (prefix, name), x)
            fx.tensor("%s_%s_b0_y" % (prefix, name), y)

    P = 50256
    toy = [[0, 1, 2, 3, 4], [5, 6], [7, 8, 9]]
    x, y = book_ch07.custom_collate_fn(toy)
    assert x.tolist() == [[0, 1, 2, 3, 4], [5, 6, P, P, P], [7, 8, 9, P, P]]
    assert y.tolist() == [[1, 2, 3, 4, P], [6, P, -100, -100, -100], [8, 9, P, -100, -100]]
    fx.tensor("toy_x", x)
    fx.tensor("toy_y", y)
    x, y = book_ch07.custom_collate_fn(toy, allowed_max_length=3)
    fx.tensor("toy_cut3_x", x)
    fx.tensor("toy_cut3_y", y)
    x, y = book_ch07.custom_collate_fn(toy, pad_token_id=BYTES_PAD)
    fx.tensor("toy_pad255_x", x)
    fx.tensor("toy_pad255_y", y)
    ce = torch.nn.functional.cross_entropy
    rows3 = torch.tensor([[-1.0, 1.0], [-0.5, 1.5], [-0.5, 1.5]])
    demo = [ce(rows3[:2], torch.tensor([0, 1])), ce(rows3, torch.tensor([0, 1, 1])),
            ce(rows3, torch.tensor([0, 1, -100]))]
    assert ["%.4f" % v for v in demo] == ["1.1269", "0.7936", "1.1269"]
    fx.tensor("ce_demo", [v.item() for v in demo])
    fx.write()


# ---- models --------------------------------------------------------------------------

def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    state = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32"
        s, e = info["data_offsets"]
        state[name] = np.frombuffer(blob[8 + n + s:8 + n + e], dtype="<f4").reshape(
            info["shape"]).copy()
    return state


def build_model(source, task):
    """GPTModel(cfg) with its init drawn now; for "hf" the tiny GPT-2's
    weights loaded over it as the book's load_weights_into_gpt does."""
    if source == "hf":
        model = book_ch04.GPTModel(HF_CFG)
        params = gen_hf_gpt2.book_params(read_safetensors(HF), HF_CFG["n_layers"])
        book_ch05.load_weights_into_gpt(model, params)
        return model, HF_CFG
    cfg = CLS_GPT2_CFG if task == "cls" else INS_GPT2_CFG
    return book_ch04.GPTModel(cfg), cfg


def count_lines(model, rank, alpha):
    lines = ["Total trainable parameters before: {:,}".format(
        book_appendix_e.count_trainable(model))]
    book_appendix_e.freeze_all(model)
    lines.append("Total trainable parameters after: {:,}".format(
        book_appendix_e.count_trainable(model)))
    book_appendix_e.replace_linear_with_lora(model, rank=rank, alpha=alpha)
    lines.append("Total trainable LoRA parameters: {:,}".format(
        book_appendix_e.count_trainable(model)))
    return lines


def accuracy_lines(model, loaders, num_batches):
    accs = [book_ch06.calc_accuracy_loader(l, model, num_batches=num_batches) for l in loaders]
    names = ("Training", "Validation", "Test")
    return accs, ["%s accuracy: %.2f%%" % (n, a * 100) for n, a in zip(names, accs)]


def record_evals(fx, run, evals):
    fx.tensor(run + "_eval_step", [e[0] for e in evals])
    fx.doubles(run + "_train_loss", [e[3] for e in evals], g17)
    fx.doubles(run + "_val_loss", [e[4] for e in evals], g17)
    fx.tensor(run + "_seen", [e[2] for e in evals])


# ---- item c: chapter 6 runs ----------------------------------------------------------

def run_classifier(run, source, lora, lr):
    fx = Fixture("finetune_%s.txt" % run, "finetune_%s.txt: written by gen_finetune.py (its "
                 "docstring gives the records and the order of draws); torch %s"
                 % (run, torch.__version__))
    tok, pad, train_ds, val_ds, test_ds = cls_datasets(source)
    torch.manual_seed(123)
    train_loader, val_loader, test_loader = cls_loaders(train_ds, val_ds, test_ds)
    model, cfg = build_model(source, "cls")
    assert train_ds.max_length <= cfg["context_length"]
    model.eval()
    lines = []
    emb = cfg["emb_dim"]
    if lora is None:
        book_ch06.finish_classifier(model, emb)
    else:
        torch.manual_seed(123)
        book_ch06.replace_head(model, emb)
    fx.tensor(run + "_head_w0", model.out_head.weight[0].detach())
    fx.tensor(run + "_head_b", model.out_head.bias.detach())
    if lora is not None:
        rank, alpha = lora
        fx.comment("LoRA rank %d alpha %d" % lora)
        loaders = (train_loader, val_loader, test_loader)
        torch.manual_seed(123)
        lines += accuracy_lines(model, loaders, 10)[1]
        lines += count_lines(model, rank, alpha)
        fx.tensor(run + "_lora_A0_row0", model.trf_blocks[0].att.W_query.lora.A[0].detach())
        torch.manual_seed(123)
        lines += accuracy_lines(model, loaders, 10)[1]
    fx.tensor(run + "_trainable", book_ch06.count_trainable(model))
    torch.manual_seed(123)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=WEIGHT_DECAY)
    evals, epochs = [], []
    book_ch06.train_classifier_simple(
        model, train_loader, val_loader, optimizer, EPOCHS, EVAL_FREQ, EVAL_ITER,
        out=lines.append, on_eval=lambda *a: evals.append(a),
        on_epoch=lambda *a: epochs.append(a))
    accs, acc_lines = accuracy_lines(model, (train_loader, val_loader, test_loader), None)
    lines += acc_lines
    logits = []
    for text in book_ch06.DEMO_TEXTS:
        label, lg = book_ch06.classify_review(text, model, tok, train_ds.max_length, pad,
                                              return_logits=True)
        lines.append(label)
        logits.append(lg.tolist())
    record_evals(fx, run, evals)
    fx.tensor(run + "_train_acc", [e[2] for e in epochs])
    fx.tensor(run + "_val_acc", [e[3] for e in epochs])
    fx.tensor(run + "_final_acc", accs)
    fx.comment("classify_review logits (margins %s)" % ", ".join(
        "%.3g" % abs(a - b) for a, b in logits))
    fx.tensor(run + "_classify_logits", logits)
    fx.write()
    write_expected("finetune_%s.expected" % run, lines)
    return lines


# ---- item c: chapter 7 runs ----------------------------------------------------------

def run_instruct(run, source, lora, lr):
    fx = Fixture("finetune_%s.txt" % run, "finetune_%s.txt: written by gen_finetune.py (its "
                 "docstring gives the records and the order of draws); torch %s"
                 % (run, torch.__version__))
    tok, pad, splits, collate = ins_data(source)
    train, val, test = splits
    torch.manual_seed(123)
    train_loader, val_loader, test_loader = ins_loaders(tok, splits, collate)
    model, cfg = build_model(source, "ins")
    model.eval()
    lines = []
    if lora is not None:
        fx.comment("LoRA rank %d alpha %d" % lora)
        lines += count_lines(model, *lora)
        fx.tensor(run + "_lora_A0_row0", model.trf_blocks[0].att.W_query.lora.A[0].detach())
    fx.tensor(run + "_trainable", book_appendix_e.count_trainable(model))
    train_loss, val_loss = book_ch07.initial_losses(model, train_loader, val_loader)
    lines += ["Initial losses", "   Training loss: " + repr(train_loss),
              "   Validation loss: " + repr(val_loss)]
    fx.doubles(run + "_initial_loss", [train_loss, val_loss], g17)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=WEIGHT_DECAY)
    torch.manual_seed(123)
    evals = []
    book_ch05.train_model_simple(model, train_loader, val_loader, optimizer, EPOCHS,
                                 EVAL_FREQ, EVAL_ITER, book_ch07.format_input(val[0]), tok,
                                 out=lines.append, on_eval=lambda *a: evals.append(a))
    record_evals(fx, run, evals)
    assert model.training   # the responses are generated in train mode, as the script does
    max_new = 16 if source == "gpt2" else 256
    fx.comment("test responses: max_new_tokens %d, eos %d, model in train mode" % (max_new, pad))
    entries, new_ids = book_ch07.generate_responses(model, test, tok, cfg["context_length"],
                                                    max_new_tokens=max_new, eos_id=pad)
    for k, ids in enumerate(new_ids):
        fx.tensor("%s_new_ids_%d" % (run, k), ids)
    with open(os.path.join(HERE, "finetune_%s_responses.json" % run), "w",
              encoding="ascii") as f:
        f.write(book_ch07.dump_responses(entries))
    loss = book_ch07.test_loss(model, test_loader)
    lines.append("Test loss: %.3f" % loss)
    fx.doubles(run + "_test_loss", [loss], g17)
    fx.write()
    write_expected("finetune_%s.expected" % run, lines)
    return lines


# ---- item d: appendix D --------------------------------------------------------------

def appendix_d():
    fx = Fixture("finetune_schedule.txt", "finetune_schedule.txt: written by gen_finetune.py; "
                 "learning rates as Python float reprs\n(doubles: read with strtod, compare "
                 "exactly), one per global step from 0")
    total = 9 * 15
    warm = book_appendix_d.warmup_steps_for(total)
    assert warm == 27
    fx.doubles("d_book_run_lr", book_appendix_d.schedule(total, warm, 1e-5, 0.001, 1e-5))
    fx.doubles("d_warmup_demo_lr", book_appendix_d.schedule(total, warm, 0.0001, 0.01, 0,
                                                            cosine=False))
    fx.doubles("d_cosine_demo_lr", book_appendix_d.schedule(total, warm, 0.0001, 0.01,
                                                            0.1 * 0.0001))

    tok = book_ch05.ByteTokenizer()
    with open(VERDICT, encoding="utf-8") as f:
        text = f.read()
    torch.manual_seed(123)
    train_loader, val_loader = book_ch05.split_loaders(text, tok, D_CFG, batch_size=BATCH)
    epochs = 2
    total = len(train_loader) * epochs
    warm = book_appendix_d.warmup_steps_for(total)
    torch.manual_seed(123)
    model = book_ch04.GPTModel(D_CFG)
    optimizer = torch.optim.AdamW(model.parameters(), lr=D_PEAK, weight_decay=WEIGHT_DECAY)
    lines, evals, steps = [], [], []
    _, _, _, lrs = book_appendix_d.train_model(
        model, train_loader, val_loader, optimizer, epochs, 5, 1, "Every effort moves you", tok,
        warmup_steps=warm, out=lines.append, on_eval=lambda *a: evals.append(a),
        on_step=lambda *a: steps.append(a))
    assert lrs == book_appendix_d.schedule(total, warm, 3e-5, D_PEAK, 1e-6)
    norms = [s[2] for s in steps]
    assert norms[warm] > 1 and norms[warm - 1] > 1, "the clip's first step must show"
    fx.comment("the short run (finetune_d_run.expected): %d batches x %d epochs = %d steps, "
               "warmup %d, initial 3e-5, peak 0.005, min 1e-6" % (len(train_loader), epochs,
                                                                   total, warm))
    fx.doubles("d_run_lr", lrs)
    fx.write()
    run = Fixture("finetune_d_run.txt", "finetune_d_run.txt: written by gen_finetune.py (its "
                  "docstring gives the run); torch " + torch.__version__ + "\n%d steps, warmup %d "
                  "(clipping to 1.0 from that step on)" % (total, warm))
    run.tensor("d_run_step_loss", [s[3] for s in steps])
    run.tensor("d_run_grad_norm", [s[2] for s in steps])
    record_evals(run, "d_run", evals)
    run.write()
    write_expected("finetune_d_run.expected", lines)


# ---- item e: LoRA counts of the book's models ----------------------------------------

def lora_counts():
    for name, emb, layers, heads, head_out, want in (
            ("124m", 768, 12, 12, 2, ["124,441,346", "0", "2,666,528"]),
            ("355m", 1024, 24, 16, 50257, ["406,286,336", "0", "7,898,384"])):
        cfg = {"vocab_size": 50257, "context_length": 1024, "emb_dim": emb, "n_layers": layers,
               "n_heads": heads, "drop_rate": 0.0, "qkv_bias": True}
        with book_appendix_e.shapes_only():
            model = book_ch04.GPTModel(cfg)
            if head_out != cfg["vocab_size"]:
                model.out_head = torch.nn.Linear(emb, head_out)
            lines = count_lines(model, 16, 16)
        assert [l.rsplit(" ", 1)[1] for l in lines] == want, lines
        write_expected("finetune_lora_count_%s.expected" % name, lines)


# ---- item f: U+FFFD ------------------------------------------------------------------

DECODE_BYTES = [
    ("cut2", b"caf\xc3"), ("cut3", b"\xe2\x82"), ("cut4", b"\xf0\x9f\x98"),
    ("cut3_then_ascii", b"\xe2\x82A"), ("cut4_then_valid", b"\xf0\x9f\x98\x80\xf0\x9f"),
    ("lone_continuation", b"a\x80b"), ("two_continuations", b"\x80\xbf"),
    ("c0_c1_starts", b"\xc0\xaf\xc1\xbf"), ("f5_and_ff", b"\xf5\x80\x80\x80\xff"),
    ("overlong3", b"\xe0\x80\x80"), ("e0_low_second", b"\xe0\x9f\xbf"),
    ("surrogate", b"\xed\xa0\x80"), ("above_10ffff", b"\xf4\x90\x80\x80"),
    ("f0_low_second", b"\xf0\x80"), ("e2_then_paren", b"\xe2\x28\xa1"),
    ("valid_c1_and_nbsp", b"I\xc2\x92m\xc2\xa0ok"), ("valid_emoji", b"\xf0\x9f\x98\x80"),
    ("cut_at_start_and_end", b"\x9f\x98\x80 ok \xf0\x9f"),
]
DECODE_GPT2 = ["\u20ac", "\U0001F600", "caf\u00e9", "\u041f\u0440\u0438\u0432\u0435\u0442",
               "\u6771\u4eac"]
RESPONSES = [
    ("plain", "P", b"\n\n### Response:\nThe answer."),
    ("marker_twice", "P", b"### Response: a ### Response:b"),
    ("python_spaces", "Q", b"\x1c\x1f\xc2\x85 x \xc2\xa0\xe3\x80\x80"),
    ("not_spaces", "Q", b"\xe2\x80\x8bx\xef\xbb\xbf"),
    ("cut_char", "R", b" ok \xe2\x82"),
    ("non_ascii_prompt", "caf\u00e9 \u00d7", b"  r\xc3\xa9ponse\t\n"),
]


def decode_fixture():
    fx = Fixture("finetune_decode.txt", "finetune_decode.txt: written by gen_finetune.py: "
                 "Python's bytes.decode('utf-8', errors='replace')\nand the response "
                 "extraction of chapter 7; values are byte values or GPT-2 ids")
    for name, raw in DECODE_BYTES:
        out = raw.decode("utf-8", errors="replace")
        fx.comment("%s: %r -> %r" % (name, raw, out))
        fx.tensor("dec_%s_in" % name, list(raw))
        fx.tensor("dec_%s_out" % name, list(out.encode()))
    bpe = gpt2_bpe.BookTokenizer()
    prefix = bpe.encode("Every effort moves you")
    for k, text in enumerate(DECODE_GPT2):
        ids = bpe.encode(text)
        for cut in range(1, len(ids)):
            for name, tail in (("gpt2_%d_head%d" % (k, cut), ids[:cut]),
                               ("gpt2_%d_from%d" % (k, cut), ids[cut:])):
                part = prefix + tail
                out = bpe.decode(part)
                if "\ufffd" not in out:
                    continue
                fx.comment("%s: %r ids %s -> %r" % (name, text, tail, out))
                fx.tensor("dec_%s_in" % name, part)
                fx.tensor("dec_%s_out" % name, list(out.encode()))
    for name, prompt, new in RESPONSES:
        full = prompt.encode() + new
        out = book_ch07.extract_response(full.decode("utf-8", errors="replace"), prompt)
        fx.comment("%s: %r + %r -> %r" % (name, prompt, new, out))
        fx.tensor("resp_%s_prompt" % name, list(prompt.encode()))
        fx.tensor("resp_%s_new" % name, list(new))
        fx.tensor("resp_%s_out" % name, list(out.encode()))
    fx.write()


def main():
    torch.set_num_threads(1)
    data_fixture()
    decode_fixture()
    lora_counts()
    appendix_d()
    for run, (task, source, lora, lr) in RUNS.items():
        lines = (run_classifier if task == "cls" else run_instruct)(run, source, lora, lr)
        print("%s: %d lines" % (run, len(lines)))


if __name__ == "__main__":
    main()
