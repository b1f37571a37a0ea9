/**
 * Worker thread that writes the ARPA text of the lower sections of a model being built: it gets
 * each order as soon as the training thread has finished it, writes each section once its orders
 * are there, and sends the bytes back chunk by chunk, while the training thread lays out the
 * higher orders and then writes the last section.
 */
import { parentPort } from 'worker_threads';
import { writeArpaSections, type ArpaWords } from '../core/ngram/arpaWriter';
import type { NgramOrder } from '../core/ngram/ngramModel';

export type ToArpaSectionWorker =
  /** First: the words' spelling, every order's count, and the sections this worker writes. */
  | { type: 'start'; words: ArpaWords; counts: number[]; sections: [number, number] }
  /** Order k's arrays, final: words and probabilities (and backoffs below the highest order), child ranges when a later section needs them. */
  | { type: 'order'; k: number; order: NgramOrder };

export type FromArpaSectionWorker = { type: 'chunk'; bytes: Uint8Array } | { type: 'done' } | { type: 'error'; message: string };

const post = (m: FromArpaSectionWorker, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(m, transfer);

let start: Extract<ToArpaSectionWorker, { type: 'start' }> | undefined;
const orders: NgramOrder[] = [];
let next = 0;

// The worker stays until the thread that started it terminates it: a worker that exits by itself
// may have its 'exit' seen before its last messages are read.
parentPort!.on('message', (m: ToArpaSectionWorker) => {
  try {
    if (m.type === 'start') {
      start = m;
      next = m.sections[0];
    } else orders[m.k - 1] = m.order;
    if (!start) return;
    const [, to] = start.sections;
    // Section k reads orders 1..k: write every section whose orders have all come.
    while (next <= to && orders.length >= next && orders.slice(0, next).every((o) => o !== undefined)) {
      for (const bytes of writeArpaSections(start.words, orders, start.counts, [next, next])) post({ type: 'chunk', bytes }, [bytes.buffer as ArrayBuffer]);
      next++;
      if (next > to) post({ type: 'done' });
    }
  } catch (e) {
    post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
});
