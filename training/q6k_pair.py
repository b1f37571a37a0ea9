"""Writes two GGUF files of one model that differ only in how the token embedding is stored: as Q6_K
blocks (gguf_writer.quantize_q6_k), and as the float32 values those blocks stand for
(gguf_writer.dequantize). The output matrix is written apart, in float32, so that the embedding is
only looked up by row, which llama.cpp does by dequantizing exactly: if llama.cpp reads the Q6_K
blocks as this writer means them, the two files give equal log-probs (test/unit/gguf.test.ts).

    /usr/bin/python3 training/q6k_pair.py models/gpt-classics Q6K.gguf F32.gguf

The model's rows must split into Q6_K's blocks of 256 (gpt-classics: 256).
"""
import sys

import numpy as np

import export_gguf
import gguf_writer


def write(folder, out, embedding):
    """export_gguf's f32 file, with token_embd stored by `embedding(array)` -> (array, type) and output.weight apart."""
    add_tensor = gguf_writer.GgufWriter.add_tensor

    def patched(self, name, array, kind="f32"):
        if name != "token_embd.weight":
            return add_tensor(self, name, array, kind)
        add_tensor(self, "output.weight", array, "f32")
        return add_tensor(self, name, *embedding(np.ascontiguousarray(array, dtype=np.float32)))

    gguf_writer.GgufWriter.add_tensor = patched
    try:
        export_gguf.export(folder, out, "f32")
    finally:
        gguf_writer.GgufWriter.add_tensor = add_tensor


def main():
    if len(sys.argv) != 4:
        raise SystemExit("usage: q6k_pair.py FOLDER Q6K.gguf F32.gguf")
    folder, q6k, f32 = sys.argv[1:]
    write(folder, q6k, lambda a: (a, "q6_k"))
    write(folder, f32, lambda a: (gguf_writer.dequantize(gguf_writer.quantize_q6_k(a), "q6_k", a.shape), "f32"))


if __name__ == "__main__":
    main()
