/**
 * The engine protocol relayed between the extension and a Web Worker in a webview page: the
 * extension's requests come in as messages, the worker's responses go back. A `load` carries the
 * model files' bytes (the page has no resource root in the model's folder); they and the .wasm
 * binary, fetched here, are transferred to the worker, which cannot load them itself. Used by the LM Engine panel and by the playground, which both can host
 * the extension's neural model on the window's GPU.
 */
import type { EngineRequest, EngineResponse } from '../core/engine/protocol';
import type { AdapterReport } from './gpuAdapter';
import { OrtBinaryCache, hasWebGpuAdapter, webGpuAdapter, type OrtBinaryUrls } from './ortBinaries';

/** What the extension sends: engine requests; a `load` carries the model files (config, tokenizer, tokenizerConfig?, generationConfig?, onnx, data:LOCATION…). */
export type RelayRequest = EngineRequest & { files?: Record<string, ArrayBuffer | undefined> };

export type RelayMessage =
  { type: 'ready'; webgpu: boolean; adapter: AdapterReport } | { type: 'response'; response: unknown } | { type: 'fatal'; error: string };

export interface EngineRelay {
  handle(request: RelayRequest): Promise<void>;
}

/** The graph's external data files among a load's files (named `data:LOCATION`), as the worker's load spec takes them. */
export function externalDataOf(files: Record<string, ArrayBuffer | undefined>): { path: string; data: ArrayBuffer }[] {
  const out: { path: string; data: ArrayBuffer }[] = [];
  for (const [name, data] of Object.entries(files)) if (name.startsWith('data:') && data) out.push({ path: name.slice('data:'.length), data });
  return out;
}

async function fetchOk(url: string): Promise<Response> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r;
}

/** Starts the worker; `post` sends to the extension; `onStatus` describes what the engine does. */
export async function startEngineRelay(
  workerUrl: string,
  binaryUrls: OrtBinaryUrls,
  post: (m: RelayMessage) => void,
  onStatus: (text: string) => void = () => undefined,
): Promise<EngineRelay> {
  const source = await (await fetchOk(workerUrl)).text();
  const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
  const binaries = new OrtBinaryCache(binaryUrls);
  worker.onmessage = (e: MessageEvent<EngineResponse>) => {
    const res = e.data;
    // Webview messages are serialised: plain arrays cross reliably.
    const out = res.ok ? { ...res, logProbs: res.logProbs && Array.from(res.logProbs), ranks: res.ranks && Array.from(res.ranks) } : res;
    if (res.ok && res.model) onStatus(`${res.model.name} on ${res.model.device}`);
    post({ type: 'response', response: out });
  };
  worker.onerror = (e) => post({ type: 'fatal', error: `engine worker: ${e.message}` });
  const adapter = await webGpuAdapter();
  const webgpu = await hasWebGpuAdapter('auto');
  onStatus(
    webgpu ? `ready (WebGPU: ${adapter.name})` : adapter.present ? `ready (software WebGPU adapter, ${adapter.name})` : 'ready (no WebGPU adapter: WASM)',
  );
  post({ type: 'ready', webgpu, adapter });
  return {
    async handle(req: RelayRequest): Promise<void> {
      if (req.op !== 'load' || !req.files) {
        worker.postMessage(req);
        return;
      }
      try {
        onStatus('loading the model…');
        const f = req.files;
        const device = (req.spec as { device?: 'auto' | 'webgpu' | 'wasm' }).device ?? 'auto';
        const json = (name: string, b: ArrayBuffer | undefined): unknown => {
          if (!b) throw new Error(`the load request has no ${name}`);
          return JSON.parse(new TextDecoder().decode(b));
        };
        const config = json('config', f.config);
        const tokenizer = json('tokenizer', f.tokenizer);
        const tokenizerConfig = f.tokenizerConfig ? json('tokenizerConfig', f.tokenizerConfig) : undefined;
        const generationConfig = f.generationConfig ? json('generationConfig', f.generationConfig) : undefined;
        const onnx = f.onnx;
        if (!onnx) throw new Error('the load request has no ONNX graph');
        const externalData = externalDataOf(f);
        const ort = await binaries.forDevice(device);
        const spec = { ...(req.spec as object), config, tokenizer, tokenizerConfig, generationConfig, onnx, externalData, wasmBinaries: ort.binaries };
        worker.postMessage({ id: req.id, op: 'load', spec }, [onnx, ...externalData.map((d) => d.data), ...ort.transfer]);
      } catch (err) {
        post({ type: 'response', response: { id: req.id, ok: false, error: (err as Error).message, kind: 'format' } });
      }
    },
  };
}
