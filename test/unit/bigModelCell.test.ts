import * as assert from 'assert';
import { runCell, variantRatio, type RunnerHandle } from '../../scripts/bigModelBench';
import type { Phase, RunnerKind } from '../../scripts/bigModelRunner';
import type { Dtype } from '../../src/core/neural/onnxVariants';

/**
 * A runner that decodes `rate(round)` tokens a second (prefill twice as fast) and the greedy
 * tokens given, without any model: what runCell makes of the rounds is then known exactly.
 */
function fakeRunner(kind: RunnerKind, dtype: Dtype, rate: (round: number) => number, tokens: number[]): RunnerHandle {
  return {
    kind,
    dtype,
    setup: async () => ({ runner: `${kind} ${dtype}`, loadSeconds: 1 }),
    phase: async (phase: Phase, round: number) => {
      const perSecond = rate(round) * (phase === 'prefill' ? 2 : 1);
      return { count: 16, seconds: 16 / perSecond, cpuSeconds: 16 / perSecond, ...(phase === 'decode' ? { tokens } : {}) };
    },
    peak: async () => 2 ** 20,
    close: async () => undefined,
  };
}

const quiet = () => undefined;

describe('large-model bench: a cell of several variants', () => {
  // Rounds alternate between a fast and a slow machine: ratios within a round stay exact.
  const load = (round: number) => (round % 2 ? 1 : 0.7);

  it("gives each variant's speed-up over fp32 round by round, with an interval over the sets", async () => {
    const handles = () => [
      fakeRunner('bare', 'fp32', (r) => 10 * load(r), [1, 2, 3]),
      fakeRunner('engine', 'fp32', (r) => 9.5 * load(r), [1, 2, 3]),
      fakeRunner('bare', 'int8', (r) => 20 * load(r), [1, 2, 4]),
      fakeRunner('engine', 'int8', (r) => 18.05 * load(r), [1, 2, 4]),
    ];
    const run = await runCell('native', 'fp32', handles, 18, 16, quiet, 6);
    // Greedy tokens are compared within a variant only: int8 may decode other tokens than fp32.
    assert.deepStrictEqual(
      run.results.map((r) => [r.kind, r.dtype, r.tokensDiffer]),
      [
        ['bare', 'fp32', undefined],
        ['engine', 'fp32', undefined],
        ['bare', 'int8', undefined],
        ['engine', 'int8', undefined],
      ],
    );
    const engine = variantRatio(run, 'engine', 'int8', 'decode')!;
    assert.ok(Math.abs(engine.median - 1.9) < 1e-9, `engine int8 ÷ fp32 ${engine.median}`);
    assert.strictEqual(engine.rounds, 18);
    assert.strictEqual(engine.sets?.count, 6);
    assert.ok(engine.sets?.ci && Math.abs(engine.sets.ci.low - 1.9) < 1e-9 && Math.abs(engine.sets.ci.high - 1.9) < 1e-9);
    assert.ok(Math.abs(variantRatio(run, 'bare', 'int8', 'decode')!.median - 2) < 1e-9);
    // The machine's load moves both runs of a round alike; the medians over rounds see it.
    assert.ok(Math.abs(run.results[0].decode - 8.5) < 1e-9);
    // Engine ÷ bare loop within each variant.
    assert.ok(Math.abs(run.results[2].ratios!.decode.median - 0.9025) < 1e-9);
    assert.ok(Math.abs(run.results[0].ratios!.decode.median - 0.95) < 1e-9);
    assert.strictEqual(variantRatio(run, 'engine', 'q4', 'decode'), undefined);
  });

  it('does not compare an engine that decodes other tokens than the bare loop of its variant', async () => {
    const handles = () => [
      fakeRunner('bare', 'fp32', () => 10, [1, 2, 3]),
      fakeRunner('engine', 'fp32', () => 10, [1, 2, 3]),
      fakeRunner('bare', 'int8', () => 20, [1, 2, 4]),
      fakeRunner('engine', 'int8', () => 20, [1, 2, 5]),
    ];
    const run = await runCell('native', 'fp32', handles, 6, 16, quiet, 6);
    assert.match(run.results[3].tokensDiffer ?? '', /engine int8 decodes other tokens than bare int8: from token 2/);
    assert.strictEqual(run.results[2].ratios, undefined);
    assert.ok(run.results[0].ratios);
  });
});
