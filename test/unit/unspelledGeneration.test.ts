/**
 * A model in an engine worker keeps no tokenizer (tokenizerOnHost): the host tokenizes the prompt,
 * the worker generates token ids without a tokenizer, and the host spells them. The completions and
 * the streamed tokens must be those of generate() with the model and its tokenizer in one thread,
 * field by field (texts, bytes, alternatives, the token that stopped), on a byte-level BPE and a
 * SentencePiece byte-fallback tokenizer, with text that has accents, CJK and an emoji; and the
 * worker's model must not have made its tokenizer for any of it.
 */
import * as assert from 'assert';
import * as path from 'path';
import { EngineConnection, HOST_TOKENIZED_PROMPT_CHARS, WorkerLanguageModel } from '../../src/core/engine/engineClient';
import { EngineServer, describe as describeModel } from '../../src/core/engine/engineServer';
import type { EngineRequest } from '../../src/core/engine/protocol';
import { LmError } from '../../src/core/errors';
import { generate, generateUnspelled, type Completion, type GenerationOptions } from '../../src/core/generation';
import type { OnnxCausalLm } from '../../src/core/neural/onnxCausalLm';
import { hostSide, loadHuggingFaceFolder } from '../../src/node/neuralLoader';
import { startEngineWorker } from '../../src/node/workerHost';
import { onnxBackend } from '../../src/node/backends/onnxBackend';
import { ONNX_FIXTURES, TEST_LOAD_SPEC } from './helpers';

/** A worker in this thread, its messages cloned as postMessage clones them; `ops` records each request's operation and whether it carried prompt tokens. */
function clonedWorker(model: OnnxCausalLm) {
  const ops: string[] = [];
  const server = new EngineServer(
    async () => ({ model }),
    (r, transfer) => {
      const moved = structuredClone(r, { transfer });
      setImmediate(() => connection.receive(moved));
    },
  );
  let queue = Promise.resolve();
  const connection = new EngineConnection((req: EngineRequest, transfer = []) => {
    ops.push(req.op === 'generate' && req.promptTokens ? 'generate (prompt tokens)' : req.op);
    const moved = structuredClone(req, { transfer });
    queue = queue.then(() => server.handle(moved));
  });
  return { connection, ops };
}

/** The completions, or the error's message (a failure must be the same failure). */
const outcome = (p: Promise<Completion[]>): Promise<{ completions: Completion[] } | { error: string }> =>
  p.then(
    (completions) => ({ completions }),
    (e: Error) => ({ error: e.message }),
  );

const TEXT = 'Élodie met the café owner — 東京 was far 🙂, and then';

const OPTIONS: GenerationOptions[] = [
  { maxTokens: 24, temperature: 0, seed: 1 },
  { maxTokens: 20, temperature: 1.3, seed: 11, numCompletions: 3, topKPerToken: 5 },
  { maxTokens: 16, temperature: 0.9, topK: 40, topP: 0.95, seed: 5, topKPerToken: 2, promptAtStart: false },
];

describe('generation in a worker that keeps no tokenizer, spelled on the host', function () {
  this.timeout(120_000);

  for (const fixture of ['tiny-qwen2', 'tiny-llama']) {
    it(`${fixture}: completions and streamed tokens equal generate() in one thread; the worker's model never makes its tokenizer`, async () => {
      const dir = path.join(ONNX_FIXTURES, fixture);
      const local = await loadHuggingFaceFolder(dir, fixture, { device: 'native' });
      const there = await loadHuggingFaceFolder(dir, fixture, { device: 'native', tokenizerOnHost: true });
      try {
        assert.strictEqual(there.holdsTokenizer, false, 'the load drops the tokenizer once its checks are done');
        assert.strictEqual(local.holdsTokenizer, true);
        const { connection, ops } = clonedWorker(there);
        const description = (await connection.request({ op: 'load', spec: TEST_LOAD_SPEC })).model;
        assert.strictEqual(description.tokenizerOnDemand, true);
        assert.deepStrictEqual(describeModel(there), description);
        const remote = new WorkerLanguageModel(connection, description, hostSide(dir).tokenizer, () => undefined, undefined, {
          transfersRows: true,
          generatesInEngine: true,
        });
        assert.strictEqual(remote.info.name, local.info.name);
        for (const prompt of [TEXT, '', 'The', '東京']) {
          for (const options of OPTIONS) {
            const label = `${JSON.stringify(prompt)} ${JSON.stringify(options)}`;
            const streamedThere: unknown[] = [];
            const streamedHere: unknown[] = [];
            const a = await outcome(generate(remote, prompt, options, { onToken: (c, t) => streamedThere.push([c, structuredClone(t)]) }));
            const b = await outcome(generate(local, prompt, options, { onToken: (c, t) => streamedHere.push([c, structuredClone(t)]) }));
            assert.deepStrictEqual(a, b, label);
            assert.deepStrictEqual(streamedThere, streamedHere, label);
            // An empty prompt not at a text's start has no token to start from: both refuse it.
            if (prompt === '' && options.promptAtStart === false) assert.ok('error' in b, label);
            else assert.ok('completions' in b && b.completions.some((c) => c.tokens.some((t) => t.text !== '')), `${label}: the tokens have texts to compare`);
          }
        }
        assert.ok(ops.includes('generate (prompt tokens)'), 'generations went to the worker with the prompt tokenized here');
        assert.strictEqual(there.holdsTokenizer, false, 'no generation made the worker read its tokenizer');

        // One that reads its text while it runs: its steps run from the host, one request each, the worker's warm-ups held meanwhile.
        const stop: GenerationOptions = { maxTokens: 30, temperature: 0.8, seed: 3, stopSequences: ['e', '東'], topKPerToken: 3 };
        const before = ops.length;
        assert.deepStrictEqual(await generate(remote, TEXT, stop), await generate(local, TEXT, stop));
        assert.ok(
          ops[before] === 'holdForGeneration' &&
            ops[ops.length - 1] === 'holdForGeneration' &&
            ops.slice(before + 1, -1).every((op) => op === 'nextLogProbs' || op === 'forgetContext'),
          `steps from the host: ${ops.slice(before).join(', ')}`,
        );
        assert.strictEqual(there.holdsTokenizer, false);

        // A prompt too long to tokenize on the host without a pause: generated there, the tokenizer made for it.
        const long = `${TEXT} `.repeat(Math.ceil(HOST_TOKENIZED_PROMPT_CHARS / TEXT.length) + 1);
        const opts = { maxTokens: 6, temperature: 0, topKPerToken: 2, seed: 2 };
        assert.deepStrictEqual(await generate(remote, long, opts), await generate(local, long, opts));
        assert.strictEqual(ops[ops.length - 1], 'generate');
        assert.strictEqual(there.holdsTokenizer, true);
        // And what it makes is the model's tokenizer: top tokens as a local model gives them.
        const top = await connection.request({ op: 'topTokens', prompt: TEXT, k: 5 });
        const localTop = (await local.nextLogProbs(local.tokenizer.encode(TEXT, true).map((t) => t.id))).slice();
        assert.deepStrictEqual(top.logProbs, localTop);
      } finally {
        await local.dispose();
        await there.dispose();
      }
    });
  }

  it('refuses a generation that reads its text while it runs, which needs the tokenizer', async () => {
    const dir = path.join(ONNX_FIXTURES, 'tiny-qwen2');
    const there = await loadHuggingFaceFolder(dir, 'q', { device: 'native', tokenizerOnHost: true });
    try {
      const tokens = { text: 'ab', tokens: hostSide(dir).tokenizer.encode('ab', true) };
      for (const o of [{ stopSequences: ['x'] }, { stopAtBlankLine: true }, { noLeadingLineBreak: true }, { healPartialWord: true }, { echoPrompt: true }]) {
        await assert.rejects(generateUnspelled(there, tokens, { maxTokens: 3, temperature: 0, ...o }), LmError, JSON.stringify(o));
      }
      assert.strictEqual(there.holdsTokenizer, false);
    } finally {
      await there.dispose();
    }
  });

  it("the product's worker thread: a Complete Selection's generation there equals one in this thread, texts, bytes and alternatives included", async () => {
    const dir = path.join(ONNX_FIXTURES, 'tiny-qwen2');
    const local = await loadHuggingFaceFolder(dir, 'q', { device: 'native' });
    const remote = await startEngineWorker({ backend: onnxBackend, location: dir, name: 'q' }, { device: 'native' });
    try {
      const shown = (cs: Completion[]) => cs.map((c) => [c.text, c.finishReason, c.tokens.map((t) => [t.id, t.text, t.logProb, t.bytes, t.alternatives])]);
      for (const options of OPTIONS) assert.deepStrictEqual(shown(await generate(remote, TEXT, options)), shown(await generate(local, TEXT, options)));
    } finally {
      remote.dispose();
      await local.dispose();
    }
  });
});
