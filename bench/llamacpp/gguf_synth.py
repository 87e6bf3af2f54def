#!/usr/bin/env python3
"""Writes a LLaMA-shaped GGUF file with random Q4_0 weights, the llama.cpp counterpart of
`./paddock synth --shape llama-7b` (same shape, same 32000-token vocabulary size, meaningless output), so that
llama.cpp and paddock can be benchmarked side by side on this machine. Needs numpy.

    python3 bench/llamacpp/gguf_synth.py --layers 32 --out /work/synth/7b-q4_0.gguf

Format: GGUF v3 (ggml's docs/gguf.md). Tensors as llama.cpp's `llama-quantize ... Q4_0` lays them out: every 2-D
weight Q4_0 (blocks of 32: fp16 scale + 16 bytes of nibbles) except `output.weight`, which quantize keeps at Q6_K
(blocks of 256: 128 + 64 + 16 bytes + fp16 scale); norms f32."""
import argparse, struct, numpy as np

GGUF_U32, GGUF_I32, GGUF_F32, GGUF_STR, GGUF_ARR = 4, 5, 6, 8, 9
Q4_0, Q6_K, F32 = 2, 14, 0

def s(x):
    b = x.encode(); return struct.pack('<Q', len(b)) + b

def kv(key, typ, val):
    out = s(key) + struct.pack('<I', typ)
    if typ == GGUF_STR: return out + s(val)
    if typ == GGUF_U32: return out + struct.pack('<I', val)
    if typ == GGUF_F32: return out + struct.pack('<f', val)
    raise ValueError(typ)

def arr(key, elem, vals):
    out = s(key) + struct.pack('<IIQ', GGUF_ARR, elem, len(vals))
    if elem == GGUF_STR: return out + b''.join(s(v) for v in vals)
    if elem == GGUF_F32: return out + np.asarray(vals, '<f4').tobytes()
    if elem == GGUF_I32: return out + np.asarray(vals, '<i4').tobytes()
    raise ValueError(elem)

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--layers', type=int, default=32)
    p.add_argument('--hidden', type=int, default=4096)
    p.add_argument('--ffn', type=int, default=11008)
    p.add_argument('--heads', type=int, default=32)
    p.add_argument('--vocab', type=int, default=32000)
    p.add_argument('--ctx', type=int, default=2048)
    p.add_argument('--out', required=True)
    a = p.parse_args()
    h, f, v = a.hidden, a.ffn, a.vocab
    tensors = [('token_embd.weight', (h, v), Q4_0)]
    for i in range(a.layers):
        b = f'blk.{i}.'
        tensors += [(b + 'attn_norm.weight', (h,), F32), (b + 'attn_q.weight', (h, h), Q4_0),
                    (b + 'attn_k.weight', (h, h), Q4_0), (b + 'attn_v.weight', (h, h), Q4_0),
                    (b + 'attn_output.weight', (h, h), Q4_0), (b + 'ffn_norm.weight', (h,), F32),
                    (b + 'ffn_gate.weight', (h, f), Q4_0), (b + 'ffn_up.weight', (h, f), Q4_0),
                    (b + 'ffn_down.weight', (f, h), Q4_0)]
    tensors += [('output_norm.weight', (h,), F32), ('output.weight', (h, v), Q6_K)]

    def nbytes(shape, t):
        n = int(np.prod(shape))
        return {F32: n * 4, Q4_0: n // 32 * 18, Q6_K: n // 256 * 210}[t]

    # Vocabulary: <unk> <s> </s>, the 256 byte pieces, then placeholder pieces (the benchmark feeds token ids).
    tokens = ['<unk>', '<s>', '</s>'] + [f'<0x{i:02X}>' for i in range(256)]
    tokens += [f'\u2581t{i}' for i in range(v - len(tokens))]
    types = [2, 3, 3] + [6] * 256 + [1] * (v - 259)
    meta = [kv('general.architecture', GGUF_STR, 'llama'), kv('general.name', GGUF_STR, 'synthetic-llama-q4_0'),
            kv('general.file_type', GGUF_U32, 2), kv('llama.context_length', GGUF_U32, a.ctx),
            kv('llama.embedding_length', GGUF_U32, h), kv('llama.block_count', GGUF_U32, a.layers),
            kv('llama.feed_forward_length', GGUF_U32, f), kv('llama.rope.dimension_count', GGUF_U32, h // a.heads),
            kv('llama.attention.head_count', GGUF_U32, a.heads), kv('llama.attention.head_count_kv', GGUF_U32, a.heads),
            kv('llama.attention.layer_norm_rms_epsilon', GGUF_F32, 1e-6), kv('tokenizer.ggml.model', GGUF_STR, 'llama'),
            arr('tokenizer.ggml.tokens', GGUF_STR, tokens), arr('tokenizer.ggml.scores', GGUF_F32, [0.0] * v),
            arr('tokenizer.ggml.token_type', GGUF_I32, types), kv('tokenizer.ggml.bos_token_id', GGUF_U32, 1),
            kv('tokenizer.ggml.eos_token_id', GGUF_U32, 2), kv('tokenizer.ggml.unknown_token_id', GGUF_U32, 0)]
    infos, off = [], 0
    for name, shape, t in tensors:
        infos.append(s(name) + struct.pack('<I', len(shape)) + b''.join(struct.pack('<Q', d) for d in shape)
                     + struct.pack('<IQ', t, off))
        off += (nbytes(shape, t) + 31) // 32 * 32
    rng = np.random.default_rng(1)
    pool = rng.integers(0, 256, size=64 << 20, dtype=np.uint8)
    scale = np.float16(0.01).tobytes()
    with open(a.out, 'wb') as out:
        head = b'GGUF' + struct.pack('<IQQ', 3, len(tensors), len(meta)) + b''.join(meta) + b''.join(infos)
        out.write(head + b'\0' * ((-len(head)) % 32))
        for name, shape, t in tensors:
            n = nbytes(shape, t)
            if t == F32:
                data = np.ones(int(np.prod(shape)), '<f4').tobytes()
            else:
                bs = 18 if t == Q4_0 else 210
                blocks = np.resize(pool, n).reshape(-1, bs)
                sc = np.frombuffer(scale, np.uint8)
                if t == Q4_0: blocks[:, 0:2] = sc
                else: blocks[:, 192:208] = rng.integers(-32, 32, size=16, dtype=np.int8).view(np.uint8); blocks[:, 208:210] = sc
                data = blocks.tobytes()
            out.write(data + b'\0' * ((-n) % 32))
    print(f'wrote {a.out}: {a.layers} layers, {len(tensors)} tensors')

if __name__ == '__main__':
    main()
