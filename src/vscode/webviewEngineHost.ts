/**
 * Runs a neural model in a webview's Web Worker on WebGPU (WASM where the webview has no adapter).
 * The webview is either the LM Engine panel (device "webgpu") or an open playground (device
 * "auto" picks it when its window has WebGPU); the page relays the engine protocol
 * (webview/engineRelay.ts).
 */
import * as vscode from 'vscode';
import { EngineConnection, RemoteLanguageModel } from '../core/engine/engineClient';
import type { EngineResponse } from '../core/engine/protocol';
import { LmError } from '../core/errors';
import type { DtypeRequest } from '../core/neural/onnxVariants';
import { chooseFolderGraph, hostSide } from '../node/neuralLoader';
import type { OrtBinaryUrls } from '../webview/ortBinaries';
import { neuralFilesForPage, pageResourceRoots, readModelFileForPage, type PageModelFiles } from './pageModelFiles';
import { contentSecurityPolicy, escapeHtml, nonce } from './webviewHtml';

/** The folders an engine webview loads its worker and onnxruntime-web binaries from; never a model's (its files are posted). */
export function engineResourceRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return pageResourceRoots(extensionUri.fsPath).map((d) => vscode.Uri.file(d));
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

type RelayMessage = {
  type: string;
  webgpu?: boolean;
  adapter?: { float16?: unknown };
  response?: EngineResponse & { logProbs?: number[]; ranks?: number[] };
  error?: string;
};

/** A webview whose page runs an engine relay: it says `ready` once, then answers requests. */
export interface EngineWebview {
  webview: vscode.Webview;
  /** Resolves when the page's relay is ready (with whether it has WebGPU). */
  ready: Promise<boolean>;
  onDidDispose: vscode.Event<void>;
  /** For a page that claimed WebGPU: called when the load shows that its engine does not run on it. */
  refute?: () => void;
  /** The page's WebGPU adapter as it named it ("google ampere …"), for the log: untrusted text. */
  adapter?: string;
  /** Whether that adapter computes float16 (shader-f16), once known: float16 graphs are left out by dtype auto where it does not. */
  float16?: boolean;
}

/**
 * Loads the model folder `dir` into the webview's engine; `stop` runs when the model is disposed.
 * `device`: `auto` runs on the page's GPU only when it is a real one, `webgpu` on any adapter.
 */
export async function connectWebviewEngine(
  host: EngineWebview,
  dir: string,
  name: string,
  dtype: DtypeRequest,
  stop: () => void,
  device: 'auto' | 'webgpu' = 'auto',
): Promise<RemoteLanguageModel> {
  const { tokenizer } = hostSide(dir);
  const w = host.webview;
  // The graph is chosen once the page says whether it computes on a GPU.
  let model: PageModelFiles | undefined;
  const connection = new EngineConnection((request) => {
    if (request.op !== 'load' || !model) return void w.postMessage({ type: 'request', request });
    // The load carries the files' bytes: the page has no resource root in the model's folder.
    const files = model;
    const names = Object.keys(files.files);
    Promise.all(names.map((n) => readModelFileForPage(files, n))).then(
      (buffers) => w.postMessage({ type: 'request', request: { ...request, files: Object.fromEntries(names.map((n, i) => [n, buffers[i]])) } }),
      (e: unknown) => connection.fail(e instanceof Error ? e : new LmError(String(e))),
    );
  });
  const subscriptions = [
    w.onDidReceiveMessage((m: RelayMessage) => {
      if (m.type === 'fatal') connection.fail(new LmError(`the webview engine failed: ${m.error}`));
      else if (m.type === 'response' && m.response) {
        const r = m.response;
        connection.receive(
          r.ok ? { ...r, logProbs: r.logProbs && Float64Array.from(r.logProbs), ranks: r.ranks && Int32Array.from(r.ranks) } : (r as EngineResponse),
        );
      }
    }),
    host.onDidDispose(() => connection.close(new LmError('the webview that ran the model was closed'))),
  ];
  const release = () => {
    for (const s of subscriptions) s.dispose();
    stop();
  };
  try {
    const webgpu = await host.ready;
    model = neuralFilesForPage(dir, chooseFolderGraph(dir, dtype, webgpu ? 'webgpu' : 'wasm', host.float16));
    const loaded = await connection.request({ op: 'load', spec: { name, device, onnxFile: model.graph?.path, dtype: model.graph?.dtype } });
    if (host.refute && loaded.model?.device !== 'webgpu') {
      // The claim is checked by the load itself: without WebGPU the native runtime is the better place.
      void connection.request({ op: 'dispose' }).catch(() => undefined);
      host.refute();
      throw new LmError(
        `the playground's window reported a WebGPU adapter, but its engine loaded ${name} on ${loaded.model?.device ?? 'an unknown device'}; the model runs in a worker thread instead`,
      );
    }
    const dispose = () =>
      void connection
        .request({ op: 'dispose' })
        .catch(() => undefined)
        .finally(release);
    return new RemoteLanguageModel(connection, loaded.model!, tokenizer, dispose);
  } catch (e) {
    release();
    throw e;
  }
}

/** Relay messages of a webview: resolves `ready` at the page's first `ready` (whether it has WebGPU, with float16), rejects on `fatal`. */
export function relayReady(webview: vscode.Webview): Promise<{ webgpu: boolean; float16: boolean }> {
  return new Promise((resolve, reject) => {
    const sub = webview.onDidReceiveMessage((m: RelayMessage) => {
      if (m.type === 'ready') {
        sub.dispose();
        resolve({ webgpu: !!m.webgpu, float16: m.adapter?.float16 === true });
      } else if (m.type === 'fatal') {
        sub.dispose();
        reject(new LmError(`the webview engine failed: ${m.error}`));
      }
    });
  });
}

/**
 * The LM Engine panel (device "webgpu"): the user asked for the GPU, so it runs there on any
 * adapter, a software one too; `onClosed` runs when the user closes it, which stops the model.
 */
export async function startWebviewEngine(
  extensionUri: vscode.Uri,
  dir: string,
  name: string,
  dtype: DtypeRequest,
  onClosed: () => void,
): Promise<RemoteLanguageModel> {
  const webviewDir = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
  const panel = vscode.window.createWebviewPanel(
    'lmPlayground.engine',
    `LM Engine: ${name}`,
    { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
    { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: engineResourceRoots(extensionUri) },
  );
  const w = panel.webview;
  const n = nonce();
  const pageConfig = engineWorkerUrls(w, extensionUri);
  const relay = relayReady(w);
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
  const host: EngineWebview = {
    webview: w,
    ready: relay.then((r) => {
      host.float16 = r.float16;
      return r.webgpu;
    }),
    onDidDispose: panel.onDidDispose,
  };
  return connectWebviewEngine(host, dir, name, dtype, () => panel.dispose(), 'webgpu');
}
