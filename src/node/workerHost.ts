/**
 * Runs a neural model in a Node worker thread, so that inference never blocks the extension host;
 * the host keeps only the tokenizer.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { EngineConnection, RemoteLanguageModel } from '../core/engine/engineClient';
import type { EngineResponse } from '../core/engine/protocol';
import { LmError, ModelFormatError } from '../core/errors';
import { HuggingFaceTokenizer } from '../core/neural/hfTokenizer';
import { parseCausalLmConfig } from '../core/neural/onnxCausalLm';
import type { NodeWorkerSpec } from './engineWorker';

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ModelFormatError(`cannot read: ${(e as Error).message}`, file);
  }
}

export async function startNeuralWorker(spec: NodeWorkerSpec): Promise<RemoteLanguageModel> {
  const worker = new Worker(path.join(__dirname, 'engineWorker.js'));
  const connection = new EngineConnection((req) => worker.postMessage(req));
  worker.on('message', (res: EngineResponse) => connection.receive(res));
  worker.on('error', (e) => connection.fail(new LmError(`the model worker failed: ${e.message}`)));
  worker.on('exit', (code) => connection.fail(new LmError(`the model worker stopped (exit code ${code})`)));
  try {
    const loaded = await connection.request({ op: 'load', spec });
    const config = parseCausalLmConfig(readJson(path.join(spec.dir, 'config.json')));
    const tokenizerConfigFile = path.join(spec.dir, 'tokenizer_config.json');
    const tokenizer = new HuggingFaceTokenizer(
      readJson(path.join(spec.dir, 'tokenizer.json')),
      fs.existsSync(tokenizerConfigFile) ? readJson(tokenizerConfigFile) : undefined,
      config.bosId,
    );
    return new RemoteLanguageModel(connection, loaded.model!, tokenizer, () => void worker.terminate());
  } catch (e) {
    void worker.terminate();
    throw e;
  }
}
