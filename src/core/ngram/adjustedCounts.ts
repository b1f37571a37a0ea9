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

/** `counted` is consumed: its arrays are reused or dropped. */
export function adjustedCounts(counted: CountedNgrams, order: number, vocabSize: number, bos: number): AdjustedCounts {
  const N = order;
  const { words, counts } = sortBySuffix(counted, N, vocabSize);
  const M = counted.size;
  const last = words[N - 1];
  const unigrams = new Uint32Array(vocabSize);

  // Pass 1: how many words each entry's suffix shares with the previous entry's, and each order's size.
  const same = new Uint8Array(M);
  const sizes = new Array<number>(N + 1).fill(0);
  for (let i = 0; i < M; i++) {
    let s = 0;
    if (i > 0) while (s < N - 1 && words[N - 1 - s][i] === words[N - 1 - s][i - 1]) s++;
    same[i] = s;
    for (let k = Math.max(s + 1, 2); k <= N; k++) {
      if (words[N - k + 1][i] === bos) break;
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
  for (let i = 0; i < M; i++) {
    const s = same[i];
    const w = last[i];
    let k = s + 1;
    if (k === 1) {
      cur[1] = w;
      k = 2;
    }
    for (; k <= N; k++) {
      if (words[N - k + 1][i] === bos) {
        for (; k <= N; k++) cur[k] = -1;
        break;
      }
      const g = orders[k - 2].ngrams;
      const at = next[k]++;
      const f = words[N - k][i];
      g[at * FIELDS + FIRST] = f;
      g[at * FIELDS + LAST] = w;
      g[at * FIELDS + SUFFIX] = cur[k - 1];
      cur[k] = at;
      startsWithBos[k] = f === bos ? 1 : 0;
    }
    const count = counts[i];
    if (N === 1) {
      unigrams[w] += count;
      continue;
    }
    // A unigram never starts with <s>: it counts its distinct left extensions.
    if (s < 2) unigrams[w]++;
    for (let k = 2; k < N; k++) {
      const at = cur[k];
      if (at < 0) break;
      if (startsWithBos[k]) orders[k - 2].ngrams[at * FIELDS + ADJUSTED] += count;
      else if (s < k + 1) orders[k - 2].ngrams[at * FIELDS + ADJUSTED]++;
    }
    if (cur[N] >= 0) orders[N - 2].ngrams[cur[N] * FIELDS + ADJUSTED] = count;
  }
  return { unigrams, orders };
}

/**
 * The entries sorted by their words from the last to the second (the first word's order within a
 * run does not matter: each entry is its own n-gram): stable counting sorts, least significant first.
 */
function sortBySuffix(counted: CountedNgrams, N: number, vocabSize: number): { words: Uint32Array[]; counts: Uint32Array } {
  const M = counted.size;
  if (N === 1) return counted;
  let perm = new Uint32Array(M);
  let out = new Uint32Array(M);
  const keys = new Uint32Array(M);
  const start = new Uint32Array(vocabSize + 1);
  for (let p = 1; p < N; p++) {
    const col = counted.words[p];
    if (p === 1) keys.set(col);
    else for (let i = 0; i < M; i++) keys[i] = col[perm[i]];
    start.fill(0);
    for (let i = 0; i < M; i++) start[keys[i] + 1]++;
    for (let r = 0; r < vocabSize; r++) start[r + 1] += start[r];
    if (p === 1) for (let i = 0; i < M; i++) out[start[keys[i]]++] = i;
    else for (let i = 0; i < M; i++) out[start[keys[i]]++] = perm[i];
    const t = perm;
    perm = out;
    out = t;
  }
  const words = counted.words.map((col) => gather(col, perm));
  const counts = gather(counted.counts, perm);
  return { words, counts };
}

function gather(from: Uint32Array, perm: Uint32Array): Uint32Array {
  const to = new Uint32Array(perm.length);
  for (let i = 0; i < perm.length; i++) to[i] = from[perm[i]];
  return to;
}
