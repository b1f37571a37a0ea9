/**
 * An n-gram model's vocabulary sent from the worker thread that runs the model to the host, which
 * tokenizes: all words as one UTF-8 buffer (copied in one piece, not one string at a time), and
 * unpacked on the host in slices between which its event loop runs, so that a vocabulary of
 * millions of words never blocks it for long.
 */
import type { PretokenizerKind } from '../tokenizers/pretokenizers';
import { NgramTokenizer } from './ngramLanguageModel';
import { Vocabulary } from './vocabulary';

export interface PackedVocabulary {
  kind: PretokenizerKind;
  /** The words' UTF-8 bytes one after the other; word i ends at ends[i]. */
  bytes: Uint8Array;
  ends: Uint32Array;
}

/** Words unpacked between two yields to the event loop: a few milliseconds of work. */
const SLICE_WORDS = 10_000;

export function packVocabulary(tokenizer: NgramTokenizer): PackedVocabulary {
  const encoder = new TextEncoder();
  const encoded = tokenizer.vocab.allWords().map((w) => encoder.encode(w));
  const ends = new Uint32Array(encoded.length);
  let total = 0;
  encoded.forEach((e, i) => (ends[i] = total += e.length));
  const bytes = new Uint8Array(total);
  encoded.forEach((e, i) => bytes.set(e, ends[i] - e.length));
  return { kind: tokenizer.kind, bytes, ends };
}

/** The tokenizer for a packed vocabulary; `pause` lets the host's event loop run between slices. */
export async function unpackTokenizer(packed: PackedVocabulary, pause: () => Promise<void>): Promise<NgramTokenizer> {
  const decoder = new TextDecoder();
  const vocab = new Vocabulary();
  let start = 0;
  for (let i = 0; i < packed.ends.length; i++) {
    const end = packed.ends[i];
    if (vocab.add(decoder.decode(packed.bytes.subarray(start, end))) !== i) throw new Error(`the model's vocabulary has a duplicate word at ${i}`);
    start = end;
    if ((i + 1) % SLICE_WORDS === 0) await pause();
  }
  return new NgramTokenizer(packed.kind, vocab);
}
