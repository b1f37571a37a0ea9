/** Typed arrays that grow by doubling: integer ids and counts without an object per n-gram. */
export class GrowableUint32 {
  data: Uint32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Uint32Array(capacity);
  }
  push(v: number): void {
    if (this.length === this.data.length) this.grow(this.length * 2);
    this.data[this.length++] = v;
  }
  /** Ensures index i exists (zero-filled) and returns the array. */
  ensure(i: number): Uint32Array {
    if (i >= this.data.length) this.grow(Math.max(i + 1, this.data.length * 2));
    if (i >= this.length) this.length = i + 1;
    return this.data;
  }
  private grow(capacity: number): void {
    const next = new Uint32Array(capacity);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
  trimmed(): Uint32Array {
    return this.data.slice(0, this.length);
  }
}

/**
 * Open-addressing hash map from a pair of uint32 (prefix n-gram id, word id) to a dense id
 * assigned in insertion order. The pairs themselves are kept in `prefix`/`word`.
 */
export class PairIndex {
  readonly prefix = new GrowableUint32();
  readonly word = new GrowableUint32();
  private table: Int32Array;
  private mask: number;
  /** Whether the last getOrInsert created a new entry. */
  inserted = false;

  constructor(initialCapacity = 1 << 16) {
    let cap = 1;
    while (cap < initialCapacity) cap <<= 1;
    this.table = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.prefix.length;
  }

  getOrInsert(p: number, w: number): number {
    let slot = hashPair(p, w) & this.mask;
    const pd = this.prefix.data;
    const wd = this.word.data;
    for (;;) {
      const id = this.table[slot];
      if (id < 0) break;
      if (pd[id] === p && wd[id] === w) {
        this.inserted = false;
        return id;
      }
      slot = (slot + 1) & this.mask;
    }
    const id = this.prefix.length;
    this.prefix.push(p);
    this.word.push(w);
    this.table[slot] = id;
    this.inserted = true;
    if (this.prefix.length * 2 > this.table.length) this.rehash();
    return id;
  }

  private rehash(): void {
    const cap = this.table.length * 2;
    this.table = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
    const pd = this.prefix.data;
    const wd = this.word.data;
    for (let id = 0; id < this.prefix.length; id++) {
      let slot = hashPair(pd[id], wd[id]) & this.mask;
      while (this.table[slot] >= 0) slot = (slot + 1) & this.mask;
      this.table[slot] = id;
    }
  }
}

function hashPair(p: number, w: number): number {
  let h = Math.imul(p, 0x9e3779b1) ^ Math.imul(w + 0x7f4a7c15, 0x85ebca77);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) >>> 0;
}
