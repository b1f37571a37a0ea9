/**
 * The engine protocol relayed between the extension and a Web Worker in a webview page: the
 * extension's requests come in as messages, the worker's responses go back. Model files and the
 * .wasm binary are fetched here (webview resource URLs) and transferred to the worker, which
 * cannot load them itself. Used by the LM Engine panel and by the playground, which both can host
 * the extension's neural model on the window's GPU.
 */
import type { EngineRequest, EngineResponse } from '../core/engine/protocol';

/** What the extension sends: engine requests; a `load` names model file URLs instead of contents. */
export type RelayRequest = EngineRequest & { files?: Record<string, string> };

export type RelayMessage =
  | { type: 'ready'; webgpu: boolean }
  | { type: 'response'; response: unknown }
  | { type: 'fatal'; error: string };

export interface EngineRelay {
  handle(request: RelayRequest): Promise<void>;
}

async function fetchOk(url: string): Promise<Response> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r;
}

/** Starts the worker; `post` sends to the extension; `onStatus` describes what the engine does. */
export async function startEngineRelay(workerUrl: string, wasmUrl: string, post: (m: RelayMessage) => void, onStatus: (text: string) => void = () => undefined): Promise<EngineRelay> {
  const source = await (await fetchOk(workerUrl)).text();
  const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
  const wasm = fetchOk(wasmUrl).then((r) => r.arrayBuffer());
  worker.onmessage = (e: MessageEvent<EngineResponse>) => {
    const res = e.data;
    // Webview messages are serialised: plain arrays cross reliably.
    const out = res.ok ? { ...res, logProbs: res.logProbs && Array.from(res.logProbs), ranks: res.ranks && Array.from(res.ranks) } : res;
    if (res.ok && res.model) onStatus(`${res.model.name} on ${res.model.device}`);
    post({ type: 'response', response: out });
  };
  worker.onerror = (e) => post({ type: 'fatal', error: `engine worker: ${e.message}` });
  const gpu = (navigator as unknown as { gpu?: unknown }).gpu;
  onStatus(gpu ? 'ready (WebGPU available)' : 'ready (no WebGPU: WASM)');
  post({ type: 'ready', webgpu: !!gpu });
  return {
    async handle(req: RelayRequest): Promise<void> {
      if (req.op !== 'load' || !req.files) {
        worker.postMessage(req);
        return;
      }
      try {
        onStatus('loading the model…');
        const f = req.files;
        const [config, tokenizer, tokenizerConfig, onnx, wasmBinary] = await Promise.all([
          fetchOk(f.config).then((r) => r.json()),
          fetchOk(f.tokenizer).then((r) => r.json()),
          f.tokenizerConfig ? fetchOk(f.tokenizerConfig).then((r) => r.json()) : undefined,
          fetchOk(f.onnx).then((r) => r.arrayBuffer()),
          wasm.then((b) => b.slice(0)),
        ]);
        const spec = { ...(req.spec as object), config, tokenizer, tokenizerConfig, onnx, wasmBinary };
        worker.postMessage({ id: req.id, op: 'load', spec }, [onnx, wasmBinary]);
      } catch (err) {
        post({ type: 'response', response: { id: req.id, ok: false, error: (err as Error).message, kind: 'format' } });
      }
    },
  };
}
