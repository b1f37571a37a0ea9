/**
 * ARPA back-off model files, read and written as KenLM does (log10 values, tab-separated). The
 * reader takes the file as a stream of bytes (it never builds one string of the whole file), checks
 * that they are UTF-8, and names the line of anything it refuses.
 */
import { ModelFormatError } from '../errors';
import { BOS, EOS, UNK } from '../tokenizers/pretokenizers';
import { GrowableFloat32, GrowableUint32 } from './growable';
import { MAX_ORDER } from './kneserNey';
import { MAX_LOG10_BACKOFF, NgramModel, NgramOrder } from './ngramModel';
import { MAX_VOCABULARY, Vocabulary } from './vocabulary';

/** A longer line is refused: an ARPA line is a probability, at most six words and a backoff. */
export const MAX_ARPA_LINE_BYTES = 1 << 20;
/** Lines looked at for `\data\` before a file is declared not ARPA (a preamble is a few comments). */
export const MAX_ARPA_PREAMBLE_LINES = 10_000;
/** Entries are u32 indices: a count must fit below 2^32. */
const MAX_COUNT = 0xffff_fffe;

export interface ArpaReadOptions {
  /**
   * An upper bound on the size of the text in bytes (the file's size, or the decompression cap):
   * declared counts that could not fit in it are refused at the header, before any entry is read.
   */
  maxBytes?: number;
}

type Phase = 'preamble' | 'counts' | 'section' | 'entries' | 'end' | 'done';

/** The entries of the section being read, in parallel typed arrays (no object per n-gram). */
class Section {
  readonly parent = new GrowableUint32();
  readonly word = new GrowableUint32();
  readonly logProb = new GrowableFloat32();
  readonly backoff = new GrowableFloat32();
  readonly line = new GrowableUint32();
}

/**
 * Parses ARPA text pushed in chunks of bytes (`push`, then `end`) or as a string (`readArpa`).
 * Errors name the file and line. Missing `<unk>` is added with log10 p = -100 (as KenLM does);
 * `<s>` and `</s>` must be present.
 */
export class ArpaReader {
  private phase: Phase = 'preamble';
  private lineNo = 0;
  private carry: Uint8Array | undefined;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private readonly counts: number[] = [];
  private k = 0;
  private readonly vocab = new Vocabulary();
  private readonly orders: NgramOrder[] = [];
  private model: NgramModel | null = null;
  private section = new Section();
  private ids: number[] = [];

  constructor(
    private readonly fileName = 'ARPA file',
    private readonly options: ArpaReadOptions = {},
  ) {}

  private fail(line: number, message: string): never {
    throw new ModelFormatError(message, this.fileName, line);
  }

  /** The next bytes of the file; a character or a line may straddle two chunks. */
  push(chunk: Uint8Array): void {
    const last = chunk.lastIndexOf(0x0a);
    if (last < 0) {
      this.carry = this.carry ? concat(this.carry, chunk) : chunk.slice();
      if (this.carry.length > MAX_ARPA_LINE_BYTES) this.fail(this.lineNo + 1, `the line is longer than ${MAX_ARPA_LINE_BYTES} bytes: not an ARPA file`);
      return;
    }
    // A line feed byte is never part of a multi-byte UTF-8 sequence: up to it, the lines are whole.
    const whole = this.carry ? concat(this.carry, chunk.subarray(0, last + 1)) : chunk.subarray(0, last + 1);
    this.carry = last + 1 < chunk.length ? chunk.slice(last + 1) : undefined;
    this.pushLines(whole);
  }

  private pushLines(bytes: Uint8Array): void {
    let text: string;
    try {
      text = this.decoder.decode(bytes);
    } catch {
      return this.failNotUtf8(bytes);
    }
    this.pushText(text);
  }

  /** Names the first line of `bytes` that is not UTF-8. */
  private failNotUtf8(bytes: Uint8Array): never {
    const message = 'not UTF-8 (an ARPA file must be UTF-8 text; convert it, e.g. with iconv -f latin1 -t utf-8)';
    let line = this.lineNo + 1;
    for (let start = 0; start < bytes.length; line++) {
      let end = bytes.indexOf(0x0a, start);
      if (end < 0) end = bytes.length;
      try {
        this.decoder.decode(bytes.subarray(start, end));
      } catch {
        this.fail(line, message);
      }
      start = end + 1;
    }
    return this.fail(this.lineNo + 1, message);
  }

  /** Whole lines of text (a last line without a line feed counts as a line). */
  pushText(text: string): void {
    let pos = 0;
    while (pos < text.length) {
      let end = text.indexOf('\n', pos);
      if (end < 0) end = text.length;
      this.line(text.slice(pos, end));
      pos = end + 1;
    }
  }

  /** Whether the end marker was read: the rest of the file does not matter. */
  get finished(): boolean {
    return this.phase === 'done';
  }

  /** The model, once the whole file was pushed. */
  end(): NgramModel {
    if (this.carry) {
      const rest = this.carry;
      this.carry = undefined;
      this.pushLines(rest);
    }
    const at = this.lineNo;
    switch (this.phase) {
      case 'preamble':
        return this.fail(at, 'not an ARPA file: no \\data\\ section');
      case 'counts':
        return this.fail(at, 'unexpected end of file in the \\data\\ section');
      case 'section':
        return this.fail(at, `unexpected end of file: expected the \\${this.k}-grams: section`);
      case 'entries':
        return this.fail(at, `unexpected end of file in the ${this.k}-gram section`);
      case 'end':
        return this.fail(at, 'unexpected end of file: expected \\end\\');
      case 'done': {
        const model = new NgramModel(this.vocab, this.orders);
        model.source = this.fileName;
        return model;
      }
    }
  }

  private line(raw: string): void {
    const n = ++this.lineNo;
    if (raw.length > MAX_ARPA_LINE_BYTES) this.fail(n, `the line is longer than ${MAX_ARPA_LINE_BYTES} bytes: not an ARPA file`);
    // trim() also drops a byte order mark (U+FEFF is white space to it).
    this.dispatch(raw.trim(), n);
  }

  private dispatch(t: string, n: number): void {
    switch (this.phase) {
      case 'preamble':
        // Anything before \data\ is a comment (KenLM and SRILM allow a preamble).
        if (t === '\\data\\') this.phase = 'counts';
        else if (n >= MAX_ARPA_PREAMBLE_LINES) this.fail(n, `not an ARPA file: no \\data\\ section in its first ${MAX_ARPA_PREAMBLE_LINES} lines`);
        return;
      case 'counts':
        return this.countLine(t, n);
      case 'section':
        if (t === '') return;
        if (t !== `\\${this.k}-grams:`) this.fail(n, `expected "\\${this.k}-grams:", got ${JSON.stringify(t.slice(0, 80))}`);
        this.phase = 'entries';
        return;
      case 'entries':
        if (t === '') return this.endSection(n);
        if (t.startsWith('\\')) {
          // A section header or \end\ without the blank line before it (no entry starts with a backslash).
          this.endSection(n);
          return this.dispatch(t, n);
        }
        return this.entry(t, n);
      case 'end':
        if (t === '') return;
        if (t !== '\\end\\') this.fail(n, `expected \\end\\, got ${JSON.stringify(t.slice(0, 80))}`);
        this.phase = 'done';
        return;
      case 'done':
        return;
    }
  }

  private countLine(t: string, n: number): void {
    const counts = this.counts;
    if (t === '') {
      if (counts.length > 0) this.endCounts(n);
      return;
    }
    const m = /^ngram\s+(\d+)\s*=\s*(\d+)$/.exec(t);
    if (!m) this.fail(n, `expected "ngram N=COUNT", got ${JSON.stringify(t.slice(0, 80))}`);
    const k = Number(m![1]);
    if (k !== counts.length + 1) this.fail(n, `expected the count of ${counts.length + 1}-grams, got ${m![1]}-grams`);
    if (k > MAX_ORDER) this.fail(n, `order ${k} is above the supported maximum ${MAX_ORDER}`);
    const count = Number(m![2]);
    if (count > (k === 1 ? MAX_VOCABULARY : MAX_COUNT))
      this.fail(n, `${m![2]} ${k}-grams are more than this reader supports (${k === 1 ? MAX_VOCABULARY : MAX_COUNT})`);
    counts.push(count);
  }

  private endCounts(n: number): void {
    const counts = this.counts;
    if (counts[0] === 0) this.fail(n, 'the model has no unigrams');
    // The shortest k-gram line is "0", a tab, k one-byte words with spaces between, a line feed.
    const minBytes = counts.reduce((sum, c, i) => sum + c * (2 * (i + 1) + 2), 0);
    const max = this.options.maxBytes;
    if (max !== undefined && minBytes > max) {
      this.fail(n, `the header declares ${counts.reduce((a, b) => a + b, 0)} n-grams, more than ${max} bytes of text can hold`);
    }
    this.k = 1;
    this.phase = 'section';
  }

  private entry(t: string, n: number): void {
    const k = this.k;
    const N = this.counts.length;
    const fields = t.split(/[ \t]+/);
    if (fields.length !== k + 1 && fields.length !== k + 2) {
      this.fail(n, `a ${k}-gram line needs a log-probability, ${k} word(s) and an optional backoff; got ${fields.length} fields`);
    }
    const logProb = Number(fields[0]);
    // float32 storage: a finite double beyond its range would become infinite.
    if (!Number.isFinite(Math.fround(logProb))) this.fail(n, `bad log-probability ${JSON.stringify(fields[0])}`);
    if (logProb > 0) this.fail(n, `log-probability ${logProb} is positive`);
    let backoff = 0;
    if (fields.length === k + 2) {
      backoff = Number(fields[k + 1]);
      if (!Number.isFinite(Math.fround(backoff))) this.fail(n, `bad backoff ${JSON.stringify(fields[k + 1])}`);
      if (k === N) this.fail(n, `a highest-order ${k}-gram cannot have a backoff`);
      if (backoff > MAX_LOG10_BACKOFF) this.fail(n, `backoff ${backoff} is above ${MAX_LOG10_BACKOFF}, the largest log10 backoff weight accepted`);
    }
    const s = this.section;
    if (s.line.length >= this.counts[k - 1]) this.fail(n, `the header says ${this.counts[k - 1]} ${k}-grams, the section has more`);
    if (k === 1) {
      if (this.vocab.id(fields[1]) !== undefined) this.fail(n, `duplicate unigram ${JSON.stringify(fields[1])}`);
      this.vocab.add(fields[1]);
      s.logProb.push(logProb);
      s.backoff.push(backoff);
      s.line.push(n);
      return;
    }
    const ids = this.ids;
    for (let j = 0; j < k; j++) {
      const id = this.vocab.id(fields[1 + j]);
      if (id === undefined) this.fail(n, `word ${JSON.stringify(fields[1 + j])} is not among the unigrams`);
      ids[j] = id!;
    }
    const parent = this.model!.find(ids, 0, k - 1);
    if (parent < 0) this.fail(n, `the ${k - 1}-gram "${fields.slice(1, k).join(' ')}" that this ${k}-gram extends is missing`);
    // A repeat of the line before is caught here, not after a section of millions of them is stored.
    const last = s.line.length - 1;
    if (last >= 0 && s.parent.data[last] === parent && s.word.data[last] === ids[k - 1]) {
      this.fail(n, `duplicate ${k}-gram (also on line ${s.line.data[last]})`);
    }
    s.parent.push(parent);
    s.word.push(ids[k - 1]);
    s.logProb.push(logProb);
    s.backoff.push(backoff);
    s.line.push(n);
  }

  private endSection(n: number): void {
    const k = this.k;
    const N = this.counts.length;
    const s = this.section;
    const count = s.line.length;
    if (count !== this.counts[k - 1]) this.fail(n, `the header says ${this.counts[k - 1]} ${k}-grams, the section has ${count}`);
    this.section = new Section();
    this.k++;
    this.phase = k < N ? 'section' : 'end';
    if (k === 1) return this.endUnigrams(s, n);
    const parent = s.parent.data;
    const word = s.word.data;
    const line = s.line.data;
    // Entries in trie order (by parent, then word): files this reader wrote are in it already.
    let order: Uint32Array | undefined;
    for (let i = 1; i < count; i++) {
      if (parent[i] < parent[i - 1] || (parent[i] === parent[i - 1] && word[i] <= word[i - 1])) {
        order = Uint32Array.from({ length: count }, (_, j) => j).sort((a, b) => parent[a] - parent[b] || word[a] - word[b]);
        break;
      }
    }
    const at = (i: number) => (order ? order[i] : i);
    for (let i = 1; i < count; i++) {
      const a = at(i - 1);
      const b = at(i);
      if (parent[a] === parent[b] && word[a] === word[b])
        this.fail(Math.max(line[a], line[b]), `duplicate ${k}-gram (also on line ${Math.min(line[a], line[b])})`);
    }
    const parentOrder = this.orders[k - 2];
    const childStart = new Uint32Array(parentOrder.count + 1);
    for (let i = 0; i < count; i++) childStart[parent[i] + 1]++;
    for (let c = 0; c < parentOrder.count; c++) childStart[c + 1] += childStart[c];
    parentOrder.childStart = childStart;
    const pick = <T extends Uint32Array | Float32Array>(src: T, out: T): T => {
      for (let i = 0; i < count; i++) out[i] = src[at(i)];
      return out;
    };
    const o: NgramOrder = {
      count,
      words: pick(word, new Uint32Array(count)),
      logProb: pick(s.logProb.data, new Float32Array(count)),
      backoff: k < N ? pick(s.backoff.data, new Float32Array(count)) : undefined,
    };
    if (k < N) o.childStart = new Uint32Array(count + 1);
    this.orders.push(o);
    this.model = new NgramModel(this.vocab, this.orders.slice());
  }

  private endUnigrams(s: Section, n: number): void {
    const vocab = this.vocab;
    const N = this.counts.length;
    if (vocab.id(UNK) === undefined) {
      vocab.add(UNK);
      s.logProb.push(-100);
      s.backoff.push(0);
    }
    if (vocab.id(BOS) === undefined) this.fail(n, 'the model has no <s> unigram');
    if (vocab.id(EOS) === undefined) this.fail(n, 'the model has no </s> unigram');
    const V = vocab.size;
    this.orders.push({
      count: V,
      words: Uint32Array.from({ length: V }, (_, i) => i),
      logProb: s.logProb.trimmed(),
      backoff: N > 1 ? s.backoff.trimmed() : undefined,
    });
    if (N === 1) return;
    // Children are not known yet: a temporary model for prefix lookups of the bigram section.
    this.orders[0].childStart = new Uint32Array(V + 1);
    this.model = new NgramModel(vocab, this.orders.slice());
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Parses ARPA text held in a string. */
export function readArpa(text: string, fileName = 'ARPA file'): NgramModel {
  const reader = new ArpaReader(fileName);
  reader.pushText(text);
  return reader.end();
}

/** Parses ARPA bytes (UTF-8), a chunk at a time, without building one string of the whole file. */
export function readArpaBytes(bytes: Uint8Array, fileName = 'ARPA file'): NgramModel {
  const reader = new ArpaReader(fileName, { maxBytes: bytes.length });
  for (let at = 0; at < bytes.length; at += 1 << 20) reader.push(bytes.subarray(at, Math.min(bytes.length, at + (1 << 20))));
  return reader.end();
}
