/**
 * ARPA back-off model files, written as KenLM writes them (log10 values, tab-separated); the
 * reader is arpaReader.ts.
 */
import { EOS, UNK } from '../tokenizers/pretokenizers';
import { NgramModel } from './ngramModel';

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
