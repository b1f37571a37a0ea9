/**
 * The model's queue: calls one at a time; background work in passes gives way to waiting calls and
 * to background work asked for after it (the newest warm-up first, drive9), never to older.
 */
import * as assert from 'assert';
import { ModelQueue } from '../../src/core/modelQueue';

/**
 * Background work of `passes` passes that notes each pass in `log` as `name`; `afterFirst` runs
 * during its first pass (what arrives then is queued before its second pass, whatever the timers
 * do: waiting for the first pass from outside raced the pause between passes on a loaded machine).
 */
function work(queue: ModelQueue, name: string, passes: number, log: string[], afterFirst?: () => void) {
  let done = 0;
  return queue.inPasses(
    async () => {
      log.push(name);
      if (done === 0) afterFirst?.();
      return ++done >= passes;
    },
    () => false,
  );
}

describe('model queue: warm-ups in passes', () => {
  it('a warm-up asked for later goes before an older one, which takes up again after it and never interrupts it', async () => {
    const queue = new ModelQueue();
    const log: string[] = [];
    let newer: Promise<number> | undefined;
    const older = work(queue, 'older', 4, log, () => void (newer = work(queue, 'newer', 3, log)));
    // The older ends last: by then the newer has been asked for, and has ended.
    assert.strictEqual(await older, 1, 'the older gave way once');
    assert.strictEqual(await newer, 0, 'the newer never');
    assert.deepStrictEqual(log, ['older', 'newer', 'newer', 'newer', 'older', 'older', 'older']);
  });

  it('a call waiting makes any warm-up give way, between two of its passes', async () => {
    const queue = new ModelQueue();
    const log: string[] = [];
    let call: Promise<void> | undefined;
    await work(queue, 'warm', 3, log, () => void (call = queue.run(async () => void log.push('call'))));
    await call;
    assert.deepStrictEqual(log, ['warm', 'call', 'warm', 'warm']);
  });
});
