/**
 * A GGUF model run by llama.cpp (node-llama-cpp) on the CPU, with the model's own next-token
 * distributions: the numbers are taken before any sampler (node-llama-cpp's greedy sampler leaves
 * the logits as they are), with the settings that change them fixed: no flash attention and a
 * float32 KV cache (llama.cpp's defaults, flash attention and a float16 cache, move log-probs by
 * about 1e-3). Quantised files run as they are.
 *
 * Large vocabularies: a whole distribution comes from node-llama-cpp as a Map, which is slow to
 * build for 32k–150k tokens (some 20–50 ms a position at 49k), so scoring asks each position only
 * for the target's logit, the largest one and the sum of exp(logit − max) (llama.cpp sums it in
 * float32). Ranks take two more evaluations of each chunk that count, inside llama.cpp, the logits
 * above a threshold just above and just below the target's (minPThreshold.ts); only a position
 * where another logit lies within float32 rounding of the target's gets its whole distribution.
 * Each result is reduced as it arrives, a chunk at a time.
 */
import type { BackendCapabilities } from '../../core/backends/capabilities';
import { throwIfCancelled, type CancelSignal } from '../../core/errors';
import type { LanguageModel, ModelInfo, SequenceScores, Tokenizer } from '../../core/model';
import { nextWindowStart, windowKeep } from '../../core/slidingWindow';
import type { LlamaContext, LlamaEvaluateOutput, LlamaGenerateNext, LlamaModel, LlamaSequence } from './llamaRuntime';
import { minPFor, rankFromCounts } from './minPThreshold';

export const GGUF_CAPABILITIES: BackendCapabilities = {
  distribution: 'full',
  batchedScoring: true,
  context: 'window',
  placements: ['host', 'node-worker'],
  devices: [],
};

/** Ranks up to this are read from a position's sorted top logits, when the first evaluation asks for them. */
export const RANK_TOP = 1000;

/** Divides the logits so that every kept token weighs exp(≈0) = 1 in float32 (a power of two: the divided logits stay exact). */
const COUNTING_TEMPERATURE = 2 ** 64;

/** Positions evaluated per call: bounds the results held at once. */
const CHUNK = 64;

/** What the model needs from its file besides llama.cpp's objects. */
export interface GgufModelSetup {
  name: string;
  tokenizer: Tokenizer;
  vocabSize: number;
  bosId: number | undefined;
  eosIds: number[];
  /** Tokens of one window (the context llama.cpp was given). */
  window: number;
  description: string;
  precision: string;
  /** Ranks read from the sorted top logits (default RANK_TOP; the tests lower it). */
  rankTop?: number;
  /** How ranks below the top are found: the cheaper way as measured (default), or always one way (the tests compare them). */
  rankBelowTop?: 'cheaper' | 'counts' | 'distributions';
}

/** A piece of a window evaluated as one batch: tokens [a, b) of `tokens`, whose position j predicts `target(j)`. */
interface Chunk {
  tokens: readonly number[];
  a: number;
  b: number;
  target: (j: number) => number;
  signal?: CancelSignal;
}

/** Tokens at or above a threshold, and whether the target was one of them. */
interface Count {
  count: number;
  keptTarget: boolean;
}

export class GgufLanguageModel implements LanguageModel {
  readonly info: ModelInfo;
  readonly tokenizer: Tokenizer;
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosIds: readonly number[];
  readonly unkId = undefined;
  readonly unsampleableIds: readonly number[];
  private readonly seq: LlamaSequence;
  private readonly window: number;
  private readonly rankTop: number;
  private readonly rankBelowTop: 'cheaper' | 'counts' | 'distributions';
  /** How scoring found its ranks so far: counted in llama.cpp, or read from a whole distribution (reported by the benchmark). */
  readonly rankSources = { counted: 0, whole: 0 };
  /** Whether the first evaluation of a chunk asks for the sorted top logits (it did pay in the last chunk). */
  private sortTop = true;
  /** Milliseconds an evaluation takes per token, and reading one whole distribution (measured as scoring goes). */
  private msPerToken = 0;
  private msPerDistribution: number;
  private readonly initialMsPerDistribution: number;
  private queue: Promise<unknown> = Promise.resolve();
  /** The context of the last nextLogProbs and its answer, and where its window starts. */
  private last: { context: number[]; windowStart: number; logProbs: Float64Array } | undefined;
  private released?: Promise<void>;

  constructor(
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    setup: GgufModelSetup,
  ) {
    this.seq = context.getSequence();
    this.tokenizer = setup.tokenizer;
    this.vocabSize = setup.vocabSize;
    this.bosId = setup.bosId;
    this.eosIds = setup.eosIds;
    this.window = setup.window;
    this.rankTop = setup.rankTop ?? RANK_TOP;
    this.rankBelowTop = setup.rankBelowTop ?? 'cheaper';
    // About half a microsecond per vocabulary entry for node-llama-cpp to hand over a whole distribution as a Map.
    this.initialMsPerDistribution = this.msPerDistribution = setup.vocabSize * 5e-4;
    this.unsampleableIds = setup.bosId !== undefined && !setup.eosIds.includes(setup.bosId) ? [setup.bosId] : [];
    this.info = {
      name: setup.name,
      backend: 'gguf',
      capabilities: GGUF_CAPABILITIES,
      description: setup.description,
      contextLength: setup.window,
      device: 'llama.cpp',
      precision: setup.precision,
    };
  }

  get eosId(): number | undefined {
    return this.eosIds[0];
  }

  /** Serialises calls: the sequence's KV cache follows one token sequence at a time. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Makes the sequence hold `tokens` and hands `onResult(i, output)` the next-token output of each
   * position i ≥ `from` that `ask(i)` asks for. Keeps the cached tokens `tokens` starts with,
   * before the first position asked about (its output is computed when its token is evaluated).
   */
  private async evaluate(
    tokens: readonly number[],
    from: number,
    ask: (i: number) => LlamaGenerateNext | undefined,
    onResult: (i: number, output: LlamaEvaluateOutput) => void,
    signal?: CancelSignal,
  ): Promise<void> {
    const have = this.seq.contextTokens;
    let keep = 0;
    const limit = Math.min(have.length, tokens.length, from);
    while (keep < limit && have[keep] === tokens[keep]) keep++;
    if (keep < this.seq.nextTokenIndex) await this.seq.eraseContextTokenRanges([{ start: keep, end: this.seq.nextTokenIndex }]);
    for (let a = keep; a < tokens.length; a += CHUNK) {
      throwIfCancelled(signal);
      const b = Math.min(a + CHUNK, tokens.length);
      const items: (number | [number, { generateNext?: LlamaGenerateNext }])[] = [];
      for (let i = a; i < b; i++) {
        const next = i >= from ? ask(i) : undefined;
        items.push(next ? [tokens[i], { generateNext: next }] : tokens[i]);
      }
      await this.seq.controlledEvaluate(items, { onTokenResult: (k, out) => onResult(a + k, out) });
    }
  }

  nextLogProbs(context: readonly number[], signal?: CancelSignal): Promise<Float64Array> {
    return this.exclusive(async () => {
      throwIfCancelled(signal);
      if (context.length === 0) throw new Error('a neural model needs at least one context token');
      const last = this.last;
      if (last && sameTokens(last.context, context)) return last.logProbs;
      // A context past the window restarts at half a window, so that the next steps extend it (as the ONNX backend does).
      const reusable = last && context.length - last.windowStart <= this.window && startsWith(context, last.context);
      const windowStart = context.length <= this.window ? 0 : reusable ? last!.windowStart : nextWindowStart(context.length, this.window);
      const tokens = context.slice(windowStart);
      let logProbs: Float64Array | undefined;
      await this.evaluate(
        tokens,
        tokens.length - 1,
        () => ({ logits: true }),
        (_, out) => (logProbs = this.logSoftmax(out.next.logits!)),
        signal,
      );
      this.last = { context: context.slice(), windowStart, logProbs: logProbs! };
      return logProbs!;
    });
  }

  /** Log-probabilities (float64) of every token from a whole-vocabulary Map of logits. */
  private logSoftmax(logits: Map<number, number>): Float64Array {
    let max = -Infinity;
    for (const v of logits.values()) if (v > max) max = v;
    let sum = 0;
    for (const v of logits.values()) sum += Math.exp(v - max);
    const lse = max + Math.log(sum);
    const out = new Float64Array(this.vocabSize).fill(-Infinity);
    for (const [token, v] of logits) if (token < out.length) out[token] = v - lse;
    return out;
  }

  async sequenceLogProbs(ids: readonly number[], from: number, signal?: CancelSignal): Promise<Float64Array> {
    return (await this.scoreWindows(ids, from, false, signal)).logProbs;
  }

  sequenceScores(ids: readonly number[], from: number, signal?: CancelSignal): Promise<SequenceScores> {
    return this.scoreWindows(ids, from, true, signal);
  }

  /** Scores tokens [from, n) in windows that overlap by half a window, as the ONNX backend does. */
  private scoreWindows(ids: readonly number[], from: number, withRanks: boolean, signal?: CancelSignal): Promise<SequenceScores> {
    return this.exclusive(async () => {
      const n = ids.length;
      const logProbs = new Float64Array(Math.max(0, n - from));
      const ranks = new Int32Array(withRanks ? logProbs.length : 0);
      const max = this.window;
      let start = Math.max(0, Math.min(from - windowKeep(max), n - max));
      let scored = Math.max(from, 1);
      this.last = undefined;
      while (scored < n) {
        throwIfCancelled(signal);
        const end = Math.min(start + max, n);
        const first = Math.max(scored, start + 1);
        const tokens = ids.slice(start, end);
        // Position j of the window predicts token start + j + 1; the window's last token predicts nothing here.
        const target = (j: number) => ids[start + j + 1];
        const slot = (j: number) => start + j + 1 - from;
        for (let a = first - 1 - start; a < tokens.length - 1; a += CHUNK) {
          throwIfCancelled(signal);
          const b = Math.min(a + CHUNK, tokens.length - 1);
          const chunk: Chunk = { tokens, a, b, target, signal };
          const maxLogits = new Float64Array(b - a);
          const targetLogits = new Float64Array(b - a);
          const argmax = new Int32Array(b - a);
          const chunkRanks = new Int32Array(b - a);
          // Sorting the vocabulary for the top logits pays where most targets are among them (a trained model).
          const top = withRanks && this.sortTop ? this.rankTop : 0;
          const started = performance.now();
          await this.evaluateChunk(
            chunk,
            // includeSelected adds the greedy sampler's token, the largest logit, without sorting the vocabulary.
            (j) => ({ logits: { filter: { tokens: [target(j)], includeSelected: true, includeTop: top } }, totalLogitWeight: true }),
            (j, out) => {
              const logits = out.next.logits!;
              let largest = -Infinity;
              for (const [token, v] of logits) if (v > largest) [largest, argmax[j - a]] = [v, token];
              const lt = logits.get(target(j))!;
              logProbs[slot(j)] = lt - largest - Math.log(out.next.totalLogitWeight!);
              maxLogits[j - a] = largest;
              targetLogits[j - a] = lt;
              if (lt >= largest) chunkRanks[j - a] = 1;
              else if (top > 0) chunkRanks[j - a] = rankInTop(logits, target(j), lt, top);
            },
          );
          this.timeEvaluation(performance.now() - started, b - a);
          if (withRanks) {
            await this.rankChunk(chunk, { targetLogits, maxLogits, argmax }, chunkRanks);
            for (let j = a; j < b; j++) ranks[slot(j)] = chunkRanks[j - a];
            this.sortTop = chunkRanks.filter((r) => r <= this.rankTop).length * 2 >= chunkRanks.length;
          }
        }
        scored = end;
        start = Math.max(start + 1, nextWindowStart(end, max));
      }
      return { logProbs, ranks };
    });
  }

  /**
   * Ranks of a chunk's targets that its first evaluation did not settle (0 in `ranks`; a target
   * with the largest logit ranks first, one among the sorted top logits has its rank). Either
   * each such position's whole distribution is read (costly at large vocabularies), or, when that
   * would cost more than two more evaluations of the chunk from the first such position, those two
   * count, inside llama.cpp, the logits above a threshold just above the target's and just below
   * (minPThreshold.ts); a position where another logit lies between the two thresholds (within
   * float32 rounding of the target's, a tie too) gets its whole distribution after all.
   */
  private async rankChunk(chunk: Chunk, first: { targetLogits: Float64Array; maxLogits: Float64Array; argmax: Int32Array }, ranks: Int32Array): Promise<void> {
    const { a, b, target } = chunk;
    const { targetLogits, maxLogits, argmax } = first;
    const pending: number[] = [];
    for (let j = a; j < b; j++) if (ranks[j - a] === 0) pending.push(j);
    if (pending.length === 0) return;
    const whole = new Set<number>();
    // The evaluations start at the first pending position; the window's tokens before it are kept.
    const rest: Chunk = { ...chunk, a: pending[0] };
    const span = b - rest.a;
    const cheaper = span * this.msPerToken < pending.length * this.msPerDistribution;
    if (this.rankBelowTop === 'counts' || (this.rankBelowTop === 'cheaper' && cheaper)) {
      const thresholds = { above: new Map<number, number>(), below: new Map<number, number>() };
      for (const j of pending) {
        const above = minPFor(targetLogits[j - a], maxLogits[j - a], 1);
        const below = minPFor(targetLogits[j - a], maxLogits[j - a], -1);
        if (above === undefined || below === undefined) whole.add(j);
        else {
          thresholds.above.set(j, above);
          thresholds.below.set(j, below);
        }
      }
      const counts = { above: new Map<number, Count>(), below: new Map<number, Count>() };
      /** The largest logit (of the first evaluation's argmax) in the first counting evaluation: the second must see the same, bit for bit. */
      const seen = new Map<number, number>();
      for (const side of ['above', 'below'] as const) {
        if (thresholds[side].size === 0) continue;
        await this.evaluateChunk(
          rest,
          (j) => {
            const minP = thresholds[side].get(j);
            // Every kept token's weight exp((logit − max) / T) rounds to 1: the total weight is the count.
            return minP === undefined
              ? undefined
              : {
                  logits: { filter: { tokens: [target(j), argmax[j - a]] } },
                  totalLogitWeight: true,
                  options: { temperature: COUNTING_TEMPERATURE, topK: null, topP: null, minP, seed: 0 },
                };
          },
          (j, out) => {
            const logits = out.next.logits!;
            const largest = logits.get(argmax[j - a]);
            if (side === 'above') seen.set(j, largest ?? NaN);
            else if (largest === undefined || seen.get(j) !== largest) whole.add(j);
            counts[side].set(j, { count: Math.round(out.next.totalLogitWeight!), keptTarget: logits.has(target(j)) });
          },
        );
      }
      for (const j of thresholds.above.keys()) {
        const rank = whole.has(j) ? undefined : rankFromCounts(counts.above.get(j)!, counts.below.get(j)!);
        if (rank === undefined) whole.add(j);
        else {
          ranks[j - a] = rank;
          this.rankSources.counted++;
        }
      }
    } else for (const j of pending) whole.add(j);
    if (whole.size === 0) return;
    this.rankSources.whole += whole.size;
    const started = performance.now();
    await this.evaluateChunk(
      rest,
      (j) => (whole.has(j) ? { logits: true } : undefined),
      (j, out) => {
        const logits = out.next.logits!;
        const lt = logits.get(target(j))!;
        let rank = 1;
        for (const v of logits.values()) if (v > lt) rank++;
        ranks[j - a] = rank;
      },
    );
    const perDistribution = (performance.now() - started - span * this.msPerToken) / whole.size;
    this.msPerDistribution = 0.7 * this.msPerDistribution + 0.3 * Math.max(perDistribution, 0.1 * this.initialMsPerDistribution);
  }

  /** Keeps the evaluation's cost per token (an average over the last chunks) for rankChunk's choice. */
  private timeEvaluation(ms: number, tokens: number): void {
    if (tokens > 0) this.msPerToken = this.msPerToken === 0 ? ms / tokens : 0.7 * this.msPerToken + (0.3 * ms) / tokens;
  }

  /**
   * Evaluates the chunk's tokens [a, b) after the window's tokens before it, in one batch, asking
   * `ask(j)` of each position: evaluated again, a chunk gives the same logits bit for bit.
   */
  private async evaluateChunk(
    chunk: Chunk,
    ask: (j: number) => LlamaGenerateNext | undefined,
    onResult: (j: number, output: LlamaEvaluateOutput) => void,
  ): Promise<void> {
    const { tokens, a, b, signal } = chunk;
    await this.evaluate(
      tokens.slice(0, a),
      a,
      () => undefined,
      () => undefined,
      signal,
    );
    await this.evaluate(tokens.slice(0, b), a, ask, onResult, signal);
  }

  /** Waits for the evaluation in progress, then frees llama.cpp's context and model. */
  dispose(): Promise<void> {
    this.released ??= this.exclusive(async () => {
      await this.context.dispose();
      await this.model.dispose();
    }).catch(() => undefined);
    return this.released;
  }
}

/** The rank of a target among the sorted top logits (the Map holds them in descending order, the target after them when it is not one of them), or 0 when it is below them. */
function rankInTop(logits: Map<number, number>, target: number, lt: number, top: number): number {
  let rank = 1;
  let count = 0;
  let inTop = false;
  for (const [token, v] of logits) {
    if (count++ >= top) break;
    if (token === target) inTop = true;
    if (v > lt) rank++;
  }
  return inTop || count < top ? rank : 0;
}

function sameTokens(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && startsWith(a, b);
}

function startsWith(a: readonly number[], prefix: readonly number[]): boolean {
  if (prefix.length > a.length) return false;
  for (let i = prefix.length - 1; i >= 0; i--) if (a[i] !== prefix[i]) return false;
  return true;
}
