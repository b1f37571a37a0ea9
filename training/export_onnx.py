"""Exports the trained GPT to the Hugging Face / transformers.js layout with a KV cache.

onnx/model.onnx inputs: input_ids [b, t], attention_mask [b, past + t], position_ids [b, t],
past_key_values.N.key / .value [b, heads, past, head_dim]; outputs: logits [b, t, vocab],
present.N.key / .value. The first step feeds zero-length past tensors.
"""
import json
import os
import shutil

import torch
import torch.nn as nn
import torch.nn.functional as F

import reference


class WithCache(nn.Module):
    def __init__(self, gpt):
        super().__init__()
        self.gpt = gpt

    def forward(self, input_ids, attention_mask, position_ids, *past):
        g = self.gpt
        x = g.wte(input_ids) + g.wpe(position_ids)
        t = input_ids.shape[1]
        total = attention_mask.shape[1]
        past_len = total - t
        # Causal mask over [past + current] plus padding from attention_mask.
        i = torch.arange(t).unsqueeze(1) + past_len
        j = torch.arange(total).unsqueeze(0)
        causal = (j <= i).unsqueeze(0).unsqueeze(0)
        keep = causal & attention_mask.bool().unsqueeze(1).unsqueeze(1)
        mask = torch.where(keep, torch.zeros(()), torch.full((), -1e9))
        presents = []
        for n, blk in enumerate(g.h):
            x, k, v = blk(x, mask, past[2 * n], past[2 * n + 1])
            presents += [k, v]
        logits = g.ln_f(x) @ g.wte.weight.t()
        return (logits, *presents)


def export(model, tok, args, state, out_dir):
    model.eval()
    os.makedirs(os.path.join(out_dir, "onnx"), exist_ok=True)
    wrapper = WithCache(model)
    heads, d, layers = args.heads, args.d, args.layers
    past_len, t = 3, 2
    past = []
    for _ in range(layers):
        past += [torch.zeros(1, heads, past_len, d // heads), torch.zeros(1, heads, past_len, d // heads)]
    inputs = (
        torch.tensor([[1, 2]]),
        torch.ones(1, past_len + t, dtype=torch.long),
        torch.tensor([[past_len, past_len + 1]]),
        *past,
    )
    past_names = [f"past_key_values.{n}.{kv}" for n in range(layers) for kv in ("key", "value")]
    present_names = [f"present.{n}.{kv}" for n in range(layers) for kv in ("key", "value")]
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
    path = os.path.join(out_dir, "onnx", "model.onnx")
    torch.onnx.export(
        wrapper,
        inputs,
        path,
        input_names=["input_ids", "attention_mask", "position_ids", *past_names],
        output_names=["logits", *present_names],
        dynamic_axes=dynamic,
        opset_version=14,
        do_constant_folding=True,
    )
    vocab_size = len(tok["model"]["vocab"])
    eot = tok["model"]["vocab"]["<|endoftext|>"]
    config = {
        "model_type": "gpt2",
        "architectures": ["GPT2LMHeadModel"],
        "vocab_size": vocab_size,
        "n_positions": args.ctx,
        "n_ctx": args.ctx,
        "n_embd": d,
        "n_layer": layers,
        "n_head": heads,
        "n_inner": 4 * d,
        "activation_function": "gelu_new",
        "layer_norm_epsilon": 1e-5,
        "bos_token_id": eot,
        "eos_token_id": eot,
        "tie_word_embeddings": True,
        "use_cache": True,
        "lm_playground": {
            "parameters": state.get("params"),
            "training_steps": state["step"],
            "training_minutes": round(state["elapsed"] / 60, 1),
            "valid_bits_per_char_pytorch": state.get("valid_bpc"),
        },
    }
    json.dump(config, open(os.path.join(out_dir, "config.json"), "w"), indent=2)
    json.dump({"bos_token_id": eot, "eos_token_id": eot}, open(os.path.join(out_dir, "generation_config.json"), "w"), indent=2)
    json.dump(
        {"model_max_length": args.ctx, "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>", "tokenizer_class": "GPT2Tokenizer", "add_prefix_space": False},
        open(os.path.join(out_dir, "tokenizer_config.json"), "w"),
        indent=2,
    )
    shutil.copy(os.path.join(args.work, "tokenizer.json"), os.path.join(out_dir, "tokenizer.json"))
    # For the tests: python BPE token ids and PyTorch's log-probs on a passage of the valid split.
    reference.write_references(model, tok, args.ctx, out_dir, os.path.join(args.corpus, "valid", "poirot_investigates.txt"))
