import * as assert from 'assert';
import { Worker } from 'worker_threads';
import type { EventLoopHold } from '../../src/node/eventLoopDelay';

/**
 * Each case runs in a fresh worker thread: in the mocha process, work left behind by earlier tests
 * (their garbage collection, late callbacks) runs on this thread and would count as "held".
 */
function inFreshThread(body: string): Promise<{ waited: EventLoopHold; held: EventLoopHold }> {
  const source = `
    const { parentPort } = require('worker_threads');
    const { watchEventLoopDelay } = require(${JSON.stringify(require.resolve('../../src/node/eventLoopDelay'))});
    // Spins until this thread has used ms more of CPU time (not wall time: a loaded machine stretches that).
    const spinCpu = (ms) => { const start = process.cpuUsage(); for (;;) { const u = process.cpuUsage(start); if ((u.user + u.system) / 1000 >= ms) return; } };
    const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    (async () => { ${body} })().then((r) => parentPort.postMessage(r));`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(source, { eval: true });
    worker.once('message', (r) => {
      void worker.terminate();
      resolve(r);
    });
    worker.once('error', reject);
  });
}

describe('event-loop watch', () => {
  it('tells a loop held by this thread’s own work (its run) from one that only waited', async function () {
    if (process.platform !== 'linux') this.skip();
    const { waited, held } = await inFreshThread(`
      const idle = watchEventLoopDelay();
      await wait(300);
      const waited = idle();
      const busy = watchEventLoopDelay();
      await wait(20);
      spinCpu(150);
      await wait(20);
      return { waited, held: busy() };`);
    assert.ok(waited.runMs !== undefined, 'Linux gives the thread’s time on the CPU');
    assert.ok(waited.runMs < 50, `an idle loop ran ${waited.runMs} ms at a stretch`);
    assert.ok(held.runMs! >= 120, `a loop held for 150 ms of CPU ran ${held.runMs} ms at a stretch`);
    assert.ok(held.delayMs >= held.runMs! - 10, `the loop's wait ${held.delayMs} ms covers its run ${held.runMs} ms`);
  });
});
