import * as assert from 'assert';
import { argmax, entropyNats, rankOf, temperedProbabilities, topIndices, truncateTopK, truncateTopP } from '../../src/core/distribution';
import { expNonPositive, logSoftmax, logSoftmaxOfLogits, logSumExp, logSumExpOfLogits, softmax } from '../../src/core/logMath';
import { xorshift32 } from './helpers';

const close = (a: ArrayLike<number>, b: number[], tol = 1e-4) => {
  assert.strictEqual(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) < tol, `index ${i}: ${a[i]} vs ${b[i]}`);
};

describe('log-space maths', () => {
  it('log-softmax is stable for huge and tiny logits', () => {
    // By hand: the normaliser is 1001 + ln(1 + e^-1), since e^(-1e9 - 1001) is 0 in doubles, and
    // ln(1 + e^-1) = 0.31326168751822283… A naive exp would overflow to Infinity and give -Infinity.
    const softplus = 0.3132616875182228;
    const out = logSoftmax([1000, 1001, -1e9]);
    assert.strictEqual(out.length, 3);
    assert.ok(Math.abs(out[0] - (-1 - softplus)) < 1e-12, `${out[0]}`);
    assert.ok(Math.abs(out[1] - -softplus) < 1e-12, `${out[1]}`);
    assert.ok(Math.abs(out[2] - (-1e9 - 1001 - softplus)) < 1e-6, `${out[2]}`);
    close(softmax([1000, 1001]), [1 / (1 + Math.E), Math.E / (1 + Math.E)], 1e-12);
    assert.strictEqual(logSumExp([-Infinity, -Infinity]), -Infinity);
    assert.ok(Math.abs(logSumExp([Math.log(0.25), Math.log(0.75)])) < 1e-15);
  });

  it('expNonPositive is Math.exp within 4e-16 (relative) on x ≤ 0, and Math.exp at its edges', () => {
    const next = xorshift32(5);
    let worst = 0;
    for (let i = 0; i < 300_000; i++) {
      // Spread over the range of logit differences, most of them where the mass of a row is.
      const x = -(next() / 2 ** 32) * [1, 30, 745][i % 3];
      const want = Math.exp(x);
      if (want < 1e-300) continue;
      worst = Math.max(worst, Math.abs(expNonPositive(x) - want) / want);
    }
    assert.ok(worst <= 4e-16, `worst relative error ${worst}`);
    for (const x of [0, -0, -1e-300, -Math.LN2, -1, -708.3, -744.4])
      assert.ok(Math.abs(expNonPositive(x) - Math.exp(x)) <= 4e-16 * Math.exp(x) + 5e-324, `${x}`);
    assert.strictEqual(expNonPositive(-745.2), 0);
    assert.strictEqual(expNonPositive(-Infinity), 0);
    assert.ok(Number.isNaN(expNonPositive(NaN)));
    assert.strictEqual(expNonPositive(0.5), Math.exp(0.5));
    assert.strictEqual(expNonPositive(1000), Infinity);
  });

  it("a row of logits' log-softmax is the one by Math.exp to 1e-14, the same as the generic one, from any offset", () => {
    const next = xorshift32(11);
    const V = 49_152;
    const rows = new Float32Array(3 * V).map(() => (next() / 2 ** 32 - 0.5) * 24);
    rows[V + 7] = -Infinity; // a token the model does not have
    let max = -Infinity;
    for (let i = V; i < 2 * V; i++) max = Math.max(max, rows[i]);
    let sum = 0;
    for (let i = V; i < 2 * V; i++) sum += Math.exp(rows[i] - max);
    const reference = max + Math.log(sum);
    const lse = logSumExpOfLogits(rows, V, V);
    assert.ok(Math.abs(lse - reference) < 1e-14, `${lse} against ${reference}`);
    const row = logSoftmaxOfLogits(rows, V, V);
    assert.deepStrictEqual(row, logSoftmax(rows.subarray(V, 2 * V)));
    assert.strictEqual(row[7], -Infinity);
    assert.strictEqual(row[8], rows[V + 8] - lse);
  });

  it("a row's logSumExp is the generic one's to the bit, with logits far below the top (no mass), and NaN with a NaN logit", () => {
    const next = xorshift32(5);
    const row = new Float32Array(4_096).map(() => (next() / 2 ** 32 - 0.5) * 40);
    row[10] = 3_000; // every other logit is over 745 below it: e^x is 0 there
    assert.strictEqual(logSumExpOfLogits(row, 0, row.length), logSumExp(row));
    row[10] = 0;
    row[11] = -Infinity;
    assert.strictEqual(logSumExpOfLogits(row, 0, row.length), logSumExp(row));
    assert.strictEqual(logSumExpOfLogits(new Float32Array([-Infinity, -Infinity]), 0, 2), -Infinity);
    row[12] = NaN;
    assert.ok(Number.isNaN(logSumExpOfLogits(row, 0, row.length)));
    assert.ok(Number.isNaN(logSumExpOfLogits(new Float32Array([NaN, 1]), 0, 2)));
  });
});

describe('tempered distribution p_T ∝ p^(1/T)', () => {
  const p = [Math.log(0.4), Math.log(0.6)];

  it("gives the lecture's numbers: (0.4, 0.6) → (0.3077, 0.6923) at T=0.5 and (0.1164, 0.8836) at T=0.2", () => {
    close(temperedProbabilities(p, 0.5), [0.3077, 0.6923]);
    close(temperedProbabilities(p, 0.2), [0.1164, 0.8836]);
  });

  it('T=1 is the model itself, T=0 is exactly argmax, T=∞ exactly uniform', () => {
    close(temperedProbabilities(p, 1), [0.4, 0.6], 1e-12);
    assert.deepStrictEqual(Array.from(temperedProbabilities(p, 0)), [0, 1]);
    assert.deepStrictEqual(Array.from(temperedProbabilities(p, Infinity)), [0.5, 0.5]);
  });

  it('T=0 breaks ties towards the lowest token id', () => {
    const tie = [Math.log(0.1), Math.log(0.45), Math.log(0.45)];
    assert.deepStrictEqual(Array.from(temperedProbabilities(tie, 0)), [0, 1, 0]);
    assert.strictEqual(argmax(tie), 1);
  });

  it('keeps masked tokens at zero for every T, and T=∞ is uniform over the support only', () => {
    const masked = [Math.log(0.5), -Infinity, Math.log(0.5)];
    for (const T of [0.1, 1, 10]) assert.strictEqual(temperedProbabilities(masked, T)[1], 0);
    assert.deepStrictEqual(Array.from(temperedProbabilities(masked, Infinity)), [0.5, 0, 0.5]);
  });

  it('approaches uniform as T grows and argmax as T shrinks', () => {
    close(temperedProbabilities(p, 1e6), [0.5, 0.5], 1e-5);
    close(temperedProbabilities(p, 1e-3), [0, 1], 1e-9);
  });

  it('rejects a negative or NaN temperature', () => {
    assert.throws(() => temperedProbabilities(p, -1), /temperature/);
    assert.throws(() => temperedProbabilities(p, NaN), /temperature/);
  });
});

describe('top-k, top-p, entropy and rank', () => {
  const probs = Float64Array.from([0.1, 0.4, 0.2, 0.3]);

  it('top-k keeps the k most probable and renormalises', () => {
    close(truncateTopK(probs, 2), [0, 4 / 7, 0, 3 / 7], 1e-12);
    assert.strictEqual(truncateTopK(probs, 0), probs);
    assert.deepStrictEqual(topIndices([1, 3, 3, 2], 3), [1, 2, 3]);
  });

  it('top-p keeps the smallest set reaching p', () => {
    close(truncateTopP(probs, 0.5), [0, 4 / 7, 0, 3 / 7], 1e-12);
    close(truncateTopP(probs, 0.4), [0, 1, 0, 0], 1e-12);
    close(truncateTopP(probs, 0.71), [0, 4 / 9, 2 / 9, 3 / 9], 1e-12);
  });

  it('entropy of a uniform distribution over 8 is 3 bits; rank counts strictly better tokens', () => {
    const uniform = new Float64Array(8).fill(Math.log(1 / 8));
    assert.ok(Math.abs(entropyNats(uniform) / Math.LN2 - 3) < 1e-12);
    const lp = [Math.log(0.5), Math.log(0.2), Math.log(0.2), Math.log(0.1)];
    assert.deepStrictEqual(
      [0, 1, 2, 3].map((i) => rankOf(lp, i)),
      [1, 2, 2, 4],
    );
  });
});
