"""Writes a model folder (Llama, Qwen2 or GPT-2 layout: the fixtures, the benchmark shape, gpt-classics) as a GGUF file.

The layout is llama.cpp's convert_hf_to_gguf.py's for such a model; the folder is a Hugging Face
one as make_fixtures.py writes them, or the embedded gpt-classics (models/gpt-classics).

    /usr/bin/python3 training/export_gguf.py test/fixtures/models/tiny-llama OUT.gguf --type f32
    /usr/bin/python3 training/export_gguf.py test/fixtures/models/tiny-qwen2 OUT.gguf --type q8_0
    /usr/bin/python3 training/export_gguf.py --fixtures      # every fixture GGUF of test/fixtures/models/gguf

The weights come from the folder's float32 ONNX graph (onnx/model.onnx, its external data too): the
checkpoint is not kept, and each MatMul weight is named by its node (/layers.N/self_attn/q_proj/
MatMul), whose transpose is the Linear layer's weight. Architectures: llama (q and k rows
permuted to llama.cpp's rotary layout, as the converter does), qwen2 (q/k/v biases; its rotary
layout is Hugging Face's) and gpt2 (gpt-classics). Tokenizers: SentencePiece BPE with byte fallback (tokenizer.ggml.model
"llama"; scores from tokenizer.model) and byte-level BPE (model "gpt2" with merges; the
pre-tokenizer named by --pre, qwen2 for qwen2, required otherwise). Matrices are stored as --type says
(f32, f16, q8_0, q4_0), norms and biases as float32, except the output matrix (or the token
embedding tied to it) of a q4_0 file, which gets the type llama.cpp's llama-quantize gives it: Q6_K,
or Q8_0 where its rows do not split into Q6_K's blocks of 256 (SmolLM2-135M's 576): a Q4_0 file
made here is like the Q4_0 files people download.
"""
import argparse
import json
import os
import re
import sys

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from gguf_writer import FILE_TYPES, FLOAT32, INT32, GgufWriter, Typed, TypedArray, UINT32  # noqa: E402

REPO = os.path.dirname(HERE)
FIXTURES = os.path.join(REPO, "test", "fixtures", "models")
# (fixture, weight type): the files the tests load
FIXTURE_FILES = [("tiny-llama", "f32"), ("tiny-llama", "q8_0"), ("tiny-qwen2", "f32"), ("tiny-qwen2", "q8_0")]

# token_type values of tokenizer.ggml.token_type
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6

LAYER_TENSORS = {
    "self_attn/q_proj": "attn_q",
    "self_attn/k_proj": "attn_k",
    "self_attn/v_proj": "attn_v",
    "self_attn/o_proj": "attn_output",
    "mlp/gate_proj": "ffn_gate",
    "mlp/up_proj": "ffn_up",
    "mlp/down_proj": "ffn_down",
}


def onnx_weights(folder):
    """{Hugging Face parameter name: float32 array} from the folder's fp32 graph."""
    graph = onnx.load(os.path.join(folder, "onnx", "model.onnx")).graph  # external data is read beside it
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    # The exporter writes equal weights once and names the others by Identity nodes (norms of all ones).
    for node in graph.node:
        if node.op_type == "Identity" and node.input[0] in inits:
            inits[node.output[0]] = inits[node.input[0]]
    state = {name: value for name, value in inits.items() if name.startswith("model.")}
    for node in graph.node:
        norm = re.fullmatch(r"/(?:layers\.(\d+)/)?(input_layernorm|post_attention_layernorm|norm)/Mul_1", node.name)
        if node.op_type == "Mul" and norm:
            weight = next(inits[i] for i in node.input if i in inits)
            state[f"model.layers.{norm.group(1)}.{norm.group(2)}.weight" if norm.group(1) else "model.norm.weight"] = weight
        if node.op_type != "MatMul":
            continue
        m = re.fullmatch(r"/layers\.(\d+)/(self_attn/[qkvo]_proj|mlp/(?:gate|up|down)_proj)/MatMul", node.name)
        weight = inits.get(node.input[1])
        if m:
            state[f"model.layers.{m.group(1)}.{m.group(2).replace('/', '.')}.weight"] = weight.T
        elif node.name == "/MatMul" and weight is not None:
            state["lm_head.weight"] = weight.T
    return state


def output_type(kind, columns):
    """The type llama-quantize (llama_tensor_get_type) gives the output matrix, and the token embedding
    when it is tied to it: Q6_K for the 4-bit types, falling back to Q8_0 when a row's length is not a
    multiple of Q6_K's 256; f32, f16 and q8_0 stay as they are."""
    if kind != "q4_0":
        return kind
    return "q6_k" if columns % 256 == 0 else "q8_0"


def permute_rotary(w, heads):
    """Hugging Face's rotate-half rows of q or k to llama.cpp's interleaved pairs (convert_hf_to_gguf's permute)."""
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def add_tokenizer(w, folder, config, rows, pre):
    tok = json.load(open(os.path.join(folder, "tokenizer.json"), encoding="utf-8"))
    tok_config = json.load(open(os.path.join(folder, "tokenizer_config.json"), encoding="utf-8"))
    model = tok["model"]
    vocab = dict(model["vocab"])
    special = {}
    for t in tok.get("added_tokens", []):
        vocab[t["content"]] = t["id"]
        if t.get("special"):
            special[t["id"]] = t["content"]
    tokens = [None] * rows
    for text, i in vocab.items():
        tokens[i] = text
    types = []
    for i, text in enumerate(tokens):
        if text is None:
            tokens[i] = f"[PAD{i}]"  # Qwen2 pads its vocabulary past the tokenizer's
            types.append(UNUSED)
        elif text == model.get("unk_token"):
            types.append(UNKNOWN)
        elif i in special:
            types.append(CONTROL)
        elif model.get("byte_fallback") and re.fullmatch(r"<0x[0-9A-F]{2}>", text):
            types.append(BYTE)
        else:
            types.append(NORMAL)
    w.add("tokenizer.ggml.tokens", tokens)
    w.add("tokenizer.ggml.token_type", TypedArray(INT32, types))
    if model.get("byte_fallback"):
        # SentencePiece: merges are ranked by the pieces' scores (tokenizer.model's).
        import sentencepiece

        sp = sentencepiece.SentencePieceProcessor(model_file=os.path.join(folder, "tokenizer.model"))
        if sp.get_piece_size() != len(tokens) or any(sp.id_to_piece(i) != tokens[i] for i in range(len(tokens))):
            raise SystemExit("tokenizer.model and tokenizer.json list different pieces")
        w.add("tokenizer.ggml.model", "llama")
        w.add("tokenizer.ggml.scores", TypedArray(FLOAT32, [sp.get_score(i) for i in range(len(tokens))]))
        w.add("tokenizer.ggml.unknown_token_id", vocab[model["unk_token"]])
    else:
        if pre is None:
            # llama.cpp splits text by this name; "gpt2" (the model's name) is not one of them.
            raise SystemExit(
                "a byte-level BPE tokenizer needs its pre-tokenizer named with --pre, as llama.cpp names it: "
                "smollm (SmolLM2), llama-bpe (Llama 3), qwen2 (Qwen2), gpt-2 (GPT-2)"
            )
        w.add("tokenizer.ggml.model", "gpt2")
        w.add("tokenizer.ggml.pre", pre)
        w.add("tokenizer.ggml.merges", [m if isinstance(m, str) else " ".join(m) for m in model["merges"]])
    def token_id(key):
        value = tok_config.get(key)
        if isinstance(value, dict):
            value = value.get("content")
        return vocab.get(value) if value is not None else None

    # As the converter's SpecialVocab: tokenizer_config.json's token, else config.json's id.
    bos = token_id("bos_token")
    bos = bos if bos is not None else config.get("bos_token_id")
    eos = token_id("eos_token")
    eos = eos if eos is not None else config.get("eos_token_id")
    if bos is not None:
        w.add("tokenizer.ggml.bos_token_id", bos)
    if eos is not None:
        w.add("tokenizer.ggml.eos_token_id", eos)
    pad = token_id("pad_token")
    if pad is not None:
        w.add("tokenizer.ggml.padding_token_id", pad)
    w.add("tokenizer.ggml.add_bos_token", bool(tok_config.get("add_bos_token", False)))
    w.add("tokenizer.ggml.add_eos_token", bool(tok_config.get("add_eos_token", False)))


def export_gpt2(folder, out, kind):
    """gpt-classics (training/train_gpt.py's GPT-2, weights read from its fp32 graph) as llama.cpp's gpt2 architecture."""
    from reference_from_onnx import gpt_from_onnx

    config = json.load(open(os.path.join(folder, "config.json")))
    state = {k: v.detach().numpy() for k, v in gpt_from_onnx(folder, config).state_dict().items()}
    d = config["n_embd"]
    w = GgufWriter()
    w.add("general.architecture", "gpt2")
    w.add("general.name", os.path.basename(os.path.normpath(folder)))
    w.add("general.file_type", FILE_TYPES[kind])
    w.add("gpt2.context_length", config["n_positions"])
    w.add("gpt2.embedding_length", d)
    w.add("gpt2.block_count", config["n_layer"])
    w.add("gpt2.feed_forward_length", config.get("n_inner") or 4 * d)
    w.add("gpt2.attention.head_count", config["n_head"])
    w.add("gpt2.attention.layer_norm_epsilon", float(config["layer_norm_epsilon"]))
    w.add("gpt2.vocab_size", Typed(UINT32, config["vocab_size"]))
    add_tokenizer(w, folder, config, config["vocab_size"], "gpt-2")
    w.add_tensor("token_embd.weight", state["wte.weight"], output_type(kind, d))  # tied to the output
    w.add_tensor("position_embd.weight", state["wpe.weight"])
    for n in range(config["n_layer"]):
        p = f"h.{n}."
        for gg, ours in (("attn_norm", "ln_1"), ("ffn_norm", "ln_2")):
            w.add_tensor(f"blk.{n}.{gg}.weight", state[p + ours + ".weight"])
            w.add_tensor(f"blk.{n}.{gg}.bias", state[p + ours + ".bias"])
        for gg, ours in (("attn_qkv", "c_attn"), ("attn_output", "c_proj"), ("ffn_up", "c_fc"), ("ffn_down", "mlp_proj")):
            w.add_tensor(f"blk.{n}.{gg}.weight", state[p + ours + ".weight"], kind)
            w.add_tensor(f"blk.{n}.{gg}.bias", state[p + ours + ".bias"])
    w.add_tensor("output_norm.weight", state["ln_f.weight"])
    w.add_tensor("output_norm.bias", state["ln_f.bias"])
    w.write(out)  # the output layer is the embedding (tied): llama.cpp multiplies by token_embd
    return os.path.getsize(out)


def export(folder, out, kind, pre=None):
    config = json.load(open(os.path.join(folder, "config.json")))
    arch = config["model_type"]
    if arch == "gpt2":
        return export_gpt2(folder, out, kind)
    if arch not in ("llama", "qwen2"):
        raise SystemExit(f"model_type {arch}: this exporter writes llama, qwen2 and gpt-classics' gpt2")
    state = onnx_weights(folder)
    heads, kv_heads = config["num_attention_heads"], config["num_key_value_heads"]
    hidden = config["hidden_size"]
    head_dim = config.get("head_dim") or hidden // heads
    embed = state["model.embed_tokens.weight"]
    w = GgufWriter()
    w.add("general.architecture", arch)
    w.add("general.name", os.path.basename(os.path.normpath(folder)))
    w.add("general.file_type", FILE_TYPES[kind])
    w.add(f"{arch}.context_length", config["max_position_embeddings"])
    w.add(f"{arch}.embedding_length", hidden)
    w.add(f"{arch}.block_count", config["num_hidden_layers"])
    w.add(f"{arch}.feed_forward_length", config["intermediate_size"])
    w.add(f"{arch}.attention.head_count", heads)
    w.add(f"{arch}.attention.head_count_kv", kv_heads)
    w.add(f"{arch}.attention.key_length", head_dim)
    w.add(f"{arch}.attention.value_length", head_dim)
    w.add(f"{arch}.rope.dimension_count", head_dim)
    w.add(f"{arch}.rope.freq_base", float(config["rope_theta"]))
    w.add(f"{arch}.attention.layer_norm_rms_epsilon", float(config["rms_norm_eps"]))
    w.add(f"{arch}.vocab_size", Typed(UINT32, embed.shape[0]))
    add_tokenizer(w, folder, config, embed.shape[0], pre or {"qwen2": "qwen2"}.get(arch))

    lm_head = state.get("lm_head.weight")
    tied = lm_head is None or (lm_head.shape == embed.shape and np.array_equal(lm_head, embed))
    w.add_tensor("token_embd.weight", embed, output_type(kind, hidden) if tied else kind)
    for n in range(config["num_hidden_layers"]):
        p = f"model.layers.{n}."
        w.add_tensor(f"blk.{n}.attn_norm.weight", state[p + "input_layernorm.weight"])
        w.add_tensor(f"blk.{n}.ffn_norm.weight", state[p + "post_attention_layernorm.weight"])
        for hf, gg in LAYER_TENSORS.items():
            weight = state[p + hf.replace("/", ".") + ".weight"]
            bias = state.get(p + hf.replace("/", ".") + ".bias")
            if arch == "llama" and gg in ("attn_q", "attn_k"):
                weight = permute_rotary(weight, heads if gg == "attn_q" else kv_heads)
            w.add_tensor(f"blk.{n}.{gg}.weight", weight, kind)
            if bias is not None:
                w.add_tensor(f"blk.{n}.{gg}.bias", bias)
    w.add_tensor("output_norm.weight", state["model.norm.weight"])
    if not tied:
        w.add_tensor("output.weight", lm_head, output_type(kind, hidden))  # else llama.cpp multiplies by token_embd
    w.write(out)
    return os.path.getsize(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", nargs="?")
    ap.add_argument("out", nargs="?")
    ap.add_argument("--type", default="f32", choices=sorted(FILE_TYPES))
    ap.add_argument("--pre", help="tokenizer.ggml.pre of a byte-level tokenizer, as llama.cpp names it (smollm, llama-bpe, gpt-2, ...; default: qwen2 for qwen2, else required)")
    ap.add_argument("--fixtures", action="store_true", help="write test/fixtures/models/gguf/<fixture>-<type>.gguf")
    args = ap.parse_args()
    if args.fixtures:
        os.makedirs(os.path.join(FIXTURES, "gguf"), exist_ok=True)
        for name, kind in FIXTURE_FILES:
            out = os.path.join(FIXTURES, "gguf", f"{name}-{kind}.gguf")
            print(f"{os.path.relpath(out, REPO)}: {export(os.path.join(FIXTURES, name), out, kind)} bytes")
        return
    if not args.folder or not args.out:
        ap.error("give FOLDER OUT, or --fixtures")
    print(f"{args.out}: {export(args.folder, args.out, args.type, args.pre)} bytes")


if __name__ == "__main__":
    main()
