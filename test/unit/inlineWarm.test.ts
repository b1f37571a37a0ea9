/**
 * An inline completion's prompt the model has not read (about 1,000 tokens, the first suggestion
 * in a document) is read by the model's warm-up, which gives way to other requests between short
 * passes: a hover asked while it is read is answered before the prompt is (BENCHMARKS.md: a hover
 * waited 18.8 s behind a ghost-text prompt read in one request, 3.5 s with ghost text off). The
 * suggestion is the one read in one request gives.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { textWindowAt } from '../../src/core/contextWindow';
import type { LanguageModel } from '../../src/core/model';
import { hoverInWindow, hoverWarmIds } from '../../src/editor/hoverFacts';
import { InlineCompletionEngine, type InlineOptions } from '../../src/editor/inlineEngine';
import { openGguf } from '../../src/node/gguf/ggufFile';
import { CORPUS, ONNX_FIXTURES } from './helpers';

const FILE = path.join(ONNX_FIXTURES, 'gguf', 'tiny-llama-f32.gguf');
const TEXT = fs.readFileSync(path.join(CORPUS, 'valid', 'poirot_investigates.txt'), 'utf8');
const OPTIONS: InlineOptions = { debounceMs: 0, maxTokens: 8, temperature: 0, stopSequences: [], stopAtLineEnd: false, maxWords: 0 };

/**
 * The model as the engine sees it, asking a hover (another place's context) the moment the
 * prompt's reading is asked for: `order` says which of the two was answered first.
 */
function withHover(lm: LanguageModel, hover: number[], long: number, order: string[], warm: boolean): LanguageModel {
  let asked: Promise<unknown> | undefined;
  const ask = () => (asked ??= lm.nextLogProbs(hover).then(() => order.push('hover')));
  return Object.assign(Object.create(lm) as LanguageModel, {
    warmContext: warm
      ? (ids: readonly number[], signal?: { cancelled: boolean }) => {
          const read = lm.warmContext!(ids, signal).then((r) => (order.push('prompt'), r));
          void ask();
          return read;
        }
      : undefined,
    nextLogProbs: (context: readonly number[], signal?: { cancelled: boolean }) => {
      const read = lm.nextLogProbs(context, signal);
      if (context.length >= long) {
        if (!order.includes('prompt')) void read.then(() => order.push('prompt'));
        void ask();
      }
      return read;
    },
  });
}

describe('an inline completion’s long prompt gives way to a hover', function () {
  this.timeout(120000);

  it('GGUF: the hover is answered before the prompt is read; the suggestion is the same as read in one request', async () => {
    const lm = await openGguf(FILE, 'tiny-llama', { threads: 1 });
    const ref = await openGguf(FILE, 'tiny-llama', { threads: 1 });
    try {
      assert.ok(lm.warmContext, 'a GGUF model warms its cache in the background');
      assert.strictEqual((lm as LanguageModel).forgetContext, undefined, 'and keeps it for generation');
      const ids = lm.tokenizer.encode(TEXT.slice(0, 20000), true).map((t) => t.id);
      const prompt = lm.tokenizer.decode(ids.slice(1, 700), false);
      const hover = ids.slice(3000, 3012);
      const long = lm.tokenizer.encode(prompt, true).length - 2;
      assert.ok(long + 2 < lm.info.contextLength, `a prompt within the window (${lm.info.contextLength})`);
      const request = { doc: 'd', offset: prompt.length, prompt, atStart: true, textBefore: prompt, after: '', manual: true };
      const never = new AbortController().signal;

      const order: string[] = [];
      const warmed = await new InlineCompletionEngine(
        async () => withHover(lm, hover, long, order, true),
        () => OPTIONS,
      ).suggest(request, never);
      assert.deepStrictEqual(order.slice(0, 2), ['hover', 'prompt'], 'the hover went between two passes of the prompt');

      // Read in one request (no warm-up): the hover waits for the whole prompt, and the suggestion is the same.
      const before: string[] = [];
      const once = await new InlineCompletionEngine(
        async () => withHover(ref, hover, long, before, false),
        () => OPTIONS,
      ).suggest(request, never);
      assert.deepStrictEqual(before.slice(0, 2), ['prompt', 'hover'], 'in one request the hover waits for the prompt');
      assert.ok(warmed && once && warmed.text.length > 0, `suggestions: ${JSON.stringify(warmed)} ${JSON.stringify(once)}`);
      assert.strictEqual(warmed.text, once.text);
    } finally {
      await lm.dispose();
      await ref.dispose();
    }
  });
  it('GGUF: warming the start of a longer cached sequence runs nothing and keeps the sequence (drive6 High 1)', async () => {
    const lm = await openGguf(FILE, 'tiny-llama', { threads: 1 });
    try {
      const ids = lm.tokenizer.encode(TEXT.slice(0, 6000), true).map((t) => t.id);
      const long = ids.slice(0, Math.min(ids.length, lm.info.contextLength) - 1);
      assert.ok(long.length > 1000, `a long sequence (${long.length})`);
      await lm.nextLogProbs(long);
      const before = { ...lm.evaluated };
      const warmed = await lm.warmContext!(long.slice(0, 600));
      assert.strictEqual(warmed.cached, 600);
      assert.deepStrictEqual(lm.evaluated, before, 'the warm-up evaluated nothing');
      await lm.nextLogProbs([...long, ids[long.length]]);
      assert.strictEqual(lm.evaluated.main - before.main, 1, 'the next token after the whole sequence evaluates one token: the sequence was kept');
    } finally {
      await lm.dispose?.();
    }
  });

  it('GGUF: ghost text deep in a document reads the context the hover warm-up cached there, and the hover after it finds it (drive10 M1, M2)', async () => {
    const lm = await openGguf(FILE, 'tiny-llama', { threads: 1 });
    try {
      // The cursor after a word, far enough into the document that its window is cut from inside it.
      const doc = TEXT.slice(0, 12000);
      const cursor = doc.indexOf(' ', 8000);
      const window = textWindowAt((a, b) => doc.slice(a, b), cursor, 1000, lm.tokenizer);
      assert.strictEqual(window.atStart, false, 'a window cut from inside the document');
      const warm = hoverWarmIds(lm, window);
      assert.ok(warm.length > 150 && warm.length < lm.info.contextLength, `the hover's context: ${warm.length} tokens`);
      // The hover warm-up after the edit, as contextWarmup runs it.
      assert.strictEqual((await lm.warmContext!(warm)).cached, warm.length);
      const before = { ...lm.evaluated };
      const engine = new InlineCompletionEngine(
        async () => lm,
        () => OPTIONS,
      );
      const request = { doc: 'd', offset: cursor, prompt: window.text, atStart: window.atStart, textBefore: window.text, after: '', manual: true };
      const suggestion = await engine.suggest(request, new AbortController().signal);
      assert.ok(suggestion && suggestion.text.length > 0, `a suggestion: ${JSON.stringify(suggestion)}`);
      const ran = () => lm.evaluated.main + lm.evaluated.side - before.main - before.side;
      // The prompt's last token again (its logits), then one token a step; with a BOS in front it read all of them.
      assert.ok(ran() <= OPTIONS.maxTokens + 2, `the suggestion evaluated ${ran()} tokens, the prompt has ${warm.length}`);
      const afterSuggestion = ran();
      // A hover on the word just typed: the window's tokens up to it.
      await lm.nextLogProbs(warm.slice(0, -1));
      assert.ok(ran() - afterSuggestion <= 2, `the hover after the suggestion evaluated ${ran() - afterSuggestion} tokens`);
    } finally {
      await lm.dispose?.();
    }
  });

  it('GGUF: a hover a few lines below another deep in a document reads only the tokens between them (their windows start at the same place; drive10)', async () => {
    const lm = await openGguf(FILE, 'tiny-llama', { threads: 1 });
    try {
      const doc = TEXT.slice(0, 12000);
      const read = (a: number, b: number) => doc.slice(a, b);
      const hover = async (near: number) => {
        const offset = doc.indexOf(' ', near) + 1;
        const lineStart = doc.lastIndexOf('\n', offset - 1) + 1;
        const lineEnd = doc.indexOf('\n', offset);
        const window = textWindowAt(read, offset, 1000, lm.tokenizer, lineEnd);
        const before = lm.evaluated.main + lm.evaluated.side;
        const facts = await hoverInWindow(lm, window, offset, { text: doc.slice(lineStart, lineEnd), start: lineStart }, 5);
        assert.ok(facts, `a hover at ${offset}`);
        return { ran: lm.evaluated.main + lm.evaluated.side - before, start: window.startOffset };
      };
      const first = await hover(8100);
      const second = await hover(8300);
      assert.strictEqual(second.start, first.start, 'the two windows start at the same place');
      assert.ok(first.ran > 150, `the first hover read its context: ${first.ran} tokens`);
      // About 200 characters between them: some 50-60 tokens of this model, not the whole context again.
      assert.ok(second.ran < first.ran / 2, `the second hover evaluated ${second.ran} tokens, the first ${first.ran}`);
    } finally {
      await lm.dispose?.();
    }
  });

  it('GGUF: a warm-up whose cache a request took (a ghost-text step on the side lane) stops there instead of taking it back at every step (drive9 High 1)', async () => {
    const lm = await openGguf(FILE, 'tiny-llama', { threads: 1 });
    try {
      const ids = lm.tokenizer.encode(TEXT.slice(0, 12000), true).map((t) => t.id);
      // The document on the main lane; a hover's window elsewhere warms on the side lane.
      const document = ids.slice(0, 1200);
      await lm.nextLogProbs(document);
      const hover = ids.slice(1500, 1500 + 640);
      const before = { ...lm.evaluated };
      const warming = lm.warmContext!(hover);
      // After its first pass, a completion's steps with another context: the side lane costs them least.
      while (lm.evaluated.side === before.side) await new Promise<void>((resolve) => setImmediate(resolve));
      const prompt = ids.slice(2500, 2800);
      for (let step = 0; step < 4; step++) await lm.nextLogProbs(prompt.slice(0, 296 + step));
      const warmed = await warming;
      assert.strictEqual(warmed.gaveUp, true, `the warm-up stopped when its cache was taken: ${JSON.stringify(warmed)}`);
      assert.ok(warmed.cached < hover.length);
      const side = lm.evaluated.side - before.side;
      // Its first pass (64), the prompt once (296) and one token a step after it: nothing read twice.
      assert.ok(side <= 64 * 2 + 296 + 3, `the side lane evaluated ${side} tokens`);
      assert.strictEqual(lm.evaluated.main, before.main, 'the document on the main lane was left alone');
    } finally {
      await lm.dispose?.();
    }
  });
});
