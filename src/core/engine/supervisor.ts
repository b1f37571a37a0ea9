/**
 * Supervises a host's engine worker. A worker that stops (it crashed, threw, exited, ran out of
 * memory, or someone terminated it) fails the requests in flight with a clear error, and the
 * next request starts a new worker and loads the model again. Restarts are bounded, so that a
 * model that kills its worker does not restart forever. The host never stops a worker while it
 * may be inside a run: it cancels, asks the worker to release its model, and waits.
 */
import { EngineStoppedError, LmError, type CancelSignal } from '../errors';
import { EngineConnection, type EngineChannel, type EngineHealth, type EngineHealthSource } from './engineClient';
import type { EngineOp, EngineRequest, EngineResponse, GeneratePartial, LoadSpec, ModelDescription, OpRequest, OpResult } from './protocol';

/** Restarts allowed within RESTART_WINDOW_MS; one more stop within that window gives up. */
export const MAX_WORKER_RESTARTS = 3;
export const RESTART_WINDOW_MS = 10 * 60_000;
/** How long a worker that released its model may take to exit by itself before it is stopped. */
export const WORKER_EXIT_GRACE_MS = 5_000;

/** What a host's worker reports. */
export interface EngineWorkerEvents {
  message(res: EngineResponse): void;
  /** The worker is gone; `reason` says how ("it exited with code 1", an error's message). Called once. */
  exited(reason: string): void;
}

/** One started worker. */
export interface EngineWorkerHandle {
  post(req: EngineRequest, transfer?: ArrayBuffer[]): void;
  /**
   * Stops a worker that answered `dispose` (its model released, nothing running) but did not
   * exit by itself. Never called otherwise: stopping a worker inside a run can abort the process.
   */
  stopIdle(): void;
}

export type SpawnEngineWorker = (events: EngineWorkerEvents) => EngineWorkerHandle;

interface Incarnation {
  handle: EngineWorkerHandle;
  connection: EngineConnection;
  exited: Promise<void>;
  loading: boolean;
  stopping: boolean;
}

export class SupervisedEngine implements EngineChannel, EngineHealthSource {
  private worker: Incarnation | undefined;
  private description: ModelDescription | undefined;
  private restarting: Promise<Incarnation> | undefined;
  private disposing: Promise<void> | undefined;
  private starting: Promise<ModelDescription> | undefined;
  /** Times of the unexpected stops within the restart window. */
  private stops: number[] = [];
  private state: EngineHealth = { state: 'running' };
  private readonly listeners = new Set<(health: EngineHealth) => void>();

  /** `loadSpec` is the `load` request's spec, sent to every new worker; `what` names the worker in messages. */
  constructor(
    private readonly spawn: SpawnEngineWorker,
    private readonly loadSpec: LoadSpec,
    private readonly now: () => number = () => Date.now(),
    private readonly what = "the model's worker",
  ) {}

  get health(): EngineHealth {
    return this.state;
  }

  onHealthChange(listener: (health: EngineHealth) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts the first worker and loads the model; its failure is the load's error (no restart). */
  start(): Promise<ModelDescription> {
    this.starting = (async () => {
      const { worker, description } = await this.launch();
      // Disposed while it loaded (the host shutting down): the worker goes too, once the load is done.
      if (this.state.state === 'disposed') {
        await this.stop(worker);
        throw new LmError('the model was closed');
      }
      this.worker = worker;
      this.description = description;
      return description;
    })();
    return this.starting;
  }

  async request<K extends EngineOp>(
    req: OpRequest<K>,
    signal?: CancelSignal,
    onPartial?: (p: GeneratePartial) => void,
    transfer?: ArrayBuffer[],
  ): Promise<OpResult<K>> {
    if (this.state.state === 'disposed') throw new LmError('the model was closed');
    if (this.state.state === 'failed') throw new LmError(this.state.reason);
    const worker = this.worker ?? (await this.restart());
    return worker.connection.request(req, signal, onPartial, transfer);
  }

  /** Cancels what runs, lets the worker release its model and exit; resolves when it is gone (every call). */
  dispose(): Promise<void> {
    return (this.disposing ??= this.close());
  }

  private async close(): Promise<void> {
    this.setHealth({ state: 'disposed' });
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await this.stop(worker);
    // A start or restart under way stops its new worker when it sees the model disposed.
    await this.starting?.catch(() => undefined);
    await this.restarting?.catch(() => undefined);
  }

  private async launch(): Promise<{ worker: Incarnation; description: ModelDescription }> {
    let exitedNow!: () => void;
    const exited = new Promise<void>((resolve) => (exitedNow = resolve));
    // Assigned after the connection that posts through it exists; `let` keeps early posts safe (undefined, not TDZ).
    // eslint-disable-next-line prefer-const
    let handle: EngineWorkerHandle | undefined;
    const connection = new EngineConnection((req, transfer) => handle?.post(req, transfer));
    const worker: Incarnation = { handle: undefined as unknown as EngineWorkerHandle, connection, exited, loading: true, stopping: false };
    handle = this.spawn({
      message: (res) => connection.receive(res),
      exited: (reason) => {
        exitedNow();
        this.onExit(worker, reason);
      },
    });
    worker.handle = handle;
    try {
      const { model } = await connection.request({ op: 'load', spec: this.loadSpec });
      worker.loading = false;
      return { worker, description: model };
    } catch (e) {
      await this.stop(worker);
      throw e;
    }
  }

  private onExit(worker: Incarnation, reason: string): void {
    if (worker.stopping) {
      worker.connection.close(new LmError('the model was closed'));
      return;
    }
    if (worker.loading) {
      // start() or restart() reports it, with the load's request.
      worker.connection.close(new LmError(`${this.what} stopped while loading the model: ${reason}`));
      return;
    }
    if (this.worker === worker) this.worker = undefined;
    const t = this.now();
    this.stops = [...this.stops.filter((s) => t - s < RESTART_WINDOW_MS), t];
    const stopped = `${this.what} stopped: ${reason}`;
    if (this.stops.length > MAX_WORKER_RESTARTS) {
      const minutes = Math.round(RESTART_WINDOW_MS / 60_000);
      this.fail(`${stopped}; it stopped ${this.stops.length} times within ${minutes} minutes, so it is not restarted`);
      worker.connection.close(new EngineStoppedError(this.failure()));
    } else {
      const message = `${stopped}; it restarts on the next request`;
      this.setHealth({ state: 'stopped', reason: message });
      worker.connection.close(new EngineStoppedError(message));
    }
  }

  /** One restart at a time: concurrent requests wait for the same one. */
  private restart(): Promise<Incarnation> {
    this.restarting ??= (async () => {
      try {
        const { worker, description } = await this.launch();
        if (this.state.state === 'disposed') {
          await this.stop(worker);
          throw new LmError('the model was closed');
        }
        if (JSON.stringify(description) !== JSON.stringify(this.description)) {
          await this.stop(worker);
          throw new LmError('its files changed since it was loaded');
        }
        this.worker = worker;
        this.setHealth({ state: 'running' });
        return worker;
      } catch (e) {
        if (this.state.state !== 'disposed') {
          this.fail(`${this.what} could not be restarted: ${e instanceof Error ? e.message : String(e)}; it is not restarted again`);
          throw new LmError(this.failure());
        }
        throw e;
      } finally {
        this.restarting = undefined;
      }
    })();
    return this.restarting;
  }

  /**
   * Cooperative stop: cancel what runs (the worker checks between runs), ask it to release its
   * model (it answers after the current run), and let it exit by itself.
   */
  private async stop(worker: Incarnation): Promise<void> {
    if (worker.stopping) return worker.exited;
    worker.stopping = true;
    worker.connection.cancelAll();
    let released = false;
    try {
      await worker.connection.request({ op: 'dispose' });
      released = true;
    } catch {
      // It stopped meanwhile: nothing left to release.
    }
    if (!released) return worker.exited;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), WORKER_EXIT_GRACE_MS)));
    const outcome = await Promise.race([worker.exited, late]);
    clearTimeout(timer);
    // It answered `dispose`, so no model is left and no run can be in progress: safe to stop.
    if (outcome === 'late') worker.handle.stopIdle();
    await worker.exited;
  }

  private fail(reason: string): void {
    this.setHealth({ state: 'failed', reason });
  }

  private failure(): string {
    return this.state.state === 'failed' ? this.state.reason : `${this.what} stopped`;
  }

  private setHealth(health: EngineHealth): void {
    this.state = health;
    for (const l of [...this.listeners]) l(health);
  }
}
