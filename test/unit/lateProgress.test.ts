import * as assert from 'assert';
import { openWhenSlow, type LateTimers } from '../../src/editor/lateProgress';

/** Timers run by hand: `fire()` runs what is due, as the clock would. */
function manualTimers(): LateTimers & { fire(): void; pending(): number } {
  let due: (() => void)[] = [];
  return {
    setTimeout(run) {
      due.push(run);
      return run;
    },
    clearTimeout(handle) {
      due = due.filter((r) => r !== handle);
    },
    fire() {
      const now = due;
      due = [];
      now.forEach((r) => r());
    },
    pending: () => due.length,
  };
}

describe('a progress notification only for a slow task (Complete Selection)', () => {
  it('never opens for a task that ended before the delay, and leaves no timer', async () => {
    const timers = manualTimers();
    let opened = 0;
    const task = Promise.resolve('done');
    openWhenSlow(task, 1000, () => opened++, timers);
    await task;
    assert.strictEqual(timers.pending(), 0, 'the timer was cleared when the task ended');
    timers.fire();
    assert.strictEqual(opened, 0);
  });

  it('never opens for a task that failed (cancelled) before the delay', async () => {
    const timers = manualTimers();
    let opened = 0;
    const task = Promise.reject(new Error('cancelled'));
    openWhenSlow(task, 1000, () => opened++, timers);
    await task.catch(() => undefined);
    timers.fire();
    assert.strictEqual(opened, 0);
  });

  it('opens once for a task still running at the delay', async () => {
    const timers = manualTimers();
    let opened = 0;
    let finish!: () => void;
    const task = new Promise<void>((resolve) => (finish = resolve));
    openWhenSlow(task, 1000, () => opened++, timers);
    timers.fire();
    assert.strictEqual(opened, 1);
    finish();
    await task;
    timers.fire();
    assert.strictEqual(opened, 1);
  });
});
