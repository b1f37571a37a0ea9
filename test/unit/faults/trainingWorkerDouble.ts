/**
 * A test double of the training worker script: it counts words, and a text "exit" makes it
 * exit, "throw" makes it throw an uncaught error.
 */
import { parentPort } from 'worker_threads';
import type { FromTrainingWorker, ToTrainingWorker } from '../../../src/node/trainingWorker';

let tokens = 0;
parentPort!.on('message', (m: ToTrainingWorker) => {
  if (m.type !== 'text') return;
  if (m.train === 'exit') process.exit(4);
  if (m.train === 'throw') throw new Error('boom in training');
  tokens += m.train.split(/\s+/).length;
  parentPort!.postMessage({ type: 'added', tokens } satisfies FromTrainingWorker);
});
