/**
 * A generation holds the model's cache until it ends (drive49 H1): the hover warm-up that the
 * editor asks for on every scroll or edit used to run passes between two steps of a generation,
 * and a hover or the heat-map asked meanwhile could take the generation's cache, so that its next
 * step ran its context in other passes; an int8 graph (which quantizes its activations per pass)
 * then gave other numbers, and a seed another text. On the int8 fixtures, warm-ups, hovers and
 * scoring asked for at generated tokens must change no field of the completions, in one thread
 * and in the product's worker thread (the generation in the worker, or stepping from the host);
 * the warm-ups must still end once the generation has, and the others be answered meanwhile.
 */
import * as assert from 'assert';
import * as path from 'path';
import { generate, type Completion, type GenerationOptions } from '../../src/core/generation';
import { CancelledError } from '../../src/core/errors';
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
 * Generates while the editor asks for things at generated tokens, as scrolling and hovering while
 * it runs do: at every token a warm-up of a growing prefix of the document (a hover's context,
 * longer than a warm-up's pass), at every seventh a hover's distribution there, at every
 * eleventh the scores of a stretch of the document (the heat-map).
 */
async function generateBesideEditor(model: LanguageModel, documentIds: number[], options: GenerationOptions) {
  const warmups: Promise<WarmResult>[] = [];
  const answers: Promise<unknown>[] = [];
  const completions = await generate(model, PROMPT, options, {
    onToken: () => {
      const n = warmups.length;
      warmups.push(model.warmContext!(documentIds.slice(0, 80 + n)));
      if (n % 7 === 3) answers.push(model.nextLogProbs(documentIds.slice(0, 60 + n)));
      if (n % 11 === 5) answers.push(model.sequenceScores(documentIds.slice(0, 90 + n), 1));
    },
  });
  return { completions, warmups, answers };
}

/**
 * The model, with a hover asked just after each of a generation's forgets (before each completion):
 * the next run the model sees is then the hover's, not the generation's prompt (drive50: hovering
 * while Complete Selection, which steps from the host, went from one completion to the next).
 */
function hoverAfterEachForget(model: LanguageModel, hover: number[], asked: Promise<unknown>[]): LanguageModel {
  return Object.assign(Object.create(model) as LanguageModel, {
    holdForGeneration: async () => {
      const hold = await model.holdForGeneration!();
      return {
        ...hold,
        forgetContext: async () => {
          await hold.forgetContext();
          asked.push(model.nextLogProbs(hover));
        },
      };
    },
  });
}

describe('a generation holds the model’s cache until it ends (int8 reproducibility, drive49 H1)', function () {
  this.timeout(180_000);

  for (const fixture of ['tiny-llama', 'tiny-qwen2']) {
    it(`${fixture} int8 in one thread: warm-ups, hovers and scoring asked for at generated tokens change no number of the completions`, async () => {
      const model = await loadHuggingFaceFolder(path.join(ONNX_FIXTURES, fixture), fixture, { device: 'native', dtype: { setting: 'int8' } });
      try {
        assert.ok(model.warmContext);
        const documentIds = model.tokenizer.encode(DOCUMENT, true).map((t) => t.id);
        assert.ok(documentIds.length > 90 + SAMPLED.maxTokens * 3, `a document longer than what is asked (${documentIds.length} tokens)`);
        const plain = await generate(model, PROMPT, SAMPLED);
        const { completions, warmups, answers } = await generateBesideEditor(model, documentIds, SAMPLED);
        assert.deepStrictEqual(shown(completions), shown(plain));
        assert.strictEqual(
          warmups.length,
          completions.map((c) => c.tokens.length).reduce((a, b) => a + b),
        );
        // They waited, and then did their work: the newest one cached its whole context.
        const results = await Promise.all(warmups);
        assert.strictEqual(results[results.length - 1].cached, 80 + warmups.length - 1);
        assert.ok(answers.length >= 10, `hovers and scoring asked meanwhile: ${answers.length}`);
        await Promise.all(answers);
        // And the same seed again, nothing asked meanwhile: the held cache left nothing behind that changes it.
        assert.deepStrictEqual(shown(await generate(model, PROMPT, SAMPLED)), shown(plain));
        // A hover between a forget and the prompt's run, on the document's first tokens (a prefix of the prompt) and on more of it.
        for (const hover of [documentIds.slice(0, 20), documentIds.slice(0, 120)]) {
          const asked: Promise<unknown>[] = [];
          assert.deepStrictEqual(shown(await generate(hoverAfterEachForget(model, hover, asked), PROMPT, SAMPLED)), shown(plain));
          assert.strictEqual(asked.length, SAMPLED.numCompletions);
          await Promise.all(asked);
        }
      } finally {
        await model.dispose();
      }
    });
  }

  it('tiny-llama int8: hovers beside a generation keep a cache on the lane the generation does not use; a hover after a forget keeps none', async () => {
    const model = await loadHuggingFaceFolder(path.join(ONNX_FIXTURES, 'tiny-llama'), 'l', { device: 'native', dtype: { setting: 'int8' } });
    try {
      const ids = model.tokenizer.encode(DOCUMENT, true).map((t) => t.id);
      const ran = (before: { main: number; side: number }) => ({ main: model.evaluated.main - before.main, side: model.evaluated.side - before.side });
      const hold = await model.holdForGeneration();
      await hold.forgetContext();
      let before = { ...model.evaluated };
      await model.nextLogProbs(ids.slice(0, 30));
      await model.nextLogProbs(ids.slice(0, 31));
      assert.deepStrictEqual(ran(before), { main: 61, side: 0 }, 'before the generation has run, a hover keeps no cache: the next one runs its context again');
      before = { ...model.evaluated };
      await hold.nextLogProbs(ids.slice(0, 50));
      assert.deepStrictEqual(ran(before), { main: 50, side: 0 }, "the generation's prompt, on an empty main lane");
      before = { ...model.evaluated };
      await model.nextLogProbs(ids.slice(60, 100));
      await model.nextLogProbs(ids.slice(60, 101));
      assert.deepStrictEqual(ran(before), { main: 0, side: 41 }, 'hovers on the side lane, the second after the first');
      before = { ...model.evaluated };
      await hold.nextLogProbs(ids.slice(0, 51));
      assert.deepStrictEqual(ran(before), { main: 1, side: 0 }, "the generation's step on its own cache");
      hold.release();
      before = { ...model.evaluated };
      await model.nextLogProbs(ids.slice(60, 102));
      assert.deepStrictEqual(ran(before), { main: 0, side: 1 }, 'after the generation, the hovers’ cache is kept as any other');
    } finally {
      await model.dispose();
    }
  });

  it('tiny-llama: beside a generation, a request that would run more than 64 tokens waits for its end; a shorter one, or one in the prompt, runs beside it (drive51)', async () => {
    // fp32, whose numbers do not depend on how the runs were cut (int8's do, a little), to compare them with a cold run's.
    const model = await loadHuggingFaceFolder(path.join(ONNX_FIXTURES, 'tiny-llama'), 'l', { device: 'native', dtype: { setting: 'fp32' } });
    try {
      const ids = model.tokenizer.encode(DOCUMENT, true).map((t) => t.id);
      assert.ok(ids.length >= 200, `${ids.length} tokens`);
      const ran = async (fn: () => Promise<unknown>) => {
        const before = { ...model.evaluated };
        await fn();
        return { main: model.evaluated.main - before.main, side: model.evaluated.side - before.side };
      };
      const hold = await model.holdForGeneration();
      await hold.forgetContext();
      await hold.nextLogProbs(ids.slice(0, 50));
      let answered = false;
      const long = model.nextLogProbs(ids.slice(60, 160)).then((d) => ((answered = true), d));
      const longScores = model.sequenceScores(ids.slice(100, 200), 1).then((d) => ((answered = true), d));
      const cancelled = { cancelled: false };
      const given = model.nextLogProbs(ids.slice(40, 190), cancelled);
      assert.deepStrictEqual(await ran(() => model.nextLogProbs(ids.slice(60, 100))), { main: 0, side: 40 }, 'a short hover, on the side lane');
      assert.deepStrictEqual(await ran(() => model.nextLogProbs(ids.slice(0, 70))), { main: 20, side: 0 }, "a hover in the generation's prompt, on its cache");
      assert.deepStrictEqual(await ran(() => hold.nextLogProbs(ids.slice(0, 51))), { main: 1, side: 0 }, "the generation's step, on its cache as it left it");
      cancelled.cancelled = true;
      await assert.rejects(given, CancelledError, 'a waiting request given up ends at once');
      assert.ok(!answered, 'the long requests wait for the generation');
      hold.release();
      const [after, scores] = await Promise.all([long, longScores]);
      const cold = await loadHuggingFaceFolder(path.join(ONNX_FIXTURES, 'tiny-llama'), 'c', { device: 'native', dtype: { setting: 'fp32' } });
      const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, x, k) => Math.max(m, Math.abs(x - b[k])), 0);
      try {
        assert.ok(maxDiff(after, await cold.nextLogProbs(ids.slice(60, 160))) < 1e-4);
        assert.ok(maxDiff(scores.logProbs, (await cold.sequenceScores(ids.slice(100, 200), 1)).logProbs) < 1e-4);
      } finally {
        await cold.dispose();
      }
    } finally {
      await model.dispose();
    }
  });

  it('tiny-llama: a generation that echoes a long prompt scores it before it holds the model (the scores would wait for the hold)', async () => {
    const model = await loadHuggingFaceFolder(path.join(ONNX_FIXTURES, 'tiny-llama'), 'l', { device: 'native', dtype: { setting: 'int8' } });
    try {
      assert.ok(model.tokenizer.encode(DOCUMENT, true).length > 100);
      const [c] = await generate(model, DOCUMENT, { maxTokens: 3, temperature: 0, echoPrompt: true });
      assert.strictEqual(c.tokens.length, 3);
      assert.strictEqual(c.promptTokens?.length, model.tokenizer.encode(DOCUMENT, true).length - 1);
    } finally {
      await model.dispose();
    }
  });

  it("tiny-llama int8 in the product's worker thread: a long hover waiting beside the host's generation does not hold up its steps", async () => {
    const dir = path.join(ONNX_FIXTURES, 'tiny-llama');
    const remote = await startEngineWorker({ backend: onnxBackend, location: dir, name: 'l' }, { device: 'native', dtype: { setting: 'int8' } });
    try {
      const ids = remote.tokenizer.encode(DOCUMENT, true).map((t) => t.id);
      const hold = await remote.holdForGeneration!();
      await hold.forgetContext();
      await hold.nextLogProbs(ids.slice(0, 50));
      let answered = false;
      const long = remote.nextLogProbs(ids.slice(60, 160)).then(() => (answered = true));
      const scored = remote.sequenceScores(ids.slice(100, 200), 1).then(() => (answered = true));
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the step waited behind the hover')), 30_000)));
      try {
        for (let n = 51; n < 60; n++) await Promise.race([hold.nextLogProbs(ids.slice(0, n)), stuck]);
      } finally {
        clearTimeout(timer);
      }
      assert.ok(!answered, 'the long requests wait for the generation');
      hold.release();
      await Promise.all([long, scored]);
    } finally {
      await remote.dispose?.();
    }
  });

  it("tiny-llama int8 in the product's worker thread: generated there or stepping from here, what the editor asks meanwhile changes no number", async () => {
    const dir = path.join(ONNX_FIXTURES, 'tiny-llama');
    const local = await loadHuggingFaceFolder(dir, 'l', { device: 'native', dtype: { setting: 'int8' } });
    const remote = await startEngineWorker({ backend: onnxBackend, location: dir, name: 'l' }, { device: 'native', dtype: { setting: 'int8' } });
    try {
      assert.ok(remote.warmContext && remote.holdForGeneration, "the worker's model warms its cache and holds it for a generation");
      const documentIds = remote.tokenizer.encode(DOCUMENT, true).map((t) => t.id);
      // A stop sequence that never comes makes the generation read its text, so that it steps from here.
      for (const options of [SAMPLED, { ...SAMPLED, stopSequences: ['@@@'] }]) {
        const { completions, warmups, answers } = await generateBesideEditor(remote, documentIds, options);
        const want = shown(await generate(local, PROMPT, options));
        assert.deepStrictEqual(shown(completions), want, JSON.stringify(options));
        await Promise.all([...warmups, ...answers]);
        const asked: Promise<unknown>[] = [];
        assert.deepStrictEqual(
          shown(await generate(hoverAfterEachForget(remote, documentIds.slice(0, 120), asked), PROMPT, options)),
          want,
          JSON.stringify(options),
        );
        await Promise.all(asked);
      }
    } finally {
      await local.dispose();
      await remote.dispose?.();
    }
  });
});
