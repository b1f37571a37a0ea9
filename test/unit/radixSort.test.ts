import * as assert from 'assert';
import { firstDigitBits, radixSortRecords } from '../../src/core/ngram/radixSort';
import { xorshift32 } from './helpers';

/** The records as arrays, sorted stably by field `key` the plain way (Array.prototype.sort is stable). */
function expected(records: Uint32Array, count: number, stride: number, key: number): number[][] {
  const rows = Array.from({ length: count }, (_, i) => [...records.subarray(i * stride, (i + 1) * stride)]);
  return rows.sort((a, b) => a[key] - b[key]);
}

function rows(records: Uint32Array, count: number, stride: number): number[][] {
  return Array.from({ length: count }, (_, i) => [...records.subarray(i * stride, (i + 1) * stride)]);
}

describe('radixSortRecords', () => {
  // Limits that take 0, 1, 2 and 3 passes, with digits of unequal use (75,491 words: 17 bits in
  // two passes of 9), the key in the first, a middle and the last field, and more room than records.
  for (const [limit, stride, key, count] of [
    [1, 3, 1, 50],
    [2, 2, 0, 1000],
    [2048, 4, 3, 5000],
    [2049, 8, 0, 5000],
    [75_491, 6, 2, 20_000],
    [1 << 22, 8, 3, 20_000],
    [2 ** 32, 2, 1, 3000],
  ] as const) {
    it(`sorts ${count} records of ${stride} fields by field ${key} below ${limit}, stably`, () => {
      const next = xorshift32(limit * 31 + stride);
      const records = new Uint32Array(count * stride + 7);
      for (let i = 0; i < count * stride; i++) records[i] = next();
      // Keys below the limit, spread up to its top bits, with repeats so that stability shows (the
      // other fields tell the records apart).
      const distinct = Math.min(limit, Math.max(2, count >> 2));
      const step = Math.floor(limit / distinct);
      for (let i = 0; i < count; i++) records[i * stride + key] = (next() % distinct) * step;
      const want = expected(records, count, stride, key);
      const spare = new Uint32Array(records.length);
      const sorted = radixSortRecords(records, spare, count, stride, key, limit);
      assert.ok(sorted === records || sorted === spare);
      assert.deepStrictEqual(rows(sorted, count, stride), want);
    });
  }

  for (const limit of [2049, 75_491, 1_026_228]) {
    it(`finishes a sort below ${limit} whose first digit was sorted by already (sortedBits)`, () => {
      const stride = 8;
      const count = 20_000;
      const next = xorshift32(limit);
      const records = new Uint32Array(count * stride);
      for (let i = 0; i < records.length; i++) records[i] = next();
      for (let i = 0; i < count; i++) records[i * stride + 3] = next() % Math.min(limit, count >> 1);
      const want = expected(records, count, stride, 3);
      // The first digit's order, as trieRecords makes it: stably by the key's low bits.
      const low = (1 << firstDigitBits(limit)) - 1;
      const byLow = rows(records, count, stride).sort((a, b) => (a[3] & low) - (b[3] & low));
      const first = Uint32Array.from(byLow.flat());
      const sorted = radixSortRecords(first, new Uint32Array(first.length), count, stride, 3, limit, firstDigitBits(limit));
      assert.deepStrictEqual(rows(sorted, count, stride), want);
    });
  }

  it('leaves an empty list alone', () => {
    const records = new Uint32Array(0);
    assert.strictEqual(radixSortRecords(records, new Uint32Array(0), 0, 4, 0, 1000).length, 0);
  });
});
