/**
 * The project's compact n-gram file: a small JSON header followed by the trie's typed arrays,
 * 4-byte aligned and little-endian, so that loading is a few views over one buffer.
 *   version 3: as version 2, and an array's record may give a `layout` (see arrayLayout.ts):
 *   byte planes, which gzip compresses about a fifth smaller, at the cost of one decoding pass on
 *   load. The writer uses them only when asked (for files that will be gzipped, which a reader
 *   cannot view in place anyway); files without them are written as version 2, which older
 *   builds read too.
 *   version 2: bytes 0..7 "LMPNGRAM"; 8..11 format version; 12..15 header length H; 16..19 file
 *   length L; 20.. header JSON; arrays; the last 4 bytes are the XXH32 of everything before them.
 *   version 1 (still read): 16.. header JSON right after H, no file length, no checksum.
 * A file is untrusted: the checksum is verified before anything is parsed, every header field and
 * array is checked against the bytes present before anything is allocated, and the trie's links
 * are checked (after decoding) before any query can follow them. The one exception is a file the
 * extension ships (NgramReadOptions.trustedChecksum): its trie's checks ran in a unit test on the
 * very bytes whose checksum the build recorded.
 */
import { Xxh32 } from '../checksum';
import { ModelFormatError } from '../errors';
import type { PretokenizerKind } from '../tokenizers/pretokenizers';
import { BOS, EOS, UNK } from '../tokenizers/pretokenizers';
import { CompactCounts } from './compactCounts';
import { ARRAY_LAYOUTS, decodeArray, encodeArray, type ArrayLayout } from './arrayLayout';
import { MAX_ORDER } from './kneserNey';
import { MAX_LOG10_BACKOFF, NgramModel, NgramOrder, type OrderDiscounts } from './ngramModel';
import { Vocabulary } from './vocabulary';

const MAGIC = 'LMPNGRAM';
/** The newest version read and written. */
export const NGRAM_FORMAT_VERSION = 3;
/** The version of files whose arrays are all plain. */
const PLAIN_FORMAT_VERSION = 2;
/** Bytes before the header JSON, per format version. */
const FIXED_HEADER: Record<number, number> = { 1: 16, 2: 20, 3: 20 };
const CHECKSUM_BYTES = 4;
const TOKENIZERS: readonly PretokenizerKind[] = ['editor', 'whitespace'];
/** Entries are u32 indices and childStart holds counts: a count must fit below 2^32. */
const MAX_COUNT = 0xffff_fffe;

export interface NgramFileMetadata {
  name: string;
  tokenizer: PretokenizerKind;
  /** Free-form facts (training command, corpus, ...). */
  [key: string]: unknown;
}

type Field = 'words' | 'logProb' | 'backoff' | 'childStart' | 'counts';

interface ArrayRecord {
  order: number;
  field: Field;
  type: 'u32' | 'f32';
  length: number;
  offset: number;
  /** Format 3 and later; plain when absent. */
  layout?: ArrayLayout;
}

interface Header {
  metadata: NgramFileMetadata;
  vocabulary: string[];
  counts: number[];
  arrays: ArrayRecord[];
  /** With every order's `counts` array (a model trained with its counts kept): the discounts per order. */
  discounts?: OrderDiscounts[];
}

const FIELD_TYPE: Record<Field, 'u32' | 'f32'> = { words: 'u32', logProb: 'f32', backoff: 'f32', childStart: 'u32', counts: 'u32' };

/**
 * Each field's layout in a file with planes, the smallest once gzipped on the embedded model
 * (gzip -9 of the arrays, MB): childStart in delta-planes (plain 1.96, planes 0.40, delta-planes
 * 0.27), words and logProb in planes (words 4.53 / 3.68, logProb 8.98 / 8.35); backoff stays
 * plain (0.31, planes 0.61): its values repeat exactly, whole 4-byte values that gzip matches.
 */
const PLANES_LAYOUT: Record<Field, ArrayLayout> = { words: 'planes', logProb: 'planes', backoff: 'plain', childStart: 'delta-planes', counts: 'planes' };

export interface NgramWriteOptions {
  /**
   * Store the arrays in byte planes (format 3): about a fifth smaller once gzipped, but a reader
   * decodes every element instead of viewing the file's bytes. For files that will be gzipped.
   */
  planes?: boolean;
}

export function isNgramBinary(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false;
  for (let i = 0; i < 8; i++) if (bytes[i] !== MAGIC.charCodeAt(i)) return false;
  return true;
}

/**
 * The total length a file's fixed header declares (format 2 and later), read from its first 20
 * bytes; undefined for format 1 (no declared length), an unknown version or fewer bytes.
 */
export function declaredNgramLength(head: Uint8Array): number | undefined {
  if (!isNgramBinary(head) || head.length < FIXED_HEADER[2]) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const version = view.getUint32(8, true);
  return version >= 2 && FIXED_HEADER[version] !== undefined ? view.getUint32(16, true) : undefined;
}

/** The whole file in one buffer (for small models and tests; ngramBinaryChunks writes a big one in parts). */
export function writeNgramBinary(model: NgramModel, metadata: NgramFileMetadata, options: NgramWriteOptions = {}): Uint8Array {
  const parts = [...ngramBinaryChunks(model, metadata, options)];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The file in parts: the fixed header and header JSON, each array (a view of the model's own
 * array when plain), and the checksum, computed as the parts go by: a big model is written
 * without a second copy of it in memory.
 */
export function* ngramBinaryChunks(model: NgramModel, metadata: NgramFileMetadata, options: NgramWriteOptions = {}): Generator<Uint8Array> {
  const version = options.planes ? NGRAM_FORMAT_VERSION : PLAIN_FORMAT_VERSION;
  const records: ArrayRecord[] = [];
  const arrays: (Uint32Array | Float32Array)[] = [];
  let offset = 0;
  model.orders.forEach((o, k) => {
    const add = (field: Field, arr: Uint32Array | Float32Array | undefined) => {
      if (!arr) return;
      const record: ArrayRecord = { order: k + 1, field, type: FIELD_TYPE[field], length: arr.length, offset };
      if (options.planes) record.layout = PLANES_LAYOUT[field];
      records.push(record);
      arrays.push(arr);
      offset += arr.byteLength;
    };
    if (k > 0) add('words', o.words); // unigram words are the identity
    add('logProb', o.logProb);
    add('backoff', o.backoff);
    add('childStart', o.childStart);
    if (model.discounts) add('counts', o.counts?.toUint32());
  });
  const header: Header = { metadata, vocabulary: model.vocab.allWords().slice(), counts: model.counts, arrays: records };
  if (model.discounts) header.discounts = model.discounts;
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const fixed = FIXED_HEADER[version];
  const dataStart = fixed + ((headerBytes.length + 3) & ~3);
  const total = dataStart + offset + CHECKSUM_BYTES;
  const head = new Uint8Array(dataStart);
  head.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(head.buffer);
  view.setUint32(8, version, true);
  view.setUint32(12, headerBytes.length, true);
  view.setUint32(16, total, true);
  head.set(headerBytes, fixed);
  const checksum = new Xxh32();
  const emit = (bytes: Uint8Array) => {
    checksum.update(bytes);
    return bytes;
  };
  yield emit(head);
  for (let i = 0; i < arrays.length; i++) yield emit(encodeArray(arrays[i], records[i].layout ?? 'plain'));
  const tail = new Uint8Array(CHECKSUM_BYTES);
  new DataView(tail.buffer).setUint32(0, checksum.digest(), true);
  yield tail;
}

type ReadResult = {
  model: NgramModel;
  metadata: NgramFileMetadata;
  /** The file's checksum, verified (format 2 and later): what a later load of the unchanged file may pass as `verifiedChecksum`. */
  checksum?: number;
};

export interface NgramReadOptions {
  /**
   * The XXH32 recorded, when the package was built, for a file shipped with the extension (the
   * embedded model), whose trie a unit test checks in full on exactly those bytes: a file whose
   * computed checksum equals it skips the trie's checks (its links and values), which are
   * redone on every load of any other file. Given only by the Node loader, for files in the
   * extension's own folder (as trusted as its code).
   */
  trustedChecksum?: number;
  /**
   * The caller gives the buffer away: arrays stored in byte planes are decoded into the file's
   * own bytes (through one scratch buffer of the largest array) instead of a new buffer of the
   * whole data, and plain arrays are viewed in place; the model then keeps the buffer.
   */
  decodeInPlace?: boolean;
  /**
   * The checksum that an earlier load of this very file computed and found right, given by a
   * caller that knows the file unchanged since (the Node loader: same device, inode, size,
   * modification and change times, before and after the read). When the checksum the file
   * stores equals it, it is not computed again; anything else is verified in full.
   */
  verifiedChecksum?: number;
}

export function readNgramBinary(bytes: Uint8Array, fileName = 'n-gram model', options: NgramReadOptions = {}): ReadResult {
  const steps = readSteps(bytes, fileName, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * readNgramBinary in slices of a few milliseconds (the checksum a few MiB at a time, each array,
 * each order's checks), with `pause` between them: on the extension host's thread, its event loop
 * runs between slices instead of waiting for the whole load.
 */
export async function readNgramBinaryInSlices(
  bytes: Uint8Array,
  fileName: string,
  pause: () => Promise<void>,
  options: NgramReadOptions = {},
): Promise<ReadResult> {
  const steps = readSteps(bytes, fileName, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await pause();
  }
}

/** Bytes of checksum between two slices. */
const CHECKSUM_SLICE = 4 << 20;

/** The reading of a file, yielding between slices of work. */
function* readSteps(bytes: Uint8Array, fileName: string, options: NgramReadOptions): Generator<void, ReadResult> {
  const fail = (msg: string): never => {
    throw new ModelFormatError(msg, fileName);
  };
  if (!isNgramBinary(bytes)) fail('not an LM Playground n-gram file (bad magic bytes)');
  if (bytes.length < 16) fail(`file is truncated (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  const fixed = FIXED_HEADER[version];
  if (fixed === undefined) {
    fail(
      `unsupported format version ${version} (this build reads versions 1 to ${NGRAM_FORMAT_VERSION}): retrain the model with this version of LM Playground, or update LM Playground`,
    );
  }
  let contentEnd = bytes.length;
  let trusted = false;
  let verified: number | undefined;
  if (version >= 2) {
    if (bytes.length < fixed + CHECKSUM_BYTES) fail(`file is truncated (${bytes.length} bytes)`);
    const declared = view.getUint32(16, true);
    if (bytes.length < declared) fail(`file is truncated: ${bytes.length} bytes of ${declared}`);
    if (bytes.length > declared) fail(`file has ${bytes.length - declared} bytes more than the ${declared} its header declares`);
    contentEnd = bytes.length - CHECKSUM_BYTES;
    const stored = view.getUint32(contentEnd, true);
    if (stored !== options.verifiedChecksum) {
      const checksum = new Xxh32();
      for (let at = 0; at < contentEnd; at += CHECKSUM_SLICE) {
        checksum.update(bytes.subarray(at, Math.min(at + CHECKSUM_SLICE, contentEnd)));
        yield;
      }
      if (checksum.digest() !== stored) {
        fail('the file is damaged: its checksum does not match its content (a changed or lost byte); copy it again or retrain the model');
      }
    }
    verified = stored;
    trusted = stored === options.trustedChecksum;
  }
  const headerLength = view.getUint32(12, true);
  if (fixed + headerLength > contentEnd) fail('file is truncated (header)');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(fixed, fixed + headerLength)));
  } catch {
    return fail('the header is not valid JSON');
  }
  const dataStart = fixed + ((headerLength + 3) & ~3);
  if (dataStart > contentEnd) fail('file is truncated (header)');
  const h = checkHeader(header, contentEnd - dataStart, version, fail);
  yield;
  let data: Uint8Array;
  let base: number;
  const aligned = (bytes.byteOffset + dataStart) % 4 === 0;
  if (h.arrays.every((r) => r.layout === undefined || r.layout === 'plain')) {
    // Typed-array views need 4-byte alignment; copy once if the buffer is not aligned.
    data = aligned ? bytes : bytes.slice();
    base = data.byteOffset + dataStart;
  } else if (options.decodeInPlace && aligned) {
    // Each array decodes to the bytes it is stored in: copied out to the scratch buffer first.
    data = bytes;
    base = bytes.byteOffset + dataStart;
    const scratch = new Uint8Array(4 * Math.max(...h.arrays.map((r) => (r.layout === undefined || r.layout === 'plain' ? 0 : r.length))));
    for (const r of h.arrays) {
      if (r.layout === undefined || r.layout === 'plain') continue;
      const at = dataStart + r.offset;
      const stored = scratch.subarray(0, 4 * r.length);
      stored.set(bytes.subarray(at, at + 4 * r.length));
      decodeArray(stored, r.layout, new Uint32Array(bytes.buffer, base + r.offset, r.length));
      yield;
    }
  } else {
    // Decoded into a buffer of their own, plain arrays copied, so that the model does not keep the file's bytes alive.
    data = new Uint8Array(contentEnd - dataStart);
    base = 0;
    for (const r of h.arrays) {
      const stored = bytes.subarray(dataStart + r.offset, dataStart + r.offset + 4 * r.length);
      decodeArray(stored, r.layout ?? 'plain', new Uint32Array(data.buffer, r.offset, r.length));
      yield;
    }
  }
  const orders: NgramOrder[] = h.counts.map((count) => ({ count, words: new Uint32Array(0), logProb: new Float32Array(0) }));
  for (const r of h.arrays) {
    const start = base + r.offset;
    const arr = r.type === 'f32' ? new Float32Array(data.buffer, start, r.length) : new Uint32Array(data.buffer, start, r.length);
    (orders[r.order - 1] as unknown as Record<string, unknown>)[r.field] = arr;
  }
  // A loop, not Uint32Array.from with a callback, which took 1.6 ms of each load for 41,038 words.
  const unigramWords = new Uint32Array(orders[0].count);
  for (let i = 0; i < unigramWords.length; i++) unigramWords[i] = i;
  orders[0].words = unigramWords;
  // Counts are read as u32 and kept a byte each.
  for (const o of orders) {
    const stored = o.counts as unknown as Uint32Array | undefined;
    if (stored) o.counts = new CompactCounts(stored);
  }
  if (!trusted) yield* checkTrie(orders, fail);
  let vocab: Vocabulary;
  try {
    vocab = Vocabulary.fromWords(h.vocabulary);
  } catch (e) {
    return fail((e as Error).message);
  }
  for (const special of [UNK, BOS, EOS]) if (vocab.id(special) === undefined) fail(`the vocabulary has no ${special}`);
  const model = new NgramModel(vocab, orders);
  model.source = fileName;
  if (h.discounts) model.discounts = h.discounts;
  return { model, metadata: h.metadata, checksum: verified };
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

/**
 * Every field of the header, and every array against the `dataBytes` present: nothing is
 * allocated from a count that the file cannot hold.
 */
function checkHeader(header: unknown, dataBytes: number, version: number, fail: (msg: string) => never): Header {
  if (!isObject(header)) return fail('the header is not a JSON object');
  const { metadata, vocabulary, counts, arrays } = header;
  if (!isObject(metadata) || typeof metadata.name !== 'string') return fail('the header has no metadata with a name');
  if (!TOKENIZERS.includes(metadata.tokenizer as PretokenizerKind))
    return fail(`unknown tokenizer ${JSON.stringify(metadata.tokenizer)} (expected ${TOKENIZERS.join(' or ')})`);
  if (!Array.isArray(vocabulary) || !vocabulary.every((w) => typeof w === 'string')) return fail('the header has no vocabulary (a list of strings)');
  if (!Array.isArray(counts) || counts.length < 1 || counts.length > MAX_ORDER) return fail(`the header needs 1 to ${MAX_ORDER} n-gram counts`);
  counts.forEach((c, k) => {
    if (!isCount(c) || c < 1 || c > MAX_COUNT) fail(`bad ${k + 1}-gram count ${JSON.stringify(c)}`);
  });
  if (counts[0] !== vocabulary.length) fail(`the header says ${counts[0]} unigrams but has a vocabulary of ${vocabulary.length}`);
  // Metadata the writers add, shown to users: a file must not claim another order than its counts.
  if (metadata.order !== undefined && metadata.order !== counts.length)
    fail(`the metadata says order ${JSON.stringify(metadata.order)} but the header has counts for ${counts.length}-grams`);
  if (metadata.trainingTokens !== undefined && !isCount(metadata.trainingTokens))
    fail(`the metadata's trainingTokens ${JSON.stringify(metadata.trainingTokens)} is not a count of tokens`);
  if (!Array.isArray(arrays)) return fail('the header has no list of arrays');
  const N = counts.length;
  const seen = new Set<string>();
  const spans: [number, number][] = [];
  for (const r of arrays as unknown[]) {
    if (!isObject(r)) return fail('an array record is not an object');
    const { order, field, type, length, offset, layout } = r;
    const what = `${String(order)}-gram ${String(field)}`;
    if (!Number.isInteger(order) || (order as number) < 1 || (order as number) > N)
      fail(`array record for an order ${JSON.stringify(order)} the model does not have`);
    if (typeof field !== 'string' || !Object.prototype.hasOwnProperty.call(FIELD_TYPE, field)) fail(`unknown array field ${JSON.stringify(field)}`);
    const k = order as number;
    const f = field as Field;
    if (type !== FIELD_TYPE[f]) fail(`${what} has type ${JSON.stringify(type)}, expected ${FIELD_TYPE[f]}`);
    if (layout !== undefined) {
      if (!ARRAY_LAYOUTS.includes(layout as ArrayLayout))
        fail(`${what} has an unknown layout ${JSON.stringify(layout)} (expected ${ARRAY_LAYOUTS.join(', ')})`);
      if (version < 3 && layout !== 'plain')
        fail(`${what} has the layout ${String(layout)}, which format version ${version} does not have (version 3 and later)`);
      if (layout === 'delta-planes' && type !== 'u32') fail(`${what} has the layout delta-planes, which only u32 arrays can have`);
    }
    if (seen.has(what)) fail(`${what} is listed twice`);
    seen.add(what);
    const count = counts[k - 1];
    const expected = f === 'childStart' ? count + 1 : count;
    const needed = f === 'words' ? k > 1 : f === 'logProb' || f === 'counts' ? true : k < N;
    if (!needed) fail(`${what} is not part of a ${N}-gram model`);
    if (length !== expected) fail(`${what} has ${JSON.stringify(length)} entries, the ${k}-gram count needs ${expected}`);
    if (!isCount(offset) || (offset as number) % 4 !== 0) fail(`${what} has a bad offset ${JSON.stringify(offset)}`);
    const end = (offset as number) + expected * 4;
    if (end > dataBytes) fail(`file is truncated (${what}: needs bytes up to ${end}, the data has ${dataBytes})`);
    spans.push([offset as number, end]);
  }
  for (let k = 1; k <= N; k++) {
    const need: Field[] = [...(k > 1 ? (['words'] as Field[]) : []), 'logProb', ...(k < N ? (['backoff', 'childStart'] as Field[]) : [])];
    for (const f of need) if (!seen.has(`${k}-gram ${f}`)) fail(`${k}-gram ${f} is missing`);
  }
  // Counts come with every order and the discounts they were estimated with, or not at all.
  const withCounts = Array.from({ length: N }, (_, k) => seen.has(`${k + 1}-gram counts`));
  const { discounts } = header;
  if (withCounts.some((c) => c) || discounts !== undefined) {
    const missing = withCounts.findIndex((c) => !c);
    if (missing >= 0) fail(`${missing + 1}-gram counts are missing (a model keeps the counts of every order or of none)`);
    if (!Array.isArray(discounts) || discounts.length !== N) return fail(`the header needs the discounts of each of the ${N} orders with the counts`);
    discounts.forEach((d: unknown, k: number) => {
      const ok = isObject(d) && [d.d1, d.d2, d.d3].every((x) => typeof x === 'number' && x >= 0 && x <= 3);
      if (!ok) fail(`bad ${k + 1}-gram discounts ${JSON.stringify(d)} (D1, D2, D3+ between 0 and 3)`);
    });
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) if (spans[i][0] < spans[i - 1][1]) fail('two arrays overlap');
  return header as unknown as Header;
}

/**
 * The trie's links and values, checked once so that no query can loop over a bogus range, read
 * outside an array or return NaN: child ranges ascend and end at the next order's count, words
 * are vocabulary ids sorted within each range, probabilities are finite and at most 1. One pass
 * over each order's values and one over its links: this runs over every n-gram on every load.
 */
function* checkTrie(orders: NgramOrder[], fail: (msg: string) => never): Generator<void> {
  const V = orders[0].count;
  for (let k = 0; k < orders.length; k++) {
    const o = orders[k];
    const bad = o.backoff ? firstBadValues(o.logProb, o.backoff) : firstBadLogProb(o.logProb);
    if (bad >= 0) {
      const p = o.logProb[bad];
      if (!(p <= 0 && p > -Infinity)) fail(`${k + 1}-gram entry ${bad} has a bad log-probability ${p}`);
      const b = o.backoff![bad];
      if (!(b - b === 0)) fail(`${k + 1}-gram entry ${bad} has a bad backoff ${b}`);
      fail(`${k + 1}-gram entry ${bad} has a backoff ${b} above ${MAX_LOG10_BACKOFF}, the largest log10 backoff weight accepted`);
    }
    yield;
    if (k === orders.length - 1) break;
    const cs = o.childStart!;
    const next = orders[k + 1];
    if (cs[0] !== 0 || cs[o.count] !== next.count) fail(`${k + 1}-gram links do not cover the ${k + 2}-grams`);
    // The fast check in straight passes; the slow one only to name what is wrong.
    const link = linksHold(cs, o.count, next.words, V) ? NO_BAD_LINK : firstBadLink(cs, o.count, next.words, V);
    if (link.range >= 0) fail(`${k + 1}-gram entry ${link.range} has a bad child range`);
    if (link.child >= 0) {
      const w = next.words[link.child];
      if (w >= V) fail(`${k + 2}-gram entry ${link.child} has a word id ${w} outside the vocabulary of ${V}`);
      fail(`${k + 2}-gram entry ${link.child} is out of order`);
    }
    yield;
  }
}

// Tight loops without closures.
function firstBadLogProb(a: Float32Array): number {
  // Written as a negation so that NaN fails too.
  for (let i = 0; i < a.length; i++) if (!(a[i] <= 0 && a[i] > -Infinity)) return i;
  return -1;
}

/** The first entry whose log-probability is not in (-∞, 0] or whose backoff is not in (-∞, MAX_LOG10_BACKOFF] (NaN fails both). */
function firstBadValues(logProb: Float32Array, backoff: Float32Array): number {
  for (let i = 0; i < logProb.length; i++) {
    const p = logProb[i];
    const b = backoff[i];
    if (!(p <= 0 && p > -Infinity && b <= MAX_LOG10_BACKOFF && b > -Infinity)) return i;
  }
  return -1;
}

const NO_BAD_LINK = { range: -1, child: -1 };

/**
 * Whether firstBadLink finds nothing (given cs[0] = 0 and cs[count] = words.length), in passes
 * without a loop per parent, whose short ranges (one or two children in the higher orders) cost a
 * mispredicted branch each: the ranges ascend; every word is in the vocabulary; and wherever a
 * word is not above the one before it, a range starts there (a bitmap of the starts).
 */
export function linksHold(cs: Uint32Array, count: number, words: Uint32Array, V: number): boolean {
  // The subtraction below needs ids below 2^30 (a vocabulary holds at most MAX_VOCABULARY).
  if (V > 1 << 30) return false;
  const n = words.length;
  const starts = new Int32Array((n >>> 5) + 1);
  for (let p = 0; p < count; p++) {
    const c = cs[p];
    if (cs[p + 1] < c) return false;
    starts[c >>> 5] |= 1 << (c & 31);
  }
  let bad = 0;
  let previous = -1;
  for (let c = 0; c < n; c++) {
    const w = words[c];
    if (w >= V) return false;
    // 1 when w <= previous and no range starts at c.
    bad |= ((w - previous - 1) >>> 31) & ~(starts[c >>> 5] >>> (c & 31));
    previous = w;
  }
  return bad === 0;
}

/**
 * The first parent whose range descends or passes the next order's end, or the first child (in
 * file order) whose word is outside the vocabulary or not above its elder sibling's. With cs[0] = 0
 * and cs[count] checked, ascending ranges tile the next order exactly: every child is visited once.
 */
function firstBadLink(cs: Uint32Array, count: number, words: Uint32Array, V: number): { range: number; child: number } {
  for (let p = 0; p < count; p++) {
    const end = cs[p + 1];
    let c = cs[p];
    if (end < c || end > words.length) return { range: p, child: -1 };
    let previous = -1;
    for (; c < end; c++) {
      const w = words[c];
      if (w >= V || w <= previous) return { range: -1, child: c };
      previous = w;
    }
  }
  return NO_BAD_LINK;
}
