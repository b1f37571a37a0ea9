/**
 * The host side of the engine protocol: a LanguageModel whose distributions come from a worker.
 * The tokenizer runs on the host (it is cheap and needed synchronously).
 */
import { CancelledError, LmError, ModelFormatError, type CancelSignal } from '../errors';
import type { LanguageModel, ModelInfo, SequenceScores, Tokenizer } from '../model';
import type { EngineRequest, EngineResponse, ModelDescription } from './protocol';

export type Ok = EngineResponse & { ok: true };
type Pending = { resolve: (r: Ok) => void; reject: (e: Error) => void; onPartial?: (r: Ok) => void };
export type DistributiveOmit<T, K extends keyof never> = T extends unknown ? Omit<T, K> : never;

/** Where a RemoteLanguageModel sends its requests: one connection, or a supervisor of workers. */
export interface EngineChannel {
  /** `onPartial` receives streamed partial responses (generation tokens) before the final one. */
  request(req: DistributiveOmit<EngineRequest, 'id'>, signal?: CancelSignal, onPartial?: (r: Ok) => void, transfer?: ArrayBuffer[]): Promise<Ok>;
}

/** The transport to one worker: send requests, get responses. */
export class EngineConnection implements EngineChannel {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed: Error | undefined;

  /** `transfer`: buffers in the request to move to the worker instead of copying (model files). */
  constructor(private readonly send: (req: EngineRequest, transfer?: ArrayBuffer[]) => void) {}

  /** Feed every message from the worker here. */
  receive(res: EngineResponse): void {
    const p = this.pending.get(res.id);
    if (!p) return;
    if (res.ok && res.partial) {
      p.onPartial?.(res);
      return;
    }
    this.pending.delete(res.id);
    if (res.ok) p.resolve(res);
    else if (res.kind === 'cancelled') p.reject(new CancelledError());
    else if (res.kind === 'format') p.reject(new ModelFormatError(res.error));
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

  request(req: DistributiveOmit<EngineRequest, 'id'>, signal?: CancelSignal, onPartial?: (r: Ok) => void, transfer?: ArrayBuffer[]): Promise<Ok> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onPartial });
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
export type EngineHealth =
  | { state: 'running' }
  | { state: 'stopped'; reason: string }
  | { state: 'failed'; reason: string }
  | { state: 'disposed' };

export interface EngineHealthSource {
  readonly health: EngineHealth;
  /** `listener` runs at every change; call the returned function to stop listening. */
  onHealthChange(listener: (health: EngineHealth) => void): () => void;
}

export class RemoteLanguageModel implements LanguageModel {
  readonly info: ModelInfo;

  /**
   * `release` frees the model and its worker (cooperatively: never while a run is in progress);
   * `supervisor` is there when a stopped worker restarts by itself.
   */
  constructor(
    private readonly channel: EngineChannel,
    private readonly description: ModelDescription,
    readonly tokenizer: Tokenizer,
    private readonly release: () => void,
    readonly supervisor?: EngineHealthSource,
  ) {
    const { vocabSize: _v, bosId: _b, eosId: _e, unkId: _u, unsampleableIds: _s, ...info } = description;
    this.info = info;
  }

  get vocabSize(): number {
    return this.description.vocabSize;
  }
  get bosId(): number | undefined {
    return this.description.bosId;
  }
  get eosId(): number | undefined {
    return this.description.eosId;
  }
  get unkId(): number | undefined {
    return this.description.unkId;
  }
  get unsampleableIds(): readonly number[] {
    return this.description.unsampleableIds;
  }

  async nextLogProbs(context: readonly number[], signal?: CancelSignal): Promise<Float64Array> {
    if (signal?.cancelled) throw new CancelledError();
    const res = await this.channel.request({ op: 'nextLogProbs', context: [...context] }, signal);
    return res.logProbs!;
  }

  async sequenceLogProbs(ids: readonly number[], from: number, signal?: CancelSignal): Promise<Float64Array> {
    const res = await this.channel.request({ op: 'sequenceLogProbs', ids: [...ids], from }, signal);
    return res.logProbs!;
  }

  async sequenceScores(ids: readonly number[], from: number, signal?: CancelSignal): Promise<SequenceScores> {
    const res = await this.channel.request({ op: 'sequenceScores', ids: [...ids], from }, signal);
    return { logProbs: res.logProbs!, ranks: res.ranks! };
  }

  dispose(): void {
    this.release();
  }
}
