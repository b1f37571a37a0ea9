/**
 * LM: Download Model — fetches a Hugging Face repository's ONNX export into the extension's
 * global storage with a cancellable progress bar, checks that it loads, then selects it.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { CancelledError } from '../core/errors';
import { downloadModel, validateRepoId } from '../node/hubDownload';
import { loadModel } from '../node/modelLoader';
import { SECTION } from './settings';

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
  const baseUrl = vscode.workspace.getConfiguration(SECTION).get<string>('hub.baseUrl', 'https://huggingface.co');
  const target = path.join(downloadsDir(context), id.replace('/', '__'));
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `LM: downloading ${id}`, cancellable: true },
      async (progress, token) => {
        let lastFile = '';
        let lastFraction = 0;
        await downloadModel({
          baseUrl,
          repo: id,
          target,
          signal: { get cancelled() { return token.isCancellationRequested; } },
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
  // Load once here so that a model that does not fit is reported before it is selected.
  const model = await loadModel(target, undefined, { inWorker: true });
  model.dispose?.();
  await vscode.workspace.getConfiguration(SECTION).update('model', target, vscode.ConfigurationTarget.Global);
}
