/**
 * Runs a neural model in a webview's Web Worker on WebGPU (WASM where the webview has no adapter):
 * the "webgpu" device. The panel shows which device runs the model.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { EngineConnection, RemoteLanguageModel } from '../core/engine/engineClient';
import type { EngineResponse } from '../core/engine/protocol';
import { LmError } from '../core/errors';
import { hostSide } from '../node/neuralLoader';
import { contentSecurityPolicy, escapeHtml, nonce } from './webviewHtml';

/** `onClosed` runs when the user closes the panel, which stops the model. */
export async function startWebviewEngine(extensionUri: vscode.Uri, dir: string, name: string, preferQuantized: boolean, onClosed: () => void): Promise<RemoteLanguageModel> {
  const { tokenizer, onnxRel, hasTokenizerConfig } = hostSide(dir, preferQuantized);
  const tokenizerConfigFile = path.join(dir, 'tokenizer_config.json');
  const webviewDir = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
  const panel = vscode.window.createWebviewPanel(
    'lmPlayground.engine',
    `LM Engine: ${name}`,
    { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
    { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [webviewDir, vscode.Uri.file(dir)] },
  );
  const w = panel.webview;
  const n = nonce();
  const pageConfig = {
    workerUrl: w.asWebviewUri(vscode.Uri.joinPath(webviewDir, 'engineWorker.js')).toString(),
    wasmUrl: w.asWebviewUri(vscode.Uri.joinPath(webviewDir, 'ort-wasm-simd-threaded.asyncify.wasm')).toString(),
  };
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

  const connection = new EngineConnection((request) => {
    const files = request.op === 'load'
      ? {
          config: w.asWebviewUri(vscode.Uri.file(path.join(dir, 'config.json'))).toString(),
          tokenizer: w.asWebviewUri(vscode.Uri.file(path.join(dir, 'tokenizer.json'))).toString(),
          tokenizerConfig: hasTokenizerConfig ? w.asWebviewUri(vscode.Uri.file(tokenizerConfigFile)).toString() : undefined,
          onnx: w.asWebviewUri(vscode.Uri.file(path.join(dir, onnxRel))).toString(),
        }
      : undefined;
    void w.postMessage({ type: 'request', request: { ...request, files } });
  });
  const ready = new Promise<void>((resolve, reject) => {
    w.onDidReceiveMessage((m: { type: string; response?: EngineResponse & { logProbs?: number[]; ranks?: number[] }; error?: string }) => {
      if (m.type === 'ready') resolve();
      else if (m.type === 'fatal') {
        const e = new LmError(`the webview engine failed: ${m.error}`);
        reject(e);
        connection.fail(e);
      } else if (m.type === 'response' && m.response) {
        const r = m.response;
        connection.receive(
          r.ok ? { ...r, logProbs: r.logProbs && Float64Array.from(r.logProbs), ranks: r.ranks && Int32Array.from(r.ranks) } : (r as EngineResponse),
        );
      }
    });
  });
  panel.onDidDispose(() => {
    connection.fail(new LmError('the engine panel was closed'));
    onClosed();
  });
  try {
    await ready;
    const loaded = await connection.request({ op: 'load', spec: { name, device: 'auto' } });
    return new RemoteLanguageModel(connection, loaded.model!, tokenizer, () => panel.dispose());
  } catch (e) {
    panel.dispose();
    throw e;
  }
}
