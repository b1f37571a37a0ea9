/** Fault injection for the n-gram training worker: one that exits or throws must not leave a call hanging. */
import * as assert from 'assert';
import * as path from 'path';
import { LmError } from '../../../src/core/errors';
import { NgramTrainingJob } from '../../../src/node/trainingHost';

describe('fault injection: the training worker', function () {
  this.timeout(30_000);
  const DOUBLE = path.join(__dirname, 'trainingWorkerDouble.js');

  for (const [kind, reason] of [
    ['exit', /^the training worker stopped: it exited with code 4$/],
    ['throw', /^the training worker stopped: boom in training$/],
  ] as const) {
    it(`a training worker that ${kind === 'exit' ? 'exits' : 'throws'} fails the waiting call and every later one, without hanging`, async () => {
      const job = new NgramTrainingJob(3, DOUBLE);
      assert.ok((await job.add('the cat sat on the mat', '')) > 0);
      await assert.rejects(job.add(kind, ''), (e: Error) => e instanceof LmError && reason.test(e.message));
      await assert.rejects(job.add('the dog sat on the log', ''), (e: Error) => reason.test(e.message));
      await assert.rejects(job.finish({ name: 'x', tokenizer: 'editor', order: 3 }), (e: Error) => reason.test(e.message));
    });
  }
});
