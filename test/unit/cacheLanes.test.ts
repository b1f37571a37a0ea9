/**
 * A local model's two caches (src/core/cacheLanes.ts; hostile G5): a short request far from the
 * long cached sequence (a hover near the top of a long document, an unrelated prompt of
 * `lmp serve --concurrency 2`) runs on the small side cache, so the next request that extends the
 * long sequence runs only its new tokens, counted by the model (not timed). Every number is a cold
 * run's, on GGUF (llama.cpp) and ONNX (onnxruntime) fixtures.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { chooseLane, LaneChooser } from '../../src/core/cacheLanes';
import type { SequenceScores } from '../../src/core/model';
import { OnnxCausalLm, type OrtModule } from '../../src/core/neural/onnxCausalLm';
import { openGguf } from '../../src/node/gguf/ggufFile';
import { readFolderFiles } from '../../src/node/neuralLoader';
import { ONNX_FIXTURES, corpusFiles } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as OrtModule;

/** What the tests use of either backend's model. */
interface LanedModel {
  readonly evaluated: { main: number; side: number };
  readonly tokenizer: { encode(text: string, addBos: boolean): { id: number }[] };
  nextLogProbs(context: readonly number[]): Promise<Float64Array>;
  sequenceScores(ids: readonly number[], from: number): Promise<SequenceScores>;
  dispose(): Promise<void>;
}

/**
 * `prefixOnMain`: the ONNX engine answers a prefix of its cached sequence (a hover above the end)
 * from a copy of that prefix's cache and keeps the longer one, so such a request runs one token on
 * the main lane; llama.cpp's cache cannot be cut without erasing, so GGUF runs it on the side lane.
 */
const MODELS: { name: string; open: () => Promise<LanedModel>; tolerance: number; prefixOnMain: boolean }[] = [
  ...['tiny-llama-f32', 'tiny-qwen2-f32'].map((f) => ({
    name: `GGUF ${f}`,
    open: () => openGguf(path.join(ONNX_FIXTURES, 'gguf', `${f}.gguf`), f, { threads: 1 }),
    // llama.cpp's float32 sums differ in the last bits with the way a sequence is cut into batches (as before two lanes).
    tolerance: 1e-5,
    prefixOnMain: false,
  })),
  ...['tiny-llama', 'tiny-qwen2'].map((f) => ({
    name: `ONNX ${f}`,
    open: () =>
      OnnxCausalLm.create(
        ort,
        { ...readFolderFiles(path.join(ONNX_FIXTURES, f)), onnx: path.join(ONNX_FIXTURES, f, 'onnx', 'model.onnx') },
        { name: f, device: 'native', threads: 1 },
      ),
    // A token after 900 cached ones against a cold run of 901 in float32: tiny-llama 1.009e-5, the same before two lanes (one cache).
    tolerance: 2e-5,
    prefixOnMain: true,
  })),
];

/** Token ids of the validation text and of a training text (8,000 characters each: over 900 tokens of these fixtures). */
function texts(model: LanedModel): [number[], number[]] {
  const [a, b] = [corpusFiles('valid')[0], corpusFiles('train')[0]];
  const ids = (file: string) => model.tokenizer.encode(fs.readFileSync(file, 'utf8').slice(0, 8000), true).map((t) => t.id);
  return [ids(a), ids(b)];
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.strictEqual(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** Tokens `fn` made the model evaluate, on each lane. */
async function counted(model: LanedModel, fn: () => Promise<unknown>): Promise<{ main: number; side: number }> {
  const before = { ...model.evaluated };
  await fn();
  return { main: model.evaluated.main - before.main, side: model.evaluated.side - before.side };
}

describe('the lane rule: the cache where tokens run now plus cached tokens thrown away cost least', () => {
  it('runs a short request far from the long sequence on the side lane, and one that extends a lane there', () => {
    // A hover near the top (50 tokens, its first 49 cached) of a 3,000-token sequence: the main lane would lose 2,951 tokens.
    assert.strictEqual(chooseLane({ run: 1, lost: 2951 }, { run: 50, lost: 0 }), 'side');
    // The long sequence's next token: nothing lost on the main lane.
    assert.strictEqual(chooseLane({ run: 1, lost: 0 }, { run: 3001, lost: 50 }), 'main');
    // Too long for the side lane: the main one, whatever it loses.
    assert.strictEqual(chooseLane({ run: 2000, lost: 3000 }, undefined), 'main');
    // A tie goes to the main lane.
    assert.strictEqual(chooseLane({ run: 10, lost: 0 }, { run: 10, lost: 0 }), 'main');
  });

  it('gives the sequence the last eviction threw away, asked for again, the lane used least recently (two requests taking turns)', () => {
    const lanes = new LaneChooser();
    // The main lane holds an old long sequence; a new request takes the side lane, another throws it out.
    assert.strictEqual(lanes.choose([1, 2, 3], { run: 3, lost: 600 }, { run: 3, lost: 500 }), 'side');
    lanes.threwAway([9, 9]);
    assert.strictEqual(lanes.choose([4, 5, 6], { run: 3, lost: 600 }, { run: 3, lost: 300 }), 'side');
    lanes.threwAway([1, 2, 3]);
    // The first one again, one token on: the cost rule would throw the second out; the main lane, unused longest, goes instead.
    assert.strictEqual(lanes.choose([1, 2, 3, 7], { run: 4, lost: 600 }, { run: 4, lost: 300 }), 'main');
    // A request that extends a lane stays the cost rule's.
    lanes.threwAway([4, 5, 6]);
    assert.strictEqual(lanes.choose([4, 5, 6, 8], { run: 4, lost: 4 }, { run: 1, lost: 0 }), 'side');
    // Otherwise the cost rule (a tie: the main lane).
    assert.strictEqual(lanes.choose([5, 5], { run: 2, lost: 4 }, { run: 2, lost: 4 }), 'main');
  });

  it('keeps a document many times longer than the side lane’s sequence when hover windows take turns (drive8)', () => {
    const lanes = new LaneChooser();
    // The status bar's 7,700-token document on the main lane; the window at the end warmed on the side lane.
    assert.strictEqual(lanes.choose([1, 2], { run: 7700, lost: 0 }, { run: 7700, lost: 0 }), 'main');
    assert.strictEqual(lanes.choose([3, 4], { run: 1450, lost: 7700 }, { run: 1450, lost: 0 }), 'side');
    // A hover in the middle throws the end's window out of the side lane.
    assert.strictEqual(lanes.choose([5, 6], { run: 1500, lost: 7700 }, { run: 1500, lost: 1450 }), 'side');
    lanes.threwAway([3, 4]);
    // Typing at the end: the end's window again, a few tokens on. The main lane is used least recently, but its document stays.
    assert.strictEqual(lanes.choose([3, 4, 7], { run: 1455, lost: 7700 }, { run: 1455, lost: 1500 }), 'side');
  });
});

describe('a local model keeps a long sequence cached while short requests far from it run on a second cache (hostile G5)', function () {
  this.timeout(180000);

  for (const { name, open, tolerance, prefixOnMain } of MODELS) {
    it(`${name}: a hover near the top and an unrelated short request, then the long sequence's next token evaluates that token only, with a cold run's numbers`, async () => {
      const model = await open();
      try {
        const [doc, other] = texts(model);
        assert.ok(doc.length > 920 && other.length > 60, `texts of ${doc.length} and ${other.length} tokens`);
        const long = doc.slice(0, 900);
        assert.strictEqual(doc[0], other[0], 'both texts start with the model’s start-of-text token');
        const steps: { context: number[]; main: number; side: number }[] = [
          { context: long, main: 900, side: 0 },
          // A hover near the top: the side lane, from scratch (GGUF); one token on a copy of the cached prefix (ONNX).
          prefixOnMain ? { context: doc.slice(0, 50), main: 1, side: 0 } : { context: doc.slice(0, 50), main: 0, side: 50 },
          // Another document's short request: the side lane, which loses 49 tokens at most, not the main's 899
          // (GGUF's side lane keeps the start-of-text token it shares).
          { context: other.slice(0, 40), main: 0, side: prefixOnMain ? 40 : 39 },
          // The next keystroke at the end of the long sequence: that token only.
          { context: doc.slice(0, 901), main: 1, side: 0 },
          // And a hover near the top once more: the main sequence stays.
          prefixOnMain ? { context: doc.slice(0, 30), main: 1, side: 0 } : { context: doc.slice(0, 30), main: 0, side: 29 },
          { context: doc.slice(0, 902), main: 1, side: 0 },
        ];
        const warm: Float64Array[] = [];
        for (const [s, step] of steps.entries()) {
          const n = await counted(model, async () => warm.push((await model.nextLogProbs(step.context)).slice()));
          assert.deepStrictEqual(n, { main: step.main, side: step.side }, `step ${s} (${step.context.length} tokens) evaluated ${JSON.stringify(n)}`);
        }
        // The heat-map's next chunk at the end: only its new tokens (and the one before them, whose row predicts the first).
        const scored = doc.slice(0, 912);
        let scores: SequenceScores | undefined;
        const n = await counted(model, async () => (scores = await model.sequenceScores(scored, 902)));
        assert.ok(n.main + n.side <= 11, `the next chunk evaluated ${JSON.stringify(n)}`);
        for (const [s, step] of steps.entries()) {
          const cold = await open();
          try {
            const d = maxDiff(warm[s], await cold.nextLogProbs(step.context));
            assert.ok(d <= tolerance, `step ${s} (${step.context.length} tokens): ${d} from a cold run`);
          } finally {
            await cold.dispose();
          }
        }
        const cold = await open();
        try {
          const c = await cold.sequenceScores(scored, 902);
          assert.ok(maxDiff(scores!.logProbs, c.logProbs) <= tolerance);
          assert.deepStrictEqual(Array.from(scores!.ranks), Array.from(c.ranks));
        } finally {
          await cold.dispose();
        }
      } finally {
        await model.dispose();
      }
    });

    it(`${name}: two requests taking turns (lmp serve --concurrency 2) each keep their own cache: one token per step after their prompts`, async () => {
      const model = await open();
      try {
        const [doc, other] = texts(model);
        const a = doc.slice(0, 600);
        const b = other.slice(0, 500);
        assert.deepStrictEqual(await counted(model, () => model.nextLogProbs(a)), { main: 600, side: 0 });
        assert.deepStrictEqual(await counted(model, () => model.nextLogProbs(b)), { main: 0, side: 500 });
        const answers: Float64Array[] = [];
        for (let step = 1; step <= 3; step++) {
          for (const [prompt, text] of [
            [a, doc],
            [b, other],
          ]) {
            const n = await counted(model, async () => answers.push((await model.nextLogProbs(text.slice(0, prompt.length + step))).slice()));
            assert.strictEqual(n.main + n.side, 1, `step ${step} of the ${prompt === a ? 'first' : 'second'} request evaluated ${JSON.stringify(n)}`);
          }
        }
        // Two new requests taking turns, while the lanes still hold those two (asked for no more): the
        // first one's prompt runs twice (its lane taken by the second's), then each has a lane.
        const c = [doc[0], ...doc.slice(700, 1000)];
        const d = [other[0], ...other.slice(600, 900)];
        const runs: number[] = [];
        for (let step = 0; step <= 4; step++) {
          for (const [prompt, text] of [
            [c, doc.slice(700)],
            [d, other.slice(600)],
          ]) {
            const n = await counted(model, async () => answers.push((await model.nextLogProbs([...prompt, ...text.slice(300, 300 + step)])).slice()));
            runs.push(n.main + n.side);
          }
        }
        assert.deepStrictEqual(runs.slice(3), [1, 1, 1, 1, 1, 1, 1], `tokens evaluated at each step: ${runs.join(', ')}`);
        assert.ok(runs[2] <= c.length + 1, `tokens evaluated at each step: ${runs.join(', ')}`);
        const cold = await open();
        try {
          assert.ok(maxDiff(answers[5], await cold.nextLogProbs(other.slice(0, 503))) <= tolerance);
          assert.ok(maxDiff(answers[answers.length - 1], await cold.nextLogProbs([...d, ...other.slice(900, 904)])) <= tolerance);
        } finally {
          await cold.dispose();
        }
      } finally {
        await model.dispose();
      }
    });
  }
});
