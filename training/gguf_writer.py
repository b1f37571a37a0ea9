"""A GGUF version 3 writer (the file format of llama.cpp, LM Studio and Ollama): metadata, tensor
infos and tensor data, with float32, Q8_0 and Q4_0 tensors quantized as ggml's reference
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
TENSOR_TYPES = {"f32": (0, 1, 4), "f16": (1, 1, 2), "q4_0": (2, 32, 18), "q8_0": (8, 32, 34)}

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
