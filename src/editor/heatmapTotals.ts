/**
 * The status bar's bits/char from a heat-map's per-token scores: a heat-map of the whole document
 * with the active model scores the very tokens `ScoreStream` scores, each with the same context
 * (chunkedScoring.ts), so their sum is the status bar's number without a second pass over the text.
 */
import { ScoreTotals } from '../core/scoring';
import type { Token } from '../core/model';

/**
 * Totals of a heat-map's scores of a whole text: position 0 and begin-of-sequence tokens are
 * given, not scored, as in ScoreStream. Undefined while a token is not scored (rank 0).
 */
export function totalsOfScored(
  tokens: readonly Token[],
  logProbs: Float64Array,
  ranks: Int32Array,
  bosId: number | undefined,
  unkId: number | undefined,
): ScoreTotals | undefined {
  const totals = new ScoreTotals();
  for (let i = 1; i < tokens.length; i++) {
    const id = tokens[i].id;
    if (id === bosId) continue;
    if (ranks[i] === 0) return undefined;
    totals.add({ ...tokens[i], logProb: logProbs[i], oov: unkId !== undefined && id === unkId });
  }
  return totals;
}
