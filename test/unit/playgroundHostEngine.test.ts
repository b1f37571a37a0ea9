/**
 * The playground's GGUF models, run by the extension for the page (vscode/playgroundHostEngine.ts):
 * the page's requests as it posts them, the responses as the page receives them (relayed), against
 * the same model opened directly and core `generate` with the same options.
 */
import * as assert from 'assert';
import * as path from 'path';
import { EngineConnection } from '../../src/core/engine/engineClient';
import type { GeneratePartial } from '../../src/core/engine/protocol';
import { generate } from '../../src/core/generation';
import { CancelledError, LmError } from '../../src/core/errors';
import type { RecognizedModel } from '../../src/node/backends/backend';
import { openGguf } from '../../src/node/gguf/ggufFile';
import { recognizeModel } from '../../src/node/modelLoader';
import { startEngineWorker } from '../../src/node/workerHost';
import { PlaygroundHostEngine, playgroundHostPlace, runsOnPlaygroundHost } from '../../src/vscode/playgroundHostEngine';
import { fromRelay } from '../../src/webview/relayMessages';
import { REPO } from './helpers';

const MODEL = path.join(REPO, 'test', 'fixtures', 'models', 'gguf', 'tiny-llama-f32.gguf');
const PROMPT = 'The cat sat on the';

/** A page's end: an EngineConnection whose requests reach the host engine, whose responses come back relayed. */
function page(models: Map<string, RecognizedModel>) {
  let conn: EngineConnection | undefined = undefined;
  const messages: unknown[] = [];
  const engine = new PlaygroundHostEngine(
    models,
    (model) => startEngineWorker(model, {}),
    (response) => {
      // What crosses to a webview is serialised: the typed arrays must already be plain.
      messages.push(JSON.parse(JSON.stringify(response)));
      conn!.receive(fromRelay(response));
    },
  );
  conn = new EngineConnection((request) => engine.handle(JSON.parse(JSON.stringify(request))));
  return { conn, engine, messages };
}

describe('Playground: GGUF models run by the extension for the page', function () {
  this.timeout(120_000);
  const offered = new Map([[MODEL, recognizeModel(MODEL)]]);

  it('are the models with a Node worker and no webview placement (GGUF), not ONNX or n-gram ones', () => {
    assert.strictEqual(runsOnPlaygroundHost(recognizeModel(MODEL)), true);
    assert.strictEqual(runsOnPlaygroundHost(recognizeModel('ngram-classics')), false);
    assert.strictEqual(runsOnPlaygroundHost(recognizeModel('gpt-classics')), false);
    assert.strictEqual(runsOnPlaygroundHost(recognizeModel(path.join(REPO, 'test', 'fixtures', 'models', 'tiny-llama'))), false);
    // The page names where it runs: a child process, not the extension host (hostile L7).
    assert.strictEqual(playgroundHostPlace(recognizeModel(MODEL)), 'an engine process of the extension');
  });

  it('generate with our sampler at T = 0, 1 and 50 (streamed), and the top tokens, as the model opened directly gives them', async () => {
    const { conn, engine, messages } = page(offered);
    const direct = await openGguf(MODEL, 'direct');
    try {
      const { model } = await conn.request({ op: 'load', spec: { backend: 'gguf', name: 'tiny', source: { path: MODEL }, device: 'auto' } });
      assert.strictEqual(model.backend, 'gguf');
      assert.strictEqual(model.device, 'llama.cpp');
      for (const temperature of [0, 1, 50]) {
        const options = { maxTokens: 12, temperature, seed: 7, numCompletions: 2, topKPerToken: 3 };
        const streamed: GeneratePartial[] = [];
        const { completions } = await conn.request({ op: 'generate', prompt: PROMPT, options }, undefined, (p) => streamed.push(p));
        const expected = await generate(direct, PROMPT, options);
        assert.deepStrictEqual(
          completions.map((c) => [c.text, c.tokens.map((t) => t.id)]),
          expected.map((c) => [c.text, c.tokens.map((t) => t.id)]),
          `T = ${temperature}`,
        );
        for (const [i, c] of completions.entries()) {
          for (const [j, t] of c.tokens.entries())
            assert.ok(Math.abs(t.logProb - expected[i].tokens[j].logProb) < 1e-6, `T = ${temperature}: token ${j}'s log-prob`);
          assert.deepStrictEqual(
            streamed.filter((p) => p.completion === i).flatMap((p) => p.tokens.map((t) => t.id)),
            c.tokens.map((t) => t.id),
            'the tokens were streamed before the result',
          );
        }
      }
      // A branch from a chosen token (the inside panel): generation continues after the given ids.
      const first = await conn.request({ op: 'generate', prompt: PROMPT, options: { maxTokens: 3, temperature: 0 } });
      const chosen = first.completions[0].tokens.map((t) => t.id);
      chosen[1] = (chosen[1] + 1) % direct.vocabSize;
      const branch = await conn.request({ op: 'generate', prompt: PROMPT, continuation: chosen.slice(0, 2), options: { maxTokens: 4, temperature: 0 } });
      const promptIds = direct.tokenizer.encode(PROMPT, true).map((t) => t.id);
      const context = [...promptIds, ...chosen.slice(0, 2)];
      for (const t of branch.completions[0].tokens) {
        const lp = await direct.nextLogProbs(context);
        assert.strictEqual(t.id, lp.indexOf(Math.max(...lp)), 'greedy after the chosen tokens');
        context.push(t.id);
      }
      const top = await conn.request({ op: 'topTokens', prompt: PROMPT, k: 5 });
      const ids = direct.tokenizer.encode(PROMPT, true).map((t) => t.id);
      const dist = await direct.nextLogProbs(ids);
      assert.ok(top.logProbs instanceof Float64Array && top.logProbs.length === direct.vocabSize);
      for (const t of top.top) assert.ok(Math.abs(t.logProb - dist[t.id]) < 1e-6);
      assert.ok(messages.length > 0);
    } finally {
      await engine.dispose();
      await direct.dispose();
    }
  });

  it('refuses a model it did not offer, cancels a generation, and releases the model when the page goes', async () => {
    const { conn, engine } = page(offered);
    const other = path.join(REPO, 'test', 'fixtures', 'models', 'gguf', 'tiny-qwen2-f32.gguf');
    await assert.rejects(
      conn.request({ op: 'load', spec: { backend: 'gguf', name: 'x', source: { path: other }, device: 'auto' } }),
      (e: Error) => e instanceof LmError && /not offered: .*tiny-qwen2-f32\.gguf/.test(e.message),
    );
    await conn.request({ op: 'load', spec: { backend: 'gguf', name: 'tiny', source: { path: MODEL }, device: 'auto' } });
    const signal = { cancelled: false };
    let tokens = 0;
    const run = conn.request({ op: 'generate', prompt: PROMPT, options: { maxTokens: 4000, temperature: 1, seed: 1 } }, signal, (p) => {
      tokens += p.tokens.length;
      signal.cancelled = true;
    });
    await assert.rejects(run, (e: Error) => e instanceof CancelledError);
    assert.ok(tokens > 0 && tokens < 4000);
    await engine.dispose();
    // Nothing answers once the page is gone (the leak check sees that its worker thread ended).
    const after = conn.request({ op: 'topTokens', prompt: PROMPT, k: 1 });
    const raced = await Promise.race([after.then(() => 'answered'), new Promise((r) => setImmediate(() => r('silent')))]);
    assert.strictEqual(raced, 'silent');
    conn.close(new Error('page closed'));
    await after.catch(() => undefined);
  });
});
