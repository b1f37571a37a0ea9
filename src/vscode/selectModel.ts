/** LM: Select Model — embedded and downloaded models, or a model file on disk; writes the `lmPlayground.model` setting. */
import * as path from 'path';
import * as vscode from 'vscode';
import { modelFileExtensions, modelKindsLabel } from '../node/backends/registry';
import { findLocalGgufModels, ggufSearchFolders } from '../node/localGgufModels';
import { modelFacts, recognizeModel } from '../node/modelLoader';
import { formatBytes } from '../core/modelLimits';
import { describeFacts } from '../node/modelSummary';
import { modelCatalog, type CatalogEntry, type ModelDirs } from './modelCatalog';
import type { ModelService } from './modelService';
import type { DtypeRequest } from '../core/neural/onnxVariants';
import { SECTION, dtypeSetting } from './settings';
import { addRemoteModel } from './remoteModels';
import type { RecentModels } from './recentModels';
import { isRemoteSpec, parseRemoteRef } from '../core/remote/remoteRef';
import { LmError } from '../core/errors';
import { modelBeingWritten } from '../node/atomicWrite';

/** What each embedded model is good for, in a sentence. */
export const EMBEDDED_PURPOSE: Record<string, string> = {
  'ngram-classics': 'Counts of 4-token sequences in 12 classic novels: instant, and shows what a model that sees only the last 3 tokens predicts.',
  'gpt-classics': 'A small transformer trained on the same 12 novels: sees 128 tokens back, so it can follow a sentence; slower per token.',
};

const ORIGIN: Record<CatalogEntry['origin'], string> = {
  embedded: 'embedded in the extension',
  downloaded: 'downloaded from the hub',
  trained: 'trained on your workspace',
  setting: 'a file from the settings',
  'used before': 'used before',
};

/** The quick pick's second line: architecture, size, tokenizer (from the files), and for embedded models what they are good for. */
export function modelDetail(entry: CatalogEntry, dirs: ModelDirs, dtype: DtypeRequest): string {
  const facts = modelFacts(entry.spec, dtype, dirs.embedded);
  return [facts ? describeFacts(facts) : undefined, entry.origin === 'embedded' ? EMBEDDED_PURPOSE[entry.spec] : undefined].filter(Boolean).join(' — ');
}

/** The GGUF models LM Studio and Ollama keep, in a second quick pick; undefined when none is picked or found. */
async function pickLocalGguf(models: ModelService, dtype: DtypeRequest): Promise<string | undefined> {
  const found = findLocalGgufModels();
  if (found.length === 0) {
    const where = ggufSearchFolders();
    void vscode.window.showInformationMessage(
      `No GGUF models found in LM Studio's folders (${where.lmStudio.join(', ')}) or Ollama's (${where.ollama}). Use "Browse for a model file or folder…" to open a .gguf file elsewhere.`,
    );
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    found.map((m) => {
      const facts = modelFacts(m.path, dtype);
      return {
        label: m.label,
        description: `${m.path === models.activeSpec ? 'active · ' : ''}${m.source} · ${formatBytes(m.bytes)}`,
        detail: facts ? describeFacts(facts) : m.path,
        spec: m.path,
      };
    }),
    { title: 'LM: Select Model — GGUF models of LM Studio and Ollama', matchOnDescription: true },
  );
  return picked?.spec;
}

/** A model's server and name, when it is on one. */
function serverOf(spec: string): { model: string; baseUrl: string } | undefined {
  try {
    return parseRemoteRef(spec);
  } catch {
    return undefined;
  }
}

/** A model file or folder used before, as a row: its name, where it is, what its files say. */
function recentItem(spec: string, active: boolean, dtype: DtypeRequest): vscode.QuickPickItem & { spec: string } {
  let label = path.basename(spec);
  try {
    // A backend's own name for its file (an Ollama blob's model name), else the file's or folder's
    // name as the status bar shows it: a file's folder would name every model file beside it alike (drive12 M4).
    const recognized = recognizeModel(spec);
    if (recognized.backend.nameOf) label = recognized.name;
  } catch {
    // not recognised any more: its path's last part
  }
  const facts = modelFacts(spec, dtype);
  return { label, description: `${active ? 'active · ' : ''}used before · ${spec}`, detail: facts ? describeFacts(facts) : spec, spec };
}

export async function selectModel(models: ModelService, dirs: ModelDirs, secrets: vscode.SecretStorage, recent: RecentModels): Promise<void> {
  const browse = '$(folder-opened) Browse for a model file or folder…';
  const findGguf = '$(search) Find GGUF models…';
  const remote = '$(cloud) Add remote model…';
  const dtype = dtypeSetting();
  const activeSpec = models.activeSpec;
  const items: (vscode.QuickPickItem & { spec?: string })[] = modelCatalog(dirs).map((m) => ({
    label: m.label,
    description: m.spec === activeSpec ? `active · ${ORIGIN[m.origin]}` : ORIGIN[m.origin],
    detail: modelDetail(m, dirs, dtype),
    spec: m.spec,
  }));
  // Files and folders run before (the active one among them), after the catalog's own.
  const listed = new Set(items.map((i) => i.spec));
  for (const spec of recent.list()) if (!listed.has(spec)) items.push(recentItem(spec, spec === activeSpec, dtype));
  /** A model on a server as a row (not the local model of the same name). */
  const serverItem = (spec: string, ref: { model: string; baseUrl: string }, state: string) => ({
    label: ref.model,
    description: `${state} · on ${ref.baseUrl}`,
    detail: `${ref.model} served at ${ref.baseUrl}`,
    spec,
  });
  // Models on servers used before: one pick goes back to one (its API key, if any, is kept).
  for (const spec of recent.servers()) {
    const ref = spec === activeSpec ? undefined : serverOf(spec);
    if (ref) items.push(serverItem(spec, ref, 'used before'));
  }
  // The active model on a server has a row of its own, first.
  const server = serverOf(activeSpec);
  if (server) items.unshift(serverItem(activeSpec, server, 'active'));
  items.push({
    label: findGguf,
    description: "LM Studio's and Ollama's models",
    detail: 'GGUF files in ~/.lmstudio/models, ~/.cache/lm-studio/models and ~/.ollama/models, run by llama.cpp',
  });
  items.push({
    label: browse,
    description: 'a file on disk',
    detail: modelKindsLabel(),
  });
  items.push({
    label: remote,
    description: 'a model on a server',
    detail: 'vLLM, SGLang or lmp serve (OpenAI-compatible API); llama.cpp’s server and Ollama generate only',
  });
  const active = models.current?.info.name;
  const placeHolder = `Active: ${active ? (server ? `${active} on ${server.baseUrl}` : active) : 'none'}`;
  const picked = await vscode.window.showQuickPick(items, { title: 'LM: Select Model', placeHolder });
  if (!picked) return;
  if (picked.label === remote) return addRemoteModel(secrets);
  let spec = picked.spec ?? picked.label;
  if (picked.label === findGguf) {
    const found = await pickLocalGguf(models, dtype);
    if (!found) return;
    spec = found;
  } else if (picked.label === browse) {
    const uris = await vscode.window.showOpenDialog({
      canSelectFiles: true,
      canSelectFolders: true,
      canSelectMany: false,
      title: 'Choose a language model',
      filters: { 'Language models': modelFileExtensions(), 'All files': ['*'] },
    });
    if (!uris?.length) return;
    spec = uris[0].fsPath;
    const writing = modelBeingWritten(spec);
    // The model would be renamed away under it while loading, and the setting left naming a file that is gone (drive12 M1).
    if (writing)
      throw new LmError(
        `${path.basename(spec)} is the temporary file of ${writing}, still being written (by lmp train-ngram or a workspace training): choose ${writing} once it is there`,
      );
  }
  const config = vscode.workspace.getConfiguration(SECTION);
  const inspected = config.inspect<string>('model');
  // Where the effective value comes from: the workspace when it sets the model, else the user's
  // settings (VS Code writes the remote user settings instead only when the value is already there).
  const target = inspected?.workspaceValue !== undefined && !isRemoteSpec(spec) ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await config.update('model', spec, target);
  // The same value as before changes no setting: a model whose load failed is tried again here.
  void models.retryConfigured();
}
