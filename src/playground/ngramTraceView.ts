/**
 * An n-gram trace in words, for the playground's inside panel and the hover: one row per order
 * from the longest down to the one used, each with the factor it contributes to p (a backoff
 * weight, 1 for a context the model never saw, and last the stored probability), so that the
 * factors multiply to the token's p.
 */
import { visibleToken } from '../core/numberFormat';
import type { CountEstimate, NgramTrace } from '../core/ngram/backoffTrace';

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

/** What the view says when the model keeps no counts. */
export const NO_COUNTS_NOTE =
  'Counts: this model does not keep them. ARPA files, the embedded model and lmp train-ngram’s files store each n-gram’s smoothed probability and each context’s backoff weight, not the counts they were estimated from; a model trained with LM: Train N-gram Model on Workspace keeps them.';

/** The used n-gram's p from its counts, in words and numbers: Kneser-Ney's interpolation. */
export function estimateLines(trace: NgramTrace): string[] {
  const e = trace.estimate;
  if (!e) return [];
  const fmt = (x: number) => (Number.isInteger(x) ? x.toLocaleString('en-US') : x.toPrecision(4));
  const p = (e.count - e.discount) / e.total + e.gamma * e.lower;
  const kind = e.raw ? 'count' : 'continuation count (distinct words seen before it)';
  const unigram = trace.usedOrder === 1;
  return [
    `${kind} ${fmt(e.count)} of ${fmt(e.total)} ${unigram ? 'for all words' : 'after this context'}, discount D = ${fmt(e.discount)}, interpolation weight γ = ${fmt(e.gamma)}, ${unigram ? 'uniform' : 'lower-order'} p = ${fmt(e.lower)}`,
    `p = (${fmt(e.count)} − ${fmt(e.discount)}) / ${fmt(e.total)} + ${fmt(e.gamma)} × ${fmt(e.lower)} = ${fmt(p)} (stored: ${fmt(10 ** trace.log10Prob)})`,
    gammaLine(trace.usedOrder, e, fmt),
  ];
}

/** Where γ comes from: modified Kneser-Ney's three discounts, weighted by the context's counts of counts. */
function gammaLine(order: number, e: CountEstimate, fmt: (x: number) => string): string {
  const { d1, d2, d3 } = e.discounts;
  const [n1, n2, n3] = e.countsOfCounts;
  const gamma = (d1 * n1 + d2 * n2 + d3 * n3) / e.total;
  const followers = order === 1 ? 'words seen' : 'words seen after this context';
  return (
    `γ = (D1 × N1 + D2 × N2 + D3+ × N3+) / total = (${fmt(d1)} × ${fmt(n1)} + ${fmt(d2)} × ${fmt(n2)} + ${fmt(d3)} × ${fmt(n3)}) / ${fmt(e.total)} = ${fmt(gamma)}: ` +
    `N1, N2, N3+ count the ${followers} once, twice, three times or more (adjusted counts); D1, D2, D3+ are the ${order}-gram discounts of modified Kneser-Ney, ` +
    `one for each of those counts, so the mass taken from the seen words is what γ gives to the lower order`
  );
}

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
