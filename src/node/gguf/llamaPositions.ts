/**
 * One forward pass, then as many readings of a position's next-token logits as its numbers need.
 * node-llama-cpp's public controlledEvaluate samples each position once, with options fixed before
 * the pass, and hands a whole distribution over as a Map; a rank needs thresholds that depend on
 * the target's logit, which only the pass gives. llama.cpp keeps a batch's logits until the next
 * decode, node-llama-cpp awaits each position's reader before it decodes again, and every sample
 * builds its candidates afresh from those logits: so a position can be sampled several times, with
 * other samplers, at the cost of one pass over the vocabulary each (no re-evaluation).
 *
 * This reaches into node-llama-cpp 3.22.1's internals (the sequence's _decodeTokens, which keeps
 * its token bookkeeping; the addon context's sampleToken; the addon's sampler), the same calls its
 * controlledEvaluate makes; package.json pins that version and the constructor checks they exist.
 */
import type { LlamaSequence } from './llamaRuntime';

type SampleResult = [token: number, probabilities: unknown, confidence: unknown, logits: number[] | undefined, totalLogitWeight: number | undefined];
/** [tokens, includeMax, includeMin, includeSelected, includeTop], as the addon takes a logits filter. */
type LogitsFilter = [readonly number[], boolean, boolean, boolean, number];

interface AddonSampler {
  applyConfig(config: object): void;
  dispose(): void;
}

interface SequenceInternals {
  _decodeTokens(
    tokens: number[],
    logits: boolean[],
    evaluationPriority: number,
    tokenMeter: unknown,
    contextShift: object,
    mapper: (batchLogitIndex: number, tokenIndex: number) => Promise<unknown>,
    afterBatchAction?: unknown,
  ): Promise<unknown[]>;
  _resolveSamplerConfig(options: { temperature?: number; minP?: number; topK?: number | null; topP?: number | null; seed?: number }): object;
  _tokenMeter: unknown;
  _contextShift: { size: unknown; strategy: unknown };
  _takeIntervalCheckpointIfNeededAfterBatch?: unknown;
  _context: {
    _ctx: {
      sampleToken(
        index: number,
        sampler: AddonSampler,
        probabilities: boolean,
        confidence: boolean,
        logits: boolean | LogitsFilter,
        totalLogitWeight: boolean,
      ): Promise<SampleResult>;
    };
  };
  model: { _model: unknown; _llama: { _bindings: { AddonSampler: new (model: unknown) => AddonSampler } } };
}

/** node-llama-cpp's default evaluation priority. */
const PRIORITY = 5;

/** Divides the logits so that every token min-p keeps weighs exp(≈0) = 1 in float32 (a power of two: the divided logits stay exact). */
const COUNTING_TEMPERATURE = 2 ** 64;

/** A position's largest logit and its token, the target's logit, and Σ exp(logit − max) as llama.cpp sums it (float32). */
export interface PositionSummary {
  targetLogit: number;
  max: number;
  argmax: number;
  sumExp: number;
}

/** Tokens at or above a min-p threshold, and whether the target was one of them. */
export interface ThresholdCount {
  count: number;
  keptTarget: boolean;
}

/** The readings of one evaluated position. */
export interface Position {
  summary(target: number): Promise<PositionSummary>;
  /** Tokens whose logit is at least max + logf(minP) (llama.cpp's min-p, in float32). */
  count(minP: number, target: number): Promise<ThresholdCount>;
  /** Every token's logit (float32), by token id; ids past `size` are left out. */
  logits(size: number): Promise<Float32Array>;
}

export class LlamaPositions {
  private readonly seq: SequenceInternals;
  private readonly greedy: AddonSampler;
  private readonly counting: AddonSampler;
  private readonly greedyConfig: object;

  constructor(sequence: LlamaSequence) {
    const seq = sequence as unknown as SequenceInternals;
    const missing = [
      typeof seq._decodeTokens !== 'function' && 'sequence._decodeTokens',
      typeof seq._resolveSamplerConfig !== 'function' && 'sequence._resolveSamplerConfig',
      typeof seq._context?._ctx?.sampleToken !== 'function' && 'context._ctx.sampleToken',
      typeof seq.model?._llama?._bindings?.AddonSampler !== 'function' && 'AddonSampler',
    ].filter(Boolean);
    if (missing.length) throw new Error(`this node-llama-cpp lacks what scoring uses (${missing.join(', ')}): it needs version 3.22.1`);
    this.seq = seq;
    const Sampler = seq.model._llama._bindings.AddonSampler;
    this.greedy = new Sampler(seq.model._model);
    this.counting = new Sampler(seq.model._model);
    // Greedy (temperature 0) leaves the logits as they are.
    this.greedyConfig = seq._resolveSamplerConfig({ temperature: 0, seed: 0 });
    this.greedy.applyConfig(this.greedyConfig);
  }

  /**
   * Appends `tokens` to the sequence in one evaluation and hands `read(i, position)` each position
   * i that `asked(i)` asks about, in order; the next batch waits for it.
   */
  async evaluate(tokens: number[], asked: (i: number) => boolean, read: (i: number, position: Position) => Promise<void>): Promise<void> {
    const flags = tokens.map((_, i) => asked(i));
    const shift = { size: this.seq._contextShift.size, strategy: this.seq._contextShift.strategy };
    // A reader's error is not thrown inside node-llama-cpp's batch loop, which leaves it unhandled
    // (the process dies): the first is kept, later positions are not read, and it is thrown here.
    let failure: { error: unknown } | undefined;
    await this.seq._decodeTokens(
      tokens,
      flags,
      PRIORITY,
      this.seq._tokenMeter,
      shift,
      async (index, i) => {
        if (failure) return;
        try {
          await read(i, this.position(index));
        } catch (error) {
          failure = { error };
        }
      },
      this.seq._takeIntervalCheckpointIfNeededAfterBatch,
    );
    if (failure) throw failure.error;
  }

  private position(index: number): Position {
    const ctx = this.seq._context._ctx;
    return {
      summary: async (target) => {
        // The target and the greedy choice (the largest logit, found without sorting the vocabulary).
        const [, , , logits, weight] = await ctx.sampleToken(index, this.greedy, false, false, [[target], false, false, true, 0], true);
        const pairs = logits!;
        let targetLogit = NaN;
        for (let k = 0; k < pairs.length; k += 2) if (pairs[k] === target) targetLogit = pairs[k + 1];
        // The filter's results come sorted, largest first.
        return { targetLogit, max: pairs[1], argmax: pairs[0], sumExp: weight! };
      },
      count: async (minP, target) => {
        this.counting.applyConfig(this.seq._resolveSamplerConfig({ temperature: COUNTING_TEMPERATURE, topK: null, topP: null, minP, seed: 0 }));
        const [, , , logits, weight] = await ctx.sampleToken(index, this.counting, false, false, [[target], false, false, false, 0], true);
        // Every kept token's weight rounds to 1: the total weight is the count.
        return { count: Math.round(weight!), keptTarget: logits!.length > 0 };
      },
      logits: async (size) => {
        const [, , , pairs] = await ctx.sampleToken(index, this.greedy, false, false, true, false);
        const out = new Float32Array(size).fill(-Infinity);
        for (let k = 0; k < pairs!.length; k += 2) if (pairs![k] < size) out[pairs![k]] = pairs![k + 1];
        return out;
      },
    };
  }

  dispose(): void {
    this.greedy.dispose();
    this.counting.dispose();
  }
}
