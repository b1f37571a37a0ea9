/**
 * Drives the n-gram training worker: texts in, a finished model file out. Cancel terminates it:
 * it runs no onnxruntime, so stopping it anywhere is safe. A worker that stops fails the call
 * waiting for it and every later one with a clear error.
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import { CancelledError, LmError } from '../core/errors';
import type { NgramFileMetadata } from '../core/ngram/binaryFormat';
import type { SkipReason } from '../editor/skippedFiles';
import type { FromTrainingWorker, ToTrainingWorker } from './trainingWorker';

export type TrainingResult = Extract<FromTrainingWorker, { type: 'done' }>;

export class NgramTrainingJob {
  private readonly worker: Worker;
  private waiting: { resolve: (m: FromTrainingWorker) => void; reject: (e: Error) => void } | undefined;
  /** Told of the bytes read and the tokens counted while `addFile` reads a file. */
  private onFileProgress: ((bytes: number, tokens: number) => void) | undefined;
  /** Why the job can take no more calls: the worker stopped, the job was cancelled or finished. */
  private ended: Error | undefined;

  /** `script`: another worker script (the fault-injection tests). */
  constructor(order: number, script = path.join(__dirname, 'trainingWorker.js')) {
    this.worker = new Worker(script);
    let failure: Error | undefined;
    this.worker.on('message', (m: FromTrainingWorker) => {
      if (m.type === 'progress') {
        this.onFileProgress?.(m.bytes, m.tokens);
        return;
      }
      const w = this.waiting;
      this.waiting = undefined;
      if (m.type === 'error') w?.reject(new LmError(m.message));
      else w?.resolve(m);
    });
    // An uncaught error or running out of memory comes as 'error', always followed by 'exit'.
    this.worker.on('error', (e) => (failure ??= e));
    this.worker.on('exit', (code) => this.end(new LmError(`the training worker stopped: ${failure ? failure.message : `it exited with code ${code}`}`)));
    this.send({ type: 'start', order });
  }

  private end(reason: Error): void {
    this.ended ??= reason;
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(this.ended);
  }

  private send(m: ToTrainingWorker): void {
    this.worker.postMessage(m);
  }

  /** Sends `m` and waits for the worker's answer. */
  private ask(m: ToTrainingWorker): Promise<FromTrainingWorker> {
    if (this.ended) return Promise.reject(this.ended);
    const reply = new Promise<FromTrainingWorker>((resolve, reject) => (this.waiting = { resolve, reject }));
    this.send(m);
    return reply;
  }

  /** Adds one file's text; resolves with the tokens counted so far. */
  async add(train: string, heldOut: string): Promise<number> {
    const m = await this.ask({ type: 'text', train, heldOut });
    return m.type === 'added' ? m.tokens : 0;
  }

  /**
   * Adds a file that the worker reads itself, in chunks: the host never holds its text, and the
   * worker holds one chunk of it and its held-out tenth. Resolves with the tokens counted so far,
   * and why it was skipped: a NUL byte, or not a regular file.
   */
  async addFile(file: string, onProgress?: (bytes: number, tokens: number) => void): Promise<{ tokens: number; skipped: SkipReason | false }> {
    this.onFileProgress = onProgress;
    try {
      const m = await this.ask({ type: 'file', path: file });
      return m.type === 'added' ? { tokens: m.tokens, skipped: m.skipped ?? false } : { tokens: 0, skipped: false };
    } finally {
      this.onFileProgress = undefined;
    }
  }

  /** Estimates the model, scores the held-out text, and returns the model file's bytes. */
  async finish(metadata: NgramFileMetadata): Promise<TrainingResult> {
    const m = await this.ask({ type: 'finish', metadata });
    if (m.type !== 'done') throw new LmError('the training worker answered out of turn');
    this.end(new LmError('the training job is finished'));
    void this.worker.terminate();
    return m;
  }

  cancel(): void {
    this.end(new CancelledError());
    void this.worker.terminate();
  }
}
