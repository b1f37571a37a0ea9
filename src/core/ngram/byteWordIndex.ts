/**
 * Word ids looked up by their UTF-8 bytes, so that the ARPA reader finds the words of an n-gram
 * line without making a string of each. Open addressing over the words' bytes, kept in one buffer.
 */
export class ByteWordIndex {
  private bytes = new Uint8Array(1 << 16);
  private used = 0;
  /** starts[id]..starts[id + 1] are the bytes of word id. */
  private starts = new Uint32Array(1025);
  private count = 0;
  private table = new Int32Array(1 << 11).fill(-1);
  private mask = (1 << 11) - 1;

  get size(): number {
    return this.count;
  }

  /** Adds the word buf[start..end) with the next id (the caller has checked that it is new). */
  add(buf: Uint8Array, start: number, end: number): void {
    const length = end - start;
    if (this.used + length > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.used + length));
      grown.set(this.bytes.subarray(0, this.used));
      this.bytes = grown;
    }
    this.bytes.set(buf.subarray(start, end), this.used);
    this.used += length;
    if (this.count + 2 > this.starts.length) {
      const grown = new Uint32Array(this.starts.length * 2);
      grown.set(this.starts);
      this.starts = grown;
    }
    const id = this.count++;
    this.starts[id + 1] = this.used;
    if (this.count * 2 > this.table.length) this.rehash();
    else this.place(id, mix(fnv1a(buf, start, end)));
  }

  /** The id of the word buf[start..end), or -1. */
  find(buf: Uint8Array, start: number, end: number): number {
    return this.findHashed(buf, start, end, fnv1a(buf, start, end));
  }

  /** find, given the word's fnv1a (computed by a caller that scans the bytes anyway). */
  findHashed(buf: Uint8Array, start: number, end: number, fnv: number): number {
    const length = end - start;
    const bytes = this.bytes;
    const starts = this.starts;
    const table = this.table;
    let slot = mix(fnv) & this.mask;
    for (;;) {
      const id = table[slot];
      if (id < 0) return -1;
      const s = starts[id];
      if (starts[id + 1] - s === length) {
        let i = 0;
        while (i < length && bytes[s + i] === buf[start + i]) i++;
        if (i === length) return id;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  private place(id: number, hash: number): void {
    let slot = hash & this.mask;
    while (this.table[slot] >= 0) slot = (slot + 1) & this.mask;
    this.table[slot] = id;
  }

  private rehash(): void {
    this.table = new Int32Array(this.table.length * 2).fill(-1);
    this.mask = this.table.length - 1;
    for (let id = 0; id < this.count; id++) this.place(id, mix(fnv1a(this.bytes, this.starts[id], this.starts[id + 1])));
  }
}

export const FNV_BASIS = 0x811c9dc5;
export const FNV_PRIME = 0x01000193;

/** FNV-1a of the bytes: h = imul(h ^ byte, FNV_PRIME) from FNV_BASIS. */
export function fnv1a(buf: Uint8Array, start: number, end: number): number {
  let h = FNV_BASIS;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], FNV_PRIME);
  return h;
}

/** A final mix, so that the low bits (the slot) depend on every byte. */
function mix(h: number): number {
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) >>> 0;
}
