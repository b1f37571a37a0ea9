/**
 * Open-addressing hash map from a pair of uint32 (prefix n-gram id, word id) to a dense id
 * assigned in insertion order, with an occurrence count per pair. Key, id and count share one
 * 16-byte slot, so a lookup touches one cache line; the pairs are also kept in id order
 * (`prefix`, `word`) for the estimation that follows.
 */
import { GrowableUint32 } from './growable';

/** Slots per entry at most: a fuller table probes longer, an emptier one takes more memory. */
const MAX_LOAD = 0.7;

export class PairIndex {
  readonly prefix = new GrowableUint32();
  readonly word = new GrowableUint32();
  /** Per slot: prefix, word, id + 1 (0 = empty), count. */
  private table: Uint32Array;
  private mask: number;
  private limit: number;
  /** Whether the last add created a new entry. */
  inserted = false;

  /** `expected`: how many pairs the table should hold before it first grows. */
  constructor(expected = 0) {
    let cap = 1 << 12;
    while (cap * MAX_LOAD < expected) cap <<= 1;
    this.table = new Uint32Array(cap * 4);
    this.mask = cap - 1;
    this.limit = Math.floor(cap * MAX_LOAD);
  }

  get size(): number {
    return this.prefix.length;
  }

  /** Counts one occurrence of (p, w); returns its id. */
  add(p: number, w: number): number {
    const t = this.table;
    let slot = hashPair(p, w) & this.mask;
    for (;;) {
      const at = slot << 2;
      const id1 = t[at + 2];
      if (id1 === 0) break;
      if (t[at] === p && t[at + 1] === w) {
        t[at + 3]++;
        this.inserted = false;
        return id1 - 1;
      }
      slot = (slot + 1) & this.mask;
    }
    const id = this.prefix.length;
    const at = slot << 2;
    t[at] = p;
    t[at + 1] = w;
    t[at + 2] = id + 1;
    t[at + 3] = 1;
    this.prefix.push(p);
    this.word.push(w);
    this.inserted = true;
    if (id + 1 > this.limit) this.rehash();
    return id;
  }

  /** The occurrence count of each id. */
  counts(): Uint32Array {
    const out = new Uint32Array(this.size);
    const t = this.table;
    for (let at = 0; at < t.length; at += 4) if (t[at + 2] !== 0) out[t[at + 2] - 1] = t[at + 3];
    return out;
  }

  private rehash(): void {
    const old = this.table;
    const cap = (this.mask + 1) * 2;
    const t = new Uint32Array(cap * 4);
    this.mask = cap - 1;
    this.limit = Math.floor(cap * MAX_LOAD);
    for (let from = 0; from < old.length; from += 4) {
      if (old[from + 2] === 0) continue;
      let slot = hashPair(old[from], old[from + 1]) & this.mask;
      while (t[(slot << 2) + 2] !== 0) slot = (slot + 1) & this.mask;
      const to = slot << 2;
      t[to] = old[from];
      t[to + 1] = old[from + 1];
      t[to + 2] = old[from + 2];
      t[to + 3] = old[from + 3];
    }
    this.table = t;
  }

  /** Bytes held (for memory reports). */
  byteSize(): number {
    return this.table.byteLength + this.prefix.data.byteLength + this.word.data.byteLength;
  }
}

function hashPair(p: number, w: number): number {
  let h = Math.imul(p, 0x9e3779b1) ^ Math.imul(w + 0x7f4a7c15, 0x85ebca77);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) >>> 0;
}
