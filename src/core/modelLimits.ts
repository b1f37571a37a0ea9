/**
 * The cap on a model's data: the file's size, and what a gzipped file decompresses to (checked as
 * the bytes come out). Shared by the Node loaders and the browser engine; a parameter of the
 * loaders, so that a setting can raise it.
 */
export const MAX_MODEL_BYTES = 1.5 * 1024 * 1024 * 1024;

/** An ONNX graph: onnxruntime cannot load a single protobuf file above 2 GiB anyway. */
export const MAX_ONNX_GRAPH_BYTES = 2 * 2 ** 30;

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${+(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${+(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${+(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} bytes`;
}
