/**
 * Far into a document a hover, a selection's heat-map and the status bar's number for a selection
 * read a text window of `contextChars` before the token. They give its tokens the windows the whole
 * document is scored in, counted from the document's start, so that a token shows the number of the
 * document's heat-map and `lmp score` (drive21 H1: four numbers for one token far into a novel).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { textWindowAt } from '../../src/core/contextWindow';
import type { LanguageModel, Token, Tokenizer } from '../../src/core/model';
import { DocumentTokenIndex, tokenizerEncoder } from '../../src/core/documentTokenIndex';
import { scoreInChunks } from '../../src/editor/chunkedScoring';
import { hoverInWindow } from '../../src/editor/hoverFacts';
import { loadModel } from '../../src/node/modelLoader';
import { CORPUS, ONNX_FIXTURES, wholeTextScores } from './helpers';

const BOOK = fs.readFileSync(path.join(CORPUS, 'train', 'pride_and_prejudice.txt'), 'utf8');
/** Prose, then indented lines (whose spaces a byte-level BPE joins to the line break before them), then prose. */
const CODE = Array.from({ length: 300 }, (_, i) => (i % 7 === 0 ? `def step_${i}(x):` : `    return x * ${i} + step_${i - 1}(x)  # café ${i}`)).join('\n');
const DOC = BOOK.slice(0, 60_000) + '\n' + CODE + '\n\n' + BOOK.slice(60_000, 100_000);
const read = (doc: string) => (a: number, b: number) => doc.slice(a, b);
const ids = (tokens: readonly Token[]) => tokens.map((t) => t.id);

/** A tokenizer that counts the characters it was given. */
function counting(tokenizer: Tokenizer): { tokenizer: Pick<Tokenizer, 'encode'>; chars: () => number } {
  let chars = 0;
  return {
    tokenizer: {
      encode: (text, atStart, offset) => {
        chars += text.length;
        return tokenizer.encode(text, atStart, offset);
      },
    },
    chars: () => chars,
  };
}

describe("text windows far into a document are scored in the document's windows (drive21 H1)", function () {
  this.timeout(300_000);
  const models: LanguageModel[] = [];
  before(async () => {
    models.push(await loadModel('gpt-classics'));
    for (const name of ['tiny-llama', 'tiny-qwen2']) models.push(await loadModel(path.join(ONNX_FIXTURES, name)));
  });
  after(async () => {
    for (const m of models) await m.dispose?.();
  });

  it("places a text window among the whole document's tokens, tokenized in pieces, past indented lines", async () => {
    for (const model of models) {
      const whole = model.tokenizer.encode(DOC, true, 0);
      const index = new DocumentTokenIndex(tokenizerEncoder(model.tokenizer), 2_000_000, 2_048);
      let indented = 0;
      for (let offset = 5_000; offset < DOC.length; offset += 4_321) {
        const w = textWindowAt(read(DOC), offset, 4000, model.tokenizer);
        const own = model.tokenizer.encode(w.text, w.atStart, w.startOffset);
        const o = await index.windowOffset(read(DOC), w.startOffset, own);
        assert.ok(o !== undefined, `${model.info.name}: the window at ${w.startOffset} placed`);
        // Past a token that may straddle the window's start, the window's tokens are the document's.
        const k = own.findIndex((t) => t.start >= w.startOffset + 16);
        const pair = (t: Token) => [t.id, t.start];
        assert.deepStrictEqual(own.slice(k, k + 60).map(pair), whole.slice(o + k, o + k + 60).map(pair), `${model.info.name}: the window at ${w.startOffset}`);
        if (/^\s*\n? {2,}/.test(DOC.slice(w.startOffset - 1, w.startOffset + 8))) indented++;
      }
      assert.ok(indented >= 2, `${indented} windows start at indented lines`);
    }
  });

  it('after an edit tokenizes again only from the edit, and not past its limit', async () => {
    const model = models[1];
    const c = counting(model.tokenizer);
    const index = new DocumentTokenIndex(tokenizerEncoder(c.tokenizer), 2_000_000, 2_048);
    const place = async (doc: string, offset: number) => {
      const w = textWindowAt(read(doc), offset, 4000, model.tokenizer);
      const own = model.tokenizer.encode(w.text, w.atStart, w.startOffset);
      return { o: await index.windowOffset(read(doc), w.startOffset, own), own, w };
    };
    const first = await place(DOC, 90_000);
    const encoded = c.chars();
    assert.ok(encoded < 1.6 * first.w.startOffset, `${encoded} characters encoded for ${first.w.startOffset}`);
    const edited = DOC.slice(0, 70_000) + ' an inserted clause, and more' + DOC.slice(70_000);
    const second = await place(edited, 90_029);
    const whole = model.tokenizer.encode(edited, true, 0);
    const k = second.own.findIndex((t) => t.start >= second.w.startOffset + 16);
    assert.deepStrictEqual(
      second.own.slice(k, k + 30).map((t) => t.id),
      whole.slice(second.o! + k, second.o! + k + 30).map((t) => t.id),
    );
    assert.ok(c.chars() - encoded < 1.6 * (second.w.startOffset - 70_000) + 8_000, `${c.chars() - encoded} characters encoded again`);
    // Asked again unchanged: nothing encoded.
    const again = c.chars();
    assert.strictEqual((await place(edited, 90_029)).o, second.o);
    assert.strictEqual(c.chars(), again);
    const w = textWindowAt(read(DOC), 90_000, 4000, model.tokenizer);
    assert.strictEqual(await new DocumentTokenIndex(tokenizerEncoder(model.tokenizer), 50_000).windowOffset(read(DOC), w.startOffset, first.own), undefined);
  });

  it("a hover and a selection's heat-map far into a novel give the whole document's numbers", async () => {
    const doc = BOOK.slice(0, 40_000);
    for (const model of [models[0], models[2]]) {
      // Text windows that hold the document's windows: the default for gpt-classics' 128 tokens, more for 1,024 (a model's window cut at the text window's start has fewer tokens of context).
      const maxChars = model === models[0] ? 4000 : 12_000;
      // The whole document as its heat-map and `lmp score` score it.
      const { tokens: whole, logProbs, ranks } = await wholeTextScores(model, doc);
      const byStart = new Map(whole.map((t, i) => [t.start, i]));
      const index = new DocumentTokenIndex(tokenizerEncoder(model.tokenizer));
      const place = async (w: ReturnType<typeof textWindowAt>) =>
        index.windowOffset(read(doc), w.startOffset, model.tokenizer.encode(w.text, w.atStart, w.startOffset));
      let differedUnaligned = 0;
      for (let offset = 13_000; offset < doc.length - 200; offset += 1_777) {
        const word = doc.indexOf(' the ', offset) + 1;
        const lineEnd = doc.indexOf('\n', word);
        const lineStart = doc.lastIndexOf('\n', word) + 1;
        const w = textWindowAt(read(doc), word, maxChars, model.tokenizer, lineEnd);
        const before = await place(w);
        const line = { text: doc.slice(lineStart, lineEnd), start: lineStart };
        const facts = await hoverInWindow(model, w, word, line, 5, undefined, before);
        const i = byStart.get(facts!.start)!;
        assert.ok(Math.abs(facts!.logProb - logProbs[i]) < 1e-5, `${model.info.name} at ${word}: ${facts!.logProb} against ${logProbs[i]}`);
        assert.strictEqual(facts!.rank, ranks[i]);
        const unaligned = await hoverInWindow(model, w, word, line, 5);
        if (Math.abs(unaligned!.logProb - logProbs[i]) > 1e-4) differedUnaligned++;

        // The selection of that line, as its heat-map scores it (read on past it, as documentScopeTokens reads).
        const sw = textWindowAt(read(doc), lineStart, maxChars, model.tokenizer, lineEnd + 256);
        const sBefore = await place(sw);
        const seq = model.tokenizer.encode(sw.text, sw.atStart, sw.startOffset);
        const from = seq.findIndex((t) => t.start >= lineStart);
        const to = seq.findIndex((t) => t.start >= lineEnd);
        await scoreInChunks(model, ids(seq), from, to, {
          tokensBefore: sBefore,
          onChunk: (start, r) =>
            r.logProbs.forEach((lp, k) => {
              const d = byStart.get(seq[start + k].start)!;
              assert.strictEqual(whole[d].id, seq[start + k].id);
              assert.ok(
                Math.abs(lp - logProbs[d]) < 1e-5,
                `${model.info.name}: selection token ${JSON.stringify(seq[start + k].text)}: ${lp} against ${logProbs[d]}`,
              );
              assert.strictEqual(r.ranks[k], ranks[d]);
            }),
        });
      }
      if (model === models[0]) assert.ok(differedUnaligned > 0, 'without the count the hover gave other numbers (why this test exists)');
    }
  });
});
