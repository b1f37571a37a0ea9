/**
 * A webview page's engine worker dies: the extension's end of the relay must not leave later
 * requests waiting for an answer that never comes, and must report the failure so that the model
 * moves off the page.
 */
import * as assert from 'assert';
import { WorkerLanguageModel, type EngineHealth } from '../../src/core/engine/engineClient';
import { describe as describeModel } from '../../src/core/engine/engineServer';
import type { EngineRequest } from '../../src/core/engine/protocol';
import { toRelay, type RelayToPage } from '../../src/webview/relayMessages';
import { RelayConnection } from '../../src/vscode/relayConnection';
import { TableModel } from './helpers';

/** Settles `p` or says it is still pending once the event loop has run everything queued (a condition, not a delay). */
async function settledNow<T>(p: Promise<T>): Promise<{ value?: T; error?: Error } | 'pending'> {
  const outcome = p.then(
    (value) => ({ value }),
    (error: Error) => ({ error }),
  );
  return Promise.race([outcome, new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))]);
}

describe('a webview engine whose worker dies', () => {
  const table = new TableModel(
    ['<s>', '</s>', 'a'],
    [
      [0, 0.5, 0.5],
      [0, 1, 0],
      [0, 0.5, 0.5],
    ],
  );

  function setUp() {
    const sent: EngineRequest[] = [];
    const relay = new RelayConnection((m: RelayToPage) => {
      if (m.type === 'request') sent.push(m.request);
    });
    const model = new WorkerLanguageModel(relay.connection, describeModel(table), table.tokenizer, () => undefined, relay);
    const health: EngineHealth[] = [];
    relay.onHealthChange((h) => health.push(h));
    return { sent, relay, model, health };
  }

  it('answers requests while the page relays responses', async () => {
    const { sent, relay, model } = setUp();
    const p = model.nextLogProbs([0]);
    assert.strictEqual(sent.length, 1);
    relay.receive({
      type: 'response',
      response: toRelay({ id: sent[0].id, ok: true, op: 'nextLogProbs', result: { logProbs: new Float64Array([0, -1, -2]) } }),
    });
    assert.deepStrictEqual([...(await p)], [0, -1, -2]);
    assert.strictEqual(relay.health.state, 'running');
  });

  it('fails the request in flight and every later one at once, with the reason, and reports the failure once', async () => {
    const { sent, relay, model, health } = setUp();
    const inFlight = model.nextLogProbs([0]);
    relay.receive({ type: 'fatal', error: 'engine worker: out of memory' });
    await assert.rejects(inFlight, /engine worker in the webview stopped \(engine worker: out of memory\)/);
    const later = await settledNow(model.nextLogProbs([0, 2]));
    assert.notStrictEqual(later, 'pending', 'a request after the worker died is never answered');
    assert.match((later as { error?: Error }).error?.message ?? '', /stopped \(engine worker: out of memory\)/);
    const scoring = await settledNow(model.sequenceLogProbs([0, 2, 2], 1));
    assert.notStrictEqual(scoring, 'pending', 'background scoring after the worker died is never answered');
    assert.strictEqual(sent.length, 1, 'nothing more is sent to the dead page');
    relay.receive({ type: 'fatal', error: 'engine worker: again' });
    assert.deepStrictEqual(health, [{ state: 'failed', reason: 'the engine worker in the webview stopped (engine worker: out of memory)' }]);
  });

  it('does not report a failure when the page is closed (its owner closed it)', async () => {
    const { relay, model, health } = setUp();
    relay.close('the webview that ran the model was closed');
    await assert.rejects(model.nextLogProbs([0]), /was closed/);
    assert.deepStrictEqual(health, []);
  });
});
