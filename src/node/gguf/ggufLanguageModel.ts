/**
 * A GGUF model run by llama.cpp (node-llama-cpp) on the CPU, with the model's own next-token
 * distributions: the numbers are taken before any sampler (a greedy sampler leaves the logits as
 * they are), with the settings that change them fixed: no flash attention and a float32 KV cache
 * (llama.cpp's defaults, flash attention and a float16 cache, move log-probs by about 1e-3).
 * Quantised files run as they are.
 *
 * Large vocabularies: a whole distribution crosses from llama.cpp to JavaScript as an array of
 * token/value pairs, which is slow for 32k–150k tokens, so scoring evaluates each window once and
 * reads each position only as far as its numbers need (llamaPositions.ts): the target's logit, the
 * largest one and the sum of exp(logit − max) (llama.cpp sums it in float32); for a rank, two
 * counts, inside llama.cpp, of the logits above a threshold just above and just below the target's
 * (minPThreshold.ts), from the same logits; only a position where another logit lies within
 * float32 rounding of the target's has its whole distribution read.
 */
import { ModelQueue } from '../../core/modelQueue';
import type { BackendCapabilities } from '../../core/backends/capabilities';
import { LaneChooser, SIDE_LANE_TOKENS, type LaneCost } from '../../core/cacheLanes';
import { LmError, throwIfCancelled, type CancelSignal } from '../../core/errors';
import type { GenerationHold, LanguageModel, ModelInfo, SequenceScores, Tokenizer, WarmResult } from '../../core/model';
import { nextWindowStart, windowKeep } from '../../core/slidingWindow';
import { LlamaPositions, type Position } from './llamaPositions';
import type { LlamaContext, LlamaModel, LlamaSequence } from './llamaRuntime';
import { minPFor, rankFromCounts } from './minPThreshold';
import { logSoftmaxOfLogits } from '../../core/logMath';

export const GGUF_CAPABILITIES: BackendCapabilities = {
  distribution: 'full',
  batchedScoring: true,
  context: 'window',
  // A child process in the editor: llama.cpp aborts the process on some faults (GGML_ASSERT).
  placements: ['host', 'node-process'],
  devices: [],
};

/** Positions evaluated per call: cancellation is looked at between calls. */
const CHUNK = 64;
/**
 * Tokens before the first position asked about evaluated at once: Stop (a cancelled request) is
 * looked at between two such passes, and every other request waits for one at most (a 4,000-token
 * prompt in one pass held them for 51 s on a loaded machine).
 */
const PREFILL_CHUNK = 256;
/**
 * Tokens a warm-up (`warmContext`: an inline completion's prompt read before it is asked for)
 * runs at once: a request that arrives meanwhile (a hover) waits for one such pass at most.
 */
const WARM_CHUNK = 64;

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
  /** Where ranks come from: counted in llama.cpp (default), or every one from a whole distribution (the tests compare them). */
  ranksFrom?: 'counts' | 'distributions';
  /** Makes the side lane's context of `cells` tokens (cacheLanes.ts), on the first request that runs there; none: one lane. */
  openSideContext?: (cells: number) => Promise<LlamaContext>;
}

/** A llama.cpp sequence (its KV cache) and its readers. */
interface Lane {
  seq: LlamaSequence;
  positions: LlamaPositions;
  /** The side lane's own context (the main lane's is the model's). */
  context?: LlamaContext;
}

export class GgufLanguageModel implements LanguageModel {
  readonly info: ModelInfo;
  readonly tokenizer: Tokenizer;
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosIds: readonly number[];
  readonly unkId = undefined;
  readonly unsampleableIds: readonly number[];
  /** The main lane: a window's cache, the long sequences (a document's heat-map, its end as the user types). */
  private readonly main: Lane;
  /**
   * The side lane, made on the first request that costs less there (cacheLanes.ts): a second small
   * context rather than `sequences: 2`, which gives every sequence a whole window of cells (the
   * 135M model's float32 cache at 8,192 tokens: 377 → 755 MB).
   */
  private side: Lane | undefined;
  private readonly lanes = new LaneChooser();
  private openSide: ((cells: number) => Promise<LlamaContext>) | undefined;
  /** Tokens the side lane holds: about SIDE_LANE_TOKENS, or the window when it is smaller. */
  private readonly sideTokens: number;
  private readonly window: number;
  private readonly ranksFrom: 'counts' | 'distributions';
  /** How scoring found the ranks of targets below the first: counted in llama.cpp, or read from a whole distribution (reported by the benchmark). */
  readonly rankSources = { counted: 0, whole: 0 };
  /** Tokens evaluated by llama.cpp, on each lane (the tests count what a request runs). */
  readonly evaluated = { main: 0, side: 0 };
  private readonly calls = new ModelQueue();
  /** The context of the last nextLogProbs and its answer, and where its window starts. */
  private last: { context: number[]; windowStart: number; logProbs: Float64Array } | undefined;
  private released?: Promise<void>;

  constructor(
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    setup: GgufModelSetup,
  ) {
    const seq = context.getSequence();
    this.main = { seq, positions: new LlamaPositions(seq) };
    this.openSide = setup.openSideContext;
    // Its context has SIDE_LANE_TOKENS cells, one kept free by node-llama-cpp (which pads other sizes up to a multiple of 256).
    this.sideTokens = Math.min(setup.window, SIDE_LANE_TOKENS - 1);
    this.tokenizer = setup.tokenizer;
    this.vocabSize = setup.vocabSize;
    this.bosId = setup.bosId;
    this.eosIds = setup.eosIds;
    this.window = setup.window;
    this.ranksFrom = setup.ranksFrom ?? 'counts';
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

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.calls.run(fn);
  }

  /** Holds off warm-ups only: llama.cpp's cache is kept for generation, whatever ran before. */
  async holdForGeneration(): Promise<GenerationHold> {
    return { nextLogProbs: (context, signal) => this.nextLogProbs(context, signal), forgetContext: async () => undefined, release: this.calls.hold() };
  }

  /**
   * Runs `ids` (at most a window, from its start) into the cache of the lane a request for them
   * would run on, WARM_CHUNK tokens a pass, giving way to every other request between two passes
   * and taking up again after them (as the ONNX backend's). The numbers a request then gets are
   * those of its tokens, whatever the cache held.
   */
  async warmContext(ids: readonly number[], signal?: CancelSignal): Promise<WarmResult> {
    const target = ids.slice(0, this.window);
    const held = (upTo: number) => Math.max(...[this.main, this.side].map((lane) => (lane ? kept(lane.seq, target, upTo) : 0)));
    let cached = 0;
    let gaveUp = false;
    const yielded = await this.calls.inPasses(
      async () => {
        // A lane holding the target under a longer sequence (a hover's context at a document's start,
        // the document cached) is warm already: evaluating it would cut that sequence to the target
        // (drive6: the status bar's next ten tokens then re-read 5,000).
        if (held(target.length) >= target.length) {
          cached = target.length;
          return true;
        }
        // A request it gave way to took what it had cached (WarmResult.gaveUp).
        if (cached > 0 && held(cached) < cached) {
          cached = held(cached);
          gaveUp = true;
          return true;
        }
        cached = await this.evaluate(
          target,
          target.length,
          () => false,
          async () => undefined,
          undefined,
          WARM_CHUNK,
        );
        return cached >= target.length;
      },
      () => !!signal?.cancelled || !!this.released,
    );
    return gaveUp ? { cached, yielded, gaveUp } : { cached, yielded };
  }

  /**
   * Makes a lane's sequence hold `tokens` and hands `read(i, position)` each position i ≥ `from`
   * that `ask(i)` asks about. Keeps the cached tokens `tokens` starts with, before `from` (a
   * position's logits exist only while its token is evaluated). With `budget`, runs at most that
   * many tokens (a warm-up's pass). Returns how many of `tokens` the lane then holds.
   */
  private async evaluate(
    tokens: readonly number[],
    from: number,
    ask: (i: number) => boolean,
    read: (i: number, position: Position) => Promise<void>,
    signal?: CancelSignal,
    budget = Infinity,
  ): Promise<number> {
    const lane = await this.laneFor(tokens, from);
    const seq = lane.seq;
    const keep = kept(seq, tokens, from);
    if (keep < seq.nextTokenIndex) await seq.eraseContextTokenRanges([{ start: keep, end: seq.nextTokenIndex }]);
    const count = lane === this.main ? 'main' : 'side';
    const upTo = Math.min(tokens.length, keep + budget);
    // Up to the first position asked about in passes of PREFILL_CHUNK (nothing is read there), then CHUNK at a time.
    for (let a = keep; a < upTo;) {
      throwIfCancelled(signal);
      const b = a < from ? Math.min(from, a + PREFILL_CHUNK, upTo) : Math.min(a + CHUNK, upTo);
      this.evaluated[count] += b - a;
      await lane.positions.evaluate(
        tokens.slice(a, b),
        (k) => a + k >= from && ask(a + k),
        (k, position) => read(a + k, position),
      );
      a = b;
    }
    return upTo;
  }

  /** The lane where `tokens` (needing logits from `from` on) cost least; the side lane is made here the first time. */
  private async laneFor(tokens: readonly number[], from: number): Promise<Lane> {
    const open = this.openSide;
    const main = cost(this.main.seq, tokens, from);
    const fits = (open !== undefined || this.side !== undefined) && tokens.length <= this.sideTokens;
    const side = !fits ? undefined : this.side ? cost(this.side.seq, tokens, from) : { run: tokens.length, lost: 0 };
    const chosen = this.lanes.choose(tokens, main, side);
    if ((chosen === 'main' ? main : side!).lost > 0) this.lanes.threwAway((chosen === 'main' ? this.main : this.side!).seq.contextTokens);
    if (chosen === 'main') return this.main;
    if (!this.side) {
      try {
        const context = await open!(this.sideTokens);
        const seq = context.getSequence();
        this.side = { seq, positions: new LlamaPositions(seq), context };
      } catch {
        // No memory for it: one lane, as before.
        this.openSide = undefined;
        return this.main;
      }
    }
    return this.side;
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
        () => true,
        async (i, position) => {
          const logits = await position.logits(this.vocabSize);
          logProbs = this.finite(logSoftmaxOfLogits(logits, 0, logits.length), windowStart + i);
        },
        signal,
      );
      this.last = { context: context.slice(), windowStart, logProbs: logProbs! };
      return logProbs!;
    });
  }

  async sequenceLogProbs(ids: readonly number[], from: number, signal?: CancelSignal): Promise<Float64Array> {
    return (await this.scoreWindows(ids, from, false, signal)).logProbs;
  }

  sequenceScores(ids: readonly number[], from: number, signal?: CancelSignal): Promise<SequenceScores> {
    return this.scoreWindows(ids, from, true, signal);
  }

  /** Scores tokens [from, n) in windows that overlap by half a window, as the ONNX backend does; each window is evaluated once. */
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
        await this.evaluate(
          tokens,
          first - 1 - start,
          (j) => j < tokens.length - 1,
          async (j, position) => {
            const target = ids[start + j + 1];
            const slot = start + j + 1 - from;
            const s = await position.summary(target);
            logProbs[slot] = s.targetLogit - s.max - Math.log(s.sumExp);
            if (!Number.isFinite(logProbs[slot])) throw this.nonFinite(start + j);
            if (withRanks) ranks[slot] = s.targetLogit >= s.max ? 1 : await this.rankBelowFirst(position, target, s);
          },
          signal,
        );
        scored = end;
        start = Math.max(start + 1, nextWindowStart(end, max));
      }
      return { logProbs, ranks };
    });
  }

  /**
   * The rank of a target below the largest logit: from two counts of the logits at or above a
   * threshold just above the target's and one at most it (minPThreshold.ts), or, where they do not
   * settle it (another logit within float32 rounding of the target's, a tie too), from the whole
   * distribution.
   */
  private async rankBelowFirst(position: Position, target: number, s: { targetLogit: number; max: number }): Promise<number> {
    if (this.ranksFrom === 'counts') {
      const above = minPFor(s.targetLogit, s.max, 1);
      const below = minPFor(s.targetLogit, s.max, -1);
      if (above !== undefined && below !== undefined) {
        const rank = rankFromCounts(await position.count(above, target), await position.count(below, target));
        if (rank !== undefined) {
          this.rankSources.counted++;
          return rank;
        }
      }
    }
    this.rankSources.whole++;
    const logits = await position.logits(this.vocabSize);
    const lt = logits[target];
    let rank = 1;
    for (let t = 0; t < logits.length; t++) if (logits[t] > lt) rank++;
    return rank;
  }

  /** `logProbs`, unless the model's logits were not finite at `position` (NaN or ∞ in its weights). */
  private finite(logProbs: Float64Array, position: number): Float64Array {
    // A NaN or +∞ logit makes NaN log-probs; finite logits give the largest a finite one.
    let some = false;
    for (let t = 0; t < logProbs.length; t++) {
      if (Number.isNaN(logProbs[t])) throw this.nonFinite(position);
      if (logProbs[t] > -Infinity) some = true;
    }
    if (!some) throw this.nonFinite(position);
    return logProbs;
  }

  /** A number that is not a probability is not shown as one (it made "NaN bits" and "rank 1"). */
  private nonFinite(position: number): LmError {
    return new LmError(
      `${this.info.name} gives logits that are not finite numbers (NaN or ∞) after token ${position + 1}: its weights or header values are broken (a float16 overflow in a conversion, a bad quantisation, rope.freq_base 0); its numbers cannot be shown`,
    );
  }

  /** Waits for the evaluation in progress, then frees llama.cpp's samplers, context and model. */
  dispose(): Promise<void> {
    this.released ??= this.exclusive(async () => {
      this.main.positions.dispose();
      if (this.side) {
        this.side.positions.dispose();
        await this.side.context!.dispose();
      }
      await this.context.dispose();
      await this.model.dispose();
    }).catch(() => undefined);
    return this.released;
  }
}

/** Tokens of `seq` that `tokens` starts with, before `from`. */
function kept(seq: LlamaSequence, tokens: readonly number[], from: number): number {
  const have = seq.contextTokens;
  const limit = Math.min(have.length, tokens.length, from);
  let keep = 0;
  while (keep < limit && have[keep] === tokens[keep]) keep++;
  return keep;
}

/** What making `seq` hold `tokens` costs: the tokens after what it keeps, and the cached ones it erases. */
function cost(seq: LlamaSequence, tokens: readonly number[], from: number): LaneCost {
  const keep = kept(seq, tokens, from);
  return { run: tokens.length - keep, lost: seq.nextTokenIndex - keep };
}

function sameTokens(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && startsWith(a, b);
}

function startsWith(a: readonly number[], prefix: readonly number[]): boolean {
  if (prefix.length > a.length) return false;
  for (let i = prefix.length - 1; i >= 0; i--) if (a[i] !== prefix[i]) return false;
  return true;
}
