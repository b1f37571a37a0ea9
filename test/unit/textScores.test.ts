/**
 * The status bar keeps its per-token scores of the text it scored, and after an edit scores only
 * the tokens the edit can have changed (drive-gguf5 Medium 4: a 39-character edit at the end of a
 * chapter scored all of it again, minutes with a 135M GGUF model). The sum after each edit must be
 * `scoreText`'s number of the new text, for every model family: n-gram exactly, neural models to
 * their own float tolerance, across the windows a transformer slides.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { CancelledError } from '../../src/core/errors';
import type { LanguageModel } from '../../src/core/model';
import { OnnxCausalLm, type OrtModule } from '../../src/core/neural/onnxCausalLm';
import { scoreText } from '../../src/core/scoring';
import { characterCount } from '../../src/core/tokenizers/lineBreaks';
import { scopeTokens } from '../../src/core/contextWindow';
import { planTextScores, planTokenScores, scoreTextRanges, textTotals, tokensIn, type TextScores } from '../../src/editor/textScores';
import { openGguf } from '../../src/node/gguf/ggufFile';
import { loadModel } from '../../src/node/modelLoader';
import { readFolderFiles } from '../../src/node/neuralLoader';
import { CORPUS, ONNX_FIXTURES } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as OrtModule;

const BASE = fs.readFileSync(path.join(CORPUS, 'valid', 'poirot_investigates.txt'), 'utf8').slice(0, 3000);
const middle = BASE.indexOf(' ', 1500);
/** Each edit applies to the text the previous one left, as a user types. */
const EDITS: { where: string; edit: (text: string) => string }[] = [
  { where: 'at the end', edit: (t) => `${t}\nPoirot smiled and reached for his hat.` },
  { where: 'in the middle', edit: (t) => `${t.slice(0, middle)} very quietly${t.slice(middle)}` },
  { where: 'at the start', edit: (t) => `Well, ${t}` },
];

/** Scores `text` from `previous` as the status bar does; its summary, and how many tokens it scored. */
async function rescored(model: LanguageModel, text: string, previous?: TextScores) {
  const { scores, ranges } = planTextScores(model, text, previous);
  let reported = 0;
  await scoreTextRanges(scores, ranges, { targetMs: 1, onScored: (n) => (reported += n) });
  assert.strictEqual(reported, tokensIn(ranges), 'progress counts the tokens being scored');
  const totals = textTotals(scores);
  assert.ok(totals, 'every token is scored');
  return { scores, scoredNow: tokensIn(ranges), summary: totals.summary(characterCount(text)) };
}

async function sameAsWhole(
  model: LanguageModel,
  text: string,
  got: { summary: { tokens: number; oov: number; logProbNats: number; bitsPerChar: number } },
  tolerance: number,
) {
  const whole = (await scoreText(model, text)).summary;
  assert.strictEqual(got.summary.tokens, whole.tokens, 'tokens');
  assert.strictEqual(got.summary.oov, whole.oov, 'unknown tokens');
  const diff = Math.abs(got.summary.logProbNats - whole.logProbNats) / Math.abs(whole.logProbNats);
  assert.ok(diff <= tolerance, `Σ ln p ${got.summary.logProbNats} after the edit, ${whole.logProbNats} scored whole: ${diff} relative`);
  assert.strictEqual(got.summary.bitsPerChar.toFixed(2), whole.bitsPerChar.toFixed(2), 'the number the item shows');
}

/**
 * Scores the text, then each edit from the scores before it: each sum is the whole scoring's;
 * `most(where, tokens)` bounds the tokens scored again.
 */
async function editsKeepTheNumber(model: LanguageModel, tolerance: number, most: (where: string, tokens: number, shifted: boolean) => number) {
  let text = BASE;
  let step = await rescored(model, text);
  assert.strictEqual(step.scoredNow, step.scores.tokens.length - 1, 'the first scoring scores every token after the first');
  await sameAsWhole(model, text, step, tolerance);
  for (const { where, edit } of EDITS) {
    const before = step.scores.tokens.length;
    text = edit(text);
    step = await rescored(model, text, step.scores);
    const n = step.scores.tokens.length;
    const bound = most(where, n, n !== before);
    assert.ok(step.scoredNow <= bound, `${where}: ${step.scoredNow} of ${n} tokens scored again (at most ${bound})`);
    await sameAsWhole(model, text, step, tolerance);
  }
}

describe('the status bar’s number after an edit: only the tokens it can change are scored again', function () {
  this.timeout(300000);

  it('an n-gram model (ngram-classics): the context is n − 1 tokens, so every edit scores a few tokens; the sums are exact', async () => {
    const model = await loadModel('ngram-classics');
    const n1 = model.info.contextLength;
    // The edit's new tokens and the n − 1 after them (a word or two, and a retokenized neighbour).
    await editsKeepTheNumber(model, 1e-9, () => 12 + n1);
  });

  it('a neural model over several windows (tiny Llama ONNX, a 100-token window): an edit at the end scores its tokens; one that moves tokens, the rest of the text', async () => {
    const lm = await OnnxCausalLm.create(
      ort,
      { ...readFolderFiles(path.join(ONNX_FIXTURES, 'tiny-llama')), onnx: path.join(ONNX_FIXTURES, 'tiny-llama', 'onnx', 'model.onnx') },
      // 512 bytes of cache a token: a window of 100 tokens.
      { name: 'tiny-llama', device: 'native', threads: 1, maxCacheBytes: 512 * 100 },
    );
    try {
      assert.ok(lm.tokenizer.encode(BASE, true).length > 5 * lm.info.contextLength, 'several windows');
      await editsKeepTheNumber(lm, 1e-6, (where, tokens) => (where === 'at the end' ? 40 : tokens));
    } finally {
      await lm.dispose();
    }
  });

  it('a neural model in one window (tiny Qwen2 ONNX)', async () => {
    const lm = await OnnxCausalLm.create(
      ort,
      { ...readFolderFiles(path.join(ONNX_FIXTURES, 'tiny-qwen2')), onnx: path.join(ONNX_FIXTURES, 'tiny-qwen2', 'onnx', 'model.onnx') },
      { name: 'tiny-qwen2', device: 'native', threads: 1 },
    );
    try {
      await editsKeepTheNumber(lm, 1e-6, (where, tokens) => (where === 'at the end' ? 40 : tokens));
    } finally {
      await lm.dispose();
    }
  });

  it('a GGUF model on llama.cpp (tiny Llama, F32)', async () => {
    const lm = await openGguf(path.join(ONNX_FIXTURES, 'gguf', 'tiny-llama-f32.gguf'), 'tiny-llama', { threads: 1 });
    try {
      await editsKeepTheNumber(lm, 1e-6, (where, tokens) => (where === 'at the end' ? 40 : tokens));
    } finally {
      await lm.dispose();
    }
  });

  it('a window model whose tokens did not move (a word replaced by one of as many tokens) scores one window after it, no more', async () => {
    const lm = await OnnxCausalLm.create(
      ort,
      { ...readFolderFiles(path.join(ONNX_FIXTURES, 'tiny-llama')), onnx: path.join(ONNX_FIXTURES, 'tiny-llama', 'onnx', 'model.onnx') },
      { name: 'tiny-llama', device: 'native', threads: 1, maxCacheBytes: 512 * 100 },
    );
    try {
      const first = await rescored(lm, BASE);
      // One character for another inside a word at a quarter of the text: the same number of tokens, one or two of them other.
      const at = BASE.indexOf('e', Math.floor(BASE.length / 4));
      const text = `${BASE.slice(0, at)}a${BASE.slice(at + 1)}`;
      const next = await rescored(lm, text, first.scores);
      assert.strictEqual(next.scores.tokens.length, first.scores.tokens.length, 'no token moved');
      assert.ok(next.scoredNow <= lm.info.contextLength + 4, `${next.scoredNow} tokens scored again (window ${lm.info.contextLength})`);
      await sameAsWhole(lm, text, next, 1e-6);
    } finally {
      await lm.dispose();
    }
  });

  it('a scoring stopped part-way keeps what it scored: the next one scores the rest, and the sum is the whole scoring’s', async () => {
    const model = await loadModel('ngram-classics');
    const { scores, ranges } = planTextScores(model, BASE);
    const signal = { cancelled: false };
    let scoredFirst = 0;
    await assert.rejects(
      scoreTextRanges(scores, ranges, {
        signal,
        targetMs: 1,
        onScored: (n) => {
          scoredFirst += n;
          signal.cancelled = true;
        },
      }),
      CancelledError,
    );
    assert.ok(scoredFirst > 0 && scoredFirst < tokensIn(ranges), `${scoredFirst} of ${tokensIn(ranges)} scored before the stop`);
    assert.strictEqual(textTotals(scores), undefined, 'no number while a token is not scored');
    const rest = await rescored(model, BASE, scores);
    assert.strictEqual(rest.scoredNow, tokensIn(ranges) - scoredFirst, 'the rest, not the whole text again');
    await sameAsWhole(model, BASE, rest, 1e-9);
  });

  it('scores of another model are not kept', async () => {
    const a = await loadModel('ngram-classics');
    const first = await rescored(a, BASE);
    const b = await loadModel('ngram-classics');
    const { ranges } = planTextScores(b, BASE, first.scores);
    assert.strictEqual(tokensIn(ranges), first.scores.tokens.length - 1);
    const same = planTextScores(a, BASE, first.scores);
    assert.strictEqual(tokensIn(same.ranges), 0, 'the same text and model: nothing to score');
  });
});

describe("the status bar's number for a selection: the document's tokens, each predicted from the text before it", function () {
  this.timeout(300000);

  /**
   * The selection's tokens as the status bar scores them (the whole text as the context's window)
   * against a scoring of the whole text: the same tokens, with the same log-probs.
   */
  async function selectionAsInDocument(model: LanguageModel, text: string, tolerance: number, span = 120) {
    // From a word's first letter (the document's token is the word with its space) to inside a word.
    const a = text.indexOf(' ', Math.floor(text.length / 2)) + 1;
    const b = text.indexOf(' ', a + span) - 2;
    const scoped = scopeTokens(model.tokenizer, text, true, 0, a, b);
    assert.ok(scoped.context.length > 0 && scoped.tokens.length > 10);
    const { scores, ranges } = planTokenScores(model, [...scoped.context, ...scoped.tokens], scoped.context.length);
    assert.strictEqual(tokensIn(ranges), scoped.tokens.length, 'every token of the selection is scored, none of its context');
    await scoreTextRanges(scores, ranges, { targetMs: 1 });
    const totals = textTotals(scores)!;
    const whole = await scoreText(model, text);
    const first = whole.tokens.findIndex((t) => t.start === scoped.tokens[0].start);
    const mine = whole.tokens.slice(first, first + scoped.tokens.length);
    assert.deepStrictEqual(
      mine.map((t) => [t.id, t.start]),
      scoped.tokens.map((t) => [t.id, t.start]),
      "the document's tokens",
    );
    const expected = mine.reduce((s, t) => s + t.logProb, 0);
    const summary = totals.summary(b - a);
    assert.strictEqual(summary.tokens, mine.length);
    assert.ok(
      Math.abs(summary.logProbNats - expected) <= tolerance * Math.abs(expected),
      `Σ ln p ${summary.logProbNats} against ${expected} in the whole text`,
    );
    // As a text of its own (the number before): other, higher, for a selection that starts mid-text.
    const alone = (await scoreText(model, text.slice(a, b))).summary;
    assert.ok(alone.logProbNats < summary.logProbNats, `on its own ${alone.logProbNats}, in context ${summary.logProbNats}`);
    return { scores, a, b };
  }

  it('an n-gram model (ngram-classics), and after an edit after the selection only the tokens it can change', async () => {
    const model = await loadModel('ngram-classics');
    const { scores, a, b } = await selectionAsInDocument(model, BASE, 1e-12);
    // Typing inside the selection near its end: the kept scores, and a few tokens scored again.
    const text = `${BASE.slice(0, b - 5)} quietly${BASE.slice(b - 5)}`;
    const scoped = scopeTokens(model.tokenizer, text, true, 0, a, b + 8);
    const again = planTokenScores(model, [...scoped.context, ...scoped.tokens], scoped.context.length, scores);
    assert.ok(tokensIn(again.ranges) <= 3 + model.info.contextLength, `${tokensIn(again.ranges)} tokens scored again`);
    await scoreTextRanges(again.scores, again.ranges);
    const fresh = planTokenScores(model, [...scoped.context, ...scoped.tokens], scoped.context.length);
    await scoreTextRanges(fresh.scores, fresh.ranges);
    assert.strictEqual(textTotals(again.scores)!.summary(100).logProbNats, textTotals(fresh.scores)!.summary(100).logProbNats);
  });

  it('a neural model (gpt-classics, a text within its window)', async () => {
    const model = await loadModel('gpt-classics');
    try {
      const text = BASE.slice(BASE.indexOf(' ', 1000) + 1, 1200);
      assert.ok(model.tokenizer.encode(text, true).length < model.info.contextLength, 'one window');
      await selectionAsInDocument(model, text, 1e-6, 50);
    } finally {
      await model.dispose?.();
    }
  });
});
