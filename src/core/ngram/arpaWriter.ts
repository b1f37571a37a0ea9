/**
 * Writing a model as ARPA text (log10 values, tab-separated, as KenLM does) straight into bytes:
 * the words are encoded once, each context's words are spelt once for all the n-grams that extend it, and numbers are
 * printed digit by digit. No string per line or per n-gram is made, so a model of millions of
 * n-grams is written in a fraction of a second and any size can be written.
 */
import { EOS, UNK } from '../tokenizers/pretokenizers';
import type { NgramModel, NgramOrder } from './ngramModel';
import type { Vocabulary } from './vocabulary';

/** Bytes per chunk handed out: large enough that writing them costs little per call. */
const CHUNK_BYTES = 1 << 20;
/** Room for one number (sign, 7 digits, point, leading zeros, exponent) and separators. */
const NUMBER_ROOM = 32;

const TAB = 0x09;
const NEWLINE = 0x0a;
const SPACE = 0x20;

/** The vocabulary as the writer spells it: every word's UTF-8 bytes, one after the other. */
export interface ArpaWords {
  /** Word w is bytes[start[w] .. start[w+1]). */
  bytes: Uint8Array;
  start: Uint32Array;
  /** `</s>` and `<unk>` (-1 when absent): no backoff is written for them. */
  eos: number;
  unk: number;
}

export function arpaWords(vocab: Vocabulary): ArpaWords {
  const encoder = new TextEncoder();
  const words = vocab.allWords();
  const start = new Uint32Array(words.length + 1);
  // Room for the longest UTF-8 spelling (3 bytes per UTF-16 unit), trimmed once written.
  let room = 0;
  for (const w of words) room += 3 * w.length;
  const bytes = new Uint8Array(room);
  for (let w = 0; w < words.length; w++) start[w + 1] = start[w] + encoder.encodeInto(words[w], bytes.subarray(start[w])).written;
  return { bytes: bytes.slice(0, start[words.length]), start, eos: vocab.id(EOS) ?? -1, unk: vocab.id(UNK) ?? -1 };
}

/**
 * The model as ARPA text, in chunks of bytes (each chunk is a new array the caller may keep).
 * `sections` [from, to] writes only those orders' sections (the header with the first, the end
 * marker with the last), so that two threads can each write a part of one file.
 */
export function writeArpa(model: NgramModel, sections: [number, number] = [1, model.order]): Generator<Uint8Array> {
  return writeArpaSections(
    arpaWords(model.vocab),
    model.orders,
    model.orders.map((o) => o.count),
    sections,
  );
}

/**
 * Sections `from`..`to` of a model's ARPA text from its parts: `counts` of every order (the
 * header's), and `orders` 1..to, of which writing section k reads the words and child ranges of
 * orders 1..k-1 and the words, probabilities and backoffs of order k (a thread that has only
 * those can write it).
 */
export function* writeArpaSections(
  spelling: ArpaWords,
  orders: readonly NgramOrder[],
  counts: readonly number[],
  [from, to]: [number, number],
): Generator<Uint8Array> {
  const encoder = new TextEncoder();
  const { bytes: wordBytes, start: wordStart, eos, unk } = spelling;
  let longestWord = 0;
  for (let i = 1; i < wordStart.length; i++) longestWord = Math.max(longestWord, wordStart[i] - wordStart[i - 1]);

  const out = new ChunkWriter();
  const N = counts.length;
  if (from === 1) out.text(encoder, `\\data\\\n${counts.map((c, k) => `ngram ${k + 1}=${c}\n`).join('')}`);
  for (let k = from; k <= to; k++) {
    const o = orders[k - 1];
    out.text(encoder, `\n\\${k}-grams:\n`);
    const walk = new SectionWalk(orders, k, {
      words: o.words,
      logProb: o.logProb,
      backoff: k < N ? (o.backoff ?? new Float32Array(o.count)) : undefined,
      wordStart,
      wordBytes,
      eos,
      unk,
      lineRoom: 2 * NUMBER_ROOM + k * (longestWord + 1),
    });
    while (!walk.fill(out)) yield out.take();
  }
  if (to === N) out.text(encoder, '\n\\end\\\n');
  yield out.take();
}

/**
 * The lines of section k in index order, written a chunk at a time. The n-grams of order k in
 * index order are the children of the contexts of order k-1 in index order: a depth-first walk
 * down to each context spells its words once for all the n-grams that extend it. Its state lives
 * here between chunks, so that the loops run in plain methods (which V8 optimises better than a
 * generator's body).
 */
class SectionWalk {
  /** The words of the context being written (each followed by a space), and where each level's word starts in it. */
  private readonly prefix: Uint8Array;
  private readonly prefixEnd: Uint32Array;
  /** cursor[j] runs over the entries of order j+1 below the current context's ancestors, up to end[j]. */
  private readonly cursor: Uint32Array;
  private readonly end: Uint32Array;
  private depth = 0;
  /** The current context's lines still to write: next..stop-1. */
  private next = 0;
  private stop = 0;
  private contextEnd = 0;

  constructor(
    private readonly orders: readonly NgramOrder[],
    private readonly k: number,
    private readonly lines: Section,
  ) {
    this.prefix = new Uint8Array(lines.lineRoom);
    this.prefixEnd = new Uint32Array(k + 1);
    this.cursor = new Uint32Array(k);
    this.end = new Uint32Array(k);
    this.end[0] = k === 1 ? 1 : orders[0].count;
  }

  /** Writes lines until the chunk is full (false) or the section is written (true). */
  fill(out: ChunkWriter): boolean {
    const { orders, k, cursor, end, prefix, prefixEnd } = this;
    const { wordStart, wordBytes } = this.lines;
    const last = k - 2;
    let depth = this.depth;
    for (;;) {
      if (this.next < this.stop) {
        this.next = writeLines(out, this.lines, this.next, this.stop, prefix, this.contextEnd);
        if (this.next === this.stop) cursor[depth]++;
        if (out.pos >= CHUNK_BYTES) {
          this.depth = depth;
          return false;
        }
        continue;
      }
      if (depth < 0) return true;
      if (cursor[depth] === end[depth]) {
        depth--;
        if (depth >= 0) cursor[depth]++;
        continue;
      }
      if (k === 1) {
        this.next = 0;
        this.stop = orders[0].count;
        continue;
      }
      const node = cursor[depth];
      const level = orders[depth];
      const w = level.words[node];
      let pos = prefixEnd[depth];
      for (let b = wordStart[w], e = wordStart[w + 1]; b < e; b++) prefix[pos++] = wordBytes[b];
      prefix[pos++] = SPACE;
      prefixEnd[depth + 1] = pos;
      const cs = level.childStart!;
      if (depth < last) {
        cursor[depth + 1] = cs[node];
        end[depth + 1] = cs[node + 1];
        depth++;
        continue;
      }
      // A context: its lines next, or the next context if it has none.
      if (cs[node] === cs[node + 1]) cursor[depth]++;
      this.next = cs[node];
      this.stop = cs[node + 1];
      this.contextEnd = pos;
    }
  }
}

/** What writing one order's lines needs. */
interface Section {
  words: Uint32Array;
  logProb: Float32Array;
  /** Absent for the highest order, which has no backoff column. */
  backoff: Float32Array | undefined;
  wordStart: Uint32Array;
  wordBytes: Uint8Array;
  eos: number;
  unk: number;
  /** Bytes a line may take at most. */
  lineRoom: number;
}

/**
 * Writes the lines first..stop-1 of a section, each the context's bytes then its own word, until
 * the chunk is full; returns the next line.
 */
function writeLines(out: ChunkWriter, s: Section, first: number, stop: number, context: Uint8Array, contextEnd: number): number {
  const { words, logProb, backoff, wordStart, wordBytes, eos, unk, lineRoom } = s;
  let buf = out.room(lineRoom);
  let pos = out.pos;
  let i = first;
  while (i < stop && pos < CHUNK_BYTES) {
    if (pos + lineRoom > buf.length) {
      out.pos = pos;
      buf = out.room(lineRoom);
    }
    pos = writeNumber(buf, pos, logProb[i]);
    buf[pos++] = TAB;
    for (let b = 0; b < contextEnd; b++) buf[pos++] = context[b];
    const w = words[i];
    for (let b = wordStart[w], e = wordStart[w + 1]; b < e; b++) buf[pos++] = wordBytes[b];
    if (backoff && w !== eos && w !== unk) {
      buf[pos++] = TAB;
      pos = writeNumber(buf, pos, backoff[i]);
    }
    buf[pos++] = NEWLINE;
    i++;
  }
  out.pos = pos;
  return i;
}

/** The whole ARPA text of a (small) model as one string. */
export function arpaText(model: NgramModel): string {
  const decoder = new TextDecoder();
  let text = '';
  for (const chunk of writeArpa(model)) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

/** A buffer filled from the front and handed out whole. */
class ChunkWriter {
  buf = new Uint8Array(CHUNK_BYTES + 4096);
  pos = 0;

  /** The buffer, with at least `bytes` free after `pos`. */
  room(bytes: number): Uint8Array {
    if (this.pos + bytes > this.buf.length) {
      const bigger = new Uint8Array(this.pos + bytes + CHUNK_BYTES);
      bigger.set(this.buf.subarray(0, this.pos));
      this.buf = bigger;
    }
    return this.buf;
  }

  text(encoder: TextEncoder, s: string): void {
    const bytes = encoder.encode(s);
    this.room(bytes.length).set(bytes, this.pos);
    this.pos += bytes.length;
  }

  take(): Uint8Array {
    const chunk = this.buf.subarray(0, this.pos);
    this.buf = new Uint8Array(CHUNK_BYTES + 4096);
    this.pos = 0;
    return chunk;
  }
}

/** Powers of ten, exact in a double up to 10^22. */
const POW10 = new Float64Array(23).map((_, i) => 10 ** i);
/**
 * Writes x (a float32 log value) with 7 significant digits and no trailing zeros, as
 * `Number(x.toPrecision(7)).toString()` would, at buf[pos]; returns the position after it.
 * Magnitudes outside [1e-6, 1e15) (never seen in log10 probabilities) go through that string.
 * Runs for every probability and backoff of a model: the digits go straight to their places,
 * right to left, with no string and no second pass.
 */
export function writeNumber(buf: Uint8Array, pos: number, x: number): number {
  if (x === 0) {
    buf[pos] = 0x30;
    return pos + 1;
  }
  const a = x < 0 ? -x : x;
  if (!(a >= 1e-6 && a < 1e15)) return writeAscii(buf, pos, Number(x.toPrecision(7)).toString());
  // e = floor(log10 a), by comparisons (exact, unlike Math.log10 near powers of ten).
  let e = 0;
  if (a >= 1) {
    while (a >= POW10[e + 1]) e++;
  } else {
    e = -1;
    while (a * POW10[-e] < 1) e--;
  }
  const shift = 6 - e;
  let m = Math.round(shift >= 0 ? a * POW10[shift] : a / POW10[-shift]);
  if (m >= 1e7) {
    m = Math.round(m / 10);
    e++;
  }
  if (x < 0) buf[pos++] = 0x2d;
  // The 7 digits of m without its trailing zeros: `digits` of them, the last in q's units.
  let q = m | 0;
  let digits = 7;
  for (;;) {
    const t = (q / 10) | 0;
    if (q !== t * 10) break;
    q = t;
    digits--;
  }
  if (e < 0) {
    buf[pos++] = 0x30;
    buf[pos++] = 0x2e;
    for (let z = -1; z > e; z--) buf[pos++] = 0x30;
    const stop = pos + digits;
    for (let at = stop - 1; at >= pos; at--) {
      const t = (q / 10) | 0;
      buf[at] = 0x30 + q - t * 10;
      q = t;
    }
    return stop;
  }
  if (digits <= e + 1) {
    // An integer: its digits, then zeros up to the units.
    for (let at = pos + digits - 1; at >= pos; at--) {
      const t = (q / 10) | 0;
      buf[at] = 0x30 + q - t * 10;
      q = t;
    }
    const stop = pos + e + 1;
    for (let at = pos + digits; at < stop; at++) buf[at] = 0x30;
    return stop;
  }
  // Digits 0..e before the point, the rest after it.
  const point = pos + e + 1;
  const stop = pos + digits + 1;
  for (let at = stop - 1; at >= pos; at--) {
    if (at === point) {
      buf[at] = 0x2e;
      continue;
    }
    const t = (q / 10) | 0;
    buf[at] = 0x30 + q - t * 10;
    q = t;
  }
  return stop;
}

function writeAscii(buf: Uint8Array, pos: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
  return pos;
}
