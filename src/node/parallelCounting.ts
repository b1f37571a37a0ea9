/**
 * Counting lmplz-format text files on two threads: a worker reads and tokenizes (bytes to word ids)
 * while this thread counts the n-grams of the batches it sends. Same result as counting on one
 * thread, since the vocabulary here assigns the same ids in the same order.
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import { LmError } from '../core/errors';
import type { KneserNeyTrainer } from '../core/ngram/kneserNey';
import { addIdSentencesToTrainer } from '../core/ngram/textTraining';
import type { FromTokenizeWorker, TokenizeWorkerData } from './tokenizeWorker';

/** Bytes the worker tokenizes per batch: small enough that counting starts early, large enough to cost little per message. */
const BATCH_BYTES = 256 << 10;

/** Adds every line of `files` to `trainer` as a sentence; resolves with the number of sentences. */
export function countFilesInWorker(trainer: KneserNeyTrainer, files: string[], script = path.join(__dirname, 'tokenizeWorker.js')): Promise<number> {
  const data: TokenizeWorkerData = { files, vocabulary: [...trainer.vocab.allWords()], chunkBytes: BATCH_BYTES };
  const worker = new Worker(script, { workerData: data });
  let sentences = 0;
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    const settle = (error: Error | undefined) => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      if (error) reject(error);
      else resolve(sentences);
    };
    worker.on('message', (m: FromTokenizeWorker) => {
      if (settled) return;
      try {
        if (m.type === 'batch') {
          for (const w of m.newWords) trainer.vocab.add(w);
          sentences += addIdSentencesToTrainer(trainer, m);
        } else if (m.type === 'done') settle(undefined);
        else settle(new LmError(m.message));
      } catch (e) {
        settle(e instanceof Error ? e : new Error(String(e)));
      }
    });
    worker.on('error', (e) => settle(new LmError(`the tokenizing worker failed: ${e.message}`)));
    worker.on('exit', (code) => settle(new LmError(`the tokenizing worker stopped (exit code ${code})`)));
  });
}
