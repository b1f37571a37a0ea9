/**
 * Counting lmplz-format text files on two threads: a worker reads and tokenizes (bytes to word ids)
 * while this thread counts the n-grams of the batches it sends; the worker counts a share of them
 * too (see COUNTING_THREAD_SHARE) and hands its counts over at the end. Same result as counting on
 * one thread, since the vocabulary here assigns the same ids in the same order and the shares
 * are disjoint.
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import { LmError } from '../core/errors';
import type { KneserNeyTrainer } from '../core/ngram/kneserNey';
import type { CountingShare } from '../core/ngram/ngramCounter';
import { addIdSentencesToTrainer } from '../core/ngram/textTraining';
import type { FromTokenizeWorker, TokenizeWorkerData } from './tokenizeWorker';

/** Bytes the worker tokenizes per batch: small enough that counting starts early, large enough to cost little per message. */
const BATCH_BYTES = 256 << 10;

/**
 * The share of the n-grams a trainer for countFilesInWorker counts (`TrainOptions.share`); the
 * worker, which also tokenizes, counts the rest. Tokenizing took about half as long as counting
 * all the n-grams of order 5 (CPU profile, 2026-11-30), so a third each way evens out the threads.
 */
export const COUNTING_THREAD_SHARE: CountingShare = { parts: 3, from: 0, to: 2 };
const WORKER_SHARE: CountingShare = { parts: 3, from: 2, to: 3 };

/**
 * Adds every line of `files` to `trainer` as a sentence; resolves with the number of sentences.
 * `counting`: the trainer counts only COUNTING_THREAD_SHARE of this order's n-grams (the worker
 * counts the rest; `expectedTokens` sizes its table); without it the trainer counts them all.
 */
export function countFilesInWorker(
  trainer: KneserNeyTrainer,
  files: string[],
  counting?: { order: number; expectedTokens: number },
  script = path.join(__dirname, 'tokenizeWorker.js'),
): Promise<number> {
  const data: TokenizeWorkerData = {
    files,
    vocabulary: [...trainer.vocab.allWords()],
    chunkBytes: BATCH_BYTES,
    ...(counting ? { counting: { ...counting, share: WORKER_SHARE } } : {}),
  };
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
        } else if (m.type === 'done') {
          if (m.counted) trainer.addCounted(m.counted);
          settle(undefined);
        } else settle(new LmError(m.message));
      } catch (e) {
        settle(e instanceof Error ? e : new Error(String(e)));
      }
    });
    worker.on('error', (e) => settle(new LmError(`the tokenizing worker failed: ${e.message}`)));
    worker.on('exit', (code) => settle(new LmError(`the tokenizing worker stopped (exit code ${code})`)));
  });
}
