/**
 * Script of the engine webview: runs the engine in a blob-URL Web Worker and relays the engine
 * protocol between the extension and the worker. Model files and the .wasm binary are fetched here
 * (webview resource URLs) and transferred to the worker, which cannot load them itself.
 */
import type { EngineRequest, EngineResponse } from '../core/engine/protocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface PageConfig {
  workerUrl: string;
  wasmUrl: string;
}

/** What the extension sends: engine requests; a `load` names model file URLs instead of contents. */
type FromExtension = { type: 'request'; request: EngineRequest & { files?: Record<string, string> } };

const vscode = acquireVsCodeApi();
const config = JSON.parse(document.getElementById('engine-config')!.textContent!) as PageConfig;
const status = document.getElementById('status')!;
const show = (text: string) => (status.textContent = text);

async function fetchOk(url: string): Promise<Response> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r;
}

async function start(): Promise<void> {
  const source = await (await fetchOk(config.workerUrl)).text();
  const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
  const wasm = fetchOk(config.wasmUrl).then((r) => r.arrayBuffer());
  worker.onmessage = (e: MessageEvent<EngineResponse>) => {
    const res = e.data;
    // Webview messages are serialised: plain arrays cross reliably.
    const out = res.ok ? { ...res, logProbs: res.logProbs && Array.from(res.logProbs), ranks: res.ranks && Array.from(res.ranks) } : res;
    if (res.ok && res.model) show(`${res.model.name} on ${res.model.device}`);
    vscode.postMessage({ type: 'response', response: out });
  };
  worker.onerror = (e) => vscode.postMessage({ type: 'fatal', error: `engine worker: ${e.message}` });
  window.addEventListener('message', async (e: MessageEvent<FromExtension>) => {
    if (e.data?.type !== 'request') return;
    const req = e.data.request;
    if (req.op === 'load' && req.files) {
      try {
        show('loading the model…');
        const f = req.files;
        const [config, tokenizer, tokenizerConfig, onnx, wasmBinary] = await Promise.all([
          fetchOk(f.config).then((r) => r.json()),
          fetchOk(f.tokenizer).then((r) => r.json()),
          f.tokenizerConfig ? fetchOk(f.tokenizerConfig).then((r) => r.json()) : undefined,
          fetchOk(f.onnx).then((r) => r.arrayBuffer()),
          wasm,
        ]);
        const spec = { ...(req.spec as object), config, tokenizer, tokenizerConfig, onnx, wasmBinary };
        worker.postMessage({ id: req.id, op: 'load', spec }, [onnx, wasmBinary]);
      } catch (err) {
        vscode.postMessage({ type: 'response', response: { id: req.id, ok: false, error: (err as Error).message, kind: 'format' } });
      }
      return;
    }
    worker.postMessage(req);
  });
  const gpu = (navigator as unknown as { gpu?: unknown }).gpu;
  show(gpu ? 'ready (WebGPU available)' : 'ready (no WebGPU: WASM)');
  vscode.postMessage({ type: 'ready', webgpu: !!gpu });
}

start().catch((e) => vscode.postMessage({ type: 'fatal', error: (e as Error).message }));
