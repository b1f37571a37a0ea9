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
import { ADJUSTED, adjustedCounts, FIRST, SUFFIX, type SuffixOrdered } from './adjustedCounts';
import { CompactCounts } from './compactCounts';
import { log10f } from './log10f';
import { NgramCounter } from './ngramCounter';
import { NgramModel, NgramOrder } from './ngramModel';
import {
  finishNextOrder,
  recordsBySuffixPlace,
  startNextOrder,
  T_FIELDS,
  T_INDEX,
  T_PROB,
  T_PROB_STRIDE,
  T_TARGET,
  T_WORD,
  trieOrder,
  type NextOrder,
  type TrainingHelper,
} from './trieLayout';
import { sharedUint32 } from './sharedRadixSort';
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
  /** addIdSentences' sentences with their padding and `</s>`, and where their n-grams end. */
  private laidOut = new Uint32Array(0);
  private ends = new Uint32Array(0);
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
   * Sentences of word ids (no markers), `lengths[s]` ids each, one after the other (as
   * utf8LinesToIds gives them): counts what addIds of each counts. Each sentence is laid out with
   * its padding and `</s>` once, and its n-grams counted where they lie, not copied a token at a
   * time through a window.
   */
  addIdSentences(ids: Uint32Array, lengths: Uint32Array): void {
    const pad = this.order - 1;
    const bos = this.vocab.bosId!;
    const eos = this.vocab.eosId!;
    const need = ids.length + lengths.length * (pad + 1);
    if (this.laidOut.length < need) this.laidOut = new Uint32Array(Math.ceil(need * 1.25));
    if (this.ends.length < ids.length + lengths.length) this.ends = new Uint32Array(Math.ceil((ids.length + lengths.length) * 1.25));
    const words = this.laidOut;
    const ends = this.ends;
    let w = 0;
    let e = 0;
    for (let s = 0, at = 0; s < lengths.length; s++) {
      for (let p = 0; p < pad; p++) words[w++] = bos;
      for (let stop = at + lengths[s]; at < stop; at++) {
        ends[e++] = w;
        words[w++] = ids[at];
      }
      ends[e++] = w;
      words[w++] = eos;
    }
    this.counter.addEnds(words, ends, e);
    this.tokens += ids.length + lengths.length;
    this.sentences += lengths.length;
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
  build(orderReady?: OrderReady, helper?: TrainingHelper): { model: NgramModel; stats: TrainingStats } {
    // Without a sentence every adjusted count is 0: the unigram denominator Σ a(w) would be 0 and
    // every probability 0/0.
    if (this.sentences === 0) throw new LmError('no training text: nothing to estimate probabilities from');
    const N = this.order;
    const V = this.vocab.size;
    const bos = this.vocab.bosId!;
    const unk = this.vocab.unkId!;
    const { unigrams, orders: bySuffix, last } = adjustedCounts(this.counter.take(), N, V, bos, helper);
    unigrams[bos] = 0;
    unigrams[unk] = 0;
    const orderCounts = [V, ...bySuffix.map((o) => o.count)];
    // The arrays another thread writes the ARPA from are shared with it, not copied to it (with a
    // helper the runtime has shared memory): 16 bytes an n-gram of the lower orders less to copy
    // and to hold twice.
    const shareable = orderReady !== undefined && helper !== undefined;
    const words32 = (n: number) => (shareable ? sharedUint32(n) : new Uint32Array(n));
    const floats32 = (n: number) => (shareable ? new Float32Array(sharedUint32(n).buffer) : new Float32Array(n));

    // Per order, its discounts and the discount of an adjusted count a: Dk[min(a, 3)]. Those of
    // order k ≥ 2 from the counts of counts that trieRecords takes as it reads the adjusted counts.
    const discounts: Discounts[] = [];
    const usedFallback: boolean[] = [];
    const Ds: Float64Array[] = [];
    const addDiscounts = (k: number, n: number[]) => {
      // As lmplz counts it (adjustedCounts.ts, lastNgrams): order k's last n-gram by its occurrences.
      const l = last[k];
      if (l) {
        if (l.adjusted < 5) n[l.adjusted]--;
        if (l.occurrences < 5) n[l.occurrences]++;
      }
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
      const logProb = floats32(V);
      for (let w = 0; w < V; w++) {
        const a = unigrams[w];
        p[w] = (a - D1[a < 3 ? a : 3]) / denom + gamma0 * uniform;
        logProb[w] = Math.log10(p[w]);
      }
      logProb[bos] = -99; // <s> is never predicted; lmplz writes -99
      unigramProb = p;
      orders.push({
        count: V,
        words: words32(V).map((_, i) => i),
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
    // The records of order k when the helper made them while order k-1 was estimated.
    let next: NextOrder | undefined;
    for (let k = 2; k <= N; k++) {
      const count = bySuffix[k - 2].count;
      const parentCount = orderCounts[k - 2];
      const records = next ? finishNextOrder(next) : recordsBySuffixPlace(bySuffix[k - 2], lower?.trieOf, parentCount, helper);
      bySuffix[k - 2] = EMPTY_ORDER; // let it go
      addDiscounts(k, records.countsOfCounts);
      const ngrams = trieOrder(records, count, V, lower?.context, lowerProb, lowerProbAt, lowerProbStride, helper);
      const prob = new Float64Array(ngrams.buffer);
      next = k < N ? startNextOrder(helper, ngrams, count, bySuffix[k - 1]) : undefined;

      // Each n-gram's context (w1 … w(k-1)) is the (k-1)-gram with its first word that ends with
      // its suffix's context (w2 … w(k-1)); contexts come in trie order, as the n-grams do, so
      // each context's children are consecutive: once its run ends, its denominator Σ a(c·) and
      // γ(c) numerator Σ D(a(c·)) are complete, and its backoff and its children's probabilities
      // are found while their records are still in the cache.
      const Dk = Ds[k - 1];
      const context = new Uint32Array(k < N ? count : 0);
      const childStart = words32(parentCount + 1);
      const words = words32(count);
      // Each n-gram's trie place by its index in suffix order, for the next order's records (unless the helper makes them).
      const trieOf = new Uint32Array(k < N && !next ? count : 0);
      const backoff = floats32(parentCount);
      const logProb = floats32(count);
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
            if (trieOf.length) trieOf[ngrams[at + T_INDEX]] = i;
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
