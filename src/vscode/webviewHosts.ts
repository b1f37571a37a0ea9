/**
 * Webviews that can run the extension's neural model on the window's GPU: an open playground
 * whose window has a WebGPU adapter. With `lmPlayground.device: auto` the model service moves
 * neural models there while one is open, and back to the native runtime when it closes.
 *
 * A page cannot make itself the host: only a webview the extension registered when it created it
 * for this purpose may claim, once, with `webgpu: true`; a claim that the first load disproves
 * (the engine ran on something else) withdraws the page for good. No vscode import: unit-tested.
 */
import type { EngineWebview } from './webviewEngineHost';

interface Disposable {
  dispose(): void;
}

/** A host page; its webview is the identity that is checked. */
export interface HostPage {
  webview: object;
}

export class WebviewHosts<H extends HostPage = EngineWebview> implements Disposable {
  /** Webviews the extension created to host the engine, while they are open. */
  private readonly registered = new Set<object>();
  /** Webviews that claimed already (accepted or not): one claim per page. */
  private readonly claimed = new Set<object>();
  private host: H | undefined;
  private readonly listeners = new Set<() => void>();

  /** The host to use, if any page's claim to a GPU adapter was accepted and still stands. */
  get gpuHost(): H | undefined {
    return this.host;
  }

  onDidChange(listener: () => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** The extension created `webview` to (possibly) host the engine; call `unregister` when it is disposed. */
  register(webview: object): void {
    this.registered.add(webview);
  }

  /** The webview is gone: it cannot claim, and stops being the host. */
  unregister(webview: object): void {
    this.registered.delete(webview);
    this.claimed.delete(webview);
    this.withdraw(webview);
  }

  /**
   * A page reported `webgpu` (a message: untrusted data). Accepted only from a registered webview,
   * for its first claim, and only for `true`; returns whether the page is now the host.
   */
  claim(host: H, webgpu: unknown): boolean {
    const w = host.webview;
    if (!this.registered.has(w) || this.claimed.has(w)) return false;
    this.claimed.add(w);
    if (webgpu !== true) return false;
    this.host = host;
    this.fire();
    return true;
  }

  /** The page's engine did not run on WebGPU after all: it stops being the host and cannot claim again. */
  refute(webview: object): void {
    this.withdraw(webview);
  }

  private withdraw(webview: object): void {
    if (this.host?.webview !== webview) return;
    this.host = undefined;
    this.fire();
  }

  private fire(): void {
    for (const l of [...this.listeners]) l();
  }

  dispose(): void {
    this.listeners.clear();
    this.registered.clear();
    this.host = undefined;
  }
}
