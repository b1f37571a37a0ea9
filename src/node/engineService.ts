/**
 * The engine protocol's request loop in Node, shared by the engine's two entry points: the worker
 * thread (engineWorker.ts) and the child process (engineProcess.ts). One model of any backend of
 * the registry, opened from the disk.
 */
import * as os from 'os';
import { EngineServer } from '../core/engine/engineServer';
import type { EngineRequest, EngineResponse, LoadSpec } from '../core/engine/protocol';
import { LmError } from '../core/errors';
import { backendById } from './backends/registry';

/** Opens the model a `load` names, with its backend, from the disk. */
async function open(spec: LoadSpec) {
  if (!('path' in spec.source)) throw new LmError('a Node engine opens models from the disk: the load gave file bytes instead of a path');
  // A Node engine has no WebGPU: that device means a webview's worker, and here the best runtime there is.
  const device = spec.device === 'webgpu' ? 'auto' : spec.device;
  // Every host of an engine holds the model's tokenizer (WorkerLanguageModel).
  return backendById(spec.backend).open(
    { location: spec.source.path, name: spec.name },
    { device, threads: spec.threads, dtype: spec.dtype, tokenizerOnHost: true },
  );
}

/**
 * Answers requests with `post`; `closed` runs once `dispose` has been answered, and the engine
 * then ends by itself. Returns the handler of each incoming request.
 */
export function serveEngine(post: (response: EngineResponse, transfer: ArrayBuffer[]) => void, closed: () => void): (req: EngineRequest) => void {
  const server = new EngineServer(async (spec) => ({ model: await open(spec) }), post);
  // Requests are handled one at a time, in order: the model's KV cache follows one sequence.
  // `dispose` comes after the run in progress, releases the model, and then the engine ends by
  // itself: the host never stops it, since terminating a worker inside onnxruntime-node's
  // `session.run` aborts the whole process. A warm-up starts after the requests before it but
  // does not hold up those after it: they reach the model, which serialises them and for which
  // the warm-up gives way between two passes. Nor does a request beside the host's generation (inTurn).
  let queue = Promise.resolve();
  return (req) => {
    if (req.op === 'cancel') void server.handle(req);
    else if (req.op === 'warmContext') void queue.then(() => server.handle(req));
    else if (req.op === 'dispose') queue = queue.then(() => server.handle(req)).then(closed);
    else queue = queue.then(() => server.inTurn(req));
  };
}

/**
 * Lowers the engine's priority (on Linux the calling thread's, and that of the threads it starts
 * later: llama.cpp's and onnxruntime's), so that loading and running a model give way to the
 * extension host's thread, which must answer the editor.
 */
export function lowerPriority(): void {
  try {
    os.setPriority(10);
  } catch {
    // not permitted or not supported: the engine runs at the host's priority
  }
}
