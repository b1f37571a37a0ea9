/**
 * The scored rows' log Σ exp computed by onnxruntime-node (runtimeLogSumExp.ts, from a graph the
 * engine writes itself: onnxGraphWriter.ts) against logMath's JavaScript loop: the same numbers to
 * 1e-7 at every vocabulary size (a few 1e-8 measured), logMath's rules for non-finite rows, and a transformer
 * scoring a text the same way with it as without it (its log-probs, ranks and distributions).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { logSumExpOfLogits } from '../../src/core/logMath';
import { OnnxCausalLm, type OrtModule } from '../../src/core/neural/onnxCausalLm';
import { onnxModelBytes, OnnxType } from '../../src/core/neural/onnxGraphWriter';
import { RuntimeLogSumExp } from '../../src/core/neural/runtimeLogSumExp';
import { loadHuggingFaceFolder, readFolderFiles } from '../../src/node/neuralLoader';
import { CORPUS, ONNX_FIXTURES } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as OrtModule;

/** Logits as a model gives them: a spread of about ±10, a few large ones. */
function randomLogits(rows: number, vocab: number, seed: number): Float32Array {
  const out = new Float32Array(rows * vocab);
  let s = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 20 - 10 + (s % 997 === 0 ? 15 : 0);
  }
  return out;
}

const TEXT = fs.readFileSync(path.join(CORPUS, 'valid', 'poirot_investigates.txt'), 'utf8').slice(4000, 6500);

describe('log Σ exp of scored rows on the runtime', function () {
  this.timeout(120000);
  let sums: RuntimeLogSumExp;
  before(async () => {
    const made = await RuntimeLogSumExp.create(ort, { executionProviders: ['cpu'] });
    assert.ok(made, 'onnxruntime-node runs the graph');
    sums = made;
  });
  after(() => sums.release());

  for (const vocab of [512, 49152, 151936]) {
    // Each exponential is float32 (relative error about 6e-8), their sum double.
    it(`rows of ${vocab} logits, several runs' worth from an inner row: logMath's values to 1e-7`, async () => {
      const rows = Math.ceil((3 * 2 ** 19) / vocab) + 3;
      const logits = randomLogits(rows, vocab, vocab);
      const out = new Float64Array(rows - 2);
      await sums.rows(logits, vocab, 2, rows - 2, out);
      for (let r = 0; r < rows - 2; r++) {
        const expected = logSumExpOfLogits(logits, (r + 2) * vocab, vocab);
        assert.ok(Math.abs(out[r] - expected) < 1e-7, `row ${r + 2}: ${out[r]} against ${expected}`);
      }
    });
  }

  it('rows with NaN, infinite or only −∞ logits get logMath’s answer exactly', async () => {
    const vocab = 1000;
    const logits = randomLogits(5, vocab, 7);
    logits[0 * vocab + 3] = NaN;
    logits[1 * vocab + 9] = Infinity;
    logits.fill(-Infinity, 2 * vocab, 3 * vocab);
    logits.fill(-Infinity, 3 * vocab, 4 * vocab - 1);
    const out = new Float64Array(5);
    await sums.rows(logits, vocab, 0, 5, out);
    for (let r = 0; r < 4; r++) assert.ok(Object.is(out[r], logSumExpOfLogits(logits, r * vocab, vocab)), `row ${r}: ${out[r]}`);
    assert.strictEqual(out[3], logits[4 * vocab - 1], 'one finite logit among −∞: that logit');
    assert.ok(Math.abs(out[4] - logSumExpOfLogits(logits, 4 * vocab, vocab)) < 1e-7);
  });

  it('the graph writer refuses what it cannot write, rather than writing another number', () => {
    const graph = (axes: number[]) => ({
      name: 'g',
      opset: 11,
      inputs: [{ name: 'x', type: OnnxType.float, dims: ['n', 4] }],
      outputs: [{ name: 'y', type: OnnxType.float, dims: ['n'] }],
      nodes: [{ op: 'ReduceMax', inputs: ['x'], outputs: ['y'], attributes: { axes, keepdims: 0 } }],
    });
    assert.ok(onnxModelBytes(graph([1])).length > 0);
    assert.throws(() => onnxModelBytes(graph([-1])), RangeError);
    assert.throws(() => onnxModelBytes(graph([0.5])), RangeError);
  });

  for (const name of ['tiny-qwen2', 'tiny-llama']) {
    it(`${name} scores a text with it as without it: log-probs to 1e-7, the same ranks, each row's distribution agreeing with its token's score`, async () => {
      const dir = path.join(ONNX_FIXTURES, name);
      const files = { ...readFolderFiles(dir), onnx: path.join(dir, 'onnx', 'model.onnx') };
      const plain = await OnnxCausalLm.create(ort, files, { name, device: 'native', threads: 1 });
      const fast = await OnnxCausalLm.create(ort, files, { name, device: 'native', threads: 1, logSumExpOnRuntime: true });
      try {
        const ids = plain.tokenizer.encode(TEXT, true).map((t) => t.id);
        // Enough rows in a pass for the runtime to take them (fewer stay in JavaScript).
        assert.ok(ids.length * plain.vocabSize > 2 ** 16, `${ids.length} tokens`);
        let runs = 0;
        const runtime = (fast as unknown as { rowSums: RuntimeLogSumExp }).rowSums;
        assert.ok(runtime, 'the runtime sums');
        const rows = runtime.rows.bind(runtime);
        runtime.rows = (...args) => (runs++, rows(...args));

        const a = await plain.sequenceScores(ids, 1);
        const b = await fast.sequenceScores(ids, 1);
        assert.ok(runs > 0, 'the runtime summed rows');
        assert.deepStrictEqual(Array.from(b.ranks), Array.from(a.ranks));
        for (let i = 0; i < a.logProbs.length; i++)
          assert.ok(Math.abs(a.logProbs[i] - b.logProbs[i]) < 1e-7, `token ${i + 1}: ${a.logProbs[i]} against ${b.logProbs[i]}`);

        await fast.forgetContext();
        let worst = 0;
        const scores = await fast.sequenceDistributions(ids, 1, (i, row) => {
          assert.ok(Math.abs(Math.log(row.reduce((s, x) => s + Math.exp(x), 0))) < 1e-7, `row ${i} sums to 1`);
          worst = Math.max(worst, Math.abs(row[ids[i + 1]] - a.logProbs[i]));
        });
        assert.ok(worst < 1e-7, `distributions against the plain scores: ${worst}`);
        for (let i = 0; i < scores.length; i++) assert.ok(Math.abs(scores[i] - b.logProbs[i]) < 1e-12);
      } finally {
        await plain.dispose();
        await fast.dispose();
      }
    });
  }

  it("a decode step's row (nextLogProbs) takes its log Σ exp from the runtime where a row is worth a run: the same distribution to 1e-7", async () => {
    const dir = path.join(ONNX_FIXTURES, 'tiny-qwen2');
    const files = { ...readFolderFiles(dir), onnx: path.join(dir, 'onnx', 'model.onnx') };
    const plain = await OnnxCausalLm.create(ort, files, { name: 'plain', device: 'native', threads: 1 });
    const fast = await OnnxCausalLm.create(ort, files, { name: 'fast', device: 'native', threads: 1, logSumExpOnRuntime: true });
    try {
      const runtime = (fast as unknown as { rowSums: RuntimeLogSumExp }).rowSums;
      // The fixture's vocabulary is below the threshold for one row (a real one, 49,152 or more, is above it).
      assert.strictEqual(runtime.worthRunning(1, fast.vocabSize), false);
      runtime.worthRunning = () => true;
      const oneRow: number[] = [];
      const rows = runtime.rows.bind(runtime);
      runtime.rows = (logits, vocab, first, count, out) => (
        count === 1 && logits.length === vocab && oneRow.push(count),
        rows(logits, vocab, first, count, out)
      );
      const ids = plain.tokenizer.encode(TEXT, true).map((t) => t.id);
      const context = ids.slice(0, 12);
      for (let step = 0; step < 4; step++) {
        const a = await plain.nextLogProbs(context);
        const b = new Float64Array(fast.vocabSize);
        await fast.nextLogProbsInto!(context, b);
        assert.strictEqual(oneRow.length, step + 1, "the runtime summed the step's row");
        let worst = 0;
        for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
        assert.ok(worst < 1e-7, `step ${step}: ${worst}`);
        assert.ok(Math.abs(Math.log(b.reduce((s, x) => s + Math.exp(x), 0))) < 1e-7, 'the row sums to 1');
        context.push(ids[12 + step]);
      }
    } finally {
      await plain.dispose();
      await fast.dispose();
    }
  });

  it('the native loader asks for it, the WASM one does not (measured no faster there)', async () => {
    const dir = path.join(ONNX_FIXTURES, 'tiny-qwen2');
    for (const [device, expected] of [
      ['native', true],
      ['wasm', false],
    ] as const) {
      const lm = await loadHuggingFaceFolder(dir, 'x', { device, dtype: { setting: 'fp32' } });
      try {
        assert.strictEqual((lm as unknown as { rowSums?: unknown }).rowSums !== undefined, expected, device);
      } finally {
        await lm.dispose();
      }
    }
  });
});
