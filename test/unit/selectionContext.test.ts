/**
 * The context a selection's heat-map scores its first tokens from: the document's own tokens
 * before it (drive20 H1: encoded alone, the text before a paragraph ended in one "\n\n" token that
 * gpt-classics hardly saw, and every score of the selection went wrong).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { textWindowAt, tokensBefore } from '../../src/core/contextWindow';
import type { LanguageModel, Token } from '../../src/core/model';
import { scoreInChunks } from '../../src/editor/chunkedScoring';
import { loadModel } from '../../src/node/modelLoader';

const REPO = path.join(__dirname, '..', '..', '..');
const WELCOME = fs.readFileSync(path.join(REPO, 'sample-workspace', 'welcome.md'), 'utf8');
const LLAMA = path.join(REPO, 'test', 'fixtures', 'models', 'tiny-llama');

const ids = (tokens: readonly Token[]) => tokens.map((t) => t.id);

/** A selection's scores as the heat-map computes them: its context (tokensBefore), then its own tokens encoded alone. */
async function selectionScores(
  model: LanguageModel,
  doc: string,
  from: number,
  to: number,
): Promise<{ tokens: Token[]; logProbs: Float64Array; ranks: Int32Array }> {
  const w = textWindowAt((a, b) => doc.slice(a, b), from, 4000, model.tokenizer, Math.min(to, from + 256));
  const context = tokensBefore(model.tokenizer, w.text, w.atStart, w.startOffset, from);
  const tokens = model.tokenizer.encode(doc.slice(from, to), false, from);
  const c = context.length;
  const logProbs = new Float64Array(tokens.length);
  const ranks = new Int32Array(tokens.length);
  await scoreInChunks(model, ids([...context, ...tokens]), c, c + tokens.length, {
    onChunk: (start, r) => {
      logProbs.set(r.logProbs, start - c);
      ranks.set(r.ranks, start - c);
    },
  });
  return { tokens, logProbs, ranks };
}

describe("a selection's heat-map: the context before it is the document's tokens (drive20 H1)", function () {
  this.timeout(120_000);
  const models: LanguageModel[] = [];
  after(async () => {
    for (const m of models) await m.dispose?.();
  });

  it('the tokens before a paragraph are those of the whole text ("\\n", "\\n"), not the text before it encoded alone ("\\n\\n")', async () => {
    const model = await loadModel('gpt-classics');
    models.push(model);
    const from = WELCOME.indexOf('It was a fine morning');
    const whole = model.tokenizer.encode(WELCOME, true, 0);
    const documentBefore = whole.filter((t) => t.start + t.length <= from);
    const alone = model.tokenizer.encode(WELCOME.slice(0, from), true, 0);
    assert.notDeepStrictEqual(ids(alone), ids(documentBefore), 'the text alone ends in another token (why this test exists)');
    assert.deepStrictEqual(ids(tokensBefore(model.tokenizer, WELCOME, true, 0, from)), ids(documentBefore));
    // Past the window's start too: the window's text, its offsets in the document.
    const w = textWindowAt((a, b) => WELCOME.slice(a, b), from, 200, model.tokenizer, from + 50);
    assert.ok(w.startOffset > 0);
    const windowed = tokensBefore(model.tokenizer, w.text, w.atStart, w.startOffset, from);
    assert.strictEqual(windowed[windowed.length - 1].start + windowed[windowed.length - 1].length, from);
    assert.deepStrictEqual(ids(windowed.slice(-3)), ids(documentBefore.slice(-3)));
  });

  it("gpt-classics: the paragraph's scores and ranks equal those of the whole document's heat-map (garden: rank 4, not 31)", async () => {
    const model = models[0];
    const from = WELCOME.indexOf('It was a fine morning');
    const to = WELCOME.indexOf('\n', WELCOME.indexOf('the evening before'));
    const selection = await selectionScores(model, WELCOME, from, to);
    const whole = model.tokenizer.encode(WELCOME, true, 0);
    const logProbs = new Float64Array(whole.length);
    const ranks = new Int32Array(whole.length);
    await model.forgetContext?.();
    await scoreInChunks(model, ids(whole), 1, whole.length, {
      onChunk: (start, r) => {
        logProbs.set(r.logProbs, start);
        ranks.set(r.ranks, start);
      },
    });
    selection.tokens.forEach((t, i) => {
      const j = whole.findIndex((u) => u.start === t.start);
      assert.ok(j > 0 && whole[j].id === t.id, `${JSON.stringify(t.text)} is a token of the document`);
      // Runs of other lengths sum in another order: the last digits differ.
      assert.ok(Math.abs(selection.logProbs[i] - logProbs[j]) < 1e-6, `${JSON.stringify(t.text)}: ${selection.logProbs[i]} against ${logProbs[j]}`);
      assert.strictEqual(selection.ranks[i], ranks[j], JSON.stringify(t.text));
    });
    const garden = selection.tokens.findIndex((t) => t.text === ' garden');
    assert.strictEqual(selection.ranks[garden], 4);
  });

  it('a selection starting inside a word or a character: the part before it is encoded alone, nothing twice, nothing lost', async () => {
    const gpt = models[0];
    const llama = await loadModel(LLAMA);
    models.push(llama);
    const text = 'It was déjà vu 😀 at the café.\n\nShe walked out into the garden.';
    for (const model of [gpt, llama]) {
      for (const from of [text.indexOf('alked'), text.indexOf('😀'), text.indexOf('é'), text.indexOf('She'), text.indexOf('garden')]) {
        const context = tokensBefore(model.tokenizer, text, true, 0, from);
        const last = context[context.length - 1];
        assert.ok(last.start + last.length <= from, `${from}: the context ends before the selection`);
        // Contiguous: each token starts where the one before it ended (the BOS has no width).
        for (let i = 1; i < context.length; i++) assert.ok(context[i].start >= context[i - 1].start + context[i - 1].length, `${from}: token ${i} overlaps`);
        const spelled = context.map((t) => t.text).join('');
        assert.strictEqual(spelled, text.slice(0, from).normalize(), `${from}: the context spells the text before the selection`);
      }
    }
  });
});
