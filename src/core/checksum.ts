/**
 * XXH32 (xxHash, 32 bits, seed 0), the checksum of LM Playground's binary files. Chosen over CRC-32
 * for speed in plain TypeScript (about 4 GB/s against 1.5 GB/s for a sliced CRC, measured on a 34 MB
 * model): it runs on every load. Every step is a bijection of the lane state for a fixed input, so
 * a change confined to one 4-byte word (any single flipped byte) always changes the result.
 */
const P1 = 0x9e3779b1 | 0;
const P2 = 0x85ebca77 | 0;
const P3 = 0xc2b2ae3d | 0;
const P4 = 0x27d4eb2f | 0;
const P5 = 0x165667b1 | 0;

const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));

export function xxh32(bytes: Uint8Array): number {
  const n = bytes.length;
  // 4-byte words read little-endian through a typed view; an unaligned input is copied once.
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const words = new Int32Array(aligned.buffer, aligned.byteOffset, n >>> 2);
  const word = LITTLE_ENDIAN
    ? (i: number) => words[i]
    : (i: number) => aligned[4 * i] | (aligned[4 * i + 1] << 8) | (aligned[4 * i + 2] << 16) | (aligned[4 * i + 3] << 24);
  let w = 0;
  let h: number;
  if (n >= 16) {
    let v1 = (P1 + P2) | 0;
    let v2 = P2;
    let v3 = 0;
    let v4 = -P1 | 0;
    const stripes = (n >>> 4) << 2;
    if (LITTLE_ENDIAN) {
      for (; w < stripes; w += 4) {
        v1 = Math.imul(rotl((v1 + Math.imul(words[w], P2)) | 0, 13), P1);
        v2 = Math.imul(rotl((v2 + Math.imul(words[w + 1], P2)) | 0, 13), P1);
        v3 = Math.imul(rotl((v3 + Math.imul(words[w + 2], P2)) | 0, 13), P1);
        v4 = Math.imul(rotl((v4 + Math.imul(words[w + 3], P2)) | 0, 13), P1);
      }
    } else {
      for (; w < stripes; w += 4) {
        v1 = Math.imul(rotl((v1 + Math.imul(word(w), P2)) | 0, 13), P1);
        v2 = Math.imul(rotl((v2 + Math.imul(word(w + 1), P2)) | 0, 13), P1);
        v3 = Math.imul(rotl((v3 + Math.imul(word(w + 2), P2)) | 0, 13), P1);
        v4 = Math.imul(rotl((v4 + Math.imul(word(w + 3), P2)) | 0, 13), P1);
      }
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = P5;
  }
  h = (h + n) | 0;
  for (; w < n >>> 2; w++) h = Math.imul(rotl((h + Math.imul(word(w), P3)) | 0, 17), P4);
  for (let i = w * 4; i < n; i++) h = Math.imul(rotl((h + Math.imul(aligned[i], P5)) | 0, 11), P1);
  return avalanche(h);
}

/**
 * XXH32 of bytes given in pieces (a file written in parts): the same value as xxh32 of their
 * concatenation, without building it.
 */
export class Xxh32 {
  private v1 = (P1 + P2) | 0;
  private v2 = P2;
  private v3 = 0;
  private v4 = -P1 | 0;
  private total = 0;
  /** The bytes of an unfinished 16-byte stripe. */
  private readonly pending = new Uint8Array(16);
  private pendingLength = 0;

  update(bytes: Uint8Array): this {
    this.total += bytes.length;
    let at = 0;
    if (this.pendingLength > 0) {
      const take = Math.min(16 - this.pendingLength, bytes.length);
      this.pending.set(bytes.subarray(0, take), this.pendingLength);
      this.pendingLength += take;
      at = take;
      if (this.pendingLength < 16) return this;
      this.stripes(this.pending, 0, 16);
      this.pendingLength = 0;
    }
    const whole = (bytes.length - at) & ~15;
    if (whole > 0) this.stripes(bytes, at, at + whole);
    at += whole;
    this.pending.set(bytes.subarray(at), 0);
    this.pendingLength = bytes.length - at;
    return this;
  }

  private stripes(bytes: Uint8Array, start: number, end: number): void {
    const piece = (bytes.byteOffset + start) % 4 === 0 ? bytes.subarray(start, end) : bytes.slice(start, end);
    const n = (end - start) >>> 2;
    const words = LITTLE_ENDIAN
      ? new Int32Array(piece.buffer, piece.byteOffset, n)
      : Int32Array.from({ length: n }, (_, i) => piece[4 * i] | (piece[4 * i + 1] << 8) | (piece[4 * i + 2] << 16) | (piece[4 * i + 3] << 24));
    let { v1, v2, v3, v4 } = this;
    for (let w = 0; w < n; w += 4) {
      v1 = Math.imul(rotl((v1 + Math.imul(words[w], P2)) | 0, 13), P1);
      v2 = Math.imul(rotl((v2 + Math.imul(words[w + 1], P2)) | 0, 13), P1);
      v3 = Math.imul(rotl((v3 + Math.imul(words[w + 2], P2)) | 0, 13), P1);
      v4 = Math.imul(rotl((v4 + Math.imul(words[w + 3], P2)) | 0, 13), P1);
    }
    this.v1 = v1;
    this.v2 = v2;
    this.v3 = v3;
    this.v4 = v4;
  }

  digest(): number {
    let h = this.total >= 16 ? (rotl(this.v1, 1) + rotl(this.v2, 7) + rotl(this.v3, 12) + rotl(this.v4, 18)) | 0 : P5;
    h = (h + this.total) | 0;
    const p = this.pending;
    const n = this.pendingLength;
    let i = 0;
    for (; i + 4 <= n; i += 4) h = Math.imul(rotl((h + Math.imul(p[i] | (p[i + 1] << 8) | (p[i + 2] << 16) | (p[i + 3] << 24), P3)) | 0, 17), P4);
    for (; i < n; i++) h = Math.imul(rotl((h + Math.imul(p[i], P5)) | 0, 11), P1);
    return avalanche(h);
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** xxHash32's final mix of the accumulated hash. */
function avalanche(h: number): number {
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}
