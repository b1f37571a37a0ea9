/**
 * The vocabulary an n-gram model's worker sends the host: the index is built in the worker, and
 * the host looks words up in it as the worker's own vocabulary does, at the size of the end-to-end
 * test's ARPA (302,000 words) and past it.
 */
import * as assert from 'assert';
import { NgramTokenizer } from '../../src/core/ngram/ngramLanguageModel';
import { MessageChannel } from 'worker_threads';
import { PackedWordIds, hashOfString, packVocabulary, packedBuffers, unpackTokenizer, type PackedVocabulary } from '../../src/core/ngram/packedVocabulary';
import { Vocabulary } from '../../src/core/ngram/vocabulary';
import { EngineServer } from '../../src/core/engine/engineServer';
import { EngineConnection } from '../../src/core/engine/engineClient';
import type { EngineResponse } from '../../src/core/engine/protocol';
import { loadModel } from '../../src/node/modelLoader';
import { TEST_LOAD_SPEC } from './helpers';

/** The specials, then words of many scripts and lengths, some a prefix of others. */
function manyWords(count: number): string[] {
  const words = ['<unk>', '<s>', '</s>', '\n', 'é', 'café', 'cafés', '☕', '👩‍🔬', 'naïve', 'a\0b', '\ud800', 'x'.repeat(10_000)];
  for (let i = 0; words.length < count; i++) words.push(i % 3 === 0 ? `w${i.toString(36)}` : i % 3 === 1 ? `ü${i}ß` : `${i.toString(36)}~${i % 7}`);
  return words;
}

/** `count` words whose hashes under `seed` share their low bits: one slot of a table of `slots` (the table `count` words get). */
function collidingWords(seed: number, count: number, slots: number): string[] {
  const words: string[] = [];
  for (let i = 0; words.length < count; i++) {
    const word = `c${i.toString(36)}`;
    if ((hashOfString(word, seed) & (slots - 1)) === 0) words.push(word);
  }
  return words;
}

describe('A packed n-gram vocabulary', function () {
  this.timeout(120_000);

  it('gives every word of a 1,000,000-word vocabulary its id and back, and no id to words it lacks', () => {
    const words = manyWords(1_000_000);
    const original = new NgramTokenizer('whitespace', Vocabulary.fromWords(words));
    const host = unpackTokenizer(packVocabulary(original)).vocab;
    assert.strictEqual(host.size, words.length);
    for (let i = 0; i < words.length; i++) {
      if (host.id(words[i]) !== i) assert.fail(`${JSON.stringify(words[i])} has id ${host.id(words[i])}, not ${i}`);
      if (host.word(i) !== words[i]) assert.fail(`id ${i} is ${JSON.stringify(host.word(i))}, not ${JSON.stringify(words[i])}`);
    }
    for (const absent of ['', 'caf', 'cafésé', 'w', '<unk', 'wzzzzzz', '☕☕', '\0', 'café\0', '\ud83d', '\ufffd'])
      assert.strictEqual(host.id(absent), undefined, JSON.stringify(absent));
    assert.deepStrictEqual([host.unkId, host.bosId, host.eosId], [0, 1, 2]);
    assert.throws(() => host.word(words.length), RangeError);
    assert.throws(() => host.word(-1), RangeError);
  });

  it('tokenizes on the host as on the worker, with unknown words as <unk>', () => {
    const original = new NgramTokenizer('whitespace', Vocabulary.fromWords(manyWords(5_000)));
    const host = unpackTokenizer(packVocabulary(original));
    const text = 'café ☕ naïve w1 w2 never-seen ü4ß\r\n👩‍🔬\n';
    assert.deepStrictEqual(host.encode(text, true), original.encode(text, true));
    assert.ok(host.encode(text, true).some((t) => t.id === 0));
    const ids = original.encode(text, true).map((t) => t.id);
    assert.strictEqual(host.decode(ids, false), original.decode(ids, false));
  });

  it('a vocabulary without the specials has none', () => {
    const host = unpackTokenizer(packVocabulary(new NgramTokenizer('whitespace', Vocabulary.fromWords(['a', 'b'])))).vocab;
    assert.deepStrictEqual([host.unkId, host.bosId, host.eosId, host.id('a'), host.id('b')], [undefined, undefined, undefined, 0, 1]);
  });

  it('refuses a vocabulary whose parts do not agree, naming them', () => {
    const packed = packVocabulary(new NgramTokenizer('whitespace', Vocabulary.fromWords(manyWords(100))));
    assert.throws(() => new PackedWordIds({ ...packed, units: packed.units.subarray(1) }), /100 words do not fit its \d+ code units/);
    assert.throws(() => new PackedWordIds({ ...packed, count: 101 }), /101 words do not fit/);
    assert.throws(() => new PackedWordIds({ ...packed, slots: new Int32Array(128) }), /table has 128 slots for 100 words/);
    assert.throws(() => new PackedWordIds({ ...packed, slots: new Int32Array(300) }), /table has 300 slots/);
  });

  it('words built to share one slot under a seed are packed under another, and lookups stay short (hostile32)', () => {
    const seed = 12345;
    const words = collidingWords(seed, 1_000, 2_048);
    const original = new NgramTokenizer('whitespace', Vocabulary.fromWords(words));
    const seeds = [seed, seed, 777];
    const packed = packVocabulary(original, () => seeds.shift()!);
    assert.strictEqual(packed.seed, 777, 'the crafted seed was given up for the third');
    assert.ok(packed.longestProbe < 64, `longest probe ${packed.longestProbe}`);
    const host = unpackTokenizer(packed).vocab;
    assert.deepStrictEqual(
      words.map((w) => host.id(w)),
      words.map((_, i) => i),
    );
    assert.strictEqual(host.id('not-a-word'), undefined);
  });

  it('a vocabulary that collides under every seed tried is refused, saying why', () => {
    const seed = 99;
    const original = new NgramTokenizer('whitespace', Vocabulary.fromWords(collidingWords(seed, 300, 1_024)));
    let tried = 0;
    assert.throws(
      () =>
        packVocabulary(original, () => {
          tried++;
          return seed;
        }),
      /the vocabulary's 300 words collide in the hash table under 4 random seeds .*built to collide/,
    );
    assert.strictEqual(tried, 4);
  });

  it('refuses a longest probe past its bound', () => {
    const packed = packVocabulary(new NgramTokenizer('whitespace', Vocabulary.fromWords(manyWords(100))));
    assert.throws(() => new PackedWordIds({ ...packed, longestProbe: 10_000 }), /longest probe \(10000\) is outside 0 to 256/);
  });

  it('moves to another thread in its buffers, and looks words up there', async () => {
    const original = new NgramTokenizer('whitespace', Vocabulary.fromWords(manyWords(50_000)));
    const packed = packVocabulary(original);
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<PackedVocabulary>((resolve) => port2.once('message', resolve));
    port1.postMessage(packed, packedBuffers(packed));
    const host = unpackTokenizer(await received).vocab;
    port1.close();
    // Moved, not copied: the sender's arrays are detached.
    assert.strictEqual(packed.units.length, 0);
    assert.deepStrictEqual([host.id('café'), host.word(8), host.id('w1'), host.size], [5, '👩‍🔬', original.vocab.id('w1'), 50_000]);
  });

  it("is in an engine's load reply only when the load asks for it: a page, which never reads it, is not sent one", async () => {
    const server = new EngineServer(
      async () => ({ model: await loadModel('ngram-classics') }),
      (r) => setImmediate(() => conn.receive(r as EngineResponse)),
    );
    const conn = new EngineConnection((req) => void server.handle(req));
    const plain = await conn.request({ op: 'load', spec: TEST_LOAD_SPEC });
    assert.strictEqual(plain.model.vocabulary, undefined);
    const asked = await conn.request({ op: 'load', spec: { ...TEST_LOAD_SPEC, hostVocabulary: true } });
    assert.ok(asked.model.vocabulary, 'the reply carries the vocabulary');
    const host = unpackTokenizer(asked.model.vocabulary);
    const model = await loadModel('ngram-classics');
    assert.strictEqual(host.vocab.size, model.vocabSize);
    const text = 'It was the best of times, it was the worst of times; a naïve zyzzogeton.\n';
    assert.deepStrictEqual(host.encode(text, true), model.tokenizer.encode(text, true));
    await conn.request({ op: 'dispose' });
  });
});
