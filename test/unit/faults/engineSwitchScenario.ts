/**
 * Run as a child process by engineWorker.test.ts: long scorings and generations on gpt-classics
 * in worker threads, disposed, cancelled and replaced while they run, again and again. Stopping a
 * worker inside `session.run` aborts the process (SIGABRT): the test expects exit code 0.
 */
import { generate } from '../../../src/core/generation';
import type { WorkerLanguageModel } from '../../../src/core/engine/engineClient';
import { onnxBackend } from '../../../src/node/backends/onnxBackend';
import { startEngineWorker } from '../../../src/node/workerHost';

const dir = process.argv[2];
const ROUNDS = 3;

async function main(): Promise<void> {
  const start = (name: string) => startEngineWorker({ backend: onnxBackend, location: dir, name }, { device: 'native' });
  let model: WorkerLanguageModel = await start('first');
  const ids = model.tokenizer.encode('It was a dark and stormy night; the rain fell in torrents. '.repeat(400), true).map((t) => t.id);
  for (let round = 0; round < ROUNDS; round++) {
    const signal = { cancelled: false };
    const work = [
      model.sequenceScores(ids, 1),
      model.sequenceLogProbs(ids, 1, signal),
      generate(model, 'The', { maxTokens: 400, temperature: 1, seed: round }),
    ];
    const settled = Promise.allSettled(work);
    signal.cancelled = true;
    // A model switch: the next model loads, then the old one is disposed (twice) while it runs.
    const next = await start(`round ${round}`);
    model.dispose();
    model.dispose();
    for (const r of await settled) {
      if (r.status === 'rejected' && r.reason?.name !== 'CancelledError') throw r.reason;
    }
    model = next;
  }
  model.dispose();
  // Nothing more: the process ends when every worker has exited by itself.
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
