/** Entry point of the engine's Node worker thread: one neural model, answering the engine protocol. */
import { parentPort } from 'worker_threads';
import { EngineServer } from '../core/engine/engineServer';
import type { EngineRequest } from '../core/engine/protocol';
import type { DtypeRequest } from '../core/neural/onnxVariants';
import { loadHuggingFaceFolder, type NodeDevice } from './neuralLoader';

export interface NodeWorkerSpec {
  dir: string;
  name: string;
  device: NodeDevice;
  threads?: number;
  dtype?: DtypeRequest;
}

const port = parentPort;
if (!port) throw new Error('engineWorker must run in a worker thread');

const server = new EngineServer(
  async (spec) => {
    const s = spec as NodeWorkerSpec;
    return { model: await loadHuggingFaceFolder(s.dir, s.name, { device: s.device, threads: s.threads, dtype: s.dtype }) };
  },
  (response, transfer) => port.postMessage(response, transfer),
);

// Requests are handled one at a time, in order: the model's KV cache follows one sequence.
// `dispose` comes after the run in progress, releases the session, and then this worker exits by
// itself: the host never terminates it, since terminating a worker inside `session.run` aborts
// the whole process (onnxruntime-node).
let queue = Promise.resolve();
port.on('message', (req: EngineRequest) => {
  if (req.op === 'cancel') void server.handle(req);
  else if (req.op === 'dispose') queue = queue.then(() => server.handle(req)).then(() => port.close());
  else queue = queue.then(() => server.handle(req));
});
