/**
 * How a backoff n-gram model got p(word | context): the longest context it holds followed by the
 * word gives a stored probability, and every longer context it holds but never saw followed by the
 * word charges its backoff weight. Step for step the lookup of NgramModel.logProb10, so the
 * factors multiply to the model's own probability.
 */
import type { NgramModel, OrderDiscounts } from './ngramModel';

export interface BackoffStep {
  /** The order backed off from: an n-gram of this length (the context's last n − 1 words and the word) was not found. */
  order: number;
  /** Its context's words, oldest first. */
  context: string[];
  /** Whether the model holds the context: only then is a backoff weight paid; an unseen context costs nothing (weight 1). */
  contextSeen: boolean;
  /** log10 of the weight paid (0 when the context is unseen). */
  log10Weight: number;
}

/**
 * Kneser-Ney's estimate of the used n-gram's p from the counts kept with the model:
 * p = (count − discount) / total + γ × lower, where lower is p of the word after the context
 * without its first word (for a unigram, the uniform 1 / (V − 1)).
 */
export interface CountEstimate {
  /** The n-gram's adjusted count. */
  count: number;
  /** A raw count (highest order, or an n-gram that starts with `<s>`); else a continuation count (distinct words seen before it). */
  raw: boolean;
  /** Σ of the adjusted counts of every n-gram with the same context (of all unigrams, for a unigram). */
  total: number;
  /** The discount D1, D2 or D3+ for that count. */
  discount: number;
  /** The context's interpolation weight γ (its backoff weight). */
  gamma: number;
  /** The order's discounts (modified Kneser-Ney's D1, D2, D3+), which γ is made of. */
  discounts: OrderDiscounts;
  /**
   * The context's counts of counts: how many words follow it with an adjusted count of 1, 2, and 3
   * or more (all unigrams, for a unigram): γ = (D1·N1 + D2·N2 + D3+·N3+) / total.
   */
  countsOfCounts: [number, number, number];
  /** The lower-order p it is interpolated with. */
  lower: number;
}

export interface NgramTrace {
  /** The model's order n. */
  maxOrder: number;
  /** The length of the n-gram whose probability was used (1: the word alone, a unigram). */
  usedOrder: number;
  /** That n-gram's words, oldest first. */
  ngram: string[];
  /** log10 p(word | the used n-gram's context), as the model stores it. */
  log10Prob: number;
  /** From the longest order down to usedOrder + 1, each order backed off from. */
  backoffs: BackoffStep[];
  /** log10 p(word | context) = log10Prob + Σ log10Weight: the model's probability. */
  log10Total: number;
  /** The counts behind log10Prob, when the model keeps them. */
  estimate?: CountEstimate;
}

/** The trace of log10 p(word | context) in `model`; only the context's last n − 1 words matter. */
export function backoffTrace(model: NgramModel, context: ArrayLike<number>, word: number): NgramTrace {
  const words = (start: number, end: number) => Array.from({ length: end - start }, (_, i) => model.vocab.word(context[start + i]));
  const end = context.length;
  const maxContext = Math.min(model.order - 1, end);
  const backoffs: BackoffStep[] = [];
  // Summed in the order logProb10 sums them, so that the total is its number exactly.
  let backoffSum = 0;
  for (let m = maxContext; m >= 1; m--) {
    const ctx = model.find(context, end - m, end);
    const step: BackoffStep = { order: m + 1, context: words(end - m, end), contextSeen: ctx >= 0, log10Weight: 0 };
    if (ctx >= 0) {
      const child = model.findChild(model.orders[m - 1].childStart!, model.orders[m].words, ctx, word);
      if (child >= 0) {
        const log10Prob = model.orders[m].logProb[child];
        const ngram = [...step.context, model.vocab.word(word)];
        const trace: NgramTrace = { maxOrder: model.order, usedOrder: m + 1, ngram, log10Prob, backoffs, log10Total: log10Prob + backoffSum };
        const estimate = countEstimate(model, context, word, m, ctx, child);
        return estimate ? { ...trace, estimate } : trace;
      }
      step.log10Weight = model.orders[m - 1].backoff![ctx];
      backoffSum += step.log10Weight;
    }
    backoffs.push(step);
  }
  const log10Prob = model.orders[0].logProb[word];
  const trace: NgramTrace = { maxOrder: model.order, usedOrder: 1, ngram: [model.vocab.word(word)], log10Prob, backoffs, log10Total: log10Prob + backoffSum };
  const estimate = unigramEstimate(model, word);
  return estimate ? { ...trace, estimate } : trace;
}

/** D1, D2 or D3+ of order n (1-based) for an adjusted count (0 for 0). */
function discountFor(discounts: readonly OrderDiscounts[], n: number, count: number): number {
  const d = discounts[n - 1];
  return count === 0 ? 0 : count === 1 ? d.d1 : count === 2 ? d.d2 : d.d3;
}

/** The estimate of the (m+1)-gram at `child`, whose context (the last m words of `context`) is entry `ctx` of order m. */
function countEstimate(model: NgramModel, context: ArrayLike<number>, word: number, m: number, ctx: number, child: number): CountEstimate | undefined {
  const counts = model.orders[m].counts;
  const parent = model.orders[m - 1];
  if (!counts || !model.discounts) return undefined;
  let total = 0;
  const countsOfCounts: [number, number, number] = [0, 0, 0];
  for (let c = parent.childStart![ctx], e = parent.childStart![ctx + 1]; c < e; c++) {
    const k = counts.get(c);
    total += k;
    if (k > 0) countsOfCounts[Math.min(k, 3) - 1]++;
  }
  const count = counts.get(child);
  const end = context.length;
  const lowerContext = Array.from({ length: m - 1 }, (_, i) => context[end - m + 1 + i]);
  return {
    count,
    raw: m + 1 === model.order || context[end - m] === model.vocab.bosId,
    total,
    discount: discountFor(model.discounts, m + 1, count),
    gamma: 10 ** parent.backoff![ctx],
    discounts: model.discounts[m],
    countsOfCounts,
    lower: 10 ** model.logProb10(lowerContext, word),
  };
}

/** A unigram's estimate: its count among all unigrams', interpolated with the uniform distribution over the vocabulary without `<s>`. */
function unigramEstimate(model: NgramModel, word: number): CountEstimate | undefined {
  const counts = model.orders[0].counts;
  if (!counts || !model.discounts) return undefined;
  let total = 0;
  let discounted = 0;
  const countsOfCounts: [number, number, number] = [0, 0, 0];
  for (let w = 0; w < counts.length; w++) {
    const c = counts.get(w);
    total += c;
    discounted += discountFor(model.discounts, 1, c);
    if (c > 0) countsOfCounts[Math.min(c, 3) - 1]++;
  }
  const count = counts.get(word);
  return {
    count,
    raw: model.order === 1,
    total,
    discount: discountFor(model.discounts, 1, count),
    gamma: discounted / total,
    discounts: model.discounts[0],
    countsOfCounts,
    lower: 1 / (counts.length - 1),
  };
}
