/**
 * The word a token belongs to, for the hover's word view: a sub-word token (`her` in "northern")
 * means little alone, the word's probability is the product of its tokens' conditional
 * probabilities, p(w) = Π p(t_i | text before t_i).
 */

/** Most tokens a word view lists; longer "words" (a long number, a URL) get no word view. */
export const MAX_WORD_TOKENS = 16;

const LETTER = /[\p{L}\p{M}\p{N}]/u;
const APOSTROPHE = /['’]/;

/** [start, end) of the word around `offset` in `text`: letters, digits and apostrophes between letters. */
export function wordAround(text: string, offset: number): { start: number; end: number } | undefined {
  const inWord = (i: number) =>
    i >= 0 &&
    i < text.length &&
    (LETTER.test(text[i]) || (APOSTROPHE.test(text[i]) && i > 0 && LETTER.test(text[i - 1]) && i + 1 < text.length && LETTER.test(text[i + 1])));
  if (!inWord(offset)) return undefined;
  let start = offset;
  let end = offset + 1;
  while (inWord(start - 1)) start--;
  while (inWord(end)) end++;
  return { start, end };
}

interface Span {
  start: number;
  length: number;
}

/**
 * Indices [first, last] of the tokens that make up the word at `offset` (every token overlapping
 * it), when there are at least two of them and at most MAX_WORD_TOKENS; undefined otherwise.
 * Offsets of `tokens` and `offset` are in the same coordinates as `text` from `textStart`.
 */
export function wordTokenRange(
  text: string,
  textStart: number,
  tokens: readonly Span[],
  offset: number,
): { first: number; last: number; start: number; end: number } | undefined {
  const w = wordAround(text, offset - textStart);
  if (!w) return undefined;
  const start = w.start + textStart;
  const end = w.end + textStart;
  let first = -1;
  let last = -1;
  tokens.forEach((t, i) => {
    if (t.length > 0 && t.start < end && t.start + t.length > start) {
      if (first < 0) first = i;
      last = i;
    }
  });
  if (first < 0 || last - first < 1 || last - first + 1 > MAX_WORD_TOKENS) return undefined;
  // Tokens that stop inside the word (a selection's heat-map that ends there) would give the
  // probability of part of it as the word's (hostile22 M3: "bench = ␣b + en").
  if (tokens[first].start > start || tokens[last].start + tokens[last].length < end) return undefined;
  return { first, last, start, end };
}

export interface WordPart {
  text: string;
  logProb: number;
}

/** log p(word) in nats: the sum of its tokens' conditional log-probabilities. */
export function wordLogProb(parts: readonly WordPart[]): number {
  return parts.reduce((s, p) => s + p.logProb, 0);
}
