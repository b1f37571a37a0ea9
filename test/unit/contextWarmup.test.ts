/**
 * The warm-up of a transformer's cache before the first hover (warmContext): the hover that
 * follows runs only its word and gives a cold hover's numbers; the warm-up gives way to a request
 * between two of its passes and takes up again after it, stops when cancelled, holds at most a
 * window, and works through the worker thread.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { InferenceSession } from 'onnxruntime-common';
import { OnnxCausalLm, type OrtModule } from '../../src/core/neural/onnxCausalLm';
import { readFolderFiles } from '../../src/node/neuralLoader';
import { onnxBackend } from '../../src/node/backends/onnxBackend';
import { startEngineWorker } from '../../src/node/workerHost';
import { hoverFactsAt, hoverWarmIds } from '../../src/editor/hoverFacts';
import { chunkContextStart, logProbsInChunks } from '../../src/editor/chunkedScoring';
import { ONNX_FIXTURES as FIXTURES } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as OrtModule;

const reference = (name: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, name, 'reference.json'), 'utf8')) as { input_ids: number[]; text: string };

/** The model with warm-up passes of `warmChunk` tokens; `ran` gets each forward pass's token count, `onRun` is called as one starts. */
async function open(name: string, warmChunk: number, maxCacheBytes?: number) {
  const dir = path.join(FIXTURES, name);
  const lm = await OnnxCausalLm.create(
    ort,
    { ...readFolderFiles(dir), onnx: path.join(dir, 'onnx', 'model.onnx') },
    { name, device: 'native', warmChunk, ...(maxCacheBytes ? { maxCacheBytes } : {}) },
  );
  const ran: number[] = [];
  const hooks = { onRun: (_tokens: number) => {} };
  const session = (lm as unknown as { session: InferenceSession }).session;
  const run = session.run.bind(session) as (feeds: InferenceSession.FeedsType, fetches: string[]) => Promise<InferenceSession.ReturnType>;
  (session as unknown as { run: typeof run }).run = (feeds, fetches) => {
    ran.push(feeds.input_ids.dims[1]);
    hooks.onRun(feeds.input_ids.dims[1]);
    return run(feeds, fetches);
  };
  return { lm, ran, hooks };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.strictEqual(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** Resolves when `hooks.onRun` has seen `n` passes. */
function afterPasses(hooks: { onRun: (tokens: number) => void }, n: number): Promise<void> {
  let seen = 0;
  return new Promise((resolve) => {
    hooks.onRun = () => {
      if (++seen === n) resolve();
    };
  });
}

describe('a transformer warms its cache before the first hover, giving way to every request', function () {
  this.timeout(120000);

  for (const name of ['tiny-llama', 'tiny-qwen2']) {
    it(`${name}: after the warm-up a hover runs only its word, with a cold hover's numbers`, async () => {
      const { lm, ran } = await open(name, 16);
      try {
        const { text } = reference(name);
        // The visible text: the hover's window reaches the document's start.
        const window = { text, startOffset: 0, atStart: true };
        const ids = hoverWarmIds(lm, window);
        const tokens = lm.tokenizer.encode(text, true, 0);
        assert.deepStrictEqual(
          ids,
          tokens.map((t) => t.id),
        );
        const seq = { tokens, fromDocumentStart: true, contextStart: (i: number) => chunkContextStart(lm, i) };
        const words = [...text.matchAll(/\p{L}{4,}/gu)].filter((m) => m.index > 20);
        // A word near the end, one in the middle and one near the start, in the order a reader may hover them.
        const picked = [words[words.length - 2], words[words.length >> 1], words[2]];
        const lineOf = (at: number) => {
          const start = text.lastIndexOf('\n', at) + 1;
          return { text: text.slice(start).split('\n')[0], start };
        };
        const cold = [];
        for (const m of picked) {
          await lm.forgetContext();
          cold.push(await hoverFactsAt(lm, seq, m.index + 1, lineOf(m.index), 5));
        }
        await lm.forgetContext();
        ran.length = 0;
        const r = await lm.warmContext(ids);
        assert.strictEqual(r.cached, ids.length);
        assert.ok(
          ran.every((n) => n <= 16),
          `warm-up passes of ${ran.join(', ')} tokens`,
        );
        assert.strictEqual(
          ran.reduce((s, n) => s + n, 0),
          ids.length,
        );
        for (let k = 0; k < picked.length; k++) {
          ran.length = 0;
          const warm = await hoverFactsAt(lm, seq, picked[k].index + 1, lineOf(picked[k].index), 5);
          assert.ok(warm && cold[k]);
          // The word's tokens only (a word has a few), in one pass.
          assert.strictEqual(ran.length, 1, `${picked[k][0]}: ${ran.length} passes`);
          assert.ok(ran[0] <= 8, `${picked[k][0]}: ran ${ran[0]} tokens`);
          assert.ok(Math.abs(warm.logProb - cold[k]!.logProb) < 1e-5, `${picked[k][0]}: ${warm.logProb} against ${cold[k]!.logProb}`);
          assert.deepStrictEqual(
            warm.alternatives.map((a) => a.id),
            cold[k]!.alternatives.map((a) => a.id),
          );
          assert.ok(maxDiff(warm.word?.parts.map((p) => p.logProb) ?? [], cold[k]!.word?.parts.map((p) => p.logProb) ?? []) < 1e-5);
        }
        // The hovers were prefixes of the warmed context: it is still cached whole.
        ran.length = 0;
        assert.strictEqual((await lm.warmContext(ids)).cached, ids.length);
        assert.deepStrictEqual(ran, []);
      } finally {
        await lm.dispose();
      }
    });
  }

  it('a request waits for one warm-up pass at most; the warm-up takes up again after it and caches the rest', async () => {
    const { lm, ran, hooks } = await open('tiny-llama', 16);
    try {
      const doc = reference('tiny-llama').input_ids.slice(0, 240);
      const cold = await lm.nextLogProbs(doc.slice(0, 120));
      await lm.forgetContext();
      ran.length = 0;
      const first = afterPasses(hooks, 1);
      const warming = lm.warmContext(doc);
      await first;
      // Asked while the warm-up's first pass runs.
      const passesBefore = ran.length;
      const order: string[] = [];
      const asked = lm.nextLogProbs(doc.slice(0, 120)).then((d) => {
        order.push(`request after ${ran.length} passes`);
        return d;
      });
      const r = await warming;
      order.push('warm-up done');
      const got = await asked;
      assert.strictEqual(order[0], `request after ${passesBefore + 1} passes`, `${order.join('; ')}; passes ${ran.join(', ')}`);
      // The request's own pass followed the warm-up's first one: 16 tokens cached, it ran 104 more.
      assert.deepStrictEqual(ran.slice(0, 2), [16, 104]);
      assert.ok(r.yielded >= 1, `yielded ${r.yielded}`);
      assert.strictEqual(r.cached, doc.length);
      // After the request the warm-up went on from the request's 120 tokens, 16 at a time.
      assert.strictEqual(
        ran.slice(2).reduce((s, n) => s + n, 0),
        doc.length - 120,
      );
      assert.ok(maxDiff(got, cold) < 1e-5, `the request during the warm-up: ${maxDiff(got, cold)} from cold`);
      // And the cache holds all of it: the longest context runs one token.
      ran.length = 0;
      await lm.nextLogProbs(doc);
      assert.deepStrictEqual(ran, []);
    } finally {
      await lm.dispose();
    }
  });

  it('scoring the end of a long text the cache does not hold reads its context by warm-up passes first, not in one request (drive6: 110 s, hovers waiting)', async () => {
    const { lm, ran } = await open('tiny-llama', 16);
    try {
      const doc = reference('tiny-llama').input_ids.slice(0, 240);
      const from = 230;
      const base = chunkContextStart(lm, from);
      assert.ok(from - base > 64, `a long context: ${from - base} tokens`);
      const got = new Float64Array(doc.length - from);
      await logProbsInChunks(lm, doc, from, doc.length, { onChunk: (start, lp) => got.set(lp, start - from) });
      assert.ok(Math.max(...ran) <= 16, `no pass over 16 tokens: ${ran.join(', ')}`);
      assert.strictEqual(
        ran.reduce((n, t) => n + t, 0),
        doc.length - base,
        `each token read once: ${ran.join(', ')}`,
      );
      // The same numbers as one cold request.
      await lm.forgetContext();
      const cold = await lm.sequenceLogProbs(doc.slice(base), from - base);
      assert.ok(maxDiff(got, cold) < 1e-5, `${maxDiff(got, cold)} from cold`);
    } finally {
      await lm.dispose();
    }
  });

  it('a cancelled warm-up stops after the pass in progress, and holds at most a window', async () => {
    // tiny-llama's cache is 512 bytes a token: a window of 64 tokens.
    const { lm, ran, hooks } = await open('tiny-llama', 8, 512 * 64);
    try {
      const doc = reference('tiny-llama').input_ids;
      const signal = { cancelled: false };
      const second = afterPasses(hooks, 2);
      const warming = lm.warmContext(doc, signal);
      await second;
      signal.cancelled = true;
      const r = await warming;
      assert.strictEqual(ran.length, 2, `passes after the cancel: ${ran.join(', ')}`);
      assert.strictEqual(r.cached, 16);
      ran.length = 0;
      const whole = await lm.warmContext(doc);
      assert.strictEqual(whole.cached, 64, 'a window at most');
      assert.strictEqual(
        ran.reduce((s, n) => s + n, 0),
        64 - 16,
      );
    } finally {
      await lm.dispose();
    }
  });

  it('a model in its worker thread warms its cache, and the hover after it has the cold numbers', async () => {
    const remote = await startEngineWorker({ backend: onnxBackend, location: path.join(FIXTURES, 'tiny-qwen2'), name: 'qwen' }, { device: 'native' });
    try {
      const doc = reference('tiny-qwen2').input_ids;
      const cold = await remote.nextLogProbs(doc.slice(0, 150));
      await remote.forgetContext!();
      assert.ok(remote.warmContext, 'the worker says its model warms');
      const r = await remote.warmContext(doc.slice(0, 200));
      assert.strictEqual(r.cached, 200);
      assert.ok(maxDiff(await remote.nextLogProbs(doc.slice(0, 150)), cold) < 1e-5);
      // Cancelled before it starts: nothing runs.
      assert.deepStrictEqual(await remote.warmContext(doc, { cancelled: true }), { cached: 0, yielded: 0 });
      // A request sent during a warm-up is answered before the warm-up ends (the worker's own queue
      // held it behind the whole warm-up before), and the warm-up then caches the rest.
      await remote.forgetContext!();
      const order: string[] = [];
      const warming = remote.warmContext(doc).then((w) => (order.push('warm-up'), w));
      const hover = await remote.nextLogProbs(doc.slice(0, 150)).then((lp) => (order.push('request'), lp));
      const w = await warming;
      assert.deepStrictEqual(order, ['request', 'warm-up']);
      assert.ok(w.yielded >= 1, 'the warm-up gave way');
      assert.strictEqual(w.cached, doc.length);
      assert.ok(maxDiff(hover, cold) < 1e-5);
    } finally {
      remote.dispose();
    }
  });
});
