/**
 * What the engine process's watchdog reads of a process (Linux /proc): a process starved of a core
 * on a loaded machine is runnable, not hung; a stopped one is neither busy nor using CPU.
 */
import * as assert from 'assert';
import { spawn, type ChildProcess } from 'child_process';
import { busyState, processActivity, statFields } from '../../src/node/engineProcessSpawn';

describe('engine watchdog: process activity', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
  });

  it('reads the fields after a command name that holds spaces and parentheses', () => {
    const fields = statFields('4242 (node (engine) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 57 13 0 0 30 10 11 0');
    assert.strictEqual(fields[0], 'S');
    assert.strictEqual(Number(fields[11]) + Number(fields[12]), 70);
  });

  it('counts runnable and disk-waiting threads as busy, sleeping and stopped ones not', () => {
    assert.deepStrictEqual(['R', 'D', 'S', 'T', 't', 'Z', 'I'].map(busyState), [true, true, false, false, false, false, false]);
  });

  it('sees a computing process busy and a stopped one idle with its CPU time still', async function () {
    if (process.platform !== 'linux') this.skip();
    const child = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    children.push(child);
    // Runnable all along: on a core or waiting for one, whatever the machine's load.
    let busy = 0;
    for (let i = 0; i < 20; i++) {
      const a = processActivity(child.pid!);
      if (a?.busy) busy++;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(busy >= 15, `busy in ${busy} of 20 looks`);
    child.kill('SIGSTOP');
    let stopped = processActivity(child.pid!);
    for (let i = 0; i < 100 && stopped?.busy; i++) {
      await new Promise((r) => setTimeout(r, 20));
      stopped = processActivity(child.pid!);
    }
    assert.strictEqual(stopped?.busy, false);
    await new Promise((r) => setTimeout(r, 300));
    const later = processActivity(child.pid!);
    assert.strictEqual(later?.busy, false);
    assert.strictEqual(later?.ticks, stopped?.ticks);
  });

  it('is undefined for a process that is gone', async () => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((r) => child.once('exit', r));
    // Reaped by the exit handler: its /proc entry is gone.
    assert.strictEqual(processActivity(child.pid!), undefined);
  });
});
