/**
 * Which visible line the hover warm-up runs the context of. Far into a document a window starts at
 * a line start after a multiple of half of `contextChars` (core/contextWindow.ts), so the lines of
 * one screen may have windows starting in two places; a warm-up caches one of them. The end of the
 * visible lines serves the lines whose windows start where its window does; when more of the
 * lines above share another start, the last of those is warmed (drive11 M2: a hover a screen up
 * from the warmed line read its whole context, 10.9 s on a 135M model).
 */
export function warmLine(top: number, bottom: number, windowStart: (line: number) => number): number {
  if (bottom <= top || windowStart(top) === windowStart(bottom)) return bottom;
  // The visible lines in runs of one window start (starts never decrease down the document, so
  // binary searches find where each run ends); the last line of the longest run, the lowest of equals.
  let best = bottom;
  let bestLength = 0;
  for (let first = top; first <= bottom;) {
    const start = windowStart(first);
    const next = windowStart(bottom) === start ? bottom + 1 : firstLine(first + 1, bottom, (line) => windowStart(line) !== start);
    if (next - first >= bestLength) {
      best = next - 1;
      bestLength = next - first;
    }
    first = next;
  }
  return best;
}

/** The first line in [from, to] for which `is` holds, given that it holds from some line on (and at `to`). */
function firstLine(from: number, to: number, is: (line: number) => boolean): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (is(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
