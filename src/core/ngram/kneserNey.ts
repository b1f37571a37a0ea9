/**
 * Interpolated modified Kneser-Ney estimation, following KenLM's lmplz:
 * - sentences are padded `<s> … </s>`; n-grams reaching before the first word are cut at `<s>`;
 * - adjusted counts: raw counts for the highest order and for n-grams starting with `<s>`,
 *   otherwise the number of distinct words seen to the left;
 * - discounts D1, D2, D3+ per order from counts-of-counts of adjusted counts (Chen & Goodman (26));
 * - p(w|c) = (a(cw) − D(a(cw))) / Σ a(c·) + γ(c) p(w|c′), interpolated down to the uniform
 *   distribution over the vocabulary without `<s>`; γ(c) becomes the ARPA backoff of c.
 */
import { LmError } from '../errors';
import { ADJUSTED, adjustedCounts, FIELDS, FIRST, LAST, SUFFIX, type SuffixOrdered } from './adjustedCounts';
import { CompactCounts } from './compactCounts';
import { log10f } from './log10f';
import { NgramCounter } from './ngramCounter';
import { NgramModel, NgramOrder } from './ngramModel';
import { firstDigitBits } from './radixSort';
import { sharedUint32, sortRecords, type SortHelper } from './sharedRadixSort';
import { Vocabulary } from './vocabulary';

export const MAX_ORDER = 6;

export interface Discounts {
  /** D1, D2, D3+ */
  d1: number;
  d2: number;
  d3: number;
}

export interface TrainingStats {
  tokens: number;
  sentences: number;
  counts: number[];
  discounts: Discounts[];
  usedFallbackDiscounts: boolean[];
}

export interface TrainOptions {
  order: number;
  /**
   * Discounts to use for an order whose counts-of-counts cannot give them (tiny data), like
   * lmplz's --discount_fallback. Without it such data is an error.
   */
  discountFallback?: Discounts;
  /**
   * About how many tokens will be added, when known (e.g. from the files' sizes): the hash tables
   * start at a size that holds that many n-grams per order instead of growing to it.
   */
  expectedTokens?: number;
  /** Keep each n-gram's adjusted count and the discounts in the model (4 bytes an n-gram), for the inside view. */
  keepCounts?: boolean;
  /** Count into shared memory, so that a second thread can help sort (`build`'s helper). */
  sharedMemory?: boolean;
}

/** Presizing stops here (the table then takes 112 MiB at order 6): larger models grow their table as they go. */
const MAX_PRESIZED_NGRAMS = 1 << 21;

const EMPTY_ORDER: SuffixOrdered = { count: 0, ngrams: new Uint32Array(0) };
/**
 * An n-gram in trie order, 8 numbers: FIRST, ADJUSTED and SUFFIX (here its suffix's place in trie
 * order) at their places in suffix order; its index in suffix order instead of LAST; its last word,
 * its suffix's context's place, and its probability (a float64 in the last two).
 */
const T_FIELDS = 8;
const T_INDEX = LAST;
const T_WORD = 4;
const T_TARGET = 5;
const T_PROB_STRIDE = T_FIELDS / 2;
const T_PROB = 3;

/**
 * Told of order k (1-based) as soon as its arrays (words, probabilities, backoffs, child ranges)
 * are final, while the higher orders are still being laid out, so that another thread can start
 * writing it; `counts` are every order's n-gram counts.
 */
export type OrderReady = (k: number, order: NgramOrder, counts: readonly number[]) => void;

export const DEFAULT_FALLBACK_DISCOUNTS: Discounts = { d1: 0.5, d2: 1, d3: 1.5 };

export class KneserNeyTrainer {
  readonly vocab: Vocabulary;
  private readonly order: number;
  private readonly fallback?: Discounts;
  private readonly keepCounts: boolean;
  /** The highest order's n-grams, left-padded with <s>; the lower orders are derived from them. */
  private readonly counter: NgramCounter;
  /** The last `order` words, the current token last. */
  private readonly gram: Uint32Array;
  private tokens = 0;
  private sentences = 0;

  constructor(options: TrainOptions, vocab: Vocabulary = Vocabulary.withSpecials()) {
    if (!Number.isInteger(options.order) || options.order < 1 || options.order > MAX_ORDER) {
      throw new LmError(`order must be an integer from 1 to ${MAX_ORDER}, got ${options.order}`);
    }
    if (vocab.unkId === undefined || vocab.bosId === undefined || vocab.eosId === undefined) {
      throw new Error('vocabulary must contain <unk>, <s> and </s>');
    }
    this.vocab = vocab;
    this.order = options.order;
    this.fallback = options.discountFallback;
    this.keepCounts = options.keepCounts ?? false;
    this.counter = new NgramCounter(this.order, Math.min(options.expectedTokens ?? 0, MAX_PRESIZED_NGRAMS), options.sharedMemory ? sharedUint32 : undefined);
    this.gram = new Uint32Array(this.order);
  }

  /** Adds one sentence given as words (no markers); `<s>`, `</s>`, `<unk>` inside are skipped as lmplz does. */
  addSentence(words: readonly string[]): void {
    this.startSentence();
    this.continueWords(words);
    this.endSentence();
  }

  /** Adds one sentence of word ids (no markers): the first `length` of `ids`. */
  addIds(ids: ArrayLike<number>, length = ids.length): void {
    this.startSentence();
    this.continueIds(ids, length);
    this.endSentence();
  }

  /**
   * A sentence given in parts (a large file read chunk by chunk, so that it is never one array of
   * words): `startSentence`, any number of `continueWords`/`continueIds`, `endSentence` count
   * exactly what one `addSentence` of all the parts counts.
   */
  startSentence(): void {
    this.gram.fill(this.vocab.bosId!);
  }

  continueWords(words: readonly string[]): void {
    const { unkId, bosId, eosId } = this.vocab;
    const ids: number[] = [];
    for (const w of words) {
      const id = this.vocab.add(w);
      if (id !== unkId && id !== bosId && id !== eosId) ids.push(id);
    }
    this.continueIds(ids);
  }

  continueIds(ids: ArrayLike<number>, length = ids.length): void {
    const N = this.order;
    const gram = this.gram;
    const counter = this.counter;
    for (let i = 0; i < length; i++) {
      for (let p = 1; p < N; p++) gram[p - 1] = gram[p];
      gram[N - 1] = ids[i];
      counter.add(gram);
    }
    this.tokens += length;
  }

  endSentence(): void {
    this.gram.copyWithin(0, 1);
    this.gram[this.order - 1] = this.vocab.eosId!;
    this.counter.add(this.gram);
    this.tokens++;
    this.sentences++;
  }

  get tokenCount(): number {
    return this.tokens;
  }

  /**
   * Estimates the model. The trainer can be dropped afterwards. The orders are laid out in trie
   * order (by first word, then by the rest) from the suffix order the counts come in: order k by
   * its suffix's place in order k-1 and then, stably, by its first word (radix sorts); each
   * n-gram's context is found by one forward walk over order k-1, as both are sorted.
   */
  build(orderReady?: OrderReady, helper?: SortHelper): { model: NgramModel; stats: TrainingStats } {
    // Without a sentence every adjusted count is 0: the unigram denominator Σ a(w) would be 0 and
    // every probability 0/0.
    if (this.sentences === 0) throw new LmError('no training text: nothing to estimate probabilities from');
    const N = this.order;
    const V = this.vocab.size;
    const bos = this.vocab.bosId!;
    const unk = this.vocab.unkId!;
    const { unigrams, orders: bySuffix } = adjustedCounts(this.counter.take(), N, V, bos, helper);
    unigrams[bos] = 0;
    unigrams[unk] = 0;
    const orderCounts = [V, ...bySuffix.map((o) => o.count)];

    // Per order, its discounts and the discount of an adjusted count a: Dk[min(a, 3)]. Those of
    // order k ≥ 2 from the counts of counts that trieRecords takes as it reads the adjusted counts.
    const discounts: Discounts[] = [];
    const usedFallback: boolean[] = [];
    const Ds: Float64Array[] = [];
    const addDiscounts = (k: number, n: number[]) => {
      const d = this.discountsFromCounts(k, n);
      discounts.push(d.discounts);
      usedFallback.push(d.fallback);
      Ds.push(Float64Array.of(0, d.discounts.d1, d.discounts.d2, d.discounts.d3));
    };
    {
      const n = [0, 0, 0, 0, 0];
      for (let w = 0; w < V; w++) if (unigrams[w] < 5) n[unigrams[w]]++;
      addDiscounts(1, n);
    }

    const orders: NgramOrder[] = [];
    let unigramProb: Float64Array;
    {
      const D1 = Ds[0];
      let denom = 0;
      let gammaNum = 0;
      for (let w = 0; w < V; w++) {
        const a = unigrams[w];
        denom += a;
        gammaNum += D1[a < 3 ? a : 3];
      }
      const gamma0 = gammaNum / denom;
      const uniform = 1 / (V - 1); // the vocabulary without <s>, as lmplz
      const p = new Float64Array(V);
      const logProb = new Float32Array(V);
      for (let w = 0; w < V; w++) {
        const a = unigrams[w];
        p[w] = (a - D1[a < 3 ? a : 3]) / denom + gamma0 * uniform;
        logProb[w] = Math.log10(p[w]);
      }
      logProb[bos] = -99; // <s> is never predicted; lmplz writes -99
      unigramProb = p;
      orders.push({
        count: V,
        words: Uint32Array.from({ length: V }, (_, i) => i),
        logProb,
        ...(this.keepCounts ? { counts: new CompactCounts(unigrams) } : {}),
      });
    }

    // Order k-1 in trie order (see T_FIELDS), its contexts' places, each of its n-grams' place in
    // trie order by its index in suffix order and, as a Float64Array over the same memory, its
    // probabilities; null for the unigrams (the word ids themselves).
    let lower: { ngrams: Uint32Array; context: Uint32Array; trieOf: Uint32Array } | null = null;
    let lowerProb = unigramProb;
    let lowerProbAt = 0;
    let lowerProbStride = 1;
    for (let k = 2; k <= N; k++) {
      const count = bySuffix[k - 2].count;
      const parentCount = orderCounts[k - 2];
      const countsOfCounts = [0, 0, 0, 0, 0];
      const records = trieRecords(bySuffix[k - 2], lower?.trieOf, parentCount, countsOfCounts, helper);
      bySuffix[k - 2] = EMPTY_ORDER; // let it go
      addDiscounts(k, countsOfCounts);
      const ngrams = trieOrder(records, count, parentCount, V, lower?.context, lowerProb, lowerProbAt, lowerProbStride, helper);
      const prob = new Float64Array(ngrams.buffer);

      // Each n-gram's context (w1 … w(k-1)) is the (k-1)-gram with its first word that ends with
      // its suffix's context (w2 … w(k-1)); contexts come in trie order, as the n-grams do, so
      // each context's children are consecutive: once its run ends, its denominator Σ a(c·) and
      // γ(c) numerator Σ D(a(c·)) are complete, and its backoff and its children's probabilities
      // are found while their records are still in the cache.
      const Dk = Ds[k - 1];
      const context = new Uint32Array(k < N ? count : 0);
      const childStart = new Uint32Array(parentCount + 1);
      const words = new Uint32Array(count);
      const trieOf = new Uint32Array(k < N ? count : 0);
      const backoff = new Float32Array(parentCount);
      const logProb = new Float32Array(count);
      const adjusted = this.keepCounts ? new Uint32Array(count) : undefined;
      let walk = 0;
      let runContext = -1;
      let runStart = 0;
      let denom = 0;
      let gammaNum = 0;
      for (let i = 0; i <= count; i++) {
        const at = i * T_FIELDS;
        let c = -1;
        if (i < count) {
          const first = ngrams[at + FIRST];
          words[i] = ngrams[at + T_WORD];
          c = first;
          if (lower) {
            const t = ngrams[at + T_TARGET];
            const lg = lower.ngrams;
            while (walk < parentCount && (lg[walk * T_FIELDS + FIRST] !== first || lg[walk * T_FIELDS + SUFFIX] !== t)) walk++;
            if (walk === parentCount) throw new Error(`internal error: no context for a ${k}-gram`);
            c = walk;
          }
          if (k < N) {
            trieOf[ngrams[at + T_INDEX]] = i;
            context[i] = c;
          }
          childStart[c + 1]++;
        }
        if (c !== runContext) {
          if (runContext >= 0) {
            const gamma = denom > 0 ? gammaNum / denom : 0;
            if (gamma > 0) backoff[runContext] = log10f(gamma);
            for (let j = runStart; j < i; j++) {
              const a = ngrams[j * T_FIELDS + ADJUSTED];
              const pAt = j * T_PROB_STRIDE + T_PROB;
              const p = (a - Dk[a < 3 ? a : 3]) / denom + gamma * prob[pAt];
              prob[pAt] = p;
              logProb[j] = log10f(p);
              if (adjusted) adjusted[j] = a;
            }
          }
          runContext = c;
          runStart = i;
          denom = 0;
          gammaNum = 0;
        }
        if (i < count) {
          const a = ngrams[at + ADJUSTED];
          denom += a;
          gammaNum += Dk[a < 3 ? a : 3];
        }
      }
      for (let c = 0; c < parentCount; c++) childStart[c + 1] += childStart[c];
      const parent = orders[k - 2];
      parent.childStart = childStart;
      parent.backoff = backoff;
      orderReady?.(k - 1, parent, orderCounts);
      orders.push({ count, words, logProb, ...(adjusted ? { counts: new CompactCounts(adjusted) } : {}) });
      lower = { ngrams, context, trieOf };
      lowerProb = prob;
      lowerProbAt = T_PROB;
      lowerProbStride = T_PROB_STRIDE;
    }
    orderReady?.(N, orders[N - 1], orderCounts);
    const model = new NgramModel(this.vocab, orders);
    if (this.keepCounts) model.discounts = discounts;
    const stats: TrainingStats = {
      tokens: this.tokens,
      sentences: this.sentences,
      counts: model.counts,
      discounts,
      usedFallbackDiscounts: usedFallback,
    };
    return { model, stats };
  }

  private discountsFromCounts(k: number, n: number[]): { discounts: Discounts; fallback: boolean } {
    const bad = n[1] === 0 || n[2] === 0 || n[3] === 0;
    let d: Discounts | undefined;
    if (!bad) {
      const y = n[1] / (n[1] + 2 * n[2]);
      d = {
        d1: 1 - 2 * y * (n[2] / n[1]),
        d2: 2 - 3 * y * (n[3] / n[2]),
        d3: 3 - 4 * y * (n[4] / n[3]),
      };
      if (d.d1 < 0 || d.d1 > 1 || d.d2 < 0 || d.d2 > 2 || d.d3 < 0 || d.d3 > 3) d = undefined;
    }
    if (d) return { discounts: d, fallback: false };
    if (this.fallback) return { discounts: this.fallback, fallback: true };
    throw new LmError(
      `cannot estimate Kneser-Ney discounts for ${k}-grams: too little data (counts of counts ${n
        .slice(1)
        .join(', ')}); use more text, a lower order, or fallback discounts`,
    );
  }
}

/**
 * Order k's n-grams (in suffix order) as T_FIELDS records with their suffix's place in order k-1's
 * trie order (`lowerTrieOf` maps the suffix's index in suffix order to it; absent for bigrams,
 * whose suffix is a word id, below `parentCount`), put in the order of that place's least
 * significant digit: the first pass of trieOrder's radix sort, done while the records are made (one
 * write of each record, not two). The suffixes ascend, so `lowerTrieOf` is read in order.
 * `countsOfCounts[a]` counts the adjusted counts a < 5 (for the order's discounts).
 */
function trieRecords(
  { count, ngrams: g }: SuffixOrdered,
  lowerTrieOf: Uint32Array | undefined,
  parentCount: number,
  countsOfCounts: number[],
  helper: SortHelper | undefined,
): Uint32Array {
  const mask = (1 << firstDigitBits(parentCount)) - 1;
  const place = new Uint32Array(count);
  const next = new Uint32Array(mask + 1);
  for (let j = 0, from = SUFFIX; j < count; j++, from += FIELDS) {
    const s = g[from];
    const p = lowerTrieOf ? lowerTrieOf[s] : s;
    place[j] = p;
    next[p & mask]++;
  }
  let sum = 0;
  for (let d = 0; d <= mask; d++) {
    const c = next[d];
    next[d] = sum;
    sum += c;
  }
  const records = helper ? sharedUint32(count * T_FIELDS) : new Uint32Array(count * T_FIELDS);
  for (let j = 0, from = 0; j < count; j++, from += FIELDS) {
    const p = place[j];
    const at = next[p & mask]++ * T_FIELDS;
    const a = g[from + ADJUSTED];
    if (a < 5) countsOfCounts[a]++;
    records[at + FIRST] = g[from + FIRST];
    records[at + T_INDEX] = j;
    records[at + ADJUSTED] = a;
    records[at + SUFFIX] = p;
    records[at + T_WORD] = g[from + LAST];
  }
  return records;
}

/**
 * The records of trieRecords in trie order: by first word, then by their suffix's place. Radix
 * sorts by the suffix's place (its digits above the first, which trieRecords sorted by), then stably by the first word (see radixSort.ts); in between, the
 * records come in their suffix's order, so its context's place and its probability are read in
 * order and put in each record.
 */
function trieOrder(
  records: Uint32Array,
  count: number,
  parentCount: number,
  vocabSize: number,
  lowerContext: Uint32Array | undefined,
  lowerProb: Float64Array,
  lowerProbAt: number,
  lowerProbStride: number,
  helper: SortHelper | undefined,
): Uint32Array {
  const spare = helper ? sharedUint32(count * T_FIELDS) : new Uint32Array(count * T_FIELDS);
  const bySuffixPlace = sortRecords(records, spare, count, T_FIELDS, SUFFIX, parentCount, firstDigitBits(parentCount), helper);
  const prob = new Float64Array(bySuffixPlace.buffer);
  for (let i = 0, at = 0; i < count; i++, at += T_FIELDS) {
    const f = bySuffixPlace[at + SUFFIX];
    if (lowerContext) bySuffixPlace[at + T_TARGET] = lowerContext[f];
    prob[i * T_PROB_STRIDE + T_PROB] = lowerProb[f * lowerProbStride + lowerProbAt];
  }
  return sortRecords(bySuffixPlace, bySuffixPlace === records ? spare : records, count, T_FIELDS, FIRST, vocabSize, 0, helper);
}
