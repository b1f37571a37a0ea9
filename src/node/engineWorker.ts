/** Entry point of the engine's Node worker thread: one model of any backend of the registry, answering the engine protocol. */
import { parentPort } from 'worker_threads';
import type { EngineRequest } from '../core/engine/protocol';
import { lowerPriority, serveEngine } from './engineService';

const port = parentPort;
if (!port) throw new Error('engineWorker must run in a worker thread');

lowerPriority();
const handle = serveEngine(
  (response, transfer) => port.postMessage(response, transfer),
  () => port.close(),
);
port.on('message', (req: EngineRequest) => handle(req));
