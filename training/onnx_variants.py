"""The precision variants and file layouts onnx-community publishes, made from an fp32 export by
editing the ONNX graph with numpy (no onnxruntime python package needed).

- to_fp16: every float tensor in float16 except the rotary angles, which stay float32 until they
  meet the attention; graph inputs and outputs in float16 too (float16 KV cache and logits, as
  Optimum's fp16 exports and onnx-community's `kv_cache_dtype: float16` have) or, with
  keep_io_types, float32 (as transformers.js's quantize script leaves them).
- to_q4: each MatMul by a constant weight becomes com.microsoft MatMulNBits (bits 4, block 32,
  symmetric, no zero points, so the default 8 applies), the layout onnxruntime's
  MatMul4BitsQuantizer writes: B uint8 [N, K/32, 16] (low nibble first), scales [N * K/32] in the
  activation's type. Applied to an fp16 graph it gives q4f16. Gathers (embeddings) stay as they are.
- to_int8: dynamic quantization as onnxruntime's IntegerOps quantizer does it: DynamicQuantizeLinear
  on the activation, MatMulInteger by an int8 weight (one scale per output column, zero point 0),
  Cast and Mul by the product of scales; the embedding table int8 (one scale) with a
  DequantizeLinear after its Gather.
- add_num_logits_to_keep: an int64 scalar input; logits only for the last N positions (0 = all),
  as transformers.js reads it.
- share_tied_embedding: the output layer reads the transposed embedding table instead of a copy.
- save: one file, or weights as external data in one or several files named as transformers.js
  expects (`model.onnx_data`, `model.onnx_data_1`, ...).
"""
import copy
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MS_DOMAIN = "com.microsoft"


def _initializers(graph):
    return {t.name: t for t in graph.initializer}


def _weight_matmuls(graph):
    """(node, weight array) for each MatMul whose second input is a 2-D float initializer."""
    inits = _initializers(graph)
    for node in graph.node:
        if node.op_type == "MatMul" and node.input[1] in inits:
            w = numpy_helper.to_array(inits[node.input[1]])
            if w.ndim == 2 and w.dtype in (np.float32, np.float16):
                yield node, w


def _replace_initializer(graph, name, array):
    for k, t in enumerate(graph.initializer):
        if t.name == name:
            graph.initializer[k].CopyFrom(numpy_helper.from_array(array, name))
            return
    raise KeyError(name)


def _drop_unused_initializers(graph):
    used = {i for n in graph.node for i in n.input}
    for t in [t for t in graph.initializer if t.name not in used]:
        graph.initializer.remove(t)


def _float_tensor_to_fp16(t):
    if t.data_type == TensorProto.FLOAT:
        t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float16), t.name))


def _position_only(graph):
    """The nodes that compute from position_ids and constants alone (the rotary angles), and their
    output tensors."""
    constants = {t.name for t in graph.initializer} | {o for n in graph.node if n.op_type == "Constant" for o in n.output}
    tensors, nodes = {"position_ids"}, []
    for node in graph.node:
        inputs = [i for i in node.input if i]
        if node.op_type != "Constant" and any(i in tensors for i in inputs) and all(i in tensors or i in constants for i in inputs):
            tensors.update(node.output)
            nodes.append(node)
    return nodes, tensors


def to_fp16(model, keep_io_types=False):
    """Float16 everywhere except the rotary angles, computed in float32 from position_ids and cast to
    float16 where they meet the attention (as transformers does, and fp16 exports keep it). With
    keep_io_types the float inputs and outputs (KV cache, logits) stay float32 behind Casts, as
    transformers.js's own fp16 conversion (keep_io_types=True) makes them."""
    m = copy.deepcopy(model)
    g = m.graph
    kept_nodes, kept = _position_only(g)
    kept_ids = {n.output[0] for n in kept_nodes}
    kept_inputs = {i for n in kept_nodes for i in n.input}
    other_inputs = {i for n in g.node if n.output[0] not in kept_ids for i in n.input}
    constants = {t.name for t in g.initializer} | {o for n in g.node if n.op_type == "Constant" for o in n.output}
    shared = kept_inputs & other_inputs & constants
    if shared:
        raise ValueError(f"constants used in float32 and float16: {sorted(shared)}")
    types = {v.name: v.type.tensor_type.elem_type for v in onnx.shape_inference.infer_shapes(model).graph.value_info}
    for t in g.initializer:
        if t.name not in kept_inputs:
            _float_tensor_to_fp16(t)
    for node in g.node:
        if node.output[0] in kept_ids or (node.op_type == "Constant" and node.output[0] in kept_inputs):
            continue
        for a in node.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                _float_tensor_to_fp16(a.t)
            elif node.op_type == "Cast" and a.name == "to" and a.i == TensorProto.FLOAT:
                a.i = TensorProto.FLOAT16
            elif a.type == onnx.AttributeProto.FLOAT and node.op_type == "Constant":
                raise ValueError(f"Constant {node.name} has a float attribute; expected a tensor")
    # Where a float32 rotary tensor meets the float16 graph, a Cast.
    for name in sorted(kept & other_inputs):
        if types.get(name) != TensorProto.FLOAT:
            continue
        for node in g.node:
            if node.output[0] not in kept_ids:
                for k, i in enumerate(node.input):
                    if i == name:
                        node.input[k] = f"{name}_fp16"
        producer = next(k for k, n in enumerate(g.node) if name in n.output)
        g.node.insert(producer + 1, helper.make_node("Cast", [name], [f"{name}_fp16"], to=TensorProto.FLOAT16, name=f"{name}_to_fp16"))
    float_inputs = [v for v in g.input if v.type.tensor_type.elem_type == TensorProto.FLOAT]
    float_outputs = [v for v in g.output if v.type.tensor_type.elem_type == TensorProto.FLOAT]
    if keep_io_types:
        for v in float_inputs:
            for node in g.node:
                for k, i in enumerate(node.input):
                    if i == v.name:
                        node.input[k] = f"{v.name}_fp16"
            g.node.insert(0, helper.make_node("Cast", [v.name], [f"{v.name}_fp16"], to=TensorProto.FLOAT16, name=f"{v.name}_to_fp16"))
        for v in float_outputs:
            for node in g.node:
                for k, o in enumerate(node.output):
                    if o == v.name:
                        node.output[k] = f"{v.name}_fp16"
                for k, i in enumerate(node.input):
                    if i == v.name:
                        node.input[k] = f"{v.name}_fp16"
            g.node.append(helper.make_node("Cast", [f"{v.name}_fp16"], [v.name], to=TensorProto.FLOAT, name=f"{v.name}_to_fp32"))
    else:
        for v in float_inputs + float_outputs:
            v.type.tensor_type.elem_type = TensorProto.FLOAT16
    del g.value_info[:]
    return m


def _use_ms_domain(model):
    if not any(o.domain == MS_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))


def _q4_blocks(w, block_size):
    """Symmetric 4-bit codes of a [K, N] weight, blocks of block_size along K: (codes 0-15 as
    [N, blocks, block_size] uint8, scales [N, blocks] in the weight's dtype); value = (code - 8) * scale."""
    k, n = w.shape
    blocks = -(-k // block_size)
    wt = np.zeros((n, blocks * block_size), dtype=np.float32)
    wt[:, :k] = w.T.astype(np.float32)
    wt = wt.reshape(n, blocks, block_size)
    scale = np.abs(wt).max(axis=-1) / 7.0
    scale[scale == 0] = 1.0
    scale = scale.astype(w.dtype)  # the dequantization uses the stored scale: quantize with it
    codes = (np.clip(np.round(wt / scale.astype(np.float32)[..., None]), -8, 7) + 8).astype(np.uint8)
    return codes, scale


def q4_dequantized(w, block_size=32):
    """The [K, N] weight that a MatMulNBits made by to_q4 multiplies by (for a PyTorch reference)."""
    codes, scale = _q4_blocks(w, block_size)
    deq = (codes.astype(np.float32) - 8) * scale.astype(np.float32)[..., None]
    return deq.reshape(w.shape[1], -1)[:, : w.shape[0]].T.astype(w.dtype)


def to_q4(model, block_size=32):
    m = copy.deepcopy(model)
    g = m.graph
    for node, w in list(_weight_matmuls(g)):
        k, n = w.shape
        codes, scale = _q4_blocks(w, block_size)
        packed = codes[..., 0::2] | (codes[..., 1::2] << 4)
        name = node.input[1]
        at = list(g.node).index(node)
        g.node.remove(node)
        g.node.insert(
            at,
            helper.make_node(
                "MatMulNBits",
                [node.input[0], f"{name}_Q4", f"{name}_scales"],
                list(node.output),
                name=f"{node.name}_Q4",
                domain=MS_DOMAIN,
                K=k,
                N=n,
                bits=4,
                block_size=block_size,
            ),
        )
        g.initializer.extend([numpy_helper.from_array(packed, f"{name}_Q4"), numpy_helper.from_array(scale.reshape(-1), f"{name}_scales")])
    _drop_unused_initializers(g)
    _use_ms_domain(m)
    return m


def to_int8(model):
    m = copy.deepcopy(model)
    g = m.graph
    for node, w in list(_weight_matmuls(g)):
        if w.dtype != np.float32:
            raise ValueError("int8 dynamic quantization expects an fp32 graph")
        name, a, y = node.input[1], node.input[0], node.output[0]
        scale = np.abs(w).max(axis=0) / 127.0
        scale[scale == 0] = 1.0
        q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
        p = f"{node.name or name}_int8"
        at = list(g.node).index(node)
        g.node.remove(node)
        new = [
            helper.make_node("DynamicQuantizeLinear", [a], [f"{p}_a", f"{p}_a_scale", f"{p}_a_zero"], name=f"{p}_quantize_a"),
            helper.make_node("MatMulInteger", [f"{p}_a", f"{name}_quantized", f"{p}_a_zero", f"{name}_zero"], [f"{p}_int32"], name=f"{p}_matmul"),
            helper.make_node("Cast", [f"{p}_int32"], [f"{p}_float"], to=TensorProto.FLOAT, name=f"{p}_cast"),
            helper.make_node("Mul", [f"{p}_a_scale", f"{name}_scale"], [f"{p}_scale"], name=f"{p}_scales"),
            helper.make_node("Mul", [f"{p}_float", f"{p}_scale"], [y], name=f"{p}_rescale"),
        ]
        for k, nd in enumerate(new):
            g.node.insert(at + k, nd)
        if not any(t.name == f"{name}_quantized" for t in g.initializer):
            g.initializer.extend([
                numpy_helper.from_array(q, f"{name}_quantized"),
                numpy_helper.from_array(scale.astype(np.float32), f"{name}_scale"),
                numpy_helper.from_array(np.zeros(scale.shape, dtype=np.int8), f"{name}_zero"),
            ])
    _quantize_embedding_gathers(g)
    _drop_unused_initializers(g)
    return m


def _quantize_embedding_gathers(graph):
    inits = _initializers(graph)
    for node in [n for n in graph.node if n.op_type == "Gather" and n.input[0] in inits]:
        table = numpy_helper.to_array(inits[node.input[0]])
        if table.ndim != 2 or table.dtype != np.float32 or table.shape[0] < 256:
            continue
        name = node.input[0]
        scale = np.float32(np.abs(table).max() / 127.0)
        q = np.clip(np.round(table / scale), -127, 127).astype(np.int8)
        graph.initializer.extend([
            numpy_helper.from_array(q, f"{name}_quantized"),
            numpy_helper.from_array(np.array(scale, dtype=np.float32), f"{name}_scale"),
            numpy_helper.from_array(np.array(0, dtype=np.int8), f"{name}_zero"),
        ])
        out = node.output[0]
        node.input[0] = f"{name}_quantized"
        node.output[0] = f"{out}_quantized"
        at = list(graph.node).index(node)
        graph.node.insert(at + 1, helper.make_node("DequantizeLinear", [f"{out}_quantized", f"{name}_scale", f"{name}_zero"], [out], name=f"{node.name}_dequantize"))


def add_num_logits_to_keep(model):
    """Slices the hidden states before the output layer to the last num_logits_to_keep positions."""
    m = copy.deepcopy(model)
    g = m.graph
    head = next(n for n in g.node if "logits" in n.output)
    hidden = head.input[0]
    g.initializer.extend([
        numpy_helper.from_array(np.array([np.iinfo(np.int64).max], dtype=np.int64), "num_logits_to_keep_end"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "num_logits_to_keep_axes"),
    ])
    at = list(g.node).index(head)
    for k, nd in enumerate([
        helper.make_node("Neg", ["num_logits_to_keep"], ["num_logits_to_keep_neg"], name="num_logits_to_keep_neg"),
        helper.make_node("Reshape", ["num_logits_to_keep_neg", "num_logits_to_keep_axes"], ["num_logits_to_keep_start"], name="num_logits_to_keep_start"),
        helper.make_node("Slice", [hidden, "num_logits_to_keep_start", "num_logits_to_keep_end", "num_logits_to_keep_axes"], ["kept_hidden_states"], name="num_logits_to_keep_slice"),
    ]):
        g.node.insert(at + k, nd)
    head.input[0] = "kept_hidden_states"
    g.input.append(helper.make_tensor_value_info("num_logits_to_keep", TensorProto.INT64, []))
    logits = next(o for o in g.output if o.name == "logits")
    logits.type.tensor_type.shape.dim[1].dim_param = "num_logits"
    return m


def share_tied_embedding(model):
    """Replaces the output layer's weight by a Transpose of the embedding table when they are equal
    (torch's export folds the transpose into a second copy)."""
    m = copy.deepcopy(model)
    g = m.graph
    tables = {t.name: numpy_helper.to_array(t) for t in g.initializer if any(n.op_type == "Gather" and n.input[0] == t.name for n in g.node)}
    for node, w in list(_weight_matmuls(g)):
        for tname, table in tables.items():
            if table.shape == w.shape[::-1] and np.array_equal(table.T, w):
                node.input[1] = f"{tname}_transposed"
                g.node.insert(list(g.node).index(node), helper.make_node("Transpose", [tname], [f"{tname}_transposed"], perm=[1, 0], name=f"{tname}_transpose"))
                break
    _drop_unused_initializers(g)
    return m


def data_file_names(onnx_name, chunks):
    return [f"{onnx_name}_data" + ("" if i == 0 else f"_{i}") for i in range(chunks)]


def save(model, path, chunks=0, min_bytes=1024):
    """Writes path; with chunks > 0 the initializers of at least min_bytes go to `chunks` external
    data files of about equal size, each tensor whole, 64-byte aligned."""
    if chunks == 0:
        onnx.save(model, path)
        return [path]
    m = copy.deepcopy(model)
    names = data_file_names(os.path.basename(path), chunks)
    tensors = [t for t in m.graph.initializer if len(numpy_helper.to_array(t).tobytes()) >= min_bytes]
    total = sum(len(numpy_helper.to_array(t).tobytes()) for t in tensors)
    files = [open(os.path.join(os.path.dirname(path), n), "wb") for n in names]
    written = 0
    for t in tensors:
        array = numpy_helper.to_array(t)
        data = array.tobytes()
        chunk = min(chunks - 1, written * chunks // max(total, 1))
        f = files[chunk]
        f.write(b"\0" * (-f.tell() % 64))
        offset = f.tell()
        f.write(data)
        written += len(data)
        t.CopyFrom(numpy_helper.from_array(array, t.name))
        onnx.external_data_helper.set_external_data(t, names[chunk], offset, len(data))
        t.data_location = TensorProto.EXTERNAL
        t.ClearField("raw_data")
    for f in files:
        f.close()
    onnx.save(m, path)
    return [path] + [os.path.join(os.path.dirname(path), n) for n in names]
