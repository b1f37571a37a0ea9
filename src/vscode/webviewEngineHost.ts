/**
 * Runs a model in a webview's Web Worker, on WebGPU when its backend runs there (WASM where the
 * webview has no adapter). The webview is either the LM Engine panel (device "webgpu") or an open
 * playground (device "auto" picks it when its window has WebGPU); the page relays the engine
 * protocol (webview/engineRelay.ts, webview/relayMessages.ts).
 */
import * as vscode from 'vscode';
import { WorkerLanguageModel } from '../core/engine/engineClient';
import { LmError } from '../core/errors';
import type { ModelBackend, ModelLocation, OpenOptions } from '../node/backends/backend';
import type { OrtBinaryUrls } from '../webview/ortBinaries';
import type { RelayFromPage, RelayToPage } from '../webview/relayMessages';
import { RelayConnection } from './relayConnection';
import { answerFileRead, fileNamesForPage, modelFilesForPage, pageResourceRoots, type PageModelFiles } from './pageModelFiles';
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

/** A model of a backend that runs in a webview, as the registry recognised it. */
export type WebviewModel = ModelLocation & { backend: ModelBackend };

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
  /** Whether that adapter computes float16 (shader-f16), once known: dtype auto leaves float16 graphs out where it does not. */
  float16?: boolean;
}

/**
 * Loads `model` into the webview's engine; `stop` runs when the model is disposed. `device`:
 * `auto` runs on the page's GPU only when it is a real one, `webgpu` on any adapter.
 */
export async function connectWebviewEngine(
  host: EngineWebview,
  model: WebviewModel,
  options: OpenOptions,
  stop: () => void,
  device: 'auto' | 'webgpu' = 'auto',
): Promise<WorkerLanguageModel> {
  const { backend, name } = model;
  const w = host.webview;
  const post = (m: RelayToPage) => void w.postMessage(m);
  const relay = new RelayConnection(post);
  const { connection } = relay;
  // The model's files, which the page asks for piece by piece during the load (set once they are known).
  let files: PageModelFiles | undefined;
  const subscriptions = [
    w.onDidReceiveMessage(async (m: RelayFromPage) => {
      if (m.type !== 'readFile') return relay.receive(m);
      if (files) post(await answerFileRead(files, m));
      else post({ type: 'filePiece', read: m.read, error: 'the extension is not loading a model into this page' });
    }),
    host.onDidDispose(() => relay.close('the webview that ran the model was closed')),
  ];
  const release = () => {
    for (const s of subscriptions) s.dispose();
    stop();
  };
  try {
    if (!backend.hostTokenizer) throw new LmError(`the ${backend.id} backend declares no tokenizer for the host: its models cannot run in a webview`);
    const tokenizer = await backend.hostTokenizer(model, options);
    // The graph is chosen for where the page computes: on its GPU, or on WASM.
    const webgpu = await host.ready;
    const chosen = modelFilesForPage(model, { ...options, webview: { runtime: webgpu ? 'webgpu' : 'wasm', float16: host.float16 } });
    // The page has no resource root in the model's folder: it asks for the files' bytes, the
    // files of the graph the options chose (webviewFiles), during the load and no longer.
    files = chosen;
    const loaded = await connection
      .request({
        op: 'load',
        spec: { backend: backend.id, name, source: { fromExtension: fileNamesForPage(chosen) }, device, runtime: chosen.runtime },
      })
      .finally(() => (files = undefined));
    if (host.refute && loaded.model.device !== 'webgpu') {
      // The claim is checked by the load itself: without WebGPU the native runtime is the better place.
      void connection.request({ op: 'dispose' }).catch(() => undefined);
      host.refute();
      throw new LmError(
        `the playground's window reported a WebGPU adapter, but its engine loaded ${name} on ${loaded.model.device ?? 'an unknown device'}; the model runs in a worker thread instead`,
      );
    }
    const dispose = () =>
      void connection
        .request({ op: 'dispose' })
        .catch(() => undefined)
        .finally(release);
    return new WorkerLanguageModel(connection, loaded.model, tokenizer, dispose, relay);
  } catch (e) {
    release();
    throw e;
  }
}

/** Relay messages of a webview: resolves `ready` at the page's first `ready` (whether it has WebGPU, with float16, and a software adapter's name), rejects on `fatal`. */
export function relayReady(webview: vscode.Webview): Promise<{ webgpu: boolean; float16: boolean; software?: string }> {
  return new Promise((resolve, reject) => {
    const sub = webview.onDidReceiveMessage((m: RelayFromPage) => {
      if (m.type === 'ready') {
        sub.dispose();
        // The adapter's name is the page's (untrusted text): kept short.
        const software = m.adapter?.present === true && m.adapter.software === true ? String(m.adapter.name).slice(0, 100) : undefined;
        resolve({ webgpu: m.webgpu === true, float16: m.adapter?.float16 === true, software });
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
  model: WebviewModel,
  options: OpenOptions,
  onClosed: () => void,
  onSoftwareAdapter: (adapter: string) => void,
): Promise<WorkerLanguageModel> {
  const { name } = model;
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
      // The user asked for WebGPU, so it runs there, but a software renderer is far slower than the CPU runtimes (drive19 M2).
      if (r.software !== undefined) onSoftwareAdapter(r.software);
      return r.webgpu;
    }),
    onDidDispose: panel.onDidDispose,
  };
  return connectWebviewEngine(host, model, options, () => panel.dispose(), 'webgpu');
}
