"""Weight-only int8 quantization of an exported model: onnx/model.onnx -> onnx/model_quantized.onnx.

Every float32 MatMul/Gemm weight with at least 64K elements becomes int8 with one scale per output
column (symmetric, zero point 0) followed by a DequantizeLinear node, so the file is about 4x
smaller while onnxruntime computes in float32 as before (it folds the dequantization at load).

    /usr/bin/python3 training/quantize_onnx.py models/gpt-classics
"""
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper


def quantize(src, dst, min_elements=65536):
    model = onnx.load(src)
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    # Weights used by MatMul as the second input (x @ W, W is [in, out]); a tied embedding used by
    # Gather and by a transposed MatMul is left alone by the "second input" rule unless so used.
    users = {}
    for node in graph.node:
        for k, name in enumerate(node.input):
            users.setdefault(name, []).append((node, k))
    quantized = 0
    saved = 0
    for name, init in list(inits.items()):
        w = numpy_helper.to_array(init)
        if w.dtype != np.float32 or w.ndim != 2 or w.size < min_elements:
            continue
        uses = users.get(name, [])
        if not uses or not all(n.op_type == "MatMul" and k == 1 for n, k in uses):
            continue
        scale = np.abs(w).max(axis=0) / 127.0
        scale[scale == 0] = 1.0
        q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
        graph.initializer.remove(init)
        graph.initializer.extend([
            numpy_helper.from_array(q, f"{name}_int8"),
            numpy_helper.from_array(scale.astype(np.float32), f"{name}_scale"),
            numpy_helper.from_array(np.zeros(scale.shape, dtype=np.int8), f"{name}_zero"),
        ])
        graph.node.insert(0, helper.make_node("DequantizeLinear", [f"{name}_int8", f"{name}_scale", f"{name}_zero"], [name], axis=1, name=f"{name}_dequantize"))
        quantized += 1
        saved += w.nbytes - q.nbytes - scale.nbytes * 2
    saved += share_tied_embedding(graph)
    onnx.checker.check_model(model)
    onnx.save(model, dst)
    return quantized, saved


def share_tied_embedding(graph):
    """The export keeps a tied embedding twice: the input's Gather table (float32, [vocab, d]) and,
    transposed, the output layer's weight, which quantize() made int8 [d, vocab] with one scale per
    token. When they are the same matrix, the input reads its rows from the dequantized output weight
    (Gather on axis 1, then a transpose), and the float32 table goes: 4 MiB less for gpt-classics, at
    the cost of int8 input embeddings (the output layer already had them). Returns the bytes saved."""
    inits = {i.name: i for i in graph.initializer}
    saved = 0
    for gather in [n for n in graph.node if n.op_type == "Gather" and n.input[0] in inits]:
        table = numpy_helper.to_array(inits[gather.input[0]])
        if table.ndim != 2 or any(a.name == "axis" and a.i != 0 for a in gather.attribute):
            continue
        for dq in [n for n in graph.node if n.op_type == "DequantizeLinear" and n.input[0] in inits]:
            q = numpy_helper.to_array(inits[dq.input[0]]).astype(np.float32)
            scale = numpy_helper.to_array(inits[dq.input[1]])
            if q.shape != table.shape[::-1] or scale.shape != (table.shape[0],):
                continue
            # The same matrix: every entry within half a quantization step of the int8 copy.
            if np.max(np.abs(q.T * scale[:, None] - table) - scale[:, None] / 2) > 1e-6:
                continue
            at = list(graph.node).index(gather)
            columns = f"{gather.name}_tied_columns"
            graph.node.remove(gather)
            graph.node.insert(at, helper.make_node("Gather", [dq.output[0], gather.input[1]], [columns], axis=1, name=f"{gather.name}_tied"))
            # indices of rank 2 ([batch, sequence]): [d, b, t] -> [b, t, d]
            graph.node.insert(at + 1, helper.make_node("Transpose", [columns], [gather.output[0]], perm=[1, 2, 0], name=f"{gather.name}_tied_transpose"))
            # The DequantizeLinear must come before its new user.
            if list(graph.node).index(dq) > at:
                graph.node.remove(dq)
                graph.node.insert(at, dq)
            graph.initializer.remove(inits[gather.input[0]])
            saved += table.nbytes
            break
    return saved


if __name__ == "__main__":
    folder = sys.argv[1]
    src = os.path.join(folder, "onnx", "model.onnx")
    dst = os.path.join(folder, "onnx", "model_quantized.onnx")
    n, saved = quantize(src, dst)
    print(f"quantized {n} weight matrices, {saved / 2**20:.1f} MiB saved: {os.path.getsize(src) / 2**20:.1f} -> {os.path.getsize(dst) / 2**20:.1f} MiB")
