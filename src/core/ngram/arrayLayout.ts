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

/**
 * Decodes `out.length` elements stored in `layout` from `stored` (4 bytes per element) into `out`,
 * bit for bit. Four elements at a time: one 4-byte read from each plane gives their four bytes,
 * a quarter of the reads of going byte by byte (this runs over every n-gram on every load).
 */
export function decodeArray(stored: Uint8Array, layout: ArrayLayout, out: Uint32Array): void {
  const n = out.length;
  if (layout === 'plain') {
    new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(stored.subarray(0, 4 * n));
    return;
  }
  // Planes start at multiples of n: not 4-byte aligned in general, so read through a DataView.
  const view = new DataView(stored.buffer, stored.byteOffset, 4 * n);
  const p1 = n;
  const p2 = 2 * n;
  const p3 = 3 * n;
  const whole = n & ~3;
  const delta = layout === 'delta-planes';
  let sum = 0;
  let i = 0;
  for (; i < whole; i += 4) {
    const a = view.getUint32(i, true);
    const b = view.getUint32(p1 + i, true);
    const c = view.getUint32(p2 + i, true);
    const d = view.getUint32(p3 + i, true);
    // Element i + j is byte j of a, b, c and d, from the lowest byte to the highest.
    let x0 = (a & 0xff) | ((b & 0xff) << 8) | ((c & 0xff) << 16) | (d << 24);
    let x1 = ((a >>> 8) & 0xff) | (b & 0xff00) | ((c & 0xff00) << 8) | ((d & 0xff00) << 16);
    let x2 = ((a >>> 16) & 0xff) | ((b >>> 8) & 0xff00) | (c & 0xff0000) | ((d & 0xff0000) << 8);
    let x3 = (a >>> 24) | ((b >>> 16) & 0xff00) | ((c >>> 8) & 0xff0000) | (d & 0xff000000);
    if (delta) {
      x0 = sum = (sum + x0) | 0;
      x1 = sum = (sum + x1) | 0;
      x2 = sum = (sum + x2) | 0;
      x3 = sum = (sum + x3) | 0;
    }
    // Uint32Array stores take the value mod 2^32, so the sign of a 32-bit result does not matter.
    out[i] = x0;
    out[i + 1] = x1;
    out[i + 2] = x2;
    out[i + 3] = x3;
  }
  for (; i < n; i++) {
    const x = stored[i] | (stored[p1 + i] << 8) | (stored[p2 + i] << 16) | (stored[p3 + i] << 24);
    sum = delta ? (sum + x) | 0 : x;
    out[i] = sum;
  }
}
