/**
 * An n-gram model's vocabulary sent from the worker thread that runs the model to the host, which
 * tokenizes: all words in one string, NUL-separated (a string is copied in one piece, not word by
 * word), cut and indexed on the host in slices between which its event loop runs, so that a
 * vocabulary of millions of words never blocks it for long.
 */
import type { PretokenizerKind } from '../tokenizers/pretokenizers';
import { NgramTokenizer } from './ngramLanguageModel';
import { Vocabulary } from './vocabulary';

export interface PackedVocabulary {
  kind: PretokenizerKind;
  /** The words in id order, each followed by a NUL (which no word holds: readers and trainers split at it). */
  words: string;
  count: number;
}

/** Milliseconds of indexing between two yields to the event loop. */
const SLICE_MS = 8;

export function packVocabulary(tokenizer: NgramTokenizer): PackedVocabulary {
  const all = tokenizer.vocab.allWords();
  const words = all.join('\0') + '\0';
  if (words.length !== all.reduce((n, w) => n + w.length + 1, 0) || words.split('\0').length !== all.length + 1) {
    throw new Error('a word of the vocabulary holds a NUL character');
  }
  return { kind: tokenizer.kind, words, count: all.length };
}

/** The tokenizer for a packed vocabulary; `pause` lets the host's event loop run between slices. */
export async function unpackTokenizer(packed: PackedVocabulary, pause: () => Promise<void>): Promise<NgramTokenizer> {
  const vocab = new Vocabulary();
  const { words } = packed;
  let start = 0;
  let sliceStart = Date.now();
  for (let i = 0; i < packed.count; i++) {
    const end = words.indexOf('\0', start);
    if (end < 0) throw new Error(`the packed vocabulary ends after ${i} of its ${packed.count} words`);
    if (vocab.add(words.slice(start, end)) !== i) throw new Error(`the model's vocabulary has a duplicate word at ${i}`);
    start = end + 1;
    if ((i & 255) === 255 && Date.now() - sliceStart > SLICE_MS) {
      await pause();
      sliceStart = Date.now();
    }
  }
  return new NgramTokenizer(packed.kind, vocab);
}
