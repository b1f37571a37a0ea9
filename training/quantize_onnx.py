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
    onnx.checker.check_model(model)
    onnx.save(model, dst)
    return quantized, saved


if __name__ == "__main__":
    folder = sys.argv[1]
    src = os.path.join(folder, "onnx", "model.onnx")
    dst = os.path.join(folder, "onnx", "model_quantized.onnx")
    n, saved = quantize(src, dst)
    print(f"quantized {n} weight matrices, {saved / 2**20:.1f} MiB saved: {os.path.getsize(src) / 2**20:.1f} -> {os.path.getsize(dst) / 2**20:.1f} MiB")
