"""Builds the tiny Llama, Qwen2 and Qwen3 fixture models (with a PyTorch reference) that the tests
load as a user's Hugging Face download, and, with --bench-shape, a random model of SmolLM2-135M's
shape in fp32, int8, q4, fp16 and q4f16 (the float16 ones with a float16 KV cache and logits), or
of Qwen2.5-0.5B's (2 GB in fp32, a vocabulary of 151,936) in fp32, int8 and q4.

    /usr/bin/python3 training/make_fixtures.py                  # test/fixtures/models/tiny-{llama,qwen2,qwen3}
    /usr/bin/python3 training/make_fixtures.py --bench-shape smollm2-135m --out /work/bench-models/smollm2-shape
    /usr/bin/python3 training/make_fixtures.py --bench-shape qwen2.5-0.5b --out /work/bench-models/qwen2.5-shape

Needs Debian's python3-torch, python3-onnx, python3-sentencepiece, python3-regex, python3-numpy and
libopenblas0-pthread. Deterministic: fixed seeds, fixed step counts (on the same machine the bytes
come out the same; another BLAS may round differently).

Each fixture is a folder in the layout onnx-community publishes: config.json,
generation_config.json, tokenizer.json, tokenizer_config.json and onnx/ with precision variants
(see onnx_variants.py); reference.json holds the PyTorch fp32 reference (see the fixtures'
README.md). The models are trained briefly on ../shared/corpus so that their predictions are far
from uniform:
- tiny-llama: model_type llama, RMSNorm, rotary positions, grouped-query attention (4 query heads,
  2 key/value heads, head_dim 16), SwiGLU, untied output layer; SentencePiece BPE with byte
  fallback (vocabulary 512, tokenizer.model is the reference tokenizer) in the Llama-2
  tokenizer.json layout; BOS added. Weights of model.onnx as external data (model.onnx_data);
  model_fp16 and model_q4f16 take and give float16 (KV cache and logits).
- tiny-qwen2: model_type qwen2, like the Llama plus q/k/v biases and tied embeddings; byte-level
  BPE with Qwen2's pre-tokenizer regex (503 tokens for a 512-row embedding, as Qwen2 pads its
  vocabulary); several EOS ids; every graph has the num_logits_to_keep input. model.onnx is one
  file, model_split.onnx the same graph with its weights in two external data files; model_fp16
  and model_q4f16 compute in float16 behind float32 inputs and outputs.
- tiny-qwen3: model_type qwen3, Qwen2's tokenizer, head_dim 32 where hidden / heads is 16, an
  RMSNorm over each head's queries and keys, no biases, tied embeddings; model.onnx (one file)
  and model_q4.onnx only.
"""
import argparse
import copy
import glob
import json
import math
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import byte_level_tokenizers  # noqa: E402
import onnx_variants  # noqa: E402
import sentencepiece_llama  # noqa: E402
from decoder_lm import DecoderLM, Shape  # noqa: E402

REPO = os.path.dirname(HERE)
CORPUS = os.path.join(REPO, "..", "shared", "corpus", "en", "train")
FIXTURES = os.path.join(REPO, "test", "fixtures", "models")
TRANSFORMERS_VERSION = "4.46.0"

# Not from the corpus: accents (NFC), a currency sign, an ellipsis, an emoji and a blank line.
REFERENCE_TEXT = (
    "The little café on the corner changed hands again this spring. The new owner, a retired "
    "pianist called Zoë, wrote the menu by hand: soupe à l'oignon, crème brûlée, and a slice of "
    "cake for €4.50. Regulars swear the place gives them déjà vu.\n\n"
    '"Café déjà vu… naïve résumé," she laughed, when I asked about the name. "It is what people '
    'say when they come in. I only wrote it on the door." 🙂 Then she went back to the kitchen, '
    "humming."
)
GREEDY_PROMPT = "She looked at him and said that"
GREEDY_TOKENS = 20

TINY = dict(hidden=64, layers=2, heads=4, kv_heads=2, head_dim=16, intermediate=128, max_positions=1024)
LLAMA = Shape(vocab=512, qkv_bias=False, tied=False, rope_theta=10000.0, rms_eps=1e-5, **TINY)
QWEN2 = Shape(vocab=512, qkv_bias=True, tied=True, rope_theta=1000000.0, rms_eps=1e-6, **TINY)
# Qwen3's layout: heads wider than hidden / heads (32, not 16; the real 0.6B has 2,048 / 16 = 128 per
# head over a hidden size of 1,024), q/k RMSNorm, no biases, tied embeddings; Qwen2's tokenizer.
QWEN3 = Shape(vocab=512, qkv_bias=False, tied=True, rope_theta=1000000.0, rms_eps=1e-6, qk_norm=True, **{**TINY, "head_dim": 32})
QWEN2_MERGES = 500 - 256  # tokenizer: 256 bytes + merges, then 3 added tokens; rows 503-511 are padding
SMOLLM2_135M = Shape(
    vocab=49152, hidden=576, layers=30, heads=9, kv_heads=3, head_dim=64, intermediate=1536,
    qkv_bias=False, tied=True, rope_theta=100000.0, max_positions=8192, rms_eps=1e-5,
)
# A model of a gigabyte and more with a vocabulary three times SmolLM's (the output layer a quarter
# of the weights; 151,936 logits a position): what large-vocabulary downloads cost.
QWEN25_05B = Shape(
    vocab=151936, hidden=896, layers=24, heads=14, kv_heads=2, head_dim=64, intermediate=4864,
    qkv_bias=True, tied=True, rope_theta=1000000.0, max_positions=32768, rms_eps=1e-6,
)
# name: (shape, model_type, float16 variants too); the larger one in fp32, int8 and q4 only, which the CPU runs.
BENCH_SHAPES = {"smollm2-135m": (SMOLLM2_135M, "llama", True), "qwen2.5-0.5b": (QWEN25_05B, "qwen2", False)}
TRAIN = dict(steps=1000, batch=32, context=128, lr=3e-3, warmup=30)
KV_CACHE_DTYPE = {"fp16": "float16", "q4f16": "float16"}


def corpus_paragraphs(max_chars):
    """Paragraphs of the training books, in file order, up to max_chars in all."""
    out, total = [], 0
    for path in sorted(glob.glob(os.path.join(CORPUS, "*.txt"))):
        text = open(path, encoding="utf-8").read().replace("\r\n", "\n")
        for par in text.split("\n\n"):
            par = par.strip("\n")
            if par.strip():
                out.append(par)
                total += len(par)
                if total >= max_chars:
                    return out
    return out


def token_stream(paragraphs, encode, before, after):
    ids = []
    for par in paragraphs:
        ids += before + encode(par) + after
    return np.array(ids, dtype=np.int64)


def train(model, stream, seed, log, steps=None):
    """A fixed number of AdamW steps on random windows of the token stream, cosine schedule."""
    cfg = TRAIN if steps is None else {**TRAIN, "steps": steps}
    rng = np.random.RandomState(seed)
    held_out = stream[-20000:]
    stream = stream[:-20000]
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    rest = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}], lr=cfg["lr"], betas=(0.9, 0.95))

    def batch(source, n):
        starts = rng.randint(0, len(source) - cfg["context"] - 1, size=n)
        return torch.from_numpy(np.stack([source[s : s + cfg["context"] + 1] for s in starts]))

    valid = batch(held_out, 16)
    start = time.time()
    model.train()
    for step in range(cfg["steps"]):
        lr = cfg["lr"] * min(1.0, (step + 1) / cfg["warmup"]) * 0.5 * (1 + math.cos(math.pi * step / cfg["steps"]))
        for group in opt.param_groups:
            group["lr"] = lr
        xy = batch(stream, cfg["batch"])
        logits = model.logits(xy[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), xy[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 100 == 0 or step == cfg["steps"] - 1:
            with torch.no_grad():
                model.eval()
                valid_loss = F.cross_entropy(model.logits(valid[:, :-1]).reshape(-1, logits.shape[-1]), valid[:, 1:].reshape(-1)).item()
                model.train()
            log(f"  step {step:4d}  train loss {loss.item():.3f}  held-out loss {valid_loss:.3f}  ({time.time() - start:.0f} s)")
    model.eval()
    return {"steps": cfg["steps"], "batch": cfg["batch"], "context": cfg["context"], "held_out_loss_nats_per_token": round(valid_loss, 4)}


def export_fp32(model, path):
    """torch.onnx.export in the onnx-community decoder layout; returns the loaded ModelProto."""
    s = model.s
    past_len, t = 3, 2
    past = [torch.zeros(1, s.kv_heads, past_len, s.head_dim) for _ in range(2 * s.layers)]
    inputs = (torch.tensor([[1, 2]]), torch.ones(1, past_len + t, dtype=torch.long), torch.tensor([[past_len, past_len + 1]]), *past)
    past_names = [f"past_key_values.{n}.{kv}" for n in range(s.layers) for kv in ("key", "value")]
    present_names = [f"present.{n}.{kv}" for n in range(s.layers) for kv in ("key", "value")]
    dynamic = {
        "input_ids": {0: "batch_size", 1: "sequence_length"},
        "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
        "position_ids": {0: "batch_size", 1: "sequence_length"},
        "logits": {0: "batch_size", 1: "sequence_length"},
    }
    for name in past_names:
        dynamic[name] = {0: "batch_size", 2: "past_sequence_length"}
    for name in present_names:
        dynamic[name] = {0: "batch_size", 2: "total_sequence_length"}
    with torch.no_grad():
        torch.onnx.export(
            model, inputs, path,
            input_names=["input_ids", "attention_mask", "position_ids", *past_names],
            output_names=["logits", *present_names],
            dynamic_axes=dynamic, opset_version=14, do_constant_folding=True,
        )
    return onnx.load(path)


def write_variants(base, onnx_dir, tied, single_file_fp32, split_fp32, fp16_io, log):
    """Writes the precision variants of one fp32 export; returns {file name: bytes}."""
    os.makedirs(onnx_dir, exist_ok=True)
    fp32 = onnx_variants.share_tied_embedding(base) if tied else base
    keep_io_types = not fp16_io
    fp16 = onnx_variants.to_fp16(fp32, keep_io_types)
    files = []
    if single_file_fp32:
        files += onnx_variants.save(fp32, os.path.join(onnx_dir, "model.onnx"))
    else:
        files += onnx_variants.save(fp32, os.path.join(onnx_dir, "model.onnx"), chunks=1)
    if split_fp32:
        files += onnx_variants.save(fp32, os.path.join(onnx_dir, "model_split.onnx"), chunks=2)
    files += onnx_variants.save(fp16, os.path.join(onnx_dir, "model_fp16.onnx"))
    files += onnx_variants.save(onnx_variants.to_q4(base), os.path.join(onnx_dir, "model_q4.onnx"))
    files += onnx_variants.save(onnx_variants.to_q4(onnx_variants.to_fp16(base, keep_io_types)), os.path.join(onnx_dir, "model_q4f16.onnx"))
    files += onnx_variants.save(onnx_variants.to_int8(base), os.path.join(onnx_dir, "model_int8.onnx"))
    sizes = {os.path.basename(f): os.path.getsize(f) for f in files}
    for name, size in sizes.items():
        log(f"  onnx/{name}: {size / 1024:.0f} KiB")
    return sizes


def dump(obj, path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def model_config(s, model_type, bos, eos, external_data, kv_cache_dtype):
    config = {
        "architectures": [{"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM", "qwen3": "Qwen3ForCausalLM"}[model_type]],
        "attention_dropout": 0.0,
        "bos_token_id": bos,
        "eos_token_id": eos,
        "hidden_act": "silu",
        "hidden_size": s.hidden,
        "initializer_range": 0.02,
        "intermediate_size": s.intermediate,
        "max_position_embeddings": s.max_positions,
        "model_type": model_type,
        "num_attention_heads": s.heads,
        "num_hidden_layers": s.layers,
        "num_key_value_heads": s.kv_heads,
        "rms_norm_eps": s.rms_eps,
        "rope_scaling": None,
        "rope_theta": s.rope_theta,
        "tie_word_embeddings": s.tied,
        "torch_dtype": "float32",
        "transformers_version": TRANSFORMERS_VERSION,
        "use_cache": True,
        "vocab_size": s.vocab,
        "transformers.js_config": {"use_external_data_format": external_data, **({"kv_cache_dtype": kv_cache_dtype} if kv_cache_dtype else {})},
    }
    if model_type == "llama":
        config.update({"attention_bias": False, "head_dim": s.head_dim, "mlp_bias": False, "pretraining_tp": 1})
    elif model_type == "qwen3":
        config.update({"attention_bias": False, "head_dim": s.head_dim, "max_window_layers": s.layers, "sliding_window": None, "use_sliding_window": False})
    else:
        config.update({"max_window_layers": s.layers, "sliding_window": None, "use_sliding_window": False})
    return dict(sorted(config.items()))


def utf16_offsets(text, byte_spans):
    """Maps [start, end) byte offsets into text.encode() to UTF-16 offsets; a token that covers
    part of a character's bytes is given the whole character."""
    starts, ends = {}, {}
    b = u = 0
    for ch in text:
        n, w = len(ch.encode("utf-8")), len(ch.encode("utf-16-le")) // 2
        for k in range(n):
            starts[b + k] = u
            ends[b + k + 1] = u + w
        b, u = b + n, u + w
    starts[b], ends[0] = u, 0
    return [[starts[s], ends[e]] if s < e else [starts[s], starts[s]] for s, e in byte_spans]


def q4_weights(model):
    """A copy of the model whose every matrix multiplication weight is what model_q4.onnx
    dequantizes (4-bit, blocks of 32 along the input dimension); the embedding stays as it is."""
    q4 = copy.deepcopy(model)
    with torch.no_grad():
        for module in q4.modules():
            if isinstance(module, torch.nn.Linear):
                module.weight.copy_(torch.from_numpy(onnx_variants.q4_dequantized(module.weight.numpy().T).T))
        if q4.s.tied:
            output = torch.from_numpy(onnx_variants.q4_dequantized(q4.model.embed_tokens.weight.numpy().T).T)
            q4.output_weight = lambda: output
    return q4


def token_logprobs(model, ids):
    with torch.no_grad():
        logp = F.log_softmax(model.logits(torch.tensor([ids])).double(), dim=-1)[0]
    return logp, [logp[i, ids[i + 1]].item() for i in range(len(ids) - 1)]


def greedy(model, prompt_ids):
    """GREEDY_TOKENS argmax tokens, each from a full forward pass without cache, never stopping."""
    new = []
    with torch.no_grad():
        for _ in range(GREEDY_TOKENS):
            new.append(int(model.logits(torch.tensor([prompt_ids + new]))[0, -1].argmax()))
    return new


def reference(model, text, ids, token_bytes, decode, prompt_ids, extra):
    """The PyTorch fp32 reference of one model on the reference text (see README.md)."""
    logp, token_lps = token_logprobs(model, ids)
    q4 = q4_weights(model)
    with torch.no_grad():
        positions = sorted({0, 1, len(ids) // 2, len(ids) - 2})
        top5 = []
        for p in positions:
            v, k = logp[p].topk(5)
            top5.append({"position": p, "ids": k.tolist(), "logprobs": v.tolist()})
        new = greedy(model, prompt_ids)
    spans, at = [], 0
    for b in token_bytes:
        spans.append([at, at + len(b)])
        at += len(b)
    prompt_text = decode(prompt_ids)
    full = decode(prompt_ids + new)
    assert full.startswith(prompt_text), (full, prompt_text)
    return {
        "text": text,
        **extra,
        "input_ids": ids,
        "tokens_bytes_hex": [b.hex() for b in token_bytes],
        "byte_offsets": spans,
        "utf16_offsets": utf16_offsets(text, spans),
        "token_logprobs": token_lps,
        "total_logprob": sum(token_lps),
        "q4_token_logprobs": token_logprobs(q4, ids)[1],
        "top5": top5,
        "greedy": {
            "prompt": GREEDY_PROMPT,
            "prompt_ids": prompt_ids,
            "new_ids": new,
            "new_text": full[len(prompt_text) :],
            "q4_new_ids": greedy(q4, prompt_ids),
        },
    }


def build_llama(out, log):
    torch.manual_seed(1)
    paragraphs = corpus_paragraphs(2_500_000)
    log("tiny-llama: training the SentencePiece tokenizer")
    lines = [line for par in paragraphs[: len(paragraphs) // 2] for line in par.split("\n") if line.strip()]
    sp_bytes = sentencepiece_llama.train(lines, LLAMA.vocab)
    sp = sentencepiece_llama.processor(sp_bytes)
    bos, eos = sp.piece_to_id(sentencepiece_llama.BOS), sp.piece_to_id(sentencepiece_llama.EOS)
    stream = token_stream(paragraphs, sp.encode, [bos], [eos])
    log(f"tiny-llama: {len(stream)} training tokens ({sum(map(len, paragraphs)) / len(stream):.2f} characters per token)")
    model = DecoderLM(LLAMA)
    training = train(model, stream, seed=1, log=log)
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        base = export_fp32(model, os.path.join(tmp, "model.onnx"))
    sizes = write_variants(base, os.path.join(out, "onnx"), tied=False, single_file_fp32=False, split_fp32=False, fp16_io=True, log=log)
    with open(os.path.join(out, "tokenizer.model"), "wb") as f:
        f.write(sp_bytes)
    dump(sentencepiece_llama.tokenizer_json(sp), os.path.join(out, "tokenizer.json"))
    dump(sentencepiece_llama.tokenizer_config(sp, LLAMA.max_positions), os.path.join(out, "tokenizer_config.json"))
    dump(model_config(LLAMA, "llama", bos, eos, {"model.onnx": 1}, KV_CACHE_DTYPE), os.path.join(out, "config.json"))
    dump({"_from_model_config": True, "bos_token_id": bos, "eos_token_id": eos, "transformers_version": TRANSFORMERS_VERSION}, os.path.join(out, "generation_config.json"))

    def piece_bytes(i):
        piece = sp.id_to_piece(i)
        if sp.is_byte(i):
            return bytes([int(piece[3:5], 16)])
        if sp.is_control(i):
            return b""
        return piece.replace("▁", " ").encode("utf-8")

    ids = [bos] + sp.encode(REFERENCE_TEXT)
    token_bytes = [piece_bytes(i) for i in ids]
    # SentencePiece's dummy prefix: the first piece's leading space is not in the text.
    assert token_bytes[1].startswith(b" ") and b"".join(token_bytes) == b" " + REFERENCE_TEXT.encode()
    token_bytes[1] = token_bytes[1][1:]
    ref = reference(
        model, REFERENCE_TEXT, ids, token_bytes, sp.decode, [bos] + sp.encode(GREEDY_PROMPT),
        {"add_bos": True, "reference_tokenizer": "tokenizer.model (python sentencepiece)"},
    )
    ref["training"] = training
    dump(ref, os.path.join(out, "reference.json"))
    return sizes


def build_qwen2(out, log):
    torch.manual_seed(2)
    paragraphs = corpus_paragraphs(2_500_000)
    log("tiny-qwen2: learning byte-level BPE merges")
    merges = byte_level_tokenizers.learn_merges(paragraphs[: len(paragraphs) // 4], QWEN2_MERGES, byte_level_tokenizers.QWEN2_SPLIT)
    tok = byte_level_tokenizers.Qwen2Tokenizer(merges)
    endoftext, im_end = tok.specials["<|endoftext|>"], tok.specials["<|im_end|>"]
    stream = token_stream(paragraphs, tok.encode, [], [endoftext])
    log(f"tiny-qwen2: {len(stream)} training tokens ({sum(map(len, paragraphs)) / len(stream):.2f} characters per token)")
    model = DecoderLM(QWEN2)
    training = train(model, stream, seed=2, log=log)
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        base = onnx_variants.add_num_logits_to_keep(export_fp32(model, os.path.join(tmp, "model.onnx")))
    sizes = write_variants(base, os.path.join(out, "onnx"), tied=True, single_file_fp32=True, split_fp32=True, fp16_io=False, log=log)
    dump(tok.tokenizer_json(), os.path.join(out, "tokenizer.json"))
    dump(tok.tokenizer_config(QWEN2.max_positions), os.path.join(out, "tokenizer_config.json"))
    dump(model_config(QWEN2, "qwen2", endoftext, im_end, {"model_split.onnx": 2}, None), os.path.join(out, "config.json"))
    dump(
        {
            "bos_token_id": endoftext,
            "do_sample": True,
            "eos_token_id": [im_end, endoftext],
            "pad_token_id": endoftext,
            "repetition_penalty": 1.1,
            "temperature": 0.7,
            "top_k": 20,
            "top_p": 0.8,
            "transformers_version": TRANSFORMERS_VERSION,
        },
        os.path.join(out, "generation_config.json"),
    )
    ids = tok.encode(REFERENCE_TEXT)
    token_bytes = [bytes(byte_level_tokenizers.CHAR_TO_BYTE[c] for c in tok.id_to_token[i]) for i in ids]
    assert b"".join(token_bytes) == REFERENCE_TEXT.encode()
    ref = reference(
        model, REFERENCE_TEXT, ids, token_bytes, tok.decode, tok.encode(GREEDY_PROMPT),
        {"add_bos": False, "reference_tokenizer": "training/byte_level_tokenizers.py (python byte-level BPE)"},
    )
    ref["training"] = training
    dump(ref, os.path.join(out, "reference.json"))
    return sizes


def build_qwen3(out, log):
    """Qwen3's shape (head_dim apart from hidden / heads, q/k norms) with Qwen2's tokenizer; kept
    small: the fp32 graph in one file and its q4 variant, no other variant."""
    torch.manual_seed(4)
    paragraphs = corpus_paragraphs(2_500_000)
    log("tiny-qwen3: learning byte-level BPE merges")
    merges = byte_level_tokenizers.learn_merges(paragraphs[: len(paragraphs) // 4], QWEN2_MERGES, byte_level_tokenizers.QWEN2_SPLIT)
    tok = byte_level_tokenizers.Qwen2Tokenizer(merges)
    endoftext, im_end = tok.specials["<|endoftext|>"], tok.specials["<|im_end|>"]
    stream = token_stream(paragraphs, tok.encode, [], [endoftext])
    model = DecoderLM(QWEN3)
    # Fewer steps than the others: enough for predictions far from uniform (greedy ties would make
    # the reference fragile), and its purpose is the graph's shapes.
    training = train(model, stream, seed=4, log=log, steps=300)
    onnx_dir = os.path.join(out, "onnx")
    os.makedirs(onnx_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        base = export_fp32(model, os.path.join(tmp, "model.onnx"))
    files = onnx_variants.save(onnx_variants.share_tied_embedding(base), os.path.join(onnx_dir, "model.onnx"))
    files += onnx_variants.save(onnx_variants.to_q4(base), os.path.join(onnx_dir, "model_q4.onnx"))
    sizes = {os.path.basename(f): os.path.getsize(f) for f in files}
    for name, size in sizes.items():
        log(f"  onnx/{name}: {size / 1024:.0f} KiB")
    dump(tok.tokenizer_json(), os.path.join(out, "tokenizer.json"))
    dump(tok.tokenizer_config(QWEN3.max_positions), os.path.join(out, "tokenizer_config.json"))
    dump(model_config(QWEN3, "qwen3", endoftext, im_end, {}, None), os.path.join(out, "config.json"))
    dump({"bos_token_id": endoftext, "eos_token_id": [im_end, endoftext], "transformers_version": TRANSFORMERS_VERSION}, os.path.join(out, "generation_config.json"))
    ids = tok.encode(REFERENCE_TEXT)
    token_bytes = [bytes(byte_level_tokenizers.CHAR_TO_BYTE[c] for c in tok.id_to_token[i]) for i in ids]
    ref = reference(
        model, REFERENCE_TEXT, ids, token_bytes, tok.decode, tok.encode(GREEDY_PROMPT),
        {"add_bos": False, "reference_tokenizer": "training/byte_level_tokenizers.py (python byte-level BPE)"},
    )
    ref["training"] = training
    dump(ref, os.path.join(out, "reference.json"))
    return sizes


def build_bench(shape, out, log):
    if shape not in BENCH_SHAPES:
        raise SystemExit(f"unknown --bench-shape {shape!r}: the known shapes are {', '.join(BENCH_SHAPES)}")
    start = time.time()
    torch.manual_seed(3)
    s, model_type, float16 = BENCH_SHAPES[shape]
    log("bench: tokenizer (2,000 learnt merges, the rest synthetic)")
    tok = byte_level_tokenizers.smollm_tokenizer_json(corpus_paragraphs(1_000_000), s.vocab, 2000)
    assert len(tok["model"]["vocab"]) == s.vocab
    model = DecoderLM(s).eval()
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    log("bench: exporting random weights")
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        base = export_fp32(model, os.path.join(tmp, "model.onnx"))
    del model
    onnx_dir = os.path.join(out, "onnx")
    fp32 = onnx_variants.share_tied_embedding(base)
    files = onnx_variants.save(fp32, os.path.join(onnx_dir, "model.onnx"), chunks=1)
    del fp32
    files += onnx_variants.save(onnx_variants.to_int8(base), os.path.join(onnx_dir, "model_int8.onnx"))
    files += onnx_variants.save(onnx_variants.to_q4(base), os.path.join(onnx_dir, "model_q4.onnx"))
    if float16:
        # The float16 variants as onnx-community ships them for WebGPU: float16 weights, cache and logits.
        fp16 = onnx_variants.to_fp16(base, keep_io_types=False)
        files += onnx_variants.save(onnx_variants.to_q4(fp16), os.path.join(onnx_dir, "model_q4f16.onnx"))
        files += onnx_variants.save(onnx_variants.share_tied_embedding(fp16), os.path.join(onnx_dir, "model_fp16.onnx"))
        del fp16
    dump(tok, os.path.join(out, "tokenizer.json"))
    dump(
        {"add_prefix_space": False, "bos_token": "<|endoftext|>", "clean_up_tokenization_spaces": False, "eos_token": "<|endoftext|>",
         "model_max_length": s.max_positions, "tokenizer_class": "GPT2Tokenizer", "unk_token": "<|endoftext|>"},
        os.path.join(out, "tokenizer_config.json"),
    )
    dump(model_config(s, model_type, 0, 0, {"model.onnx": 1}, KV_CACHE_DTYPE), os.path.join(out, "config.json"))
    dump({"_from_model_config": True, "bos_token_id": 0, "eos_token_id": 0, "transformers_version": TRANSFORMERS_VERSION}, os.path.join(out, "generation_config.json"))
    for f in files:
        log(f"  {os.path.relpath(f, out)}: {os.path.getsize(f) / 2**20:.1f} MiB")
    log(f"bench: built in {time.time() - start:.0f} s")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench-shape", choices=list(BENCH_SHAPES), help="build a random model of this shape instead of the fixtures")
    ap.add_argument("--out", help="output folder (fixtures: test/fixtures/models; bench: required, outside the repository)")
    ap.add_argument("--only", choices=["tiny-llama", "tiny-qwen2", "tiny-qwen3"], help="build one fixture")
    args = ap.parse_args()
    torch.set_num_threads(1)  # faster than 2 for these small matrices on a shared 2-core machine
    torch.use_deterministic_algorithms(True)
    log = lambda msg: print(msg, flush=True)  # noqa: E731
    if args.bench_shape:
        if not args.out:
            raise SystemExit("--bench-shape needs --out DIR (outside the repository: the files are large)")
        build_bench(args.bench_shape, args.out, log)
        return
    root = args.out or FIXTURES
    for name, build in (("tiny-llama", build_llama), ("tiny-qwen2", build_qwen2), ("tiny-qwen3", build_qwen3)):
        if args.only and args.only != name:
            continue
        folder = os.path.join(root, name)
        shutil.rmtree(os.path.join(folder, "onnx"), ignore_errors=True)
        build(folder, log)


if __name__ == "__main__":
    main()
