/**
 * LM: Download Model — fetches a Hugging Face repository's ONNX export into the extension's
 * global storage with a cancellable progress bar, checks that it loads (only then is the folder
 * marked complete and listed), then selects it.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { CancelledError } from '../core/errors';
import { clampMaxDownloadBytes, downloadModel, repoFolderName, validateRepoId } from '../node/hubDownload';
import { loadModel } from '../node/modelLoader';
import { SECTION, read } from './settings';

export function downloadsDir(context: vscode.ExtensionContext): string {
  return path.join(context.globalStorageUri.fsPath, 'models');
}

export async function downloadModelCommand(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, repoArg?: string): Promise<void> {
  const repo =
    repoArg ??
    (await vscode.window.showInputBox({
      title: 'LM: Download Model',
      prompt: 'Hugging Face repository id of an ONNX causal LM (GPT-2 family)',
      placeHolder: 'Xenova/distilgpt2',
      validateInput: (v) => {
        try {
          validateRepoId(v);
          return undefined;
        } catch (e) {
          return (e as Error).message;
        }
      },
    }));
  if (!repo) return;
  const id = validateRepoId(repo);
  // Both settings are machine-scoped and restricted in untrusted workspaces (package.json).
  const config = vscode.workspace.getConfiguration(SECTION);
  const baseUrl = read(config, 'hub.baseUrl');
  // package.json's minimum is only advice to the settings editor: a settings.json may say anything.
  const maxTotalBytes = clampMaxDownloadBytes(read(config, 'hub.maxDownloadBytes'));
  const target = path.join(downloadsDir(context), repoFolderName(id));
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `LM: downloading ${id}`, cancellable: true },
      async (progress, token) => {
        let lastFile = '';
        let lastFraction = 0;
        // Aborts the request at once, also while the hub sends nothing.
        const abort = new AbortController();
        const cancel = token.onCancellationRequested(() => abort.abort());
        try {
          await downloadModel({
            baseUrl,
            repo: id,
            target,
            maxTotalBytes,
            signal: abort.signal,
            // Load once before the folder counts as a model, so that one that does not fit is never listed or selected.
            verify: async (dir) => {
              progress.report({ message: 'checking that the model loads…' });
              const model = await loadModel(dir, undefined, { inWorker: true });
              model.dispose?.();
            },
            onProgress: ({ file, received, total }) => {
              const fraction = total ? received / total : 0;
              if (file !== lastFile) {
                lastFile = file;
                lastFraction = 0;
              }
              const mb = (received / 2 ** 20).toFixed(1);
              progress.report({
                message: `${file}: ${mb}${total ? ` of ${(total / 2 ** 20).toFixed(1)}` : ''} MiB`,
                increment: total ? Math.max(0, (fraction - lastFraction) * 100) : undefined,
              });
              lastFraction = fraction;
            },
          });
        } finally {
          cancel.dispose();
        }
      },
    );
  } catch (e) {
    if (e instanceof CancelledError) {
      void vscode.window.showInformationMessage(`LM: download of ${id} cancelled; run the command again to resume it.`);
      return;
    }
    throw e;
  }
  log.info(`downloaded ${id} from ${baseUrl} into ${target}`);
  await vscode.workspace.getConfiguration(SECTION).update('model', target, vscode.ConfigurationTarget.Global);
}
