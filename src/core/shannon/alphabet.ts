/**
 * The symbols of the guessing game. Shannon's 27: the letters a–z and space, with text folded to
 * them (case and accents dropped, every other character a space, runs of spaces merged). Or every
 * character of the text itself.
 */

export type AlphabetKind = 'shannon27' | 'all';

export interface Alphabet {
  kind: AlphabetKind;
  /** The symbols in a fixed order (one code point each); the order breaks ties between guesses. */
  symbols: readonly string[];
  /** The symbol a character counts as, or undefined when it is outside the alphabet. */
  fold(ch: string): string | undefined;
  /** The symbol a typed key means: for Shannon's alphabet only letters and the space bar count. */
  foldTyped(ch: string): string | undefined;
}

const SHANNON_SYMBOLS = [' ', ...'abcdefghijklmnopqrstuvwxyz'];

function foldChar27(ch: string): string {
  const base = ch.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  return base.length === 1 && base >= 'a' && base <= 'z' ? base : ' ';
}

/** Text as Shannon's players saw it: letters and single spaces. */
export function foldToShannon27(text: string): string {
  let out = '';
  for (const ch of text) {
    const f = foldChar27(ch);
    if (f === ' ' && (out.length === 0 || out.endsWith(' '))) continue;
    out += f;
  }
  return out.trimEnd();
}

/** The text of a game: folded for Shannon's alphabet, with line endings normalised otherwise. */
export function prepareGameText(kind: AlphabetKind, text: string): string {
  return kind === 'shannon27' ? foldToShannon27(text) : text.replace(/\r\n?/g, '\n');
}

/** The alphabet of a game on `text` (for `all`, the distinct characters of the text). */
export function makeAlphabet(kind: AlphabetKind, text: string): Alphabet {
  if (kind === 'shannon27') {
    const foldTyped = (ch: string) => (ch === ' ' ? ' ' : foldChar27(ch) !== ' ' ? foldChar27(ch) : undefined);
    return { kind, symbols: SHANNON_SYMBOLS, fold: foldChar27, foldTyped };
  }
  const symbols = [...new Set(Array.from(text))].sort();
  const set = new Set(symbols);
  const fold = (ch: string) => (set.has(ch) ? ch : undefined);
  return { kind, symbols, fold, foldTyped: fold };
}

/** How a symbol reads in a table: space and line breaks made visible. */
export function showSymbol(ch: string): string {
  if (ch === ' ') return '␣';
  if (ch === '\n') return '⏎';
  if (ch === '\t') return '⇥';
  return ch;
}
