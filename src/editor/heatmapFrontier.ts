/**
 * How far a running heat-map has scored its range, and so whether the status bar's number for a
 * selection that meets the range waits for it: only while the heat-map still has to read some of
 * the selection's tokens (the two would take turns reading the same text with the model). Once
 * it has passed the selection, the selection is scored at once (hostile31: a 128-character
 * selection waited for the rest of a 35,000-token heat-map, though scoring it takes 62 ms).
 */
import type { Token } from '../core/model';

/**
 * The document offset before which every token of the heat-map's range is scored: the start of
 * its first unscored token (rank 0; token 0 is not looked at when it is only context), else the
 * end of its last token (a server's heat-map has tokens only as far as it has scored).
 */
export function scoredUpTo(tokens: readonly Pick<Token, 'start' | 'length'>[], ranks: ArrayLike<number>, firstScored: number, rangeStart: number): number {
  for (let i = firstScored; i < tokens.length; i++) if (ranks[i] === 0) return tokens[i].start;
  const last = tokens[tokens.length - 1];
  return last ? last.start + last.length : rangeStart;
}

/**
 * Whether the number of the selection [start, end) waits for a heat-map run over [run.start,
 * run.end) that has scored up to `run.scoredTo`: a selection outside the range never does (drive21
 * L4: a two-line selection waited seconds for a heat-map of other lines).
 */
export function selectionWaitsForRun(run: { busy: boolean; start: number; end: number; scoredTo: number }, start: number, end: number): boolean {
  return run.busy && start < run.end && run.start < end && run.scoredTo < end;
}
