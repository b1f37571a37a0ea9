/**
 * LM: Select Model → "Add remote model…": asks a server's base URL, lists the models it serves,
 * asks an optional API key (kept in VS Code's SecretStorage, never in settings) and makes the
 * chosen model active in the user's settings (a workspace never names a server).
 */
import * as vscode from 'vscode';
import { CancelledError, LmError } from '../core/errors';
import { isRemoteSpec, parseRemoteRef, remoteSpec, type Dialect } from '../core/remote/remoteRef';
import { DIALECT_APIS, detectDialect, endpointFor } from '../node/backends/remoteBackend';
import type { ServedModel } from '../node/remote/dialect';
import { SECTION } from './settings';

/** The SecretStorage key of a server's API key: one per base URL. */
export function apiKeySecret(baseUrl: string): string {
  return `lmPlayground.apiKey:${baseUrl}`;
}

/** The stored API key for a remote reference, if any. */
export async function apiKeyFor(secrets: vscode.SecretStorage | undefined, spec: string): Promise<string | undefined> {
  const ref = parseRemoteRef(spec);
  return ref && secrets ? ((await secrets.get(apiKeySecret(ref.baseUrl))) ?? undefined) : undefined;
}

const refused = (e: unknown) => e instanceof LmError && /refused the API key/.test(e.message);

export async function addRemoteModel(secrets: vscode.SecretStorage): Promise<void> {
  const url = await vscode.window.showInputBox({
    title: 'Add remote model (1/3): the server',
    prompt: 'Base URL of an OpenAI-compatible server (vLLM, SGLang, lmp serve), or of llama.cpp’s server or Ollama',
    placeHolder: 'http://127.0.0.1:8000/v1',
    ignoreFocusOut: true,
    validateInput: (v) => {
      try {
        return parseRemoteRef(`${v.trim().replace(/#.*$/, '')}#model`) ? undefined : 'give an http:// or https:// URL';
      } catch (e) {
        return e instanceof Error ? e.message.replace(/#model/g, '') : String(e);
      }
    },
  });
  if (!url) return;
  const ref = parseRemoteRef(`${url.trim().replace(/#.*$/, '')}#model`)!;
  let apiKey = (await secrets.get(apiKeySecret(ref.baseUrl))) ?? undefined;
  let askedKey = false;
  const askKey = async (why: string) => {
    askedKey = true;
    const key = await vscode.window.showInputBox({
      title: 'Add remote model (3/3): API key',
      prompt: why,
      password: true,
      ignoreFocusOut: true,
      value: apiKey ?? '',
    });
    if (key === undefined) throw new CancelledError();
    return key.trim() || undefined;
  };
  let listed: { dialect: Dialect; models: ServedModel[] } | undefined;
  let model: string;
  try {
    for (let attempt = 0; !listed; attempt++) {
      const endpoint = endpointFor(ref, { apiKey, maxRetries: 1 });
      try {
        listed = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `LM: asking ${ref.baseUrl} for its models`, cancellable: true },
          async (_progress, token) => {
            const signal = {
              get cancelled() {
                return token.isCancellationRequested;
              },
            };
            const dialect = ref.dialect ?? (await detectDialect(endpoint, signal));
            return { dialect, models: await DIALECT_APIS[dialect].listModels(endpoint, signal) };
          },
        );
      } catch (e) {
        if (!refused(e) || attempt > 1) throw e;
        apiKey = await askKey(`${ref.baseUrl} wants an API key (${attempt === 0 ? 'none was given' : 'that one was refused'})`);
      } finally {
        endpoint.close();
      }
    }
    if (listed.models.length === 0) throw new LmError(`${ref.baseUrl} serves no models`);
    const picked = await vscode.window.showQuickPick(
      listed.models.map((m) => ({ label: m.id, description: m.contextLength ? `context ${m.contextLength.toLocaleString('en-US')} tokens` : undefined })),
      { title: `Add remote model (2/3): a model on ${ref.baseUrl} (${listed.dialect} API)`, ignoreFocusOut: true },
    );
    if (!picked) return;
    model = picked.label;
    if (!askedKey)
      apiKey = await askKey(
        apiKey
          ? 'A key is stored for this server: Enter keeps it, an empty field removes it. Kept in VS Code’s secret storage, never in settings.'
          : 'API key, if the server wants one (Enter for none). Kept in VS Code’s secret storage, never in settings.',
      );
  } catch (e) {
    if (e instanceof CancelledError) return;
    throw e;
  }
  if (apiKey) await secrets.store(apiKeySecret(ref.baseUrl), apiKey);
  else await secrets.delete(apiKeySecret(ref.baseUrl));
  // Detection is skipped from now on where the API is not the OpenAI one.
  const spec = remoteSpec(ref.baseUrl, model, listed.dialect === 'openai' ? undefined : listed.dialect);
  const config = vscode.workspace.getConfiguration(SECTION);
  await config.update('model', spec, vscode.ConfigurationTarget.Global);
  // A model the workspace names (a local one: a server named there is ignored) wins over the User setting just written.
  const inspected = config.inspect<string>('model');
  const local = inspected?.workspaceValue;
  if (local && !isRemoteSpec(local)) {
    const remove = 'Remove the workspace setting';
    const answer = await vscode.window.showWarningMessage(
      `LM Playground: this workspace sets lmPlayground.model to "${local}", which takes precedence over ${model} on ${ref.baseUrl} (saved in User settings). Remove the workspace setting to use the server?`,
      remove,
    );
    if (answer !== remove) return;
    await config.update('model', undefined, vscode.ConfigurationTarget.Workspace);
  }
}
