/** Wires the LM Playground pieces into VS Code. */
import * as vscode from 'vscode';
import { LmError } from './core/errors';
import { embeddedModelsDir } from './node/modelLoader';
import { completeSelection } from './vscode/completeSelection';
import { downloadModelCommand, downloadsDir } from './vscode/downloadModel';
import { ModelService } from './vscode/modelService';
import { selectModel } from './vscode/selectModel';
import { registerShannonGame } from './vscode/shannonPanel';
import { ShannonStore } from './vscode/shannonStore';
import { createModelStatusBar } from './vscode/statusBar';
import { TokenHoverProvider } from './vscode/tokenHover';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('LM Playground', { log: true });
  const modelsDir = embeddedModelsDir();
  const models = new ModelService(modelsDir, context.extensionUri, log);

  /** Commands report their errors in the UI; nothing escapes to the extension host. */
  const command = (id: string, run: (...args: unknown[]) => Promise<void>) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        await run(...args);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        if (!(e instanceof LmError)) log.error(`${id} failed: ${e instanceof Error ? e.stack : message}`);
        void vscode.window.showErrorMessage(`LM Playground: ${message}`);
      }
    });

  context.subscriptions.push(
    log,
    models,
    createModelStatusBar(models),
    command('lmPlayground.completeSelection', () => completeSelection(models, log)),
    command('lmPlayground.selectModel', () => selectModel(models, [modelsDir, downloadsDir(context)])),
    command('lmPlayground.downloadModel', (repo) => downloadModelCommand(context, log, typeof repo === 'string' ? repo : undefined)),
    vscode.languages.registerHoverProvider('*', new TokenHoverProvider(models)),
    ...registerShannonGame(context, models, new ShannonStore(context.globalState, log), log),
  );
  log.info(`activated; embedded models in ${modelsDir}`);
}

export function deactivate(): void {}
