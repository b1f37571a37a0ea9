/** Entry point of the engine's Node worker thread: one model of any backend of the registry, answering the engine protocol. */
import * as os from 'os';
import { parentPort } from 'worker_threads';
import { EngineServer } from '../core/engine/engineServer';
import type { EngineRequest, LoadSpec } from '../core/engine/protocol';
import { LmError } from '../core/errors';
import { backendById } from './backends/registry';

const port = parentPort;
if (!port) throw new Error('engineWorker must run in a worker thread');

// On Linux a thread's nice value is its own: this worker (loading a large model, running one) gives
// way to the extension host's thread, which must answer the editor.
try {
  os.setPriority(10);
} catch {
  // not permitted or not supported: the worker runs at the host's priority
}

/** Opens the model a `load` names, with its backend, from the disk. */
async function open(spec: LoadSpec) {
  if (!('path' in spec.source)) throw new LmError('a Node worker opens models from the disk: the load gave file bytes instead of a path');
  // A Node worker has no WebGPU: that device means a webview's worker, and here the best runtime there is.
  const device = spec.device === 'webgpu' ? 'auto' : spec.device;
  return backendById(spec.backend).open({ location: spec.source.path, name: spec.name }, { device, threads: spec.threads, dtype: spec.dtype });
}

const server = new EngineServer(
  async (spec) => ({ model: await open(spec) }),
  (response, transfer) => port.postMessage(response, transfer),
);

// Requests are handled one at a time, in order: the model's KV cache follows one sequence.
// `dispose` comes after the run in progress, releases the session, and then this worker exits by
// itself: the host never terminates it, since terminating a worker inside `session.run` aborts
// the whole process (onnxruntime-node). A warm-up starts after the requests before it but does
// not hold up those after it: they reach the model, which serialises them and for which the
// warm-up gives way between two passes.
let queue = Promise.resolve();
port.on('message', (req: EngineRequest) => {
  if (req.op === 'cancel') void server.handle(req);
  else if (req.op === 'warmContext') void queue.then(() => server.handle(req));
  else if (req.op === 'dispose') queue = queue.then(() => server.handle(req)).then(() => port.close());
  else queue = queue.then(() => server.handle(req));
});
