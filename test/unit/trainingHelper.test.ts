/**
 * Training with the tokenizing worker's help: adjusting the counts on two threads, and making each
 * order's trie records while the training thread estimates the order below, give one thread's
 * model; a helper that fails gives a clear error.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { adjustedCounts } from '../../src/core/ngram/adjustedCounts';
import { arpaText } from '../../src/core/ngram/arpaWriter';
import { DEFAULT_FALLBACK_DISCOUNTS, KneserNeyTrainer } from '../../src/core/ngram/kneserNey';
import { sharedUint32 } from '../../src/core/ngram/sharedRadixSort';
import { addTextToTrainer } from '../../src/core/ngram/textTraining';
import { finishNextOrder, startNextOrder, T_FIELDS, type TrainingHelper } from '../../src/core/ngram/trieLayout';
import { countFilesInWorker } from '../../src/node/parallelCounting';
import { corpusFiles, xorshift32 } from './helpers';

const TOKENIZE_WORKER = path.join(__dirname, '..', '..', 'src', 'node', 'tokenizeWorker.js');

describe('n-gram training with a helping thread', function () {
  this.timeout(120_000);

  it('order 5 on two books: the worker lays out orders 3 to 5 while this thread estimates, and the model is one thread’s', async () => {
    const files = corpusFiles('train').slice(0, 2);
    const one = new KneserNeyTrainer({ order: 5, discountFallback: DEFAULT_FALLBACK_DISCOUNTS });
    for (const f of files) addTextToTrainer(one, fs.readFileSync(f, 'utf8'), 'whitespace');
    const expected = arpaText(one.build().model);

    const two = new KneserNeyTrainer({ order: 5, discountFallback: DEFAULT_FALLBACK_DISCOUNTS, sharedMemory: true });
    const counted = await countFilesInWorker(two, files, TOKENIZE_WORKER);
    const laidOut: number[] = [];
    let adjusted = 0;
    try {
      const helper: TrainingHelper = {
        start: (job) => counted.helper.start(job),
        adjust: (job) => (adjusted++, counted.helper.adjust!(job)),
        layOut: (job) => (laidOut.push(job.count), counted.helper.layOut!(job)),
      };
      const { model } = two.build(undefined, helper);
      assert.strictEqual(adjusted, 1);
      // Orders 3, 4 and 5 (each above SHARED_SORT_MIN_RECORDS n-grams) were the worker's.
      assert.deepStrictEqual(laidOut, model.counts.slice(2));
      assert.strictEqual(arpaText(model), expected);
    } finally {
      counted.close();
    }
  });

  it('counts adjusted on two threads are one thread’s, also where one last word fills the middle of the entries', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-adjust-'));
    fs.writeFileSync(path.join(dir, 'a.txt'), 'a b\n');
    const counted = await countFilesInWorker(new KneserNeyTrainer({ order: 2 }), [path.join(dir, 'a.txt')], TOKENIZE_WORKER);
    try {
      const N = 4;
      const V = 5000;
      const bos = 1;
      const next = xorshift32(99);
      for (const crowded of [0, 0.6]) {
        // Distinct 4-grams, some with <s> padding on the left; `crowded` of them end with word 7.
        const seen = new Set<string>();
        const rows: number[][] = [];
        while (rows.length < 200_000) {
          const g = [2 + (next() % V), 2 + (next() % V), 2 + (next() % 50), next() / 2 ** 32 < crowded ? 7 : 2 + (next() % V)];
          const pad = next() % 8;
          for (let p = 0; p < pad && p < N - 1; p++) g[p] = bos;
          const key = g.join(' ');
          if (seen.has(key)) continue;
          seen.add(key);
          rows.push([...g, 1 + (next() % 4)]);
        }
        const counts = () => {
          const records = sharedUint32(rows.length * (N + 1));
          records.set(rows.flat());
          return { size: rows.length, records };
        };
        let asked = 0;
        const two = adjustedCounts(counts(), N, V + 2, bos, {
          start: (job) => counted.helper.start(job),
          adjust: (job) => (asked++, counted.helper.adjust!(job)),
        });
        const one = adjustedCounts(counts(), N, V + 2, bos);
        assert.strictEqual(asked, 1);
        assert.deepStrictEqual(Array.from(two.unigrams), Array.from(one.unigrams));
        assert.deepStrictEqual(two.last, one.last);
        assert.deepStrictEqual(
          two.orders.map((o) => o.count),
          one.orders.map((o) => o.count),
        );
        for (let k = 0; k < one.orders.length; k++)
          assert.ok(Buffer.from(two.orders[k].ngrams.slice().buffer).equals(Buffer.from(one.orders[k].ngrams.buffer)), `order ${k + 2}`);
      }
    } finally {
      counted.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a helper that fails gives an error that says so, not a wrong model or a wait', () => {
    const count = 70_000;
    const lower = sharedUint32(count * T_FIELDS);
    for (let i = 0; i < count; i++) lower[i * T_FIELDS + 1] = i;
    const helper: TrainingHelper = { start: () => undefined, layOut: (job) => Atomics.store(job.sync, 0, 2) };
    const next = startNextOrder(helper, lower, count, { count, ngrams: sharedUint32(count * 4) });
    assert.ok(next, 'handed to the helper');
    assert.throws(() => finishNextOrder(next), /the thread helping to lay out the model failed/);
  });

  it('too small an order, or one not in shared memory, stays on this thread', () => {
    let asked = 0;
    const helper: TrainingHelper = { start: () => undefined, layOut: () => void asked++ };
    const count = 70_000;
    assert.strictEqual(startNextOrder(helper, sharedUint32(100 * T_FIELDS), 100, { count: 100, ngrams: sharedUint32(400) }), undefined);
    assert.strictEqual(startNextOrder(helper, new Uint32Array(count * T_FIELDS), count, { count, ngrams: sharedUint32(count * 4) }), undefined);
    assert.strictEqual(
      startNextOrder({ start: () => undefined }, sharedUint32(count * T_FIELDS), count, { count, ngrams: sharedUint32(count * 4) }),
      undefined,
    );
    assert.strictEqual(asked, 0);
  });
});
