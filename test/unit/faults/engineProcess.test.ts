/**
 * Fault injection for the engine's child process (GGUF models on llama.cpp): real aborts inside
 * llama.cpp (a failed GGML_ASSERT at the first evaluation, an uncaught C++ exception while
 * loading), a process killed mid-request, a model disposed mid-run, a host that goes away. The
 * host (this process) must survive each, say llama.cpp's reason, and leave no process behind.
 */
import * as assert from 'assert';
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { EngineHealth, WorkerLanguageModel } from '../../../src/core/engine/engineClient';
import { EngineStoppedError, LmError } from '../../../src/core/errors';
import { ggufBackend } from '../../../src/node/backends/ggufBackend';
import { openGguf } from '../../../src/node/gguf/ggufFile';
import { startEngineWorker } from '../../../src/node/workerHost';
import { REPO } from '../helpers';

const FIXTURE = path.join(REPO, 'test', 'fixtures', 'models', 'gguf', 'tiny-llama-f32.gguf');
const TEXT = 'It was the best of times, it was the worst of times, it was the age of wisdom.\n';

/** The fixture with one header value or one vocabulary piece overwritten in place (same length). */
function patched(dir: string, name: string, patch: (bytes: Buffer) => void): string {
  const bytes = fs.readFileSync(FIXTURE);
  patch(bytes);
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

/** Whether a process with this pid exists (a zombie counts as gone: it runs nothing). */
function alive(pid: number): boolean {
  const r = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' });
  return r.status === 0 && !r.stdout.trim().startsWith('Z');
}

async function until(ok: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('fault injection: the engine process (GGUF on llama.cpp)', function () {
  this.timeout(120_000);
  let dir: string;
  let eps: string;
  let noLineBreak: string;
  /** A text longer than the model's window (1,024 tokens), for runs long enough to be interrupted. */
  let ids: number[];
  /** Within one window: the numbers of the model on this thread. */
  let short: number[];
  let expected: Float64Array;
  let open: WorkerLanguageModel[] = [];

  /** Starts `file` in the engine's child process, llama.cpp given every header value (the test seam); `children` collects each process. */
  async function start(file: string, children: ChildProcess[] = [], watchdog: { hangMs?: number; watchMs?: number } = {}): Promise<WorkerLanguageModel> {
    const model = await startEngineWorker(
      { backend: ggufBackend, location: file, name: path.basename(file, '.gguf') },
      {},
      { process: { env: { LMP_TEST_LET_LLAMA_ABORT: '1' }, onSpawn: (c) => children.push(c), ...watchdog } },
    );
    open.push(model);
    return model;
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-engine-process-'));
    // A negative RMS-norm epsilon: llama.cpp loads it, then GGML_ASSERT(eps >= 0.0f) aborts the first evaluation.
    eps = patched(dir, 'eps.gguf', (b) => {
      const key = Buffer.from('llama.attention.layer_norm_rms_epsilon');
      const at = b.indexOf(key) + key.length;
      assert.strictEqual(b.readUInt32LE(at), 6, 'a float32 value');
      b.writeFloatLE(-1, at + 4);
    });
    // No line-break piece: llama.cpp's SentencePiece load throws std::out_of_range, uncaught (std::terminate).
    noLineBreak = patched(dir, 'nolf.gguf', (b) => b.write('zq0Azq', b.indexOf('<0x0A>'), 'latin1'));
    const reference = await openGguf(FIXTURE, 'tiny-llama-f32');
    ids = reference.tokenizer.encode(TEXT.repeat(40), true).map((t) => t.id);
    short = ids.slice(0, 600);
    expected = await reference.sequenceLogProbs(short, 1);
    await reference.dispose?.();
  });

  afterEach(() => {
    for (const m of open) m.dispose();
    open = [];
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('survives llama.cpp aborting mid-request: the request fails with its GGML_ASSERT, and a good model works after', async () => {
    const children: ChildProcess[] = [];
    const model = await start(eps, children);
    const [child] = children;
    // The engine gives way to the editor: its process runs at a lower priority.
    if (process.platform === 'linux') assert.strictEqual(os.getPriority(child.pid!), 10);
    const stopped = new Promise<EngineHealth>((resolve) => model.supervisor!.onHealthChange(resolve));
    await assert.rejects(
      model.sequenceLogProbs(ids.slice(0, 20), 1),
      (e: Error) =>
        e instanceof LmError &&
        /^the GGUF engine process stopped: it aborted \(ops\.cpp:\d+: GGML_ASSERT\(eps >= 0\.0f\) failed\); it restarts on the next request$/.test(e.message),
    );
    assert.strictEqual((await stopped).state, 'stopped');
    assert.strictEqual(child.signalCode, 'SIGABRT');
    model.dispose();

    const good = await start(FIXTURE);
    assert.deepStrictEqual(Array.from(await good.sequenceLogProbs(short, 1)), Array.from(expected));
  });

  it('gives up after the bounded restarts on a model that aborts every time, and says so', async () => {
    const model = await start(eps);
    const messages: string[] = [];
    for (let i = 0; i < 5; i++) await model.sequenceLogProbs(ids.slice(0, 5), 1).catch((e: Error) => messages.push(e.message));
    assert.strictEqual(messages.length, 5);
    assert.match(
      messages[3],
      /^the GGUF engine process stopped: it aborted \(.*GGML_ASSERT.*\); it stopped 4 times within 10 minutes, so it is not restarted$/,
    );
    assert.strictEqual(messages[4], messages[3]);
    assert.strictEqual(model.supervisor!.health.state, 'failed');
  });

  it('reports an abort while loading (an uncaught C++ exception) as the load’s error', async () => {
    await assert.rejects(
      start(noLineBreak),
      (e: Error) =>
        e instanceof LmError &&
        /^the GGUF engine process stopped while loading the model: it aborted \(terminate called after throwing an instance of 'std::out_of_range' \/ what\(\): .*\)$/.test(
          e.message,
        ),
    );
  });

  it('fails a request whose process is killed (SIGKILL) mid-request, and restarts on the next one', async () => {
    const children: ChildProcess[] = [];
    const model = await start(FIXTURE, children);
    const running = model.sequenceLogProbs(ids, 1);
    children[0].kill('SIGKILL');
    await assert.rejects(
      running,
      (e: Error) => e instanceof EngineStoppedError && /it was stopped by SIGKILL; it restarts on the next request$/.test(e.message),
    );
    assert.deepStrictEqual(Array.from(await model.sequenceLogProbs(short, 1)), Array.from(expected));
    assert.strictEqual(children.length, 2);
    assert.strictEqual(model.supervisor!.health.state, 'running');
  });

  it('ends a process that uses no CPU while a request waits (stopped, or deadlocked), fails the request saying so, and restarts (hostile round 3, H1)', async function () {
    if (process.platform !== 'linux') this.skip();
    const children: ChildProcess[] = [];
    const model = await start(FIXTURE, children, { hangMs: 1500, watchMs: 100 });
    // Answered at once while it computes: a busy process is not hung.
    assert.deepStrictEqual(Array.from(await model.sequenceLogProbs(short, 1)), Array.from(expected));
    const [child] = children;
    const running = model.sequenceLogProbs(ids, 1);
    child.kill('SIGSTOP');
    const started = Date.now();
    await assert.rejects(running, (e: Error) => /it used no CPU for 2 s while a request waited \(stopped or deadlocked\), so it was ended/.test(e.message));
    assert.ok(Date.now() - started < 20_000, `ended after ${Date.now() - started} ms`);
    await until(() => !alive(child.pid!), `process ${child.pid} gone`);
    assert.deepStrictEqual(Array.from(await model.sequenceLogProbs(short, 1)), Array.from(expected));
    assert.strictEqual(children.length, 2);
  });

  it('disposing mid-run kills no one: the process ends by itself, and none is left', async () => {
    const children: ChildProcess[] = [];
    const model = await start(FIXTURE, children);
    const [child] = children;
    const ended = new Promise<[number | null, string | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
    const running = model.sequenceLogProbs(ids, 1).then(
      () => 'finished',
      (e: Error) => e.message,
    );
    model.dispose();
    const outcome = await running;
    assert.ok(outcome === 'finished' || /cancel|closed/i.test(outcome), outcome);
    assert.deepStrictEqual(await ended, [0, null]);
    assert.ok(!alive(child.pid!), `process ${child.pid} is gone`);
  });

  /**
   * A host in a process of its own whose engine has answered once: the host, the engine's pid and
   * a promise of the host's exit. The host exits on SIGUSR2 (as a host that quits normally).
   */
  async function hostWithEngine(): Promise<{ host: ChildProcess; pid: number; hostExited: Promise<unknown> }> {
    const host = spawn(
      process.execPath,
      [
        '-e',
        `const { startEngineWorker } = require(${JSON.stringify(path.join(REPO, 'out', 'src', 'node', 'workerHost.js'))});
const { ggufBackend } = require(${JSON.stringify(path.join(REPO, 'out', 'src', 'node', 'backends', 'ggufBackend.js'))});
process.on('SIGUSR2', () => process.exit(0));
startEngineWorker({ backend: ggufBackend, location: ${JSON.stringify(FIXTURE)}, name: 'tiny' }, {}, { process: { onSpawn: (c) => console.log('engine ' + c.pid) } })
  .then((m) => m.sequenceLogProbs(m.tokenizer.encode(${JSON.stringify(TEXT)}, true).map((t) => t.id), 1))
  .then(() => console.log('answered'));`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    host.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const hostExited = new Promise((resolve) => host.once('exit', resolve));
    await until(() => out.includes('answered'), 'the host’s engine answers');
    return { host, pid: Number(/engine (\d+)/.exec(out)![1]), hostExited };
  }

  it('leaves no orphan when the host is killed: the engine process ends with its IPC channel', async () => {
    const { host, pid, hostExited } = await hostWithEngine();
    assert.ok(alive(pid));
    host.kill('SIGKILL');
    await hostExited;
    await until(() => !alive(pid), `engine process ${pid} ends after its host was killed`);
  });

  it('leaves no stopped engine behind when the host exits: a SIGSTOPped engine cannot end by itself (hostile round 4, L6)', async () => {
    const { host, pid, hostExited } = await hostWithEngine();
    process.kill(pid, 'SIGSTOP');
    host.kill('SIGUSR2');
    await hostExited;
    try {
      await until(() => !alive(pid), `stopped engine process ${pid} ends when its host exits`, 10_000);
    } finally {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});
