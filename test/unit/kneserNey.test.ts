import * as assert from 'assert';
import * as fs from 'fs';
import { readArpa } from '../../src/core/ngram/arpaReader';
import { arpaText } from '../../src/core/ngram/arpaWriter';
import { readNgramBinary, writeNgramBinary } from '../../src/core/ngram/binaryFormat';
import { DEFAULT_FALLBACK_DISCOUNTS, KneserNeyTrainer } from '../../src/core/ngram/kneserNey';
import { NgramLanguageModel } from '../../src/core/ngram/ngramLanguageModel';
import type { NgramModel } from '../../src/core/ngram/ngramModel';
import { addTextToTrainer } from '../../src/core/ngram/textTraining';
import { scoreTokens } from '../../src/core/scoring';
import { corpusFiles } from './helpers';

function train(order: number, texts: string[], fallback = false) {
  const t = new KneserNeyTrainer({ order, discountFallback: fallback ? DEFAULT_FALLBACK_DISCOUNTS : undefined });
  for (const text of texts) addTextToTrainer(t, text, 'whitespace');
  return t.build();
}

/** KenLM query's perplexities over a text (one sentence per line). */
async function kenlmPerplexity(model: NgramModel, text: string) {
  const lm = new NgramLanguageModel(model, 'whitespace', 'test');
  const scored = await scoreTokens(lm, lm.tokenizer.encode(text, true));
  const total = scored.reduce((s, t) => s + t.logProb, 0);
  const oovTotal = scored.filter((t) => t.oov).reduce((s, t) => s + t.logProb, 0);
  const oov = scored.filter((t) => t.oov).length;
  return {
    tokens: scored.length,
    oov,
    including: Math.exp(-total / scored.length),
    excluding: Math.exp(-(total - oovTotal) / (scored.length - oov)),
  };
}

const sig4 = (x: number) => Number(x.toPrecision(4));

describe('Kneser-Ney estimation', () => {
  it('matches a hand computation (adjusted counts, <s> raw counts, interpolation to uniform without <s>)', () => {
    const { model, stats } = train(2, ['a b\na b\nb a\n'], true);
    assert.deepStrictEqual(stats.usedFallbackDiscounts, [true, true]);
    const v = model.vocab;
    const [a, b, eos, bos, unk] = ['a', 'b', '</s>', '<s>', '<unk>'].map((w) => v.id(w)!);
    // Unigram continuation counts a=b=</s>=2, D(2)=1: p = 1/6 + γ0·1/4 with γ0 = 3/6.
    const pUni = 1 / 6 + 0.5 * 0.25;
    const expect = (lp: number, p: number) => assert.ok(Math.abs(lp - Math.log10(p)) < 1e-6, `${10 ** lp} vs ${p}`);
    expect(model.logProb10([], a), pUni);
    expect(model.logProb10([], unk), 0.5 * 0.25);
    expect(model.logProb10([a], b), 1 / 3 + 0.5 * pUni); // a(ab)=2, D=1, denominator 3, γ(a)=(1+0.5)/3
    expect(model.logProb10([a], eos), 0.5 / 3 + 0.5 * pUni);
    expect(model.logProb10([a], a), 0.5 * pUni); // unseen: backoff
    expect(model.logProb10([bos], a), 1 / 3 + 0.5 * pUni); // raw count 2 for "<s> a"
  });

  it('gives normalised distributions for seen and unseen contexts', () => {
    const text = fs.readFileSync(
      corpusFiles('train').find((f) => f.includes('pride'))!,
      'utf8',
    );
    const { model } = train(3, [text]);
    const v = model.vocab;
    const out = new Float64Array(v.size);
    const contexts = [[v.bosId!], [v.id('Mr.')!, v.id('Darcy')!], [v.id('of')!, v.id('the')!], [v.unkId!, v.unkId!], [v.id('Elizabeth')!]];
    for (const ctx of contexts) {
      assert.ok(
        ctx.every((i) => i !== undefined),
        'context words are in the vocabulary',
      );
      model.distribution10(ctx, out);
      let sum = 0;
      for (let w = 0; w < v.size; w++) if (w !== v.bosId) sum += 10 ** out[w];
      assert.ok(Math.abs(sum - 1) < 1e-4, `context ${ctx.map((i) => v.word(i))} sums to ${sum}`);
      // The full distribution agrees with single lookups.
      for (const w of [v.id('the')!, v.id('and')!, v.eosId!, v.unkId!]) {
        const diff = Math.abs(out[w] - model.logProb10(ctx, w));
        assert.ok(diff < 1e-6, `${v.word(w)} after ${ctx.map((i) => v.word(i))}: ${out[w]} vs ${model.logProb10(ctx, w)}`);
      }
    }
  });

  it('refuses data too small for discounts unless fallback discounts are given', () => {
    assert.throws(() => train(3, ['a b c\n']), /too little data/);
    assert.ok(train(3, ['a b c\n'], true).model.counts[2] > 0);
  });

  describe("KenLM's lmplz reference on the shared corpus (train/*.txt, scored on valid)", function () {
    this.timeout(120000);
    const texts = () => corpusFiles('train').map((f) => fs.readFileSync(f, 'utf8'));
    const valid = () => fs.readFileSync(corpusFiles('valid')[0], 'utf8');

    for (const [order, incl, excl] of [
      [3, 795.936, 371.817],
      [5, 792.067, 370.113],
    ] as const) {
      it(`order ${order}: perplexity ${incl} including OOVs, ${excl} excluding`, async () => {
        const { model } = train(order, texts());
        const ppl = await kenlmPerplexity(model, valid());
        assert.strictEqual(ppl.tokens, 60198);
        assert.strictEqual(ppl.oov, 5402);
        assert.strictEqual(sig4(ppl.including), sig4(incl));
        assert.strictEqual(sig4(ppl.excluding), sig4(excl));
      });
    }

    it("a book given twice, with fallback discounts: lmplz's unigram discounts (it counts the last unigram by its occurrences; hostile12 M2)", () => {
      // lmplz -o 2 --discount_fallback on mrs_dalloway_in_bond_street.txt twice: D1=0.779434 D2=1.39963 D3+=0.948859
      // (the book once, or counting every unigram by its adjusted count: 0.780761 / 1.39451 / 0.945367).
      const book = fs.readFileSync(
        corpusFiles('train').find((f) => f.endsWith('mrs_dalloway_in_bond_street.txt'))!,
        'utf8',
      );
      const t = new KneserNeyTrainer({ order: 2, discountFallback: DEFAULT_FALLBACK_DISCOUNTS });
      addTextToTrainer(t, book + book, 'whitespace');
      const { stats } = t.build();
      const d = stats.discounts[0];
      assert.deepStrictEqual(
        [d.d1, d.d2, d.d3].map((x) => Number(x.toPrecision(6))),
        [0.779434, 1.39963, 0.948859],
      );
      assert.deepStrictEqual(stats.usedFallbackDiscounts, [false, true]);
    });

    it('order 4: discounts, perplexities, and an ARPA and binary round trip that keep them', async () => {
      const { model, stats } = train(4, texts());
      const d = stats.discounts;
      assert.deepStrictEqual([d[0].d1, d[0].d2, d[0].d3].map(sig4), [0.6802, 1.031, 1.32]);
      assert.deepStrictEqual([d[3].d1, d[3].d2, d[3].d3].map(sig4), [0.9605, 1.405, 1.556]);
      const ppl = await kenlmPerplexity(model, valid());
      assert.strictEqual(sig4(ppl.including), sig4(792.548));
      assert.strictEqual(sig4(ppl.excluding), sig4(370.303));

      const reread = readArpa(arpaText(model));
      assert.deepStrictEqual(reread.counts, model.counts);
      const ppl2 = await kenlmPerplexity(reread, valid());
      assert.ok(Math.abs(ppl2.including - ppl.including) < 1e-3, `${ppl2.including} vs ${ppl.including}`);
      const fromBinary = readNgramBinary(writeNgramBinary(model, { name: 'x', tokenizer: 'whitespace' })).model;
      const ppl3 = await kenlmPerplexity(fromBinary, valid());
      assert.strictEqual(ppl3.including, ppl.including);
    });
  });
});
