/**
 * The project's compact n-gram file: a small JSON header followed by the trie's typed arrays,
 * 4-byte aligned and little-endian, so that loading is a few views over one buffer.
 *   bytes 0..7  "LMPNGRAM"; 8..11 format version; 12..15 header length H; 16.. header JSON; arrays.
 */
import { ModelFormatError } from '../errors';
import type { PretokenizerKind } from '../tokenizers/pretokenizers';
import { NgramModel, NgramOrder } from './ngramModel';
import { Vocabulary } from './vocabulary';

const MAGIC = 'LMPNGRAM';
const VERSION = 1;

export interface NgramFileMetadata {
  name: string;
  tokenizer: PretokenizerKind;
  /** Free-form facts (training command, corpus, ...). */
  [key: string]: unknown;
}

interface ArrayRecord {
  order: number;
  field: 'words' | 'logProb' | 'backoff' | 'childStart';
  type: 'u32' | 'f32';
  length: number;
  offset: number;
}

interface Header {
  metadata: NgramFileMetadata;
  vocabulary: string[];
  counts: number[];
  arrays: ArrayRecord[];
}

export function isNgramBinary(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && new TextDecoder().decode(bytes.subarray(0, 8)) === MAGIC;
}

export function writeNgramBinary(model: NgramModel, metadata: NgramFileMetadata): Uint8Array {
  const records: ArrayRecord[] = [];
  const payloads: ArrayBufferView[] = [];
  let offset = 0;
  model.orders.forEach((o, k) => {
    const add = (field: ArrayRecord['field'], arr: Uint32Array | Float32Array | undefined) => {
      if (!arr) return;
      records.push({ order: k + 1, field, type: arr instanceof Float32Array ? 'f32' : 'u32', length: arr.length, offset });
      payloads.push(arr);
      offset += arr.byteLength;
    };
    if (k > 0) add('words', o.words); // unigram words are the identity
    add('logProb', o.logProb);
    add('backoff', o.backoff);
    add('childStart', o.childStart);
  });
  const header: Header = { metadata, vocabulary: model.vocab.allWords().slice(), counts: model.counts, arrays: records };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const headerPadded = (headerBytes.length + 3) & ~3;
  const dataStart = 16 + headerPadded;
  const out = new Uint8Array(dataStart + offset);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, VERSION, true);
  view.setUint32(12, headerBytes.length, true);
  out.set(headerBytes, 16);
  let at = dataStart;
  for (const p of payloads) {
    out.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at);
    at += p.byteLength;
  }
  return out;
}

export function readNgramBinary(bytes: Uint8Array, fileName = 'n-gram model'): { model: NgramModel; metadata: NgramFileMetadata } {
  const fail = (msg: string): never => {
    throw new ModelFormatError(msg, fileName);
  };
  if (!isNgramBinary(bytes)) fail('not an LM Playground n-gram file (bad magic bytes)');
  if (bytes.length < 16) fail('file is truncated');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== VERSION) fail(`unsupported format version ${version} (this build reads version ${VERSION})`);
  const headerLength = view.getUint32(12, true);
  if (16 + headerLength > bytes.length) fail('file is truncated (header)');
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + headerLength)));
  } catch {
    return fail('the header is not valid JSON');
  }
  if (!Array.isArray(header.vocabulary) || !Array.isArray(header.counts) || !Array.isArray(header.arrays)) fail('the header lacks vocabulary, counts or arrays');
  const dataStart = 16 + ((headerLength + 3) & ~3);
  // Typed-array views need 4-byte alignment; copy once if the buffer is not aligned.
  let data = bytes;
  if ((bytes.byteOffset + dataStart) % 4 !== 0) data = bytes.slice();
  const N = header.counts.length;
  const orders: NgramOrder[] = header.counts.map((count) => ({ count, words: new Uint32Array(0), logProb: new Float32Array(0) }));
  for (const r of header.arrays) {
    const start = data.byteOffset + dataStart + r.offset;
    if (r.offset < 0 || dataStart + r.offset + r.length * 4 > data.length) fail(`file is truncated (${r.order}-gram ${r.field})`);
    const arr = r.type === 'f32' ? new Float32Array(data.buffer, start, r.length) : new Uint32Array(data.buffer, start, r.length);
    (orders[r.order - 1] as unknown as Record<string, unknown>)[r.field] = arr;
  }
  orders[0].words = Uint32Array.from({ length: orders[0].count }, (_, i) => i);
  for (let k = 0; k < N; k++) {
    const o = orders[k];
    if (o.logProb.length !== o.count || o.words.length !== o.count) fail(`${k + 1}-gram arrays do not match the counts`);
    if (k < N - 1 && (!o.childStart || o.childStart.length !== o.count + 1 || !o.backoff)) fail(`${k + 1}-gram links are missing`);
    if (k < N - 1 && o.childStart![o.count] !== orders[k + 1].count) fail(`${k + 1}-gram links do not match the ${k + 2}-grams`);
  }
  let vocab: Vocabulary;
  try {
    vocab = Vocabulary.fromWords(header.vocabulary);
  } catch (e) {
    return fail((e as Error).message);
  }
  return { model: new NgramModel(vocab, orders), metadata: header.metadata };
}
