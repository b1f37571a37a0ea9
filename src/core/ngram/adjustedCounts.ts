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
import { barrier, isShared, sharedUint32, sortRecords, type SortHelper } from './sharedRadixSort';

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
  /**
   * At index k (1..N-1), the last k-gram in suffix order's adjusted count and occurrences, where
   * lmplz counts it by the latter in its counts of counts (see lastNgrams); absent elsewhere.
   */
  last: ({ adjusted: number; occurrences: number } | undefined)[];
}

/** Adjusts the counts of the second half of the entries on its own thread (it runs `runAdjustJob`; its memory is shared with this one). */
export interface AdjustHelper extends SortHelper {
  adjust?(job: AdjustJob): void;
}

/** The entries from `from` on, adjusted by a helping thread in step with this one (all arrays in shared memory). */
export interface AdjustJob {
  /** The counted entries in suffix order (N + 1 numbers each), `size` of them. */
  records: Uint32Array;
  size: number;
  order: number;
  bos: number;
  /** The first entry of the helper's half: one whose last word is not the entry's before it. */
  from: number;
  /** Written by both threads: pass 1's shared suffix lengths. */
  same: Uint8Array;
  unigrams: Uint32Array;
  /** Orders 2..N, each with room for `size` n-grams (only what is written is ever touched). */
  orders: Uint32Array[];
  /** The barrier's two words (sharedRadixSort's), then each half's n-grams per order (N + 1 numbers each). */
  sync: Int32Array;
}

/** Below this many entries the counts are adjusted on one thread: a pass over them takes less than meeting the other thread. */
const SHARED_ADJUST_MIN_ENTRIES = 1 << 17;

/**
 * `counted` is consumed: its arrays are reused or dropped. With `helper` (and the records in
 * shared memory) the sort runs on two threads, and so do the passes that adjust the counts.
 */
export function adjustedCounts(counted: CountedNgrams, order: number, vocabSize: number, bos: number, helper?: AdjustHelper): AdjustedCounts {
  const N = order;
  const r = sortBySuffix(counted, N, vocabSize, helper);
  const M = counted.size;
  if (helper?.adjust && N > 1 && M >= SHARED_ADJUST_MIN_ENTRIES && isShared(r)) return adjustOnTwoThreads(helper, r, M, N, vocabSize, bos);
  const unigrams = new Uint32Array(vocabSize);
  const same = new Uint8Array(M);
  const sizes = new Array<number>(N + 1).fill(0);
  sharedSuffixes(r, N, bos, 0, M, same, sizes);
  const orders: SuffixOrdered[] = [];
  for (let k = 2; k <= N; k++) orders.push({ count: sizes[k], ngrams: new Uint32Array(sizes[k] * FIELDS) });
  adjust(
    r,
    N,
    bos,
    0,
    M,
    same,
    orders.map((o) => o.ngrams),
    new Array<number>(N + 1).fill(0),
    unigrams,
  );
  return { unigrams, orders, last: lastNgrams(r, M, N, bos, unigrams, orders) };
}

/**
 * lmplz's counts of counts take the n-grams still open when its pass over the suffix-sorted
 * entries ends (the last entry's suffixes that are n-grams, orders 1..N-1) with their
 * occurrences, not their adjusted counts (adjust_counts.cc, the loop after the main one); every
 * other n-gram with its adjusted count. The two differ when that n-gram was seen more than once
 * with one word before it (a text given twice: hostile12 M2, unigram discounts 7e-3 apart). Found
 * here, so that the discounts, hence every probability, are lmplz's.
 */
function lastNgrams(r: Uint32Array, M: number, N: number, bos: number, unigrams: Uint32Array, orders: SuffixOrdered[]): AdjustedCounts['last'] {
  const out: AdjustedCounts['last'] = [];
  if (M === 0) return out;
  const S = N + 1;
  const last = (M - 1) * S;
  for (let k = 1; k < N; k++) {
    // Its k-word suffix: padding, not an n-gram, if <s> follows its first word (and so for longer ones).
    for (let p = N - k + 1; p < N; p++) if (r[last + p] === bos) return out;
    let occurrences = 0;
    for (let at = last; at >= 0; at -= S) {
      let p = N - k;
      while (p < N && r[at + p] === r[last + p]) p++;
      if (p < N) break;
      occurrences += r[at + N];
    }
    const adjusted = k === 1 ? unigrams[r[last + N - 1]] : orders[k - 2].ngrams[(orders[k - 2].count - 1) * FIELDS + ADJUSTED];
    out[k] = { adjusted, occurrences };
  }
  return out;
}

/**
 * The two passes, each on two threads: this one takes the entries before a place where the last
 * word changes (no run of any order crosses it), the helper those after it; the helper's
 * n-grams of each order go after this thread's, so the result is one thread's.
 */
function adjustOnTwoThreads(helper: AdjustHelper, r: Uint32Array, M: number, N: number, vocabSize: number, bos: number): AdjustedCounts {
  const S = N + 1;
  let from = M >>> 1;
  while (from < M && r[from * S + N - 1] === r[(from - 1) * S + N - 1]) from++;
  const job: AdjustJob = {
    records: r,
    size: M,
    order: N,
    bos,
    from,
    same: new Uint8Array(new SharedArrayBuffer(M)),
    unigrams: sharedUint32(vocabSize),
    orders: Array.from({ length: N - 1 }, () => sharedUint32(M * FIELDS)),
    sync: new Int32Array(new SharedArrayBuffer((2 + 2 * (N + 1)) * 4)),
  };
  helper.adjust!(job);
  const mine = adjustShare(job, 0);
  const theirs = job.sync.subarray(2 + (N + 1), 2 + 2 * (N + 1));
  const orders: SuffixOrdered[] = [];
  for (let k = 2; k <= N; k++) {
    const count = mine[k] + theirs[k];
    orders.push({ count, ngrams: job.orders[k - 2].subarray(0, count * FIELDS) });
  }
  return { unigrams: job.unigrams, orders, last: lastNgrams(r, M, N, bos, job.unigrams, orders) };
}

/** One thread's share of an AdjustJob (party 0 the entries before `from`, 1 the rest); returns its n-grams per order. */
export function adjustShare(job: AdjustJob, party: 0 | 1): Int32Array {
  const { records: r, size: M, order: N, bos, from, same, sync } = job;
  const lo = party === 0 ? 0 : from;
  const hi = party === 0 ? from : M;
  const sizesAt = (t: number) => sync.subarray(2 + t * (N + 1), 2 + (t + 1) * (N + 1));
  const sizes = new Array<number>(N + 1).fill(0);
  sharedSuffixes(r, N, bos, lo, hi, same, sizes);
  sizesAt(party).set(sizes);
  barrier(sync);
  // The helper's n-grams of each order go after this thread's.
  const start = party === 0 ? new Array<number>(N + 1).fill(0) : Array.from(sizesAt(0));
  adjust(r, N, bos, lo, hi, same, job.orders, start, job.unigrams);
  barrier(sync);
  return sizesAt(party);
}

/** The helper's side of an AdjustJob. */
export function runAdjustJob(job: AdjustJob): void {
  adjustShare(job, 1);
}

/**
 * Pass 1 over entries lo..hi-1: how many words each entry's suffix shares with the previous
 * entry's (`same`), and each order's n-grams among them (`sizes`, added to).
 */
function sharedSuffixes(r: Uint32Array, N: number, bos: number, lo: number, hi: number, same: Uint8Array, sizes: number[]): void {
  const S = N + 1;
  for (let i = lo, at = lo * S; i < hi; i++, at += S) {
    let s = 0;
    if (i > 0) while (s < N - 1 && r[at + N - 1 - s] === r[at - S + N - 1 - s]) s++;
    same[i] = s;
    for (let k = Math.max(s + 1, 2); k <= N; k++) {
      if (r[at + N - k + 1] === bos) break;
      sizes[k]++;
    }
  }
}

/**
 * Pass 2 over entries lo..hi-1 (lo an entry whose last word is new): each order's n-grams written
 * from `start[k]` on in `orders[k - 2]`, with their adjusted counts, and the unigrams' counts.
 */
function adjust(
  r: Uint32Array,
  N: number,
  bos: number,
  lo: number,
  hi: number,
  same: Uint8Array,
  orders: Uint32Array[],
  start: number[],
  unigrams: Uint32Array,
): void {
  const S = N + 1;
  // Per order, the current run's index (-1: padding) and whether its n-gram starts with <s>.
  const cur = new Int32Array(N + 1).fill(-1);
  const startsWithBos = new Uint8Array(N + 1);
  const next = Uint32Array.from(start);
  for (let i = lo, at = lo * S; i < hi; i++, at += S) {
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
      const g = orders[k - 2];
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
      if (startsWithBos[k]) orders[k - 2][place * FIELDS + ADJUSTED] += count;
      else if (s < k + 1) orders[k - 2][place * FIELDS + ADJUSTED]++;
    }
    if (cur[N] >= 0) orders[N - 2][cur[N] * FIELDS + ADJUSTED] = count;
  }
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
