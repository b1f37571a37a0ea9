/** ARPA back-off model files, read and written as KenLM does (log10 values, tab-separated). */
import { ModelFormatError } from '../errors';
import { BOS, EOS, UNK } from '../tokenizers/pretokenizers';
import { MAX_ORDER } from './kneserNey';
import { NgramModel, NgramOrder } from './ngramModel';
import { Vocabulary } from './vocabulary';

/** Writes the model as ARPA text, in chunks (a large model does not become one giant string). */
export function* writeArpa(model: NgramModel): Generator<string> {
  const words = model.vocab.allWords();
  let header = '\\data\\\n';
  model.orders.forEach((o, k) => (header += `ngram ${k + 1}=${o.count}\n`));
  yield header;
  const N = model.order;
  let previousWords: string[] = words.slice();
  for (let k = 1; k <= N; k++) {
    const o = model.orders[k - 1];
    yield `\n\\${k}-grams:\n`;
    const parent = k >= 2 ? model.parents(k) : null;
    // The text of each entry's n-gram without its last word is the parent's text.
    const texts: string[] = new Array(o.count);
    let chunk = '';
    for (let i = 0; i < o.count; i++) {
      const text = parent ? `${previousWords[parent[i]]} ${words[o.words[i]]}` : words[i];
      if (k < N) texts[i] = text;
      const lastWord = words[o.words[i]];
      let line = `${formatFloat(o.logProb[i])}\t${text}`;
      if (k < N && lastWord !== EOS && lastWord !== UNK) line += `\t${formatFloat(o.backoff ? o.backoff[i] : 0)}`;
      chunk += line + '\n';
      if (chunk.length > 1 << 16) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk) yield chunk;
    previousWords = texts;
  }
  yield '\n\\end\\\n';
}

function formatFloat(x: number): string {
  if (x === 0) return '0';
  // float32 values: 7 significant digits round-trip closely enough; trim trailing zeros.
  return Number(x.toPrecision(7)).toString();
}

interface PendingEntry {
  parent: number;
  word: number;
  logProb: number;
  backoff: number;
  line: number;
}

/**
 * Parses ARPA text. Errors name the line. Missing `<unk>` is added with log10 p = -100 (as KenLM
 * does); `<s>` and `</s>` must be present.
 */
export function readArpa(text: string, fileName = 'ARPA file'): NgramModel {
  const fail = (line: number, message: string): never => {
    throw new ModelFormatError(message, fileName, line);
  };
  let pos = 0;
  let lineNo = 0;
  const nextLine = (): string | null => {
    if (pos >= text.length) return null;
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    let line = text.slice(pos, end);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    pos = end + 1;
    lineNo++;
    return line;
  };

  let line: string | null;
  // Anything before \data\ is a comment (KenLM and SRILM allow a preamble).
  do {
    line = nextLine();
    if (line === null) fail(lineNo, 'not an ARPA file: no \\data\\ section');
  } while (line!.trim() !== '\\data\\');

  const counts: number[] = [];
  for (;;) {
    line = nextLine();
    if (line === null) fail(lineNo, 'unexpected end of file in the \\data\\ section');
    const t = line!.trim();
    if (t === '') {
      if (counts.length > 0) break;
      continue;
    }
    const m = /^ngram\s+(\d+)\s*=\s*(\d+)$/.exec(t);
    if (!m) fail(lineNo, `expected "ngram N=COUNT", got ${JSON.stringify(t.slice(0, 80))}`);
    const k = Number(m![1]);
    if (k !== counts.length + 1) fail(lineNo, `expected the count of ${counts.length + 1}-grams, got ${k}-grams`);
    if (k > MAX_ORDER) fail(lineNo, `order ${k} is above the supported maximum ${MAX_ORDER}`);
    counts.push(Number(m![2]));
  }
  if (counts[0] === 0) fail(lineNo, 'the model has no unigrams');

  const N = counts.length;
  const vocab = new Vocabulary();
  const orders: NgramOrder[] = [];
  let model: NgramModel | null = null;
  for (let k = 1; k <= N; k++) {
    do {
      line = nextLine();
      if (line === null) fail(lineNo, `unexpected end of file: expected the \\${k}-grams: section`);
    } while (line!.trim() === '');
    if (line!.trim() !== `\\${k}-grams:`) fail(lineNo, `expected "\\${k}-grams:", got ${JSON.stringify(line!.slice(0, 80))}`);
    const entries: PendingEntry[] = [];
    const uniProb: number[] = [];
    const uniBackoff: number[] = [];
    const ids = new Array<number>(k);
    for (;;) {
      line = nextLine();
      if (line === null) fail(lineNo, `unexpected end of file in the ${k}-gram section`);
      if (line!.trim() === '') break;
      const fields = line!.trim().split(/[ \t]+/);
      if (fields.length !== k + 1 && fields.length !== k + 2) {
        fail(lineNo, `a ${k}-gram line needs a log-probability, ${k} word(s) and an optional backoff; got ${fields.length} fields`);
      }
      const logProb = Number(fields[0]);
      if (fields[0] === '' || !Number.isFinite(logProb)) fail(lineNo, `bad log-probability ${JSON.stringify(fields[0])}`);
      if (logProb > 0) fail(lineNo, `log-probability ${logProb} is positive`);
      let backoff = 0;
      if (fields.length === k + 2) {
        backoff = Number(fields[k + 1]);
        if (!Number.isFinite(backoff)) fail(lineNo, `bad backoff ${JSON.stringify(fields[k + 1])}`);
        if (k === N) fail(lineNo, `a highest-order ${k}-gram cannot have a backoff`);
      }
      if (k === 1) {
        if (vocab.id(fields[1]) !== undefined) fail(lineNo, `duplicate unigram ${JSON.stringify(fields[1])}`);
        vocab.add(fields[1]);
        uniProb.push(logProb);
        uniBackoff.push(backoff);
        continue;
      }
      for (let j = 0; j < k; j++) {
        const id = vocab.id(fields[1 + j]);
        if (id === undefined) fail(lineNo, `word ${JSON.stringify(fields[1 + j])} is not among the unigrams`);
        ids[j] = id!;
      }
      const parent = model!.find(ids, 0, k - 1);
      if (parent < 0) fail(lineNo, `the ${k - 1}-gram "${fields.slice(1, k).join(' ')}" that this ${k}-gram extends is missing`);
      entries.push({ parent, word: ids[k - 1], logProb, backoff, line: lineNo });
    }
    if (k === 1) {
      if (uniProb.length !== counts[0]) {
        fail(lineNo, `the header says ${counts[0]} unigrams, the section has ${uniProb.length}`);
      }
      if (vocab.id(UNK) === undefined) {
        vocab.add(UNK);
        uniProb.push(-100);
        uniBackoff.push(0);
      }
      if (vocab.id(BOS) === undefined) fail(lineNo, 'the model has no <s> unigram');
      if (vocab.id(EOS) === undefined) fail(lineNo, 'the model has no </s> unigram');
      const V = vocab.size;
      orders.push({
        count: V,
        words: Uint32Array.from({ length: V }, (_, i) => i),
        logProb: Float32Array.from(uniProb),
        backoff: N > 1 ? Float32Array.from(uniBackoff) : undefined,
      });
      if (N === 1) break;
      // Children are not known yet: a temporary model for prefix lookups of the bigram section.
      orders[0].childStart = new Uint32Array(V + 1);
      model = new NgramModel(vocab, orders.slice());
      continue;
    }
    if (entries.length !== counts[k - 1]) {
      fail(lineNo, `the header says ${counts[k - 1]} ${k}-grams, the section has ${entries.length}`);
    }
    entries.sort((a, b) => a.parent - b.parent || a.word - b.word);
    for (let i = 1; i < entries.length; i++) {
      if (entries[i].parent === entries[i - 1].parent && entries[i].word === entries[i - 1].word) {
        fail(entries[i].line, `duplicate ${k}-gram (also on line ${entries[i - 1].line})`);
      }
    }
    const parentOrder = orders[k - 2];
    const childStart = new Uint32Array(parentOrder.count + 1);
    for (const e of entries) childStart[e.parent + 1]++;
    for (let c = 0; c < parentOrder.count; c++) childStart[c + 1] += childStart[c];
    parentOrder.childStart = childStart;
    const order: NgramOrder = {
      count: entries.length,
      words: Uint32Array.from(entries, (e) => e.word),
      logProb: Float32Array.from(entries, (e) => e.logProb),
      backoff: k < N ? Float32Array.from(entries, (e) => e.backoff) : undefined,
    };
    if (k < N) order.childStart = new Uint32Array(order.count + 1);
    orders.push(order);
    model = new NgramModel(vocab, orders.slice());
  }
  do {
    line = nextLine();
    if (line === null) fail(lineNo, 'unexpected end of file: expected \\end\\');
  } while (line!.trim() === '');
  if (line!.trim() !== '\\end\\') fail(lineNo, `expected \\end\\, got ${JSON.stringify(line!.slice(0, 80))}`);
  return new NgramModel(vocab, orders);
}
