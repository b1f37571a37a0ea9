import { ModelFormatError } from '../core/errors';
import { MAX_MODEL_BYTES } from '../core/modelLimits';

/** Decompresses as a stream and stops once the output passes the cap (a gzip bomb stops early). */
export async function gunzipIfNeeded(bytes: Uint8Array, file: string, maxBytes = MAX_MODEL_BYTES): Promise<Uint8Array> {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const reader = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip')).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel();
      throw new ModelFormatError(`decompresses to more than ${maxBytes} bytes, the limit for model data`, file);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
