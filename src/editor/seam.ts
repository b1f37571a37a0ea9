/**
 * Fitting a completion into the text around the place it goes: the model writes as if nothing
 * followed, and its first token often carries its own leading space (" cat").
 */

/** Only spaces and tabs are joined at a seam: line breaks are the text's own structure. */
const ENDS_IN_SPACE = /[ \t]$/;
const ENDS_IN_WORD = /[\p{L}\p{N}_]$/u;
const STARTS_WITH_WORD = /^[\p{L}\p{N}_]/u;

/**
 * The completion as it should be inserted between `before` and `after`:
 * - the whitespace at each seam is joined once ("the " + " cat" gives "the cat", not two spaces);
 * - a completion ending in a word, inserted just before a word ("his |has"), gets a separating
 *   space instead of running into it ("grandfatherhas").
 * Only the last character of `before` and the first of `after` matter.
 */
export function fitCompletion(before: string, completion: string, after: string): string {
  let out = completion;
  if (ENDS_IN_SPACE.test(before)) out = out.replace(/^[ \t]+/, '');
  if (out.length === 0) return out;
  if (/^[ \t]/.test(after)) out = out.replace(/[ \t]+$/, '');
  else if (STARTS_WITH_WORD.test(after) && ENDS_IN_WORD.test(out)) out += ' ';
  return out;
}
