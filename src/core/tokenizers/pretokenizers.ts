/**
 * Pre-tokenizers split text into pieces with their offsets. Two conventions:
 * - `editor`: every character belongs to exactly one piece, so joining the pieces gives back the
 *   text. Words (letters, digits, marks, inner apostrophes) and single punctuation characters take
 *   one preceding space with them, as in GPT-2; other runs of spaces/tabs and each line break are
 *   pieces of their own.
 * - `whitespace`: KenLM's convention. One sentence per line, words split on ASCII whitespace;
 *   each line ends with `</s>` (only when it has a line break, as KenLM's `query` does) and the
 *   next line starts with `<s>`.
 */

export type PretokenizerKind = 'editor' | 'whitespace';

export const BOS = '<s>';
export const EOS = '</s>';
export const UNK = '<unk>';

export interface Piece {
  text: string;
  /** UTF-16 offset of the piece in the source text. */
  start: number;
  /** Length in UTF-16 units covered in the source text (0 for sentence markers). */
  length: number;
  /** Sentence markers are `<s>` / `</s>`; they are not literal text. */
  special?: typeof BOS | typeof EOS;
}

const EDITOR_PIECE = /\r\n|\n|\r| ?[\p{L}\p{M}\p{N}]+(?:['’][\p{L}\p{M}\p{N}]+)*| ?[^\s\p{L}\p{M}\p{N}]|[^\S\r\n]+(?![^\s])|[^\S\r\n]+/gu;

/** Editor pieces: exact round trip, `pieces.map(p => p.text).join('') === text`. */
export function editorPieces(text: string, offset = 0): Piece[] {
  const pieces: Piece[] = [];
  EDITOR_PIECE.lastIndex = 0;
  let m: RegExpExecArray | null;
  let expected = 0;
  while ((m = EDITOR_PIECE.exec(text)) !== null) {
    if (m.index !== expected) {
      // Every character is matched by one of the alternatives; a gap would be a bug.
      throw new Error(`editor pre-tokenizer skipped text at ${expected}`);
    }
    pieces.push({ text: m[0], start: offset + m.index, length: m[0].length });
    expected = m.index + m[0].length;
  }
  return pieces;
}

export const KENLM_SPACE = /[ \t\r\f\v\0]+/;

/**
 * KenLM pieces. With `atStart` the text begins a sentence (a `<s>` piece first). Tokens are the
 * words plus one `</s>` per line break, as `query` counts them.
 */
export function whitespacePieces(text: string, atStart = true, offset = 0): Piece[] {
  const pieces: Piece[] = [];
  if (atStart) pieces.push({ text: BOS, start: offset, length: 0, special: BOS });
  let lineStart = 0;
  while (lineStart <= text.length) {
    const nl = text.indexOf('\n', lineStart);
    const lineEnd = nl < 0 ? text.length : nl;
    let pos = lineStart;
    for (const word of text.slice(lineStart, lineEnd).split(KENLM_SPACE)) {
      if (word.length === 0) continue;
      const at = text.indexOf(word, pos);
      pieces.push({ text: word, start: offset + at, length: word.length });
      pos = at + word.length;
    }
    if (nl < 0) break;
    pieces.push({ text: EOS, start: offset + nl, length: 1, special: EOS });
    lineStart = nl + 1;
    if (lineStart < text.length) pieces.push({ text: BOS, start: offset + lineStart, length: 0, special: BOS });
  }
  return pieces;
}

export function pretokenize(kind: PretokenizerKind, text: string, atStart: boolean, offset = 0): Piece[] {
  if (kind === 'whitespace') return whitespacePieces(text, atStart, offset);
  const pieces = editorPieces(text, offset);
  if (atStart) pieces.unshift({ text: BOS, start: offset, length: 0, special: BOS });
  return pieces;
}

/** Joins generated pieces back into text in the convention of the pre-tokenizer. */
export function detokenize(kind: PretokenizerKind, pieces: readonly string[], precededByText: boolean): string {
  if (kind === 'editor') return pieces.filter((p) => p !== BOS && p !== EOS && p !== UNK).join('');
  let out = '';
  let lineHasWord = precededByText;
  for (const p of pieces) {
    if (p === BOS || p === UNK) continue;
    if (p === EOS) {
      out += '\n';
      lineHasWord = false;
      continue;
    }
    out += (lineHasWord ? ' ' : '') + p;
    lineHasWord = true;
  }
  return out;
}
