/**
 * Operations on a next-token distribution given as natural-log probabilities over the vocabulary:
 * tempering, top-k / top-p truncation, entropy, ranks and alternatives.
 */
import { logSoftmax } from './logMath';

/**
 * Tempered distribution p_T(x) ∝ p(x)^(1/T), renormalised, returned as probabilities.
 * - T = 0 is argmax: all mass on the most probable token; ties go to the lowest token id.
 * - T = ∞ is uniform over the support of p (the tokens with p > 0).
 * Tokens with log-prob -Infinity (masked) stay at probability 0 for every T.
 */
export function temperedProbabilities(logProbs: ArrayLike<number>, temperature: number): Float64Array {
  if (!(temperature >= 0) || Number.isNaN(temperature)) {
    throw new RangeError(`temperature must be a number ≥ 0, got ${temperature}`);
  }
  const n = logProbs.length;
  const out = new Float64Array(n);
  if (temperature === 0) {
    const best = argmax(logProbs);
    if (best >= 0) out[best] = 1;
    return out;
  }
  if (temperature === Infinity) {
    let support = 0;
    for (let i = 0; i < n; i++) if (logProbs[i] > -Infinity) support++;
    for (let i = 0; i < n; i++) out[i] = logProbs[i] > -Infinity ? 1 / support : 0;
    return out;
  }
  const scaled = new Float64Array(n);
  for (let i = 0; i < n; i++) scaled[i] = logProbs[i] / temperature;
  const logP = logSoftmax(scaled);
  for (let i = 0; i < n; i++) out[i] = Math.exp(logP[i]);
  return out;
}

/** Index of the largest value; ties go to the lowest index; -1 when every value is -Infinity or NaN. */
export function argmax(values: ArrayLike<number>): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] > bestValue) {
      bestValue = values[i];
      best = i;
    }
  }
  return best;
}

/** Token ids sorted by descending value, ties by ascending id. Only the first `k` are returned. */
export function topIndices(values: ArrayLike<number>, k: number): number[] {
  const n = values.length;
  k = Math.max(0, Math.min(k, n));
  if (k === 0) return [];
  // A bounded selection keeps this O(n log k) for large vocabularies and small k.
  const heap: number[] = [];
  const worse = (a: number, b: number) => values[a] < values[b] || (values[a] === values[b] && a > b);
  const siftUp = (i: number) => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!worse(heap[i], heap[p])) break;
      [heap[i], heap[p]] = [heap[p], heap[i]];
      i = p;
    }
  };
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && worse(heap[l], heap[m])) m = l;
      if (r < heap.length && worse(heap[r], heap[m])) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (let i = 0; i < n; i++) {
    if (heap.length < k) {
      heap.push(i);
      siftUp(heap.length - 1);
    } else if (worse(heap[0], i)) {
      heap[0] = i;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => values[b] - values[a] || a - b);
}

/** Keeps the k most probable tokens (ties by lower id) and renormalises. k ≤ 0 keeps all. */
export function truncateTopK(probs: Float64Array, k: number): Float64Array {
  if (k <= 0 || k >= probs.length) return probs;
  const keep = topIndices(probs, k);
  const out = new Float64Array(probs.length);
  let total = 0;
  for (const i of keep) total += probs[i];
  for (const i of keep) out[i] = total > 0 ? probs[i] / total : 0;
  return out;
}

/**
 * Nucleus truncation: keeps the smallest set of most probable tokens whose mass reaches p
 * (at least one token), and renormalises. p ≥ 1 keeps all.
 */
export function truncateTopP(probs: Float64Array, p: number): Float64Array {
  if (!(p > 0)) throw new RangeError(`top-p must be in (0, 1], got ${p}`);
  if (p >= 1) return probs;
  let support = 0;
  for (let i = 0; i < probs.length; i++) if (probs[i] > 0) support++;
  const order = topIndices(probs, support);
  const out = new Float64Array(probs.length);
  let mass = 0;
  const kept: number[] = [];
  for (const i of order) {
    kept.push(i);
    mass += probs[i];
    if (mass >= p) break;
  }
  for (const i of kept) out[i] = probs[i] / mass;
  return out;
}

/** Entropy in nats of a distribution given as natural-log probabilities. */
export function entropyNats(logProbs: ArrayLike<number>): number {
  let h = 0;
  for (let i = 0; i < logProbs.length; i++) {
    const lp = logProbs[i];
    if (lp > -Infinity) h -= Math.exp(lp) * lp;
  }
  return h;
}

/** 1 + the number of tokens strictly more probable than `token` (so equal values share a rank). */
export function rankOf(logProbs: ArrayLike<number>, token: number): number {
  const target = logProbs[token];
  let rank = 1;
  for (let i = 0; i < logProbs.length; i++) if (logProbs[i] > target) rank++;
  return rank;
}
