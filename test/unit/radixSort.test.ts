import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KneserNeyTrainer } from '../../src/core/ngram/kneserNey';
import { firstDigitBits, radixSortRecords } from '../../src/core/ngram/radixSort';
import { SHARED_SORT_MIN_RECORDS, sharedUint32, sortRecords, type SortHelper } from '../../src/core/ngram/sharedRadixSort';
import { countFilesInWorker, type CountedInWorker } from '../../src/node/parallelCounting';
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

describe('sortRecords on two threads (records in shared memory, the tokenizing worker helping)', function () {
  this.timeout(60_000);
  let counted: CountedInWorker;
  let dir: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-shared-sort-'));
    const text = path.join(dir, 'a.txt');
    fs.writeFileSync(text, 'a b c\n');
    counted = await countFilesInWorker(new KneserNeyTrainer({ order: 2 }), [text], path.join(__dirname, '..', '..', 'src', 'node', 'tokenizeWorker.js'));
  });
  after(() => {
    counted.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  // The training's record sizes (order 3 and 5 counts, trie records) and another; odd counts (the
  // halves differ); the first digit sorted already; keys crowded into few digits.
  for (const [limit, stride, key, count, sortedBits] of [
    [75_491, 4, 1, SHARED_SORT_MIN_RECORDS + 1, 0],
    [75_491, 6, 4, 150_001, 0],
    [1_026_228, 8, 3, 200_000, firstDigitBits(1_026_228)],
    [1 << 22, 5, 0, 100_003, 0],
    [2048, 8, 7, 70_000, 0],
  ] as const) {
    it(`sorts ${count} records of ${stride} fields by field ${key} below ${limit} as one thread does${sortedBits ? ', its first digit sorted already' : ''}`, () => {
      const next = xorshift32(count + stride);
      const records = sharedUint32(count * stride);
      for (let i = 0; i < records.length; i++) records[i] = next();
      const distinct = Math.min(limit, count >> 3);
      for (let i = 0; i < count; i++) records[i * stride + key] = (next() % distinct) * Math.floor(limit / distinct);
      if (sortedBits) {
        const low = (1 << sortedBits) - 1;
        const byLow = rows(records, count, stride).sort((a, b) => (a[key] & low) - (b[key] & low));
        records.set(byLow.flat());
      }
      const alone = Uint32Array.from(records);
      const aloneSorted = radixSortRecords(alone, new Uint32Array(alone.length), count, stride, key, limit, sortedBits);
      let helped = 0;
      const helper: SortHelper = { start: (job) => (helped++, counted.helper.start(job)) };
      const spare = sharedUint32(records.length);
      const sorted = sortRecords(records, spare, count, stride, key, limit, sortedBits, helper);
      assert.strictEqual(helped, 1, 'the worker took half of it');
      assert.strictEqual(sorted === records, aloneSorted === alone, 'the sorted records in the same one of the two arrays');
      assert.deepStrictEqual(sorted, aloneSorted);
    });
  }

  it('sorts on one thread what is too small, or not in shared memory', () => {
    let helped = 0;
    const helper: SortHelper = { start: () => void helped++ };
    const small = sharedUint32(4 * 100);
    sortRecords(small, sharedUint32(small.length), 100, 4, 0, 1000, 0, helper);
    const unshared = new Uint32Array(4 * SHARED_SORT_MIN_RECORDS);
    sortRecords(unshared, sharedUint32(unshared.length), SHARED_SORT_MIN_RECORDS, 4, 0, 1000, 0, helper);
    assert.strictEqual(helped, 0);
  });
});
