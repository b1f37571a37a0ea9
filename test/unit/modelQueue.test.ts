/**
 * The model's queue: calls one at a time; background work in passes gives way to waiting calls and
 * to background work asked for after it (the newest warm-up first, drive9), never to older.
 */
import * as assert from 'assert';
import { ModelQueue } from '../../src/core/modelQueue';

/** Background work of `passes` passes that notes each pass in `log` as `name`. */
function work(queue: ModelQueue, name: string, passes: number, log: string[]) {
  let done = 0;
  return queue.inPasses(
    async () => {
      log.push(name);
      return ++done >= passes;
    },
    () => false,
  );
}

/** Resolves once `log` has `n` entries (each pass leaves a macrotask before the next). */
async function until(log: string[], n: number): Promise<void> {
  while (log.length < n) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('model queue: warm-ups in passes', () => {
  it('a warm-up asked for later goes before an older one, which takes up again after it and never interrupts it', async () => {
    const queue = new ModelQueue();
    const log: string[] = [];
    const older = work(queue, 'older', 4, log);
    await until(log, 1);
    const newer = work(queue, 'newer', 3, log);
    assert.deepStrictEqual(await Promise.all([older, newer]), [1, 0], 'the older gave way once, the newer never');
    assert.deepStrictEqual(log, ['older', 'newer', 'newer', 'newer', 'older', 'older', 'older']);
  });

  it('a call waiting makes any warm-up give way, between two of its passes', async () => {
    const queue = new ModelQueue();
    const log: string[] = [];
    const warm = work(queue, 'warm', 3, log);
    await until(log, 1);
    const call = queue.run(async () => void log.push('call'));
    await Promise.all([warm, call]);
    assert.deepStrictEqual(log, ['warm', 'call', 'warm', 'warm']);
  });
});
