/**
 * Fault injection for the engine's worker thread: a worker killed while idle or busy, one that
 * dies as it loads, one that keeps dying; and model switches, disposes and cancels during long
 * runs, which must never stop a worker inside `session.run` (that aborts the whole process).
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as path from 'path';
import type { Worker } from 'worker_threads';
import type { EngineHealth, WorkerLanguageModel } from '../../../src/core/engine/engineClient';
import type { EngineRequest, ModelDescription } from '../../../src/core/engine/protocol';
import { MAX_WORKER_RESTARTS, RESTART_WINDOW_MS, SupervisedEngine, type EngineWorkerEvents } from '../../../src/core/engine/supervisor';
import { EngineStoppedError, LmError } from '../../../src/core/errors';
import { generate } from '../../../src/core/generation';
import { onnxBackend } from '../../../src/node/backends/onnxBackend';
import { startEngineWorker, type EngineWorkerOptions } from '../../../src/node/workerHost';
import { REPO, TEST_LOAD_SPEC, WINDOW_TEST_MODEL } from '../helpers';
import type { DoubleData, Fault } from './engineWorkerDouble';

const MODEL_DIR = path.join(REPO, 'models', 'gpt-classics');
const DOUBLE = path.join(__dirname, 'engineWorkerDouble.js');
const TEXT = 'It was the best of times, it was the worst of times, it was the age of wisdom.';

/** Starts gpt-classics in the double of the worker script; `workers` collects every worker started. */
async function startDouble(
  data: Omit<DoubleData, 'starts'> = {},
  options: EngineWorkerOptions = {},
): Promise<{ model: WorkerLanguageModel; workers: Worker[] }> {
  const workers: Worker[] = [];
  const workerData: DoubleData = { starts: new SharedArrayBuffer(4), ...data };
  const model = await startEngineWorker(
    { backend: onnxBackend, location: MODEL_DIR, name: 'gpt-classics' },
    { device: 'native' },
    { script: DOUBLE, workerData, onSpawn: (w) => workers.push(w), ...options },
  );
  return { model, workers };
}

/** Resolves at the supervisor's next health change that satisfies `ok`. */
function healthBecomes(model: WorkerLanguageModel, ok: (h: EngineHealth) => boolean): Promise<EngineHealth> {
  return new Promise((resolve) => {
    const stop = model.supervisor!.onHealthChange((h) => {
      if (!ok(h)) return;
      stop();
      resolve(h);
    });
  });
}

const exited = (w: Worker) => new Promise<number>((resolve) => w.once('exit', resolve));
const fault = (w: Worker, f: Fault['fault']) => w.postMessage({ fault: f } satisfies Fault);
const stopped = (h: EngineHealth) => h.state === 'stopped';

describe('fault injection: the engine worker', function () {
  this.timeout(60_000);
  let ids: number[];
  let expected: Float64Array;
  let open: WorkerLanguageModel[] = [];
  const track = <T extends { model: WorkerLanguageModel }>(started: T): T => {
    open.push(started.model);
    return started;
  };

  before(async () => {
    const { model, workers } = await startDouble();
    ids = model.tokenizer.encode(TEXT, true).map((t) => t.id);
    expected = await model.sequenceLogProbs(ids, 1);
    const gone = exited(workers[0]);
    model.dispose();
    // The worker releases its model and exits by itself: it is never terminated (exit code 1).
    assert.strictEqual(await gone, 0);
  });

  afterEach(async () => {
    for (const m of open) m.dispose();
    open = [];
  });

  it('restarts a worker terminated while idle on the next request, with the model loaded again', async () => {
    const { model, workers } = track(await startDouble());
    const health = healthBecomes(model, stopped);
    await workers[0].terminate(); // idle: no run in progress
    const h = await health;
    assert.match(h.state === 'stopped' ? h.reason : '', /^the model's worker stopped: it exited with code 1; it restarts on the next request$/);
    assert.deepStrictEqual(await model.sequenceLogProbs(ids, 1), expected);
    assert.strictEqual(workers.length, 2);
    assert.deepStrictEqual(model.supervisor!.health, { state: 'running' });
  });

  for (const [kind, reason] of [
    ['exit', /^the model's worker stopped: it exited with code 3; it restarts on the next request$/],
    ['throw', /^the model's worker stopped: boom in the worker; it restarts on the next request$/],
  ] as const) {
    it(`fails the request in flight when the busy worker ${kind === 'exit' ? 'calls process.exit' : 'throws an uncaught error'}; the next request works`, async () => {
      const { model, workers } = track(await startDouble());
      const long = model.tokenizer.encode(TEXT.repeat(300), true).map((t) => t.id);
      const inFlight = model.sequenceScores(long, 1);
      fault(workers[0], kind); // handled after the scoring started, between two of its runs
      // An EngineStoppedError: the features log it, the model service's notice names the model (hostile L1: two notices).
      await assert.rejects(inFlight, (e: Error) => e instanceof EngineStoppedError && reason.test(e.message));
      assert.strictEqual(model.supervisor!.health.state, 'stopped');
      assert.deepStrictEqual(await model.sequenceLogProbs(ids, 1), expected);
      const greedy = await generate(model, 'It was', { maxTokens: 5, temperature: 0 });
      assert.ok(greedy[0].tokens.length > 0);
      assert.strictEqual(workers.length, 2);
    });
  }

  it('restarts a worker that ran out of memory', async () => {
    const { model, workers } = track(await startDouble({}, { resourceLimits: { maxOldGenerationSizeMb: 64 } }));
    const health = healthBecomes(model, stopped);
    fault(workers[0], 'oom');
    const h = await health;
    assert.match(h.state === 'stopped' ? h.reason : '', /^the model's worker stopped: .*out of memory.*; it restarts on the next request$/i);
    assert.deepStrictEqual(await model.sequenceLogProbs(ids, 1), expected);
  });

  it('gives up with a clear error when the restarted worker dies as it loads the model', async () => {
    const { model, workers } = track(await startDouble({ dieOnLoadFrom: 1 }));
    const health = healthBecomes(model, stopped);
    fault(workers[0], 'exit');
    await health;
    const given =
      /^the model's worker could not be restarted: the model's worker stopped while loading the model: it exited with code 7; it is not restarted again$/;
    await assert.rejects(model.sequenceLogProbs(ids, 1), (e: Error) => e instanceof LmError && given.test(e.message));
    assert.strictEqual(model.supervisor!.health.state, 'failed');
    // No more restarts: later requests fail at once.
    await assert.rejects(model.nextLogProbs(ids), (e: Error) => given.test(e.message));
    assert.strictEqual(workers.length, 2);
  });

  it('reports a worker that dies as it loads the first time, without hanging', async () => {
    const workers: Worker[] = [];
    await assert.rejects(
      startEngineWorker(
        { backend: onnxBackend, location: MODEL_DIR, name: 'x' },
        { device: 'native' },
        { script: DOUBLE, workerData: { starts: new SharedArrayBuffer(4), dieOnLoadFrom: 0 } satisfies DoubleData, onSpawn: (w) => workers.push(w) },
      ),
      (e: Error) => e instanceof LmError && /^the model's worker stopped while loading the model: it exited with code 7$/.test(e.message),
    );
    assert.strictEqual(workers.length, 1);
  });

  it(`stops restarting a worker that stops ${MAX_WORKER_RESTARTS + 1} times in a short time`, async () => {
    const { model, workers } = track(await startDouble());
    for (let i = 0; i < MAX_WORKER_RESTARTS; i++) {
      const health = healthBecomes(model, stopped);
      fault(workers[i], 'exit');
      await health;
      assert.deepStrictEqual(await model.sequenceLogProbs(ids, 1), expected);
    }
    const health = healthBecomes(model, (h) => h.state === 'failed');
    fault(workers[MAX_WORKER_RESTARTS], 'exit');
    const h = await health;
    const given = new RegExp(
      `^the model's worker stopped: it exited with code 3; it stopped ${MAX_WORKER_RESTARTS + 1} times within 10 minutes, so it is not restarted$`,
    );
    assert.match(h.state === 'failed' ? h.reason : '', given);
    await assert.rejects(model.sequenceLogProbs(ids, 1), (e: Error) => given.test(e.message));
    assert.strictEqual(workers.length, MAX_WORKER_RESTARTS + 1);
  });

  it('never stops a worker inside a run: switches, disposes and cancels during long runs leave the process alive', () => {
    // In a child process, so that an abort fails this test instead of killing mocha.
    const child = spawnSync(process.execPath, [path.join(__dirname, 'engineSwitchScenario.js'), MODEL_DIR], { encoding: 'utf8', timeout: 50_000 });
    assert.strictEqual(child.signal, null, `the scenario was killed by ${child.signal}: ${child.stderr}`);
    assert.strictEqual(child.status, 0, child.stderr);
  });

  it('stopAllEngines (the extension’s deactivate) lets a running scoring end, so that the process exits with 0, not an abort', () => {
    const child = spawnSync(process.execPath, [path.join(__dirname, 'engineExitScenario.js'), MODEL_DIR], { encoding: 'utf8', timeout: 50_000 });
    assert.strictEqual(child.signal, null, `the process was killed by ${child.signal} (onnxruntime-node's abort at exit): ${child.stderr}`);
    assert.strictEqual(child.status, 0, child.stderr);
    // The scoring was under way when the host shut down, and was closed, not finished.
    assert.deepStrictEqual(JSON.parse(child.stdout), { atShutdown: 'running', after: 'failed: the model was closed' });
  });
});

describe('engine supervisor (a scripted worker, a fake clock)', () => {
  const description: ModelDescription = { name: 'fake', ...WINDOW_TEST_MODEL, description: 'fake', contextLength: 4, vocabSize: 2, unsampleableIds: [] };

  /** Workers that answer at once; `kill(i)` makes worker i exit as if it crashed. */
  function scripted() {
    const workers: EngineWorkerEvents[] = [];
    const spawn = (events: EngineWorkerEvents) => {
      workers.push(events);
      return {
        post: (req: EngineRequest) => {
          if (req.op === 'load') queueMicrotask(() => events.message({ id: req.id, ok: true, op: 'load', result: { model: description } }));
          else if (req.op === 'nextLogProbs')
            queueMicrotask(() =>
              events.message({ id: req.id, ok: true, op: 'nextLogProbs', result: { logProbs: Float64Array.of(Math.log(0.25), Math.log(0.75)) } }),
            );
          else if (req.op === 'dispose')
            queueMicrotask(() => (events.message({ id: req.id, ok: true, op: 'dispose', result: {} }), events.exited('it exited with code 0')));
        },
        stopIdle: () => assert.fail('a worker that exits by itself is never stopped'),
      };
    };
    return { workers, spawn, kill: (i: number) => workers[i].exited('it exited with code 9') };
  }

  it(`restarts however often while no ${RESTART_WINDOW_MS / 60_000} minutes hold more than ${MAX_WORKER_RESTARTS} stops`, async () => {
    let now = 0;
    const { workers, spawn, kill } = scripted();
    const engine = new SupervisedEngine(spawn, TEST_LOAD_SPEC, () => now);
    await engine.start();
    for (let i = 0; i < 3 * MAX_WORKER_RESTARTS; i++) {
      now += RESTART_WINDOW_MS / MAX_WORKER_RESTARTS + 1;
      kill(i);
      assert.strictEqual(engine.health.state, 'stopped');
      await engine.request({ op: 'nextLogProbs', context: [0] });
      assert.strictEqual(engine.health.state, 'running');
    }
    assert.strictEqual(workers.length, 3 * MAX_WORKER_RESTARTS + 1);
    await engine.dispose();
    await assert.rejects(engine.request({ op: 'nextLogProbs', context: [0] }), /^LmError: the model was closed$/);
  });

  it('waits for one restart when several requests arrive after a stop', async () => {
    const { workers, spawn, kill } = scripted();
    const engine = new SupervisedEngine(spawn, TEST_LOAD_SPEC);
    await engine.start();
    kill(0);
    await Promise.all([0, 1, 2].map(() => engine.request({ op: 'nextLogProbs', context: [0] })));
    assert.strictEqual(workers.length, 2);
    await engine.dispose();
  });

  it('a dispose while the model loads (the host shutting down) stops the worker once the load is done, and start says the model was closed', async () => {
    let loaded!: () => void;
    let exited = false;
    const spawn = (events: EngineWorkerEvents) => ({
      post: (req: EngineRequest) => {
        if (req.op === 'load') loaded = () => events.message({ id: req.id, ok: true, op: 'load', result: { model: description } });
        else if (req.op === 'dispose')
          queueMicrotask(() => (events.message({ id: req.id, ok: true, op: 'dispose', result: {} }), (exited = true), events.exited('it exited with code 0')));
      },
      stopIdle: () => assert.fail('a worker that exits by itself is never stopped'),
    });
    const engine = new SupervisedEngine(spawn, TEST_LOAD_SPEC);
    const started = engine.start();
    started.catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    let disposed = false;
    const disposing = engine.dispose().then(() => (disposed = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.strictEqual(disposed, false, 'the dispose waits for the load');
    loaded();
    await disposing;
    assert.ok(exited, 'the worker was asked to release the model and exited');
    await assert.rejects(started, /^LmError: the model was closed$/);
  });

  it('every dispose, not only the first, resolves once the worker has exited (the host’s shutdown awaits a second one)', async () => {
    let exit!: () => void;
    const spawn = (events: EngineWorkerEvents) => ({
      post: (req: EngineRequest) => {
        if (req.op === 'load') queueMicrotask(() => events.message({ id: req.id, ok: true, op: 'load', result: { model: description } }));
        // Answers `dispose` at once but exits only when the test says so, as a worker finishing a run does.
        else if (req.op === 'dispose') queueMicrotask(() => events.message({ id: req.id, ok: true, op: 'dispose', result: {} }));
        exit = () => events.exited('it exited with code 0');
      },
      stopIdle: () => assert.fail('a worker that exits by itself is never stopped'),
    });
    const engine = new SupervisedEngine(spawn, TEST_LOAD_SPEC);
    await engine.start();
    const order: string[] = [];
    const first = engine.dispose().then(() => order.push('first'));
    const second = engine.dispose().then(() => order.push('second'));
    await new Promise((resolve) => setImmediate(resolve));
    order.push('exit');
    exit();
    await Promise.all([first, second]);
    assert.deepStrictEqual(order, ['exit', 'first', 'second']);
  });
});
