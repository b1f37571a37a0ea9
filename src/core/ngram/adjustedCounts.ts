/**
 * Every order's n-grams and Kneser-Ney adjusted counts from the highest order's counts alone
 * (left-padded with `<s>`, see ngramCounter.ts), by sorting them in suffix order (last word
 * first, then the one before, …) as lmplz's adjust_counts does: then the n-grams ending in the same
 * k words are consecutive, so one pass finds each k-gram (a run of equal k-word suffixes), its
 * adjusted count (the number of distinct (k+1)-word suffixes in its run, or, for a k-gram that
 * starts with `<s>`, its occurrences: the counts in its run) and the (k-1)-gram it ends with.
 * Suffixes with `<s>` after their first word are padding, not n-grams.
 */
import type { CountedNgrams } from './ngramCounter';
import { sharedUint32, sortRecords, type SortHelper } from './sharedRadixSort';

/** Fields of an n-gram in `SuffixOrdered.ngrams`, 4 numbers each (one read of memory gets them all). */
export const FIRST = 0;
export const LAST = 1;
export const ADJUSTED = 2;
/** Index of the (k-1)-gram it ends with in order k-1's list (for bigrams: the word id); non-decreasing. */
export const SUFFIX = 3;
export const FIELDS = 4;

/** One order k ≥ 2, its n-grams in suffix order: first word, last word, adjusted count, suffix. */
export interface SuffixOrdered {
  count: number;
  ngrams: Uint32Array;
}

export interface AdjustedCounts {
  /** By word id (the unigrams' suffix order). */
  unigrams: Uint32Array;
  /** Orders 2..N at index k-2. */
  orders: SuffixOrdered[];
}

/**
 * `counted` is consumed: its arrays are reused or dropped. With `helper` (and the records in
 * shared memory) the sort runs on two threads.
 */
export function adjustedCounts(counted: CountedNgrams, order: number, vocabSize: number, bos: number, helper?: SortHelper): AdjustedCounts {
  const N = order;
  const S = N + 1;
  const r = sortBySuffix(counted, N, vocabSize, helper);
  const M = counted.size;
  const unigrams = new Uint32Array(vocabSize);

  // Pass 1: how many words each entry's suffix shares with the previous entry's, and each order's size.
  const same = new Uint8Array(M);
  const sizes = new Array<number>(N + 1).fill(0);
  for (let i = 0, at = 0; i < M; i++, at += S) {
    let s = 0;
    if (i > 0) while (s < N - 1 && r[at + N - 1 - s] === r[at - S + N - 1 - s]) s++;
    same[i] = s;
    for (let k = Math.max(s + 1, 2); k <= N; k++) {
      if (r[at + N - k + 1] === bos) break;
      sizes[k]++;
    }
  }

  const orders: SuffixOrdered[] = [];
  for (let k = 2; k <= N; k++) {
    const c = sizes[k];
    orders.push({ count: c, ngrams: new Uint32Array(c * FIELDS) });
  }
  // Pass 2: per order, the current run's index (-1: padding) and whether its n-gram starts with <s>.
  const cur = new Int32Array(N + 1).fill(-1);
  const startsWithBos = new Uint8Array(N + 1);
  const next = new Uint32Array(N + 1);
  for (let i = 0, at = 0; i < M; i++, at += S) {
    const s = same[i];
    const w = r[at + N - 1];
    let k = s + 1;
    if (k === 1) {
      cur[1] = w;
      k = 2;
    }
    for (; k <= N; k++) {
      if (r[at + N - k + 1] === bos) {
        for (; k <= N; k++) cur[k] = -1;
        break;
      }
      const g = orders[k - 2].ngrams;
      const place = next[k]++;
      const f = r[at + N - k];
      g[place * FIELDS + FIRST] = f;
      g[place * FIELDS + LAST] = w;
      g[place * FIELDS + SUFFIX] = cur[k - 1];
      cur[k] = place;
      startsWithBos[k] = f === bos ? 1 : 0;
    }
    const count = r[at + N];
    if (N === 1) {
      unigrams[w] += count;
      continue;
    }
    // A unigram never starts with <s>: it counts its distinct left extensions.
    if (s < 2) unigrams[w]++;
    for (let k = 2; k < N; k++) {
      const place = cur[k];
      if (place < 0) break;
      if (startsWithBos[k]) orders[k - 2].ngrams[place * FIELDS + ADJUSTED] += count;
      else if (s < k + 1) orders[k - 2].ngrams[place * FIELDS + ADJUSTED]++;
    }
    if (cur[N] >= 0) orders[N - 2].ngrams[cur[N] * FIELDS + ADJUSTED] = count;
  }
  return { unigrams, orders };
}

/**
 * The entries' records sorted by their words from the last to the second (the first word's order
 * within a run does not matter: each entry is its own n-gram): stable radix sorts, least
 * significant word first.
 */
function sortBySuffix(counted: CountedNgrams, N: number, vocabSize: number, helper: SortHelper | undefined): Uint32Array {
  let records: Uint32Array = counted.records;
  if (N === 1) return records;
  let spare: Uint32Array = helper ? sharedUint32(records.length) : new Uint32Array(records.length);
  for (let p = 1; p < N; p++) {
    const sorted = sortRecords(records, spare, counted.size, N + 1, p, vocabSize, 0, helper);
    if (sorted !== records) {
      spare = records;
      records = sorted;
    }
  }
  return records;
}
