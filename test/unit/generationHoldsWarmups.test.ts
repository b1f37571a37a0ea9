/**
 * A generation holds the model's warm-ups off until it ends (drive49 H1): the hover warm-up that
 * the editor asks for on every scroll or edit used to run passes between two steps of a
 * generation, moving its cache, and an int8 graph (which quantizes its activations per run) then
 * gave the next step other numbers, so that a seed gave another text. On the int8 fixtures, warm-ups
 * asked for at every generated token must change no field of the completions, in one thread and in
 * the product's worker thread (the generation in the worker, or stepping from the host), and must
 * still end once the generation has.
 */
import * as assert from 'assert';
import * as path from 'path';
import { generate, type Completion, type GenerationOptions } from '../../src/core/generation';
import type { LanguageModel, WarmResult } from '../../src/core/model';
import { loadHuggingFaceFolder } from '../../src/node/neuralLoader';
import { startEngineWorker } from '../../src/node/workerHost';
import { onnxBackend } from '../../src/node/backends/onnxBackend';
import { ONNX_FIXTURES } from './helpers';

const DOCUMENT =
  'It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity. '.repeat(
    3,
  );
const PROMPT = DOCUMENT.slice(0, 200);
const SAMPLED: GenerationOptions = { maxTokens: 40, temperature: 1, seed: 7, numCompletions: 3, topKPerToken: 3 };

/** Every number and text of the completions. */
const shown = (cs: Completion[]) => cs.map((c) => [c.text, c.finishReason, c.tokens.map((t) => [t.id, t.text, t.logProb, t.rank, t.bytes, t.alternatives])]);

/**
 * Generates with a warm-up of a document's growing prefix (a hover's context in the same document,
 * longer than a warm-up's pass) asked for at every token, as scrolling while it runs does.
 */
async function generateWithWarmups(model: LanguageModel, documentIds: number[], options: GenerationOptions) {
  const warmups: Promise<WarmResult>[] = [];
  const completions = await generate(model, PROMPT, options, {
    onToken: () => void warmups.push(model.warmContext!(documentIds.slice(0, 80 + warmups.length))),
  });
  return { completions, warmups };
}

describe('a generation holds warm-ups off between its steps (int8 reproducibility)', function () {
  this.timeout(180_000);

  for (const fixture of ['tiny-llama', 'tiny-qwen2']) {
    it(`${fixture} int8 in one thread: warm-ups asked for at every token change no number; they end after the generation`, async () => {
      const model = await loadHuggingFaceFolder(path.join(ONNX_FIXTURES, fixture), fixture, { device: 'native', dtype: { setting: 'int8' } });
      try {
        assert.ok(model.warmContext);
        const documentIds = model.tokenizer.encode(DOCUMENT, true).map((t) => t.id);
        assert.ok(documentIds.length > 80 + SAMPLED.maxTokens * 3, `a document longer than the warm-ups (${documentIds.length} tokens)`);
        const plain = await generate(model, PROMPT, SAMPLED);
        const { completions, warmups } = await generateWithWarmups(model, documentIds, SAMPLED);
        assert.deepStrictEqual(shown(completions), shown(plain));
        assert.strictEqual(
          warmups.length,
          completions.map((c) => c.tokens.length).reduce((a, b) => a + b),
        );
        // They waited, and then did their work: the newest one cached its whole context.
        const results = await Promise.all(warmups);
        assert.strictEqual(results[results.length - 1].cached, 80 + warmups.length - 1);
      } finally {
        await model.dispose();
      }
    });
  }

  it("tiny-llama int8 in the product's worker thread: generated there or stepping from here, warm-ups at every token change no number", async () => {
    const dir = path.join(ONNX_FIXTURES, 'tiny-llama');
    const local = await loadHuggingFaceFolder(dir, 'l', { device: 'native', dtype: { setting: 'int8' } });
    const remote = await startEngineWorker({ backend: onnxBackend, location: dir, name: 'l' }, { device: 'native', dtype: { setting: 'int8' } });
    try {
      assert.ok(remote.warmContext && remote.holdBackground, "the worker's model warms its cache, and the host can hold that");
      const documentIds = remote.tokenizer.encode(DOCUMENT, true).map((t) => t.id);
      // A stop sequence that never comes makes the generation read its text, so that it steps from here.
      for (const options of [SAMPLED, { ...SAMPLED, stopSequences: ['@@@'] }]) {
        const { completions, warmups } = await generateWithWarmups(remote, documentIds, options);
        assert.deepStrictEqual(shown(completions), shown(await generate(local, PROMPT, options)), JSON.stringify(options));
        await Promise.all(warmups);
      }
    } finally {
      await local.dispose();
      await remote.dispose?.();
    }
  });
});
