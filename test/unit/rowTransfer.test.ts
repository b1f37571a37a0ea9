/**
 * Generation with a model in a Node worker thread: a text prompt's whole generation runs in the
 * worker (generateInEngine), and a decode step the host drives moves one row to and fro
 * (nextLogProbsInto over the engine protocol) instead of copying the distribution on both sides:
 * the numbers are nextLogProbs', the row the worker writes is the one the host sent, and the host
 * reuses what comes back.
 */
import * as assert from 'assert';
import * as path from 'path';
import { EngineConnection, WorkerLanguageModel } from '../../src/core/engine/engineClient';
import { EngineServer, describe as describeModel } from '../../src/core/engine/engineServer';
import type { EngineRequest, EngineResponse } from '../../src/core/engine/protocol';
import { CancelledError } from '../../src/core/errors';
import { generate, type Completion } from '../../src/core/generation';
import type { LanguageModel } from '../../src/core/model';
import { onnxBackend } from '../../src/node/backends/onnxBackend';
import { loadHuggingFaceFolder } from '../../src/node/neuralLoader';
import { startEngineWorker } from '../../src/node/workerHost';
import { ONNX_FIXTURES, TEST_LOAD_SPEC, TableModel } from './helpers';

/**
 * A worker as engineWorker.ts runs one, its messages cloned as postMessage clones them (the buffers
 * in a transfer list moved: the sender's are detached); `sent` records each request and its transfer list.
 */
function clonedWorker(model: LanguageModel) {
  const sent: { req: EngineRequest; transfer: ArrayBuffer[] }[] = [];
  const received: EngineResponse[] = [];
  /** In the worker: each row a request brought, and whether the response gave back that very row, moved. */
  const inWorker = new Map<number, Float64Array>();
  const returnedSameRow: boolean[] = [];
  const server = new EngineServer(
    async () => ({ model }),
    (r, transfer) => {
      if (r.ok && 'result' in r && r.op === 'nextLogProbs' && inWorker.has(r.id)) {
        returnedSameRow.push(r.result.logProbs === inWorker.get(r.id) && transfer.length === 1 && transfer[0] === r.result.logProbs.buffer);
      }
      const moved = structuredClone(r, { transfer });
      received.push(moved);
      setImmediate(() => connection.receive(moved));
    },
  );
  let queue = Promise.resolve();
  const connection = new EngineConnection((req, transfer = []) => {
    sent.push({ req, transfer });
    const moved = structuredClone(req, { transfer });
    if (moved.op === 'nextLogProbs' && moved.row) inWorker.set(moved.id, moved.row);
    queue = queue.then(() => server.handle(moved));
  });
  return { connection, sent, received, returnedSameRow };
}

const sameNumbers = (a: Float64Array, b: Float64Array) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));

describe('decode rows moved between host and worker', function () {
  this.timeout(60_000);

  for (const [name, open] of [
    ['a transformer (nextLogProbsInto in the worker)', () => loadHuggingFaceFolder(path.join(ONNX_FIXTURES, 'tiny-llama'), 'llama', { device: 'native' })],
    [
      'a model without nextLogProbsInto (the row filled from nextLogProbs)',
      async () =>
        new TableModel(
          ['<s>', '</s>', 'a', 'b'],
          [
            [0, 0.1, 0.6, 0.3],
            [0, 1, 0, 0],
            [0, 0.2, 0.3, 0.5],
            [0, 0.3, 0.4, 0.3],
          ],
        ),
    ],
  ] as const) {
    it(`${name}: nextLogProbs' numbers; the row sent is moved, written and reused at the next step`, async () => {
      const model: LanguageModel = await open();
      try {
        const { connection, sent, received, returnedSameRow } = clonedWorker(model);
        await connection.request({ op: 'load', spec: TEST_LOAD_SPEC });
        const remote = new WorkerLanguageModel(connection, describeModel(model), model.tokenizer, () => undefined, undefined, { transfersRows: true });
        assert.ok(remote.nextLogProbsInto, 'a channel that moves buffers gives nextLogProbsInto');
        const out = new Float64Array(model.vocabSize);
        const contexts = [[1], [1, 2], [1, 2, 3], [2, 3]].map((c) => c.map((id) => id % model.vocabSize));
        for (const context of contexts) {
          await remote.nextLogProbsInto(context, out);
          assert.ok(sameNumbers(out, (await model.nextLogProbs(context)).slice()), `the numbers after [${context}]`);
        }
        const steps = sent.filter((s) => s.req.op === 'nextLogProbs');
        assert.strictEqual(steps.length, contexts.length);
        for (const s of steps) {
          const row = (s.req as { row?: Float64Array }).row!;
          assert.ok(row, 'each step sends a row');
          assert.deepStrictEqual(s.transfer, [row.buffer], 'in the transfer list');
          // Moved: the host's view of it is detached once sent.
          assert.strictEqual(row.length, 0);
        }
        // The worker wrote the distribution into the row it was sent and moved that row back.
        assert.deepStrictEqual(
          returnedSameRow,
          contexts.map(() => true),
        );
        // Each step after the first sends the row the step before got back.
        const rowsBack = received.flatMap((r) => (r.ok && 'result' in r && r.op === 'nextLogProbs' ? [r.result.logProbs] : []));
        for (let i = 1; i < steps.length; i++) assert.strictEqual((steps[i].req as { row?: Float64Array }).row, rowsBack[i - 1], `step ${i}'s row`);
        // The model's own nextLogProbs path is untouched: a request without a row gets a copy.
        const plain = await remote.nextLogProbs(contexts[0]);
        assert.ok(sameNumbers(plain, (await model.nextLogProbs(contexts[0])).slice()));
        // A row of another length (a model whose vocabulary the host does not know) is refused on the host.
        await assert.rejects(remote.nextLogProbsInto(contexts[0], new Float64Array(model.vocabSize + 1)), /row has/);
      } finally {
        await model.dispose?.();
      }
    });
  }

  it("the product's worker thread: generations run there, and equal those in this thread token by token (text prompts in the worker, tokenized ones step by step with moved rows); the tokens streamed are those streamed here; a cancelled one fails as cancelled", async () => {
    const dir = path.join(ONNX_FIXTURES, 'tiny-llama');
    const local = await loadHuggingFaceFolder(dir, 'llama', { device: 'native' });
    const remote = await startEngineWorker({ backend: onnxBackend, location: dir, name: 'llama' }, { device: 'native' });
    try {
      assert.ok(remote.generateInEngine, 'a worker thread runs generations');
      assert.ok(remote.nextLogProbsInto, 'a worker thread moves rows');
      const shown = (cs: Completion[]) => cs.map((c) => [c.text, c.finishReason, c.tokens.map((t) => [t.id, t.text, t.logProb])]);
      const prompt = 'Once upon a time';
      for (const options of [
        { maxTokens: 12, temperature: 0 },
        { maxTokens: 12, temperature: 1, seed: 7, numCompletions: 2, topKPerToken: 3 },
        { maxTokens: 30, temperature: 0.8, seed: 3, stopSequences: ['e'] },
      ]) {
        const streamed: [number, number][] = [];
        const there = await generate(remote, prompt, options, { onToken: (c, t) => streamed.push([c, t.id]) });
        const streamedHere: [number, number][] = [];
        const here = await generate(local, prompt, options, { onToken: (c, t) => streamedHere.push([c, t.id]) });
        assert.deepStrictEqual(shown(there), shown(here), JSON.stringify(options));
        assert.deepStrictEqual(
          there.map((c) => c.tokens.map((t) => t.alternatives)),
          here.map((c) => c.tokens.map((t) => t.alternatives)),
        );
        assert.deepStrictEqual(streamed, streamedHere);
        // A tokenized prompt: generate() runs its steps here, each a request with a moved row.
        const tokens = { text: prompt, tokens: local.tokenizer.encode(prompt, true) };
        assert.deepStrictEqual(shown(await generate(remote, tokens, options)), shown(await generate(local, tokens, options)));
      }
      await assert.rejects(generate(remote, prompt, { maxTokens: 5, temperature: 0 }, { signal: { cancelled: true } }), CancelledError);
    } finally {
      remote.dispose();
      await local.dispose();
    }
  });
});
