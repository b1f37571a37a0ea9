/**
 * The engine protocol relayed between the extension and a Web Worker in a webview page: the
 * extension's requests come in as messages, the worker's responses go back (relayMessages.ts). A
 * `load` names the model's files, which the page asks the extension for piece by piece and hands to
 * the worker as bytes (the page has no resource root in the model's folder); for
 * a model that runs on onnxruntime-web the page adds the .wasm binary it fetched, which the worker
 * cannot load itself. Used by the LM Engine panel and by the playground, which both can host the
 * extension's model on the window's GPU.
 */
import type { EngineRequest, EngineResponse, LoadSpec } from '../core/engine/protocol';
import { OrtBinaryCache, hasWebGpuAdapter, webGpuAdapter, type OrtBinaryUrls } from './ortBinaries';
import { completeLoad, startEngineWorker } from './engineWorkerStart';
import { describeFilesProgress, PieceRequests, receiveModelFiles } from './filePieces';
import { toRelay, type RelayFromPage, type RelayToPage } from './relayMessages';

export interface EngineRelay {
  /** A message of the extension: a request (a load's files are asked for first), or a piece of a file. */
  receive(m: RelayToPage): Promise<void>;
}

/** Starts the worker; `post` sends to the extension; `onStatus` describes what the engine does. */
export async function startEngineRelay(
  workerUrl: string,
  binaryUrls: OrtBinaryUrls,
  post: (m: RelayFromPage) => void,
  onStatus: (text: string) => void = () => undefined,
): Promise<EngineRelay> {
  const worker = await startEngineWorker(workerUrl);
  const binaries = new OrtBinaryCache(binaryUrls);
  worker.onmessage = (e: MessageEvent<EngineResponse>) => {
    const res = e.data;
    if (res.ok && 'result' in res && res.op === 'load') onStatus(`${res.result.model.name} on ${res.result.model.device ?? 'JavaScript'}`);
    post({ type: 'response', response: toRelay(res) });
  };
  // An uncaught error leaves the worker in an unknown state: it is stopped, and every later
  // request is answered with the reason at once (the extension moves the model elsewhere).
  let stopped: string | undefined;
  worker.onerror = (e) => {
    if (stopped) return;
    stopped = `engine worker: ${e.message}`;
    worker.terminate();
    onStatus(`stopped (${stopped})`);
    post({ type: 'fatal', error: stopped });
  };
  const adapter = await webGpuAdapter();
  const webgpu = await hasWebGpuAdapter('auto');
  onStatus(
    webgpu ? `ready (WebGPU: ${adapter.name})` : adapter.present ? `ready (software WebGPU adapter, ${adapter.name})` : 'ready (no WebGPU adapter: WASM)',
  );
  post({ type: 'ready', webgpu, adapter });
  const pieces = new PieceRequests();
  /** The load with its files' bytes, asked for piece by piece, the megabytes received said as they come. */
  const withFiles = async (spec: LoadSpec): Promise<LoadSpec> => {
    if (!('fromExtension' in spec.source)) return spec;
    const files = await receiveModelFiles(
      spec.source.fromExtension,
      (role, offset) => pieces.ask((read) => post({ type: 'readFile', read, role, offset })),
      (p) => onStatus(`loading the model… ${describeFilesProgress(p)}`),
    );
    return { ...spec, source: { files } };
  };
  const handle = async (req: EngineRequest): Promise<void> => {
    if (stopped) {
      if (req.op !== 'cancel') post({ type: 'response', response: { id: req.id, ok: false, error: `the engine stopped (${stopped})`, reason: 'error' } });
      return;
    }
    if (req.op !== 'load') {
      worker.postMessage(req);
      return;
    }
    try {
      onStatus('loading the model…');
      const { spec, transfer } = await completeLoad(await withFiles(req.spec), binaries);
      worker.postMessage({ ...req, spec }, transfer);
    } catch (err) {
      post({ type: 'response', response: { id: req.id, ok: false, error: (err as Error).message, reason: 'format' } });
    }
  };
  return {
    receive: async (m) => (m.type === 'filePiece' ? pieces.answer(m.read, m) : handle(m.request)),
  };
}
