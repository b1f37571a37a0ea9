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
