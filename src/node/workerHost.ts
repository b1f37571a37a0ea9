/**
 * Runs a model off the extension host's thread, so that inference never blocks it; the host keeps
 * only the tokenizer. A backend declares where (its placements): in a Node worker thread
 * (engineWorker.ts; ONNX, n-gram), or in a child process (engineProcess.ts; GGUF, whose llama.cpp
 * can abort the process it runs in). Either is supervised (core/engine/supervisor.ts): if it
 * stops, the requests in flight fail with the reason, and the next request starts a new one and
 * loads the model again.
 */
import * as path from 'path';
import { Worker, type ResourceLimits } from 'worker_threads';
import { WorkerLanguageModel } from '../core/engine/engineClient';
import type { EngineResponse, LoadSpec } from '../core/engine/protocol';
import { SupervisedEngine, type EngineWorkerEvents, type EngineWorkerHandle } from '../core/engine/supervisor';
import { LmError } from '../core/errors';
import type { ModelBackend, ModelLocation, OpenOptions } from './backends/backend';
import { spawnEngineProcess, type EngineProcessOptions } from './engineProcessSpawn';
import { optOutOfOnnxRuntimeTelemetry } from './onnxRuntimeTelemetry';

/** Seams for the fault-injection tests: another worker script, its data, each worker as it starts. */
export interface EngineWorkerOptions {
  script?: string;
  workerData?: unknown;
  resourceLimits?: ResourceLimits;
  onSpawn?: (worker: Worker) => void;
  /** For a backend that runs in a child process. */
  process?: EngineProcessOptions;
}

/**
 * The V8 heap of the engine's worker thread: a young generation of up to 96 MiB (a worker's
 * default is 48). Each decode step of a large model leaves megabytes of dead KV-cache arrays
 * (the runtime's outputs) and little else; with the default, processes on a loaded machine fell
 * now and then into full collections every half second (the tokenizer's 22 MB heap marked each
 * time, 2–6 ms of the GC's helper threads per token), with 96 MiB none did in the runs measured
 * (docs/BENCHMARKS.md). The young generation grows to it only when it needs to.
 */
export const ENGINE_WORKER_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 96 };

/** The engines started and not yet disposed, for `stopAllEngines`. */
const liveEngines = new Set<SupervisedEngine>();

/**
 * Disposes every engine still running and resolves when their workers and processes are gone.
 * The extension host awaits it as it shuts down (a window reload or close): a Node process that
 * exits while a worker thread is inside onnxruntime-node's `session.run` aborts in onnxruntime's
 * teardown (`terminate called after throwing an instance of 'Napi::Error'`), whereas a disposed
 * worker finishes its run, releases its session and exits.
 */
export async function stopAllEngines(): Promise<void> {
  await Promise.all([...liveEngines].map((engine) => engine.dispose()));
}

/** Whether the backend's models run in a child process rather than a worker thread. */
export function runsInNodeProcess(backend: ModelBackend): boolean {
  return backend.capabilities.placements.includes('node-process');
}

/** Opens `model` of `backend` in a supervised worker thread or child process (as it declares); `options` are the backend's open options. */
export async function startEngineWorker(
  model: ModelLocation & { backend: ModelBackend },
  options: OpenOptions,
  worker: EngineWorkerOptions = {},
): Promise<WorkerLanguageModel> {
  const { backend } = model;
  if (!backend.hostTokenizer) throw new LmError(`the ${backend.id} backend declares no tokenizer for the host: its models cannot run in a worker`);
  const spec: LoadSpec = {
    backend: backend.id,
    name: model.name,
    source: { path: model.location },
    device: options.device ?? 'auto',
    dtype: options.dtype,
    threads: options.threads,
    // A tokenizer that is not read from the files is made from what the load describes.
    ...(backend.hostTokenizerFromFiles ? {} : { hostVocabulary: true }),
  };
  const engine = runsInNodeProcess(backend)
    ? new SupervisedEngine((events) => spawnEngineProcess(events, worker.process), spec, undefined, `the ${backend.id.toUpperCase()} engine process`)
    : new SupervisedEngine((events) => spawnEngineWorker(events, worker), spec);
  liveEngines.add(engine);
  const dispose = () => engine.dispose().finally(() => liveEngines.delete(engine));
  const starting = engine.start();
  // A tokenizer read from the files is read on this thread while the worker loads the model (the
  // tokenizer.json of a 49k vocabulary: 0.15 s of a 1.8 s load). Its error counts only when the
  // load succeeds: the load's own error (a missing graph, say) comes first, as it always did.
  const fromFiles = backend.hostTokenizerFromFiles
    ? Promise.resolve()
        .then(() => backend.hostTokenizer!(model, options))
        .then(
          (tokenizer) => ({ tokenizer }),
          (error: unknown) => ({ error }),
        )
    : undefined;
  let description: Awaited<typeof starting>;
  try {
    description = await starting;
  } catch (e) {
    liveEngines.delete(engine);
    await fromFiles;
    throw e;
  }
  try {
    const early = await fromFiles;
    if (early && 'error' in early) throw early.error;
    const tokenizer = early ? early.tokenizer : await backend.hostTokenizer(model, options, description);
    // A worker thread's messages move the buffers they name (a child process's are serialised),
    // and its generations run there, a decode step costing no message between threads.
    const thread = !runsInNodeProcess(backend);
    return new WorkerLanguageModel(engine, description, tokenizer, () => void dispose(), engine, {
      transfersRows: thread,
      generatesInEngine: thread,
    });
  } catch (e) {
    void dispose();
    throw e;
  }
}

function spawnEngineWorker(events: EngineWorkerEvents, options: EngineWorkerOptions): EngineWorkerHandle {
  // The worker may load onnxruntime-node, which reads this process's environment (not the worker's copy of it).
  optOutOfOnnxRuntimeTelemetry();
  const worker = new Worker(options.script ?? path.join(__dirname, 'engineWorker.js'), {
    workerData: options.workerData,
    resourceLimits: options.resourceLimits ?? ENGINE_WORKER_LIMITS,
  });
  let failure: Error | undefined;
  worker.on('message', (res: EngineResponse) => events.message(res));
  // An uncaught error or running out of memory comes as 'error', always followed by 'exit'.
  worker.on('error', (e) => (failure ??= e));
  worker.on('exit', (code) => events.exited(failure ? failure.message : `it exited with code ${code}`));
  options.onSpawn?.(worker);
  return {
    post: (req, transfer) => worker.postMessage(req, transfer),
    // The one hard stop, for a worker that answered `dispose` yet did not exit by itself: its
    // session is released, so it cannot be inside `session.run`, which onnxruntime-node runs
    // synchronously on the worker's thread (terminating it there aborts the whole process).
    stopIdle: () => void worker.terminate(),
  };
}
