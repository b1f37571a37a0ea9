/**
 * Fault injection on model files: gzip bombs, truncated and corrupt gzip, flipped and cut bytes in
 * n-gram binaries, forged headers, and malformed or non-UTF-8 ARPA text. Every hostile file is
 * made here at run time; each must give an LmError that names the file, never a hang, a crash or
 * a silently different model.
 */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { xxh32 } from '../../../src/core/checksum';
import { LmError, ModelFormatError } from '../../../src/core/errors';
import { ArpaReader, MAX_ARPA_LINE_BYTES, MAX_ARPA_PREAMBLE_LINES, readArpa, readArpaBytes } from '../../../src/core/ngram/arpaReader';
import { arpaText } from '../../../src/core/ngram/arpaWriter';
import { NGRAM_FORMAT_VERSION, readNgramBinary, writeNgramBinary } from '../../../src/core/ngram/binaryFormat';
import { DEFAULT_FALLBACK_DISCOUNTS, KneserNeyTrainer } from '../../../src/core/ngram/kneserNey';
import { NgramModel } from '../../../src/core/ngram/ngramModel';
import { ngramFromBytes } from '../../../src/core/ngram/ngramFromBytes';
import { ngramFromChunks } from '../../../src/core/ngram/ngramFromChunks';
import { addTextToTrainer } from '../../../src/core/ngram/textTraining';
import { MAX_VOCABULARY } from '../../../src/core/ngram/vocabulary';
import { loadNgramFile } from '../../../src/node/backends/ngramBackend';
import { modelFileChunks } from '../../../src/node/modelFileStream';
import { loadHuggingFaceFolder, MAX_CONFIG_JSON_BYTES } from '../../../src/node/neuralLoader';
import { modelBytesChunks } from '../../../src/webview/cappedGunzip';
import { REPO } from '../helpers';

const NEURAL_DIR = path.join(REPO, 'models', 'gpt-classics');

const TEXT = 'the cat sat on the mat\nthe dog sat on the log\na cat and a dog\nthe end of the story\n';

function smallModel(order = 3): NgramModel {
  const t = new KneserNeyTrainer({ order, discountFallback: DEFAULT_FALLBACK_DISCOUNTS });
  addTextToTrainer(t, TEXT, 'whitespace');
  return t.build().model;
}

/** A seeded generator (mulberry32), so that a failing case can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Splits a version-2 or -3 file into its header JSON and its array data. */
function parts(bytes: Uint8Array): { header: Record<string, unknown>; data: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = view.getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(20, 20 + h)));
  return { header, data: bytes.subarray(20 + ((h + 3) & ~3), bytes.length - 4) };
}

/** A file as the writer lays it out, from a header and data, with a valid checksum (as a forger would make it). */
function forge(header: unknown, data: Uint8Array, version = 2): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const fixed = version === 1 ? 16 : 20;
  const dataStart = fixed + ((json.length + 3) & ~3);
  const total = dataStart + data.length + (version === 1 ? 0 : 4);
  const out = new Uint8Array(total);
  out.set(new TextEncoder().encode('LMPNGRAM'), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, version, true);
  view.setUint32(12, json.length, true);
  if (version !== 1) view.setUint32(16, total, true);
  out.set(json, fixed);
  out.set(data, dataStart);
  if (version !== 1) view.setUint32(total - 4, xxh32(out.subarray(0, total - 4)), true);
  return out;
}

function expectModelError(fn: () => unknown, file: RegExp | string, what: string): ModelFormatError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ModelFormatError, `${what}: expected a ModelFormatError, got ${(e as Error)?.stack ?? e}`);
    assert.match(e.message, typeof file === 'string' ? new RegExp(`^${file.replace(/\./g, '\\.')}[:]`) : file, what);
    return e;
  }
  assert.fail(`${what}: no error (the damaged file was accepted)`);
}

describe('fault injection: n-gram binary files', () => {
  const model = smallModel();
  const good = writeNgramBinary(model, { name: 'tiny', tokenizer: 'whitespace' });
  const goodPlanes = writeNgramBinary(model, { name: 'tiny', tokenizer: 'whitespace' }, { planes: true });
  const files = [
    ['format 2', good],
    ['format 3 (planes)', goodPlanes],
  ] as const;

  it('detects every single flipped byte, anywhere in the file (seeded), with an error naming the file', () => {
    for (const [format, file] of files) {
      const rand = random(11);
      const offsets = new Set<number>([0, 7, 8, 11, 12, 15, 16, 19, 20, file.length - 5, file.length - 4, file.length - 1]);
      while (offsets.size < 400) offsets.add(Math.floor(rand() * file.length));
      for (const at of offsets) {
        const bad = file.slice();
        bad[at] ^= 1 + Math.floor(rand() * 255);
        expectModelError(() => ngramFromBytes(bad, 'flipped.ngram', 'x'), 'flipped.ngram', `${format}: byte ${at} of ${file.length}`);
      }
    }
  });

  it('catches any change to the plane data by the checksum, before decoding it', () => {
    const { header, data } = parts(goodPlanes);
    const dataStart = goodPlanes.length - 4 - data.length;
    for (const r of header.arrays as { order: number; field: string; offset: number; length: number; layout: string }[]) {
      if (r.layout === 'plain') continue;
      // A byte of each plane: the lowest bytes first, the highest last.
      for (let plane = 0; plane < 4; plane++) {
        const bad = goodPlanes.slice();
        bad[dataStart + r.offset + plane * r.length] ^= 0x10;
        const what = `${r.order}-gram ${r.field} (${r.layout}), plane ${plane}`;
        assert.match(expectModelError(() => readNgramBinary(bad, 'planes.ngram'), 'planes.ngram', what).message, /checksum does not match/, what);
      }
    }
  });

  it('refuses the file cut at any length', () => {
    for (const [format, file] of files) {
      for (let cut = 0; cut < file.length; cut += cut < 64 ? 1 : 7) {
        expectModelError(() => ngramFromBytes(file.subarray(0, cut), 'cut.ngram', 'x'), 'cut.ngram', `${format}: cut at ${cut}`);
      }
    }
  });

  it('refuses forged counts of 1e9 at once, before allocating anything for them', () => {
    const { header, data } = parts(good);
    const counts = header.counts as number[];
    const arrays = header.arrays as { order: number; length: number }[];
    const forged = [
      // The count alone, the count and its arrays' lengths, the unigram count: in every version.
      { ...header, counts: [counts[0], 1e9, counts[2]] },
      {
        ...header,
        counts: [counts[0], 1e9, counts[2]],
        arrays: arrays.map((r) => (r.order === 2 ? { ...r, length: r.length === counts[1] ? 1e9 : 1e9 + 1 } : r)),
      },
      { ...header, counts: [1e9, counts[1], counts[2]] },
    ];
    const before = process.memoryUsage().arrayBuffers;
    for (const h of forged) {
      for (const version of [1, 2, 3]) {
        const e = expectModelError(
          () => readNgramBinary(forge(h, data, version), 'forged.ngram'),
          'forged.ngram',
          `version ${version}: ${JSON.stringify(h.counts)}`,
        );
        assert.match(e.message, /count|entries|truncated|unigrams/);
      }
    }
    assert.ok(process.memoryUsage().arrayBuffers - before < 64 << 20, 'no allocation from the forged counts');
  });

  it('names the broken field of a forged header (never an internal TypeError)', () => {
    const { header, data } = parts(good);
    const arrays = header.arrays as Record<string, unknown>[];
    const edits: [string, unknown, RegExp][] = [
      ['not an object', [1, 2], /not a JSON object/],
      ['no metadata', { ...header, metadata: null }, /metadata/],
      ['bad tokenizer', { ...header, metadata: { name: 'x', tokenizer: 'bpe' } }, /unknown tokenizer "bpe"/],
      ['vocabulary not a list', { ...header, vocabulary: 'abc' }, /vocabulary/],
      ['vocabulary of numbers', { ...header, vocabulary: (header.vocabulary as string[]).map((_, i) => i) }, /vocabulary/],
      ['no counts', { ...header, counts: [] }, /counts/],
      ['count not a number', { ...header, counts: ['a', 1, 1] }, /bad 1-gram count/],
      ['negative count', { ...header, counts: [(header.counts as number[])[0], -3, 1] }, /bad 2-gram count/],
      ['order 7', { ...header, counts: [1, 1, 1, 1, 1, 1, 1] }, /1 to 6 n-gram counts/],
      ['metadata order 0', { ...header, metadata: { ...(header.metadata as object), order: 0 } }, /order 0 but the header has counts for 3-grams/],
      ['metadata order 2', { ...header, metadata: { ...(header.metadata as object), order: 2 } }, /order 2 but/],
      ['metadata order "3"', { ...header, metadata: { ...(header.metadata as object), order: '3' } }, /order "3" but/],
      ['negative training tokens', { ...header, metadata: { ...(header.metadata as object), trainingTokens: -1 } }, /trainingTokens -1/],
      ['arrays missing', { ...header, arrays: undefined }, /list of arrays/],
      ['array record null', { ...header, arrays: [null, ...arrays] }, /not an object/],
      ['array of order 9', { ...header, arrays: arrays.map((r, i) => (i === 0 ? { ...r, order: 9 } : r)) }, /order 9/],
      ['unknown field', { ...header, arrays: arrays.map((r, i) => (i === 0 ? { ...r, field: 'toString' } : r)) }, /unknown array field "toString"/],
      ['wrong type', { ...header, arrays: arrays.map((r, i) => (i === 0 ? { ...r, type: 'f64' } : r)) }, /type "f64"/],
      ['negative offset', { ...header, arrays: arrays.map((r, i) => (i === 1 ? { ...r, offset: -4 } : r)) }, /bad offset/],
      ['unaligned offset', { ...header, arrays: arrays.map((r, i) => (i === 1 ? { ...r, offset: (r.offset as number) + 2 } : r)) }, /bad offset/],
      ['offset past the end', { ...header, arrays: arrays.map((r, i) => (i === 1 ? { ...r, offset: 1 << 30 } : r)) }, /truncated/],
      ['listed twice', { ...header, arrays: [...arrays, arrays[0]] }, /listed twice/],
      ['one missing', { ...header, arrays: arrays.slice(1) }, /missing/],
      ['overlapping', { ...header, arrays: arrays.map((r, i) => (i === 1 ? { ...r, offset: arrays[0].offset } : r)) }, /overlap/],
      ['no <unk>', { ...header, vocabulary: (header.vocabulary as string[]).map((w) => (w === '<unk>' ? '<UNK>' : w)) }, /no <unk>/],
      [
        'duplicate word',
        { ...header, vocabulary: (header.vocabulary as string[]).map((w, i, all) => (i === all.length - 1 ? all[all.length - 2] : w)) },
        /duplicate vocabulary word/,
      ],
    ];
    for (const [what, h, message] of edits) {
      for (const version of [2, 3]) {
        const e = expectModelError(() => readNgramBinary(forge(h, data, version), 'forged.ngram'), 'forged.ngram', `version ${version}: ${what}`);
        assert.match(e.message, message, what);
      }
    }
  });

  it('refuses forged trie links and values that a query would follow out of bounds', () => {
    const { header, data } = parts(good);
    const arrays = header.arrays as { order: number; field: string; offset: number; length: number }[];
    const at = (order: number, field: string) => arrays.find((r) => r.order === order && r.field === field)!;
    const poke = (order: number, field: string, index: number, value: number, float = false) => {
      const d = data.slice();
      const view = new DataView(d.buffer);
      const offset = at(order, field).offset + 4 * index;
      if (float) view.setFloat32(offset, value, true);
      else view.setUint32(offset, value, true);
      return forge(header, d);
    };
    const cases: [string, Uint8Array, RegExp][] = [
      ['child range past the end', poke(1, 'childStart', 1, 0xfffffff0), /child range|links/],
      ['last link wrong', poke(2, 'childStart', at(2, 'childStart').length - 1, 1), /links do not cover/],
      ['word outside the vocabulary', poke(2, 'words', 0, 1e6), /outside the vocabulary/],
      ['NaN log-probability', poke(3, 'logProb', 0, NaN, true), /bad log-probability NaN/],
      ['positive log-probability', poke(1, 'logProb', 3, 0.5, true), /bad log-probability 0\.5/],
      ['infinite backoff', poke(2, 'backoff', 0, -Infinity, true), /bad backoff -Infinity/],
    ];
    for (const [what, bytes, message] of cases) {
      const e = expectModelError(() => readNgramBinary(bytes, 'forged.ngram'), 'forged.ngram', what);
      assert.match(e.message, message, what);
    }
    // Children out of order (binary search would miss them).
    const w = at(2, 'words');
    const words = new Uint32Array(data.slice(w.offset, w.offset + 4 * w.length).buffer);
    const cs = new Uint32Array(data.slice(at(1, 'childStart').offset, at(1, 'childStart').offset + 4 * at(1, 'childStart').length).buffer);
    const p = cs.findIndex((c, i) => i + 1 < cs.length && cs[i + 1] - c >= 2);
    const d = data.slice();
    const view = new DataView(d.buffer);
    view.setUint32(w.offset + 4 * cs[p], words[cs[p] + 1], true);
    view.setUint32(w.offset + 4 * (cs[p] + 1), words[cs[p]], true);
    assert.match(expectModelError(() => readNgramBinary(forge(header, d), 'forged.ngram'), 'forged.ngram', 'unsorted').message, /out of order/);
  });

  it('still reads version-1 files (no checksum) with the same numbers, and asks to retrain on an unknown version', () => {
    const { header, data } = parts(good);
    const v1 = readNgramBinary(forge(header, data, 1), 'old.ngram').model;
    const ids = ['the', 'cat', 'sat'].map((w) => model.vocab.id(w)!);
    assert.strictEqual(v1.logProb10(ids.slice(0, 2), ids[2]), model.logProb10(ids.slice(0, 2), ids[2]));
    assert.strictEqual(v1.counts.join(), model.counts.join());
    const newer = goodPlanes.slice();
    newer[8] = NGRAM_FORMAT_VERSION + 1;
    const e = expectModelError(() => readNgramBinary(newer, 'new.ngram'), 'new.ngram', 'a newer version');
    assert.match(
      e.message,
      new RegExp(`unsupported format version ${NGRAM_FORMAT_VERSION + 1} \\(this build reads versions 1 to ${NGRAM_FORMAT_VERSION}\\).*retrain`),
    );
  });

  it('names a forged layout: unknown, planes in a version-2 file, deltas of floats', () => {
    const { header, data } = parts(goodPlanes);
    const arrays = header.arrays as Record<string, unknown>[];
    const withLayout = (pick: (r: Record<string, unknown>) => boolean, layout: unknown) => ({
      ...header,
      arrays: arrays.map((r) => (pick(r) ? { ...r, layout } : r)),
    });
    const edits: [string, unknown, number, RegExp][] = [
      ['unknown layout', withLayout((r) => r.field === 'words', 'zigzag'), 3, /2-gram words has an unknown layout "zigzag"/],
      ['layout null', withLayout((r) => r.field === 'words', null), 3, /unknown layout null/],
      ['layout a number', withLayout((r) => r.field === 'logProb', 1), 3, /unknown layout 1/],
      ['planes in version 2', header, 2, /has the layout (delta-)?planes, which format version 2 does not have/],
      [
        'deltas of log-probabilities',
        withLayout((r) => r.field === 'logProb', 'delta-planes'),
        3,
        /logProb has the layout delta-planes, which only u32 arrays/,
      ],
      ['deltas of backoffs', withLayout((r) => r.field === 'backoff', 'delta-planes'), 3, /backoff has the layout delta-planes/],
    ];
    for (const [what, h, version, message] of edits) {
      const e = expectModelError(() => readNgramBinary(forge(h, data, version), 'forged.ngram'), 'forged.ngram', what);
      assert.match(e.message, message, what);
    }
    // The same data under the layouts it was written with is a good file; all plain is one too (with other numbers).
    assert.strictEqual(readNgramBinary(forge(header, data, 3), 'ok.ngram').model.counts.join(), model.counts.join());
    assert.strictEqual(
      readNgramBinary(
        forge(
          withLayout(() => true, 'plain'),
          parts(good).data,
          3,
        ),
        'ok.ngram',
      ).model.counts.join(),
      model.counts.join(),
    );
  });

  it('checks the trie after decoding the planes: forged links and values are refused as in format 2', () => {
    /** The model with one value replaced, written in planes (the writer does not check: a forger's tool). */
    const forged = (order: number, field: 'words' | 'logProb' | 'backoff' | 'childStart', index: number, value: number) => {
      const orders = model.orders.map((o) => ({
        ...o,
        words: o.words.slice(),
        logProb: o.logProb.slice(),
        backoff: o.backoff?.slice(),
        childStart: o.childStart?.slice(),
      }));
      orders[order - 1][field]![index] = value;
      return writeNgramBinary(new NgramModel(model.vocab, orders), { name: 'x', tokenizer: 'whitespace' }, { planes: true });
    };
    const cs1 = model.orders[0].childStart!;
    const falling = cs1.findIndex((c, i) => i > 0 && cs1[i - 1] > 0);
    const last = model.orders[1].childStart!.length - 1;
    const cases: [string, Uint8Array, RegExp][] = [
      ['child range past the end', forged(1, 'childStart', 1, 0xfffffff0), /child range|links/],
      ['childStart falling (a delta that wraps)', forged(1, 'childStart', falling, cs1[falling - 1] - 1), /child range/],
      ['last link wrong', forged(2, 'childStart', last, 1), /links do not cover/],
      ['word outside the vocabulary', forged(2, 'words', 0, 1e6), /outside the vocabulary/],
      ['NaN log-probability', forged(3, 'logProb', 0, NaN), /bad log-probability NaN/],
      ['positive log-probability', forged(1, 'logProb', 3, 0.5), /bad log-probability 0\.5/],
      ['infinite backoff', forged(2, 'backoff', 0, -Infinity), /bad backoff -Infinity/],
    ];
    for (const [what, bytes, message] of cases) {
      assert.strictEqual(new DataView(bytes.buffer).getUint32(8, true), 3, what);
      const e = expectModelError(() => readNgramBinary(bytes, 'forged.ngram'), 'forged.ngram', what);
      assert.match(e.message, message, what);
    }
  });
});

describe('fault injection: a binary changed between two loads in one process', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-faults-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bytes = writeNgramBinary(smallModel(), { name: 'tiny', tokenizer: 'whitespace' }, { planes: true });
  const damaged = /checksum does not match/;

  it('verifies the checksum again once the file was written, even with its modification time set back', async () => {
    const p = path.join(dir, 'changed.ngram');
    fs.writeFileSync(p, bytes);
    // Loaded twice: the second load may take the checksum found right by the first.
    for (let i = 0; i < 2; i++) assert.strictEqual((await loadNgramFile(p, 'x')).vocabSize, smallModel().vocab.size);
    const { mtime, atime } = fs.statSync(p);
    const fd = fs.openSync(p, 'r+');
    try {
      // A byte of the arrays (the header's JSON is parsed, so a flip there could fail otherwise).
      fs.writeSync(fd, new Uint8Array([bytes[bytes.length - 40] ^ 0x10]), 0, 1, bytes.length - 40);
    } finally {
      fs.closeSync(fd);
    }
    fs.utimesSync(p, atime, mtime);
    await assert.rejects(loadNgramFile(p, 'x'), (e: Error) => e instanceof ModelFormatError && damaged.test(e.message) && e.message.startsWith(p));
    // A copy of the good file (a new inode) loads; then the copy put in place of the damaged one.
    const copy = path.join(dir, 'copy.ngram');
    fs.writeFileSync(copy, bytes);
    assert.strictEqual((await loadNgramFile(copy, 'x')).vocabSize, smallModel().vocab.size);
    fs.renameSync(copy, p);
    assert.strictEqual((await loadNgramFile(p, 'x')).vocabSize, smallModel().vocab.size);
  });

  it('the reader computes the checksum unless the one the file stores is the one its caller verified', () => {
    const bad = bytes.slice();
    bad[bad.length - 40] ^= 0x10;
    const stored = new DataView(bad.buffer).getUint32(bad.length - 4, true);
    assert.throws(() => readNgramBinary(bad, 'bad.ngram'), damaged);
    assert.throws(() => readNgramBinary(bad, 'bad.ngram', { verifiedChecksum: (stored + 1) >>> 0 }), damaged);
    assert.strictEqual(readNgramBinary(bytes, 'good.ngram').checksum, stored);
  });
});

describe('fault injection: gzip streams', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-faults-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: Uint8Array | string) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, content);
    return p;
  };
  /** A gzip bomb: `members` copies of one gzip member of 16 MiB of `fill` bytes (about 16 KiB each). */
  const bomb = (prefix: Uint8Array, members: number) => {
    const member = zlib.gzipSync(Buffer.alloc(16 << 20), { level: 9 });
    return Buffer.concat([zlib.gzipSync(prefix), ...Array<Buffer>(members).fill(member)]);
  };

  it('stops a gzip bomb at the cap, having decompressed little more than the cap', async () => {
    const cap = 1 << 20;
    const gz = file('zeros.gz', bomb(new Uint8Array(0), 64)); // ~1 MiB on disk, 1 GiB of zeros inside
    let produced = 0;
    const before = process.memoryUsage().arrayBuffers;
    await assert.rejects(
      (async () => {
        for await (const chunk of modelFileChunks(gz, cap)) produced += chunk.length;
      })(),
      (e: Error) => e instanceof ModelFormatError && e.message.startsWith(`${gz}: decompresses to more than 1 MiB; the limit`),
    );
    assert.ok(produced <= cap && produced > cap - (256 << 10), `produced ${produced} bytes for a cap of ${cap}`);
    assert.ok(process.memoryUsage().arrayBuffers - before < 64 << 20, 'memory stays near the cap');
  });

  it('the loader stops at its maxBytes parameter: a binary model header followed by a bomb', async () => {
    const prefix = writeNgramBinary(smallModel(2), { name: 'x', tokenizer: 'whitespace' }).slice(0, 64);
    new DataView(prefix.buffer).setUint32(8, 1, true); // format 1: no declared length to stop at
    const gz = file('bomb.ngram.gz', bomb(prefix, 64));
    await assert.rejects(
      loadNgramFile(gz, 'x', { maxBytes: 2 << 20 }),
      (e: Error) => e instanceof ModelFormatError && e.message.startsWith(`${gz}: decompresses to more than 2 MiB`),
    );
    // A plain binary larger than the cap is refused before reading.
    const bigBinary = Buffer.alloc(3 << 20, 0x61);
    bigBinary.write('LMPNGRAM', 0, 'latin1');
    const big = file('big.ngram', bigBinary);
    await assert.rejects(
      loadNgramFile(big, 'x', { maxBytes: 2 << 20 }),
      (e: Error) => e instanceof ModelFormatError && /big\.ngram: file is 3 MiB, above the 2 MiB limit/.test(e.message),
    );
    // ARPA text is not kept, so its length is not capped: the model its header declares is.
    const arpa = arpaText(smallModel());
    const preamble = `#${'-'.repeat(998)}\n`.repeat(3000);
    const padded = file('padded.arpa', preamble + arpa);
    assert.ok(fs.statSync(padded).size > 2 << 20);
    assert.strictEqual((await loadNgramFile(padded, 'x', { maxBytes: 2 << 20 })).vocabSize, smallModel().vocab.size);
    const declared = file('declared.arpa', preamble + arpa.replace(/ngram 3=\d+/, 'ngram 3=200000'));
    await assert.rejects(
      loadNgramFile(declared, 'x', { maxBytes: 1 << 20 }),
      (e: Error) =>
        e instanceof ModelFormatError && /declared\.arpa:3005: the header declares \d+ n-grams, a model of 1\.\d MiB, above the 1 MiB limit/.test(e.message),
    );
  });

  /** Chunks of `source`, counting the bytes the consumer pulled. */
  async function* counted(source: AsyncIterable<Uint8Array>, seen: { bytes: number }): AsyncGenerator<Uint8Array> {
    for await (const c of source) {
      seen.bytes += c.length;
      yield c;
    }
  }
  const gather = async (chunks: AsyncIterable<Uint8Array>) => {
    const parts: Uint8Array[] = [];
    for await (const c of chunks) parts.push(c);
    return Buffer.concat(parts);
  };

  it('the browser engine (DecompressionStream) stops a gzip bomb at its cap too, and passes good data through', async () => {
    const gz = bomb(new Uint8Array(0), 64);
    await assert.rejects(
      gather(modelBytesChunks(gz, 'page.ngram.gz', 1 << 20)),
      (e: Error) => e instanceof ModelFormatError && e.message.startsWith('page.ngram.gz: decompresses to more than 1 MiB'),
    );
    const text = Buffer.from('the mouse ate the cheese\n'.repeat(1000));
    assert.deepStrictEqual(await gather(modelBytesChunks(zlib.gzipSync(text), 'ok.gz', text.length)), text);
    assert.deepStrictEqual(await gather(modelBytesChunks(text, 'plain')), text);
  });

  it('the browser engine tells the format from the first chunk: zeros are not a model, long before the cap', async () => {
    const seen = { bytes: 0 };
    const gz = bomb(new Uint8Array(0), 16); // 256 MiB of zeros
    await assert.rejects(
      ngramFromChunks(counted(modelBytesChunks(gz, 'zeros.arpa.gz'), seen), 'zeros.arpa.gz', 'x', { maxBytes: 1 << 30 }),
      (e: Error) => e instanceof ModelFormatError && e.message.startsWith('zeros.arpa.gz: not a language model'),
    );
    assert.ok(seen.bytes < 4 << 20, `decompressed ${seen.bytes} bytes`);
    const good = writeNgramBinary(smallModel(), { name: 'x', tokenizer: 'whitespace' });
    const model = await ngramFromChunks(modelBytesChunks(zlib.gzipSync(good), 'ok.ngram.gz'), 'ok.ngram.gz', 'x', { maxBytes: 1 << 20 });
    assert.strictEqual(model.vocabSize, smallModel().vocab.size);
  });

  it('stops a binary as soon as its data passes the length its header declares (gzipped or not), allocating only that length', async () => {
    const prefix = writeNgramBinary(smallModel(2), { name: 'x', tokenizer: 'whitespace' }).slice(0, 64);
    new DataView(prefix.buffer).setUint32(16, 64, true);
    const gz = bomb(prefix, 16); // 256 MiB after a header declaring 64 bytes
    for (const source of [() => modelBytesChunks(gz, 'under.ngram.gz'), () => modelFileChunks(file('under.ngram.gz', gz), 1 << 30)]) {
      const seen = { bytes: 0 };
      await assert.rejects(
        ngramFromChunks(counted(source(), seen), 'under.ngram.gz', 'x', { maxBytes: 1 << 30 }),
        (e: Error) => e instanceof ModelFormatError && e.message === 'under.ngram.gz: file has more bytes than the 64 its header declares',
      );
      assert.ok(seen.bytes < 4 << 20, `decompressed ${seen.bytes} bytes`);
    }
    // Uncompressed: the file's size is compared with the declared length before reading on.
    const sparse = path.join(dir, 'under.ngram');
    fs.writeFileSync(sparse, prefix);
    fs.truncateSync(sparse, 256 << 20);
    const seen = { bytes: 0 };
    await assert.rejects(
      ngramFromChunks(counted(modelFileChunks(sparse, 1 << 30), seen), sparse, 'x', { maxBytes: 1 << 30, size: 256 << 20 }),
      (e: Error) => e instanceof ModelFormatError && e.message === `${sparse}: file has ${(256 << 20) - 64} bytes more than the 64 its header declares`,
    );
    assert.ok(seen.bytes <= 2 << 20, `read ${seen.bytes} bytes`);
    await assert.rejects(loadNgramFile(sparse, 'x'), (e: Error) => e instanceof ModelFormatError && e.message.includes('more than the 64 its header declares'));
    // A declared length above the cap is refused before allocating it.
    new DataView(prefix.buffer).setUint32(16, 0xffff_fff0, true);
    await assert.rejects(
      ngramFromChunks(modelBytesChunks(zlib.gzipSync(prefix), 'big.ngram.gz'), 'big.ngram.gz', 'x', { maxBytes: 1 << 20 }),
      (e: Error) => e instanceof ModelFormatError && e.message === 'big.ngram.gz: its header declares 4 GiB, above the 1 MiB limit for model data',
    );
  });

  it('reads a gzipped ARPA file whose name lacks .gz (the cap is on what it decompresses to, not its size)', async () => {
    const arpa = arpaText(smallModel());
    const p = file('plain-name.arpa', zlib.gzipSync(Buffer.from(arpa)));
    assert.strictEqual((await loadNgramFile(p, 'x')).vocabSize, smallModel().vocab.size);
  });

  it('refuses a FIFO or a device as "not a regular file", without blocking on it', async () => {
    const fifo = path.join(dir, 'fifo.arpa');
    execFileSync('mkfifo', [fifo]);
    for (const p of [fifo, '/dev/zero', '/dev/urandom']) {
      await assert.rejects(
        loadNgramFile(p, 'x'),
        (e: Error) => e instanceof ModelFormatError && e.message === `${p}: not a regular file (a device, a FIFO or a socket cannot be a model)`,
      );
    }
  });

  it('names the file of a truncated or corrupt gzip stream', async () => {
    const arpa = arpaText(smallModel());
    const gz = zlib.gzipSync(Buffer.from(arpa));
    assert.strictEqual((await loadNgramFile(file('ok.arpa.gz', gz), 'x')).vocabSize, smallModel().vocab.size);
    for (const cut of [10, gz.length >> 1, gz.length - 4]) {
      const p = file(`cut${cut}.arpa.gz`, gz.subarray(0, cut));
      await assert.rejects(
        loadNgramFile(p, 'x'),
        (e: Error) => e instanceof ModelFormatError && e.message.startsWith(`${p}: corrupt gzip data`),
        `cut at ${cut}`,
      );
    }
    const flipped = Buffer.from(gz);
    flipped[gz.length - 6] ^= 0xff; // the CRC-32 of the content
    const p = file('crc.arpa.gz', flipped);
    await assert.rejects(loadNgramFile(p, 'x'), (e: Error) => e instanceof ModelFormatError && e.message.startsWith(`${p}: corrupt gzip data`));
  });

  it('reports a file it cannot read as such (a folder, a missing file)', async () => {
    await assert.rejects(loadNgramFile(dir, 'x'), (e: Error) => e instanceof LmError && /is a folder|EISDIR/.test(e.message) && e.message.includes(dir));
    await assert.rejects(loadNgramFile(path.join(dir, 'none.arpa'), 'x'), (e: Error) => e instanceof LmError && /none\.arpa: no such file/.test(e.message));
  });
});

describe('fault injection: ARPA text', () => {
  const arpa = arpaText(smallModel());
  const arpaError = (text: string | Uint8Array): ModelFormatError =>
    expectModelError(() => (typeof text === 'string' ? readArpa(text, 'm.arpa') : readArpaBytes(text, 'm.arpa')), 'm.arpa', 'ARPA');

  it('refuses Latin-1 (not UTF-8) text, naming the line, where it used to read U+FFFD', () => {
    const lines = arpa.replace(/\bcat\b/g, 'caf\u00e9').split('\n');
    const at = lines.findIndex((l) => l.includes('caf\u00e9'));
    const latin1 = Buffer.from(lines.join('\n'), 'latin1');
    const e = arpaError(latin1);
    assert.strictEqual(e.line, at + 1);
    assert.match(e.message, /not UTF-8/);
    // The same text in UTF-8 reads, also pushed one byte at a time (characters split across chunks).
    const utf8 = new TextEncoder().encode(lines.join('\n'));
    const reader = new ArpaReader('m.arpa');
    for (let i = 0; i < utf8.length; i++) reader.push(utf8.subarray(i, i + 1));
    assert.ok(reader.end().vocab.id('caf\u00e9') !== undefined);
  });

  it('names the line of counts that disagree, bad numbers, orders out of range and impossible counts', () => {
    const cases: [string, RegExp][] = [
      [arpa.replace(/ngram 2=(\d+)/, (_, c) => `ngram 2=${Number(c) - 1}`), /the header says \d+ 2-grams, the section has more/],
      [arpa.replace(/ngram 2=(\d+)/, (_, c) => `ngram 2=${Number(c) + 1}`), /the header says \d+ 2-grams, the section has \d+$/],
      [arpa.replace(/\n-[\d.]+\tcat\t/, '\n-inf\tcat\t'), /bad log-probability "-inf"/],
      [arpa.replace(/\n-[\d.]+\tcat\t/, '\nnan\tcat\t'), /bad log-probability "nan"/],
      [arpa.replace(/\n-[\d.]+\tcat\t/, '\n-1e400\tcat\t'), /bad log-probability "-1e400"/],
      [arpa.replace(/\n-[\d.]+\tcat\t-?[\d.]+/, '\n-1\tcat\t1e39'), /bad backoff "1e39"/],
      [arpa.replace('ngram 1=', 'ngram 0='), /expected the count of 1-grams, got 0-grams/],
      [arpa.replace(/ngram 3=\d+/, '$&\nngram 7=1'), /expected the count of 4-grams, got 7-grams/],
      [arpa.replace(/ngram 3=\d+/, '$&\nngram 4=1\nngram 5=1\nngram 6=1\nngram 7=1'), /order 7 is above the supported maximum 6/],
      [arpa.replace(/ngram 1=\d+/, 'ngram 1=99999999999999'), /more than this reader supports/],
      [arpa.replace(/ngram 1=\d+/, `ngram 1=${MAX_VOCABULARY + 1}`), /1-grams are more than this reader supports \(16000000\)/],
    ];
    for (const [text, message] of cases) {
      const e = arpaError(text);
      assert.match(e.message, message);
      assert.ok(e.line !== undefined && e.line > 0);
    }
    // Declared counts that the file's bytes cannot hold: refused at the header line.
    const e = arpaError(new TextEncoder().encode(arpa.replace(/ngram 2=\d+/, 'ngram 2=1000000000')));
    assert.strictEqual(e.line, 5);
    assert.match(e.message, /declares \d+ n-grams, more than \d+ bytes of text can hold/);
  });

  it('refuses an absurd backoff weight, and never gives a probability above 1 from backoffs that do not fit', () => {
    const huge = arpaError(arpa.replace(/\n(-[\d.]+)\tcat\t-?[\d.]+/, '\n$1\tcat\t3e38'));
    assert.match(huge.message, /backoff 3e\+38 is above 10, the largest log10 backoff weight accepted$/);
    assert.ok(huge.line !== undefined && huge.line > 0);
    // A legal but inconsistent weight: log10 backoff 5 after "cat" lifts some unigram above 1.
    const model = readArpa(arpa.replace(/\n(-[\d.]+)\tcat\t-?[\d.]+/, '\n$1\tcat\t5'), 'lifted.arpa');
    const cat = model.vocab.id('cat')!;
    const out = new Float64Array(model.vocab.size);
    assert.throws(
      () => model.distribution10([cat], out),
      (e: Error) => e instanceof ModelFormatError && /^lifted\.arpa: inconsistent backoff weights/.test(e.message),
    );
    const lifted = [...Array(model.vocab.size).keys()].find((w) => model.find([cat, w], 0, 2) < 0 && model.orders[0].logProb[w] > -5)!;
    assert.throws(
      () => model.logProb10([cat], lifted),
      (e: Error) => e instanceof ModelFormatError && /^lifted\.arpa: inconsistent backoff weights/.test(e.message),
    );
    // The binary format: the same bound at load.
    const good = smallModel();
    good.orders[0].backoff![good.vocab.id('cat')!] = 3e38;
    expectModelError(() => readNgramBinary(writeNgramBinary(good, { name: 'x', tokenizer: 'whitespace' }), 'huge.ngram'), 'huge.ngram', 'backoff');
  });

  it('stops at a repeated n-gram line as it arrives, not after storing the whole section', () => {
    const head = '\\data\\\nngram 1=5\nngram 2=200000\n\n\\1-grams:\n-1\t<unk>\t0\n-1\t<s>\t0\n-1\t</s>\n-1\ta\t0\n-1\tb\n\n\\2-grams:\n';
    const bytes = new TextEncoder().encode(head + '-1\ta b\n'.repeat(200000) + '\n\\end\\\n');
    const reader = new ArpaReader('dup.arpa', { maxBytes: 1 << 30 });
    let pushed = 0;
    const e = (() => {
      try {
        for (let at = 0; at < bytes.length; at += 16 << 10) {
          const chunk = bytes.subarray(at, at + (16 << 10));
          pushed += chunk.length;
          reader.push(chunk);
        }
        reader.end();
      } catch (err) {
        return err as ModelFormatError;
      }
      return undefined;
    })();
    assert.ok(e instanceof ModelFormatError, 'an error');
    assert.strictEqual(e.message, 'dup.arpa:14: duplicate 2-gram (also on line 13)');
    assert.ok(pushed <= 16 << 10, `read ${pushed} of ${bytes.length} bytes`);
  });

  it('gives up early on text that is not ARPA: an endless preamble, an endless line', () => {
    const preamble = new TextEncoder().encode('words, words\n'.repeat(MAX_ARPA_PREAMBLE_LINES + 5) + arpa);
    assert.strictEqual(arpaError(preamble).line, MAX_ARPA_PREAMBLE_LINES);
    const long = new Uint8Array(MAX_ARPA_LINE_BYTES + 10).fill(0x61);
    assert.match(arpaError(long).message, /^m\.arpa:1: the line is longer than/);
  });

  it('reads a byte order mark, CRLF line ends and sections without blank lines between them', () => {
    const text = '\uFEFF' + arpa.replace(/\n\n(\\[23]-grams:|\\end\\)/g, '\n$1').replace(/\n/g, '\r\n');
    assert.strictEqual(readArpaBytes(new TextEncoder().encode(text), 'm.arpa').counts.join(), smallModel().counts.join());
  });
});

describe('fault injection: neural model folders', function () {
  this.timeout(120000);
  let dir: string;
  let n = 0;
  /** A copy of gpt-classics' JSON files beside a link to its graph, with `edit` applied to config.json. */
  const folder = (edit: (config: Record<string, unknown>) => unknown, files: Record<string, string | Buffer> = {}) => {
    const d = path.join(dir, `m${n++}`);
    fs.mkdirSync(d);
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(NEURAL_DIR, f), path.join(d, f));
    fs.symlinkSync(path.join(NEURAL_DIR, 'onnx'), path.join(d, 'onnx'));
    const config = JSON.parse(fs.readFileSync(path.join(NEURAL_DIR, 'config.json'), 'utf8'));
    fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify(edit(config)));
    for (const [f, content] of Object.entries(files)) fs.writeFileSync(path.join(d, f), content);
    return d;
  };
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-neural-faults-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const rejects = (d: string, file: string, message: RegExp) =>
    assert.rejects(loadHuggingFaceFolder(d, 'x', { dtype: { setting: 'quantized' } }), (e: Error) => {
      assert.ok(e instanceof ModelFormatError, `expected a ModelFormatError, got ${e.stack}`);
      assert.ok(e.message.startsWith(`${path.join(d, file)}: `), e.message);
      assert.match(e.message, message);
      return true;
    });

  it('checks the layer count of config.json against the graph', async () => {
    await rejects(
      folder((c) => ({ ...c, n_layer: 5 })),
      'config.json',
      /n_layer \/ num_hidden_layers is 5 but the graph .* has 4 layers/,
    );
    await rejects(
      folder((c) => ({ ...c, n_layer: 3 })),
      'config.json',
      /is 3 but the graph .* has 4 layers/,
    );
    await rejects(
      folder((c) => ({ ...c, n_layer: 1e8 })),
      'config.json',
      /n_layer 100000000 is out of range \(1 to 1024/,
    );
  });

  it("probes the last position: n_positions larger than the graph's position table is refused at load", async () => {
    const real = JSON.parse(fs.readFileSync(path.join(NEURAL_DIR, 'config.json'), 'utf8')).n_positions as number;
    await rejects(
      folder((c) => ({ ...c, n_positions: real + 1, n_ctx: real + 1 })),
      'config.json',
      new RegExp(`n_positions ${real + 1} is larger than the graph's position table`),
    );
  });

  it('refuses sizes out of range, naming the field', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ n_positions: 1 }, /n_positions 1 is out of range \(2 to .*a window needs 2 tokens/],
      [{ n_positions: 0.5 }, /n_positions must be an integer, got 0\.5/],
      [{ vocab_size: '4096' }, /vocab_size must be an integer, got "4096"/],
      [{ vocab_size: 1e12 }, /vocab_size 1000000000000 is out of range/],
      [{ n_head: 7 }, /hidden size 256 is not a multiple of the 7 attention heads/],
      [{ num_key_value_heads: 3 }, /num_key_value_heads 3 does not divide the 8 attention heads/],
      [{ bos_token_id: 4096 }, /bos_token_id 4096 is out of range \(0 to 4095: a token of the vocabulary\)/],
      [{ eos_token_id: -1 }, /eos_token_id -1 is out of range/],
      [{ n_embd: undefined }, /missing n_embd \/ hidden_size \/ d_model/],
    ];
    for (const [edit, message] of cases)
      await rejects(
        folder((c) => ({ ...c, ...edit })),
        'config.json',
        message,
      );
    await rejects(
      folder(() => [1, 2]),
      'config.json',
      /not a JSON object/,
    );
  });

  it('reads config.json and tokenizer.json up to a cap, and says what is wrong with them', async () => {
    await rejects(
      folder((c) => c, { 'config.json': `{${' '.repeat(MAX_CONFIG_JSON_BYTES)}}` }),
      'config.json',
      /larger than 1 MiB, the limit for this file/,
    );
    await rejects(
      folder((c) => c, { 'tokenizer.json': 'this is not JSON' }),
      'tokenizer.json',
      /not valid JSON/,
    );
    await rejects(
      folder((c) => c, { 'tokenizer.json': Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x7d]) }),
      'tokenizer.json',
      /not UTF-8/,
    );
    await rejects(
      folder((c) => c, { 'tokenizer.json': '{"model": 1}' }),
      'tokenizer.json',
      /cannot build the tokenizer/,
    );
  });

  it('checks the token ids of tokenizer.json against the graph, and that it covers the text it is given', async () => {
    const tok = JSON.parse(fs.readFileSync(path.join(NEURAL_DIR, 'tokenizer.json'), 'utf8'));
    const V = JSON.parse(fs.readFileSync(path.join(NEURAL_DIR, 'config.json'), 'utf8')).vocab_size as number;
    const edited = (edit: (t: typeof tok) => void) => {
      const t = structuredClone(tok);
      edit(t);
      return folder((c) => c, { 'tokenizer.json': JSON.stringify(t) });
    };
    const shifted = edited((t) => {
      t.model.vocab[Object.keys(t.model.vocab)[0]] = V + 10;
    });
    await rejects(
      shifted,
      'tokenizer.json',
      new RegExp(`has id ${V + 10}, outside the graph's vocabulary \\(0 to ${V - 1}\\)|the tokenizer has \\d+ tokens but the model only ${V}`),
    );
    const negative = edited((t) =>
      t.added_tokens.push({ id: -5, content: '<neg>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }),
    );
    await rejects(negative, 'tokenizer.json', /"<neg>" has id -5, outside the graph's vocabulary/);
    const small = edited((t) => {
      t.model.vocab = Object.fromEntries(Object.entries(t.model.vocab as Record<string, number>).filter(([, id]) => id < 100));
      t.model.merges = [];
    });
    await rejects(small, 'tokenizer.json', /does not cover printable ASCII/);
    const broken = edited((t) => (t.model.merges = [1, 2, 3]));
    await rejects(broken, 'tokenizer.json', /cannot build the tokenizer: a field of its "model" section/);
  });

  it('refuses a graph that is not a regular file (a link to /dev/zero would be read forever)', async () => {
    const d = folder((c) => c);
    fs.unlinkSync(path.join(d, 'onnx'));
    fs.mkdirSync(path.join(d, 'onnx'));
    fs.symlinkSync('/dev/zero', path.join(d, 'onnx', 'model.onnx'));
    await assert.rejects(
      loadHuggingFaceFolder(d, 'x'),
      (e: Error) => e instanceof ModelFormatError && e.message === `${path.join(d, 'onnx', 'model.onnx')}: not a regular file`,
    );
  });

  it('a model with n_positions 2 scores with a positive stride (every token gets a probability)', async () => {
    const lm = await loadHuggingFaceFolder(
      folder((c) => ({ ...c, n_positions: 2, n_ctx: 2 })),
      'x',
      { dtype: { setting: 'quantized' } },
    );
    try {
      const ids = lm.tokenizer.encode('It was the best of times, it was the worst of times.', true).map((t) => t.id);
      const lp = await lm.sequenceLogProbs(ids, 1);
      assert.strictEqual(lp.length, ids.length - 1);
      assert.ok(lp.every((x) => x < 0 && Number.isFinite(x)));
    } finally {
      lm.dispose();
    }
  });
});
