/**
 * A GGUF model run by llama.cpp (node-llama-cpp) on the CPU, with the model's own next-token
 * distributions: the numbers are taken before any sampler (node-llama-cpp's greedy sampler leaves
 * the logits as they are), with the settings that change them fixed: no flash attention and a
 * float32 KV cache (llama.cpp's defaults, flash attention and a float16 cache, move log-probs by
 * about 1e-3). Quantised files run as they are.
 *
 * Large vocabularies: a whole distribution comes from node-llama-cpp as a Map, which is slow to
 * build for 32k–150k tokens, so scoring asks each position only for the target's logit, the sum
 * of exp(logit − max) (llama.cpp sums it in float32) and the top RANK_TOP logits; a target ranked
 * below those gets its exact rank from its position's whole distribution, evaluated again. Each
 * result is reduced as it arrives, in chunks, so that no more than a chunk's results are held.
 */
import type { BackendCapabilities } from '../../core/backends/capabilities';
import { throwIfCancelled, type CancelSignal } from '../../core/errors';
import type { LanguageModel, ModelInfo, SequenceScores, Tokenizer } from '../../core/model';
import { nextWindowStart, windowKeep } from '../../core/slidingWindow';
import type { LlamaContext, LlamaEvaluateOutput, LlamaGenerateNext, LlamaModel, LlamaSequence } from './llamaRuntime';

export const GGUF_CAPABILITIES: BackendCapabilities = {
  distribution: 'full',
  batchedScoring: true,
  context: 'window',
  placements: ['host', 'node-worker'],
  devices: [],
};

/** Ranks up to this are read from each position's sorted top logits; a lower-ranked target costs a second evaluation. */
export const RANK_TOP = 1000;

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
  /** Ranks read from the top logits (default RANK_TOP; the tests lower it to reach the second evaluation). */
  rankTop?: number;
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
        const unranked: number[] = [];
        // Position j of the window predicts token start + j + 1.
        await this.evaluate(
          tokens,
          first - 1 - start,
          // includeSelected adds the greedy sampler's token, the largest logit, without sorting the vocabulary.
          (j) =>
            start + j + 1 < end
              ? {
                  logits: { filter: { tokens: [ids[start + j + 1]], includeSelected: true, includeTop: withRanks ? this.rankTop : 0 } },
                  totalLogitWeight: true,
                }
              : undefined,
          (j, out) => {
            const t = start + j + 1;
            const target = ids[t];
            const logits = out.next.logits!;
            let max = -Infinity;
            for (const v of logits.values()) if (v > max) max = v;
            const lt = logits.get(target)!;
            logProbs[t - from] = lt - max - Math.log(out.next.totalLogitWeight!);
            if (!withRanks) return;
            // The Map holds the top logits in descending order, the target after them when it is not one of them.
            let rank = 1;
            let inTop = false;
            let count = 0;
            for (const [token, v] of logits) {
              if (count++ >= this.rankTop) break;
              if (token === target) inTop = true;
              if (v > lt) rank++;
            }
            if (inTop || count < this.rankTop) ranks[t - from] = rank;
            else unranked.push(j);
          },
          signal,
        );
        if (unranked.length > 0) await this.rankAgain(tokens, unranked, start, from, ids, ranks, signal);
        scored = end;
        start = Math.max(start + 1, nextWindowStart(end, max));
      }
      return { logProbs, ranks };
    });
  }

  /** Exact ranks of targets below the top logits: their positions evaluated again, with whole distributions. */
  private async rankAgain(
    tokens: readonly number[],
    positions: number[],
    start: number,
    from: number,
    ids: readonly number[],
    ranks: Int32Array,
    signal?: CancelSignal,
  ): Promise<void> {
    const wanted = new Set(positions);
    await this.evaluate(
      tokens,
      positions[0],
      (j) => (wanted.has(j) ? { logits: true } : undefined),
      (j, out) => {
        const t = start + j + 1;
        const lt = out.next.logits!.get(ids[t])!;
        let rank = 1;
        for (const v of out.next.logits!.values()) if (v > lt) rank++;
        ranks[t - from] = rank;
      },
      signal,
    );
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

function sameTokens(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && startsWith(a, b);
}

function startsWith(a: readonly number[], prefix: readonly number[]): boolean {
  if (prefix.length > a.length) return false;
  for (let i = prefix.length - 1; i >= 0; i--) if (a[i] !== prefix[i]) return false;
  return true;
}
