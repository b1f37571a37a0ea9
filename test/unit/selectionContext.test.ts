/**
 * A selection's heat-map scores the document's own tokens (drive20 H1, hostile21 H1): encoded
 * apart, the text before a paragraph ended in one "\n\n" token that gpt-classics hardly saw, and a
 * selection from a word's first letter was spelled g + ard + en where the document has " garden";
 * every score of the selection went wrong.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { scopeTokens, textWindowAt } from '../../src/core/contextWindow';
import type { LanguageModel, Token } from '../../src/core/model';
import { scoreInChunks } from '../../src/editor/chunkedScoring';
import { loadModel } from '../../src/node/modelLoader';
import { wholeTextScores } from './helpers';

const REPO = path.join(__dirname, '..', '..', '..');
const WELCOME = fs.readFileSync(path.join(REPO, 'sample-workspace', 'welcome.md'), 'utf8');
const LLAMA = path.join(REPO, 'test', 'fixtures', 'models', 'tiny-llama');

const ids = (tokens: readonly Token[]) => tokens.map((t) => t.id);

/** A selection's tokens and context as the heat-map takes them (a window of 4,000 characters, read 256 past the selection). */
function selection(model: LanguageModel, doc: string, from: number, to: number, maxChars = 4000): { context: Token[]; tokens: Token[] } {
  const w = textWindowAt((a, b) => doc.slice(a, b), from, maxChars, model.tokenizer, Math.min(doc.length, to + 256));
  return scopeTokens(model.tokenizer, w.text, w.atStart, w.startOffset, from, to);
}

/** Scores of a selection's tokens, as the heat-map computes them. */
async function selectionScores(
  model: LanguageModel,
  doc: string,
  from: number,
  to: number,
): Promise<{ tokens: Token[]; logProbs: Float64Array; ranks: Int32Array }> {
  const { context, tokens } = selection(model, doc, from, to);
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

/** The whole document's scores by token start, as its heat-map computes them. */
async function documentScores(model: LanguageModel, doc: string): Promise<Map<number, { id: number; logProb: number; rank: number }>> {
  const { tokens: whole, logProbs, ranks } = await wholeTextScores(model, doc);
  return new Map(whole.slice(1).map((t, i) => [t.start, { id: t.id, logProb: logProbs[i + 1], rank: ranks[i + 1] }]));
}

describe("a selection's heat-map scores the document's own tokens (drive20 H1, hostile21 H1)", function () {
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
    assert.deepStrictEqual(ids(selection(model, WELCOME, from, from + 40).context), ids(documentBefore));
    // Past the window's start too: the window's tokens, at their offsets in the document.
    const windowed = selection(model, WELCOME, from, from + 40, 200).context;
    assert.ok(windowed[0].start > 0);
    assert.deepStrictEqual(
      windowed.slice(-3).map((t) => [t.id, t.start]),
      documentBefore.slice(-3).map((t) => [t.id, t.start]),
    );
  });

  for (const [what, start, end] of [
    ['a paragraph', 'It was a fine morning', 'the evening before.'],
    ['a selection from a word\'s first letter ("garden" of " garden")', 'garden to think', 'her the evening'],
    ['a selection ending inside a word', 'walked out', 'all that her sis'],
  ] as const) {
    it(`gpt-classics, ${what}: the scores and ranks of the whole document's heat-map`, async () => {
      const model = models[0];
      const from = WELCOME.indexOf(start);
      const to = WELCOME.indexOf(end) + end.length;
      const picked = await selectionScores(model, WELCOME, from, to);
      const whole = await documentScores(model, WELCOME);
      // The document's tokens that the selection touches, a straddling one whole.
      assert.ok(picked.tokens[0].start <= from && picked.tokens[0].start + picked.tokens[0].length > from, JSON.stringify(picked.tokens[0]));
      const last = picked.tokens[picked.tokens.length - 1];
      assert.ok(last.start < to && last.start + last.length >= to, JSON.stringify(last));
      picked.tokens.forEach((t, i) => {
        const d = whole.get(t.start);
        assert.ok(d && d.id === t.id, `${JSON.stringify(t.text)} at ${t.start} is a token of the document`);
        // Runs of other lengths sum in another order: the last digits differ.
        assert.ok(Math.abs(picked.logProbs[i] - d.logProb) < 1e-6, `${JSON.stringify(t.text)}: ${picked.logProbs[i]} against ${d.logProb}`);
        assert.strictEqual(picked.ranks[i], d.rank, JSON.stringify(t.text));
      });
      const garden = picked.tokens.findIndex((t) => t.text === ' garden');
      if (garden >= 0) assert.strictEqual(picked.ranks[garden], 4);
    });
  }

  it("any start and end, inside words and characters: the context and the selection are the text's tokens, each once, none lost", async () => {
    const gpt = models[0];
    const llama = await loadModel(LLAMA);
    models.push(llama);
    const text = 'It was déjà vu 😀 at the café.\n\nShe walked out into the garden.';
    for (const model of [gpt, llama]) {
      const whole = model.tokenizer.encode(text, true, 0);
      const points = [
        0,
        text.indexOf('alked'),
        text.indexOf('😀'),
        text.indexOf('é'),
        text.indexOf('She'),
        text.indexOf('garden'),
        text.indexOf('.\n'),
        text.length,
      ];
      for (const from of points) {
        for (const to of points.filter((p) => p > from)) {
          const { context, tokens } = scopeTokens(model.tokenizer, text, true, 0, from, to);
          assert.deepStrictEqual(ids([...context, ...tokens]), ids(whole.slice(0, context.length + tokens.length)), `${from}–${to}: the text's tokens`);
          const last = context[context.length - 1];
          if (last) assert.ok(last.start + last.length <= from, `${from}: the context ends before the selection`);
          assert.ok(tokens.length > 0 && tokens[0].start <= from, `${from}–${to}: the first token covers the selection's start`);
          const end = tokens[tokens.length - 1];
          assert.ok(
            end.start < to && (tokens.length === whole.length - context.length || whole[context.length + tokens.length].start >= to),
            `${from}–${to}: the selection's last token`,
          );
        }
      }
    }
  });
});
