/** The n-gram inside view: the order used, the backoff weights paid, and that they multiply to the model's p. */
import * as assert from 'assert';
import * as fs from 'fs';
import { LN10 } from '../../src/core/logMath';
import type { LanguageModel } from '../../src/core/model';
import { readArpa } from '../../src/core/ngram/arpaReader';
import { arpaText } from '../../src/core/ngram/arpaWriter';
import { backoffTrace } from '../../src/core/ngram/backoffTrace';
import { NgramLanguageModel } from '../../src/core/ngram/ngramLanguageModel';
import { readNgramBinary, writeNgramBinary } from '../../src/core/ngram/binaryFormat';
import { CompactCounts } from '../../src/core/ngram/compactCounts';
import { KneserNeyTrainer } from '../../src/core/ngram/kneserNey';
import { addTextToTrainer } from '../../src/core/ngram/textTraining';
import { loadModel } from '../../src/node/modelLoader';
import { estimateLines, orderPhrase, traceRows } from '../../src/playground/ngramTraceView';
import { corpusFiles } from './helpers';

const ARPA = `\\data\\
ngram 1=6
ngram 2=4
ngram 3=2

\\1-grams:
-1.0\t<unk>\t0
-99\t<s>\t-0.30103
-0.69897\t</s>
-0.5\tcat\t-0.2
-0.6\tsat\t-0.25
-0.9\tmat\t-0.1

\\2-grams:
-0.1\t<s> cat\t-0.15
-0.2\tcat sat\t-0.3
-0.05\tsat </s>
-0.4\tsat mat

\\3-grams:
-0.02\t<s> cat sat
-0.3\tcat sat mat

\\end\\
`;

describe('n-gram inside view', () => {
  const m = readArpa(ARPA);
  const id = (w: string) => m.vocab.id(w)!;
  const ids = (s: string) => s.split(' ').map(id);

  it('uses the full context when the n-gram is there', () => {
    const t = backoffTrace(m, ids('<s> cat'), id('sat'));
    assert.deepStrictEqual([t.usedOrder, t.ngram, t.backoffs.length], [3, ['<s>', 'cat', 'sat'], 0]);
    assert.ok(Math.abs(t.log10Total - -0.02) < 1e-7);
    assert.match(orderPhrase(t), /3-gram of a 3-gram model \(the full context\)/);
  });

  it('pays the backoff of each seen context it backs off from, and nothing for an unseen one', () => {
    // "<s> cat mat": the context "<s> cat" is seen (backoff -0.15), "cat mat" absent, "cat" seen (backoff -0.2): unigram mat.
    const t = backoffTrace(m, ids('<s> cat'), id('mat'));
    assert.strictEqual(t.usedOrder, 1);
    assert.deepStrictEqual(
      t.backoffs.map((b) => [b.order, b.context.join(' '), b.contextSeen]),
      [
        [3, '<s> cat', true],
        [2, 'cat', true],
      ],
    );
    assert.ok(Math.abs(t.log10Total - (-0.15 - 0.2 - 0.9)) < 1e-6);
    assert.strictEqual(orderPhrase(t), '1-gram of a 3-gram model (2 backoff weights paid)');
    // "mat sat": context "mat sat" unseen at order 3 (weight 1), "sat" seen and followed by "mat".
    const u = backoffTrace(m, ids('mat sat'), id('mat'));
    assert.deepStrictEqual(
      u.backoffs.map((b) => [b.order, b.contextSeen, b.log10Weight]),
      [[3, false, 0]],
    );
    assert.strictEqual(u.usedOrder, 2);
    assert.ok(Math.abs(u.log10Total - -0.4) < 1e-7);
    const rows = traceRows(u);
    assert.deepStrictEqual(
      rows.map((r) => r.outcome),
      ['unseen context', 'used'],
    );
    assert.strictEqual(orderPhrase(u), '2-gram of a 3-gram model (1 longer context never seen, no backoff weight paid)');
  });

  it('a model trained with its counts keeps them through its binary file; they give its stored p by Kneser-Ney’s formula', function () {
    this.timeout(120_000);
    const trainer = new KneserNeyTrainer({ order: 4, keepCounts: true });
    for (const f of corpusFiles('train').slice(0, 2)) addTextToTrainer(trainer, fs.readFileSync(f, 'utf8'), 'editor');
    const built = trainer.build().model;
    for (const planes of [false, true]) {
      const { model } = readNgramBinary(writeNgramBinary(built, { name: 'counted', tokenizer: 'editor' }, { planes }));
      assert.deepStrictEqual(model.discounts, built.discounts);
      model.orders.forEach((o, k) => assert.deepStrictEqual(o.counts!.toUint32(), built.orders[k].counts!.toUint32(), `${k + 1}-gram counts`));
      const lm = new NgramLanguageModel(model, 'editor', 'counted');
      const text = fs.readFileSync(corpusFiles('valid')[0], 'utf8').slice(0, 3000);
      const ids = lm.tokenizer.encode(text, true).map((t) => t.id);
      const orders = new Set<number>();
      for (let i = 1; i < ids.length; i++) {
        const t = lm.ngramTrace(ids.slice(0, i), ids[i]);
        const e = t.estimate!;
        assert.ok(e, `token ${i} has its counts`);
        orders.add(t.usedOrder);
        const p = (e.count - e.discount) / e.total + e.gamma * e.lower;
        // The stored p and backoffs are float32.
        assert.ok(Math.abs(p / 10 ** t.log10Prob - 1) < 1e-5, `token ${i} (${t.ngram.join('|')}): ${p} from counts vs stored ${10 ** t.log10Prob}`);
        if (t.usedOrder === 4) assert.ok(e.raw, 'the highest order counts occurrences');
        // γ from the discounts and the context's counts of counts, as the panel writes it out.
        const [n1, n2, n3] = e.countsOfCounts;
        const gamma = (e.discounts.d1 * n1 + e.discounts.d2 * n2 + e.discounts.d3 * n3) / e.total;
        assert.ok(Math.abs(gamma / e.gamma - 1) < 1e-5, `token ${i} (${t.ngram.join('|')}): γ ${gamma} from D and N vs stored ${e.gamma}`);
        const line = estimateLines(t)[2];
        assert.ok(line.startsWith(`γ = (D1 × N1 + D2 × N2 + D3+ × N3+) / total = (${e.discounts.d1.toPrecision(4)} × ${n1.toLocaleString('en-US')} + `), line);
      }
      assert.deepStrictEqual([...orders].sort(), [1, 2, 3, 4]);
    }
    // Without keepCounts, nothing is kept and the trace has no estimate.
    assert.strictEqual(backoffTrace(m, ids('<s> cat'), id('sat')).estimate, undefined);
  });

  it('keeps counts a byte each, the large ones exactly', () => {
    const values = [0, 1, 254, 255, 256, 70_000, 4_000_000_000, 3];
    const c = new CompactCounts(values);
    assert.deepStrictEqual(
      values.map((_, i) => c.get(i)),
      values,
    );
    assert.deepStrictEqual(Array.from(c.toUint32()), values);
    assert.strictEqual(c.byteLength, values.length + 16 * 4);
  });

  for (const name of ['ngram-classics', 'a 5-gram of whitespace words read from ARPA']) {
    describe(name, () => {
      let lm: LanguageModel;
      before(async function () {
        this.timeout(120_000);
        if (name.endsWith('ARPA')) {
          // KenLM's convention (a sentence per line), through its text format.
          const trainer = new KneserNeyTrainer({ order: 5 });
          for (const f of corpusFiles('train').slice(0, 3)) addTextToTrainer(trainer, fs.readFileSync(f, 'utf8'), 'whitespace');
          lm = new NgramLanguageModel(readArpa(arpaText(trainer.build().model)), 'whitespace', 'arpa');
        } else lm = await loadModel('ngram-classics');
      });

      it('factors multiply to the model p of every token of 3,000 characters of held-out text (1e-9 in log space)', async function () {
        this.timeout(60_000);
        const text = fs.readFileSync(corpusFiles('valid')[0], 'utf8').slice(0, 3000);
        const tokens = lm.tokenizer.encode(text, true).map((t) => t.id);
        const logProbs = await lm.sequenceLogProbs(tokens, 1);
        const used = new Set<number>();
        for (let i = 1; i < tokens.length; i++) {
          const t = lm.ngramTrace!(tokens.slice(0, i), tokens[i]);
          used.add(t.usedOrder);
          const product = traceRows(t).reduce((s, r) => s + r.log10Factor, 0) * LN10;
          assert.ok(Math.abs(product - logProbs[i - 1]) < 1e-9, `token ${i}: Σ log factors ${product} vs ${logProbs[i - 1]}`);
          // The whole-distribution path (the playground's generation) gives the same number.
          if (i % 50 === 0) {
            const dist = await lm.nextLogProbs(tokens.slice(0, i));
            assert.ok(Math.abs(product - dist[tokens[i]]) < 1e-9, `token ${i} against the distribution: ${product} vs ${dist[tokens[i]]}`);
          }
        }
        assert.strictEqual(lm.ngramTrace!(tokens.slice(0, 5), tokens[5]).estimate, undefined, 'no counts kept');
        // Real text reaches every order.
        assert.deepStrictEqual(
          [...used].sort(),
          Array.from({ length: lm.info.contextLength + 1 }, (_, i) => i + 1),
        );
      });
    });
  }
});
