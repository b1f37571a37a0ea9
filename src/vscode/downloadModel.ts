/**
 * LM: Download Model — lists the precision variants a Hugging Face repository's ONNX export has
 * (with their sizes, external data included), fetches the one picked with its data files and the
 * JSON files into the extension's global storage with a cancellable progress bar, checks that it
 * loads (only then is the folder marked complete and listed), then selects it.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { CancelledError, LmError } from '../core/errors';
import { formatBytes } from '../core/modelLimits';
import { DTYPE_DESCRIPTIONS, listedVariants, rankVariants, type ListedVariant } from '../core/neural/onnxVariants';
import { clampMaxDownloadBytes, downloadModel, listRepoFolder, repoFolderName, validateRepoId, verifiedFiles, type HubFile } from '../node/hubDownload';
import { loadModel } from '../node/modelLoader';
import { chooseFolderGraph, nodeRuntime } from '../node/neuralLoader';
import { SECTION, deviceSetting, dtypeSetting, read } from './settings';

/**
 * The variants the repository has, from the hub's file listing of its top folder and of onnx/;
 * undefined when the hub has no listing (a plain file server: the download then takes the first
 * graph it finds).
 */
async function repoVariants(baseUrl: string, repo: string): Promise<ListedVariant[] | undefined> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `LM: listing the files of ${repo}`, cancellable: true },
    async (_progress, token) => {
      const abort = new AbortController();
      const cancel = token.onCancellationRequested(() => abort.abort());
      try {
        const [top, onnx] = await Promise.all(['', 'onnx'].map((folder) => listRepoFolder({ baseUrl, repo, signal: abort.signal }, folder)));
        if (!top && !onnx) return undefined;
        return listedVariants([...(top ?? []), ...(onnx ?? [])] as HubFile[]);
      } finally {
        cancel.dispose();
      }
    },
  );
}

/** Where the model service runs a neural model, for auto's order of variants. */
function variantRuntime() {
  const device = deviceSetting();
  return device === 'webgpu' ? 'webgpu' : nodeRuntime(device);
}

/**
 * Asks which variant to fetch: the one `lmPlayground.dtype` names, else auto's choice for the
 * device, first; those already in `target` say so.
 */
async function pickVariant(repo: string, variants: ListedVariant[], target: string): Promise<ListedVariant | undefined> {
  const dtype = dtypeSetting();
  const runtime = variantRuntime();
  const onDisk = verifiedFiles(target);
  const ranked = rankVariants(variants, { runtime, prefer: dtype.setting === 'auto' ? dtype.prefer : [dtype.setting] });
  if (ranked.length === 1) return ranked[0];
  const items = ranked.map((v, i) => ({
    label: v.dtype,
    description: `${v.path}${v.dataFiles.length ? ` + ${v.dataFiles.length} data file${v.dataFiles.length > 1 ? 's' : ''}` : ''} · ${formatBytes(v.bytes)}${i === 0 ? (dtype.setting === v.dtype ? ' · lmPlayground.dtype' : ' · recommended') : ''}${[v.path, ...v.dataFiles].every((f) => onDisk.has(f)) ? ' · downloaded' : ''}`,
    detail: DTYPE_DESCRIPTIONS[v.dtype],
    variant: v,
  }));
  const picked = await vscode.window.showQuickPick(items, { title: `LM: Download Model — which precision of ${repo}?`, placeHolder: 'Precision variant' });
  return picked?.variant;
}

export function downloadsDir(context: vscode.ExtensionContext): string {
  return path.join(context.globalStorageUri.fsPath, 'models');
}

/**
 * `reloadIfActive` loads the model again when the folder is the active model's: a variant
 * downloaded beside the one running changes what the settings choose, not the setting itself.
 */
export async function downloadModelCommand(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel,
  reloadIfActive: (dir: string) => Promise<void> | undefined,
  repoArg?: string,
): Promise<void> {
  const repo =
    repoArg ??
    (await vscode.window.showInputBox({
      title: 'LM: Download Model',
      prompt: "Hugging Face repository id of a causal LM's ONNX export (onnx-community's or Xenova's layout: GPT-2, Llama, Qwen, SmolLM, Phi, Gemma …)",
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
  // Both settings are user settings only (application scope) and restricted in untrusted workspaces (package.json).
  const config = vscode.workspace.getConfiguration(SECTION);
  const baseUrl = read(config, 'hub.baseUrl');
  // package.json's minimum is only advice to the settings editor: a settings.json may say anything.
  const maxTotalBytes = clampMaxDownloadBytes(read(config, 'hub.maxDownloadBytes'));
  const target = path.join(downloadsDir(context), repoFolderName(id));
  const variants = await repoVariants(baseUrl, id).catch((e: unknown) => {
    if (e instanceof CancelledError) return null;
    // The listing is a convenience: without it the download takes the first graph the repository has.
    log.warn(`could not list the files of ${id}: ${e instanceof Error ? e.message : e}`);
    return undefined;
  });
  if (variants === null) return;
  if (variants && variants.length === 0) {
    throw new LmError(
      `${id} has no ONNX graph of a causal LM (onnx/model.onnx, onnx/model_q4.onnx, …): it needs an export such as onnx-community's or Xenova's`,
    );
  }
  const variant = variants && (await pickVariant(id, variants, target));
  if (variants && !variant) return;
  // A cancel during the check that the model loads comes after the last byte: the model is kept, but not selected.
  let cancelledAfterFiles = false;
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
            graph: variant?.path,
            maxTotalBytes,
            signal: abort.signal,
            // Load once before the folder counts as a model, so that one that does not fit is never listed or selected.
            verify: async (dir) => {
              progress.report({ message: 'checking that the model loads…' });
              const model = await loadModel(dir, undefined, { inWorker: true, dtype: variant ? { setting: variant.dtype } : undefined });
              model.dispose?.();
            },
            onProgress: ({ file, received, total }) => {
              const fraction = total ? received / total : 0;
              if (file !== lastFile) {
                lastFile = file;
                lastFraction = 0;
              }
              progress.report({
                message: `${file}: ${formatBytes(received)}${total ? ` of ${formatBytes(total)}` : ''}`,
                increment: total ? Math.max(0, (fraction - lastFraction) * 100) : undefined,
              });
              lastFraction = fraction;
            },
          });
          cancelledAfterFiles = token.isCancellationRequested;
        } finally {
          cancel.dispose();
        }
      },
    );
  } catch (e) {
    if (e instanceof CancelledError) {
      void vscode.window.showInformationMessage(
        `LM: download of ${id} cancelled; run the command again to resume it (what arrived is kept in ${target} until then).`,
      );
      return;
    }
    throw e;
  }
  log.info(`downloaded ${id}${variant ? ` (${variant.dtype}, ${variant.path})` : ''} from ${baseUrl} into ${target}`);
  if (cancelledAfterFiles) {
    // Every file had arrived and the model loads: nothing is thrown away, and nothing switches.
    void vscode.window.showInformationMessage(
      `LM: ${id} had arrived whole when you cancelled, and it loads: it is kept in ${target} but not selected; LM: Select Model lists it.`,
    );
    return;
  }
  await vscode.workspace.getConfiguration(SECTION).update('model', target, vscode.ConfigurationTarget.Global);
  await reloadIfActive(target);
  const dtype = dtypeSetting();
  if (variant && dtype.setting === 'auto') {
    // Another variant of the folder runs first with auto (drive14 H2: q4 downloaded beside int8, and int8 ran on, unsaid).
    let runs: string | undefined;
    try {
      runs = chooseFolderGraph(target, dtype, variantRuntime()).dtype;
    } catch {
      runs = undefined;
    }
    if (runs && runs !== variant.dtype) {
      const use = `Run ${variant.dtype}`;
      const choice = await vscode.window.showInformationMessage(
        `LM: ${id} has ${runs} too, which lmPlayground.dtype auto runs here before ${variant.dtype}: ${runs} is running.`,
        use,
      );
      if (choice === use) await vscode.workspace.getConfiguration(SECTION).update('dtype', variant.dtype, vscode.ConfigurationTarget.Global);
    }
  }
  if (variant && dtype.setting !== 'auto' && dtype.setting !== variant.dtype) {
    // An explicit dtype the folder does not have would refuse the model just downloaded.
    const fix = 'Set lmPlayground.dtype to auto';
    const choice = await vscode.window.showWarningMessage(
      `LM: ${id} was downloaded as ${variant.dtype}, but lmPlayground.dtype is ${dtype.setting}: the model loads only with dtype auto or ${variant.dtype}.`,
      fix,
    );
    if (choice === fix) await vscode.workspace.getConfiguration(SECTION).update('dtype', 'auto', vscode.ConfigurationTarget.Global);
  }
}
