/**
 * Fitting a completion into the text around the place it goes: the model writes as if nothing
 * followed, and its first token often carries its own leading space (" cat").
 */

/** Only spaces and tabs are joined at a seam: line breaks are the text's own structure. */
const ENDS_IN_SPACE = /[ \t]$/;
/** What ends a completion before a word without a space: whitespace, or what opens (a bracket, an opening quote, a dash, a slash). */
const JOINS_NEXT_WORD = /[\s\p{Ps}\p{Pi}\p{Pd}/]$/u;
const STARTS_WITH_WORD = /^[\p{L}\p{N}_]/u;

/**
 * The completion as it should be inserted between `before` and `after`:
 * - the whitespace at each seam is joined once ("the " + " cat" gives "the cat", not two spaces);
 * - a completion inserted just before a word ("his |has") gets a separating space instead of
 *   running into it ("grandfatherhas", "grandfather,has"), unless it ends in what opens ("(", "-").
 * Only the last character of `before` and the first of `after` matter.
 */
export function fitCompletion(before: string, completion: string, after: string): string {
  let out = completion;
  if (ENDS_IN_SPACE.test(before)) out = out.replace(/^[ \t]+/, '');
  if (out.length === 0) return out;
  if (/^[ \t]/.test(after)) out = out.replace(/[ \t]+$/, '');
  else if (STARTS_WITH_WORD.test(after) && !JOINS_NEXT_WORD.test(out)) out += ' ';
  return out;
}
