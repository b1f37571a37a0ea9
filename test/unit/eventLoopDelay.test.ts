import * as assert from 'assert';
import { watchEventLoopDelay } from '../../src/node/eventLoopDelay';

/** Runs on this thread until the process has used `ms` more of CPU time (not wall time: a loaded machine stretches that). */
function spinCpu(ms: number): void {
  const start = process.cpuUsage();
  for (;;) {
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1000 >= ms) return;
  }
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('event-loop watch', () => {
  it('tells a loop held by this thread’s own work (its run) from one that only waited', async function () {
    if (process.platform !== 'linux') this.skip();
    const idle = watchEventLoopDelay();
    await wait(300);
    const waited = idle();
    assert.ok(waited.runMs !== undefined, 'Linux gives the thread’s time on the CPU');
    assert.ok(waited.runMs < 50, `an idle loop ran ${waited.runMs} ms at a stretch`);

    const busy = watchEventLoopDelay();
    await wait(20);
    spinCpu(150);
    await wait(20);
    const held = busy();
    assert.ok(held.runMs! >= 120, `a loop held for 150 ms of CPU ran ${held.runMs} ms at a stretch`);
    assert.ok(held.delayMs >= held.runMs! - 10, `the loop's wait ${held.delayMs} ms covers its run ${held.runMs} ms`);
  });
});
