/**
 * The fast paths of n-gram training and of worker-hosted n-gram models give what the plain ones
 * give: lmplz-format bytes counted without strings train the model the string path trains (the
 * same ARPA text), on one thread or two; the vocabulary a worker sends tokenizes as the model does.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { arpaText, writeArpa } from '../../src/core/ngram/arpaWriter';
import { DEFAULT_FALLBACK_DISCOUNTS, KneserNeyTrainer } from '../../src/core/ngram/kneserNey';
import { NgramTokenizer } from '../../src/core/ngram/ngramLanguageModel';
import { packVocabulary, unpackTokenizer } from '../../src/core/ngram/packedVocabulary';
import { addIdSentencesToTrainer, addTextToTrainer, utf8LinesToIds } from '../../src/core/ngram/textTraining';
import { Utf8Words } from '../../src/core/ngram/utf8Words';
import { PipelinedArpa } from '../../src/node/parallelArpa';
import { countFilesInWorker } from '../../src/node/parallelCounting';

const TEXT = 'the cat sat on the mat\n\nthe dog  sat\ton <s> the log </s>\na cat and a dög\r\nnaïve <unk> words\n';

function trainer(sharedMemory = false): KneserNeyTrainer {
  return new KneserNeyTrainer({ order: 3, discountFallback: DEFAULT_FALLBACK_DISCOUNTS, sharedMemory });
}

const TOKENIZE_WORKER = path.join(__dirname, '..', '..', 'src', 'node', 'tokenizeWorker.js');

describe('n-gram training from bytes, on two threads', () => {
  it('bytes counted without strings train the model the string path trains', () => {
    const fromText = trainer();
    addTextToTrainer(fromText, TEXT + 'no final line feed', 'whitespace');
    const fromBytes = trainer();
    const words = new Utf8Words(fromBytes.vocab);
    addIdSentencesToTrainer(fromBytes, utf8LinesToIds(words, new TextEncoder().encode(TEXT)));
    addIdSentencesToTrainer(fromBytes, utf8LinesToIds(words, new TextEncoder().encode('no final line feed')));
    assert.strictEqual(arpaText(fromBytes.build().model), arpaText(fromText.build().model));
  });

  it('a worker tokenizing files and the lower ARPA sections written by another while the model is built give the same ARPA', async function () {
    this.timeout(60_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-parallel-'));
    try {
      // Enough text that the ARPA is written on two threads (200,000 n-grams and more).
      let big = '';
      for (let i = 0; i < 40_000; i++) big += `w${i % 997} x${i % 89} y${(i * 7) % 1013} z${i % 31}\n`;
      const files = [path.join(dir, 'a.txt'), path.join(dir, 'b.txt')];
      fs.writeFileSync(files[0], TEXT);
      fs.writeFileSync(files[1], big);
      const one = trainer();
      for (const f of files) addTextToTrainer(one, fs.readFileSync(f, 'utf8'), 'whitespace');
      const two = trainer(true);
      const counted = await countFilesInWorker(two, files, TOKENIZE_WORKER);
      assert.strictEqual(counted.sentences, TEXT.split('\n').length - 1 + 40_000);
      const pipelined = new PipelinedArpa(3, two.vocab, path.join(__dirname, '..', '..', 'src', 'node', 'arpaSectionWorker.js'));
      const ready: number[] = [];
      // The tokenizing worker helps sort (the counted trigrams are more than SHARED_SORT_MIN_RECORDS).
      let helped = 0;
      const model = two.build(
        (k, order, counts) => {
          ready.push(k);
          pipelined.orderReady(k, order, counts);
        },
        { start: (job) => (helped++, counted.helper.start(job)) },
      ).model;
      counted.close();
      assert.ok(helped >= 2, `the worker helped sort ${helped} times`);
      assert.deepStrictEqual(ready, [1, 2, 3]);
      assert.ok(model.counts.reduce((a, b) => a + b, 0) >= 200_000);
      const chunks: Uint8Array[] = [];
      for await (const c of pipelined.text(model)) chunks.push(c);
      const parallel = Buffer.concat(chunks).toString('utf8');
      assert.strictEqual(parallel, Buffer.concat([...writeArpa(model)]).toString('utf8'));
      assert.strictEqual(parallel, arpaText(one.build().model));
      // The big file first: the worker's first batch is a short piece of it, the rest of its chunk the next.
      const reversed = [files[1], files[0]];
      const oneReversed = trainer();
      for (const f of reversed) addTextToTrainer(oneReversed, fs.readFileSync(f, 'utf8'), 'whitespace');
      const twoReversed = trainer();
      (await countFilesInWorker(twoReversed, reversed, TOKENIZE_WORKER)).close();
      assert.strictEqual(arpaText(twoReversed.build().model), arpaText(oneReversed.build().model));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the vocabulary a worker sends tokenizes on the host as the model does', () => {
    const t = trainer();
    addTextToTrainer(t, TEXT, 'whitespace');
    const { model } = t.build();
    const original = new NgramTokenizer('whitespace', model.vocab);
    const packed = packVocabulary(original);
    const host = unpackTokenizer(packed);
    const words = model.vocab.allWords();
    assert.deepStrictEqual(
      Array.from({ length: host.vocab.size }, (_, i) => host.vocab.word(i)),
      words,
    );
    assert.deepStrictEqual(
      words.map((w) => host.vocab.id(w)),
      words.map((_, i) => i),
    );
    assert.deepStrictEqual(host.encode('a cat and a dög unknown\n', true), original.encode('a cat and a dög unknown\n', true));
  });
});
