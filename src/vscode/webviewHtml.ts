/** Pieces every webview page of the extension uses: a nonce and a strict CSP. */
import * as vscode from 'vscode';

export function nonce(): string {
  let s = '';
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  for (let i = 0; i < 32; i++) s += chars[Math.floor(Math.random() * chars.length)];
  return s;
}

/** Only nonce-marked scripts and styles and the extension's own resources; no network. */
export function contentSecurityPolicy(webview: vscode.Webview, n: string, allow: { wasm?: boolean; blobWorkers?: boolean } = {}): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${n}'${allow.wasm ? " 'wasm-unsafe-eval'" : ''}`,
    `style-src 'nonce-${n}' ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `connect-src ${webview.cspSource}`,
    ...(allow.blobWorkers ? ['worker-src blob:'] : []),
  ].join('; ');
}

export function escapeHtml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
