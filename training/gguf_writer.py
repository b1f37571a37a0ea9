"""A GGUF version 3 writer (the file format of llama.cpp, LM Studio and Ollama): metadata, tensor
infos and tensor data, with float32, Q8_0, Q4_0 and Q6_K tensors quantized as ggml's reference
quantizers do (ggml-org/ggml docs/gguf.md describes the format).

    w = GgufWriter()
    w.add("general.architecture", "llama")            # type from the Python value (see add)
    w.add_tensor("token_embd.weight", array, "f32")    # array [rows, row length], as PyTorch stores it
    w.write("model.gguf")
"""
import struct

import numpy as np

GGUF_MAGIC = b"GGUF"
GGUF_VERSION = 3
ALIGNMENT = 32

# gguf_metadata_value_type
UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64 = range(13)

# ggml_type and its block: (type id, values per block, bytes per block)
TENSOR_TYPES = {"f32": (0, 1, 4), "f16": (1, 1, 2), "q4_0": (2, 32, 18), "q8_0": (8, 32, 34), "q6_k": (14, 256, 210)}

# general.file_type (llama_ftype) of a file whose matrices have that type
FILE_TYPES = {"f32": 0, "f16": 1, "q4_0": 2, "q8_0": 7}


class Typed:
    """A metadata value with an explicit type (UINT32 …), where the Python type does not say which."""

    def __init__(self, kind, value):
        self.kind = kind
        self.value = value


def _string(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


_SCALAR_FORMATS = {UINT8: "<B", INT8: "<b", UINT16: "<H", INT16: "<h", UINT32: "<I", INT32: "<i", FLOAT32: "<f", BOOL: "<?", UINT64: "<Q", INT64: "<q", FLOAT64: "<d"}


def _kind_of(value):
    if isinstance(value, Typed):
        return value.kind
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return UINT32 if value >= 0 else INT32
    if isinstance(value, float):
        return FLOAT32
    if isinstance(value, str):
        return STRING
    if isinstance(value, (list, tuple)):
        return ARRAY
    raise TypeError(f"no GGUF type for {type(value).__name__}")


def _value(kind, value):
    if kind == ARRAY:
        items = list(value.value if isinstance(value, Typed) else value)
        item_kind = value.item_kind if isinstance(value, TypedArray) else (_kind_of(items[0]) if items else UINT32)
        if item_kind in _SCALAR_FORMATS:
            return struct.pack("<IQ", item_kind, len(items)) + np.asarray(items, dtype=_SCALAR_FORMATS[item_kind]).tobytes()
        return struct.pack("<IQ", item_kind, len(items)) + b"".join(_value(item_kind, v) for v in items)
    if isinstance(value, Typed):
        value = value.value
    if kind == STRING:
        return _string(value)
    return struct.pack(_SCALAR_FORMATS[kind], value)


class TypedArray(Typed):
    """An array whose items have an explicit type (FLOAT32 scores, INT32 token types)."""

    def __init__(self, item_kind, items):
        super().__init__(ARRAY, list(items))
        self.item_kind = item_kind


def quantize_q8_0(x):
    """ggml's quantize_row_q8_0_ref on rows whose length is a multiple of 32: per block a float16 scale amax/127 and 32 int8."""
    blocks = x.astype(np.float32).reshape(-1, 32)
    amax = np.abs(blocks).max(axis=1)
    d = amax / 127
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d != 0).astype(np.float32)
    # roundf: halves away from zero (numpy's round goes to even)
    scaled = blocks * inv[:, None]
    q = (np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)).astype(np.int8)
    out = np.empty((blocks.shape[0], 34), dtype=np.uint8)
    out[:, :2] = d.astype(np.float16).view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q.view(np.uint8)
    return out.tobytes()


def quantize_q4_0(x):
    """ggml's quantize_row_q4_0_ref: per block of 32 a float16 scale (the value of largest magnitude over -8) and 16 bytes of nibbles."""
    blocks = x.astype(np.float32).reshape(-1, 32)
    idx = np.abs(blocks).argmax(axis=1)
    vmax = blocks[np.arange(blocks.shape[0]), idx]
    d = vmax / -8
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d != 0).astype(np.float32)
    # (int8_t)(x + 8.5f) truncates toward zero; MIN(15, …)
    q = np.minimum(15, np.trunc(blocks * inv[:, None] + np.float32(8.5)).astype(np.int8)).astype(np.uint8)
    out = np.empty((blocks.shape[0], 18), dtype=np.uint8)
    out[:, :2] = d.astype(np.float16).view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q[:, :16] | (q[:, 16:] << 4)
    return out.tobytes()


def _nearest_int(x):
    """ggml's nearest_int: to the nearest integer, halves to even (its float trick adds 1.5 * 2**23)."""
    return np.rint(x).astype(np.int32)


def _q6_k_sub_block_scales(x):
    """make_qx_quants(16, 32, x, L, rmse_type 1) on every row of x [n, 16]: a scale each, picked among
    the 19 candidates -(32 + 0.1 is)/max (is = 0, -9 … 9) by the error weighted by x²."""
    x = x.astype(np.float32)
    idx = np.abs(x).argmax(axis=1)
    vmax = x[np.arange(x.shape[0]), idx]
    zero = np.abs(vmax) < 1e-15
    safe = np.where(zero, np.float32(1), vmax)
    w = x * x
    best_scale = np.zeros(x.shape[0], dtype=np.float32)
    best = np.full(x.shape[0], -np.inf, dtype=np.float32)
    for k, step in enumerate([0] + [s for s in range(-9, 10) if s != 0]):
        iscale = (-(np.float32(32) + np.float32(0.1) * np.float32(step)) / safe).astype(np.float32)
        l = np.clip(_nearest_int(iscale[:, None] * x), -32, 31).astype(np.float32)
        sumlx = (w * x * l).sum(axis=1, dtype=np.float32)
        suml2 = (w * l * l).sum(axis=1, dtype=np.float32)
        scale = np.divide(sumlx, suml2, out=np.zeros_like(sumlx), where=suml2 != 0)
        if k == 0:
            better = np.ones(x.shape[0], dtype=bool)  # the first candidate is where the search starts
        else:
            better = (suml2 > 0) & (sumlx * sumlx > best * suml2)
        best_scale = np.where(better, scale, best_scale)
        best = np.where(better, scale * sumlx, best)
    return np.where(zero, np.float32(0), best_scale).astype(np.float32)


def quantize_q6_k(x):
    """ggml's quantize_row_q6_K_ref on rows whose length is a multiple of 256: per super-block of 256
    a float16 scale, 16 int8 scales (one per 16 values) and 6-bit quants stored as 4 low bits (ql)
    and 2 high bits (qh), in the order ggml's dot products read them."""
    blocks = x.astype(np.float32).reshape(-1, 256)
    n = blocks.shape[0]
    scales = _q6_k_sub_block_scales(blocks.reshape(-1, 16)).reshape(n, 16)
    pick = np.abs(scales).argmax(axis=1)
    max_scale = scales[np.arange(n), pick]
    empty = np.abs(max_scale) < 1e-15
    iscale = (np.float32(-128) / np.where(empty, np.float32(1), max_scale)).astype(np.float32)
    d16 = np.where(empty, 0, (np.float32(1) / iscale)).astype(np.float16)
    sc = np.where(empty[:, None], 0, np.minimum(127, _nearest_int(iscale[:, None] * scales))).astype(np.int8)
    d = d16.astype(np.float32)[:, None] * sc.astype(np.float32)  # [n, 16]
    sub = blocks.reshape(n, 16, 16)
    q = np.clip(_nearest_int(np.divide(sub, d[:, :, None], out=np.zeros_like(sub), where=d[:, :, None] != 0)), -32, 31)
    # A sub-block whose scale is 0 gets quants of 0 here (ggml keeps its search's; either way they multiply 0).
    L = (q + 32).astype(np.uint8).reshape(n, 2, 4, 32)  # [block, half of 128, quarter of 32, l]
    ql = np.concatenate([L[:, :, 0] & 15 | (L[:, :, 2] & 15) << 4, L[:, :, 1] & 15 | (L[:, :, 3] & 15) << 4], axis=2)
    qh = L[:, :, 0] >> 4 | (L[:, :, 1] >> 4) << 2 | (L[:, :, 2] >> 4) << 4 | (L[:, :, 3] >> 4) << 6
    out = np.empty((n, 210), dtype=np.uint8)
    out[:, :128] = ql.reshape(n, 128)
    out[:, 128:192] = qh.reshape(n, 64)
    out[:, 192:208] = sc.view(np.uint8)
    out[:, 208:] = d16.view(np.uint8).reshape(n, 2)
    return out.tobytes()


def dequantize(data, kind, shape):
    """The float32 values a quantized tensor stands for (for references and tests)."""
    if kind == "f32":
        return np.frombuffer(data, dtype=np.float32).reshape(shape)
    raw = np.frombuffer(data, dtype=np.uint8)
    if kind == "q8_0":
        b = raw.reshape(-1, 34)
        d = b[:, :2].copy().view(np.float16).astype(np.float32)
        return (b[:, 2:].view(np.int8).astype(np.float32) * d).reshape(shape)
    if kind == "q4_0":
        b = raw.reshape(-1, 18)
        d = b[:, :2].copy().view(np.float16).astype(np.float32)
        q = np.concatenate([b[:, 2:] & 15, b[:, 2:] >> 4], axis=1).astype(np.float32) - 8
        return (q * d).reshape(shape)
    if kind == "q6_k":
        b = raw.reshape(-1, 210)
        n = b.shape[0]
        ql = b[:, :128].reshape(n, 2, 64)
        qh = b[:, 128:192].reshape(n, 2, 32)
        low = np.stack([ql[:, :, :32] & 15, ql[:, :, 32:] & 15, ql[:, :, :32] >> 4, ql[:, :, 32:] >> 4], axis=2)
        high = np.stack([qh & 3, qh >> 2 & 3, qh >> 4 & 3, qh >> 6 & 3], axis=2)
        q = (low | high << 4).astype(np.float32).reshape(n, 16, 16) - 32
        sc = b[:, 192:208].copy().view(np.int8).astype(np.float32)
        d = b[:, 208:].copy().view(np.float16).astype(np.float32)
        return (q * (d * sc)[:, :, None]).reshape(shape)
    raise ValueError(kind)


class GgufWriter:
    def __init__(self):
        self.metadata = []
        self.tensors = []

    def add(self, key, value):
        """A metadata entry: bool, int (UINT32; INT32 if negative), float (FLOAT32), str, list, or Typed / TypedArray."""
        self.metadata.append((key, _kind_of(value), value))

    def add_tensor(self, name, array, kind="f32"):
        """A tensor given as PyTorch stores it (outermost dimension first); GGUF lists the dimensions innermost first."""
        array = np.ascontiguousarray(array, dtype=np.float32)
        type_id, block, _ = TENSOR_TYPES[kind]
        if array.shape[-1] % block:
            raise ValueError(f"{name}: rows of {array.shape[-1]} values do not split into blocks of {block} ({kind})")
        if kind == "f32":
            data = array.tobytes()
        elif kind == "f16":
            data = array.astype(np.float16).tobytes()
        elif kind == "q8_0":
            data = quantize_q8_0(array)
        elif kind == "q6_k":
            data = quantize_q6_k(array)
        else:
            data = quantize_q4_0(array)
        self.tensors.append((name, tuple(reversed(array.shape)), type_id, data))
        return data

    def write(self, path):
        head = bytearray(GGUF_MAGIC + struct.pack("<IQQ", GGUF_VERSION, len(self.tensors), len(self.metadata) + 1))
        head += _string("general.alignment") + struct.pack("<I", UINT32) + struct.pack("<I", ALIGNMENT)
        for key, kind, value in self.metadata:
            head += _string(key) + struct.pack("<I", kind) + _value(kind, value)
        offset = 0
        offsets = []
        for name, dims, type_id, data in self.tensors:
            offsets.append(offset)
            head += _string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
            head += struct.pack("<IQ", type_id, offset)
            offset += -(-len(data) // ALIGNMENT) * ALIGNMENT
        head += b"\0" * (-len(head) % ALIGNMENT)
        with open(path, "wb") as f:
            f.write(head)
            for (_, _, _, data), at in zip(self.tensors, offsets):
                f.write(data)
                f.write(b"\0" * (-len(data) % ALIGNMENT))
