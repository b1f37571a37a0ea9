"""Adds the "inside the model" outputs to gpt-classics' graphs (onnx/model.onnx and, when present,
onnx/model_quantized.onnx), in place:

- `hidden_states.N`, N = 0..layers: the residual stream [batch, sequence, d] before block N, and as
  the last one the final layer norm's output (Hugging Face's `output_hidden_states` convention);
- `attentions.N`, N = 0..layers-1: block N's attention probabilities [batch, heads, sequence,
  past + sequence] (Hugging Face's `output_attentions`);
- `logit_lens.norm.weight`, `logit_lens.norm.bias`, `logit_lens.unembedding` ([d, vocab]; int8 in
  the quantized graph, with `logit_lens.unembedding.scale` [vocab]): the final layer norm's and the
  output layer's weights, so that the logit lens is computed from the hidden states outside the graph.

Each is a tensor the graph already has (a node's output or an initializer), renamed: no node is
added and nothing is stored twice. onnxruntime runs every node whatever outputs are asked for, so a
lens computed inside the graph would cost every step four more output layers; computed outside from
these outputs, it costs nothing until asked for. Tensors are found by the names
`training/export_onnx.py`'s export gives them.

    /usr/bin/python3 training/add_inside_outputs.py models/gpt-classics
"""
import json
import os
import sys

import onnx
from onnx import TensorProto, helper, numpy_helper


def add_outputs(path, config):
    model = onnx.load(path)
    graph = model.graph
    layers, d, heads, vocab = config["n_layer"], config["n_embd"], config["n_head"], config["vocab_size"]
    produced = {o for n in graph.node for o in n.output}
    inits = {i.name: i for i in graph.initializer}
    existing = {o.name for o in graph.output}

    def out(name, tensor, elem, shape):
        """Renames `tensor` (a node's output or an initializer) to `name` and makes it an output:
        no node is added, so nothing more runs or is stored."""
        if name in existing:
            return
        if tensor not in produced and tensor not in inits:
            raise ValueError(f"{path}: no tensor {tensor} for {name}")
        for node in graph.node:
            node.input[:] = [name if i == tensor else i for i in node.input]
            node.output[:] = [name if o == tensor else o for o in node.output]
        if tensor in inits:
            inits[tensor].name = name
        graph.output.append(helper.make_tensor_value_info(name, elem, shape))

    out("hidden_states.0", "/Add_output_0", TensorProto.FLOAT, ["batch_size", "sequence_length", d])
    for n in range(1, layers):
        out(f"hidden_states.{n}", f"/h.{n - 1}/Add_4_output_0", TensorProto.FLOAT, ["batch_size", "sequence_length", d])
    out(f"hidden_states.{layers}", "/ln_f/Add_1_output_0", TensorProto.FLOAT, ["batch_size", "sequence_length", d])
    for n in range(layers):
        out(f"attentions.{n}", f"/h.{n}/Softmax_output_0", TensorProto.FLOAT, ["batch_size", heads, "sequence_length", "total_sequence_length"])
    out("logit_lens.norm.weight", "gpt.ln_f.weight", TensorProto.FLOAT, [d])
    out("logit_lens.norm.bias", "gpt.ln_f.bias", TensorProto.FLOAT, [d])
    head = next(n for n in graph.node if "logits" in n.output)
    weight = head.input[1]
    if weight in inits:
        out("logit_lens.unembedding", weight, TensorProto.FLOAT, [d, vocab])
    else:
        dq = next(n for n in graph.node if weight in n.output and n.op_type == "DequantizeLinear")
        zero = numpy_helper.to_array(inits[dq.input[2]])
        if zero.any():
            raise ValueError(f"{path}: the output layer's zero point is not 0")
        out("logit_lens.unembedding", dq.input[0], TensorProto.INT8, [d, vocab])
        out("logit_lens.unembedding.scale", dq.input[1], TensorProto.FLOAT, [vocab])
    onnx.checker.check_model(model)
    onnx.save(model, path)


def main():
    folder = sys.argv[1]
    config = json.load(open(os.path.join(folder, "config.json")))
    for name in ("model.onnx", "model_quantized.onnx"):
        path = os.path.join(folder, "onnx", name)
        if os.path.exists(path):
            add_outputs(path, config)
            print(f"{path}: {os.path.getsize(path) / 2**20:.2f} MiB")


if __name__ == "__main__":
    main()
