/**
 * NgramModel.rank10, the rank of a word without the whole distribution, against the distribution
 * itself (distribution10 and a count of the words above), bit for bit: trained models of several
 * orders (many unigrams tie on one value), contexts the model has, has in part and lacks, the
 * embedded model's scores of a book, and models whose numbers distribution10 refuses.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { ModelFormatError } from '../../src/core/errors';
import { readArpa } from '../../src/core/ngram/arpaReader';
import { arpaText } from '../../src/core/ngram/arpaWriter';
import { DEFAULT_FALLBACK_DISCOUNTS, KneserNeyTrainer } from '../../src/core/ngram/kneserNey';
import type { NgramModel } from '../../src/core/ngram/ngramModel';
import { addTextToTrainer } from '../../src/core/ngram/textTraining';
import { loadNgramFile } from '../../src/node/backends/ngramBackend';
import { CORPUS, REPO, xorshift32 } from './helpers';

/** The rank as the heat-map counted it before rank10: the whole distribution, and the words above. */
function rankFromDistribution(model: NgramModel, context: readonly number[], word: number): { logProb10: number; rank: number } {
  const dist = model.distribution10(context.slice(Math.max(0, context.length - model.order + 1)), new Float64Array(model.vocab.size));
  let rank = 1;
  for (let w = 0; w < dist.length; w++) if (dist[w] > dist[word]) rank++;
  return { logProb10: dist[word], rank };
}

function trained(order: number, text: string, tokens: 'whitespace' | 'editor' = 'whitespace'): NgramModel {
  const t = new KneserNeyTrainer({ order, discountFallback: DEFAULT_FALLBACK_DISCOUNTS });
  addTextToTrainer(t, text, tokens);
  return t.build().model;
}

const BOOK = fs.readFileSync(
  path.join(
    CORPUS,
    'valid',
    fs.readdirSync(path.join(CORPUS, 'valid')).find((f) => f.endsWith('.txt'))!,
  ),
  'utf8',
);

describe('n-gram ranks without the whole distribution (rank10)', function () {
  this.timeout(120_000);

  for (const order of [1, 2, 3, 5]) {
    it(`equals the distribution's rank and probability for every word, order ${order}`, function () {
      const model = trained(order, BOOK.slice(0, 60_000));
      const next = xorshift32(order);
      const v = model.vocab.size;
      // Contexts from the text (held in full), random words (mostly unseen together), and none.
      const contexts: number[][] = [[]];
      const words = BOOK.slice(0, 60_000).split(/\s+/).filter(Boolean);
      for (let i = 0; i < 12; i++) {
        const at = Math.floor(next() * (words.length - 6));
        contexts.push(words.slice(at, at + 1 + (i % 5)).map((w) => model.vocab.id(w) ?? model.vocab.unkId!));
        contexts.push(Array.from({ length: 1 + (i % 4) }, () => Math.floor(next() * v)));
      }
      let ties = 0;
      for (const context of contexts) {
        for (let word = 0; word < v; word++) {
          const got = model.rank10(context, word);
          const want = rankFromDistribution(model, context, word);
          if (got.rank !== want.rank || !Object.is(got.logProb10, want.logProb10)) {
            assert.fail(`context [${context}] word ${word}: rank10 ${JSON.stringify(got)}, distribution ${JSON.stringify(want)}`);
          }
        }
        const dist = model.distribution10(context.slice(Math.max(0, context.length - order + 1)), new Float64Array(v));
        ties += v - new Set(dist).size;
      }
      // The case a sort must get right: words of one value share a rank.
      assert.ok(ties > 1000, `${ties} tied values`);
    });
  }

  it('reads the context in place: the words before `end` of a longer array', function () {
    const model = trained(4, BOOK.slice(0, 30_000));
    const ids = BOOK.slice(0, 2_000)
      .split(/\s+/)
      .filter(Boolean)
      .map((w) => model.vocab.id(w) ?? model.vocab.unkId!);
    for (let i = 0; i < ids.length; i++) assert.deepStrictEqual(model.rank10(ids, ids[i], i), rankFromDistribution(model, ids.slice(0, i), ids[i]));
  });

  it("gives the embedded model's scores of a book as the whole distributions did", async function () {
    const lm = await loadNgramFile(path.join(REPO, 'models', 'ngram-classics', 'model.ngram'));
    const ids = lm.tokenizer.encode(BOOK.slice(0, 8_000), true).map((t) => t.id);
    const { logProbs, ranks } = await lm.sequenceScores(ids, 1);
    const ngram = (lm as unknown as { ngram: NgramModel }).ngram;
    for (let i = 1; i < ids.length; i++) {
      const want = rankFromDistribution(ngram, ids.slice(0, i), ids[i]);
      assert.strictEqual(ranks[i - 1], want.rank, `token ${i}`);
      assert.strictEqual(logProbs[i - 1], want.logProb10 * Math.LN10, `token ${i}`);
    }
  });

  it('refuses, as the distribution does, backoffs that lift a probability above 1, and ranks where they do not', function () {
    const base = arpaText(trained(3, 'the cat sat on the mat\nthe dog sat on the log\na cat and a dog\nthe end of the story\n'));
    const model = readArpa(base.replace(/\n(-[\d.]+)\tcat\t-?[\d.]+/, '\n$1\tcat\t5'), 'lifted.arpa');
    const cat = model.vocab.id('cat')!;
    const refused = (e: Error) => e instanceof ModelFormatError && /^lifted\.arpa: inconsistent backoff weights/.test(e.message);
    assert.throws(() => model.distribution10([cat], new Float64Array(model.vocab.size)), refused);
    for (let w = 0; w < model.vocab.size; w++) assert.throws(() => model.rank10([cat], w), refused);
    const dog = model.vocab.id('dog')!;
    for (let w = 0; w < model.vocab.size; w++) assert.deepStrictEqual(model.rank10([dog], w), rankFromDistribution(model, [dog], w));
  });

  it('a NaN unigram: refused after a backoff, as the distribution refuses it; ranked last without one', function () {
    const model = trained(2, 'the cat sat on the mat\nthe dog sat on the log\n');
    const nan = model.vocab.id('sat')!; // never after "the"
    model.orders[0].logProb[nan] = NaN;
    const the = model.vocab.id('the')!;
    assert.throws(() => model.distribution10([the], new Float64Array(model.vocab.size)), ModelFormatError);
    assert.throws(() => model.rank10([the], model.vocab.id('cat')!), ModelFormatError);
    for (let w = 0; w < model.vocab.size; w++) assert.deepStrictEqual(model.rank10([], w), rankFromDistribution(model, [], w));
  });
});
