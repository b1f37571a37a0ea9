/**
 * The model's queue: calls one at a time; background work in passes gives way to waiting calls and
 * to background work asked for after it (the newest warm-up first, drive9), never to older; while
 * held (a generation's steps, drive49 H1) it runs no pass, even when no call waits.
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

  it('while held, a warm-up runs no pass between calls, even with none waiting; it takes up once the hold is released', async () => {
    const queue = new ModelQueue();
    const log: string[] = [];
    const release = queue.hold();
    await queue.run(async () => void log.push('step 1'));
    const warm = work(queue, 'warm', 2, log);
    let warmEnded = false;
    void warm.then(() => (warmEnded = true));
    // The queue idle, as between two steps of a generation: the warm-up still waits.
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 1));
    await queue.run(async () => void log.push('step 2'));
    assert.deepStrictEqual(log, ['step 1', 'step 2']);
    assert.strictEqual(warmEnded, false);
    release();
    release(); // a second call does nothing
    assert.strictEqual(await warm, 1, 'it gave way once, to the hold');
    assert.deepStrictEqual(log, ['step 1', 'step 2', 'warm', 'warm']);
  });

  it('a hold taken during a pass stops the warm-up after that pass; a warm-up stopped while held ends without a pass, before the release', async () => {
    const queue = new ModelQueue();
    const log: string[] = [];
    let release: (() => void) | undefined;
    const warm = work(queue, 'warm', 3, log, () => (release = queue.hold()));
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 1));
    assert.deepStrictEqual(log, ['warm']);
    let stopped = false;
    const second = queue.inPasses(
      async () => (log.push('stopped'), true),
      () => stopped,
    );
    stopped = true;
    await second;
    assert.deepStrictEqual(log, ['warm'], 'still held');
    release!();
    await warm;
    assert.deepStrictEqual(log, ['warm', 'warm', 'warm']);
  });

  it('whileHeld resolves at the release, or once stop() says so while the hold is on', async () => {
    const queue = new ModelQueue();
    await queue.whileHeld(() => false); // no hold: at once
    const release = queue.hold();
    let stopped = false;
    const stopping = queue.whileHeld(() => stopped);
    let released = false;
    const waiting = queue.whileHeld(() => false).then(() => assert.ok(released, 'resolved before the release'));
    stopped = true;
    await stopping;
    assert.ok(queue.held);
    released = true;
    release();
    await waiting;
  });
});
