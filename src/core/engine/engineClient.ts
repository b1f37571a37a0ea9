/**
 * The host side of the engine protocol: the connection to a worker, and WorkerLanguageModel, whose
 * distributions come from it.
 * The tokenizer runs on the host (it is cheap and needed synchronously).
 *
 * The worker answers in order, one request at a time. Scoring a long text (heat-map, document
 * metrics) is background work: it goes in pieces of about one model window, one piece in the
 * worker at a time, so that an interactive request (a hover, a completion step) waits behind at
 * most one piece instead of a whole document.
 */
import { CancelledError, LmError, ModelFormatError, type CancelSignal } from '../errors';
import { readsTextWhileGenerating, type Completion, type GenerationHooks, type GenerationOptions } from '../generation';
import { CompletionSpeller, spellCompletion } from '../spellGenerated';
import type { GenerationHold, LanguageModel, ModelInfo, SequenceScores, SpanScores, Tokenizer, WarmResult } from '../model';
import type { EngineOp, EngineRequest, EngineResponse, GeneratePartial, ModelDescription, OpRequest, OpResult } from './protocol';

type Pending = { resolve: (result: never) => void; reject: (e: Error) => void; onPartial?: (p: GeneratePartial) => void };

/** Where a WorkerLanguageModel sends its requests: one connection, or a supervisor of workers. */
export interface EngineChannel {
  /**
   * Sends one operation and resolves with its result; `onPartial` receives the tokens a `generate`
   * streams before its result; `transfer`: buffers in the request to move to the worker instead of
   * copying (model files).
   */
  request<K extends EngineOp>(
    req: OpRequest<K>,
    signal?: CancelSignal,
    onPartial?: (p: GeneratePartial) => void,
    transfer?: ArrayBuffer[],
  ): Promise<OpResult<K>>;
}

/** The transport to one worker: send requests, get responses. */
export class EngineConnection implements EngineChannel {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed: Error | undefined;

  constructor(private readonly send: (req: EngineRequest, transfer?: ArrayBuffer[]) => void) {}

  /** Feed every message from the worker here. */
  receive(res: EngineResponse): void {
    const p = this.pending.get(res.id);
    if (!p) return;
    if (res.ok && 'partial' in res) {
      p.onPartial?.(res.partial);
      return;
    }
    this.pending.delete(res.id);
    if (res.ok) p.resolve(res.result as never);
    else if (res.reason === 'cancelled') p.reject(new CancelledError());
    else if (res.reason === 'format') p.reject(new ModelFormatError(res.error));
    else p.reject(new LmError(res.error));
  }

  /** The worker failed: fail everything in flight (it may still answer later requests). */
  fail(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  /** The worker is gone: fail everything in flight and every later request, which nobody would answer. */
  close(error: Error): void {
    this.closed ??= error;
    this.fail(error);
  }

  /** Asks the worker to cancel every request in flight; each fails with "cancelled" at its next step. */
  cancelAll(): void {
    if (this.closed) return;
    for (const target of this.pending.keys()) this.send({ id: this.nextId++, op: 'cancel', target });
  }

  request<K extends EngineOp>(
    req: OpRequest<K>,
    signal?: CancelSignal,
    onPartial?: (p: GeneratePartial) => void,
    transfer?: ArrayBuffer[],
  ): Promise<OpResult<K>> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise<OpResult<K>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (result: never) => void, reject, onPartial });
      this.send({ ...req, id } as EngineRequest, transfer);
      if (signal) {
        // Poll the host's signal while the request runs, and forward a cancellation.
        const timer = setInterval(() => {
          if (!this.pending.has(id)) clearInterval(timer);
          else if (signal.cancelled) {
            clearInterval(timer);
            this.send({ id: this.nextId++, op: 'cancel', target: id });
          }
        }, 20);
      }
    });
  }
}

/** Whether a supervised worker runs, stopped (it restarts on the next request), or gave up. */
export type EngineHealth = { state: 'running' } | { state: 'stopped'; reason: string } | { state: 'failed'; reason: string } | { state: 'disposed' };

export interface EngineHealthSource {
  readonly health: EngineHealth;
  /** `listener` runs at every change; call the returned function to stop listening. */
  onHealthChange(listener: (health: EngineHealth) => void): () => void;
}

/**
 * The longest text prompt the host tokenizes for a generation in the worker: tens of milliseconds
 * on this thread (a 49k byte-level vocabulary tokenizes about 430 KB a second). A longer one is
 * tokenized in the worker, which then makes its tokenizer.
 */
export const HOST_TOKENIZED_PROMPT_CHARS = 16_000;

/** Fewest tokens in a background scoring piece (short-context models would otherwise send many tiny requests). */
export const BACKGROUND_PIECE_MIN_TOKENS = 64;

/**
 * A language model that runs in an engine worker (a Node worker thread or a webview's Web
 * Worker): distributions come from the worker, the tokenizer stays here.
 */
export class WorkerLanguageModel implements LanguageModel {
  readonly info: ModelInfo;
  /** Background pieces run one after another (from every caller): the worker never holds two. */
  private backgroundLane: Promise<unknown> = Promise.resolve();
  private disposed = false;

  /** The row a decode step moves to the worker and gets back (nextLogProbsInto); absent while a step has it. */
  private spareRow: Float64Array | undefined;

  /**
   * `release` frees the model and its worker (cooperatively: never while a run is in progress);
   * `supervisor` is there when a stopped worker restarts by itself. `transfersRows`: the channel
   * moves buffers named in a request's transfer list (a Node worker thread; not a webview's
   * relay, whose messages are serialised), so that decode steps pass one row to and fro.
   * `generatesInEngine`: generate() runs text prompts' generations in the worker (its `generate`
   * operation), a step there costing no message to and fro.
   */
  constructor(
    private readonly channel: EngineChannel,
    private readonly description: ModelDescription,
    readonly tokenizer: Tokenizer,
    private readonly release: () => void,
    readonly supervisor?: EngineHealthSource,
    { transfersRows = false, generatesInEngine = false }: { transfersRows?: boolean; generatesInEngine?: boolean } = {},
  ) {
    const {
      vocabSize: _v,
      bosId: _b,
      eosId: _e,
      eosIds: _es,
      unkId: _u,
      unsampleableIds: _s,
      vocabulary: _w,
      spanScores,
      warmContext,
      forgetContext,
      holdForGeneration,
      tokenizerOnDemand: _t,
      ...info
    } = description;
    this.info = info;
    if (spanScores) {
      this.spanScores = async (ids, from, distAt, signal) => {
        if (signal?.cancelled || this.disposed) throw new CancelledError();
        return this.channel.request({ op: 'spanScores', ids: [...ids], from, distAt }, signal);
      };
    }
    if (warmContext) {
      this.warmContext = async (ids, signal) => {
        if (signal?.cancelled || this.disposed) return { cached: 0, yielded: 0 };
        return this.channel.request({ op: 'warmContext', ids: [...ids] }, signal);
      };
    }
    if (transfersRows) this.nextLogProbsInto = (context, out, signal) => this.nextInto(context, out, signal, false);
    if (generatesInEngine) {
      const spellsHere = description.tokenizerOnDemand === true;
      this.generateInEngine = (prompt, options, hooks) => {
        // A worker that makes its tokenizer on demand is given the prompt's tokens and left the
        // spelling, so that it never holds the tokenizer for a generation: a generation that reads
        // its text at every step runs its steps from here (each a request with a moved row), and
        // only a prompt too long to tokenize on this thread without a pause goes there whole.
        if (!spellsHere || prompt.length > HOST_TOKENIZED_PROMPT_CHARS) return this.generateThere(prompt, options, hooks);
        if (readsTextWhileGenerating(options)) return undefined;
        return this.generateUnspelledThere(prompt, options, hooks);
      };
    }
    if (holdForGeneration) {
      this.holdForGeneration = async () => {
        if (!this.disposed) await this.channel.request({ op: 'holdForGeneration', held: true });
        let held = !this.disposed;
        // The generation's steps and forgets say so: the worker's model tells them from the requests beside them.
        return {
          nextLogProbs: (context, signal) => this.next(context, signal, true),
          nextLogProbsInto: transfersRows ? (context, out, signal) => this.nextInto(context, out, signal, true) : undefined,
          forgetContext: async () => void (this.disposed || (await this.channel.request({ op: 'forgetContext', generation: true }))),
          release: () => {
            if (!held || this.disposed) return;
            held = false;
            // Nothing waits for it: the worker releases the hold before any request sent after it.
            this.channel.request({ op: 'holdForGeneration', held: false }).catch(() => undefined);
          },
        };
      };
    }
    if (forgetContext) {
      this.forgetContext = async () => {
        if (this.disposed) return;
        await this.channel.request({ op: 'forgetContext' });
      };
    }
  }

  /** The whole generation in the worker, the worker's tokenizer spelling it. */
  private async generateThere(prompt: string, options: GenerationOptions, hooks: GenerationHooks): Promise<Completion[]> {
    if (hooks.signal?.cancelled || this.disposed) throw new CancelledError();
    const onToken = hooks.onToken;
    const { completions } = await this.channel.request(
      { op: 'generate', prompt, options },
      hooks.signal,
      onToken && ((p) => p.tokens.forEach((t) => onToken(p.completion, t))),
    );
    return completions;
  }

  /** The prompt tokenized here, the token ids generated in the worker, their texts spelled here. */
  private async generateUnspelledThere(prompt: string, options: GenerationOptions, hooks: GenerationHooks): Promise<Completion[]> {
    if (hooks.signal?.cancelled || this.disposed) throw new CancelledError();
    const promptTokens = this.tokenizer.encode(prompt, options.promptAtStart ?? true);
    const onToken = hooks.onToken;
    const spellers = new Map<number, CompletionSpeller>();
    const { completions } = await this.channel.request(
      { op: 'generate', prompt, promptTokens, options },
      hooks.signal,
      onToken &&
        ((p) => {
          let speller = spellers.get(p.completion);
          if (!speller) spellers.set(p.completion, (speller = new CompletionSpeller(this.tokenizer, prompt.length > 0)));
          for (const t of p.tokens) onToken(p.completion, speller.next(t));
        }),
    );
    return completions.map((c) => spellCompletion(this.tokenizer, prompt, c));
  }

  /** Present when the worker's model has it. */
  readonly forgetContext?: () => Promise<void>;

  /** Present with `generatesInEngine`. */
  readonly generateInEngine?: (prompt: string, options: GenerationOptions, hooks: GenerationHooks) => Promise<Completion[]> | undefined;

  /** Present when the channel moves buffers (`transfersRows`). */
  readonly nextLogProbsInto?: (context: readonly number[], out: Float64Array, signal?: CancelSignal) => Promise<void>;

  /** Present when the worker's model has it. */
  readonly warmContext?: (ids: readonly number[], signal?: CancelSignal) => Promise<WarmResult>;

  /** Present when the worker's model has it: a generation that steps from here holds the worker's cache. */
  readonly holdForGeneration?: () => Promise<GenerationHold>;

  /** Present when the worker's model has it. */
  readonly spanScores?: (ids: readonly number[], from: number, distAt: number, signal?: CancelSignal) => Promise<SpanScores>;

  get vocabSize(): number {
    return this.description.vocabSize;
  }
  get bosId(): number | undefined {
    return this.description.bosId;
  }
  get eosId(): number | undefined {
    return this.description.eosId;
  }
  get eosIds(): readonly number[] | undefined {
    return this.description.eosIds;
  }
  get unkId(): number | undefined {
    return this.description.unkId;
  }
  get unsampleableIds(): readonly number[] {
    return this.description.unsampleableIds;
  }

  nextLogProbs(context: readonly number[], signal?: CancelSignal): Promise<Float64Array> {
    return this.next(context, signal, false);
  }

  /** `generation`: a step of the generation that holds the worker's model (holdForGeneration). */
  private async next(context: readonly number[], signal: CancelSignal | undefined, generation: boolean): Promise<Float64Array> {
    // A generation whose model was disposed between two steps ends as cancelled, as its step in flight does.
    if (signal?.cancelled || this.disposed) throw new CancelledError();
    return (await this.channel.request({ op: 'nextLogProbs', context: [...context], ...(generation ? { generation } : {}) }, signal)).logProbs;
  }

  /** nextLogProbsInto, the row moved to the worker and back. */
  private async nextInto(context: readonly number[], out: Float64Array, signal: CancelSignal | undefined, generation: boolean): Promise<void> {
    if (out.length !== this.vocabSize) throw new Error(`nextLogProbsInto: the row has ${out.length} entries, the vocabulary ${this.vocabSize}`);
    if (signal?.cancelled || this.disposed) throw new CancelledError();
    // A row lost with a failed step (it stayed in the worker) is replaced by a new one.
    const row = this.spareRow ?? new Float64Array(this.vocabSize);
    this.spareRow = undefined;
    const request = { op: 'nextLogProbs' as const, context: [...context], row, ...(generation ? { generation } : {}) };
    const { logProbs } = await this.channel.request(request, signal, undefined, [row.buffer as ArrayBuffer]);
    out.set(logProbs);
    if (logProbs.length === this.vocabSize) this.spareRow = logProbs;
  }

  async sequenceLogProbs(ids: readonly number[], from: number, signal?: CancelSignal): Promise<Float64Array> {
    return (await this.inPieces(ids, from, false, signal)).logProbs;
  }

  sequenceScores(ids: readonly number[], from: number, signal?: CancelSignal): Promise<SequenceScores> {
    return this.inPieces(ids, from, true, signal);
  }

  /** Tokens per background piece: half the model's window, as its own scoring slides by half a window. */
  get backgroundPieceTokens(): number {
    return Math.max(BACKGROUND_PIECE_MIN_TOKENS, Math.floor(this.info.contextLength / 2));
  }

  /**
   * Scores [from, n) in background pieces; each piece gets the model's whole context before it, so
   * the numbers are those of one long request.
   */
  private async inPieces(ids: readonly number[], from: number, withRanks: boolean, signal?: CancelSignal): Promise<SequenceScores> {
    const n = ids.length;
    const logProbs = new Float64Array(Math.max(0, n - from));
    const ranks = new Int32Array(withRanks ? logProbs.length : 0);
    const size = this.backgroundPieceTokens;
    const context = Math.max(1, this.info.contextLength);
    for (let start = Math.max(from, 1); start < n; start += size) {
      const end = Math.min(n, start + size);
      const base = Math.max(0, start - context);
      const req = { ids: ids.slice(base, end), from: start - base };
      if (withRanks) {
        const res = await this.inBackground(() => this.channel.request({ op: 'sequenceScores', ...req }, signal), signal);
        logProbs.set(res.logProbs, start - from);
        ranks.set(res.ranks, start - from);
      } else {
        const res = await this.inBackground(() => this.channel.request({ op: 'sequenceLogProbs', ...req }, signal), signal);
        logProbs.set(res.logProbs, start - from);
      }
    }
    return { logProbs, ranks };
  }

  private inBackground<T>(send: () => Promise<T>, signal?: CancelSignal): Promise<T> {
    const run = this.backgroundLane.then(() => {
      // A job whose model was disposed between two pieces ends as cancelled, as its piece in flight does.
      if (signal?.cancelled || this.disposed) throw new CancelledError();
      return send();
    });
    this.backgroundLane = run.catch(() => undefined);
    return run;
  }

  dispose(): void {
    this.disposed = true;
    this.release();
  }
}
