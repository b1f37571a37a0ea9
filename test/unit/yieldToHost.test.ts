import * as assert from 'assert';
import { yieldToHost } from '../../src/core/yieldToHost';

describe('yieldToHost', () => {
  it('lets waiting I/O callbacks and timers run before it resolves (a macrotask turn, not a microtask)', async () => {
    const seen: string[] = [];
    setImmediate(() => seen.push('immediate queued before'));
    await yieldToHost();
    assert.deepStrictEqual(seen, ['immediate queued before']);
  });

  it('without setImmediate (a browser or worker) it takes a turn through a MessageChannel', async () => {
    const host = globalThis as { setImmediate?: unknown };
    const saved = host.setImmediate;
    const seen: string[] = [];
    host.setImmediate = undefined;
    try {
      const message = new MessageChannel();
      message.port1.onmessage = () => {
        seen.push('message posted before');
        message.port1.close();
      };
      message.port2.postMessage(1);
      await yieldToHost();
    } finally {
      host.setImmediate = saved;
    }
    assert.deepStrictEqual(seen, ['message posted before']);
  });
});
