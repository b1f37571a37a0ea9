/**
 * Occurrence counts of the highest order's n-grams only, as lmplz counts: one hash probe per
 * token. An n-gram reaching before a sentence's first word is padded with `<s>` on the left, so
 * every token ends exactly one counted n-gram and the lower orders can be derived from these
 * (see adjustedCounts.ts). Open addressing over one Uint32Array: per slot the n words, then the
 * count (0 = empty).
 */

/** Slots per entry at most: a fuller table probes longer, an emptier one takes more memory. */
const MAX_LOAD = 0.7;
/**
 * N-grams added in one group: their slots are read together first, so that the cache misses of
 * a group (one per n-gram in a table of tens of MiB) overlap instead of coming one after another.
 */
const GROUP = 16;

/** The counted n-grams as records of n + 1 numbers: entry i's words at `records[i * (n + 1) + p]`, then its count. */
export interface CountedNgrams {
  size: number;
  records: Uint32Array;
}

export class NgramCounter {
  private readonly n: number;
  private readonly stride: number;
  private table: Uint32Array;
  private mask: number;
  private limit: number;
  private entries = 0;
  /** N-grams added but not yet counted (GROUP of them at most), and their hashes. */
  private readonly pending: Uint32Array;
  private readonly pendingHash = new Uint32Array(GROUP);
  private waiting = 0;
  /** What the slots read ahead summed to: kept so that the reads are not left out. */
  private touched = 0;

  /**
   * `expected`: how many distinct n-grams the table should hold before it first grows. `allocate`
   * makes the table (shared memory, so that another thread can help sort the records it becomes).
   */
  constructor(
    order: number,
    expected = 0,
    private readonly allocate: (length: number) => Uint32Array = (length) => new Uint32Array(length),
  ) {
    this.n = order;
    this.stride = order + 1;
    let cap = 1 << 12;
    while (cap * MAX_LOAD < expected) cap <<= 1;
    this.table = allocate(cap * this.stride);
    this.mask = cap - 1;
    this.limit = Math.floor(cap * MAX_LOAD);
    this.pending = new Uint32Array(GROUP * order);
  }

  get size(): number {
    this.flush();
    return this.entries;
  }

  /** Counts one occurrence of the n-gram `gram[0..n)` (in a group: see GROUP). */
  add(gram: Uint32Array): void {
    const n = this.n;
    const at = this.waiting * n;
    for (let p = 0; p < n; p++) this.pending[at + p] = gram[p];
    if (++this.waiting === GROUP) this.flush();
  }

  /**
   * Counts the n-grams that end at `words[ends[0..count))`, each the n words up to and including
   * it (so every end is at least n - 1), in groups as `add` counts them, without copying them.
   */
  addEnds(words: Uint32Array, ends: Uint32Array, count: number): void {
    this.flush();
    const n = this.n;
    const stride = this.stride;
    const hashes = this.pendingHash;
    for (let group = 0; group < count; group += GROUP) {
      const stop = Math.min(count, group + GROUP);
      const t = this.table;
      const mask = this.mask;
      let touched = 0;
      for (let i = group; i < stop; i++) {
        const h = hashGram(words, ends[i] - n + 1, n);
        hashes[i - group] = h;
        touched += t[(h & mask) * stride + n];
      }
      this.touched = touched;
      for (let i = group; i < stop; i++) this.count(words, ends[i] - n + 1, hashes[i - group]);
    }
  }

  /** Counts the pending n-grams: their slots read first, all of them, then each counted. */
  private flush(): void {
    const n = this.n;
    const stride = this.stride;
    const pending = this.pending;
    const hashes = this.pendingHash;
    const count = this.waiting;
    let touched = 0;
    for (let i = 0; i < count; i++) {
      const h = hashGram(pending, i * n, n);
      hashes[i] = h;
      touched += this.table[(h & this.mask) * stride + n];
    }
    this.touched = touched;
    for (let i = 0; i < count; i++) this.count(pending, i * n, hashes[i]);
    this.waiting = 0;
  }

  private count(gram: Uint32Array, from: number, hash: number): void {
    const n = this.n;
    const stride = this.stride;
    const t = this.table;
    let slot = hash & this.mask;
    for (;;) {
      const at = slot * stride;
      if (t[at + n] === 0) break;
      let p = 0;
      while (p < n && t[at + p] === gram[from + p]) p++;
      if (p === n) {
        t[at + n]++;
        return;
      }
      slot = (slot + 1) & this.mask;
    }
    const at = slot * stride;
    for (let p = 0; p < n; p++) t[at + p] = gram[from + p];
    t[at + n] = 1;
    if (++this.entries > this.limit) this.rehash();
  }

  /**
   * The distinct n-grams and their counts, in table order, moved to the front of the table (no
   * copy: the records are a view of it); the counter is emptied.
   */
  take(): CountedNgrams {
    this.flush();
    const stride = this.stride;
    const t = this.table;
    const size = this.entries;
    let to = 0;
    for (let at = 0; at < t.length; at += stride) {
      if (t[at + this.n] === 0) continue;
      for (let p = 0; p < stride; p++) t[to + p] = t[at + p];
      to += stride;
    }
    this.table = new Uint32Array(0);
    this.mask = 0;
    this.entries = 0;
    return { size, records: t.subarray(0, size * stride) };
  }

  /** Bytes held (for memory reports). */
  byteSize(): number {
    return this.table.byteLength;
  }

  private rehash(): void {
    const n = this.n;
    const stride = this.stride;
    const old = this.table;
    const cap = (this.mask + 1) * 2;
    const t = this.allocate(cap * stride);
    this.mask = cap - 1;
    this.limit = Math.floor(cap * MAX_LOAD);
    for (let from = 0; from < old.length; from += stride) {
      if (old[from + n] === 0) continue;
      let slot = hashGram(old, from, n) & this.mask;
      while (t[slot * stride + n] !== 0) slot = (slot + 1) & this.mask;
      t.set(old.subarray(from, from + stride), slot * stride);
    }
    this.table = t;
  }
}

/** The hash of the n words at words[from..from+n). */
function hashGram(words: Uint32Array, from: number, n: number): number {
  let h = 0x811c9dc5;
  for (let p = from, end = from + n; p < end; p++) {
    h = Math.imul(h ^ Math.imul(words[p] + 0x7f4a7c15, 0xcc9e2d51), 0x1b873593);
    h = (h << 13) | (h >>> 19);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
