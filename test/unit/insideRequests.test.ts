/**
 * The inside panel's requests on a long prompt (hostile H7): the prompt is encoded once for the
 * tokens of one result, and a request for a token the user has left is dropped, not run.
 */
import * as assert from 'assert';
import { EngineConnection } from '../../src/core/engine/engineClient';
import { EngineServer } from '../../src/core/engine/engineServer';
import type { EngineRequest } from '../../src/core/engine/protocol';
import { CancelledError, type CancelSignal } from '../../src/core/errors';
import type { GeneratedToken } from '../../src/core/generation';
import { loadModel } from '../../src/node/modelLoader';
import type { ChosenToken } from '../../src/webview/insidePanel';
import { insideResult } from '../../src/webview/insideRequest';
import { TEST_LOAD_SPEC } from './helpers';

describe('the inside panel on a long prompt (hostile H7)', function () {
  this.timeout(60000);

  it('the engine encodes a prompt once for the n-gram traces of its tokens, and does not run a request cancelled while it waited', async () => {
    const model = await loadModel('ngram-classics');
    const encode = model.tokenizer.encode.bind(model.tokenizer);
    let encoded = 0;
    model.tokenizer.encode = (text, atStart, offset) => {
      encoded += text.length;
      return encode(text, atStart, offset);
    };
    const server = new EngineServer(
      async () => ({ model }),
      (r) => setImmediate(() => connection.receive(r)),
    );
    // As the page's worker runs them: one at a time, in order; a cancel at once.
    let queue = Promise.resolve();
    const sent: EngineRequest[] = [];
    const connection = new EngineConnection((req) => {
      sent.push(req);
      if (req.op === 'cancel') void server.handle(req);
      else queue = queue.then(() => server.handle(req));
    });
    await connection.request({ op: 'load', spec: TEST_LOAD_SPEC });
    const prompt = 'It was a dark and stormy night; the rain fell in torrents. '.repeat(2000);
    const token = model.tokenizer.encode('the', false)[0].id;
    encoded = 0;
    for (let i = 0; i < 5; i++) await connection.request({ op: 'ngramTrace', prompt, before: [token], token });
    assert.strictEqual(encoded, prompt.length, 'five tokens of one result: the prompt encoded once');
    // Five quick clicks: the first four are cancelled while they wait; only the last one is answered.
    const traced = model.ngramTrace!.bind(model);
    let traces = 0;
    model.ngramTrace = (context, id) => {
      traces++;
      return traced(context, id);
    };
    // The worker is busy (a long request before them): the clicks' requests wait their turn.
    let busy!: () => void;
    queue = queue.then(() => new Promise<void>((resolve) => (busy = resolve)));
    const signals = [0, 1, 2, 3, 4].map(() => ({ cancelled: false }));
    const asked = signals.map((signal, i) => connection.request({ op: 'ngramTrace', prompt, before: [token], token: token + i }, signal));
    for (const s of signals.slice(0, 4)) s.cancelled = true;
    while (sent.filter((r) => r.op === 'cancel').length < 4) await new Promise((r) => setTimeout(r, 5));
    busy();
    const settled = await Promise.allSettled(asked);
    assert.strictEqual(settled[4].status, 'fulfilled');
    for (const s of settled.slice(0, 4)) assert.ok(s.status === 'rejected' && s.reason instanceof CancelledError, JSON.stringify(s));
    assert.strictEqual(traces, 1, 'the cancelled requests were not run');
  });

  it('a cancelled inside request is asked again when its token is chosen again (not kept as a failure)', async () => {
    const chosen: ChosenToken = { model: 'm', before: [1, 2], token: { id: 3, text: 'x', logProb: -1 } as GeneratedToken, where: 'token 1' };
    const asked: (CancelSignal | undefined)[] = [];
    const engine = {
      request: (_req: unknown, signal?: CancelSignal) => {
        asked.push(signal);
        return signal?.cancelled ? Promise.reject(new CancelledError()) : Promise.resolve({ inside: {}, texts: {} });
      },
    } as unknown as EngineConnection;
    const left = { cancelled: true };
    await assert.rejects(insideResult({ chosen, engine: async () => engine, signal: left }), CancelledError);
    await new Promise((r) => setImmediate(r));
    await insideResult({ chosen, engine: async () => engine, signal: { cancelled: false } });
    assert.strictEqual(asked.length, 2);
  });
});
