/** LM: Select Model — embedded and downloaded models, or a model file on disk; writes the `lmPlayground.model` setting. */
import * as vscode from 'vscode';
import { modelCatalog, type ModelDirs } from './modelCatalog';
import type { ModelService } from './modelService';
import { SECTION } from './settings';

export async function selectModel(models: ModelService, dirs: ModelDirs): Promise<void> {
  const browse = '$(folder-opened) Browse for a model file or folder…';
  const items: (vscode.QuickPickItem & { spec?: string })[] = modelCatalog(dirs).map((m) => ({
    label: m.label,
    description: m.spec === models.spec ? `active · ${m.origin}` : m.origin,
    spec: m.spec,
  }));
  items.push({ label: browse, description: 'ARPA (.arpa), LM Playground n-gram (.ngram, .ngram.gz)' });
  const picked = await vscode.window.showQuickPick(items, { title: 'LM: Select Model', placeHolder: `Active: ${models.current?.info.name ?? 'none'}` });
  if (!picked) return;
  let spec = picked.spec ?? picked.label;
  if (picked.label === browse) {
    const uris = await vscode.window.showOpenDialog({
      canSelectFiles: true,
      canSelectFolders: true,
      canSelectMany: false,
      title: 'Choose a language model',
      filters: { 'Language models': ['arpa', 'ngram', 'gz'], 'All files': ['*'] },
    });
    if (!uris?.length) return;
    spec = uris[0].fsPath;
  }
  const config = vscode.workspace.getConfiguration(SECTION);
  const inspected = config.inspect<string>('model');
  // Where the effective value comes from: the workspace when it sets the model, else the user's
  // settings (VS Code writes the remote user settings instead only when the value is already there).
  const target = inspected?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await config.update('model', spec, target);
}
