"""Trains a SentencePiece BPE model with byte fallback (as Llama 2, Mistral and Gemma are) and writes
its vocabulary and merges as a Hugging Face tokenizer.json "model" section, with SentencePiece's own
ids for reference texts: an independent reference for the product's tokenizer.

Needs Debian's python3-sentencepiece (apt-get install -y python3-sentencepiece); run it with
/usr/bin/python3, which sees Debian's packages:

  /usr/bin/python3 scripts/sentencepiece_tokenizer.py --vocab-size 8000 --out /tmp/sp8k \
      --reference ../shared/corpus/en/valid/poirot_investigates.txt ../shared/corpus/en/train/*.txt

Writes OUT/model.json ({"model": BPE section, "added_tokens": [...]}) and OUT/reference.json:
{"texts": [{"file" or "text", "ids_prefix", "ids_no_prefix"}]} for each reference: a text file
(--reference) or each string of a JSON list (--reference-json).
"ids_prefix" are the ids with SentencePiece's dummy prefix (the "▁" Llama and Mistral put before a
text), "ids_no_prefix" without it (Gemma's layout). Long texts get a count and a hash of their ids
instead of the ids themselves (see id_digest).
"""
import argparse
import hashlib
import json
import os
import tempfile

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as model_pb2

SPECIALS = ["<unk>", "<s>", "</s>"]
# Texts up to this many characters keep their ids in full; longer ones get a digest.
FULL_IDS_MAX_CHARS = 4096


def train(inputs, vocab_size, prefix):
    spm.SentencePieceTrainer.train(
        input=",".join(inputs),
        model_prefix=prefix,
        vocab_size=vocab_size,
        model_type="bpe",
        byte_fallback=True,
        character_coverage=1.0,
        # Llama's settings: text as written (no NFKC), runs of spaces kept, digits one by one.
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        split_digits=True,
        allow_whitespace_only_pieces=True,
        add_dummy_prefix=True,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        max_sentence_length=1 << 16,
        num_threads=1,
        minloglevel=2,
    )


def hf_model_section(proto):
    """Vocabulary and merges as Hugging Face's converter derives them: every split of a piece into two
    pieces of the vocabulary is a merge, ranked by the merged piece's score (highest first), splits
    of one piece by the ids of their halves."""
    pieces = [(p.piece, p.score) for p in proto.pieces]
    vocab = {piece: i for i, (piece, _) in enumerate(pieces)}
    ranked = []
    for piece, score in pieces:
        splits = [(piece[:k], piece[k:]) for k in range(1, len(piece)) if piece[:k] in vocab and piece[k:] in vocab]
        splits.sort(key=lambda lr: (vocab[lr[0]], vocab[lr[1]]))
        ranked.extend((score, left, right) for left, right in splits)
    ranked.sort(key=lambda m: -m[0])  # stable: equal scores keep the order above
    return {
        "type": "BPE",
        "dropout": None,
        "unk_token": "<unk>",
        "continuing_subword_prefix": None,
        "end_of_word_suffix": None,
        "fuse_unk": True,
        "byte_fallback": True,
        "ignore_merges": False,
        "vocab": vocab,
        "merges": [[left, right] for _, left, right in ranked],
    }


def without_prefix(proto_bytes):
    proto = model_pb2.ModelProto()
    proto.ParseFromString(proto_bytes)
    proto.normalizer_spec.add_dummy_prefix = False
    return spm.SentencePieceProcessor(model_proto=proto.SerializeToString())


def id_digest(ids):
    """SHA-256 of the ids as decimal numbers joined by commas (what the unit test recomputes)."""
    return hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vocab-size", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--reference", action="append", default=[], help="a UTF-8 text file to encode for reference")
    ap.add_argument("--reference-json", help="a JSON list of strings to encode for reference")
    ap.add_argument("inputs", nargs="+", help="training text files")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, "sp")
        train(args.inputs, args.vocab_size, prefix)
        with open(prefix + ".model", "rb") as f:
            proto_bytes = f.read()
    proto = model_pb2.ModelProto()
    proto.ParseFromString(proto_bytes)
    with_prefix = spm.SentencePieceProcessor(model_proto=proto_bytes)
    no_prefix = without_prefix(proto_bytes)
    added = [
        {"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
        for i, s in enumerate(SPECIALS)
    ]
    with open(os.path.join(args.out, "model.json"), "w", encoding="utf-8") as f:
        json.dump({"added_tokens": added, "model": hf_model_section(proto)}, f, ensure_ascii=False, separators=(",", ":"))
    references = []
    if args.reference_json:
        with open(args.reference_json, encoding="utf-8") as f:
            references.extend({"text": text} for text in json.load(f))
    for path in args.reference:
        with open(path, encoding="utf-8", newline="") as f:
            references.append({"file": os.path.basename(path), "text": f.read()})
    texts = []
    for ref in references:
        text = ref["text"]
        short = len(text) <= FULL_IDS_MAX_CHARS
        entry = {"text": text} if short else {"file": ref.get("file", "")}
        for key, sp in (("ids_prefix", with_prefix), ("ids_no_prefix", no_prefix)):
            ids = sp.encode(text)
            entry[key] = ids if short else {"count": len(ids), "sha256": id_digest(ids)}
        texts.append(entry)
    # One text per line: readable in a diff, small on disk.
    head = json.dumps({"sentencepiece": spm.__version__, "vocab_size": args.vocab_size}, ensure_ascii=False)[:-1]
    lines = ",\n".join(json.dumps(t, ensure_ascii=False) for t in texts)
    with open(os.path.join(args.out, "reference.json"), "w", encoding="utf-8") as f:
        f.write(f'{head}, "texts": [\n{lines}\n]}}\n')


if __name__ == "__main__":
    main()
