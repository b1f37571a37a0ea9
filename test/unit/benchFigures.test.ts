import * as assert from 'assert';
import { judgeSpread, medianInterval, quantile, spread, turnOrder } from '../../scripts/benchFigures';

describe('benchmark figures: per-round ratios', () => {
  it('quantiles interpolate between order statistics and ignore what was not measured', () => {
    assert.strictEqual(quantile([3, 1, 2], 0.5), 2);
    assert.strictEqual(quantile([1, 2, 3, 4], 0.5), 2.5);
    assert.strictEqual(quantile([1, 2, 3, 4, 5], 0.25), 2);
    assert.strictEqual(quantile([1, 2, 3, 4], 0.75), 3.25);
    assert.strictEqual(quantile([NaN, 4, Infinity, 2], 0.5), 3);
    assert.ok(Number.isNaN(quantile([NaN], 0.5)));
  });

  it('a spread counts the rounds that were measured', () => {
    assert.deepStrictEqual(spread([0.9, 1.1, 1.0, NaN, 1.2]), { median: 1.05, q1: 0.975, q3: 1.125, rounds: 4 });
  });

  it('a ratio meets its floor only when its lower quartile does, misses only when its upper quartile is below', () => {
    assert.strictEqual(judgeSpread({ median: 1.02, q1: 0.96, q3: 1.1, rounds: 7 }, 0.95), 'meets');
    assert.strictEqual(judgeSpread({ median: 0.9, q1: 0.85, q3: 0.94, rounds: 7 }, 0.95), 'misses');
    // The median above the floor, the spread across it: not settled either way.
    assert.strictEqual(judgeSpread({ median: 0.97, q1: 0.9, q3: 1.05, rounds: 7 }, 0.95), 'not settled');
    assert.strictEqual(judgeSpread({ median: 0.93, q1: 0.9, q3: 0.96, rounds: 7 }, 0.95), 'not settled');
    assert.strictEqual(judgeSpread({ median: NaN, q1: NaN, q3: NaN, rounds: 0 }, 0.95), undefined);
    assert.strictEqual(judgeSpread(undefined, 1), undefined);
  });

  it("a median's 95 % interval is the order statistics a binomial tail allows, and none below 6 values", () => {
    // n = 6: P(B ≤ 0) = 1/64 ≤ 2.5 %, P(B ≤ 1) = 7/64 > it: the extremes.
    assert.deepStrictEqual(medianInterval([6, 1, 5, 2, 4, 3]), { low: 1, high: 6, units: 6 });
    assert.strictEqual(medianInterval([1, 2, 3, 4, 5]), undefined);
    // n = 9: P(B ≤ 1) = 10/512 = 1.95 %, P(B ≤ 2) = 46/512 = 9 %: the 2nd smallest and 2nd largest.
    assert.deepStrictEqual(medianInterval([9, 1, 8, 2, 7, 3, 6, 4, 5]), { low: 2, high: 8, units: 9 });
    // n = 27: P(B ≤ 7) = 0.96 %, P(B ≤ 8) = 2.6 %: the 8th from each end.
    const xs = Array.from({ length: 27 }, (_, i) => i + 1);
    assert.deepStrictEqual(medianInterval(xs), { low: 8, high: 20, units: 27 });
    assert.deepStrictEqual(medianInterval([...xs, NaN]), { low: 8, high: 20, units: 27 });
    // A wider confidence takes more from the ends.
    assert.deepStrictEqual(medianInterval(xs, 0.99), { low: 7, high: 21, units: 27 });
  });

  it("rounds in sets are judged by the interval of the sets' medians, which narrows with more sets while the quartiles do not", () => {
    // Each set's rounds spread ±6 % around a set level of 1.01-1.03: three rounds in four are within the floor's reach.
    const rounds: number[] = [];
    const setOf: number[] = [];
    const levels = [1.02, 1.03, 1.01, 1.025, 1.015, 1.02, 1.03, 1.01, 1.02];
    levels.forEach((level, set) => {
      for (const d of [-0.06, 0, 0.06]) {
        rounds.push(level + d);
        setOf.push(set);
      }
    });
    const s = spread(rounds, setOf);
    assert.ok(s.q1 < 1 && s.q3 > 1, `quartiles ${s.q1}–${s.q3}`);
    assert.deepStrictEqual(s.sets, { count: 9, ci: { low: 1.01, high: 1.03, units: 9 } });
    assert.strictEqual(judgeSpread(s, 1), 'meets');
    // Judged on its quartiles, as one process's rounds are, the same rounds settle nothing.
    assert.strictEqual(judgeSpread(spread(rounds), 1), 'not settled');
    assert.strictEqual(judgeSpread(s, 1.05), 'misses');
    assert.strictEqual(judgeSpread(s, 1.02), 'not settled');
    // Three sets give no 95 % interval: not settled, whatever the rounds say.
    const few = spread([1.2, 1.2, 1.2], [0, 1, 2]);
    assert.deepStrictEqual(few.sets, { count: 3 });
    assert.strictEqual(judgeSpread(few, 1), 'not settled');
    // A round that failed counts in no set.
    assert.strictEqual(spread([1, NaN, 1, 1, 1, 1, 1], [0, 1, 2, 3, 4, 5, 6]).sets?.count, 6);
  });

  it('the runners take turns: each is first in one round of every three', () => {
    assert.deepStrictEqual(turnOrder(['a', 'b', 'c'], 0), ['a', 'b', 'c']);
    assert.deepStrictEqual(turnOrder(['a', 'b', 'c'], 1), ['b', 'c', 'a']);
    assert.deepStrictEqual(turnOrder(['a', 'b', 'c'], 5), ['c', 'a', 'b']);
    assert.deepStrictEqual(turnOrder([], 3), []);
  });
});
