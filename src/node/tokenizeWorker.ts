/**
 * Worker thread that reads lmplz-format text files and turns them into word ids, so that the
 * thread counting n-grams (`lmp train-ngram`) does not also read and tokenize: the two run on two
 * cores. Each batch carries the words first seen in it, in id order, so the counting thread's
 * vocabulary gives every word the same id. Then, idle, it moves half of the records in each pass
 * of the training's radix sorts, in step with the counting thread (sharedRadixSort.ts), adjusts
 * the counts of half of the n-grams (adjustedCounts.ts), and makes each order's trie records while
 * the counting thread estimates the order below (trieLayout.ts).
 */
import * as fs from 'fs';
import { parentPort, workerData } from 'worker_threads';
import { runAdjustJob, type AdjustJob } from '../core/ngram/adjustedCounts';
import { sortShare, type SharedSortJob } from '../core/ngram/sharedRadixSort';
import { utf8LinesToIds } from '../core/ngram/textTraining';
import { runTrieRecordsJob, type TrieRecordsJob } from '../core/ngram/trieLayout';
import { Utf8Words } from '../core/ngram/utf8Words';
import { Vocabulary } from '../core/ngram/vocabulary';
import { collectGarbage } from './collectGarbage';
import { utf8LineChunks } from './textFile';

export interface TokenizeWorkerData {
  files: string[];
  /** The words the counting thread's vocabulary starts with, in id order. */
  vocabulary: string[];
  chunkBytes: number;
}

export type FromTokenizeWorker =
  { type: 'batch'; newWords: string[]; ids: Uint32Array; lengths: Uint32Array } | { type: 'done' } | { type: 'error'; message: string };

/** Once the text is tokenized, the worker helps the counting thread sort, adjust the counts and lay out orders (its records in shared memory). */
export type ToTokenizeWorker =
  | { type: 'sort'; job: SharedSortJob }
  | { type: 'adjust'; job: AdjustJob }
  | { type: 'layOut'; job: TrieRecordsJob }
  /** A batch counted: the next may be sent (see BATCHES_AHEAD). */
  | { type: 'counted' };

// The worker stays until the thread that started it terminates it: a worker that exits by itself
// may have its 'exit' seen before its last messages are read.
parentPort!.on('message', (m: ToTokenizeWorker) => {
  if (m.type === 'counted') {
    ahead--;
    wake?.();
    return;
  }
  // The arrays of the jobs done stay allocated while this heap holds their messages, and it
  // collects little by itself; a collection before every job costs the other thread, which waits
  // at the job's first barrier, several milliseconds each time (14 jobs at order 5).
  if (held >= COLLECT_AFTER_BYTES) {
    collectGarbage();
    held = 0;
  }
  held += jobBytes(m);
  if (m.type === 'sort') sortShare(m.job, 1);
  else if (m.type === 'adjust') runAdjustJob(m.job);
  else runTrieRecordsJob(m.job);
});

/** Bytes of shared arrays this thread may hold after their jobs before it collects them. */
const COLLECT_AFTER_BYTES = 128 << 20;
let held = 0;

/** The bytes a job's arrays hold that only its sort needs (the lists it fills are the model's, kept anyway). */
function jobBytes(m: Exclude<ToTokenizeWorker, { type: 'counted' }>): number {
  switch (m.type) {
    case 'sort':
      return m.job.records.byteLength + m.job.spare.byteLength;
    case 'adjust':
      return m.job.records.byteLength;
    case 'layOut':
      return m.job.suffixOrdered.byteLength + m.job.records.byteLength + m.job.spare.byteLength;
  }
}

/**
 * Batches sent and not yet counted at most. The counting thread takes a port's queued messages in
 * one go, so a queue of many batches (the worker tokenizes faster than the other counts) kept it
 * from its event loop until all were counted: Ctrl-C waited seconds (hostile12 L1: 5.6 s on 27 MB),
 * and the queued ids took memory.
 */
const BATCHES_AHEAD = 3;
let ahead = 0;
let wake: (() => void) | undefined;

/** The first batch is cut after the first line feed past this many bytes: the counting thread, idle until it comes, starts sooner. */
const FIRST_BATCH_BYTES = 16 << 10;

async function run(data: TokenizeWorkerData): Promise<void> {
  // A guess at the distinct words (Heaps' law, about 60 times the square root of the tokens at 5
  // bytes a token: 70,000 for the 6.8 MB of shared/corpus/en/train, which has 75,491): a wrong
  // guess costs a rehash or some memory, never a different id.
  let bytes = 0;
  for (const file of data.files) bytes += (await fs.promises.stat(file).catch(() => undefined))?.size ?? 0;
  const words = new Utf8Words(Vocabulary.fromWords(data.vocabulary), Math.min(1 << 20, Math.ceil(60 * Math.sqrt(bytes / 5))));
  let known = words.vocab.size;
  const post = (lines: Uint8Array) => {
    const { ids, lengths } = utf8LinesToIds(words, lines);
    const newWords = words.vocab.allWords().slice(known);
    known = words.vocab.size;
    // Copies that own their buffers, so they can be transferred.
    const m: FromTokenizeWorker = { type: 'batch', newWords, ids: ids.slice(), lengths: lengths.slice() };
    parentPort!.postMessage(m, [m.ids.buffer as ArrayBuffer, m.lengths.buffer as ArrayBuffer]);
    ahead++;
  };
  const room = async () => {
    while (ahead >= BATCHES_AHEAD) await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
  };
  let first = true;
  for (const file of data.files) {
    for await (const lines of utf8LineChunks(file, data.chunkBytes)) {
      let from = 0;
      if (first) {
        first = false;
        const cut = lines.indexOf(0x0a, FIRST_BATCH_BYTES) + 1;
        if (cut > 0 && cut < lines.length) {
          post(lines.subarray(0, cut));
          from = cut;
        }
      }
      await room();
      post(lines.subarray(from));
    }
  }
  parentPort!.postMessage({ type: 'done' } satisfies FromTokenizeWorker);
}

run(workerData as TokenizeWorkerData).catch((e: unknown) =>
  parentPort!.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) } satisfies FromTokenizeWorker),
);
