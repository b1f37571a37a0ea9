"""Writes a model folder's reference files (see reference.py) from the weights of its ONNX graph.

    /usr/bin/python3 training/reference_from_onnx.py models/gpt-classics

The training checkpoint stays outside the repository, so the committed graph is where the weights
are: they are read with the `onnx` package into train_gpt.py's GPT and run by PyTorch, never by
onnxruntime. Each MatMul weight is the transpose of the Linear layer whose bias the following Add
adds; the output layer must be the transposed input embedding (tied).
"""
import json
import os
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper

import reference
from train_gpt import GPT


def linear_weights(graph, inits):
    """{'h.N.layer': weight} from MatMul nodes whose output an Add with that layer's bias consumes."""
    consumers = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    out = {}
    for node in graph.node:
        if node.op_type != "MatMul" or node.input[1] not in inits:
            continue
        adds = [a for a in consumers.get(node.output[0], []) if a.op_type == "Add"]
        bias = next((i for a in adds for i in a.input if i.endswith(".bias") and i in inits), None)
        key = bias[len("gpt.") : -len(".bias")] if bias else "lm_head"
        if key in out:
            raise ValueError(f"two MatMul weights for {key}")
        out[key] = inits[node.input[1]].T
    return out


def gpt_from_onnx(folder, config):
    graph = onnx.load(os.path.join(folder, "onnx", "model.onnx")).graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    # add_inside_outputs.py renames the final norm's weights to the outputs that return them.
    for name, alias in (("gpt.ln_f.weight", "logit_lens.norm.weight"), ("gpt.ln_f.bias", "logit_lens.norm.bias")):
        if name not in inits and alias in inits:
            inits[name] = inits[alias]
    model = GPT(config["vocab_size"], config["n_positions"], config["n_embd"], config["n_layer"], config["n_head"])
    state = {}
    for name, param in model.state_dict().items():
        state[name] = inits.get("gpt." + name)
    for key, weight in linear_weights(graph, inits).items():
        if key == "lm_head":
            if not np.array_equal(weight, inits["gpt.wte.weight"]):
                raise ValueError("the output layer is not the input embedding")
            continue
        state[key + ".weight"] = weight
    missing = [n for n, v in state.items() if v is None]
    if missing:
        raise ValueError(f"no weights in the graph for {missing}")
    model.load_state_dict({n: torch.tensor(v) for n, v in state.items()})
    return model


def main():
    folder = sys.argv[1]
    config = json.load(open(os.path.join(folder, "config.json")))
    tok = json.load(open(os.path.join(folder, "tokenizer.json"), encoding="utf-8"))
    model = gpt_from_onnx(folder, config)
    ids, positions, _ = reference.write_references(model, tok, config["n_positions"], folder)
    print(f"{folder}: {len(ids)} ids, positions {positions}")


if __name__ == "__main__":
    main()
