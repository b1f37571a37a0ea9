/**
 * Writing a model's ARPA text on two threads while it is being built: a worker, started before
 * the model is, writes the header and the lower orders' sections, each as soon as the training
 * thread has finished laying out its order (while that thread goes on with the higher ones); the
 * training thread then writes the highest order's section and the bytes are put in file order.
 */
import * as path from 'path';
import { setImmediate as turn } from 'timers/promises';
import { Worker } from 'worker_threads';
import { LmError } from '../core/errors';
import { arpaWords, writeArpa, writeArpaSections, type ArpaWords } from '../core/ngram/arpaWriter';
import type { OrderReady } from '../core/ngram/kneserNey';
import type { NgramModel, NgramOrder } from '../core/ngram/ngramModel';
import type { Vocabulary } from '../core/ngram/vocabulary';
import type { FromArpaSectionWorker, ToArpaSectionWorker } from './arpaSectionWorker';

/** Below this many n-grams a second thread costs more to start than it saves. */
const PARALLEL_MIN_NGRAMS = 200_000;

export class PipelinedArpa {
  private worker: Worker | undefined;
  private readonly chunks: Uint8Array[] = [];
  private finished: Error | null | undefined;
  private wake: (() => void) | undefined;
  /** The words' spelling, made once for the worker and this thread's section. */
  private words: ArpaWords | undefined;

  /** Starts the worker now, so that its start-up overlaps what comes before the model's first order. */
  constructor(
    private readonly order: number,
    private readonly vocab: Vocabulary,
    script = path.join(__dirname, 'arpaSectionWorker.js'),
  ) {
    if (order < 2) return;
    const worker = new Worker(script);
    this.worker = worker;
    worker.on('message', (m: FromArpaSectionWorker) => {
      if (m.type === 'chunk') this.chunks.push(m.bytes);
      else this.settle(m.type === 'done' ? null : new LmError(m.message));
      this.wake?.();
    });
    worker.on('error', (e) => this.settle(new LmError(`the ARPA writing worker failed: ${e.message}`)));
    worker.on('exit', (code) => this.settle(new LmError(`the ARPA writing worker stopped (exit code ${code})`)));
  }

  /** For KneserNeyTrainer.build: hands the worker each order it needs as soon as it is final. */
  readonly orderReady: OrderReady = (k, order, counts) => {
    const worker = this.worker;
    if (!worker || this.finished !== undefined) return;
    const N = this.order;
    if (k === 1) {
      if (counts.reduce((a, b) => a + b, 0) < PARALLEL_MIN_NGRAMS) {
        this.close();
        return;
      }
      this.words = arpaWords(this.vocab);
      worker.postMessage({ type: 'start', words: this.words, counts: [...counts], sections: [1, N - 1] } satisfies ToArpaSectionWorker);
    }
    if (k === N) return;
    // Section k+1 walks order k's child ranges only if it is the worker's.
    const sent: NgramOrder = { count: order.count, words: order.words, logProb: order.logProb, backoff: order.backoff };
    if (k + 1 < N) sent.childStart = order.childStart;
    worker.postMessage({ type: 'order', k, order: sent } satisfies ToArpaSectionWorker);
  };

  /** The whole ARPA text of `model` (the one built with orderReady), in file order. */
  async *text(model: NgramModel): AsyncGenerator<Uint8Array> {
    if (!this.worker) {
      yield* writeArpa(model);
      return;
    }
    try {
      // This thread's section, kept until the worker's sections before it are out; what the
      // worker has sent is passed on between this thread's chunks.
      const own: Uint8Array[] = [];
      let next = 0;
      const N = model.order;
      const words = this.words ?? arpaWords(model.vocab);
      for (const chunk of writeArpaSections(words, model.orders, model.counts, [N, N])) {
        own.push(chunk);
        await turn();
        while (next < this.chunks.length) yield this.take(next++);
      }
      for (;;) {
        while (next < this.chunks.length) yield this.take(next++);
        if (this.finished === null) break;
        if (this.finished) throw this.finished;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
      for (let i = 0; i < own.length; i++) {
        const chunk = own[i];
        own[i] = new Uint8Array(0); // written: let it go
        yield chunk;
      }
    } finally {
      this.close();
    }
  }

  /** Stops the worker (when the model is written, or training failed). */
  close(): void {
    void this.worker?.terminate();
    this.worker = undefined;
  }

  private take(i: number): Uint8Array {
    const chunk = this.chunks[i];
    this.chunks[i] = new Uint8Array(0); // written: let it go
    return chunk;
  }

  private settle(error: Error | null): void {
    this.finished ??= error;
    this.wake?.();
  }
}
