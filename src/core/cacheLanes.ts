/**
 * A local model's two caches ("lanes") of token sequences: the main one, a window long, and a
 * small side one. The editor's surfaces share one model: the heat-map and the status bar walk a
 * long document, inline completions and the playground ask at the cursor, hovers at any line. With
 * one cache, a short request far from what it holds (a hover near the top of a long document,
 * another request of `lmp serve --concurrency 2`) threw the long sequence away, and the next
 * keystroke at the end read the whole document again (hostile G5: 83 ms → 60.8 s for 3,000 tokens
 * of a 135M model). So a request runs on the lane where it costs least: the tokens it has to run
 * now plus the cached tokens it throws away, which the long sequence's next request would run
 * again. A request the side lane cannot hold runs on the main one; ties go to the main one.
 */

/** Tokens of the side lane: about an inline completion's prompt (4,000 characters), a hover's few lines, and much less memory than a window. */
export const SIDE_LANE_TOKENS = 1024;

/** What running a request on one lane costs, in tokens. */
export interface LaneCost {
  /** Tokens the request runs (those after the prefix it shares with the lane's sequence). */
  run: number;
  /** Cached tokens the run throws away (0 when the request extends the sequence, or when the lane keeps the longer one). */
  lost: number;
}

/** The lane a request runs on: `side` is undefined when the request does not fit the side lane. */
export function chooseLane(main: LaneCost, side: LaneCost | undefined): 'main' | 'side' {
  if (!side) return 'main';
  return side.run + side.lost < main.run + main.lost ? 'side' : 'main';
}
