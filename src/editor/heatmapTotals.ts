/**
 * The status bar's bits/char from a heat-map's per-token scores: a heat-map of the whole document
 * with the active model scores the very tokens `ScoreStream` scores, each with the same context
 * (chunkedScoring.ts), so their sum is the status bar's number without a second pass over the text.
 */
import { ScoreTotals } from '../core/scoring';
import type { Token } from '../core/model';

/**
 * Totals of a heat-map's scores of a whole text: position 0 and begin-of-sequence tokens are
 * given, not scored, as in ScoreStream. Undefined while a token is not scored (`scored[i]` 0: a
 * heat-map's rank 0, the status bar's flag), or when `sameContext(i)` says a score was given
 * another context than a whole scoring gives it (a heat-map keeps scores after an edit that moved
 * them into other windows: right for the colours, not the number `lmp score` gives).
 */
export function totalsOfScored(
  tokens: readonly Token[],
  logProbs: Float64Array,
  scored: ArrayLike<number>,
  bosId: number | undefined,
  unkId: number | undefined,
  sameContext?: (i: number) => boolean,
): ScoreTotals | undefined {
  const totals = new ScoreTotals();
  for (let i = 1; i < tokens.length; i++) {
    const id = tokens[i].id;
    if (id === bosId) continue;
    if (scored[i] === 0 || (sameContext && !sameContext(i))) return undefined;
    totals.add({ ...tokens[i], logProb: logProbs[i], oov: unkId !== undefined && id === unkId });
  }
  return totals;
}

/**
 * Tokens of a heat-map's scope that get a score: all but the first when the scope starts its
 * sequence (the first token has no context), all when a context precedes it (a selection's) or a
 * server scores. The running notification, the status bar and the message after Stop count these
 * (drive-gguf5 Low 6: "of 104,715" while running, "of 104,716" after Cancel).
 */
export function scorableTokens(tokens: number, hasContext: boolean): number {
  return Math.max(0, hasContext ? tokens : tokens - 1);
}

/** The message after Stop: the tokens scored of those that get a score. */
export function heatmapStoppedMessage(scored: number, scorable: number): string {
  return `LM: token probabilities stopped; the ${scored.toLocaleString('en-US')} of ${scorable.toLocaleString('en-US')} tokens scored keep their colours.`;
}
