/**
 * Offsets of tokens whose text went through steps this product does not reproduce (a normalizer
 * such as NFKC or Lowercase, a pre-tokenizer that drops whitespace): what each token spells is
 * aligned with the original text in one pass. Both sides are folded character by character
 * (compatibility decomposition, lower case, no combining marks, any whitespace as one space,
 * control characters dropped), then matched left to right; a space only one side has is skipped,
 * and after a mismatch the text is searched a bounded distance ahead for what the token spells
 * next. Linear in the text and the tokens (times that bound).
 */

/** How far ahead (folded characters) the text is searched after a mismatch. */
const LOOK_AHEAD = 256;
/** Characters that must match at the place found after a mismatch (fewer at the end). */
const RESYNC_MATCH = 3;

const folded = new Map<number, string>();

/** One character folded for comparison: what normalizers change is taken out on both sides. */
function fold(ch: string): string {
  const c = ch.codePointAt(0)!;
  if (c < 0x80) {
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) return ' ';
    if (c < 0x20 || c === 0x7f) return '';
    return c >= 0x41 && c <= 0x5a ? String.fromCharCode(c + 32) : ch;
  }
  let f = folded.get(c);
  if (f === undefined) {
    if (/\s/u.test(ch) || ch === '▁') f = ' ';
    else if (/[\p{Cc}\p{Cf}]/u.test(ch)) f = '';
    else f = ch.normalize('NFKD').toLowerCase().replace(/\p{M}/gu, '');
    folded.set(c, f);
  }
  return f;
}

/**
 * For tokens that spell `surfaces` (in order) and were made from `text`, each token's [start, end)
 * in `text`: contiguous from 0 to text.length (a token that spells nothing found in the text has
 * no width; text the tokens dropped goes to the token after it, or the last one).
 */
export function alignTokens(text: string, surfaces: readonly string[]): { starts: Int32Array; ends: Int32Array } {
  // The folded text, each unit with the offset of the character it came from.
  const units: string[] = [];
  const origin: number[] = [];
  for (let i = 0; i < text.length;) {
    const c = text.codePointAt(i)!;
    const ch = c > 0xffff ? text.slice(i, i + 2) : text[i];
    for (const u of fold(ch)) {
      units.push(u);
      origin.push(i);
    }
    i += ch.length;
  }
  const n = units.length;
  const at = (p: number) => (p < n ? origin[p] : text.length);
  const starts = new Int32Array(surfaces.length);
  const ends = new Int32Array(surfaces.length);
  let p = 0;
  let boundary = 0;
  surfaces.forEach((surface, t) => {
    const wanted: string[] = [];
    for (const ch of surface) for (const u of fold(ch)) wanted.push(u);
    for (let k = 0; k < wanted.length; k++) {
      const u = wanted[k];
      if (p < n && units[p] === u) {
        p++;
        continue;
      }
      if (u === ' ') continue; // a space the text does not have (a prefix the tokenizer added)
      let q = p;
      while (q < n && units[q] === ' ') q++; // spaces the tokenizer dropped
      if (q < n && units[q] === u) {
        p = q + 1;
        continue;
      }
      const found = search(units, p, wanted, k);
      if (found >= 0) p = found + 1;
    }
    starts[t] = boundary;
    boundary = Math.max(boundary, at(p));
    ends[t] = boundary;
  });
  if (surfaces.length) ends[surfaces.length - 1] = text.length;
  return { starts, ends };
}

/** Where wanted[k..] (its first few units) starts in units[from, from + LOOK_AHEAD), or -1. */
function search(units: readonly string[], from: number, wanted: readonly string[], k: number): number {
  const need = Math.min(RESYNC_MATCH, wanted.length - k);
  const last = Math.min(units.length - need, from + LOOK_AHEAD);
  for (let q = from; q <= last; q++) {
    let j = 0;
    while (j < need && units[q + j] === wanted[k + j]) j++;
    if (j === need) return q;
  }
  return -1;
}
