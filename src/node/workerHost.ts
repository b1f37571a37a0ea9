/**
 * Runs a neural model in a Node worker thread, so that inference never blocks the extension host;
 * the host keeps only the tokenizer. The worker is supervised (core/engine/supervisor.ts): if it
 * stops, the next request starts a new one and loads the model again.
 */
import * as path from 'path';
import { Worker, type ResourceLimits } from 'worker_threads';
import { RemoteLanguageModel } from '../core/engine/engineClient';
import type { EngineResponse } from '../core/engine/protocol';
import { SupervisedEngine, type EngineWorkerEvents, type EngineWorkerHandle } from '../core/engine/supervisor';
import type { NodeWorkerSpec } from './engineWorker';
import { hostSide } from './neuralLoader';

/** Seams for the fault-injection tests: another worker script, its data, each worker as it starts. */
export interface NeuralWorkerOptions {
  script?: string;
  workerData?: unknown;
  resourceLimits?: ResourceLimits;
  onSpawn?: (worker: Worker) => void;
}

export async function startNeuralWorker(spec: NodeWorkerSpec, options: NeuralWorkerOptions = {}): Promise<RemoteLanguageModel> {
  const engine = new SupervisedEngine((events) => spawnEngineWorker(events, options), spec);
  const description = await engine.start();
  try {
    const { tokenizer } = hostSide(spec.dir);
    return new RemoteLanguageModel(engine, description, tokenizer, () => void engine.dispose(), engine);
  } catch (e) {
    void engine.dispose();
    throw e;
  }
}

function spawnEngineWorker(events: EngineWorkerEvents, options: NeuralWorkerOptions): EngineWorkerHandle {
  const worker = new Worker(options.script ?? path.join(__dirname, 'engineWorker.js'), {
    workerData: options.workerData,
    resourceLimits: options.resourceLimits,
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
