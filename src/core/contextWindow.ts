/**
 * A bounded context window: which part of a long text to show the model for a position, so that
 * hovers and completions cost the same on a 10-line file and on a 100 MB one.
 */
import type { Token, Tokenizer } from './model';

/**
 * Characters read past a position so that the token there is the document's: a pre-tokenizer or
 * a merge can join it to what follows (a byte-level BPE makes `.` and the line break after it one
 * token, hostile29 2), more than a pre-token spans in text.
 */
export const TOKEN_LOOKAHEAD_CHARS = 256;

export interface ContextWindow {
  /** Offset where the window starts. */
  start: number;
  /** Whether the window starts a sequence (text start, or a line start for sentence-per-line models). */
  atStart: boolean;
}

/**
 * Starts at most `maxChars` before `offset`, moved forward to the next multiple of half of
 * `maxChars` (counted in the document: `base` is where `text` starts in it) and then to a clean
 * token boundary: after a line break when there is one in reach, else at whitespace. The windows
 * of positions near one another (hovers on the next lines, ghost text at the cursor, the hover
 * warm-up at the end of the visible lines) then start at the same place and are the same tokens
 * up to where they differ, which a model has cached for one of them: starting each exactly
 * `maxChars` before its position, every line of a hard-wrapped text had a window of its own, and a
 * 135M model read 1,400 tokens again for each hover (drive10: 11-12 s). A line start or space
 * that would leave the window less than a quarter of `maxChars` (after a long line, as a paragraph
 * a line, or in text without spaces: base64, CJK, minified JSON) is not taken: the multiple itself
 * is, which may split a token (DocumentTokenIndex gives the document's own tokens there; hostile28
 * H1, hostile29 1: a hover at the next line's start was given 1 to 6 tokens of context). The
 * window is between a quarter of `maxChars` (half, unless a line is longer than a quarter) and
 * `maxChars` long.
 */
export function contextWindow(text: string, offset: number, maxChars: number, tokenizer: Pick<Tokenizer, 'sentencePerLine'>, base = 0): ContextWindow {
  if (tokenizer.sentencePerLine) {
    const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
    if (offset - lineStart <= maxChars) return { start: lineStart, atStart: true };
  }
  // Where the window may start at the earliest, as an offset in the document.
  const earliest = base + offset - maxChars;
  if (earliest <= 0 && base === 0) return { start: 0, atStart: true };
  const grid = Math.max(1, Math.floor(maxChars / 2));
  let start = Math.min(offset, Math.max(0, Math.ceil(earliest / grid) * grid - base));
  // The latest start that leaves the window a quarter of maxChars.
  const latest = offset - Math.floor(grid / 2);
  const nl = text.indexOf('\n', start - 1);
  if (nl >= 0 && nl + 1 <= latest) return { start: nl + 1, atStart: tokenizer.sentencePerLine };
  let space = start;
  while (space < latest && !/\s/.test(text[space])) space++;
  if (space < latest) return { start: space, atStart: false };
  // Not between the two halves of a character.
  if (/[\uDC00-\uDFFF]/.test(text[start] ?? '')) start++;
  return { start, atStart: false };
}

/** The window before a document offset, read from the document: its text, where it starts, and whether it starts a sequence. */
export interface TextWindow {
  /** Text from the window start to the end asked for. */
  text: string;
  /** Document offset of text[0]. */
  startOffset: number;
  atStart: boolean;
}

/**
 * The window before `offset` (plus the text up to `endOffset`, e.g. the rest of its line) of a
 * document read by `read(start, end)` (document offsets), as the hover and completions show it
 * to a model.
 */
export function textWindowAt(
  read: (start: number, end: number) => string,
  offset: number,
  maxChars: number,
  tokenizer: Pick<Tokenizer, 'sentencePerLine'>,
  endOffset = offset,
): TextWindow {
  // One spare character lets contextWindow see whether the window begins at a line start.
  const readFrom = Math.max(0, offset - maxChars - 1);
  const raw = read(readFrom, endOffset);
  const w = contextWindow(raw, offset - readFrom, maxChars, tokenizer, readFrom);
  const atStart = w.atStart && (readFrom === 0 || w.start > 0 || tokenizer.sentencePerLine);
  return { text: raw.slice(w.start), startOffset: readFrom + w.start, atStart };
}

/** The part of `window` from document offset `start` on (where its tokens are the document's: DocumentTokenIndex.place). */
export function windowFrom(window: TextWindow, start: number): TextWindow {
  if (start <= window.startOffset) return window;
  return { text: window.text.slice(start - window.startOffset), startOffset: start, atStart: false };
}

/** The text window a hover at `offset` reads: on past its line's end (`lineEnd`), so that the line's last token is the document's. */
export function hoverTextWindow(
  read: (start: number, end: number) => string,
  offset: number,
  lineEnd: number,
  maxChars: number,
  tokenizer: Pick<Tokenizer, 'sentencePerLine'>,
): TextWindow {
  return textWindowAt(read, offset, maxChars, tokenizer, lineEnd + TOKEN_LOOKAHEAD_CHARS);
}

/** NUL characters that make a text binary: at least this many, and one in a thousand characters. */
const BINARY_MIN_NULS = 8;
const BINARY_NUL_SHARE = 1 / 1000;

/**
 * Text that is not text: many NUL characters mark a binary file (random bytes have one in 256;
 * executables and images far more). A few are a text's own, one typed by mistake say, and are
 * scored as tokens, as the heat-map and hovers score them while the user types (hostile13 L8).
 */
export function looksBinary(text: string): boolean {
  let nuls = 0;
  for (let at = text.indexOf('\0'); at >= 0; at = text.indexOf('\0', at + 1)) nuls++;
  return nulsMakeBinary(nuls, text.length);
}

/** Whether `nuls` NUL characters in a text of `length` make it binary, as looksBinary judges (for a text read in pieces). */
export function nulsMakeBinary(nuls: number, length: number): boolean {
  return nuls >= BINARY_MIN_NULS && nuls >= length * BINARY_NUL_SHARE;
}

/**
 * The document's tokens of a scope [scopeStart, scopeEnd) and of the context before it, from one
 * encoding of `text` (document offsets from `startOffset`), which runs from the context's start to
 * a little past the scope, so that a pre-tokenizer sees what follows each. Encoded apart, the text
 * before a paragraph ended in "\n\n", which a byte-level BPE makes one token where the document has
 * "\n", "\n" (gpt-classics, given it, put 99.6 % on a line break after "walked out into the"), and a
 * selection from a word's first letter was spelled g + ard + en where the document has " garden"
 * (drive20 H1, hostile21 H1). A token that straddles either end belongs to the scope; a token of no
 * width at `scopeStart` (a first byte of the character there, or the BOS) does too.
 */
export function scopeTokens(
  tokenizer: Pick<Tokenizer, 'encode'>,
  text: string,
  atStart: boolean,
  startOffset: number,
  scopeStart: number,
  scopeEnd: number,
): { context: Token[]; tokens: Token[] } {
  const all = tokenizer.encode(text, atStart, startOffset);
  const before = (t: Token) => t.start + t.length <= scopeStart && !(t.length === 0 && t.start === scopeStart);
  let n = 0;
  while (n < all.length && before(all[n])) n++;
  let m = n;
  while (m < all.length && all[m].start < scopeEnd) m++;
  return { context: all.slice(0, n), tokens: all.slice(n, m) };
}
