/**
 * How a backoff n-gram model got p(word | context): the longest context it holds followed by the
 * word gives a stored probability, and every longer context it holds but never saw followed by the
 * word charges its backoff weight. Step for step the lookup of NgramModel.logProb10, so the
 * factors multiply to the model's own probability.
 */
import type { NgramModel } from './ngramModel';

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
        return {
          maxOrder: model.order,
          usedOrder: m + 1,
          ngram: [...step.context, model.vocab.word(word)],
          log10Prob,
          backoffs,
          log10Total: log10Prob + backoffSum,
        };
      }
      step.log10Weight = model.orders[m - 1].backoff![ctx];
      backoffSum += step.log10Weight;
    }
    backoffs.push(step);
  }
  const log10Prob = model.orders[0].logProb[word];
  return { maxOrder: model.order, usedOrder: 1, ngram: [model.vocab.word(word)], log10Prob, backoffs, log10Total: log10Prob + backoffSum };
}
