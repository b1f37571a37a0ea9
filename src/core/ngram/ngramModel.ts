/**
 * A backoff n-gram model in compact form: per order, sorted parallel typed arrays (a trie laid out
 * like KenLM's "trie" data structure, without quantisation). Entry i of order k has the last word
 * `words[i]`; its children (order k+1 entries that extend it) are the contiguous range
 * [childStart[i], childStart[i+1]) of order k+1, sorted by word id, found by binary search.
 * Probabilities and backoffs are log10, as in ARPA files; queries follow ARPA backoff semantics.
 */
import { ModelFormatError } from '../errors';
import type { CompactCounts } from './compactCounts';
import { Vocabulary } from './vocabulary';

/**
 * The largest log10 backoff weight the readers accept: weights above 1 are legal in ARPA, but one
 * of 10^10 only turns probabilities into nonsense.
 */
export const MAX_LOG10_BACKOFF = 10;
/** How far above 0 a backed-off log10 probability may be (float32 rounding) before the model is called inconsistent. */
const LOG10_TOLERANCE = 1e-4;

export interface NgramOrder {
  count: number;
  words: Uint32Array;
  /** log10 p(word | context) for the n-gram. */
  logProb: Float32Array;
  /** log10 backoff weight when the n-gram is a context (0 otherwise); absent for the highest order. */
  backoff?: Float32Array;
  /** Length count+1, absent for the highest order. */
  childStart?: Uint32Array;
  /**
   * Kneser-Ney's adjusted count of each n-gram (raw for the highest order and n-grams that start
   * with `<s>`, else the number of distinct words seen before it): kept only by models trained in
   * the product with counts (workspace training), for the inside view.
   */
  counts?: CompactCounts;
}

/** A model's Kneser-Ney discounts D1, D2, D3+ of one order. */
export interface OrderDiscounts {
  d1: number;
  d2: number;
  d3: number;
}

export class NgramModel {
  /** The file the model came from, named when a query finds it inconsistent. */
  source = 'n-gram model';
  /** Per order, the discounts its probabilities were estimated with: set with every order's `counts`. */
  discounts?: OrderDiscounts[];

  constructor(
    readonly vocab: Vocabulary,
    readonly orders: NgramOrder[],
  ) {
    if (orders.length < 1) throw new Error('an n-gram model needs at least unigrams');
    if (orders[0].count !== vocab.size) throw new Error('unigram count must equal the vocabulary size');
  }

  get order(): number {
    return this.orders.length;
  }

  get counts(): number[] {
    return this.orders.map((o) => o.count);
  }

  /** Index in its order of the n-gram ids[start..end), or -1 when the model lacks it. */
  find(ids: ArrayLike<number>, start: number, end: number): number {
    const n = end - start;
    if (n < 1 || n > this.orders.length) return -1;
    let node = ids[start];
    if (!(node >= 0 && node < this.orders[0].count)) return -1;
    for (let k = 1; k < n; k++) {
      const parent = this.orders[k - 1];
      node = this.findChild(parent.childStart!, this.orders[k].words, node, ids[start + k]);
      if (node < 0) return -1;
    }
    return node;
  }

  /** Index in order k+1 of the child `word` of entry `node` of order k (given order k's childStart and order k+1's words), or -1. */
  findChild(childStart: Uint32Array, words: Uint32Array, node: number, word: number): number {
    let lo = childStart[node];
    let hi = childStart[node + 1];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const w = words[mid];
      if (w < word) lo = mid + 1;
      else if (w > word) hi = mid;
      else return mid;
    }
    return -1;
  }

  /**
   * log10 p(word | context) with backoff: the longest n-gram (suffix of the context) + word present
   * in the model gives the probability, multiplied by the backoffs of the longer contexts.
   * Only the last order-1 context words matter; the context is context[0..end) (all of it by default).
   */
  logProb10(context: ArrayLike<number>, word: number, end = context.length): number {
    const maxContext = Math.min(this.orders.length - 1, end);
    // Nodes of the context suffixes of length 1..maxContext (each suffix found from its first word).
    let backoffSum = 0;
    for (let m = maxContext; m >= 1; m--) {
      const ctx = this.find(context, end - m, end);
      if (ctx < 0) continue;
      const order = this.orders[m - 1];
      const child = this.findChild(order.childStart!, this.orders[m].words, ctx, word);
      if (child >= 0) return this.checked(this.orders[m].logProb[child] + backoffSum);
      backoffSum += order.backoff![ctx];
    }
    return this.checked(this.orders[0].logProb[word] + backoffSum);
  }

  /** A probability above 1 comes only from backoff weights that do not fit their probabilities. */
  private checked(logProb10: number): number {
    if (logProb10 > LOG10_TOLERANCE || Number.isNaN(logProb10)) {
      throw new ModelFormatError(`inconsistent backoff weights: a backed-off probability is 10^${logProb10} (more than 1)`, this.source);
    }
    return logProb10;
  }

  /**
   * The whole next-word distribution (log10) after `context`, into `out` (length = vocabulary).
   * Costs O(V + children of the matched contexts), not one lookup per word: a running backoff
   * shift applies to every word and only the children of each context are overwritten.
   */
  distribution10(context: ArrayLike<number>, out: Float64Array): Float64Array {
    const uni = this.orders[0].logProb;
    for (let i = 0; i < uni.length; i++) out[i] = uni[i];
    const end = context.length;
    const maxContext = Math.min(this.orders.length - 1, end);
    let shift = 0;
    for (let m = 1; m <= maxContext; m++) {
      const ctx = this.find(context, end - m, end);
      if (ctx < 0) break; // longer contexts contain this one as a suffix, so they are absent too
      const order = this.orders[m - 1];
      shift += order.backoff![ctx];
      const next = this.orders[m];
      for (let c = order.childStart![ctx], e = order.childStart![ctx + 1]; c < e; c++) {
        out[next.words[c]] = next.logProb[c] - shift;
      }
    }
    if (shift !== 0) for (let i = 0; i < out.length; i++) out[i] = this.checked(out[i] + shift);
    return out;
  }

  /**
   * `word`'s log10 probability after context[0..end) and its rank (1 + the number of words more
   * probable), as distribution10's array gives them, bit for bit, without filling it: O(log V + the
   * children of the context's suffixes) instead of O(V) (a novel's heat-map spent 270 µs a token on
   * the embedded model's 41,038 words). A word that no suffix of the context has as a child gets its
   * unigram's value plus the same backoff sum, and adding one number keeps the order of doubles, so
   * those above p are found by binary search over the sorted unigrams; the children are counted one
   * by one. A model whose numbers could fail distribution10's check (NaN, or a backed-off
   * probability above 1) takes distribution10's own path, which says so.
   */
  rank10(context: ArrayLike<number>, word: number, end = context.length): { logProb10: number; rank: number } {
    const ranking = (this.ranking ??= unigramRanking(this.orders[0].logProb, this.orders.length));
    const maxContext = Math.min(this.orders.length - 1, end);
    const found = ranking.contexts;
    const shifts = ranking.shifts;
    let shift = 0;
    let m = 0;
    while (m < maxContext) {
      const ctx = this.find(context, end - m - 1, end);
      if (ctx < 0) break;
      shift += this.orders[m].backoff![ctx];
      found[m] = ctx;
      shifts[m] = shift;
      m++;
    }
    const sorted = ranking.sorted;
    if (shift !== 0 && (ranking.nan || sorted[sorted.length - 1] + shift > LOG10_TOLERANCE)) return this.rankFromDistribution(context, word, end);
    // Each child's value as distribution10 leaves it: the longest context's, shifted by the whole sum.
    const stamp = ranking.nextStamp();
    const { seen, value, children } = ranking;
    let n = 0;
    for (let k = m; k >= 1; k--) {
      const next = this.orders[k];
      const sh = shifts[k - 1];
      for (let c = this.orders[k - 1].childStart![found[k - 1]], e = this.orders[k - 1].childStart![found[k - 1] + 1]; c < e; c++) {
        const w = next.words[c];
        if (seen[w] === stamp) continue;
        seen[w] = stamp;
        const v = next.logProb[c] - sh;
        value[w] = shift !== 0 ? this.checked(v + shift) : v;
        children[n++] = w;
      }
    }
    const uni = this.orders[0].logProb;
    const p = seen[word] === stamp ? value[word] : uni[word] + shift;
    // The unigrams whose shifted value is above p: the sorted array's tail.
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] + shift > p) hi = mid;
      else lo = mid + 1;
    }
    let above = sorted.length - lo;
    for (let i = 0; i < n; i++) {
      const w = children[i];
      if (uni[w] + shift > p) above--;
      if (value[w] > p) above++;
    }
    return { logProb10: p, rank: above + 1 };
  }

  private ranking?: UnigramRanking;

  private rankFromDistribution(context: ArrayLike<number>, word: number, end: number): { logProb10: number; rank: number } {
    const dist = this.distribution10(
      Array.prototype.slice.call(context, Math.max(0, end - this.orders.length + 1), end) as number[],
      new Float64Array(this.vocab.size),
    );
    const p = dist[word];
    let rank = 1;
    for (let w = 0; w < dist.length; w++) if (dist[w] > p) rank++;
    return { logProb10: p, rank };
  }

  /** Bytes held by the typed arrays (the vocabulary strings are not counted). */
  byteSize(): number {
    let bytes = 0;
    for (const o of this.orders) {
      bytes += o.words.byteLength + o.logProb.byteLength;
      bytes += o.backoff?.byteLength ?? 0;
      bytes += o.childStart?.byteLength ?? 0;
      bytes += o.counts?.byteLength ?? 0;
    }
    return bytes;
  }

  /** For each entry of order k (1-based, k ≥ 2), the index of its parent in order k-1. */
  parents(k: number): Uint32Array {
    const parentOrder = this.orders[k - 2];
    const out = new Uint32Array(this.orders[k - 1].count);
    const cs = parentOrder.childStart!;
    for (let p = 0; p < parentOrder.count; p++) out.fill(p, cs[p], cs[p + 1]);
    return out;
  }
}

/** What rank10 keeps between calls: the unigrams sorted, and scratch arrays of the vocabulary's size. */
interface UnigramRanking {
  /** The unigrams' log10 probabilities in ascending order. */
  sorted: Float64Array;
  /** Whether a unigram is NaN (distribution10 then refuses any shifted distribution). */
  nan: boolean;
  contexts: Int32Array;
  shifts: Float64Array;
  /** Per word, the stamp of the last call that gave it a child's value, and that value. */
  seen: Int32Array;
  value: Float64Array;
  /** The words given a child's value in this call. */
  children: Uint32Array;
  nextStamp(): number;
}

function unigramRanking(uni: Float32Array, order: number): UnigramRanking {
  const sorted = Float64Array.from(uni).sort();
  const nan = sorted.length > 0 && Number.isNaN(sorted[sorted.length - 1]);
  let stamp = 0;
  const seen = new Int32Array(uni.length);
  return {
    sorted: nan ? sorted.filter((x) => !Number.isNaN(x)) : sorted,
    nan,
    contexts: new Int32Array(order),
    shifts: new Float64Array(order),
    seen,
    value: new Float64Array(uni.length),
    children: new Uint32Array(uni.length),
    nextStamp: () => {
      if (stamp === 0x7fffffff) {
        seen.fill(0);
        stamp = 0;
      }
      return ++stamp;
    },
  };
}
