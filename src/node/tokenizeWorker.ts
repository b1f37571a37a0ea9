/**
 * Worker thread that reads lmplz-format text files and turns them into word ids, so that the
 * thread counting n-grams (`lmp train-ngram`) does not also read and tokenize: the two run on two
 * cores. Each batch carries the words first seen in it, in id order, so the counting thread's
 * vocabulary gives every word the same id. Then, idle, it moves half of the records in each pass
 * of the training's radix sorts, in step with the counting thread (sharedRadixSort.ts).
 */
import * as fs from 'fs';
import * as v8 from 'v8';
import * as vm from 'vm';
import { parentPort, workerData } from 'worker_threads';
import { sortShare, type SharedSortJob } from '../core/ngram/sharedRadixSort';
import { utf8LinesToIds } from '../core/ngram/textTraining';
import { Utf8Words } from '../core/ngram/utf8Words';
import { Vocabulary } from '../core/ngram/vocabulary';
import { utf8LineChunks } from './textFile';

export interface TokenizeWorkerData {
  files: string[];
  /** The words the counting thread's vocabulary starts with, in id order. */
  vocabulary: string[];
  chunkBytes: number;
}

export type FromTokenizeWorker =
  { type: 'batch'; newWords: string[]; ids: Uint32Array; lengths: Uint32Array } | { type: 'done' } | { type: 'error'; message: string };

/** Once the text is tokenized, the worker helps the counting thread sort (its records in shared memory). */
export type ToTokenizeWorker = { type: 'sort'; job: SharedSortJob };

// The worker stays until the thread that started it terminates it: a worker that exits by itself
// may have its 'exit' seen before its last messages are read.
parentPort!.on('message', (m: ToTokenizeWorker) => {
  if (m.type !== 'sort') return;
  collect();
  sortShare(m.job, 1);
});

/**
 * A garbage collection of this thread's heap. The sorts' arrays (hundreds of MiB, shared with the
 * counting thread) stay allocated for as long as some thread's heap holds an object for them, and
 * this one, idle between sorts, collects nothing by itself: without it the training's peak memory
 * held every array ever sorted (order 5 on the shared corpus: 572 MiB against 395). Node offers
 * no other way for a worker to collect than V8's gc() (flag set at run time; without it, nothing).
 */
const collect: () => void = (() => {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('gc');
    if (typeof gc === 'function') return gc as () => void;
  } catch {
    // No gc(): the arrays are freed when the thread ends.
  }
  return () => undefined;
})();

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
      post(lines.subarray(from));
    }
  }
  parentPort!.postMessage({ type: 'done' } satisfies FromTokenizeWorker);
}

run(workerData as TokenizeWorkerData).catch((e: unknown) =>
  parentPort!.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) } satisfies FromTokenizeWorker),
);
