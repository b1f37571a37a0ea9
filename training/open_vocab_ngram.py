"""The n-gram model's bits per character with its out-of-vocabulary words paid for.

A closed-vocabulary n-gram model scores an unknown word as `<unk>` and never pays for its letters,
so its bits per character flatter it against a byte-level model, which pays for every character.
An open-vocabulary model spells an unknown word out: p(word) = p(<unk> | history) * p(letters).
This script takes `lmp score --details --json` of an n-gram model and charges every OOV word for
its spelling under a character trigram model of the train split's words (Witten-Bell smoothed,
with an end-of-word symbol), and prints both figures.

    node dist/cli.js score --model ngram-classics --details --json VALID.txt > scores.json
    /usr/bin/python3 training/open_vocab_ngram.py scores.json ../shared/corpus/en/train
"""
import collections
import json
import math
import os
import re
import sys

BEGIN, END = "\x02", "\x03"


class CharTrigram:
    """Witten-Bell interpolated character trigram over words, from <BEGIN><BEGIN> to <END>."""

    def __init__(self, words):
        self.counts = [collections.defaultdict(collections.Counter) for _ in range(3)]
        alphabet = set()
        for w in words:
            s = BEGIN + BEGIN + w + END
            alphabet.update(w)
            for i in range(2, len(s)):
                for n in range(3):
                    self.counts[n][s[i - n:i]][s[i]] += 1
        self.size = len(alphabet) + 2  # unseen characters share the uniform floor

    def prob(self, history, ch):
        p = 1.0 / self.size
        for n in range(3):
            c = self.counts[n].get(history[len(history) - n:] if n else "")
            if not c:
                continue
            total, types = sum(c.values()), len(c)
            p = (c[ch] + types * p) / (total + types)
        return p

    def bits(self, word):
        s = BEGIN + BEGIN + word + END
        return -sum(math.log2(self.prob(s[i - 2:i], s[i])) for i in range(2, len(s)))


def main():
    scores_path, train_dir = sys.argv[1], sys.argv[2]
    words = []
    for name in sorted(os.listdir(train_dir)):
        if name.endswith(".txt"):
            with open(os.path.join(train_dir, name), encoding="utf-8") as f:
                words.extend(re.findall(r"\S+", f.read()))
    spell = CharTrigram(words)
    with open(scores_path, encoding="utf-8") as f:
        r = json.load(f)
    oov = [t["text"].strip() for t in r["token_scores"] if t.get("oov")]
    spelling_bits = sum(spell.bits(w) for w in oov)
    oov_chars = sum(len(w) for w in oov)
    closed = -r["logprob_nats"] / math.log(2)
    print(f"{r['model']}: {len(oov)} OOV tokens ({oov_chars} characters) of {r['tokens']}")
    print(f"closed vocabulary: {closed / r['chars']:.3f} bits per character")
    print(f"spelling the OOV words: {spelling_bits / max(1, oov_chars):.2f} bits per OOV character")
    print(f"open vocabulary: {(closed + spelling_bits) / r['chars']:.3f} bits per character")


if __name__ == "__main__":
    main()
