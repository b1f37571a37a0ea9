/** Status bar entry: the active model, where it runs (and in which precision) and how fast it last generated; a click picks another. */
import * as vscode from 'vscode';
import type { ModelService } from './modelService';

export function createModelStatusBar(models: ModelService): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('lmPlayground.model', vscode.StatusBarAlignment.Right, 100);
  item.name = 'LM Playground model';
  item.command = 'lmPlayground.selectModel';
  const update = () => {
    const m = models.current;
    if (m) {
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
        // How device auto chose: only for a model that lmPlayground.device places.
        ...(m.info.capabilities.devices.length > 0 && models.deviceNote ? [sentence(models.deviceNote)] : []),
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
  };
  update();
  item.show();
  const sub = models.onDidChangeModel(update);
  return vscode.Disposable.from(item, sub);
}

/** "the model's worker stopped: …" → "The model's worker stopped: ….": a message as a tooltip sentence. */
function sentence(message: string): string {
  return `${message.charAt(0).toUpperCase()}${message.slice(1)}${/[.!?]$/.test(message) ? '' : '.'}`;
}
