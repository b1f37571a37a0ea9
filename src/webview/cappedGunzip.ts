import { ModelFormatError } from '../core/errors';
import { formatBytes, MAX_MODEL_BYTES } from '../core/modelLimits';

/**
 * A model file's bytes as chunks, gunzipped as a stream when they start with the gzip magic bytes;
 * stops once the output passes the cap (a gzip bomb stops early), and the consumer may stop
 * earlier (`return()` cancels the decompression).
 */
export async function* modelBytesChunks(bytes: Uint8Array, file: string, maxBytes = MAX_MODEL_BYTES): AsyncGenerator<Uint8Array> {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
    yield bytes;
    return;
  }
  const reader = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip')).getReader();
  let total = 0;
  try {
    for (;;) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (e) {
        throw new ModelFormatError(`corrupt gzip data: ${(e as Error).message}`, file);
      }
      if (next.done) return;
      total += next.value.length;
      if (total > maxBytes) throw new ModelFormatError(`decompresses to more than ${formatBytes(maxBytes)}, the limit for model data`, file);
      yield next.value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
