/** Wires the LM Playground pieces into VS Code. */
import * as path from 'path';
import * as vscode from 'vscode';
import { EngineStoppedError, LmError } from './core/errors';
import { embeddedModelsDir } from './node/modelLoader';
import { stopAllEngines } from './node/workerHost';
import { completeSelection } from './vscode/completeSelection';
import { CONTINUE_WITH_COMMAND, continueWith } from './vscode/continueWith';
import { downloadModelCommand, downloadsDir } from './vscode/downloadModel';
import { ModelService } from './vscode/modelService';
import { RecentModels } from './vscode/recentModels';
import { selectModel } from './vscode/selectModel';
import { registerShannonGame } from './vscode/shannonPanel';
import { ShannonStore } from './vscode/shannonStore';
import { createModelStatusBar } from './vscode/statusBar';
import { TokenHoverProvider } from './vscode/tokenHover';
import { compareModels } from './vscode/compareModels';
import { createContextWarmup } from './vscode/contextWarmup';
import { createDocumentMetrics } from './vscode/documentMetrics';
import { createLanguageOffStatus } from './vscode/languageOffStatus';
import { createServerWaitStatus } from './vscode/serverWaitStatus';
import { TokenHeatmap } from './vscode/heatmap';
import { trackHeatmapContext } from './vscode/heatmapContext';
import { registerInlineCompletions } from './vscode/inlineCompletions';
import type { ModelDirs } from './vscode/modelCatalog';
import { registerPlayground } from './vscode/playgroundPanel';
import { trainWorkspaceModel } from './vscode/trainWorkspaceModel';
import { WebviewHosts } from './vscode/webviewHosts';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('LM Playground', { log: true });
  const modelsDir = embeddedModelsDir();
  const hosts = new WebviewHosts();
  const models = new ModelService(modelsDir, context.extensionUri, log, hosts, context.secrets, context.workspaceState);
  const dirs: ModelDirs = { embedded: modelsDir, downloaded: downloadsDir(context), trained: path.join(context.globalStorageUri.fsPath, 'trained') };
  const recentModels = new RecentModels(context.globalState);
  context.subscriptions.push(models.onDidLoadSpec((spec) => recentModels.add(spec)));
  const heatmap = new TokenHeatmap(models, log);
  const activeEditor = () => {
    const e = vscode.window.activeTextEditor;
    if (!e) {
      // A file VS Code took for binary shows a page, not an editor, until its Open Anyway (hostile14 L3).
      const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
      const shownAsBinary = tab?.input instanceof vscode.TabInputText;
      throw new LmError(
        shownAsBinary
          ? `${tab.label} is not open in a text editor (VS Code took it for binary): click Open Anyway on its page, then run the command again`
          : 'open a file in an editor first',
      );
    }
    return e;
  };

  /** Commands report their errors in the UI; nothing escapes to the extension host. */
  const command = (id: string, run: (...args: unknown[]) => Promise<void>) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        await run(...args);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        if (!(e instanceof LmError)) log.error(`${id} failed: ${e instanceof Error ? e.stack : message}`);
        // The model service has said that the engine stopped, naming the model (hostile L1: it was said twice).
        if (e instanceof EngineStoppedError) log.warn(`${id}: ${message}`);
        else void vscode.window.showErrorMessage(`LM Playground: ${message}`);
      }
    });

  context.subscriptions.push(
    log,
    hosts,
    models,
    createModelStatusBar(models),
    command('lmPlayground.completeSelection', () => completeSelection(models, log)),
    command(CONTINUE_WITH_COMMAND, (args) => continueWith(models, log, args)),
    command('lmPlayground.selectModel', () => selectModel(models, dirs, context.secrets, recentModels)),
    command('lmPlayground.downloadModel', (repo) =>
      downloadModelCommand(context, log, (dir) => models.reloadIfActive(dir), typeof repo === 'string' ? repo : undefined),
    ),
    heatmap,
    trackHeatmapContext(heatmap),
    command('lmPlayground.showTokenProbabilities', () => heatmap.show(activeEditor())),
    command('lmPlayground.clearTokenProbabilities', async () => heatmap.clear(vscode.window.activeTextEditor)),
    command('lmPlayground.compareModels', () => compareModels(context.extensionUri, models, dirs, log)),
    command('lmPlayground.trainWorkspaceModel', (args) =>
      trainWorkspaceModel(dirs.trained, log, typeof args === 'object' && args ? (args as { glob?: string; order?: number }) : undefined),
    ),
    vscode.languages.registerHoverProvider('*', new TokenHoverProvider(models, heatmap)),
    createContextWarmup(models, heatmap, log),
    createDocumentMetrics(models, heatmap, log),
    createLanguageOffStatus(log),
    createServerWaitStatus(log),
    ...registerInlineCompletions(models, log),
    ...registerPlayground({
      extensionUri: context.extensionUri,
      models,
      dirs,
      log,
      hosts,
      secrets: context.secrets,
      state: context.workspaceState,
      recent: recentModels,
    }),
    ...registerShannonGame(context, models, new ShannonStore(context.globalState, log), log),
  );
  log.info(`activated; embedded models in ${modelsDir}`);
}

/** The host waits (up to 5 s) for the engines' workers to finish their run and exit: see stopAllEngines. */
export function deactivate(): Promise<void> {
  return stopAllEngines();
}
