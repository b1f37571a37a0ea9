/**
 * Writing a large model's ARPA text on two threads: a worker writes the highest order's section
 * (the largest) while this thread writes the header and the lower orders; its bytes follow.
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import { LmError } from '../core/errors';
import { writeArpa } from '../core/ngram/arpaWriter';
import type { NgramModel, NgramOrder } from '../core/ngram/ngramModel';
import type { ArpaSectionWorkerData, FromArpaSectionWorker } from './arpaSectionWorker';

/** Below this many n-grams a second thread costs more to start than it saves. */
const PARALLEL_MIN_NGRAMS = 200_000;

/** The model's ARPA text in chunks, the same bytes as writeArpa(model). */
export async function* parallelArpaChunks(model: NgramModel, script = path.join(__dirname, 'arpaSectionWorker.js')): AsyncGenerator<Uint8Array> {
  const N = model.order;
  if (N < 2 || model.counts.reduce((a, b) => a + b, 0) < PARALLEL_MIN_NGRAMS) {
    yield* writeArpa(model);
    return;
  }
  // The worker needs every order's words and child ranges (to spell each n-gram) but only the
  // highest order's probabilities.
  const orders: NgramOrder[] = model.orders.map((o, k) =>
    k === N - 1 ? o : { count: o.count, words: o.words, logProb: new Float32Array(0), childStart: o.childStart },
  );
  const data: ArpaSectionWorkerData = { words: [...model.vocab.allWords()], orders, sections: [N, N] };
  const worker = new Worker(script, { workerData: data });
  const chunks: Uint8Array[] = [];
  let finished: Error | null | undefined;
  let wake: (() => void) | undefined;
  const settle = (error: Error | null) => {
    finished ??= error;
    wake?.();
  };
  worker.on('message', (m: FromArpaSectionWorker) => {
    if (m.type === 'chunk') chunks.push(m.bytes);
    else settle(m.type === 'done' ? null : new LmError(m.message));
    wake?.();
  });
  worker.on('error', (e) => settle(new LmError(`the ARPA writing worker failed: ${e.message}`)));
  worker.on('exit', (code) => settle(new LmError(`the ARPA writing worker stopped (exit code ${code})`)));
  try {
    yield* writeArpa(model, [1, N - 1]);
    for (let next = 0; ;) {
      if (next < chunks.length) {
        const chunk = chunks[next];
        chunks[next++] = new Uint8Array(0); // written: let it go
        yield chunk;
        continue;
      }
      if (finished === null) return;
      if (finished) throw finished;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    void worker.terminate();
  }
}
