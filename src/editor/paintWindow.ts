/**
 * Which tokens of a heat-map get their colours sent to an editor: those on the lines in sight and
 * a margin each side, not the whole document's. Each paint replaces every colour of the editor,
 * so painting all of a novel's 450,000 tokens a few times a second kept the extension host and
 * the workbench busy in proportion to what was scored. Scrolling near the margin's edge paints anew.
 */
import type { Token } from '../core/model';

/** Document offsets [start, end). */
export interface Span {
  start: number;
  end: number;
}

/**
 * Characters painted beyond those in sight, each side (a few hundred lines of prose). In
 * characters, not lines, so that long wrapped lines (a paragraph a line) do not make the margin a
 * novel long.
 */
export const MARGIN_CHARS = 20_000;

/**
 * What is in sight, at most MARGIN_CHARS of it: an editor tells which lines are in sight, not
 * which part of a line, so a document that is one long line (minified JSON, a book without line
 * breaks) would be in sight whole and painted whole at every paint (drive48 H1: Quick Open took
 * 56 s and more). Beyond that length it is the part around the cursor when the cursor is in
 * sight (where the user reads), else its start; the margins still reach past it.
 */
export function clipSight(sight: Span | undefined, cursor: number | undefined): Span | undefined {
  if (!sight || sight.end - sight.start <= MARGIN_CHARS) return sight;
  const at = cursor !== undefined && cursor >= sight.start && cursor <= sight.end ? cursor : sight.start;
  const start = Math.max(sight.start, Math.min(at - MARGIN_CHARS / 2, sight.end - MARGIN_CHARS));
  return { start, end: start + MARGIN_CHARS };
}

/**
 * The characters to paint for the lines in sight (`sight`, from the start of the first to the end
 * of the last; undefined before the editor's first layout) of a document of `length` characters.
 */
export function spanToPaint(sight: Span | undefined, length: number): Span {
  const s = sight ?? { start: 0, end: 0 };
  return { start: Math.max(0, s.start - MARGIN_CHARS), end: Math.min(length, s.end + MARGIN_CHARS) };
}

/**
 * Whether the lines in sight call for a new paint of an editor painted over `painted`: when they
 * come within a quarter of a margin of its edge (short of the document's own), so that what
 * scrolls into sight is coloured already.
 */
export function needsRepaint(sight: Span | undefined, painted: Span, length: number): boolean {
  if (!sight) return false;
  const slack = MARGIN_CHARS / 4;
  const startOk = painted.start <= 0 || sight.start >= painted.start + slack;
  const endOk = painted.end >= length || sight.end <= painted.end - slack;
  return !(startOk && endOk);
}

/**
 * The tokens that overlap the characters [start, end), as indices [first, end) into `tokens`
 * (sorted by offset, not overlapping): by binary search, not a walk over them all.
 */
export function tokensOverlapping(tokens: readonly Pick<Token, 'start' | 'length'>[], start: number, end: number): [number, number] {
  // The first token that ends after `start`.
  let lo = 0;
  let hi = tokens.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tokens[mid].start + tokens[mid].length <= start) lo = mid + 1;
    else hi = mid;
  }
  const first = lo;
  // From there, the first token that starts at or after `end`.
  hi = tokens.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tokens[mid].start < end) lo = mid + 1;
    else hi = mid;
  }
  return [first, lo];
}
