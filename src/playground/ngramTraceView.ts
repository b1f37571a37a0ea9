/**
 * An n-gram trace in words, for the playground's inside panel and the hover: one row per order
 * from the longest down to the one used, each with the factor it contributes to p (a backoff
 * weight, 1 for a context the model never saw, and last the stored probability), so that the
 * factors multiply to the token's p.
 */
import { visibleToken } from '../core/numberFormat';
import type { NgramTrace } from '../core/ngram/backoffTrace';

export interface TraceRow {
  order: number;
  /** The n-gram looked for, words shown ("the ␣ cat"): its context, then the word. */
  ngram: string;
  /** What happened at this order. */
  outcome: 'used' | 'backoff' | 'unseen context';
  /** What the row contributes to p, in log10 (0 for an unseen context). */
  log10Factor: number;
  /** The same in words: "backoff weight of ‘the cat’", "p(mat | the cat)". */
  explanation: string;
}

/** What the models here keep: the view says so instead of showing counts. */
export const NO_COUNTS_NOTE =
  'Counts: not kept. An ARPA file and LM Playground’s binary n-gram files store each n-gram’s smoothed probability and each context’s backoff weight, not the counts they were estimated from (Kneser-Ney discounts and continuation counts go into the probabilities at training time).';

const words = (w: readonly string[]) => w.map(visibleToken).join(' ');

export function traceRows(trace: NgramTrace): TraceRow[] {
  const word = trace.ngram[trace.ngram.length - 1];
  const rows: TraceRow[] = trace.backoffs.map((b) => ({
    order: b.order,
    ngram: words([...b.context, word]),
    outcome: b.contextSeen ? 'backoff' : 'unseen context',
    log10Factor: b.log10Weight,
    explanation: b.contextSeen
      ? `“${words(b.context)}” was seen, never followed by ${visibleToken(word)}: its backoff weight is paid`
      : `“${words(b.context)}” was never seen: nothing is paid (weight 1)`,
  }));
  const context = trace.ngram.slice(0, -1);
  rows.push({
    order: trace.usedOrder,
    ngram: words(trace.ngram),
    outcome: 'used',
    log10Factor: trace.log10Prob,
    explanation: context.length ? `p(${visibleToken(word)} | ${words(context)}), as stored` : `p(${visibleToken(word)}) alone (unigram), as stored`,
  });
  return rows;
}

/** "2-gram of a 4-gram model (1 longer context never seen, 1 backoff weight paid)": the order used, in a phrase. */
export function orderPhrase(trace: NgramTrace): string {
  if (trace.usedOrder === trace.maxOrder) return `${trace.usedOrder}-gram of a ${trace.maxOrder}-gram model (the full context)`;
  const paid = trace.backoffs.filter((b) => b.contextSeen).length;
  const unseen = trace.backoffs.length - paid;
  const parts = [
    ...(unseen ? [`${unseen} longer context${unseen === 1 ? '' : 's'} never seen`] : []),
    paid === 0 ? 'no backoff weight paid' : `${paid} backoff weight${paid === 1 ? '' : 's'} paid`,
  ];
  return `${trace.usedOrder}-gram of a ${trace.maxOrder}-gram model (${parts.join(', ')})`;
}
