/**
 * Sorting fixed-size records of 32-bit fields by one field, least significant digit first with
 * digits of at most 11 bits: each pass reads the records in order and appends each to one of at
 * most 2,048 buckets, so the places written are few enough to stay in the core's cache. A counting
 * sort by the whole key (as many buckets as values: 75,000 words, a million contexts) writes
 * all over arrays of tens of MiB instead, one cache miss per record.
 */

/** Bits per pass at most: 2^11 buckets, one cache line being filled in each, fit the L2 cache. */
const MAX_DIGIT_BITS = 11;

/**
 * Sorts the first `count` records of `stride` fields in `records` by field `key` (values below
 * `limit`), stably; `spare` (at least as long) takes the passes in turn. Returns the array that
 * holds the sorted records: `records` or `spare`.
 */
export function radixSortRecords(records: Uint32Array, spare: Uint32Array, count: number, stride: number, key: number, limit: number): Uint32Array {
  const bits = limit <= 1 ? 0 : 32 - Math.clz32(limit - 1);
  const passes = Math.ceil(bits / MAX_DIGIT_BITS);
  if (passes === 0) return records;
  const digitBits = Math.ceil(bits / passes);
  const mask = (1 << digitBits) - 1;
  const next = new Uint32Array(mask + 1);
  let from = records;
  let to = spare;
  for (let p = 0, shift = 0; p < passes; p++, shift += digitBits) {
    next.fill(0);
    for (let i = 0, at = key; i < count; i++, at += stride) next[(from[at] >>> shift) & mask]++;
    let sum = 0;
    for (let d = 0; d <= mask; d++) {
      const c = next[d];
      next[d] = sum;
      sum += c;
    }
    for (let i = 0, at = 0; i < count; i++, at += stride) {
      let place = next[(from[at + key] >>> shift) & mask]++ * stride;
      for (let f = at, end = at + stride; f < end; f++) to[place++] = from[f];
    }
    const t = from;
    from = to;
    to = t;
  }
  return from;
}
