/**
 * Worker thread that writes the ARPA text of some of a model's sections into memory and sends
 * the bytes back chunk by chunk, while the thread that started it writes the other sections.
 */
import { parentPort, workerData } from 'worker_threads';
import { writeArpa } from '../core/ngram/arpaWriter';
import { NgramModel, type NgramOrder } from '../core/ngram/ngramModel';
import { Vocabulary } from '../core/ngram/vocabulary';

export interface ArpaSectionWorkerData {
  words: string[];
  orders: NgramOrder[];
  sections: [number, number];
}

export type FromArpaSectionWorker = { type: 'chunk'; bytes: Uint8Array } | { type: 'done' } | { type: 'error'; message: string };

// The worker stays until the thread that started it terminates it: a worker that exits by itself
// may have its 'exit' seen before its last messages are read.
parentPort!.on('message', () => undefined);

const post = (m: FromArpaSectionWorker, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(m, transfer);

try {
  const data = workerData as ArpaSectionWorkerData;
  const model = new NgramModel(Vocabulary.fromWords(data.words), data.orders);
  for (const bytes of writeArpa(model, data.sections)) post({ type: 'chunk', bytes }, [bytes.buffer as ArrayBuffer]);
  post({ type: 'done' });
} catch (e) {
  post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
}
