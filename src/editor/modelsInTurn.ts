/**
 * Compare Models' loop without `vscode`: each model of a list in turn, one failing not stopping the
 * others, and a cancel keeping what the models before it gave (minutes of scoring on a long text).
 */
import { CancelledError, type CancelSignal } from '../core/errors';

export interface InTurnOutcome<R> {
  /** One per model that finished, in the list's order. */
  results: R[];
  /** "name: message" for each model that failed. */
  failures: string[];
  /** Names (`name`, else labels) of the models not scored because of the cancel (the one being scored, and those after it); empty when not cancelled. */
  notScored: string[];
}

/**
 * Runs `run` on each entry in turn. A cancel (the signal, or `run` throwing CancelledError) stops
 * the loop and keeps the results so far; any other error is a failure of that entry alone.
 */
export async function runInTurn<E extends { label: string }, R>(
  entries: readonly E[],
  run: (entry: E, index: number) => Promise<R>,
  signal: CancelSignal,
  onFailure?: (entry: E, message: string) => void,
  name: (entry: E) => string = (e) => e.label,
): Promise<InTurnOutcome<R>> {
  const results: R[] = [];
  const failures: string[] = [];
  const cancelledAt = (i: number) => ({ results, failures, notScored: entries.slice(i).map(name) });
  for (const [i, entry] of entries.entries()) {
    if (signal.cancelled) return cancelledAt(i);
    try {
      results.push(await run(entry, i));
    } catch (e) {
      if (e instanceof CancelledError || signal.cancelled) return cancelledAt(i);
      const message = e instanceof Error ? e.message : String(e);
      failures.push(`${name(entry)}: ${message}`);
      onFailure?.(entry, message);
    }
  }
  return { results, failures, notScored: [] };
}
