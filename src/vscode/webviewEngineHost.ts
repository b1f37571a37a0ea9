/**
 * Runs a neural model in a webview's Web Worker on WebGPU (WASM where the webview has no adapter).
 * The webview is either the LM Engine panel (device "webgpu") or an open playground (device
 * "auto" picks it when its window has WebGPU); the page relays the engine protocol
 * (webview/engineRelay.ts).
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { EngineConnection, RemoteLanguageModel } from '../core/engine/engineClient';
import type { EngineResponse } from '../core/engine/protocol';
import { LmError } from '../core/errors';
import { hostSide } from '../node/neuralLoader';
import type { OrtBinaryUrls } from '../webview/ortBinaries';
import { contentSecurityPolicy, escapeHtml, nonce } from './webviewHtml';

/** The folders an engine webview loads its worker and onnxruntime-web binaries from. */
export function engineResourceRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'dist', 'ort')];
}

/** Webview URLs of the engine worker and the .wasm of its two onnxruntime-web builds. */
export function engineWorkerUrls(w: vscode.Webview, extensionUri: vscode.Uri): { workerUrl: string; ortBinaries: OrtBinaryUrls } {
  const dist = vscode.Uri.joinPath(extensionUri, 'dist');
  const url = (...p: string[]) => w.asWebviewUri(vscode.Uri.joinPath(dist, ...p)).toString();
  return {
    workerUrl: url('webview', 'engineWorker.js'),
    // The WASM build's binary is the one the Node host's WASM backend runs (dist/ort/).
    ortBinaries: { webgpu: url('webview', 'ort-wasm-simd-threaded.asyncify.wasm'), wasm: url('ort', 'ort-wasm-simd-threaded.wasm') },
  };
}

type RelayMessage = { type: string; webgpu?: boolean; response?: EngineResponse & { logProbs?: number[]; ranks?: number[] }; error?: string };

/** A webview whose page runs an engine relay: it says `ready` once, then answers requests. */
export interface EngineWebview {
  webview: vscode.Webview;
  /** Resolves when the page's relay is ready (with whether it has WebGPU). */
  ready: Promise<boolean>;
  onDidDispose: vscode.Event<void>;
}

/** Loads the model folder `dir` into the webview's engine; `stop` runs when the model is disposed. */
export async function connectWebviewEngine(host: EngineWebview, dir: string, name: string, preferQuantized: boolean, stop: () => void): Promise<RemoteLanguageModel> {
  const { tokenizer, onnxRel, hasTokenizerConfig } = hostSide(dir, preferQuantized);
  const w = host.webview;
  const connection = new EngineConnection((request) => {
    const uri = (f: string) => w.asWebviewUri(vscode.Uri.file(path.join(dir, f))).toString();
    const files = request.op === 'load'
      ? { config: uri('config.json'), tokenizer: uri('tokenizer.json'), tokenizerConfig: hasTokenizerConfig ? uri('tokenizer_config.json') : undefined, onnx: uri(onnxRel) }
      : undefined;
    void w.postMessage({ type: 'request', request: { ...request, files } });
  });
  const subscriptions = [
    w.onDidReceiveMessage((m: RelayMessage) => {
      if (m.type === 'fatal') connection.fail(new LmError(`the webview engine failed: ${m.error}`));
      else if (m.type === 'response' && m.response) {
        const r = m.response;
        connection.receive(r.ok ? { ...r, logProbs: r.logProbs && Float64Array.from(r.logProbs), ranks: r.ranks && Int32Array.from(r.ranks) } : (r as EngineResponse));
      }
    }),
    host.onDidDispose(() => connection.close(new LmError('the webview that ran the model was closed'))),
  ];
  const release = () => {
    for (const s of subscriptions) s.dispose();
    stop();
  };
  try {
    await host.ready;
    const loaded = await connection.request({ op: 'load', spec: { name, device: 'auto' } });
    const dispose = () => void connection.request({ op: 'dispose' }).catch(() => undefined).finally(release);
    return new RemoteLanguageModel(connection, loaded.model!, tokenizer, dispose);
  } catch (e) {
    release();
    throw e;
  }
}

/** Relay messages of a webview: resolves `ready` at the page's first `ready`, rejects on `fatal`. */
export function relayReady(webview: vscode.Webview): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const sub = webview.onDidReceiveMessage((m: RelayMessage) => {
      if (m.type === 'ready') {
        sub.dispose();
        resolve(!!m.webgpu);
      } else if (m.type === 'fatal') {
        sub.dispose();
        reject(new LmError(`the webview engine failed: ${m.error}`));
      }
    });
  });
}

/** The LM Engine panel (device "webgpu"); `onClosed` runs when the user closes it, which stops the model. */
export async function startWebviewEngine(extensionUri: vscode.Uri, dir: string, name: string, preferQuantized: boolean, onClosed: () => void): Promise<RemoteLanguageModel> {
  const webviewDir = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
  const panel = vscode.window.createWebviewPanel(
    'lmPlayground.engine',
    `LM Engine: ${name}`,
    { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
    { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [...engineResourceRoots(extensionUri), vscode.Uri.file(dir)] },
  );
  const w = panel.webview;
  const n = nonce();
  const pageConfig = engineWorkerUrls(w, extensionUri);
  const ready = relayReady(w);
  w.html = `<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(w, n, { wasm: true, blobWorkers: true })}">
<style nonce="${n}">body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 1em; } #status { font-weight: bold; }</style>
</head><body>
<h2>LM Playground engine</h2>
<p>This panel runs <b>${escapeHtml(name)}</b> in a Web Worker, on WebGPU when this window has a GPU adapter, else on WebAssembly. Closing it stops the model.</p>
<p id="status">starting…</p>
<script nonce="${n}" id="engine-config" type="application/json">${JSON.stringify(pageConfig).replace(/</g, '\\u003c')}</script>
<script nonce="${n}" src="${w.asWebviewUri(vscode.Uri.joinPath(webviewDir, 'enginePage.js'))}"></script>
</body></html>`;
  panel.onDidDispose(onClosed);
  return connectWebviewEngine({ webview: w, ready, onDidDispose: panel.onDidDispose }, dir, name, preferQuantized, () => panel.dispose());
}
