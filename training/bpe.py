"""Byte-level BPE (GPT-2 style) learned from a corpus, saved as a Hugging Face tokenizer.json.

Pre-tokenisation is GPT-2's regex, so @huggingface/tokenizers' ByteLevel pre-tokenizer splits text
the same way at run time (callers may pass another split pattern, e.g. Qwen2's). Merges are learnt
with incremental pair counts (only the words that contain the merged pair are revisited).
"""
import collections
import json

import regex

GPT2_SPLIT = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
END_OF_TEXT = "<|endoftext|>"


def bytes_to_unicode():
    """GPT-2's reversible map from bytes to printable unicode characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


BYTE_TO_CHAR = bytes_to_unicode()


def pretokens(text, split=GPT2_SPLIT):
    for m in split.finditer(text):
        yield "".join(BYTE_TO_CHAR[b] for b in m.group(0).encode("utf-8"))


def train_bpe(texts, vocab_size, split=GPT2_SPLIT):
    counts = collections.Counter()
    for t in texts:
        counts.update(pretokens(t, split))
    words = [list(w) for w in counts]
    freqs = list(counts.values())
    vocab = {END_OF_TEXT: 0}
    for b in range(256):
        vocab[BYTE_TO_CHAR[b]] = len(vocab)
    pair_counts = collections.Counter()
    where = collections.defaultdict(set)
    for i, w in enumerate(words):
        for a, b in zip(w, w[1:]):
            pair_counts[(a, b)] += freqs[i]
            where[(a, b)].add(i)
    merges = []
    while len(vocab) < vocab_size and pair_counts:
        (a, b), c = max(pair_counts.items(), key=lambda kv: (kv[1], kv[0]))
        if c < 2:
            break
        merged = a + b
        merges.append(f"{a} {b}")
        vocab[merged] = len(vocab)
        for i in list(where[(a, b)]):
            w = words[i]
            f = freqs[i]
            for x, y in zip(w, w[1:]):
                pair_counts[(x, y)] -= f
                where[(x, y)].discard(i)
            out = []
            j = 0
            while j < len(w):
                if j + 1 < len(w) and w[j] == a and w[j + 1] == b:
                    out.append(merged)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            words[i] = out
            for x, y in zip(out, out[1:]):
                pair_counts[(x, y)] += f
                where[(x, y)].add(i)
        for p in [p for p, v in pair_counts.items() if v <= 0]:
            del pair_counts[p]
    return vocab, merges


def tokenizer_json(vocab, merges):
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": 0, "content": END_OF_TEXT, "single_word": False, "lstrip": False, "rstrip": False, "normalized": True, "special": True}
        ],
        "normalizer": None,
        "pre_tokenizer": byte_level,
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
            "vocab": vocab,
            "merges": merges,
        },
    }


class Encoder:
    """Applies the learnt merges (by rank), with a cache per pre-token."""

    def __init__(self, vocab, merges, split=GPT2_SPLIT):
        self.vocab = vocab
        self.ranks = {tuple(m.split(" ")): i for i, m in enumerate(merges)}
        self.split = split
        self.cache = {}

    def encode_word(self, w):
        if w in self.cache:
            return self.cache[w]
        parts = list(w)
        while len(parts) > 1:
            best = min(((self.ranks.get((x, y), 1 << 30), k) for k, (x, y) in enumerate(zip(parts, parts[1:]))))
            if best[0] == 1 << 30:
                break
            k = best[1]
            parts[k : k + 2] = [parts[k] + parts[k + 1]]
        ids = [self.vocab[p] for p in parts]
        self.cache[w] = ids
        return ids

    def encode(self, text):
        out = []
        for w in pretokens(text, self.split):
            out.extend(self.encode_word(w))
        return out
