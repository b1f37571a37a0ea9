/**
 * LM: Open Playground: a research playground in a webview panel. The page runs the models in its
 * own engine Web Worker (WebGPU when the window has an adapter, else WASM; n-gram models in
 * JavaScript), except those the page cannot run, which the extension runs for it
 * (playgroundHostEngine.ts): GGUF in an engine child process, a model on a server through its
 * API; the extension lists the models (again whenever they change), saves and opens query files
 * (with their results), and keeps the form and results for the next panel and after a reload.
 */
import * as vscode from 'vscode';
import { LmError } from '../core/errors';
import { QUERY_FILE_SUFFIX, checkQueryFileSize, parseQuery, serializeQuery, type Query } from '../playground/query';
import type { FromPlaygroundPage, PlaygroundConfig, PlaygroundModel, ToPlaygroundPage, UnavailablePlaygroundModel } from '../webview/playgroundMessages';
import { modelCatalog, withUsedBefore, type ModelDirs } from './modelCatalog';
import type { RecentModels } from './recentModels';
import type { ModelService } from './modelService';
import type { RecognizedModel } from '../node/backends/backend';
import { openOptions, recognizeModel } from '../node/modelLoader';
import { startEngineWorker } from '../node/workerHost';
import { parseRemoteRef } from '../core/remote/remoteRef';
import { openRemote } from '../node/backends/remoteBackend';
import { PlaygroundHostEngine, playgroundHostPlace, runsOnPlaygroundHost } from './playgroundHostEngine';
import { apiKeyFor } from './remoteModels';
import { modelFilesForPage, PAGE_FILE_PIECE_BYTES, readModelFileForPage, type PageModelFiles } from './pageModelFiles';
import { SECTION, deviceSetting, dtypeSetting } from './settings';
import { MAX_SAVED_RESULTS_CHARS } from '../playground/savedResults';
import { contentSecurityPolicy, nonce } from './webviewHtml';
import { engineResourceRoots, engineWorkerUrls } from './webviewEngineHost';
import type { WebviewHosts } from './webviewHosts';

export const PLAYGROUND_VIEW_TYPE = 'lmPlayground.playground';

interface Deps {
  extensionUri: vscode.Uri;
  models: ModelService;
  dirs: ModelDirs;
  log: vscode.LogOutputChannel;
  hosts: WebviewHosts;
  /** Where remote models' API keys are kept. */
  secrets?: vscode.SecretStorage;
  /** The workspace's state: the last panel's form and results, for the next one. */
  state: vscode.Memento;
  /** The model files and folders used before (LM: Select Model lists them): offered too. */
  recent?: Pick<RecentModels, 'list'>;
}

/** What the workspace keeps of the last playground: its form and results (savedResults.ts's JSON, at most MAX_SAVED_RESULTS_CHARS). */
interface KeptSession {
  query?: Query;
  results?: string;
}
const KEPT_SESSION_KEY = 'lmPlayground.playground.session';

/** A query kept by an earlier version or edited by hand is checked as a file would be; undefined when it does not read. */
function checkedQuery(q: unknown): Query | undefined {
  try {
    return q && typeof q === 'object' ? parseQuery(serializeQuery(q as Query), 'the kept query') : undefined;
  } catch {
    return undefined;
  }
}

interface PageModels {
  models: PlaygroundModel[];
  unavailable: UnavailablePlaygroundModel[];
  files: Map<string, PageModelFiles>;
  host: Map<string, RecognizedModel>;
}

/** The models the page can load, the files of each that it may ask for, those the extension runs for it, and those it cannot run. */
function pageModels(deps: Deps): PageModels {
  const entries = withUsedBefore(modelCatalog(deps.dirs), deps.recent?.list() ?? [], deps.models.spec);
  const models: PlaygroundModel[] = [];
  const unavailable: UnavailablePlaygroundModel[] = [];
  const files = new Map<string, PageModelFiles>();
  const host = new Map<string, RecognizedModel>();
  for (const e of entries) {
    try {
      const model = recognizeModel(e.spec, deps.dirs.embedded);
      if (runsOnPlaygroundHost(model)) {
        // The page sends its requests here (hostEngine): the extension runs a GGUF model in a child process, and asks a server for a remote one.
        const ref = model.backend.id === 'remote' ? parseRemoteRef(model.location) : undefined;
        models.push({
          label: ref ? `${model.name} on ${ref.baseUrl}` : e.label,
          spec: e.spec,
          backend: model.backend.id,
          capabilities: model.backend.capabilities,
          origin: e.origin,
          files: {},
          host: true,
          runsIn: playgroundHostPlace(model),
        });
        host.set(e.spec, model);
        continue;
      }
      // The page's engine computes on WebGPU only when the setting says so for sure; auto may end on WASM.
      const m = modelFilesForPage(model, {
        ...openOptions(model, { dtype: dtypeSetting() }),
        webview: { runtime: pageDevice() === 'webgpu' ? 'webgpu' : 'wasm' },
      });
      models.push({
        label: e.label,
        spec: e.spec,
        backend: m.backend,
        capabilities: model.backend.capabilities,
        origin: e.origin,
        files: Object.fromEntries(Object.entries(m.files).map(([role, f]) => [role, f.name])),
        runtime: m.runtime,
      });
      files.set(e.spec, m);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      deps.log.warn(`playground: model ${e.spec} is not offered: ${why}`);
      unavailable.push({ label: e.label, spec: e.spec, origin: e.origin, why });
    }
  }
  return { models, unavailable, files, host };
}

class PlaygroundPanel {
  static current: PlaygroundPanel | undefined;
  /** What the page may read: the files of the models it was offered, nothing else. */
  private readonly modelFiles = new Map<string, PageModelFiles>();
  /** The host models offered (updated in place when the list changes). */
  private readonly hostModels = new Map<string, RecognizedModel>();
  /** Runs the page's GGUF and server models (started with the panel; a model opens when the page asks): only those it was offered. */
  private readonly hostEngine: PlaygroundHostEngine;
  /** The model list last sent, to send it again only when it changed. */
  private offered = '';

  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly deps: Deps,
    start: KeptSession,
  ) {
    PlaygroundPanel.current = this;
    const w = panel.webview;
    // Created here to host the engine too: the only kind of page whose WebGPU claim is heard.
    deps.hosts.register(w);
    const webviewDir = vscode.Uri.joinPath(deps.extensionUri, 'dist', 'webview');
    const { models, unavailable, defaultModel } = this.offer();
    this.hostEngine = new PlaygroundHostEngine(
      this.hostModels,
      // A GGUF model in a child process; a model on a server here (it computes there), with its API key.
      async (model) =>
        model.backend.id === 'remote'
          ? openRemote(model.spec, { apiKey: await apiKeyFor(this.deps.secrets, model.spec) })
          : startEngineWorker(model, openOptions(model, { dtype: dtypeSetting() })),
      (response) => this.post({ type: 'hostEngine', response }),
    );
    // The extension's own folders only: model files reach the page as bytes (readModelFile).
    w.options = { enableScripts: true, localResourceRoots: engineResourceRoots(deps.extensionUri) };
    const config: PlaygroundConfig = {
      ...engineWorkerUrls(w, deps.extensionUri),
      models,
      unavailable,
      defaultModel,
      query: start.query,
      results: start.results,
      device: pageDevice(),
    };
    const n = nonce();
    w.html = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(w, n, { wasm: true, blobWorkers: true })}">
<link rel="stylesheet" href="${w.asWebviewUri(vscode.Uri.joinPath(webviewDir, 'playgroundPage.css'))}">
<title>LM Playground</title></head><body>
<main id="app"><p>Loading the playground…</p></main>
<script nonce="${n}" id="playground-config" type="application/json">${JSON.stringify(config).replace(/</g, '\\u003c')}</script>
<script nonce="${n}" src="${w.asWebviewUri(vscode.Uri.joinPath(webviewDir, 'playgroundPage.js'))}"></script>
</body></html>`;
    w.onDidReceiveMessage((m: FromPlaygroundPage) => this.receive(m).catch((e) => this.fail(e)));
    // A model trained, downloaded or selected while the panel is open: the page's list follows.
    const refresh = () => this.refreshModels();
    const watching = [
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (['model', 'device', 'dtype', 'preferQuantized'].some((k) => e.affectsConfiguration(`${SECTION}.${k}`))) refresh();
      }),
      deps.models.onDidChangeModel(refresh),
      panel.onDidChangeViewState((e) => e.webviewPanel.visible && refresh()),
    ];
    panel.onDidDispose(() => {
      for (const d of watching) d.dispose();
      // Its model released, and no request to a server once the page is gone.
      void this.hostEngine.dispose();
      deps.hosts.unregister(w);
      if (PlaygroundPanel.current === this) PlaygroundPanel.current = undefined;
    });
  }

  /** The models to offer now; the maps of what the page may read and what the extension runs follow. */
  private offer(): { models: PlaygroundModel[]; unavailable: UnavailablePlaygroundModel[]; defaultModel: string } {
    const { models, unavailable, files, host } = pageModels(this.deps);
    const replace = <V>(into: Map<string, V>, from: Map<string, V>) => {
      into.clear();
      for (const [k, v] of from) into.set(k, v);
    };
    replace(this.modelFiles, files);
    replace(this.hostModels, host);
    const defaultModel = models.find((m) => m.spec === this.deps.models.spec)?.spec ?? models[0]?.spec ?? '';
    this.offered = JSON.stringify({ models, unavailable, defaultModel });
    return { models, unavailable, defaultModel };
  }

  private refreshModels(): void {
    const before = this.offered;
    const { models, unavailable, defaultModel } = this.offer();
    if (this.offered !== before) this.post({ type: 'models', models, unavailable, defaultModel });
  }

  post(m: ToPlaygroundPage): void {
    void this.panel.webview.postMessage(m);
  }

  private fail(e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    if (!(e instanceof LmError)) this.deps.log.error(`playground: ${e instanceof Error ? e.stack : message}`);
    this.post({ type: 'error', message });
    void vscode.window.showErrorMessage(`LM Playground: ${message}`);
  }

  private async receive(m: FromPlaygroundPage): Promise<void> {
    switch (m.type) {
      case 'saveQuery': {
        const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
        const target = await vscode.window.showSaveDialog({
          title: 'Save the playground query',
          defaultUri: folder ? vscode.Uri.joinPath(folder, `query${QUERY_FILE_SUFFIX}`) : undefined,
          filters: { 'LM Playground queries': ['lmquery.json', 'json'] },
        });
        if (!target) return;
        await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(serializeQuery(m.query)));
        void vscode.window.showInformationMessage(
          `LM Playground: query saved to ${vscode.workspace.asRelativePath(target)}${m.holds ? `, with its ${m.holds}` : ''}.`,
        );
        return;
      }
      case 'keep': {
        const results = typeof m.results === 'string' && m.results.length <= MAX_SAVED_RESULTS_CHARS ? m.results : undefined;
        await this.deps.state.update(KEPT_SESSION_KEY, { query: m.query, results } satisfies KeptSession);
        return;
      }
      case 'openQuery': {
        const picked = await vscode.window.showOpenDialog({
          canSelectMany: false,
          title: 'Open a playground query',
          filters: { 'LM Playground queries': ['lmquery.json', 'json'] },
        });
        if (!picked?.length) return;
        await this.openFile(picked[0]);
        return;
      }
      case 'readModelFile': {
        const model = this.modelFiles.get(m.spec);
        try {
          if (!model) throw new LmError(`the page asked for a model it was not offered: ${m.spec}`);
          const piece = await readModelFileForPage(model, m.name, m.offset ?? 0, PAGE_FILE_PIECE_BYTES);
          this.post({ type: 'modelFile', id: m.id, bytes: piece.bytes, size: piece.size });
        } catch (e) {
          this.post({ type: 'modelFile', id: m.id, error: e instanceof Error ? e.message : String(e) });
        }
        return;
      }
      case 'ran':
        this.deps.log.info(`playground: ${m.model} on ${m.device}, ${m.tokensPerSecond.toFixed(1)} tokens/s`);
        return;
      case 'error':
        this.deps.log.warn(`playground page: ${m.message}`);
        return;
      case 'ready': {
        // The page's window has a real GPU: it may run the editor's neural model too (checked by the first load, kept if faster).
        const w = this.panel.webview;
        const adapter = typeof m.adapter?.name === 'string' ? m.adapter.name.slice(0, 200) : undefined;
        const claimed = this.deps.hosts.claim(
          {
            webview: w,
            ready: Promise.resolve(true),
            onDidDispose: this.panel.onDidDispose,
            refute: () => this.deps.hosts.refute(w),
            adapter,
            float16: m.adapter?.float16 === true,
          },
          m.webgpu,
        );
        if (!claimed && m.adapter?.present === true && m.adapter.software === true && deviceSetting() === 'auto') {
          this.deps.models.noteDevice(
            `device auto: the playground's WebGPU adapter (${adapter}) is a software renderer, slower than the CPU runtimes: neural models stay in the worker thread`,
          );
        }
        return;
      }
      case 'hostEngine':
        this.hostEngine.handle(m.request);
        return;
      case 'response':
      case 'fatal':
      case 'readFile':
        return; // engine relay traffic, read by the model's connection
    }
  }

  async openFile(uri: vscode.Uri): Promise<void> {
    const name = vscode.workspace.asRelativePath(uri);
    checkQueryFileSize((await vscode.workspace.fs.stat(uri)).size, name);
    const text = new TextDecoder('utf-8').decode(await vscode.workspace.fs.readFile(uri));
    const query = parseQuery(text, name);
    this.post({ type: 'setQuery', query, source: name });
  }
}

/** The page's own engine follows lmPlayground.device; native is not a browser device, so it counts as auto. */
function pageDevice(): 'auto' | 'webgpu' | 'wasm' {
  const d = deviceSetting();
  return d === 'native' ? 'auto' : d;
}

export function registerPlayground(deps: Deps): vscode.Disposable[] {
  /** A new panel shows an opened file's query (and results), else what the last panel left. */
  const kept = (): KeptSession => {
    const k = deps.state.get<KeptSession>(KEPT_SESSION_KEY);
    return { query: checkedQuery(k?.query), results: typeof k?.results === 'string' ? k.results : undefined };
  };
  const create = (query?: Query) =>
    new PlaygroundPanel(
      vscode.window.createWebviewPanel(PLAYGROUND_VIEW_TYPE, 'LM Playground', vscode.ViewColumn.Active, {
        enableScripts: true,
        retainContextWhenHidden: true,
        localResourceRoots: engineResourceRoots(deps.extensionUri),
      }),
      deps,
      query ? { query, results: query.results } : kept(),
    );
  return [
    vscode.commands.registerCommand('lmPlayground.openPlayground', async () => {
      // From a query file in the editor, open that query.
      const doc = vscode.window.activeTextEditor?.document;
      const fromFile = doc && doc.uri.path.endsWith(QUERY_FILE_SUFFIX) ? doc : undefined;
      try {
        const query = fromFile ? parseQuery(fromFile.getText(), vscode.workspace.asRelativePath(fromFile.uri)) : undefined;
        const p = PlaygroundPanel.current;
        if (p) {
          p.panel.reveal();
          if (query) p.post({ type: 'setQuery', query, source: vscode.workspace.asRelativePath(fromFile!.uri) });
        } else create(query);
      } catch (e) {
        void vscode.window.showErrorMessage(`LM Playground: ${e instanceof Error ? e.message : e}`);
      }
    }),
    vscode.window.registerWebviewPanelSerializer(PLAYGROUND_VIEW_TYPE, {
      // The page reads its own state (form and results) back; the workspace's copy is for a page without one.
      async deserializeWebviewPanel(panel, state: { query?: Query } | undefined) {
        new PlaygroundPanel(panel, deps, state?.query ? { query: checkedQuery(state.query) } : kept());
      },
    }),
  ];
}
