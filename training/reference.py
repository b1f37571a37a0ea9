"""Reference files for the unit tests, computed outside the TypeScript code they check.

In the model folder's reference/ (left out of the package):
- tokens.json: a passage of the valid split (and a line of non-ASCII text) with its token
  ids under bpe.py's own encoder (Python and the `regex` module's GPT-2 split), to compare with the
  Hugging Face tokenizer the extension runs.
- logits.json and logprobs.f32: PyTorch's log-softmax over the whole vocabulary
  at several positions of the passage's first tokens (after <|endoftext|>, one full context window),
  as float32 little-endian rows, one per position.

export_onnx.py writes them from the trained model; reference_from_onnx.py from the weights of a
committed graph (the checkpoint stays outside the repository).
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

import bpe

HERE = os.path.dirname(os.path.abspath(__file__))
VALID = os.path.join(HERE, "..", "..", "shared", "corpus", "en", "valid", "poirot_investigates.txt")
# Characters of the valid text in the token reference, from the first paragraph after PASSAGE_FROM.
PASSAGE_FROM = 20000
PASSAGE_CHARS = 4000
# Text the corpus lacks: accents, CJK, an emoji, digits, ASCII contractions, runs of spaces, a tab, CRLF.
EXTRA = "\nNaïve café — “quoted” 東京 😀! It's 1,234.5, we'll see.\n  two  spaces\tand a tab\r\nend"
# Positions (indices into the window's ids) whose next-token distribution is kept, in quarters.
QUARTERS = 4


def passage(valid_path=VALID):
    text = open(valid_path, encoding="utf-8").read()
    start = text.index("\n\n", PASSAGE_FROM) + 2
    return text[start : start + PASSAGE_CHARS] + EXTRA


def window_ids(enc, text, eot, ctx):
    """<|endoftext|> and the tokens of the longest prefix of `text` (whole pre-tokens) that fits `ctx`."""
    ids = [eot]
    for word in bpe.pretokens(text):
        piece = enc.encode_word(word)
        if len(ids) + len(piece) > ctx:
            break
        ids.extend(piece)
    return ids


def write_references(model, tok, ctx, model_dir, valid_path=VALID):
    out_dir = os.path.join(model_dir, "reference")
    os.makedirs(out_dir, exist_ok=True)
    vocab, merges = tok["model"]["vocab"], tok["model"]["merges"]
    enc = bpe.Encoder(vocab, merges)
    eot = vocab[bpe.END_OF_TEXT]
    text = passage(valid_path)
    json.dump(
        {"source": "training/bpe.py Encoder over tokenizer.json's vocabulary and merges", "text": text, "ids": enc.encode(text)},
        open(os.path.join(out_dir, "tokens.json"), "w"),
        ensure_ascii=False,
    )

    ids = window_ids(enc, text, eot, ctx)
    n = len(ids)
    positions = sorted({0, 1} | {q * (n - 1) // QUARTERS for q in range(1, QUARTERS + 1)})
    model.eval()
    with torch.no_grad():
        logprobs = F.log_softmax(model(torch.tensor([ids]))[0], dim=-1)
    rows = logprobs[positions].numpy().astype("<f4")
    if not np.isfinite(rows).all():
        raise ValueError("the reference log-probs are not all finite")
    rows.tofile(os.path.join(out_dir, "logprobs.f32"))
    json.dump(
        {
            "source": "PyTorch, training/train_gpt.py's GPT, no KV cache: log-softmax of the logits after input_ids[:position + 1]",
            "input_ids": ids,
            "positions": positions,
            "vocab_size": int(logprobs.shape[1]),
            "logprobs": "logprobs.f32",
            "argmax_per_position": logprobs.argmax(-1).tolist(),
        },
        open(os.path.join(out_dir, "logits.json"), "w"),
    )
    return ids, positions, rows

