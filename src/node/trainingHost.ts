/** Drives the n-gram training worker: texts in, a finished model file out; cancel terminates it. */
import * as path from 'path';
import { Worker } from 'worker_threads';
import { LmError } from '../core/errors';
import type { NgramFileMetadata } from '../core/ngram/binaryFormat';
import type { FromTrainingWorker, ToTrainingWorker } from './trainingWorker';

export type TrainingResult = Extract<FromTrainingWorker, { type: 'done' }>;

export class NgramTrainingJob {
  private readonly worker = new Worker(path.join(__dirname, 'trainingWorker.js'));
  private waiting: { resolve: (m: FromTrainingWorker) => void; reject: (e: Error) => void } | undefined;

  constructor(order: number) {
    this.worker.on('message', (m: FromTrainingWorker) => {
      const w = this.waiting;
      this.waiting = undefined;
      if (m.type === 'error') w?.reject(new LmError(m.message));
      else w?.resolve(m);
    });
    this.worker.on('error', (e) => this.waiting?.reject(new LmError(`the training worker failed: ${e.message}`)));
    this.worker.on('exit', () => this.waiting?.reject(new LmError('the training worker stopped')));
    this.send({ type: 'start', order });
  }

  private send(m: ToTrainingWorker): void {
    this.worker.postMessage(m);
  }

  private next(): Promise<FromTrainingWorker> {
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  /** Adds one file's text; resolves with the tokens counted so far. */
  async add(train: string, heldOut: string): Promise<number> {
    const reply = this.next();
    this.send({ type: 'text', train, heldOut });
    const m = await reply;
    return m.type === 'added' ? m.tokens : 0;
  }

  /** Estimates the model, scores the held-out text, and returns the model file's bytes. */
  async finish(metadata: NgramFileMetadata): Promise<TrainingResult> {
    const reply = this.next();
    this.send({ type: 'finish', metadata });
    const m = await reply;
    if (m.type !== 'done') throw new LmError('the training worker answered out of turn');
    void this.worker.terminate();
    return m;
  }

  cancel(): void {
    void this.worker.terminate();
  }
}
