/** Status bar entry: the active model, where it runs and how fast it last generated; a click picks another. */
import * as vscode from 'vscode';
import type { ModelService } from './modelService';

export function createModelStatusBar(models: ModelService): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('lmPlayground.model', vscode.StatusBarAlignment.Right, 100);
  item.name = 'LM Playground model';
  item.command = 'lmPlayground.selectModel';
  const update = () => {
    const m = models.current;
    if (m) {
      const device = m.info.device ? ` · ${m.info.device}` : '';
      const speed = models.lastTokensPerSecond ? ` · ${Math.round(models.lastTokensPerSecond)} tok/s` : '';
      item.text = `$(beaker) ${m.info.name}${device}${speed}`;
      item.tooltip = `LM Playground: ${m.info.description}${models.error ? `\n\nLast load failed: ${models.error}` : ''}\nClick to choose a model.`;
      item.backgroundColor = models.error ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
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
