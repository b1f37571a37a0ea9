/**
 * Status bar: a model server answered "busy" (429, 503) and requests wait before trying again.
 * Shown while any request waits, with the time left; logged once per wait. The waits are capped
 * (Retry-After 30 s, 45 s in all per request, remote/endpoint.ts), and end when their feature is
 * cancelled (Cancel on its progress, switching model).
 */
import * as vscode from 'vscode';
import { serverWaits, type ServerWait } from '../node/remote/endpoint';

export function createServerWaitStatus(log: vscode.LogOutputChannel): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('lmPlayground.serverWait', vscode.StatusBarAlignment.Right, 99);
  item.name = 'LM Playground server busy';
  item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
  const waiting = new Map<number, { server: string; status: number; until: number }>();
  let ticker: ReturnType<typeof setInterval> | undefined;

  const update = () => {
    const now = Date.now();
    let latest: { server: string; status: number; until: number } | undefined;
    for (const w of waiting.values()) if (!latest || w.until > latest.until) latest = w;
    if (!latest) {
      item.hide();
      if (ticker) clearInterval(ticker);
      ticker = undefined;
      return;
    }
    const left = Math.max(0, Math.ceil((latest.until - now) / 1000));
    const requests = waiting.size === 1 ? '1 request waits' : `${waiting.size} requests wait`;
    item.text = `$(watch) LM: server busy (${latest.status}), retrying in ${left} s`;
    item.tooltip = `${latest.server} answered ${latest.status} (busy): ${requests} before trying again. A request gives up after 45 s of such waits; Cancel on a feature's progress, or another model (LM: Select Model), stops it now.`;
    item.show();
  };

  const listener = (w: ServerWait) => {
    if (w.done) waiting.delete(w.request);
    else {
      waiting.set(w.request, { server: w.server, status: w.status, until: Date.now() + w.ms });
      log.info(`${w.server} is busy (${w.status}); a request retries in ${Math.round(w.ms / 1000)} s`);
      ticker ??= setInterval(update, 1000);
    }
    update();
  };
  serverWaits.add(listener);
  return vscode.Disposable.from(item, {
    dispose: () => {
      serverWaits.delete(listener);
      if (ticker) clearInterval(ticker);
    },
  });
}
