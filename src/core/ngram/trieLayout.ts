/**
 * Laying out one order of a model being trained in trie order (by first word, then by the rest)
 * from the suffix order its adjusted counts come in (adjustedCounts.ts): records made from the
 * suffix-ordered n-grams, radix-sorted by their suffix's place in the order below, given that
 * suffix's context and probability, then sorted stably by their first word.
 *
 * The first two steps of order k+1 need only order k's trie order, not its probabilities, so a
 * thread that helps (the tokenizing worker, idle by then) can do them while the training thread
 * estimates order k (`startNextOrder`, `TrieRecordsJob`).
 */
import { LmError } from '../errors';
import { ADJUSTED, FIELDS, FIRST, LAST, SUFFIX, type AdjustHelper, type SuffixOrdered } from './adjustedCounts';
import { firstDigitBits, radixSortRecords } from './radixSort';
import { isShared, sharedUint32, SHARED_SORT_MIN_RECORDS, sortRecords, type SortHelper } from './sharedRadixSort';

/**
 * An n-gram in trie order, 8 numbers: FIRST, ADJUSTED and SUFFIX (here its suffix's place in trie
 * order) at their places in suffix order; its index in suffix order instead of LAST; its last word,
 * its suffix's context's place, and its probability (a float64 in the last two).
 */
export const T_FIELDS = 8;
export const T_INDEX = LAST;
export const T_WORD = 4;
export const T_TARGET = 5;
export const T_PROB_STRIDE = T_FIELDS / 2;
export const T_PROB = 3;

/**
 * The thread that helps a training: it sorts, adjusts counts, and lays out the next order's records
 * on its own (it runs `runTrieRecordsJob`; its memory is shared with this one).
 */
export interface TrainingHelper extends AdjustHelper {
  layOut?(job: TrieRecordsJob): void;
  /**
   * Called on this thread when it is about to wait for the helper: a moment to collect its own
   * garbage (the counts' tables and the sorts' arrays, freed only when every thread that saw them
   * has collected; the peak of order 5 on the shared corpus was 60 MiB higher without it).
   */
  idle?(): void;
}

/**
 * Order k+1's records made and sorted by their suffix's place, by a helping thread, from order k
 * in trie order; all arrays in shared memory.
 */
export interface TrieRecordsJob {
  /** Order k in trie order (T_FIELDS records) and its size. */
  lower: Uint32Array;
  lowerCount: number;
  /** Order k+1 in suffix order (FIELDS records). */
  suffixOrdered: Uint32Array;
  count: number;
  /** Written: order k's trie place by its index in suffix order. */
  trieOf: Uint32Array;
  /** Written: the records, sorted in one of the two. */
  records: Uint32Array;
  spare: Uint32Array;
  /** [state (0 running, 1 done, 2 failed), which array holds the sorted records (0 records, 1 spare), counts of counts 0..4]. */
  sync: Int32Array;
}

/** Order k+1's records sorted by their suffix's place, and its counts of adjusted counts below 5. */
export interface RecordsBySuffixPlace {
  sorted: Uint32Array;
  /** The other array of the sort, as long: the next sort's. */
  spare: Uint32Array;
  countsOfCounts: number[];
}

/**
 * Order k's n-grams (in suffix order) as T_FIELDS records in `records`, with their suffix's place
 * in order k-1's trie order (`lowerTrieOf` maps the suffix's index in suffix order to it; absent
 * for bigrams, whose suffix is a word id, below `parentCount`), put in the order of that place's
 * least significant digit: the first pass of the radix sort, done while the records are made (one
 * write of each record, not two). The suffixes ascend, so `lowerTrieOf` is read in order.
 * `countsOfCounts[a]` counts the adjusted counts a < 5 (for the order's discounts).
 */
function trieRecords(
  { count, ngrams: g }: SuffixOrdered,
  lowerTrieOf: Uint32Array | undefined,
  parentCount: number,
  countsOfCounts: number[],
  records: Uint32Array,
): void {
  const mask = (1 << firstDigitBits(parentCount)) - 1;
  const place = new Uint32Array(count);
  const next = new Uint32Array(mask + 1);
  for (let j = 0, from = SUFFIX; j < count; j++, from += FIELDS) {
    const s = g[from];
    const p = lowerTrieOf ? lowerTrieOf[s] : s;
    place[j] = p;
    next[p & mask]++;
  }
  let sum = 0;
  for (let d = 0; d <= mask; d++) {
    const c = next[d];
    next[d] = sum;
    sum += c;
  }
  for (let j = 0, from = 0; j < count; j++, from += FIELDS) {
    const p = place[j];
    const at = next[p & mask]++ * T_FIELDS;
    const a = g[from + ADJUSTED];
    if (a < 5) countsOfCounts[a]++;
    records[at + FIRST] = g[from + FIRST];
    records[at + T_INDEX] = j;
    records[at + ADJUSTED] = a;
    records[at + SUFFIX] = p;
    records[at + T_WORD] = g[from + LAST];
  }
}

/** Order k's records sorted by their suffix's place, on this thread (and the helper's, in its sorts). */
export function recordsBySuffixPlace(
  order: SuffixOrdered,
  lowerTrieOf: Uint32Array | undefined,
  parentCount: number,
  helper: SortHelper | undefined,
): RecordsBySuffixPlace {
  const length = order.count * T_FIELDS;
  const records = helper ? sharedUint32(length) : new Uint32Array(length);
  const spare = helper ? sharedUint32(length) : new Uint32Array(length);
  const countsOfCounts = [0, 0, 0, 0, 0];
  trieRecords(order, lowerTrieOf, parentCount, countsOfCounts, records);
  const sorted = sortRecords(records, spare, order.count, T_FIELDS, SUFFIX, parentCount, firstDigitBits(parentCount), helper);
  return { sorted, spare: sorted === records ? spare : records, countsOfCounts };
}

/**
 * The records of an order sorted by their suffix's place, in trie order: each given its suffix's
 * context's place and probability first (read in order, as the suffixes ascend), then sorted
 * stably by the first word.
 */
export function trieOrder(
  { sorted, spare }: RecordsBySuffixPlace,
  count: number,
  vocabSize: number,
  lowerContext: Uint32Array | undefined,
  lowerProb: Float64Array,
  lowerProbAt: number,
  lowerProbStride: number,
  helper: SortHelper | undefined,
): Uint32Array {
  const prob = new Float64Array(sorted.buffer, sorted.byteOffset, sorted.length >>> 1);
  for (let i = 0, at = 0; i < count; i++, at += T_FIELDS) {
    const f = sorted[at + SUFFIX];
    if (lowerContext) sorted[at + T_TARGET] = lowerContext[f];
    prob[i * T_PROB_STRIDE + T_PROB] = lowerProb[f * lowerProbStride + lowerProbAt];
  }
  return sortRecords(sorted, spare, count, T_FIELDS, FIRST, vocabSize, 0, helper);
}

/** The next order's records being laid out by the helper. */
export interface NextOrder {
  job: TrieRecordsJob;
  helper: TrainingHelper;
}

/**
 * Hands the helper the next order's records to make and sort by suffix place (order `count`'s
 * trie order `lower` is final), for this thread to estimate the order meanwhile; undefined when
 * there is no such helper or the order is too small to be worth it (the caller then makes them
 * itself, with `lowerTrieOf`).
 */
export function startNextOrder(helper: TrainingHelper | undefined, lower: Uint32Array, lowerCount: number, next: SuffixOrdered): NextOrder | undefined {
  if (!helper?.layOut || next.count < SHARED_SORT_MIN_RECORDS || !isShared(lower) || !isShared(next.ngrams)) return undefined;
  const length = next.count * T_FIELDS;
  const job: TrieRecordsJob = {
    lower,
    lowerCount,
    suffixOrdered: next.ngrams,
    count: next.count,
    trieOf: sharedUint32(lowerCount),
    records: sharedUint32(length),
    spare: sharedUint32(length),
    sync: new Int32Array(new SharedArrayBuffer(7 * 4)),
  };
  helper.layOut(job);
  return { job, helper };
}

/**
 * How long this thread waits for the helper's records: they take about what estimating an order
 * takes (seconds for a corpus of hundreds of MB); a thread that stopped would never answer.
 */
const HELPER_TIMEOUT_MS = 120_000;

/** The helper's records, once it has made and sorted them. */
export function finishNextOrder({ job, helper }: NextOrder): RecordsBySuffixPlace {
  const { sync } = job;
  if (Atomics.load(sync, 0) === 0) helper.idle?.();
  const until = Date.now() + HELPER_TIMEOUT_MS;
  while (Atomics.load(sync, 0) === 0) {
    const left = until - Date.now();
    if (left <= 0) throw new LmError(`the thread helping to lay out the model did not answer for ${HELPER_TIMEOUT_MS / 1000} s (it stopped?)`);
    Atomics.wait(sync, 0, 0, left);
  }
  if (Atomics.load(sync, 0) !== 1) throw new LmError('the thread helping to lay out the model failed');
  const inSpare = sync[1] === 1;
  return {
    sorted: inSpare ? job.spare : job.records,
    spare: inSpare ? job.records : job.spare,
    countsOfCounts: Array.from(sync.subarray(2, 7)),
  };
}

/** The helper's side of startNextOrder: the job done, or marked failed (never left waiting). */
export function runTrieRecordsJob(job: TrieRecordsJob): void {
  const { lower, lowerCount, trieOf, records, spare, sync } = job;
  try {
    for (let i = 0, at = T_INDEX; i < lowerCount; i++, at += T_FIELDS) trieOf[lower[at]] = i;
    const countsOfCounts = [0, 0, 0, 0, 0];
    trieRecords({ count: job.count, ngrams: job.suffixOrdered }, trieOf, lowerCount, countsOfCounts, records);
    const sorted = radixSortRecords(records, spare, job.count, T_FIELDS, SUFFIX, lowerCount, firstDigitBits(lowerCount));
    sync.set(countsOfCounts, 2);
    sync[1] = sorted === records ? 0 : 1;
    Atomics.store(sync, 0, 1);
  } catch {
    Atomics.store(sync, 0, 2);
  }
  Atomics.notify(sync, 0);
}
