#!/usr/bin/python3
"""Writes golden.json: the reference SentencePiece's ids and decoded texts for the tokenizer tests.

Run with Debian's Python (python3-sentencepiece), from the repository root:
    /usr/bin/python3 src/test/resources/tokenizer/gen_golden.py ../shared/models src/test/resources/tokenizer/golden.json
TokenizerOracleTests runs it again live (when /usr/bin/python3 has sentencepiece) and compares.
"""
import json
import os
import random
import struct
import sys
import tempfile

import sentencepiece as spm

MODELS = ["llama-tokenizer", "stories260K"]

TEXTS = [
    "",
    " ",
    "  ",
    "a",
    "Hello world",
    "Hello, world!",
    "Once upon a time, there was a little girl named Lily.",
    "The quick brown fox jumps over the lazy dog.",
    " leading space",
    "   three leading spaces",
    "trailing space ",
    "trailing spaces   ",
    "multiple   internal    spaces",
    "line one\nline two\n",
    "\n",
    "\n\n\nnewlines first",
    "tab\tseparated\tvalues",
    "\t indented with tab and space",
    "mixed \r\n windows line ending",
    "1234567890",
    "3.14159 + 2.71828 = 5.85987",
    "Call 555-0199 before 10:30pm on 2024-01-31.",
    "def add(a, b):\n    return a + b\n",
    "for (int i = 0; i < n; i++) { sum += x[i]; }",
    "<html><body class=\"main\">&amp;</body></html>",
    "SELECT * FROM users WHERE id = 42;",
    "你好，世界！今天天气很好。",
    "我爱自然语言处理",
    "こんにちは、世界。カタカナとひらがな。",
    "東京都渋谷区",
    "안녕하세요 세계",
    "Привет, мир! Как дела?",
    "Γειά σου Κόσμε",
    "مرحبا بالعالم",
    "नमस्ते दुनिया",
    "emoji 😀 and 🚀 and 🎉",
    "family 👨‍👩‍👧‍👦 flag 🇯🇵 thumbs 👍🏽",
    "naïve café résumé",
    "combining e\u0301 vs precomposed \u00e9",
    "rare chars: 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ᚠᛇᚻ ⅷ ∮ ⌘ ☃",
    "private use \ue000 and \U0010fffd",
    "control chars \x01\x07\x1b[0m",
    "zero\u200bwidth\u200dspace",
    "literal <s> and </s> and <unk> in text",
    "already\u2581escaped\u2581spaces",
    "### Human: Hello, who are you? ### Assistant:",
    "A chat between a curious user and an artificial intelligence assistant. "
    "The assistant gives helpful, detailed, and polite answers to the user's questions. USER: Hi ASSISTANT:",
    "[INST] <<SYS>>\nYou are a helpful assistant.\n<</SYS>>\n\nWhat is 2+2? [/INST]",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "!!!???...,,,;;;:::",
    "ALL CAPS SENTENCE WITH NUMBERS 123 AND SYMBOLS #@$%",
    "Tom and Lily played in the park. They saw a big dog and a small cat.",
]

# Characters for random strings: common letters and spaces, plus rarer scripts that need byte fallback.
ALPHABET = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789      .,!?'\"-\n\t") + \
    list("éüßøñ中文日本語한국어Ωπλд🙂🚀\u2581") + ["\U0001f468\u200d\U0001f469"]


# Tiny hand-made models for what the LLaMA files lack: user-defined and unused pieces, equal scores,
# remove_extra_whitespaces, no dummy prefix, no byte fallback. Types: NORMAL 1, UNKNOWN 2, CONTROL 3,
# USER_DEFINED 4, UNUSED 5, BYTE 6. The Java test builds the same ModelProto from this spec.
def synthetic_pieces(byte_pieces):
    pieces = [["<unk>", 0.0, 2], ["<s>", 0.0, 3], ["</s>", 0.0, 3]]
    if byte_pieces:
        pieces += [["<0x%02X>" % b, 0.0, 6] for b in range(256)]
    pieces += [
        ["\u2581", -1.0, 1], ["a", -2.0, 1], ["b", -2.0, 1], ["c", -2.0, 1], ["d", -2.0, 1], ["x", -3.0, 1],
        ["\u2581a", 1.0, 1], ["ab", 2.0, 1], ["bc", 2.0, 1], ["abc", 0.5, 1], ["\u2581ab", 0.25, 1],
        ["\u2581\u2581", -0.5, 1], ["cd", 10.0, 5], ["cda", 3.0, 1], ["dcd", 0.0, 5], ["<tool>", 0.0, 4],
        ["a\u2581b", 4.0, 1], ["\u2581x", 0.0, 1],
    ]
    return pieces


SYNTHETIC = [
    {"name": "synthetic-trim", "add_dummy_prefix": True, "remove_extra_whitespaces": True, "byte_fallback": True,
     "pieces": synthetic_pieces(True)},
    {"name": "synthetic-plain", "add_dummy_prefix": False, "remove_extra_whitespaces": False, "byte_fallback": False,
     "pieces": synthetic_pieces(False)},
]

SYNTHETIC_TEXTS = ["", " ", "   ", "a", "ab", "abc", "bc", " abc ", "  a  b  ", "a b", "a  b", "cd", "cda", "cdcd",
                   "dcd", "dcda", "a<tool>b", "<tool>", " <tool> ", "<tool><tool>", "zzz", "a z b", "中a", "a\tb",
                   "dcba", "abcdabcd  x", "x x  x", "\u2581a", "ab\u2581b"]


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def model_proto(spec):
    fv = lambda f, v: varint(f << 3) + varint(int(v))
    fb = lambda f, b: varint(f << 3 | 2) + varint(len(b)) + b
    ff = lambda f, x: varint(f << 3 | 5) + struct.pack("<f", x)
    out = b"".join(fb(1, fb(1, p.encode()) + ff(2, score) + fv(3, t)) for p, score, t in spec["pieces"])
    out += fb(2, fv(3, 2) + fv(35, spec["byte_fallback"]))
    out += fb(3, fb(1, b"identity") + fv(3, spec["add_dummy_prefix"]) + fv(4, spec["remove_extra_whitespaces"]) + fv(5, 1))
    return out


def synthetic_cases(spec, rng):
    with tempfile.NamedTemporaryFile(suffix=".model", delete=False) as f:
        f.write(model_proto(spec))
    try:
        sp = spm.SentencePieceProcessor(model_file=f.name)
    finally:
        os.unlink(f.name)
    encode = [{"text": t, "ids": sp.encode(t), "decoded": sp.decode(sp.encode(t)),
               "ids_bos_eos": sp.encode(t, add_bos=True, add_eos=True)} for t in SYNTHETIC_TEXTS]
    decode = [{"ids": s, "text": sp.decode(s)} for s in random_id_sequences(rng, sp, 40)]
    meta = {"vocab_size": sp.get_piece_size(), "bos": sp.bos_id(), "eos": sp.eos_id(), "unk": sp.unk_id()}
    spec = {k: v for k, v in spec.items() if k != "name"}
    return {"meta": meta, "spec": spec, "encode": encode, "decode": decode}


def random_texts(rng, count):
    out = []
    for _ in range(count):
        n = rng.randint(1, 60)
        out.append("".join(rng.choice(ALPHABET) for _ in range(n)))
    return out


def random_id_sequences(rng, sp, count):
    size = sp.get_piece_size()
    byte_ids = [i for i in range(size) if sp.is_byte(i)]
    out = []
    for _ in range(count):
        seq = []
        for _ in range(rng.randint(1, 24)):
            r = rng.random()
            if r < 0.1:
                seq.append(rng.choice([sp.bos_id(), sp.eos_id(), sp.unk_id()]))
            elif r < 0.5 and byte_ids:
                seq.append(rng.choice(byte_ids))
            else:
                seq.append(rng.randrange(size))
        out.append(seq)
    # Hand-made: UTF-8 split over byte pieces, broken sequences, leading-space rules.
    pid = sp.piece_to_id
    b = lambda *xs: [pid("<0x%02X>" % x) for x in xs]
    out += [
        b(0xE4, 0xBD, 0xA0),
        b(0xF0, 0x9F, 0x98, 0x80),
        b(0xE4, 0xBD) + [pid("\u2581a")],
        b(0xF0, 0x9F) + b(0x41),
        b(0xED, 0xA0, 0x80),
        b(0xC0, 0x80),
        b(0xEF, 0xBF, 0xBD),
        b(0x80, 0xBF, 0xFF),
        [sp.bos_id(), pid("\u2581"), pid("\u2581a")],
        [pid("\u2581"), pid("\u2581a")],
        [sp.bos_id()] + b(0x0A) + [pid("\u2581a")],
        [pid("\u2581a"), sp.eos_id(), pid("\u2581a")],
        [sp.unk_id(), pid("\u2581a")],
        [sp.eos_id(), sp.bos_id(), pid("\u2581a"), pid("\u2581a")],
        [],
    ]
    return out


def model_cases(path, rng):
    sp = spm.SentencePieceProcessor(model_file=path)
    long_text = " ".join(TEXTS[4:]) * 3
    texts = TEXTS + random_texts(rng, 60) + [long_text]
    encode = []
    for t in texts:
        ids = sp.encode(t)
        encode.append({
            "text": t,
            "ids": ids,
            "decoded": sp.decode(ids),
            "ids_bos_eos": sp.encode(t, add_bos=True, add_eos=True),
        })
    decode = [{"ids": s, "text": sp.decode(s)} for s in random_id_sequences(rng, sp, 80)]
    meta = {"vocab_size": sp.get_piece_size(), "bos": sp.bos_id(), "eos": sp.eos_id(), "unk": sp.unk_id()}
    return {"meta": meta, "encode": encode, "decode": decode}


def main():
    root, out = sys.argv[1], sys.argv[2]
    golden = {"sentencepiece": spm.__version__, "models": {}}
    for name in MODELS:
        rng = random.Random(20240611)
        golden["models"][name] = model_cases(f"{root}/{name}/tokenizer.model", rng)
    for spec in SYNTHETIC:
        golden["models"][spec["name"]] = synthetic_cases(spec, random.Random(20240611))
    # One case per line keeps the file diffable without indenting every id.
    dump = lambda v: json.dumps(v, ensure_ascii=True, separators=(",", ":"))
    with open(out, "w", encoding="ascii") as f:
        f.write('{"sentencepiece":%s,"models":{\n' % dump(golden["sentencepiece"]))
        for mi, (name, cases) in enumerate(golden["models"].items()):
            f.write('%s:{"meta":%s,\n' % (dump(name), dump(cases["meta"])))
            if "spec" in cases:
                f.write('"spec":%s,\n' % dump(cases["spec"]))
            for key in ("encode", "decode"):
                f.write('%s:[\n' % dump(key))
                f.write(",\n".join(dump(c) for c in cases[key]))
                f.write("\n]%s\n" % ("," if key == "encode" else ""))
            f.write("}%s\n" % ("," if mi + 1 < len(golden["models"]) else ""))
        f.write("}}\n")


if __name__ == "__main__":
    main()
