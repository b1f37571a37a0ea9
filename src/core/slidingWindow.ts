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

/**
 * Start of the window generation reads to predict the token at `position`, for a generation whose
 * first prediction follows `first` tokens (its prompt): the prompt's last window (half a window
 * when it is longer than one), then one token more each step, until the context outgrows the
 * window and a new one starts half a window before its end. A pure function of the two, so the
 * inside panel reads the very window a generated token was drawn from.
 */
export function generationWindowStart(first: number, position: number, contextLength: number): number {
  let start = first <= contextLength ? 0 : nextWindowStart(first, contextLength);
  for (let i = first + 1; i <= position; i++) if (i - start > contextLength) start = nextWindowStart(i, contextLength);
  return start;
}
