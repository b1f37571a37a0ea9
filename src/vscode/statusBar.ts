/** Status bar entry: the active model, where it runs (and in which precision) and how fast it last generated; a click picks another. */
import * as path from 'path';
import * as vscode from 'vscode';
import { isRemoteSpec } from '../core/remote/remoteRef';
import { serverReachability, type ServerReachability } from '../node/remote/endpoint';
import type { ModelService } from './modelService';

/** How often a server that stopped answering is asked again, to show when it is back. */
const PING_MS = 5000;

export function createModelStatusBar(models: ModelService): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('lmPlayground.model', vscode.StatusBarAlignment.Right, 100);
  item.name = 'LM Playground model';
  item.command = 'lmPlayground.selectModel';
  /** The active model's server, while it does not answer: why, and the timer that asks it again. */
  let down: { origin: string; reason: string; timer: ReturnType<typeof setInterval> } | undefined;
  const serverOrigin = () => {
    const endpoint = models.current?.server?.endpoint;
    return endpoint ? new URL(endpoint).origin : undefined;
  };
  const up = () => {
    if (down) clearInterval(down.timer);
    down = undefined;
  };
  const onReachability = (r: ServerReachability) => {
    if (r.origin !== serverOrigin()) return;
    if (r.reachable) up();
    else if (down) down.reason = r.reason ?? down.reason;
    else {
      const server = models.current!.server!;
      let asking = false;
      const timer = setInterval(() => {
        if (asking) return;
        asking = true;
        // An answer tells the listeners (reachable); a failure keeps it down.
        void (server.ping?.() ?? Promise.resolve()).catch(() => undefined).finally(() => (asking = false));
      }, PING_MS);
      down = { origin: r.origin, reason: r.reason ?? 'no answer', timer };
    }
    update();
  };
  const update = () => {
    const m = models.current;
    if (down && down.origin !== serverOrigin()) up();
    if (m && down) {
      // The last speed and figures are not this server's state now: it does not answer.
      item.text = `$(debug-disconnect) ${m.info.name} · server unreachable`;
      item.tooltip = `LM Playground: ${m.info.description}\n\n${sentence(down.reason)}\n\nAsked again every ${PING_MS / 1000} s; click to choose a model.`;
      item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    } else if (m) {
      const device = m.info.device ? ` · ${m.info.device}${m.info.precision ? ` ${m.info.precision}` : ''}` : '';
      const speed = models.lastTokensPerSecond ? ` · ${Math.round(models.lastTokensPerSecond)} tok/s` : '';
      // A stopped worker shows a warning until it restarts; one that is not restarted, an error.
      const health = models.health;
      const worker = health?.state === 'stopped' || health?.state === 'failed' ? health : undefined;
      const icon = worker?.state === 'failed' ? '$(error)' : worker ? '$(warning)' : '$(beaker)';
      item.text = `${icon} ${m.info.name}${device}${speed}`;
      const notes = [
        ...(worker ? [`${sentence(worker.reason)}${worker.state === 'failed' ? ' Choose another model or reload the window.' : ''}`] : []),
        ...(models.error ? [`Last load failed: ${models.error}`] : []),
        ...(m.info.warning ? [sentence(`warning: ${m.info.warning}`)] : []),
        // How device auto chose: only for a model that lmPlayground.device places.
        ...(m.info.capabilities.devices.length > 0 && models.deviceNote ? [sentence(models.deviceNote)] : []),
        // drive14 M3: a float16 graph chosen by hand on the CPU ran slower than fp32, unexplained.
        ...(m.info.device !== 'webgpu' && (m.info.precision === 'fp16' || m.info.precision === 'q4f16')
          ? [
              `${m.info.precision} on the CPU: onnxruntime runs most float16 operations on the CPU by converting them to float32, so a float16 graph runs no faster here than fp32 (often slower); lmPlayground.dtype auto runs int8 or q4 on the CPU and float16 on a GPU.`,
            ]
          : []),
      ];
      item.tooltip = `LM Playground: ${m.info.description}${notes.map((n) => `\n\n${n}`).join('')}\nClick to choose a model.`;
      item.backgroundColor =
        worker?.state === 'failed'
          ? new vscode.ThemeColor('statusBarItem.errorBackground')
          : worker || models.error
            ? new vscode.ThemeColor('statusBarItem.warningBackground')
            : undefined;
    } else {
      item.text = models.error ? '$(error) LM: no model' : '$(beaker) LM';
      item.tooltip = models.error ? `LM Playground: ${models.error}` : 'LM Playground: the model loads on first use. Click to choose a model.';
    }
    const loading = models.loadingSpec;
    if (loading) {
      // A model of hundreds of megabytes takes seconds: without this the old name stood as if the choice had not been taken (drive12).
      const name = isRemoteSpec(loading) ? loading : path.basename(loading);
      // The name is in the tooltip only: the text would otherwise name the new model before it is active.
      item.text = m ? `$(sync~spin) ${m.info.name} · loading another model…` : '$(sync~spin) LM: loading a model…';
      // What is asked meanwhile waits for it (drive13 M2: the tooltip said the old model answered).
      item.tooltip = `LM Playground: loading ${name}${name !== loading ? ` (${loading})` : ''}. Hovers, completions and scores asked for meanwhile wait for it${m ? `; the figures shown until then are ${m.info.name}'s` : ''}.`;
    }
  };
  update();
  item.show();
  const subs = [models.onDidChangeModel(update), models.onDidChangeStatus(update)];
  serverReachability.add(onReachability);
  return vscode.Disposable.from(item, ...subs, {
    dispose: () => {
      serverReachability.delete(onReachability);
      up();
    },
  });
}

/** "the model's worker stopped: …" → "The model's worker stopped: ….": a message as a tooltip sentence. */
function sentence(message: string): string {
  return `${message.charAt(0).toUpperCase()}${message.slice(1)}${/[.!?]$/.test(message) ? '' : '.'}`;
}
