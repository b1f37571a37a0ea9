/**
 * Counting lmplz-format text files on two threads: a worker reads and tokenizes (bytes to word ids)
 * while this thread counts the n-grams of the batches it sends. Same result as counting on one
 * thread, since the vocabulary here assigns the same ids in the same order. Then the worker, idle,
 * helps sort, adjust the counts and lay out orders while the model is built (sharedRadixSort.ts,
 * adjustedCounts.ts, trieLayout.ts).
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import { collectGarbage } from './collectGarbage';
import { LmError } from '../core/errors';
import type { KneserNeyTrainer } from '../core/ngram/kneserNey';
import { addIdSentencesToTrainer } from '../core/ngram/textTraining';
import type { TrainingHelper } from '../core/ngram/trieLayout';
import type { FromTokenizeWorker, TokenizeWorkerData, ToTokenizeWorker } from './tokenizeWorker';

/** Bytes the worker tokenizes per batch: small enough that counting starts early, large enough to cost little per message. */
const BATCH_BYTES = 256 << 10;

/** What counting in the worker leaves: the sentences, and the worker, idle now, helping the training's sorts until closed. */
export interface CountedInWorker {
  sentences: number;
  helper: TrainingHelper;
  close(): void;
}

/** Adds every line of `files` to `trainer` as a sentence (a trainer made with `sharedMemory`, for the helper to be of use). */
export function countFilesInWorker(trainer: KneserNeyTrainer, files: string[], script = path.join(__dirname, 'tokenizeWorker.js')): Promise<CountedInWorker> {
  const data: TokenizeWorkerData = { files, vocabulary: [...trainer.vocab.allWords()], chunkBytes: BATCH_BYTES };
  const worker = new Worker(script, { workerData: data });
  let sentences = 0;
  let failed: Error | undefined;
  const close = () => void worker.terminate();
  // A worker that stopped cannot meet this thread at a job's barriers: it would wait forever.
  const send = (message: ToTokenizeWorker) => {
    if (failed) throw failed;
    worker.postMessage(message);
  };
  const helper: TrainingHelper = {
    start: (job) => send({ type: 'sort', job }),
    adjust: (job) => send({ type: 'adjust', job }),
    layOut: (job) => send({ type: 'layOut', job }),
    idle: collectGarbage,
  };
  return new Promise<CountedInWorker>((resolve, reject) => {
    let settled = false;
    const settle = (error: Error | undefined) => {
      if (settled) {
        failed ??= error;
        return;
      }
      settled = true;
      if (error) {
        failed = error;
        close();
        reject(error);
      } else resolve({ sentences, helper, close });
    };
    worker.on('message', (m: FromTokenizeWorker) => {
      if (settled) return;
      try {
        if (m.type === 'batch') {
          for (const w of m.newWords) trainer.vocab.add(w);
          sentences += addIdSentencesToTrainer(trainer, m);
          worker.postMessage({ type: 'counted' } satisfies ToTokenizeWorker);
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
