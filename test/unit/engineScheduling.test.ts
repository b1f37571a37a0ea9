/**
 * Interactive requests (a hover, a completion step) are not queued behind a whole document's
 * scoring: background scoring reaches the worker in pieces, one at a time.
 */
import * as assert from 'assert';
import { EngineConnection, WorkerLanguageModel } from '../../src/core/engine/engineClient';
import { EngineServer, describe as describeModel } from '../../src/core/engine/engineServer';
import type { EngineRequest, EngineResponse } from '../../src/core/engine/protocol';
import { throwIfCancelled, type CancelSignal } from '../../src/core/errors';
import type { LanguageModel, SequenceScores } from '../../src/core/model';
import { TEST_LOAD_SPEC, TableModel, WINDOW_TEST_MODEL } from './helpers';

/** A model that takes one event-loop turn per scored token, and records how many it had scored when each hover came. */
class SlowScorer implements LanguageModel {
  readonly inner = new TableModel(
    ['<s>', '</s>', 'a', 'b', 'c'],
    [
      [0, 0.1, 0.5, 0.2, 0.2],
      [0, 1, 0, 0, 0],
      [0, 0.1, 0.1, 0.6, 0.2],
      [0, 0.1, 0.3, 0.3, 0.3],
      [0, 0.1, 0.7, 0.1, 0.1],
    ],
  );
  readonly info = { name: 'slow', ...WINDOW_TEST_MODEL, description: 'slow', contextLength: 128 };
  readonly tokenizer = this.inner.tokenizer;
  readonly vocabSize = this.inner.vocabSize;
  readonly bosId = this.inner.bosId;
  readonly eosId = this.inner.eosId;
  readonly unkId = undefined;
  readonly unsampleableIds = this.inner.unsampleableIds;
  scored = 0;
  readonly servedAfter: number[] = [];

  async nextLogProbs(context: readonly number[]): Promise<Float64Array> {
    this.servedAfter.push(this.scored);
    return this.inner.nextLogProbs(context);
  }

  async sequenceLogProbs(ids: readonly number[], from: number, signal?: CancelSignal): Promise<Float64Array> {
    return (await this.sequenceScores(ids, from, signal)).logProbs;
  }

  async sequenceScores(ids: readonly number[], from: number, signal?: CancelSignal): Promise<SequenceScores> {
    for (let i = from; i < ids.length; i++) {
      throwIfCancelled(signal);
      await new Promise((r) => setImmediate(r));
      this.scored++;
    }
    return this.inner.sequenceScores(ids, from);
  }
}

/** A worker as engineWorker.ts runs one: requests answered one at a time, in order. */
function fakeWorker(model: LanguageModel): { connection: EngineConnection; received: EngineRequest[] } {
  const received: EngineRequest[] = [];
  const server = new EngineServer(
    async () => ({ model }),
    (r) => setImmediate(() => connection.receive(r as EngineResponse)),
  );
  let queue = Promise.resolve();
  const connection = new EngineConnection((req) => {
    received.push(req);
    if (req.op === 'cancel') void server.handle(req);
    else queue = queue.then(() => server.handle(req));
  });
  return { connection, received };
}

describe('engine scheduling: hovers before background scoring', function () {
  it('a hover sent during a long scoring waits for at most one piece, and the scores are those of one request', async () => {
    const slow = new SlowScorer();
    const { connection, received } = fakeWorker(slow);
    await connection.request({ op: 'load', spec: TEST_LOAD_SPEC });
    const remote = new WorkerLanguageModel(connection, describeModel(slow), slow.tokenizer, () => undefined);
    const ids = Array.from({ length: 2000 }, (_, i) => 2 + (i % 3));
    const scoring = remote.sequenceScores(ids, 1);
    // The hover comes once the worker has started on the scoring.
    while (slow.scored === 0) await new Promise((r) => setImmediate(r));
    await remote.nextLogProbs(ids.slice(0, 10));
    const scores = await scoring;
    const piece = remote.backgroundPieceTokens;
    assert.ok(piece < 2000 / 4, `pieces of ${piece} tokens`);
    assert.ok(slow.servedAfter[0] <= piece, `the hover was served after ${slow.servedAfter[0]} scored tokens (one piece is ${piece})`);
    const whole = await slow.inner.sequenceScores(ids, 1);
    assert.deepStrictEqual(Array.from(scores.logProbs), Array.from(whole.logProbs));
    assert.deepStrictEqual(Array.from(scores.ranks), Array.from(whole.ranks));
    // Never two pieces in the worker at once: each piece is sent after the previous answered.
    assert.ok(received.filter((r) => r.op === 'sequenceScores').length >= 2000 / piece);
  });

  it('two background jobs share one lane: a hover still waits for at most one piece', async () => {
    const slow = new SlowScorer();
    const { connection } = fakeWorker(slow);
    await connection.request({ op: 'load', spec: TEST_LOAD_SPEC });
    const remote = new WorkerLanguageModel(connection, describeModel(slow), slow.tokenizer, () => undefined);
    const ids = Array.from({ length: 1000 }, (_, i) => 2 + (i % 3));
    const jobs = [remote.sequenceScores(ids, 1), remote.sequenceLogProbs(ids, 1)];
    while (slow.scored === 0) await new Promise((r) => setImmediate(r));
    await remote.nextLogProbs(ids.slice(0, 10));
    await Promise.all(jobs);
    assert.ok(slow.servedAfter[0] <= remote.backgroundPieceTokens, `served after ${slow.servedAfter[0]} tokens`);
  });

  it('a cancelled background job stops sending pieces', async () => {
    const slow = new SlowScorer();
    const { connection, received } = fakeWorker(slow);
    await connection.request({ op: 'load', spec: TEST_LOAD_SPEC });
    const remote = new WorkerLanguageModel(connection, describeModel(slow), slow.tokenizer, () => undefined);
    const signal = { cancelled: false };
    const ids = Array.from({ length: 2000 }, (_, i) => 2 + (i % 3));
    const scoring = remote.sequenceScores(ids, 1, signal);
    while (slow.scored === 0) await new Promise((r) => setImmediate(r));
    signal.cancelled = true;
    await assert.rejects(scoring, /cancelled/i);
    assert.ok(received.filter((r) => r.op === 'sequenceScores').length <= 2);
  });
});
