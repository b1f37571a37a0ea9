import * as assert from 'assert';
import { judgeSpread, quantile, spread, turnOrder } from '../../scripts/benchFigures';

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

  it('the runners take turns: each is first in one round of every three', () => {
    assert.deepStrictEqual(turnOrder(['a', 'b', 'c'], 0), ['a', 'b', 'c']);
    assert.deepStrictEqual(turnOrder(['a', 'b', 'c'], 1), ['b', 'c', 'a']);
    assert.deepStrictEqual(turnOrder(['a', 'b', 'c'], 5), ['c', 'a', 'b']);
    assert.deepStrictEqual(turnOrder([], 3), []);
  });
});
