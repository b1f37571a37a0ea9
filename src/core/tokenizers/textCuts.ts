/**
 * Safe cuts for tokenizing a long text in pieces: a position p is a safe cut when the tokens of
 * text[0..p) followed by those of text[p..) (encoded as a continuation, offsets shifted) are the
 * tokens of the whole text, whatever comes after. Each rule returns the last safe cut in `text`
 * that does not depend on what follows `text`, or 0 when there is none. Each rule decides from
 * text[p - 1] and text[p] alone, so a caller may look only at the end of a text it has already
 * searched (see TokenStream).
 */

/** ASCII whitespace: a space character for every pre-tokenizer (\s in JS, KenLM's separators). */
function isAsciiSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** JavaScript's \s, which the editor and GPT-2 patterns use. */
const JS_SPACE = /\s/;

/**
 * Before an ASCII whitespace character that follows a non-space one: every pattern alternative
 * that holds a non-space character stops at whitespace (a space is only ever taken in front of
 * a word), and nothing looks back. Holds for the editor pieces and GPT-2's byte-level pattern.
 */
export function cutBeforeSpaceAfterWord(text: string): number {
  for (let p = text.length - 1; p >= 1; p--) {
    if (isAsciiSpace(text.charCodeAt(p)) && !JS_SPACE.test(text[p - 1])) return p;
  }
  return 0;
}

/**
 * A punctuation character that is always a piece of its own (with at most the space before it):
 * not whitespace, letter, mark or digit, and not an apostrophe (which can join two word parts).
 * Surrogates are left out, so that a cut never falls inside a character.
 */
const LONE_PUNCTUATION = /^[^\s\p{L}\p{M}\p{N}'’\ud800-\udfff]$/u;

/**
 * Editor pieces: after a line feed as well (a line break is always a piece of its own, `\r\n`
 * included), so that runs of blank lines can be cut too; and after a punctuation character, which
 * is a piece of its own (nothing looks back past it), so that minified text can be cut. A run of
 * spaces or tabs is one piece (its last space goes with a following word): it has no cut inside.
 */
export function editorCut(text: string): number {
  for (let p = text.length - 1; p >= 1; p--) {
    if (text.charCodeAt(p - 1) === 0x0a) return p;
    if (isAsciiSpace(text.charCodeAt(p)) && !JS_SPACE.test(text[p - 1])) return p;
    if (LONE_PUNCTUATION.test(text[p - 1])) return p;
  }
  return 0;
}

/**
 * KenLM's words: before any separator or line feed (words never hold one), but not right after a
 * line feed: the `<s>` of a line is only given when the line feed has text after it.
 */
export function whitespaceCut(text: string): number {
  for (let p = text.length - 1; p >= 1; p--) {
    const c = text.charCodeAt(p);
    const separator = c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c || c === 0x0b || c === 0;
    if (separator && text.charCodeAt(p - 1) !== 0x0a) return p;
  }
  return 0;
}
