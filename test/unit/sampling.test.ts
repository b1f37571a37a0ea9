import * as assert from 'assert';
import { temperedProbabilities } from '../../src/core/distribution';
import { Xoshiro128 } from '../../src/core/random';
import { keepTopK, keepTopP, samplingDistribution, samplingWarpers, sampleToken, temper } from '../../src/core/sampling';

/** Pearson's chi-square statistic of observed counts against expected probabilities. */
function chiSquare(counts: number[], probs: ArrayLike<number>, n: number): number {
  let chi = 0;
  for (let i = 0; i < counts.length; i++) {
    if (probs[i] === 0) {
      assert.strictEqual(counts[i], 0, `token ${i} has probability 0 but was drawn`);
      continue;
    }
    const e = probs[i] * n;
    chi += (counts[i] - e) ** 2 / e;
  }
  return chi;
}

// Upper 0.1% points of the chi-square distribution.
const CHI2_999 = { 1: 10.83, 2: 13.82, 3: 16.27, 4: 18.47 } as Record<number, number>;

describe('sampling', () => {
  const logP = [0.1, 0.2, 0.3, 0.4].map(Math.log);

  for (const T of [0.5, 1, 2]) {
    it(`draws with the frequencies of p_T at T=${T} (chi-square, 40k draws)`, () => {
      const rng = new Xoshiro128(42 + T);
      const n = 40000;
      const counts = [0, 0, 0, 0];
      for (let i = 0; i < n; i++) counts[sampleToken(logP, { temperature: T }, rng)]++;
      const pT = temperedProbabilities(logP, T);
      assert.ok(chiSquare(counts, pT, n) < CHI2_999[3], `counts ${counts} vs p_T ${Array.from(pT)}`);
    });
  }

  it('draws after top-k, then top-p, where the other order would keep another token (chi-square, 20k draws)', () => {
    // By hand, p = (0.1, 0.2, 0.3, 0.4), k = 3, p = 0.75: top-k leaves (0, 2, 3, 4)/9, whose nucleus
    // needs 4/9 + 3/9 = 7/9 ≥ 0.75, so tokens are drawn from (0, 0, 3/7, 4/7). Top-p first would
    // need 0.4 + 0.3 + 0.2 = 0.9 and keep token 1 as well: (0, 2/9, 3/9, 4/9).
    const byHand = [0, 0, 3 / 7, 4 / 7];
    const rng = new Xoshiro128(7);
    const n = 20000;
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) counts[sampleToken(logP, { temperature: 1, topK: 3, topP: 0.75 }, rng)]++;
    assert.ok(chiSquare(counts, byHand, n) < CHI2_999[1], `counts ${counts} vs ${byHand}`);
  });

  it('would catch a sampler biased towards the most probable token', () => {
    const rng = new Xoshiro128(1);
    const n = 40000;
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) counts[sampleToken(logP, { temperature: 0.9 }, rng)]++; // wrong T on purpose
    assert.ok(chiSquare(counts, temperedProbabilities(logP, 1), n) > CHI2_999[3]);
  });

  it('a seed reproduces the same draws; another seed or stream differs', () => {
    const draw = (seed: number, stream = 0) => {
      const rng = new Xoshiro128(seed, stream);
      return Array.from({ length: 50 }, () => rng.next());
    };
    assert.deepStrictEqual(draw(123), draw(123));
    assert.notDeepStrictEqual(draw(123), draw(124));
    assert.notDeepStrictEqual(draw(123, 0), draw(123, 1));
    assert.ok(draw(5).every((u) => u >= 0 && u < 1));
  });

  it('T=0 always returns the argmax (also under top-k/top-p), taking one draw per token like any T', () => {
    const rng = new Xoshiro128(3);
    for (let i = 0; i < 100; i++) assert.strictEqual(sampleToken(logP, { temperature: 0 }, rng), 3);
    assert.strictEqual(sampleToken(logP, { temperature: 0, topK: 2, topP: 0.5 }, rng), 3);
    const a = new Xoshiro128(9);
    const b = new Xoshiro128(9);
    sampleToken(logP, { temperature: 0 }, a);
    sampleToken(logP, { temperature: 1 }, b);
    assert.strictEqual(a.next(), b.next());
    assert.throws(() => sampleToken([-Infinity, -Infinity], { temperature: 0 }, a), /no mass/);
  });
});

describe('sampling steps (tempering, top-k, top-p)', () => {
  const close = (a: ArrayLike<number>, b: number[], eps = 1e-4) =>
    assert.ok(
      Array.from(a).every((x, i) => Math.abs(x - b[i]) < eps),
      `${Array.from(a)} vs ${b}`,
    );
  const log = (p: number[]) => p.map(Math.log);

  it("tempering: the lecture's p = (0.4, 0.6) gives (0.31, 0.69) at T = 0.5 and (0.12, 0.88) at T = 0.2", () => {
    close(temper(0.5)(log([0.4, 0.6])), [0.31, 0.69], 0.005);
    close(temper(0.2)(log([0.4, 0.6])), [0.12, 0.88], 0.005);
    close(temper(1)(log([0.4, 0.6])), [0.4, 0.6], 1e-12);
  });

  it('tempering: T = 0 puts all mass on the argmax, ties to the lowest id; T = ∞ is uniform over the support', () => {
    assert.deepStrictEqual(Array.from(temper(0)(log([0.2, 0.4, 0.4]))), [0, 1, 0]);
    assert.deepStrictEqual(Array.from(temper(Infinity)([Math.log(0.9), -Infinity, Math.log(0.1)])), [0.5, 0, 0.5]);
  });

  it('top-k and top-p keep the most probable and renormalise; the options build only the truncations they ask for', () => {
    const p = Float64Array.from([0.1, 0.2, 0.3, 0.4]);
    close(keepTopK(2)(p), [0, 0, 3 / 7, 4 / 7], 1e-12);
    close(keepTopP(0.6)(p), [0, 0, 3 / 7, 4 / 7], 1e-12);
    assert.strictEqual(samplingWarpers({ temperature: 1 }).length, 0);
    assert.strictEqual(samplingWarpers({ temperature: 1, topK: 0, topP: 1 }).length, 0);
    assert.strictEqual(samplingWarpers({ temperature: 1, topK: 2, topP: 0.5 }).length, 2);
  });

  it('top-k comes before top-p: p = (0.1, 0.2, 0.3, 0.4), k = 2, p = 0.5 keeps only the last token', () => {
    // top-k: (0, 0, 3/7, 4/7); its top token alone (4/7 ≥ 0.5) is the nucleus. The other order
    // would keep two: top-p first needs 0.4 + 0.3 ≥ 0.5, and top-k then keeps both.
    close(samplingDistribution(log([0.1, 0.2, 0.3, 0.4]), { temperature: 1, topK: 2, topP: 0.5 }), [0, 0, 0, 1], 1e-12);
    close(keepTopK(2)(keepTopP(0.5)(Float64Array.from([0.1, 0.2, 0.3, 0.4]))), [0, 0, 3 / 7, 4 / 7], 1e-12);
  });

  it('tempering comes first: at T = 0.5 (p² renormalised) top-k 3 and top-p 0.5 keep only the last token', () => {
    // p_T = (1, 4, 9, 16)/30; top-k 3: (0, 4, 9, 16)/29; top-p 0.5: 16/29 ≥ 0.5 alone. Tempering
    // last would keep two: top-k 3 on p gives (0, 2, 3, 4)/9, top-p needs 4/9 + 3/9, then (9, 16)/25.
    close(samplingDistribution(log([0.1, 0.2, 0.3, 0.4]), { temperature: 0.5, topK: 3, topP: 0.5 }), [0, 0, 0, 1], 1e-12);
    const truncatedFirst = keepTopP(0.5)(keepTopK(3)(Float64Array.from([0.1, 0.2, 0.3, 0.4])));
    close(temper(0.5)(Array.from(truncatedFirst, Math.log)), [0, 0, 9 / 25, 16 / 25], 1e-12);
  });
});
