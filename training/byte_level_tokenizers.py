"""Byte-level BPE tokenizers in the layouts of Qwen2 and of SmolLM2, learnt with bpe.py.

Qwen2's tokenizer.json: NFC normalizer, pre-tokenizer Sequence[Split(Qwen2's regex, Isolated),
ByteLevel without its own regex], byte-level decoder; the 256 byte symbols come first (GPT-2's byte
order), then the merges, then the added tokens <|endoftext|>, <|im_start|>, <|im_end|>. Merges are
written as [left, right] pairs, as tokenizers 0.20 and later save them.

The SmolLM2-shaped tokenizer (for the benchmark model) has GPT-2's pre-tokenization, added tokens
at ids 0-2 and a vocabulary padded to the model's size with synthetic merges: real merges learnt from
the corpus first, then pairs of existing tokens drawn by a seeded generator.
"""
import random
import unicodedata

import regex

import bpe

QWEN2_PATTERN = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
QWEN2_SPLIT = regex.compile(QWEN2_PATTERN)
QWEN2_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
SMOLLM_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
BYTE_ORDER = list(bpe.BYTE_TO_CHAR.values())
CHAR_TO_BYTE = {c: b for b, c in bpe.BYTE_TO_CHAR.items()}


def added_token(id_, content):
    return {"id": id_, "content": content, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}


def learn_merges(texts, merges, split):
    """The first `merges` merges bpe.py learns, in order, as (left, right) pairs."""
    vocab, learnt = bpe.train_bpe(texts, 1 + 256 + merges, split)
    return [tuple(m.split(" ")) for m in learnt]


class Qwen2Tokenizer:
    """The reference encoder/decoder, and the tokenizer.json it matches."""

    def __init__(self, merges):
        self.vocab = {c: i for i, c in enumerate(BYTE_ORDER)}
        for a, b in merges:
            self.vocab[a + b] = len(self.vocab)
        self.merges = merges
        self.specials = {t: len(self.vocab) + k for k, t in enumerate(QWEN2_SPECIALS)}
        self.encoder = bpe.Encoder(self.vocab, [f"{a} {b}" for a, b in merges], QWEN2_SPLIT)
        self.id_to_token = {i: t for t, i in {**self.vocab, **self.specials}.items()}

    def __len__(self):
        return len(self.vocab) + len(self.specials)

    def encode(self, text):
        return self.encoder.encode(unicodedata.normalize("NFC", text))

    def decode(self, ids):
        out = bytearray()
        for i in ids:
            t = self.id_to_token[i]
            out += t.encode("utf-8") if t in self.specials else bytes(CHAR_TO_BYTE[c] for c in t)
        return out.decode("utf-8", errors="replace")

    def tokenizer_json(self):
        byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [added_token(i, t) for t, i in self.specials.items()],
            "normalizer": {"type": "NFC"},
            "pre_tokenizer": {
                "type": "Sequence",
                "pretokenizers": [
                    {"type": "Split", "pattern": {"Regex": QWEN2_PATTERN}, "behavior": "Isolated", "invert": False},
                    byte_level,
                ],
            },
            "post_processor": byte_level,
            "decoder": byte_level,
            "model": {
                "type": "BPE",
                "dropout": None,
                "unk_token": None,
                "continuing_subword_prefix": "",
                "end_of_word_suffix": "",
                "fuse_unk": False,
                "byte_fallback": False,
                "ignore_merges": False,
                "vocab": self.vocab,
                "merges": [[a, b] for a, b in self.merges],
            },
        }

    def tokenizer_config(self, max_length):
        return {
            "add_bos_token": False,
            "add_prefix_space": False,
            "added_tokens_decoder": {str(i): {k: v for k, v in added_token(i, t).items() if k != "id"} for t, i in self.specials.items()},
            "bos_token": None,
            "clean_up_tokenization_spaces": False,
            "eos_token": "<|im_end|>",
            "errors": "replace",
            "model_max_length": max_length,
            "pad_token": "<|endoftext|>",
            "split_special_tokens": False,
            "tokenizer_class": "Qwen2Tokenizer",
            "unk_token": None,
        }


def smollm_tokenizer_json(texts, vocab_size, real_merges, seed=0):
    """A GPT-2-style byte-level tokenizer.json with exactly vocab_size entries (added tokens included)."""
    vocab = {t: i for i, t in enumerate(SMOLLM_SPECIALS)}
    for c in BYTE_ORDER:
        vocab[c] = len(vocab)
    merges = []
    for a, b in learn_merges(texts, real_merges, bpe.GPT2_SPLIT):
        vocab[a + b] = len(vocab)
        merges.append(f"{a} {b}")
    rng = random.Random(seed)
    pool = [t for t in vocab if t not in SMOLLM_SPECIALS]
    while len(vocab) < vocab_size:
        a, b = rng.choice(pool), rng.choice(pool)
        if a + b in vocab or len(a + b) > 12:
            continue
        vocab[a + b] = len(vocab)
        merges.append(f"{a} {b}")
        pool.append(a + b)
    tok = bpe.tokenizer_json(vocab, merges)
    tok["added_tokens"] = [added_token(i, t) for i, t in enumerate(SMOLLM_SPECIALS)]
    return tok
