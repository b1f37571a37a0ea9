/**
 * How a model with a context window of W tokens reads a longer sequence: windows of W tokens, each
 * starting `windowKeep(W)` tokens before the previous one ended, so that every token after the
 * first window is predicted from at least half a window of context. Scoring a whole text, scoring
 * it as a stream, and a next-token query past the window all follow this one schedule, so that a
 * token gets the same number whichever way it is asked for.
 */

/** Tokens of context a window carries over when it slides: half of it (rounded down). */
export function windowKeep(contextLength: number): number {
  return Math.floor(contextLength / 2);
}

/** Start of the window that follows one ending at `end` (exclusive). */
export function nextWindowStart(end: number, contextLength: number): number {
  return end - windowKeep(contextLength);
}

/**
 * Start of the window that scores the token at `position` when a sequence is read in this
 * schedule from position 0: the first window scores [1, W), each later one the tokens after the
 * previous window's end.
 */
export function windowStartFor(position: number, contextLength: number): number {
  if (position < contextLength) return 0;
  const step = contextLength - windowKeep(contextLength);
  return (Math.floor((position - contextLength) / step) + 1) * step;
}
