import * as assert from 'assert';
import { log10f } from '../../src/core/ngram/log10f';
import { xorshift32 } from './helpers';

/** The float32 bits of a value, so that 0 and -0 (and NaN payloads) tell apart. */
function bits(x: number): number {
  return new Uint32Array(Float32Array.of(x).buffer)[0];
}

describe('log10f', () => {
  it('gives Math.fround(Math.log10(x)) for probabilities over 30 decades', () => {
    const next = xorshift32(7);
    for (let i = 0; i < 200_000; i++) {
      const x = 10 ** (-30 * (next() / 2 ** 32)) * (1 + next() / 2 ** 32);
      if (bits(log10f(x)) !== bits(Math.fround(Math.log10(x)))) assert.fail(`x = ${x}: ${log10f(x)} against ${Math.fround(Math.log10(x))}`);
    }
  });

  it('gives it next to the points halfway between two float32 values, where the quicker way alone would round the other way', () => {
    const next = xorshift32(11);
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    let nearHalfway = 0;
    for (let i = 0; i < 100_000; i++) {
      // A float32 log value and the next one down; x is 10 to the power of the point between them.
      f32[0] = -(next() / 2 ** 32) * 12;
      const f = f32[0];
      u32[0]++;
      const halfway = (f + f32[0]) / 2;
      const x = 10 ** halfway;
      const quick = Math.fround(Math.log(x) / Math.LN10);
      const exact = Math.fround(Math.log10(x));
      if (quick !== exact) nearHalfway++;
      if (bits(log10f(x)) !== bits(exact)) assert.fail(`x = ${x}: ${log10f(x)} against ${exact}`);
    }
    // The test reaches the cases the fallback is for.
    assert.ok(nearHalfway > 100, `only ${nearHalfway} values where log / ln 10 rounds otherwise`);
  });

  it('gives it at the edges: 1, powers of ten, 0, the smallest double, infinity, NaN', () => {
    for (const x of [1, 10, 100, 0.1, 0.01, 1e-300, 0, Number.MIN_VALUE, Infinity, NaN, 0.5, 1 - 2 ** -53]) {
      assert.ok(Object.is(log10f(x), Math.fround(Math.log10(x))), `x = ${x}: ${log10f(x)} against ${Math.fround(Math.log10(x))}`);
    }
  });
});
