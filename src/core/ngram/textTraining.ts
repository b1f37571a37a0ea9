/** Feeding text to the Kneser-Ney trainer in a pre-tokenizer's convention. */
import { KENLM_SPACE, editorPieces, type PretokenizerKind } from '../tokenizers/pretokenizers';
import type { KneserNeyTrainer } from './kneserNey';
import { Utf8Words } from './utf8Words';

/**
 * - `whitespace`: each line is a sentence of whitespace-separated words (lmplz's input format);
 * - `editor`: the whole text is one sequence of editor pieces, so line breaks and spacing are learnt.
 * Returns the number of sentences added.
 */
export function addTextToTrainer(trainer: KneserNeyTrainer, text: string, kind: PretokenizerKind): number {
  if (kind === 'editor') {
    trainer.addSentence(editorPieces(text.replace(/\0/g, ' ')).map((p) => p.text));
    return 1;
  }
  let count = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    trainer.addSentence(
      text
        .slice(start, end)
        .split(KENLM_SPACE)
        .filter((w) => w.length > 0),
    );
    count++;
    start = end + 1;
  }
  return count;
}

/**
 * Feeds whole lines of UTF-8 bytes (lmplz's input format: a line is a sentence, words separated
 * by [ \t\r\f\v\0]) without making a string per token. `words` must be built on the trainer's
 * vocabulary; a last line without its line feed is a sentence too. Returns the number of sentences.
 */
export function addUtf8LinesToTrainer(trainer: KneserNeyTrainer, words: Utf8Words, bytes: Uint8Array): number {
  const { unkId, bosId, eosId } = trainer.vocab;
  let ids = new Uint32Array(256);
  let n = 0;
  let sentences = 0;
  let wordStart = -1;
  for (let i = 0; i <= bytes.length; i++) {
    const b = i < bytes.length ? bytes[i] : 0x0a;
    const space = b === 0x20 || b === 0x0a || (b >= 0x09 && b <= 0x0d) || b === 0;
    if (!space) {
      if (wordStart < 0) wordStart = i;
      continue;
    }
    if (wordStart >= 0) {
      const id = words.id(bytes, wordStart, i);
      wordStart = -1;
      if (id !== unkId && id !== bosId && id !== eosId) {
        if (n === ids.length) {
          const more = new Uint32Array(n * 2);
          more.set(ids);
          ids = more;
        }
        ids[n++] = id;
      }
    }
    if (b === 0x0a && (i < bytes.length || i > 0)) {
      // The end of the bytes ends a last line that has no line feed, unless it just ended one.
      if (i === bytes.length && bytes[i - 1] === 0x0a) break;
      trainer.addIds(ids, n);
      n = 0;
      sentences++;
    }
  }
  return sentences;
}
