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
import { CompactCounts } from './compactCounts';
import { GrowableUint32 } from './growable';
import { PairIndex } from './pairIndex';
import { NgramModel, NgramOrder } from './ngramModel';
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
}

/** Presizing stops here (a table for it takes 128 MiB): larger models grow their tables as they go. */
const MAX_PRESIZED_NGRAMS = 1 << 22;

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
  /** Raw occurrence counts of unigrams, by word id (higher orders count in their index). */
  private readonly rawUnigrams = new GrowableUint32();
  /** Distinct left extensions per order below the highest. */
  private readonly cont: GrowableUint32[] = [];
  /** n-gram ids of orders ≥ 2: (prefix id, word) pairs. */
  private readonly index: PairIndex[] = [];
  /** For orders ≥ 2: id of the (k-1)-gram without the first word. */
  private readonly suffix: GrowableUint32[] = [];
  private tokens = 0;
  private sentences = 0;
  private prev: Int32Array;
  private cur: Int32Array;

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
    for (let k = 0; k < this.order; k++) {
      this.cont.push(new GrowableUint32());
      this.suffix.push(new GrowableUint32());
      this.index.push(new PairIndex(k === 0 ? 0 : Math.min(options.expectedTokens ?? 0, MAX_PRESIZED_NGRAMS)));
    }
    this.prev = new Int32Array(this.order + 1);
    this.cur = new Int32Array(this.order + 1);
  }

  /** Adds one sentence given as words (no markers); `<s>`, `</s>`, `<unk>` inside are skipped as lmplz does. */
  addSentence(words: readonly string[]): void {
    const { unkId, bosId, eosId } = this.vocab;
    const ids: number[] = [];
    for (const w of words) {
      const id = this.vocab.add(w);
      if (id !== unkId && id !== bosId && id !== eosId) ids.push(id);
    }
    this.addIds(ids);
  }

  /** Adds one sentence of word ids (no markers): the first `length` of `ids`. */
  addIds(ids: ArrayLike<number>, length = ids.length): void {
    const N = this.order;
    const bos = this.vocab.bosId!;
    const eos = this.vocab.eosId!;
    const L = length + 2;
    let prev = this.prev;
    let cur = this.cur;
    prev[1] = bos;
    for (let i = 1; i < L; i++) {
      const w = i === L - 1 ? eos : ids[i - 1];
      cur[1] = w;
      this.rawUnigrams.ensure(w)[w]++;
      this.cont[0].ensure(w);
      const maxK = Math.min(N, i + 1);
      for (let k = 2; k <= maxK; k++) {
        const idx = this.index[k - 1];
        const id = idx.add(prev[k - 1], w);
        if (idx.inserted) {
          this.suffix[k - 1].push(cur[k - 1]);
          if (k < N) this.cont[k - 1].push(0);
          // A new k-gram is a new left extension of its suffix (k-1)-gram.
          this.cont[k - 2].data[cur[k - 1]]++;
        }
        cur[k] = id;
      }
      const t = prev;
      prev = cur;
      cur = t;
    }
    this.prev = prev;
    this.cur = cur;
    this.tokens += L - 1;
    this.sentences++;
  }

  get tokenCount(): number {
    return this.tokens;
  }

  /** Estimates the model. The trainer can be dropped afterwards. */
  build(orderReady?: OrderReady): { model: NgramModel; stats: TrainingStats } {
    // Without a sentence every adjusted count is 0: the unigram denominator Σ a(w) would be 0 and
    // every probability 0/0.
    if (this.sentences === 0) throw new LmError('no training text: nothing to estimate probabilities from');
    const N = this.order;
    const V = this.vocab.size;
    this.rawUnigrams.ensure(V - 1);
    this.cont[0].ensure(V - 1);
    const bos = this.vocab.bosId!;
    const unk = this.vocab.unkId!;

    // Which n-grams start with <s>, and their adjusted counts.
    const startsWithBos: Uint8Array[] = [];
    const adjusted: Uint32Array[] = [];
    for (let k = 1; k <= N; k++) {
      const count = k === 1 ? V : this.index[k - 1].size;
      const bosFlag = new Uint8Array(count);
      if (k === 1) bosFlag[bos] = 1;
      else {
        const prefix = this.index[k - 1].prefix.data;
        const parentFlag = startsWithBos[k - 2];
        for (let i = 0; i < count; i++) bosFlag[i] = parentFlag[prefix[i]];
      }
      startsWithBos.push(bosFlag);
      const raw = k === 1 ? this.rawUnigrams.data : this.index[k - 1].counts();
      const adj = new Uint32Array(count);
      if (k === N) adj.set(raw.subarray(0, count));
      else {
        const cont = this.cont[k - 1].data;
        for (let i = 0; i < count; i++) adj[i] = bosFlag[i] ? raw[i] : cont[i];
      }
      if (k === 1) {
        adj[bos] = 0;
        adj[unk] = 0;
      }
      adjusted.push(adj);
    }

    const discounts: Discounts[] = [];
    const usedFallback: boolean[] = [];
    for (let k = 1; k <= N; k++) {
      const n = [0, 0, 0, 0, 0];
      const adj = adjusted[k - 1];
      for (let i = 0; i < adj.length; i++) if (adj[i] < 5) n[adj[i]]++;
      const d = this.discountsFromCounts(k, n);
      discounts.push(d.discounts);
      usedFallback.push(d.fallback);
    }
    // Per order, the discount of an adjusted count a: Dk[min(a, 3)].
    const Ds = discounts.map((d) => Float64Array.of(0, d.d1, d.d2, d.d3));
    const D = (k: number, a: number): number => Ds[k - 1][a < 3 ? a : 3];

    // Per context: denominator Σ a(c·) and γ(c) numerator Σ D(a(c·)).
    const probs: Float64Array[] = [];
    const gammas: Float64Array[] = [];
    {
      const adj = adjusted[0];
      let denom = 0;
      let gammaNum = 0;
      for (let w = 0; w < V; w++) {
        denom += adj[w];
        gammaNum += D(1, adj[w]);
      }
      const gamma0 = gammaNum / denom;
      const uniform = 1 / (V - 1); // the vocabulary without <s>, as lmplz
      const p = new Float64Array(V);
      for (let w = 0; w < V; w++) p[w] = (adj[w] - D(1, adj[w])) / denom + gamma0 * uniform;
      probs.push(p);
    }
    for (let k = 2; k <= N; k++) {
      const adj = adjusted[k - 1];
      const count = adj.length;
      const prefix = this.index[k - 1].prefix.data;
      const parentCount = adjusted[k - 2].length;
      const denom = new Float64Array(parentCount);
      const gammaNum = new Float64Array(parentCount);
      const Dk = Ds[k - 1];
      for (let i = 0; i < count; i++) {
        const a = adj[i];
        const c = prefix[i];
        denom[c] += a;
        gammaNum[c] += Dk[a < 3 ? a : 3];
      }
      const gamma = new Float64Array(parentCount);
      for (let c = 0; c < parentCount; c++) gamma[c] = denom[c] > 0 ? gammaNum[c] / denom[c] : 0;
      gammas.push(gamma);
      const lower = probs[k - 2];
      const suffix = this.suffix[k - 1].data;
      const p = new Float64Array(count);
      for (let i = 0; i < count; i++) {
        const c = prefix[i];
        const a = adj[i];
        p[i] = (a - Dk[a < 3 ? a : 3]) / denom[c] + gamma[c] * lower[suffix[i]];
      }
      probs.push(p);
    }

    const model = this.toTrie(probs, gammas, this.keepCounts ? adjusted : undefined, orderReady);
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

  /** Lays the n-grams out as a sorted trie (counting sorts: by word, then stably by parent). */
  private toTrie(probs: Float64Array[], gammas: Float64Array[], adjusted: Uint32Array[] | undefined, orderReady: OrderReady | undefined): NgramModel {
    const N = this.order;
    const orderCounts = [this.vocab.size, ...this.index.slice(1).map((idx) => idx.size)];
    const V = this.vocab.size;
    const bos = this.vocab.bosId!;
    const orders: NgramOrder[] = [];
    // Position of each old id in the sorted order, per order (unigrams are already sorted).
    let position: Uint32Array | null = null;
    const uniProb = new Float32Array(V);
    for (let w = 0; w < V; w++) uniProb[w] = Math.log10(probs[0][w]);
    uniProb[bos] = -99; // <s> is never predicted; lmplz writes -99
    orders.push({
      count: V,
      words: Uint32Array.from({ length: V }, (_, i) => i),
      logProb: uniProb,
      ...(adjusted ? { counts: new CompactCounts(adjusted[0]) } : {}),
    });

    for (let k = 2; k <= N; k++) {
      const idx = this.index[k - 1];
      const count = idx.size;
      const parentCount = orders[k - 2].count;
      const prefix = idx.prefix.data;
      const word = idx.word.data;
      // Each entry's parent in the parent's sorted order.
      const parentKey = new Uint32Array(count);
      if (position) for (let i = 0; i < count; i++) parentKey[i] = position[prefix[i]];
      else parentKey.set(prefix.subarray(0, count));
      // Stable counting sort by word, then by parent: the parent histogram is the child ranges.
      const byWord = sortByKey(count, V, word);
      const childStart = new Uint32Array(parentCount + 1);
      for (let i = 0; i < count; i++) childStart[parentKey[i] + 1]++;
      for (let c = 0; c < parentCount; c++) childStart[c + 1] += childStart[c];
      const cursor = childStart.slice(0, parentCount);
      const sorted = new Uint32Array(count);
      for (let j = 0; j < count; j++) {
        const i = byWord[j];
        sorted[cursor[parentKey[i]]++] = i;
      }
      const parent = orders[k - 2];
      parent.childStart = childStart;
      // Backoff of each context (in the parent's sorted order).
      const backoff = new Float32Array(parentCount);
      const gamma = gammas[k - 2];
      for (let old = 0; old < parentCount; old++) {
        if (gamma[old] > 0) backoff[position ? position[old] : old] = Math.log10(gamma[old]);
      }
      parent.backoff = backoff;
      orderReady?.(k - 1, parent, orderCounts);

      const words = new Uint32Array(count);
      const logProb = new Float32Array(count);
      const nextPosition = new Uint32Array(count);
      const p = probs[k - 1];
      const adj = adjusted?.[k - 1];
      const counts = adj ? new Uint32Array(count) : undefined;
      for (let j = 0; j < count; j++) {
        const old = sorted[j];
        words[j] = word[old];
        logProb[j] = Math.log10(p[old]);
        if (counts) counts[j] = adj![old];
        nextPosition[old] = j;
      }
      orders.push({ count, words, logProb, ...(counts ? { counts: new CompactCounts(counts) } : {}) });
      position = nextPosition;
    }
    orderReady?.(N, orders[N - 1], orderCounts);
    return new NgramModel(this.vocab, orders);
  }
}

/** Stable counting sort of the indices 0..n-1 by key[i] in [0, range). */
function sortByKey(n: number, range: number, key: Uint32Array): Uint32Array {
  const start = new Uint32Array(range + 1);
  for (let i = 0; i < n; i++) start[key[i] + 1]++;
  for (let r = 0; r < range; r++) start[r + 1] += start[r];
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[start[key[i]]++] = i;
  return out;
}
