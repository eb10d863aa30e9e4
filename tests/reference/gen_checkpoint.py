"""Checkpoints across the two libraries: safetensors files written by
PyTorch for tests/test_checkpoint.c, and the check that files written by
attograd load in PyTorch.

Debian has no python3-safetensors, so this script reads and writes the format
itself (struct, json and torch.frombuffer), the way the safetensors package
does: an 8-byte little-endian header length, a compact JSON header (tensors
sorted by dtype, 8-byte dtypes first, then by name; padded with spaces to a
multiple of 8), then the data.

  /usr/bin/python3 gen_checkpoint.py
      writes checkpoint_<kind>.safetensors (a seeded module's state_dict, as
      safetensors.torch.save_file(m.state_dict(), path, {"format": "pt"})
      writes it) and checkpoint.txt: @<kind>.x, @<kind>.out (the forward
      output) and @<kind>.param.<name> for each state_dict entry.
  /usr/bin/python3 gen_checkpoint.py --check DIR
      DIR is what tests/test_checkpoint.c leaves in <build>/interop:
      <kind>.safetensors saved by nn_module_save, <kind>.io.safetensors with
      the input and attograd's output, and train.safetensors, a training
      checkpoint of train_attention's toy task (model v2), and gpt.safetensors
      with gpt.io.safetensors: a small chapter-4 GPTModel, its config as the
      io file's metadata, a (2, 6) batch of ids and attograd's eval-mode
      logits.  Each module is loaded with load_state_dict(strict=True), run on
      the input, and its output compared with attograd's.
"""
import json
import os
import struct
import sys

import torch

from book_ch03 import (INPUTS, SelfAttention_v1, SelfAttention_v2, CausalAttention,
                       MultiHeadAttentionWrapper, MultiHeadAttention, write_tensor)
from book_ch04 import GPTModel

torch.set_num_threads(1)

# safetensors' dtype names, in its order (the writer sorts on it, reversed).
DTYPES = [('BOOL', torch.bool), ('U8', torch.uint8), ('I8', torch.int8),
          ('I16', torch.int16), ('F16', torch.float16), ('BF16', torch.bfloat16),
          ('I32', torch.int32), ('F32', torch.float32), ('F64', torch.float64),
          ('I64', torch.int64)]
ORDER = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32',
         'F32', 'F64', 'I64', 'U64']
NAME_OF = {t: n for n, t in DTYPES}
TYPE_OF = dict(DTYPES)
TYPE_OF['U32'] = torch.int32       # torch 1.13 has no uint32: same bits
TYPE_OF['U64'] = torch.int64


def save_file(tensors, path, metadata=None):
    items = sorted(tensors.items(), key=lambda kv: (-ORDER.index(NAME_OF[kv[1].dtype]), kv[0]))
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        header['__metadata__'] = metadata
    for name, t in items:
        b = t.detach().contiguous().numpy().tobytes()
        header[name] = {'dtype': NAME_OF[t.dtype], 'shape': list(t.shape),
                        'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(',', ':'), ensure_ascii=False).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


def load_file(path):
    """(tensors, metadata), checking the layout as the reference does."""
    with open(path, 'rb') as f:
        b = f.read()
    n = struct.unpack('<Q', b[:8])[0]
    header = json.loads(b[8:8 + n])
    metadata = header.pop('__metadata__', {})
    data = b[8 + n:]
    tensors, at = {}, 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]['data_offsets']):
        begin, end = info['data_offsets']
        assert begin == at, (name, begin, at)
        dtype = TYPE_OF[info['dtype']]
        t = (torch.frombuffer(bytearray(data[begin:end]), dtype=dtype) if end > begin
             else torch.empty(0, dtype=dtype))
        tensors[name] = t.reshape(info['shape'])
        at = end
    assert at == len(data)
    return tensors, metadata


# kind: (constructor, input)
BATCH = torch.stack((INPUTS, INPUTS), dim=0)
KINDS = {
    'v1': (lambda: SelfAttention_v1(3, 2), INPUTS),
    'v2': (lambda: SelfAttention_v2(3, 2, qkv_bias=True), INPUTS),
    'causal': (lambda: CausalAttention(3, 2, 6, 0.0), BATCH),
    'mhaw': (lambda: MultiHeadAttentionWrapper(3, 2, 6, 0.0, 2), BATCH),
    'mha': (lambda: MultiHeadAttention(3, 4, 6, 0.0, 2), BATCH),
}


def generate(here):
    with open(os.path.join(here, 'checkpoint.txt'), 'w') as f:
        f.write('# modules saved by PyTorch, seed 2024 (gen_checkpoint.py)\n')
        for kind, (make, x) in KINDS.items():
            torch.manual_seed(2024)
            m = make().eval()
            save_file(m.state_dict(), os.path.join(here, 'checkpoint_%s.safetensors' % kind),
                      {'format': 'pt'})
            write_tensor(f, kind + '.x', x)
            with torch.no_grad():
                write_tensor(f, kind + '.out', m(x))
            for name, t in m.state_dict().items():
                write_tensor(f, '%s.param.%s' % (kind, name), t)


def compare(label, m, state, x, expected):
    m.load_state_dict(state, strict=True)
    with torch.no_grad():
        out = m.eval()(x)
    diff = (out - expected).abs().max().item()
    ok = diff <= 1e-6 + 1e-5 * expected.abs().max().item()
    print('%-7s %2d tensors loaded, output %-12s max |torch - attograd| = %.3g  %s'
          % (label, len(state), tuple(out.shape), diff, 'OK' if ok else 'FAIL'))
    return ok


def check(folder):
    ok = True
    for kind, (make, _) in KINDS.items():
        state, meta = load_file(os.path.join(folder, kind + '.safetensors'))
        assert meta == {'format': 'pt'}, meta
        io, _ = load_file(os.path.join(folder, kind + '.io.safetensors'))
        ok &= compare(kind, make(), state, io['input'], io['output'])
    state, meta = load_file(os.path.join(folder, 'train.safetensors'))
    print('train   metadata', json.dumps(meta, sort_keys=True))
    model = {k: v for k, v in state.items()
             if not k.startswith(('optimizer.', 'generator.')) and k != 'step'}
    io, _ = load_file(os.path.join(folder, 'train.io.safetensors'))
    ok &= compare('train', SelfAttention_v2(3, 2), model, io['input'], io['output'])
    state, meta = load_file(os.path.join(folder, 'gpt.safetensors'))
    assert meta == {'format': 'pt'}, meta
    io, cfg = load_file(os.path.join(folder, 'gpt.io.safetensors'))
    print('gpt     config', json.dumps(cfg, sort_keys=True))
    cfg = {k: (float(v) if k == 'drop_rate' else v == 'true' if k == 'qkv_bias' else int(v))
           for k, v in cfg.items()}
    ids = io['input'].long()
    assert torch.equal(ids.float(), io['input'])   # whole ids
    ok &= compare('gpt', GPTModel(cfg), state, ids, io['output'])
    print('all outputs agree' if ok else 'MISMATCH')
    return ok


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == '--check':
        sys.exit(0 if check(sys.argv[2]) else 1)
    generate(os.path.dirname(os.path.abspath(__file__)))
