/**
 * Webviews that can run the extension's neural model on the window's GPU: an open playground
 * whose window has a WebGPU adapter. With `lmPlayground.device: auto` the model service moves
 * neural models there while one is open, and back to the native runtime when it closes.
 */
import * as vscode from 'vscode';
import type { EngineWebview } from './webviewEngineHost';

export class WebviewHosts implements vscode.Disposable {
  private host: EngineWebview | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  /** The host to use, if any has a GPU adapter. */
  get gpuHost(): EngineWebview | undefined {
    return this.host;
  }

  /** Offers a webview whose relay reported WebGPU; withdrawn when it is disposed. */
  offer(host: EngineWebview): void {
    this.host = host;
    host.onDidDispose(() => {
      if (this.host !== host) return;
      this.host = undefined;
      this.changed.fire();
    });
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}
