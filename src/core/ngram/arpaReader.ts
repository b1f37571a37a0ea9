/**
 * The ARPA reader: bytes in (chunks of any size, cut anywhere, even inside a character), the
 * compact trie out. An entry line is read from the bytes themselves: its numbers parsed from
 * ASCII, its words found by their bytes (ByteWordIndex), its values stored at once in typed
 * arrays sized from the header's counts, so that no string is made and nothing is kept per line.
 * Peak memory is the final model, a parent index per entry of the section being read (4 bytes;
 * 8 while a section out of trie order is sorted) and one partial line.
 *
 * Only the simple, valid case takes the fast path; any line it does not accept (an unusual
 * number, an unknown word, a missing parent, a repeat, a count overrun, bytes that are not ASCII
 * at its ends) is read again as text by the line-by-line rules, which give the error with its
 * line number, or accept the line. Headers and section markers are always read as text.
 */
import { ModelFormatError } from '../errors';
import { formatBytes } from '../modelLimits';
import { BOS, EOS, UNK } from '../tokenizers/pretokenizers';
import { parseAsciiDecimal } from './asciiDecimal';
import { ByteWordIndex, fnv1a, FNV_BASIS, FNV_PRIME } from './byteWordIndex';
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
  /** The most bytes the compact model may take: declared counts that need more are refused at the header. */
  maxModelBytes?: number;
}

type Phase = 'preamble' | 'counts' | 'section' | 'entries' | 'end' | 'done';

const NOT_UTF8 = 'not UTF-8 (an ARPA file must be UTF-8 text; convert it, e.g. with iconv -f latin1 -t utf-8)';

/** Bytes of the compact model for these counts: words, logProb (+ backoff, childStart below the top order). */
export function compactModelBytes(counts: readonly number[]): number {
  return counts.reduce((sum, c, k) => sum + c * (k === 0 ? 4 : 8) + (k < counts.length - 1 ? c * 8 + 4 : 0), 0);
}

/** The section being read: typed arrays of the declared size, filled in file order. */
interface Section {
  k: number;
  declared: number;
  filled: number;
  /** Line number of the section's first entry: entries are consecutive lines. */
  firstLine: number;
  words: Uint32Array;
  logProb: Float32Array;
  backoff: Float32Array | undefined;
  parent: Uint32Array;
}

const isSpace = (b: number) => b === 0x20 || b === 0x09;

/** A line or field quoted as the file holds it (JSON's quoting would double its backslashes: "\\end\\"); control characters as \xNN. */
const quoted = (s: string) => {
  let out = '';
  for (const c of s) {
    const code = c.charCodeAt(0);
    out += code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : c;
  }
  return `"${out}"`;
};

/**
 * KenLM reads a number after a tab that follows an entry's words: an entry whose last field is followed
 * by a tab and nothing else is a cut line, not a backoff of 0. (Other trailing white space, spaces first,
 * is accepted as trimmed.)
 */
const EMPTY_LAST_FIELD = 'the line ends with a tab and nothing after it: an empty field where a backoff or nothing belongs (a cut line?)';
/** What String.prototype.trim removes among ASCII bytes (tab, line feed, vertical tab, form feed, carriage return, space). */
const isTrimmed = (b: number) => b === 0x20 || (b >= 0x09 && b <= 0x0d);

/**
 * Parses ARPA text pushed in chunks of bytes (`push`, then `end`). Errors name the file and line.
 * Missing `<unk>` is added with log10 p = -100 (as KenLM does); `<s>` and `</s>` must be present.
 */
export class ArpaReader {
  private phase: Phase = 'preamble';
  private lineNo = 0;
  /** The start of a line whose end has not arrived yet. */
  private carry = new Uint8Array(256);
  private carryLength = 0;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  private readonly counts: number[] = [];
  private k = 0;
  private readonly vocab = new Vocabulary();
  private readonly byteWords = new ByteWordIndex();
  private readonly orders: NgramOrder[] = [];
  private section: Section | undefined;
  /** Field bounds of the line being read (at most MAX_ORDER + 2 fields are kept). */
  private readonly fieldStart = new Int32Array(MAX_ORDER + 2);
  private readonly fieldEnd = new Int32Array(MAX_ORDER + 2);
  private readonly fieldHash = new Int32Array(MAX_ORDER + 2);
  private readonly ids = new Uint32Array(MAX_ORDER);

  constructor(
    private readonly fileName = 'ARPA file',
    private readonly options: ArpaReadOptions = {},
  ) {}

  private fail(line: number, message: string): never {
    throw new ModelFormatError(message, this.fileName, line);
  }

  /** Whether the end marker was read: the rest of the file does not matter. */
  get finished(): boolean {
    return this.phase === 'done';
  }

  /** The next bytes of the file; a character or a line may straddle two chunks. */
  push(chunk: Uint8Array): void {
    if (this.phase === 'done') return;
    let pos = 0;
    if (this.carryLength > 0) {
      const nl = chunk.indexOf(0x0a);
      if (nl < 0) return this.keep(chunk);
      this.keep(chunk.subarray(0, nl + 1));
      const line = this.carry.subarray(0, this.carryLength);
      this.carryLength = 0;
      this.lines(line, line.length);
      pos = nl + 1;
    }
    // Up to the last line feed the lines are whole: a line feed byte is never inside a UTF-8 character.
    const last = chunk.lastIndexOf(0x0a);
    if (last >= pos) {
      this.lines(chunk.subarray(pos), last + 1 - pos);
      pos = last + 1;
    }
    if (pos < chunk.length && !this.finished) this.keep(chunk.subarray(pos));
  }

  private keep(bytes: Uint8Array): void {
    const need = this.carryLength + bytes.length;
    if (need > MAX_ARPA_LINE_BYTES + 1) this.fail(this.lineNo + 1, `the line is longer than ${MAX_ARPA_LINE_BYTES} bytes: not an ARPA file`);
    if (need > this.carry.length) {
      const grown = new Uint8Array(Math.max(need, this.carry.length * 2));
      grown.set(this.carry.subarray(0, this.carryLength));
      this.carry = grown;
    }
    this.carry.set(bytes, this.carryLength);
    this.carryLength = need;
  }

  /** The model, once the whole file was pushed. */
  end(): NgramModel {
    if (this.carryLength > 0 && this.phase !== 'done') {
      const rest = this.carry.slice(0, this.carryLength);
      this.carryLength = 0;
      const inEntries = this.phase === 'entries';
      try {
        this.lines(rest, rest.length);
      } catch (e) {
        // An entry line with no line break after it is where the file stops: cut short (a copy or a
        // download that stopped, a file still being written) rather than a line written wrong.
        if (inEntries && e instanceof ModelFormatError) {
          const prefix = `${this.fileName}${e.line !== undefined ? `:${e.line}` : ''}: `;
          const reason = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
          throw new ModelFormatError(`${reason}; the file ends in this line, without a line break: is it cut short?`, this.fileName, e.line);
        }
        throw e;
      }
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

  /** The lines of buf[0..end): each ends with a line feed, except perhaps the file's last one. */
  private lines(buf: Uint8Array, end: number): void {
    let pos = 0;
    while (pos < end && this.phase !== 'done') {
      if (this.phase === 'entries') {
        pos = this.entries(buf, pos, end);
        if (pos >= end) break;
        // The line there did not take the fast path: the text rules read it.
      }
      let nl = buf.indexOf(0x0a, pos);
      if (nl < 0 || nl > end) nl = end;
      this.textLine(buf, pos, nl);
      pos = nl + 1;
    }
  }

  /** A line read as text, by the line-by-line rules. */
  private textLine(buf: Uint8Array, start: number, end: number): void {
    const n = ++this.lineNo;
    if (end - start > MAX_ARPA_LINE_BYTES) this.fail(n, `the line is longer than ${MAX_ARPA_LINE_BYTES} bytes: not an ARPA file`);
    const raw = this.decode(buf, start, end, n);
    // trim() also drops a byte order mark (U+FEFF is white space to it).
    const t = raw.trim();
    if (this.phase === 'entries' && t !== '' && !t.startsWith('\\') && /\S\t\s*$/.test(raw)) this.fail(n, EMPTY_LAST_FIELD);
    this.dispatch(t, n);
  }

  private decode(buf: Uint8Array, start: number, end: number, line: number): string {
    try {
      return this.decoder.decode(buf.subarray(start, end));
    } catch {
      return this.fail(line, NOT_UTF8);
    }
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
        if (t !== `\\${this.k}-grams:`) this.fail(n, `expected "\\${this.k}-grams:", got ${quoted(t.slice(0, 80))}`);
        return this.startSection(n);
      case 'entries':
        if (t === '') return this.endSection(n);
        if (t.startsWith('\\')) {
          // A section header or \end\ without the blank line before it (no entry starts with a backslash).
          this.endSection(n);
          return this.dispatch(t, n);
        }
        return this.textEntry(t, n);
      case 'end':
        if (t === '') return;
        if (t !== '\\end\\') this.fail(n, `expected \\end\\, got ${quoted(t.slice(0, 80))}`);
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
    if (!m) this.fail(n, `expected "ngram N=COUNT", got ${quoted(t.slice(0, 80))}`);
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
    const total = counts.reduce((a, b) => a + b, 0);
    // The shortest k-gram line is "0", a tab, k one-byte words with spaces between, a line feed.
    const minBytes = counts.reduce((sum, c, i) => sum + c * (2 * (i + 1) + 2), 0);
    const max = this.options.maxBytes;
    if (max !== undefined && minBytes > max) this.fail(n, `the header declares ${total} n-grams, more than ${max} bytes of text can hold`);
    const maxModel = this.options.maxModelBytes;
    const model = compactModelBytes(counts);
    if (maxModel !== undefined && model > maxModel)
      this.fail(n, `the header declares ${total} n-grams, a model of ${formatBytes(model)}, above the ${formatBytes(maxModel)} limit for model data`);
    this.k = 1;
    this.phase = 'section';
  }

  private startSection(n: number): void {
    const k = this.k;
    const N = this.counts.length;
    const declared = this.counts[k - 1];
    this.section = {
      k,
      declared,
      filled: 0,
      firstLine: n + 1,
      words: new Uint32Array(k === 1 ? 0 : declared),
      logProb: new Float32Array(declared),
      backoff: k < N ? new Float32Array(declared) : undefined,
      parent: new Uint32Array(k === 1 ? 0 : declared),
    };
    this.phase = 'entries';
  }

  /**
   * Entry lines from buf[pos..end) as long as they take the fast path; returns where it stopped
   * (the start of a line for the text rules, or end).
   */
  private entries(buf: Uint8Array, pos: number, end: number): number {
    const s = this.section!;
    const k = s.k;
    const fieldStart = this.fieldStart;
    const fieldEnd = this.fieldEnd;
    const fieldHash = this.fieldHash;
    const maxFields = fieldStart.length;
    const ids = this.ids;
    const words = this.byteWords;
    while (pos < end) {
      // One pass over the line: the fields' bounds, and each one's hash for the word lookup.
      let i = pos;
      while (i < end && isSpace(buf[i])) i++;
      let fields = 0;
      let c: number;
      while (i < end && (c = buf[i]) !== 0x0a) {
        const f = i;
        let h = FNV_BASIS;
        if (fields === 0) {
          // The log-probability: no word, no hash.
          while (c !== 0x20 && c !== 0x09 && c !== 0x0a) {
            if (++i === end) break;
            c = buf[i];
          }
        } else {
          while (c !== 0x20 && c !== 0x09 && c !== 0x0a) {
            h = Math.imul(h ^ c, FNV_PRIME);
            if (++i === end) break;
            c = buf[i];
          }
        }
        if (fields < maxFields) {
          fieldStart[fields] = f;
          fieldEnd[fields] = i;
          fieldHash[fields] = h;
        }
        fields++;
        while (i < end && isSpace(buf[i])) i++;
      }
      const lineEnd = i;
      // A tab right after the last field, then only white space: an empty last field, which the text rules refuse.
      let e = lineEnd;
      while (e > pos && isTrimmed(buf[e - 1])) e--;
      if (e < lineEnd && buf[e] === 0x09) return pos;
      // Blank lines, markers, overlong lines and a count overrun are for the text rules.
      if (fields === 0 || fields > maxFields || lineEnd - pos > MAX_ARPA_LINE_BYTES || buf[pos] === 0x5c || s.filled >= s.declared) return pos;
      // The trim() of the text rules: a CR of CRLF (or other ASCII white space) ends the last field;
      // a field of it alone is no field.
      let last = fields - 1;
      let b = fieldEnd[last];
      if (isTrimmed(buf[b - 1])) {
        while (b > fieldStart[last] && isTrimmed(buf[b - 1])) b--;
        if (b === fieldStart[last]) {
          fields--;
          if (fields === 0) return pos;
          last--;
          b = fieldEnd[last];
          if (isTrimmed(buf[b - 1])) return pos;
        } else {
          fieldEnd[last] = b;
          fieldHash[last] = fnv1a(buf, fieldStart[last], b);
        }
      }
      const a = fieldStart[0];
      // White space beyond ASCII at the ends (which trim() drops too), or ASCII white space other than spaces and tabs at the start.
      if (isTrimmed(buf[a]) || (buf[a] >= 0x80 && startsWithUnicodeSpace(buf, a, b)) || (buf[b - 1] >= 0x80 && endsWithUnicodeSpace(buf, a, b))) return pos;
      if (fields !== k + 1 && fields !== k + 2) return pos;
      const logProb = parseAsciiDecimal(buf, fieldStart[0], fieldEnd[0]);
      // float32 storage: a finite double beyond its range would become infinite (NaN fails too).
      if (!(logProb <= 0 && Number.isFinite(Math.fround(logProb)))) return pos;
      let backoff = 0;
      if (fields === k + 2) {
        if (!s.backoff) return pos;
        backoff = parseAsciiDecimal(buf, fieldStart[k + 1], fieldEnd[k + 1]);
        if (!(backoff <= MAX_LOG10_BACKOFF && Number.isFinite(Math.fround(backoff)))) return pos;
      }
      const at = s.filled;
      if (k === 1) {
        if (words.findHashed(buf, fieldStart[1], fieldEnd[1], fieldHash[1]) >= 0) return pos;
        let word: string;
        try {
          word = this.decoder.decode(buf.subarray(fieldStart[1], fieldEnd[1]));
        } catch {
          return pos;
        }
        this.addWord(word, buf, fieldStart[1], fieldEnd[1]);
      } else {
        for (let j = 0; j < k; j++) {
          const id = words.findHashed(buf, fieldStart[1 + j], fieldEnd[1 + j], fieldHash[1 + j]);
          if (id < 0) return pos;
          ids[j] = id;
        }
        const parent = this.findParent(ids, k);
        // A repeat of the line before is caught here, not after a section of millions of them is stored.
        if (parent < 0 || (at > 0 && s.parent[at - 1] === parent && s.words[at - 1] === ids[k - 1])) return pos;
        s.parent[at] = parent;
        s.words[at] = ids[k - 1];
      }
      s.logProb[at] = logProb;
      if (s.backoff) s.backoff[at] = backoff;
      s.filled = at + 1;
      this.lineNo++;
      pos = lineEnd + 1;
    }
    return pos;
  }

  private addWord(word: string, buf: Uint8Array, start: number, end: number): void {
    this.vocab.add(word);
    this.byteWords.add(buf, start, end);
  }

  /** Index in order k-1 of the first k-1 words of ids, or -1. */
  private findParent(ids: Uint32Array, k: number): number {
    let node = ids[0];
    for (let j = 1; j < k - 1; j++) {
      const cs = this.orders[j - 1].childStart!;
      const words = this.orders[j].words;
      const word = ids[j];
      let lo = cs[node];
      let hi = cs[node + 1];
      node = -1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const w = words[mid];
        if (w < word) lo = mid + 1;
        else if (w > word) hi = mid;
        else {
          node = mid;
          break;
        }
      }
      if (node < 0) return -1;
    }
    return node;
  }

  /** An entry line by the line-by-line rules on its text: the error with its line number, or the entry stored. */
  private textEntry(t: string, n: number): void {
    const s = this.section!;
    const k = s.k;
    const N = this.counts.length;
    const fields = t.split(/[ \t]+/);
    if (fields.length !== k + 1 && fields.length !== k + 2) {
      this.fail(n, `a ${k}-gram line needs a log-probability, ${k} word(s) and an optional backoff; got ${fields.length} fields`);
    }
    const logProb = Number(fields[0]);
    // float32 storage: a finite double beyond its range would become infinite.
    if (!Number.isFinite(Math.fround(logProb))) this.fail(n, `bad log-probability ${quoted(fields[0])}`);
    if (logProb > 0) this.fail(n, `log-probability ${logProb} is positive`);
    let backoff = 0;
    if (fields.length === k + 2) {
      backoff = Number(fields[k + 1]);
      if (!Number.isFinite(Math.fround(backoff))) this.fail(n, `bad backoff ${quoted(fields[k + 1])}`);
      if (k === N) this.fail(n, `a highest-order ${k}-gram cannot have a backoff`);
      if (backoff > MAX_LOG10_BACKOFF) this.fail(n, `backoff ${backoff} is above ${MAX_LOG10_BACKOFF}, the largest log10 backoff weight accepted`);
    }
    if (s.filled >= s.declared) this.fail(n, `the header says ${s.declared} ${k}-grams, the section has more`);
    const at = s.filled;
    if (k === 1) {
      const first = this.vocab.id(fields[1]);
      // Word ids are given in the section's order: the first one's line is the section's first line plus its id.
      if (first !== undefined) this.fail(n, `duplicate unigram ${quoted(fields[1])} (also on line ${s.firstLine + first})`);
      const bytes = new TextEncoder().encode(fields[1]);
      this.addWord(fields[1], bytes, 0, bytes.length);
    } else {
      const ids = this.ids;
      for (let j = 0; j < k; j++) {
        const id = this.vocab.id(fields[1 + j]);
        if (id === undefined) this.fail(n, `word ${quoted(fields[1 + j])} is not among the unigrams`);
        ids[j] = id!;
      }
      const parent = this.findParent(ids, k);
      if (parent < 0) this.fail(n, `the ${k - 1}-gram "${fields.slice(1, k).join(' ')}" that this ${k}-gram extends is missing`);
      if (at > 0 && s.parent[at - 1] === parent && s.words[at - 1] === ids[k - 1]) this.fail(n, `duplicate ${k}-gram (also on line ${n - 1})`);
      s.parent[at] = parent;
      s.words[at] = ids[k - 1];
    }
    s.logProb[at] = logProb;
    if (s.backoff) s.backoff[at] = backoff;
    s.filled = at + 1;
  }

  private endSection(n: number): void {
    const s = this.section!;
    const k = s.k;
    const N = this.counts.length;
    const count = s.filled;
    if (count !== s.declared) this.fail(n, `the header says ${s.declared} ${k}-grams, the section has ${count}`);
    this.section = undefined;
    this.k++;
    this.phase = k < N ? 'section' : 'end';
    if (k === 1) return this.endUnigrams(s, n);
    const parent = s.parent;
    const parentOrder = this.orders[k - 2];
    const childStart = new Uint32Array(parentOrder.count + 1);
    for (let i = 0; i < count; i++) childStart[parent[i] + 1]++;
    for (let c = 0; c < parentOrder.count; c++) childStart[c + 1] += childStart[c];
    // Entries in trie order (by parent, then word): files this reader's writer made are in it
    // already; KenLM's are in suffix order and are sorted here.
    if (!inTrieOrder(parent, s.words, count)) {
      s.parent = new Uint32Array(0);
      this.toTrieOrder(s, parent, childStart, parentOrder.count);
    }
    const o: NgramOrder = { count, words: s.words, logProb: s.logProb, backoff: s.backoff };
    parentOrder.childStart = childStart;
    if (k < N) o.childStart = new Uint32Array(count + 1);
    this.orders.push(o);
  }

  /**
   * The section's entries moved to trie order. Each entry's place is its parent's next free one
   * (a stable counting sort, computed over the parent array in place); the arrays are scattered to
   * their places one at a time, sequential reads and independent writes, so that peak memory stays
   * that of the section's arrays, its places and one new array. KenLM's suffix order leaves each
   * parent's children ascending by word; when they are not (or a child repeats), the entries are
   * sorted within their parents and the repeat is named by its lines.
   */
  private toTrieOrder(s: Section, parent: Uint32Array, childStart: Uint32Array, parents: number): void {
    const count = s.filled;
    // The places overwrite the parents, read once each just before.
    const place = parent;
    const cursor = childStart.slice(0, parents);
    for (let i = 0; i < count; i++) place[i] = cursor[parent[i]]++;
    const words = scatter(s.words, place, new Uint32Array(count));
    if (childrenAscend(words, childStart, parents)) {
      // Each array moved goes into the memory of the one moved before it (all are 4 bytes an
      // entry): one new array in all, whatever the collector has not freed yet.
      const { words: wordsBefore, logProb, backoff } = s;
      s.words = words;
      s.logProb = scatter(logProb, place, new Float32Array(wordsBefore.buffer, wordsBefore.byteOffset, count));
      if (backoff) s.backoff = scatter(backoff, place, new Float32Array(logProb.buffer, logProb.byteOffset, count));
      return;
    }
    const order = new Uint32Array(count);
    for (let i = 0; i < count; i++) order[place[i]] = i;
    sortWithinParents(order, s.words, childStart, parents);
    this.checkRepeats(order, s.words, childStart, parents, s.firstLine, s.k);
    permute(order, s.words, s.logProb, s.backoff);
  }

  /** Two entries of the same n-gram: named by their lines (entries are consecutive lines from firstLine). */
  private checkRepeats(order: Uint32Array, words: Uint32Array, childStart: Uint32Array, parents: number, firstLine: number, k: number): void {
    for (let p = 0; p < parents; p++) {
      for (let c = childStart[p] + 1, e = childStart[p + 1]; c < e; c++) {
        const a = order[c - 1];
        const b = order[c];
        if (words[a] === words[b]) this.fail(firstLine + Math.max(a, b), `duplicate ${k}-gram (also on line ${firstLine + Math.min(a, b)})`);
      }
    }
  }

  private endUnigrams(s: Section, n: number): void {
    const vocab = this.vocab;
    const N = this.counts.length;
    let { logProb, backoff } = s;
    if (vocab.id(UNK) === undefined) {
      const unk = new TextEncoder().encode(UNK);
      this.addWord(UNK, unk, 0, unk.length);
      logProb = grownBy1(logProb, -100);
      if (backoff) backoff = grownBy1(backoff, 0);
    }
    if (vocab.id(BOS) === undefined) this.fail(n, 'the model has no <s> unigram');
    if (vocab.id(EOS) === undefined) this.fail(n, 'the model has no </s> unigram');
    const V = vocab.size;
    const o: NgramOrder = { count: V, words: Uint32Array.from({ length: V }, (_, i) => i), logProb, backoff };
    // Children are not known yet: filled in when the bigram section ends.
    if (N > 1) o.childStart = new Uint32Array(V + 1);
    this.orders.push(o);
  }
}

/** Whether buf[a..b) starts with a character that String.prototype.trim removes, beyond ASCII (U+00A0, U+1680, U+2000–200A, U+2028, U+2029, U+202F, U+205F, U+3000, U+FEFF). */
function startsWithUnicodeSpace(buf: Uint8Array, a: number, b: number): boolean {
  if (b - a >= 2 && buf[a] === 0xc2 && buf[a + 1] === 0xa0) return true;
  return b - a >= 3 && isUnicodeSpace3(buf[a], buf[a + 1], buf[a + 2]);
}

function endsWithUnicodeSpace(buf: Uint8Array, a: number, b: number): boolean {
  if (b - a >= 2 && buf[b - 2] === 0xc2 && buf[b - 1] === 0xa0) return true;
  return b - a >= 3 && isUnicodeSpace3(buf[b - 3], buf[b - 2], buf[b - 1]);
}

/** The three-byte UTF-8 forms of the white space characters above U+07FF. */
function isUnicodeSpace3(x: number, y: number, z: number): boolean {
  if (x === 0xe1) return y === 0x9a && z === 0x80;
  if (x === 0xe2) return (y === 0x80 && ((z >= 0x80 && z <= 0x8a) || z === 0xa8 || z === 0xa9 || z === 0xaf)) || (y === 0x81 && z === 0x9f);
  if (x === 0xe3) return y === 0x80 && z === 0x80;
  return x === 0xef && y === 0xbb && z === 0xbf;
}

function grownBy1(a: Float32Array, value: number): Float32Array {
  const out = new Float32Array(a.length + 1);
  out.set(a);
  out[a.length] = value;
  return out;
}

/** Whether the entries are by parent, then by word, with no repeat. */
function inTrieOrder(parent: Uint32Array, words: Uint32Array, count: number): boolean {
  for (let i = 1; i < count; i++) if (parent[i] < parent[i - 1] || (parent[i] === parent[i - 1] && words[i] <= words[i - 1])) return false;
  return true;
}

/** out[place[i]] = values[i] for every i: the values moved to their places. */
function scatter<T extends Uint32Array | Float32Array>(values: T, place: Uint32Array, out: T): T {
  for (let i = 0; i < place.length; i++) out[place[i]] = values[i];
  return out;
}

/** Whether every parent's children (words in trie order) are strictly ascending: sorted, no repeat. */
function childrenAscend(words: Uint32Array, childStart: Uint32Array, parents: number): boolean {
  for (let p = 0; p < parents; p++) {
    for (let c = childStart[p] + 1, e = childStart[p + 1]; c < e; c++) if (words[c] <= words[c - 1]) return false;
  }
  return true;
}

/** Each parent's range of `order` (entry indices, grouped by parent) sorted by word, stably. */
function sortWithinParents(order: Uint32Array, words: Uint32Array, childStart: Uint32Array, parents: number): void {
  for (let p = 0; p < parents; p++) {
    const start = childStart[p];
    const end = childStart[p + 1];
    for (let c = start + 1; c < end; c++) {
      if (words[order[c]] < words[order[c - 1]]) {
        order.subarray(start, end).sort((a, b) => words[a] - words[b] || a - b);
        break;
      }
    }
  }
}

/** Rearranges the arrays in place so that entry i becomes the one at order[i] (consumes order). */
function permute(order: Uint32Array, words: Uint32Array, logProb: Float32Array, backoff: Float32Array | undefined): void {
  for (let i = 0; i < order.length; i++) {
    if (order[i] === i) continue;
    const w = words[i];
    const p = logProb[i];
    const b = backoff ? backoff[i] : 0;
    let j = i;
    for (;;) {
      const from = order[j];
      order[j] = j;
      if (from === i) {
        words[j] = w;
        logProb[j] = p;
        if (backoff) backoff[j] = b;
        break;
      }
      words[j] = words[from];
      logProb[j] = logProb[from];
      if (backoff) backoff[j] = backoff[from];
      j = from;
    }
  }
}

/** Parses ARPA text held in a string. */
export function readArpa(text: string, fileName = 'ARPA file'): NgramModel {
  return readArpaBytes(new TextEncoder().encode(text), fileName);
}

/** Parses ARPA bytes (UTF-8), a chunk at a time, without building one string of the whole file. */
export function readArpaBytes(bytes: Uint8Array, fileName = 'ARPA file'): NgramModel {
  const reader = new ArpaReader(fileName, { maxBytes: bytes.length });
  for (let at = 0; at < bytes.length && !reader.finished; at += 1 << 20) reader.push(bytes.subarray(at, Math.min(bytes.length, at + (1 << 20))));
  return reader.end();
}
