/**
 * Seeded pseudo-random numbers: xoshiro128** seeded through SplitMix32, so that a seed
 * reproduces a completion on every host (pure 32-bit integer arithmetic, no platform RNG).
 */
export interface Random {
  /** Uniform in [0, 1) with 53 random bits. */
  next(): number;
}

function splitMix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Xoshiro128 implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed` is any finite number; its integer part (mod 2^32) and `stream` select the sequence. */
  constructor(seed: number, stream = 0) {
    if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
    const st = { s: (Math.trunc(seed) ^ streamMix(stream)) | 0 };
    this.a = splitMix32(st);
    this.b = splitMix32(st);
    this.c = splitMix32(st);
    this.d = splitMix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }
}

/**
 * The seeds the playground's form and `lmp generate --seed` take: the sampler uses a seed's
 * integer part mod 2^32, so a larger one would reproduce a smaller one's text under another name.
 */
export const SEED_MIN = -(2 ** 31);
export const SEED_MAX = 2 ** 32 - 1;

function streamMix(stream: number): number {
  return Math.imul(stream + 1, 0x632be5ab);
}

/**
 * The seed whose first stream is `seed`'s stream `stream`: completion i of a run, asked for alone
 * with this seed, comes out the same. Stream 0 keeps the seed as given; others give an integer in
 * [0, 2^32), which every seed box and `--seed` accepts.
 */
export function streamSeed(seed: number, stream: number): number {
  if (stream === 0) return seed;
  return (Math.trunc(seed) ^ streamMix(stream) ^ streamMix(0)) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A fresh seed when the user gave none. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 0x7fffffff);
}
