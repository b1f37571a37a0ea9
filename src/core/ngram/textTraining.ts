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
    trainer.startSentence();
    const feed = new EditorTextFeed(trainer);
    feed.push(text);
    feed.end();
    trainer.endSentence();
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
 * UTF-16 units after a piece that can change where it ends: a word goes on through an apostrophe
 * and a letter (up to 3 units, the letter astral), a run of spaces and a lone CR look at the one
 * character after them (up to 2).
 */
const LOOKAHEAD = 4;

/**
 * Feeds a text that arrives in parts (a large file read chunk by chunk) to the trainer's open
 * sentence. It cuts after a line feed, where no editor piece spans the cut, so the pieces are those
 * of the whole text; what follows the last line feed waits for the next part. A line longer than
 * `longLine` characters (a file with no line feed at all) is cut before its last pieces: those
 * that end `LOOKAHEAD` units before the end end where they would in the whole text, so the text
 * waiting stays bounded and the counts stay exact.
 */
export class EditorTextFeed {
  private carry = '';
  /** The carry's length at which a long line is cut next (doubled when it held one piece, so a giant word is not re-read per part). */
  private cutAt: number;

  constructor(
    private readonly trainer: KneserNeyTrainer,
    private readonly longLine = 1 << 16,
  ) {
    this.cutAt = longLine;
  }

  push(text: string): void {
    const lf = text.lastIndexOf('\n');
    // A part without a line feed only grows what waits (no flattening of a long line per part).
    if (lf < 0) {
      this.carry += text;
      if (this.carry.length > this.cutAt) this.cutLongLine();
      return;
    }
    this.continue(this.carry + text.slice(0, lf + 1));
    this.carry = text.slice(lf + 1);
    this.cutAt = this.longLine;
  }

  /** The text is complete: what waits is its last line. */
  end(): void {
    if (this.carry) this.continue(this.carry);
    this.carry = '';
  }

  private cutLongLine(): void {
    const pieces = editorPieces(this.carry.replace(/\0/g, ' '));
    // The pieces fed end at least LOOKAHEAD characters before the end: what follows decides a piece only that far (below).
    let keep = pieces.length - 1;
    while (keep > 0 && this.carry.length - pieces[keep].start < LOOKAHEAD) keep--;
    if (keep === 0) {
      this.cutAt = this.carry.length * 2;
      return;
    }
    this.trainer.continueWords(pieces.slice(0, keep).map((p) => p.text));
    this.carry = this.carry.slice(pieces[keep].start);
    this.cutAt = this.longLine;
  }

  private continue(text: string): void {
    this.trainer.continueWords(editorPieces(text.replace(/\0/g, ' ')).map((p) => p.text));
  }
}

/** Sentences as word ids: `lengths[i]` ids of `ids` each, one after the other. */
export interface IdSentences {
  ids: Uint32Array;
  lengths: Uint32Array;
}

/**
 * Whole lines of UTF-8 bytes in lmplz's input format (a line is a sentence, words separated by
 * [ \t\r\f\v\0]) as word ids, without making a string per token; `<s>`, `</s>` and `<unk>` in
 * the text are dropped as lmplz drops them. A last line without its line feed is a sentence too.
 */
export function utf8LinesToIds(words: Utf8Words, bytes: Uint8Array): IdSentences {
  const { unkId, bosId, eosId } = words.vocab;
  let ids: Uint32Array = new Uint32Array(Math.max(16, bytes.length >>> 2));
  let lengths: Uint32Array = new Uint32Array(Math.max(16, bytes.length >>> 5));
  let n = 0;
  let sentences = 0;
  let sentenceStart = 0;
  let wordStart = -1;
  for (let i = 0; i <= bytes.length; i++) {
    const b = i < bytes.length ? bytes[i] : 0x0a;
    const space = b === 0x20 || (b >= 0x09 && b <= 0x0d) || b === 0;
    if (!space) {
      if (wordStart < 0) wordStart = i;
      continue;
    }
    if (wordStart >= 0) {
      const id = words.id(bytes, wordStart, i);
      wordStart = -1;
      if (id !== unkId && id !== bosId && id !== eosId) {
        if (n === ids.length) ids = grown(ids, n * 2);
        ids[n++] = id;
      }
    }
    // The end of the bytes ends a last line that has no line feed (not one that just ended).
    if (b === 0x0a && (i < bytes.length || (i > 0 && bytes[i - 1] !== 0x0a))) {
      if (sentences === lengths.length) lengths = grown(lengths, sentences * 2);
      lengths[sentences++] = n - sentenceStart;
      sentenceStart = n;
    }
  }
  return { ids: ids.subarray(0, n), lengths: lengths.subarray(0, sentences) };
}

/** Adds sentences of word ids (from utf8LinesToIds, on the trainer's vocabulary); returns their number. */
export function addIdSentencesToTrainer(trainer: KneserNeyTrainer, { ids, lengths }: IdSentences): number {
  trainer.addIdSentences(ids, lengths);
  return lengths.length;
}

function grown(a: Uint32Array, length: number): Uint32Array {
  const b = new Uint32Array(length);
  b.set(a);
  return b;
}
