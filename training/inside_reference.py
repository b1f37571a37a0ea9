"""Writes reference/inside.json for a model folder: PyTorch's logit lens and attention probabilities
on the first tokens of the token reference's window, for the unit tests of the inside views.

    /usr/bin/python3 training/inside_reference.py models/gpt-classics

The model is train_gpt.py's GPT with the weights of the folder's onnx/model.onnx
(reference_from_onnx.py), run by PyTorch, never by onnxruntime. For each position p in POSITIONS,
predicting input_ids[p + 1]:
- lens[layer]: the final LayerNorm and the tied output layer applied to the residual stream before
  block `layer` (the last entry: the model's own output), as log-softmax: the TOP most probable
  token ids with their log-probs, and the next token's log-prob and rank;
- attention[layer][head]: position p's attention probabilities over positions 0..p.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

from reference_from_onnx import gpt_from_onnx

TOKENS = 48
POSITIONS = [4, 46]
TOP = 5


def main():
    folder = sys.argv[1]
    config = json.load(open(os.path.join(folder, "config.json")))
    model = gpt_from_onnx(folder, config)
    model.eval()
    ids = json.load(open(os.path.join(folder, "reference", "logits.json")))["input_ids"][:TOKENS]
    t = len(ids)
    with torch.no_grad():
        x = model.wte(torch.tensor([ids])) + model.wpe(torch.arange(t).unsqueeze(0))
        mask = torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
        residual, attention = [x], []
        for blk in model.h:
            b, _, d = x.shape
            h = blk.heads
            q, k, _ = blk.c_attn(blk.ln_1(x)).split(d, dim=2)
            q = q.view(b, t, h, d // h).transpose(1, 2)
            k = k.view(b, t, h, d // h).transpose(1, 2)
            attention.append(F.softmax((q @ k.transpose(-2, -1)) * (1.0 / (d // h) ** 0.5) + mask, dim=-1)[0])
            x, _, _ = blk(x, mask)
            residual.append(x)
        own = F.log_softmax(model(torch.tensor([ids]))[0], dim=-1)
    out = {
        "source": "PyTorch, training/train_gpt.py's GPT with onnx/model.onnx's weights (training/inside_reference.py)",
        "input_ids": ids,
        "positions": [],
    }
    for p in POSITIONS:
        nxt = ids[p + 1]
        lens = []
        for layer, r in enumerate(residual):
            lp = F.log_softmax(model.ln_f(r[0, p]) @ model.wte.weight.t(), dim=-1)
            if layer == len(residual) - 1 and not torch.allclose(lp, own[p], atol=1e-5):
                raise ValueError("the lens's last layer is not the model's output")
            top = torch.topk(lp, TOP)
            lens.append(
                {
                    "top_ids": top.indices.tolist(),
                    "top_logprobs": [round(v, 6) for v in top.values.tolist()],
                    "next_logprob": round(lp[nxt].item(), 6),
                    "next_rank": int((lp > lp[nxt]).sum().item()) + 1,
                }
            )
        att = [[[round(v, 7) for v in a[head, p, : p + 1].tolist()] for head in range(a.shape[0])] for a in attention]
        out["positions"].append({"position": p, "next_id": nxt, "lens": lens, "attention": att})
    path = os.path.join(folder, "reference", "inside.json")
    json.dump(out, open(path, "w"))
    print(f"{path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
