/**
 * What every webview page that runs an engine Web Worker does the same way: start the worker from
 * its bundled source (a webview's worker cannot load a resource URL itself), and complete a `load`
 * with the onnxruntime-web binary the page fetched, listing the buffers to move rather than copy.
 * The playground (its own worker) and the relay (the extension's model on the window's GPU) share it.
 */
import type { LoadSpec } from '../core/engine/protocol';
import type { OrtBinaryCache } from './ortBinaries';

async function fetchOk(url: string): Promise<Response> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r;
}

/** A new engine worker from the worker bundle at `workerUrl`. */
export async function startEngineWorker(workerUrl: string): Promise<Worker> {
  const source = await (await fetchOk(workerUrl)).text();
  return new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
}

/** The load spec with the runtime binary it needs added, and the buffers (model files, binary) to transfer with it. */
export async function completeLoad(spec: LoadSpec, binaries: OrtBinaryCache): Promise<{ spec: LoadSpec; transfer: ArrayBuffer[] }> {
  const out = { ...spec };
  const transfer = 'files' in spec.source ? Object.values(spec.source.files).map((f) => f.bytes) : [];
  if (spec.runtime === 'onnxruntime-web') {
    const ort = await binaries.forDevice(spec.device === 'native' ? 'auto' : spec.device);
    out.wasmBinaries = ort.binaries;
    transfer.push(...ort.transfer);
  }
  return { spec: out, transfer };
}
