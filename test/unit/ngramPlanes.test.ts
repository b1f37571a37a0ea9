/**
 * Format 3 of the n-gram file: arrays stored in byte planes. A model trained on a real book must
 * come back bit for bit as format 2 gives it, with identical query results, and compress smaller;
 * the layouts themselves must decode every bit pattern, including wrapping deltas and NaN floats.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as zlib from 'zlib';
import { decodeArray, encodeArray, type ArrayLayout } from '../../src/core/ngram/arrayLayout';
import { readNgramBinary, writeNgramBinary } from '../../src/core/ngram/binaryFormat';
import { KneserNeyTrainer } from '../../src/core/ngram/kneserNey';
import type { NgramModel } from '../../src/core/ngram/ngramModel';
import { addTextToTrainer } from '../../src/core/ngram/textTraining';
import { editorPieces } from '../../src/core/tokenizers/pretokenizers';
import { corpusFiles } from './helpers';

const FIELDS = ['words', 'logProb', 'backoff', 'childStart'] as const;

function bytesOf(a: Uint32Array | Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function assertSameArrays(a: NgramModel, b: NgramModel): void {
  assert.deepStrictEqual(a.counts, b.counts);
  assert.deepStrictEqual([...a.vocab.allWords()], [...b.vocab.allWords()]);
  a.orders.forEach((o, k) => {
    for (const f of FIELDS) {
      const x = o[f];
      const y = b.orders[k][f];
      assert.strictEqual(x === undefined, y === undefined, `${k + 1}-gram ${f}`);
      if (x && y) assert.ok(bytesOf(x).equals(bytesOf(y)), `${k + 1}-gram ${f} differs`);
    }
  });
}

describe('n-gram file format 3: byte planes', function () {
  this.timeout(60000);
  const [book, other] = corpusFiles('train').filter((f) => /pride_and_prejudice|sense_and_sensibility/.test(f));
  const trainer = new KneserNeyTrainer({ order: 4 });
  addTextToTrainer(trainer, fs.readFileSync(book, 'utf8'), 'editor');
  const model = trainer.build().model;
  const metadata = { name: 'austen', tokenizer: 'editor' as const, order: 4 };
  const plain = writeNgramBinary(model, metadata);
  const planes = writeNgramBinary(model, metadata, { planes: true });
  const version = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);

  it('writes format 2 unless asked for planes, and format 3 with them, the same length', () => {
    assert.strictEqual(version(plain), 2);
    assert.strictEqual(version(planes), 3);
    // The JSON header grows by the layouts; the arrays keep their size.
    assert.ok(planes.length > plain.length && planes.length - plain.length < 1024, `${plain.length} and ${planes.length} bytes`);
  });

  it('reads back the arrays of format 2 bit for bit, in a buffer of their own', () => {
    const a = readNgramBinary(plain, 'plain.ngram');
    const b = readNgramBinary(planes, 'planes.ngram');
    assert.deepStrictEqual(b.metadata, a.metadata);
    assertSameArrays(model, a.model);
    assertSameArrays(model, b.model);
    // The decoded model does not hold on to the file's bytes; format 2 is viewed in place.
    for (const o of b.model.orders) for (const f of FIELDS) if (o[f]) assert.notStrictEqual(o[f]!.buffer, planes.buffer, f);
    assert.strictEqual(a.model.orders[1].logProb.buffer, plain.buffer);
  });

  it("decodes in place when the caller gives its buffer away: the same arrays, in the file's own bytes", () => {
    const bytes = planes.slice();
    const inPlace = readNgramBinary(bytes, 'planes.ngram', { decodeInPlace: true });
    assertSameArrays(model, inPlace.model);
    // Every stored array (the unigrams' words are the identity, not stored).
    inPlace.model.orders.forEach((o, k) => {
      for (const f of FIELDS) if (o[f] && (k > 0 || f !== 'words')) assert.ok(o[f]!.buffer === bytes.buffer, `${k + 1}-gram ${f}`);
    });
    // Not 4-byte aligned: decoded into a buffer of its own, as without the option.
    const shifted = new Uint8Array(planes.length + 1);
    shifted.set(planes, 1);
    const unaligned = readNgramBinary(shifted.subarray(1), 'planes.ngram', { decodeInPlace: true });
    assertSameArrays(model, unaligned.model);
    assert.ok(unaligned.model.orders[1].logProb.buffer !== shifted.buffer);
  });

  it('answers every query of a held-out text exactly as format 2 does', () => {
    const a = readNgramBinary(plain).model;
    const b = readNgramBinary(planes).model;
    const text = fs.readFileSync(other, 'utf8').slice(0, 200_000);
    const ids = editorPieces(text).map((p) => a.vocab.id(p.text) ?? a.vocab.unkId!);
    let queries = 0;
    for (let i = 3; i < ids.length; i++) {
      const context = ids.slice(i - 3, i);
      assert.strictEqual(b.logProb10(context, ids[i]), a.logProb10(context, ids[i]), `token ${i}`);
      queries++;
    }
    assert.ok(queries > 30_000, `${queries} queries`);
    const da = new Float64Array(a.vocab.size);
    const db = new Float64Array(b.vocab.size);
    for (let i = 3; i < ids.length; i += 997) {
      a.distribution10(ids.slice(i - 3, i), da);
      b.distribution10(ids.slice(i - 3, i), db);
      assert.deepStrictEqual(db, da, `distribution after token ${i}`);
    }
  });

  it('gzips at least 15 % smaller than format 2', () => {
    const a = zlib.gzipSync(plain, { level: 9 }).length;
    const b = zlib.gzipSync(planes, { level: 9 }).length;
    assert.ok(b < 0.85 * a, `format 2: ${a} bytes gzipped, format 3: ${b}`);
  });
});

describe('array layouts', () => {
  /** Every layout's round trip, bit for bit. */
  function roundTrip(bits: Uint32Array, layouts: ArrayLayout[]): void {
    for (const layout of layouts) {
      const stored = encodeArray(bits, layout);
      assert.strictEqual(stored.length, 4 * bits.length);
      const out = new Uint32Array(bits.length);
      decodeArray(stored, layout, out);
      assert.ok(bytesOf(out).equals(bytesOf(bits)), layout);
      // Stored bytes at an odd offset (planes of odd lengths are never aligned in a file).
      const shifted = new Uint8Array(stored.length + 1);
      shifted.set(stored, 1);
      const outShifted = new Uint32Array(bits.length);
      decodeArray(shifted.subarray(1), layout, outShifted);
      assert.ok(bytesOf(outShifted).equals(bytesOf(bits)), `${layout} at an odd offset`);
    }
  }

  it('decode what they encode: edge values, descending and random u32 (deltas wrap around 2^32)', () => {
    const edges = Uint32Array.from([0, 1, 0xff, 0x100, 0xffff_ffff, 0x8000_0000, 0x7fff_ffff, 0, 0xffff_ffff, 12345]);
    const descending = Uint32Array.from({ length: 1000 }, (_, i) => 0xffff_ffff - i * 4_000_000);
    let seed = 7;
    const random = Uint32Array.from({ length: 100_003 }, () => (seed = (Math.imul(seed, 1_103_515_245) + 12345) >>> 0));
    for (const bits of [edges, descending, random, new Uint32Array(0)]) roundTrip(bits, ['plain', 'planes', 'delta-planes']);
  });

  it('keep every f32 bit pattern: -0, infinities, NaN payloads, subnormals', () => {
    const floats = Float32Array.from([-0, 0, Infinity, -Infinity, 1e-45, -3.4e38, -0.30103, -99]);
    const bits = new Uint32Array(floats.length + 2);
    bits.set(new Uint32Array(floats.buffer));
    bits[floats.length] = 0x7fc0_0001; // a quiet NaN with a payload
    bits[floats.length + 1] = 0xff80_0001; // a signalling NaN
    roundTrip(bits, ['plain', 'planes']);
    const out = new Uint32Array(bits.length);
    decodeArray(encodeArray(new Float32Array(bits.buffer), 'planes'), 'planes', out);
    assert.ok(bytesOf(out).equals(bytesOf(bits)));
  });

  it('store the planes as described: all lowest bytes first', () => {
    const stored = encodeArray(Uint32Array.from([0x04030201, 0x08070605]), 'planes');
    assert.deepStrictEqual([...stored], [1, 5, 2, 6, 3, 7, 4, 8]);
    assert.deepStrictEqual([...encodeArray(Uint32Array.from([10, 13, 20]), 'delta-planes')], [10, 3, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });
});
