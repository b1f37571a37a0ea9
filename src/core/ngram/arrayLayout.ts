/**
 * How the n-gram file stores an array of 4-byte elements (u32 or f32 bits):
 *   plain         each element's little-endian bytes, as in memory: a reader views them in place.
 *   planes        byte plane by byte plane: the lowest byte of every element, then every second
 *                 byte, and so on. Neighbouring entries share their high bytes (the exponent of a
 *                 log-probability, the high bytes of a word id), which become long runs that gzip
 *                 compresses far better than the interleaved bytes.
 *   delta-planes  (u32 only) the difference of each element from the previous one (mod 2^32), in
 *                 planes: a childStart array ascends by small steps, so most differences fit a byte.
 * Decoding is one pass over the elements; the decoded arrays are checked like plain ones.
 */
export type ArrayLayout = 'plain' | 'planes' | 'delta-planes';

export const ARRAY_LAYOUTS: readonly ArrayLayout[] = ['plain', 'planes', 'delta-planes'];

/** The bytes that store `values` in `layout` (a view of `values` itself when plain). */
export function encodeArray(values: Uint32Array | Float32Array, layout: ArrayLayout): Uint8Array {
  if (layout === 'plain') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const n = bits.length;
  const out = new Uint8Array(4 * n);
  const delta = layout === 'delta-planes';
  let previous = 0;
  for (let i = 0; i < n; i++) {
    const v = bits[i];
    const x = delta ? (v - previous) >>> 0 : v;
    previous = v;
    // Uint8Array stores keep the low 8 bits.
    out[i] = x;
    out[n + i] = x >>> 8;
    out[2 * n + i] = x >>> 16;
    out[3 * n + i] = x >>> 24;
  }
  return out;
}

/** Decodes `out.length` elements stored in `layout` from `stored` (4 bytes per element) into `out`, bit for bit. */
export function decodeArray(stored: Uint8Array, layout: ArrayLayout, out: Uint32Array): void {
  const n = out.length;
  if (layout === 'plain') {
    new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(stored);
    return;
  }
  const b0 = stored.subarray(0, n);
  const b1 = stored.subarray(n, 2 * n);
  const b2 = stored.subarray(2 * n, 3 * n);
  const b3 = stored.subarray(3 * n, 4 * n);
  if (layout === 'planes') {
    // Uint32Array stores take the value mod 2^32, so the sign of b3 << 24 does not matter.
    for (let i = 0; i < n; i++) out[i] = b0[i] | (b1[i] << 8) | (b2[i] << 16) | (b3[i] << 24);
    return;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum = (sum + (b0[i] | (b1[i] << 8) | (b2[i] << 16) | (b3[i] << 24))) >>> 0;
    out[i] = sum;
  }
}
