/**
 * Runs a neural model in a Node worker thread, so that inference never blocks the extension host;
 * the host keeps only the tokenizer.
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import { EngineConnection, RemoteLanguageModel } from '../core/engine/engineClient';
import type { EngineResponse } from '../core/engine/protocol';
import { LmError } from '../core/errors';
import type { NodeWorkerSpec } from './engineWorker';
import { hostSide } from './neuralLoader';

export async function startNeuralWorker(spec: NodeWorkerSpec): Promise<RemoteLanguageModel> {
  const worker = new Worker(path.join(__dirname, 'engineWorker.js'));
  const connection = new EngineConnection((req) => worker.postMessage(req));
  worker.on('message', (res: EngineResponse) => connection.receive(res));
  worker.on('error', (e) => connection.fail(new LmError(`the model worker failed: ${e.message}`)));
  worker.on('exit', (code) => connection.fail(new LmError(`the model worker stopped (exit code ${code})`)));
  try {
    const loaded = await connection.request({ op: 'load', spec });
    const { tokenizer } = hostSide(spec.dir, spec.preferQuantized);
    return new RemoteLanguageModel(connection, loaded.model!, tokenizer, () => void worker.terminate());
  } catch (e) {
    void worker.terminate();
    throw e;
  }
}
