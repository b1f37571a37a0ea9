/**
 * Sorting fixed-size records of 32-bit fields by one field, least significant digit first with
 * digits of at most 11 bits: each pass reads the records in order and appends each to one of at
 * most 2,048 buckets, so the places written are few enough to stay in the core's cache. A counting
 * sort by the whole key (as many buckets as values: 75,000 words, a million contexts) writes
 * all over arrays of tens of MiB instead, one cache miss per record.
 */

/** Bits per pass at most: 2^11 buckets, one cache line being filled in each, fit the L2 cache. */
const MAX_DIGIT_BITS = 11;

/** Bits of the keys below `limit`. */
export function keyBits(limit: number): number {
  return limit <= 1 ? 0 : 32 - Math.clz32(limit - 1);
}

/** The bits of the first pass (the least significant digit) of a sort of keys below `limit`. */
export function firstDigitBits(limit: number): number {
  return digitPlan(limit, 0).digitBits;
}

/** The passes of a sort of keys below `limit` whose bits below `sortedBits` are sorted already, and the bits of each pass's digit. */
export function digitPlan(limit: number, sortedBits: number): { passes: number; digitBits: number } {
  const bits = Math.max(0, keyBits(limit) - sortedBits);
  const passes = Math.ceil(bits / MAX_DIGIT_BITS);
  return { passes, digitBits: passes === 0 ? 0 : Math.ceil(bits / passes) };
}

/**
 * Sorts the first `count` records of `stride` fields in `records` by field `key` (values below
 * `limit`), stably; `spare` (at least as long) takes the passes in turn. Returns the array that
 * holds the sorted records: `records` or `spare`. `sortedBits`: the records are sorted by the
 * key's bits below this already (a first pass done while the records were made), the passes sort
 * by the bits above.
 */
export function radixSortRecords(
  records: Uint32Array,
  spare: Uint32Array,
  count: number,
  stride: number,
  key: number,
  limit: number,
  sortedBits = 0,
): Uint32Array {
  const { passes, digitBits } = digitPlan(limit, sortedBits);
  if (passes === 0) return records;
  const mask = (1 << digitBits) - 1;
  // The digits' counts of the next pass are taken while this pass moves the records (its key is at
  // hand): one read of the records per pass, not two.
  let counts = new Uint32Array(mask + 1);
  let nextCounts = new Uint32Array(mask + 1);
  for (let i = 0, at = key; i < count; i++, at += stride) counts[(records[at] >>> sortedBits) & mask]++;
  let from = records;
  let to = spare;
  for (let p = 0, shift = sortedBits; p < passes; p++, shift += digitBits) {
    let sum = 0;
    for (let d = 0; d <= mask; d++) {
      const c = counts[d];
      counts[d] = sum;
      sum += c;
    }
    const nextShift = p + 1 < passes ? shift + digitBits : 32;
    nextCounts.fill(0);
    movePass(from, to, count, stride, key, shift, nextShift, mask, counts, nextCounts);
    const t = from;
    from = to;
    to = t;
    const c = counts;
    counts = nextCounts;
    nextCounts = c;
  }
  return from;
}

/**
 * One pass: each record to the place its digit (key >>> shift) gives, counting the next pass's
 * digit (key >>> nextShift; none when nextShift is 32).
 */
function movePass(
  from: Uint32Array,
  to: Uint32Array,
  count: number,
  stride: number,
  key: number,
  shift: number,
  nextShift: number,
  mask: number,
  place: Uint32Array,
  nextCounts: Uint32Array,
): void {
  const last = nextShift === 32;
  for (let i = 0, at = 0; i < count; i++, at += stride) {
    const k = from[at + key];
    if (!last) nextCounts[(k >>> nextShift) & mask]++;
    copyRecord(from, at, to, place[(k >>> shift) & mask]++ * stride, stride);
  }
}

/**
 * The record of `stride` fields at from[at] copied to to[o]: written out for the record sizes that
 * the training uses (4 and 6 fields for orders 3 and 5 counted, 8 for the trie records), so that
 * it is no inner loop.
 */
export function copyRecord(from: Uint32Array, at: number, to: Uint32Array, o: number, stride: number): void {
  if (stride !== 8 && stride !== 6 && stride !== 4) {
    for (let f = at, end = at + stride; f < end; f++) to[o++] = from[f];
    return;
  }
  if (stride === 8) {
    to[o + 7] = from[at + 7];
    to[o + 6] = from[at + 6];
  }
  if (stride >= 6) {
    to[o + 5] = from[at + 5];
    to[o + 4] = from[at + 4];
  }
  to[o + 3] = from[at + 3];
  to[o + 2] = from[at + 2];
  to[o + 1] = from[at + 1];
  to[o] = from[at];
}
