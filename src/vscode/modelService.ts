/**
 * The active model: loaded lazily from the `lmPlayground.model` setting, reloaded when it changes.
 * A model that fails to load is reported and the previous one stays active; when there is none
 * (the first load, e.g. after a window reload with a bad setting) the model used last in this
 * workspace runs instead, else the embedded default.
 */
import { runsInNodeProcess } from '../node/workerHost';
import * as path from 'path';
import * as vscode from 'vscode';
import { WorkerLanguageModel, type EngineHealth } from '../core/engine/engineClient';
import { LmError } from '../core/errors';
import type { LanguageModel } from '../core/model';
import type { OpenOptions, RecognizedModel } from '../node/backends/backend';
import { DEFAULT_MODEL, absoluteModelSpec, checkModelSpec, loadModel, modelFilesOf, openOptions, recognizeModel } from '../node/modelLoader';
import { AUTO_MEASURE_TIMEOUT_MS, AUTO_SAMPLE_TEXT, chooseAutoDevice, measureDecode, withinDeadline } from './autoDevice';
import { watchEventLoopDelay, type EventLoopHold } from '../node/eventLoopDelay';
import { ModelFileWatch, modelFileSignature } from '../node/modelFileWatch';
import { RelayConnection } from './relayConnection';
import { connectWebviewEngine, startWebviewEngine, type EngineWebview } from './webviewEngineHost';
import type { WebviewHosts } from './webviewHosts';
import { SECTION, deviceSetting, dtypeSetting, modelSetting, workspaceRemoteModel } from './settings';
import { isRemoteSpec, parseRemoteRef } from '../core/remote/remoteRef';
import { apiKeyFor, apiKeySecret } from './remoteModels';

export class ModelService implements vscode.Disposable {
  private model: LanguageModel | undefined;
  private modelSpec: string | undefined;
  private loadedKey: string | undefined;
  private failedKey: string | undefined;
  private lastError: string | undefined;
  private readonly changed = new vscode.EventEmitter<LanguageModel | undefined>();
  /** Another model (or none): what was computed with the one before is of no use any more. */
  readonly onDidChangeModel = this.changed.event;
  private readonly statusChanged = new vscode.EventEmitter<void>();
  /**
   * What the status bar says of the same model changed (the last completion's speed, how device
   * auto chose). Not a model change: with one, each Complete Selection made the status bar's
   * bits/char drop every score it kept and read the whole document again (3-5 minutes on a
   * 9,000-token chapter with a 135M model, ghost text gone meanwhile: drive11 H1).
   */
  readonly onDidChangeStatus = this.statusChanged.event;
  private readonly loadedSpec = new vscode.EventEmitter<string>();
  /** A model loaded from this spec (the setting's, made absolute): not a fallback to the default. */
  readonly onDidLoadSpec = this.loadedSpec.event;
  private readonly subscriptions: vscode.Disposable[] = [];
  /** The playground page whose GPU runs a model (device auto). */
  private readonly gpuHostOf = new WeakMap<LanguageModel, EngineWebview>();
  /** Stops listening to the active model's worker supervisor. */
  private unwatch: (() => void) | undefined;
  /** Watches the active model's file (a model file, not a folder or a server), which it read when it loaded. */
  private fileWatch: ModelFileWatch | undefined;
  /** How device auto chose (the measured speeds, or why the playground's GPU was not used): for the tooltip. */
  deviceNote: string | undefined;
  /** The document whose tokens the model last ran (hover, heat-map): it keeps their cache until that document closes. */
  private contextDocument: string | undefined;

  constructor(
    private readonly modelsDir: string,
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
    private readonly hosts: WebviewHosts,
    /** Where remote models' API keys are kept (never in settings). */
    private readonly secrets?: vscode.SecretStorage,
    /** The workspace's state: the model that loaded last, run after a window reload when the setting's fails. */
    private readonly state?: vscode.Memento,
  ) {
    this.subscriptions.push(
      this.changed,
      this.statusChanged,
      // A GPU webview opening or closing moves a neural model there or back (device auto).
      hosts.onDidChange(() => {
        if (deviceSetting() === 'auto' && this.loadedKey !== undefined && this.loadedKey !== this.key) void this.reload(true);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (['model', 'device', 'dtype', 'preferQuantized'].some((k) => e.affectsConfiguration(`${SECTION}.${k}`))) void this.reload(true);
      }),
      vscode.workspace.onDidCloseTextDocument((d) => {
        if (d.uri.toString() !== this.contextDocument) return;
        this.contextDocument = undefined;
        // A model that is going away frees its cache with itself.
        void this.model?.forgetContext?.().catch(() => undefined);
      }),
    );
    // A new API key for the active server (Add remote model… on the same model) opens it again with the key.
    if (secrets)
      this.subscriptions.push(
        secrets.onDidChange((e) => {
          let baseUrl: string | undefined;
          try {
            baseUrl = parseRemoteRef(this.spec)?.baseUrl;
          } catch {
            return; // a malformed reference: its load reports it
          }
          if (!baseUrl || e.key !== apiKeySecret(baseUrl)) return;
          this.loadedKey = undefined;
          this.failedKey = undefined;
          void this.reload(true);
        }),
      );
  }

  /** The configured model (a relative path taken from the first workspace folder), or the embedded default when the setting is empty. */
  get spec(): string {
    return absoluteModelSpec(modelSetting() || DEFAULT_MODEL, vscode.workspace.workspaceFolders?.[0]?.uri.fsPath, this.modelsDir);
  }

  /** What a load depends on: the model and, for neural models, the device, the precision variant and (auto) a GPU webview. */
  private get key(): string {
    return `${this.spec}\u0000${deviceSetting()}\u0000${JSON.stringify(dtypeSetting())}\u0000${this.autoOnGpuWebview() ? 'gpu-webview' : ''}`;
  }

  /** Device auto, a model whose backend runs on WebGPU in a webview, and a webview with a real GPU open to run it (if it is faster there). */
  private autoOnGpuWebview(): boolean {
    if (deviceSetting() !== 'auto' || !this.hosts.gpuHost) return false;
    try {
      return runsOnWebviewGpu(recognizeModel(this.spec, this.modelsDir));
    } catch {
      return false;
    }
  }

  /** Says that the model is about to run `document`'s tokens: their cache goes when it closes (a model change drops it anyway). */
  runsOn(document: vscode.TextDocument): void {
    this.contextDocument = document.uri.toString();
  }

  /**
   * The spec of the model whose figures are shown (the loaded one), else the setting's: while
   * another loads, or after one failed to load, the setting names another.
   */
  get activeSpec(): string {
    return (this.model && this.modelSpec) || this.spec;
  }

  get current(): LanguageModel | undefined {
    return this.model;
  }

  get error(): string | undefined {
    return this.lastError;
  }

  /** The active model's worker: running, stopped (it restarts on the next request), or given up. */
  get health(): EngineHealth | undefined {
    return this.model instanceof WorkerLanguageModel ? this.model.supervisor?.health : undefined;
  }

  /** Generation speed of the last completion, for the status bar. */
  lastTokensPerSecond: number | undefined;
  private loadingNow: string | undefined;
  /** The model being loaded (its spec), beside the active one whose figures are still shown: for the status bar. */
  get loadingSpec(): string | undefined {
    return this.loadingNow;
  }

  /** Why device auto does not use a page's GPU (e.g. a software adapter): logged and shown in the tooltip. */
  noteDevice(note: string): void {
    if (note === this.deviceNote) return;
    this.deviceNote = note;
    this.log.info(note);
    this.statusChanged.fire();
  }

  private completionsRunning = 0;
  /** Whether a Complete Selection is generating: a long hover waits for it (OnnxCausalLm's BESIDE_GENERATION_TOKENS), and says so. */
  get completing(): boolean {
    return this.completionsRunning > 0;
  }

  /** Counts a Complete Selection as running until `running` settles. */
  completion<T>(running: Promise<T>): Promise<T> {
    this.completionsRunning++;
    this.statusChanged.fire();
    return running.finally(() => {
      this.completionsRunning--;
      this.statusChanged.fire();
    });
  }

  reportSpeed(tokensPerSecond: number): void {
    this.lastTokensPerSecond = tokensPerSecond;
    this.statusChanged.fire();
  }

  /** The active model, loading it on first use. Throws LmError when no model could be loaded. */
  async get(): Promise<LanguageModel> {
    if (this.loading) await this.loading;
    if (!this.model && this.failedKey !== this.key) await this.reload(false);
    if (!this.model) throw new LmError(`no model is loaded: ${this.lastError ?? 'unknown error'}`);
    return this.model;
  }

  private loading: Promise<void> | undefined;

  /**
   * Loads the configured model when it is not the one running: Select Model picked the model the
   * setting already names, whose last load failed (the setting does not change, so nothing else
   * would load it: hostile16 M1). Nothing when it is the one running.
   */
  retryConfigured(): Promise<void> | undefined {
    if (this.model && this.modelSpec === this.spec && this.loadedKey === this.key) return undefined;
    this.loadedKey = undefined;
    this.failedKey = undefined;
    return this.reload(true);
  }

  /** Loads the active model again when it is `spec`'s: its folder has new files (a variant downloaded beside the one running). */
  reloadIfActive(spec: string): Promise<void> | undefined {
    if (!this.model || this.activeSpec !== spec || this.spec !== spec) return undefined;
    this.loadedKey = undefined;
    return this.reload(true);
  }

  /** Loads the configured model; one load at a time, the latest setting wins. */
  private reload(announce: boolean): Promise<void> {
    const run = async () => {
      if (this.loading) await this.loading.catch(() => undefined);
      await this.load(announce);
    };
    const p = run().finally(() => {
      if (this.loading === p) this.loading = undefined;
    });
    this.loading = p;
    return p;
  }

  private async load(announce: boolean): Promise<void> {
    this.warnWorkspaceRemote();
    const spec = this.spec;
    const key = this.key;
    if (key === this.loadedKey && this.model) return;
    // A large model takes seconds to load; meanwhile the status bar says so beside the model still active.
    this.loadingNow = spec;
    this.statusChanged.fire();
    let superseded: boolean;
    try {
      superseded = await this.loadSpec(spec, key, announce);
    } finally {
      this.loadingNow = undefined;
      this.statusChanged.fire();
    }
    // The model picked while this one loaded, now.
    if (superseded) await this.load(announce);
  }

  /** Loads `spec`; true when another model was picked meanwhile, so that this one was dropped, not made active. */
  private async loadSpec(spec: string, key: string, announce: boolean): Promise<boolean> {
    const started = Date.now();
    const stopWatch = watchEventLoopDelay();
    // Taken before the load: a change while it reads the files counts as a change.
    const files = modelFilesOf(spec, this.modelsDir);
    const loadedSignature = files.length > 0 ? modelFileSignature(files) : undefined;
    try {
      const model = await this.open(spec);
      if (this.key !== key && this.model) {
        // Another model was picked while this one loaded: it is not announced or made active for a
        // moment (drive13 L5: both were announced, the tooltip and the status bar naming different ones).
        stopWatch();
        model.dispose?.();
        this.log.info(`loaded ${spec}, but another model was picked meanwhile: not used`);
        return true;
      }
      this.model?.dispose?.();
      this.model = model;
      this.modelSpec = spec;
      this.watch(model);
      this.watchFiles(model, spec, files, loadedSignature);
      this.lastTokensPerSecond = undefined;
      this.loadedKey = key;
      this.failedKey = undefined;
      this.lastError = undefined;
      this.log.info(
        `loaded model ${model.info.name} (${model.info.description}) from ${spec} in ${Date.now() - started} ms, ${where(model, spec, this.modelsDir)}; ${describeHold(stopWatch())}`,
      );
      void this.state?.update(LAST_MODEL_KEY, spec);
      this.changed.fire(model);
      this.loadedSpec.fire(spec);
      if (model.info.warning) {
        this.log.warn(`${model.info.name}: ${model.info.warning}`);
        void vscode.window.showWarningMessage(`LM Playground: ${model.info.name}: ${model.info.warning}.`);
      }
      if (announce)
        void vscode.window.showInformationMessage(`LM Playground: now using ${model.info.name}${model.info.device ? ` on ${model.info.device}` : ''}.`);
    } catch (e) {
      stopWatch();
      const message = e instanceof Error ? e.message : String(e);
      this.failedKey = key;
      this.lastError = message;
      this.log.error(`could not load model ${spec}: ${message}`);
      const fallback = this.model ? undefined : await this.loadFallback(spec, key);
      const kept = fallback ? ` Using ${fallback} instead.` : this.model ? ` The previous model (${this.model.info.name}) stays active.` : '';
      offerWayOut(
        vscode.window.showErrorMessage(`LM Playground: could not load the model "${spec}": ${message}${/[.?!]$/.test(message) ? '' : '.'}${kept}`, ...WAY_OUT),
      );
      // Only a fallback changes the model: the one that stays keeps its scores (drive13 L6: a failed load made the status bar score the document again).
      if (fallback) this.changed.fire(this.model);
    }
    return false;
  }

  /**
   * No model is active and the configured one failed: the model that loaded last in this workspace
   * runs (the one the failure message said stays active, drive13 L1: after a reload it was the
   * embedded default instead), else the embedded default, so that every feature keeps working
   * until the setting is fixed. The setting's key counts as loaded: the bad model is tried again
   * when the setting changes. Returns how the message names the model that runs, if one loaded.
   */
  private async loadFallback(failedSpec: string, key: string): Promise<string | undefined> {
    const embedded = absoluteModelSpec(DEFAULT_MODEL, undefined, this.modelsDir);
    const last = this.state?.get<unknown>(LAST_MODEL_KEY);
    const tries: { spec: string; open: () => Promise<LanguageModel>; says: (name: string) => string }[] = [];
    if (typeof last === 'string' && last !== failedSpec && last !== embedded)
      tries.push({ spec: last, open: () => this.open(last), says: (name) => `${name}, the model used last,` });
    if (embedded !== failedSpec)
      tries.push({ spec: embedded, open: () => loadModel(embedded, this.modelsDir, { inWorker: true }), says: (name) => `the embedded ${name}` });
    for (const t of tries) {
      try {
        const model = await t.open();
        this.model = model;
        this.modelSpec = t.spec;
        this.watch(model);
        this.loadedKey = key;
        this.log.info(`using ${model.info.name} (${t.spec}) instead of ${failedSpec}`);
        return t.says(model.info.name);
      } catch (e) {
        this.log.error(`could not load ${t.spec} either: ${e instanceof Error ? e.message : e}`);
      }
    }
    return undefined;
  }

  /**
   * Opens the model through the registry of backends: on WebGPU in a webview when the device
   * setting asks for it and the backend runs there, else in a worker thread when the backend can
   * run in one (loadModel), else on this thread.
   */
  private async open(spec: string): Promise<LanguageModel> {
    checkModelSpec(spec, this.modelsDir);
    if (isRemoteSpec(spec)) return loadModel(spec, this.modelsDir, { apiKey: await apiKeyFor(this.secrets, spec) });
    const device = deviceSetting();
    const gpuHost = this.hosts.gpuHost;
    if (gpuHost && this.autoOnGpuWebview()) return this.openFaster(spec, gpuHost);
    if (device === 'webgpu') {
      const model = recognizeModel(spec, this.modelsDir);
      if (runsOnWebviewGpu(model)) {
        // Closing the panel stops the model: forget it, so that the next use opens a new panel.
        const opened: LanguageModel = await startWebviewEngine(
          this.extensionUri,
          model,
          this.openOptions(model),
          () => this.forget(opened),
          (adapter) => {
            const message = `lmPlayground.device is webgpu, and this window's WebGPU adapter (${adapter}) is a software renderer: ${model.name} runs there many times slower than on the CPU (a hover can take a minute). Set lmPlayground.device to auto or native to run it on the CPU`;
            this.log.warn(message);
            const useCpu = 'Set device to auto';
            void Promise.resolve(vscode.window.showWarningMessage(`LM Playground: ${message}.`, useCpu)).then((picked) => {
              if (picked !== useCpu) return;
              const config = vscode.workspace.getConfiguration(SECTION);
              const inWorkspace = config.inspect<string>('device')?.workspaceValue !== undefined;
              void config.update('device', 'auto', inWorkspace ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global);
            });
          },
        );
        return opened;
      }
    }
    return this.openLocally(spec);
  }

  private warnedWorkspaceRemote: string | undefined;

  /** Says once per value that a workspace's remote model is ignored. */
  private warnWorkspaceRemote(): void {
    const ignored = workspaceRemoteModel();
    if (ignored === undefined || ignored === this.warnedWorkspaceRemote) return;
    this.warnedWorkspaceRemote = ignored;
    const message = `the workspace's settings name a model on a server (${ignored}); a workspace may not send your text to a server, so it is ignored: add it with LM: Select Model → Add remote model… (your User settings)`;
    this.log.warn(message);
    void vscode.window.showWarningMessage(`LM Playground: ${message}.`);
  }

  /**
   * Opens a model with the settings the active one has, in a worker thread when its backend runs
   * in one, else on this thread; never in a webview (a WebGPU device counts as auto). Compare
   * Models opens the other models so.
   */
  openLocally(spec: string, device = deviceSetting()): Promise<LanguageModel> {
    return loadModel(spec, this.modelsDir, { device: device === 'webgpu' ? 'auto' : device, inWorker: true, dtype: dtypeSetting() });
  }

  /** The options a model opens with under the current settings (device aside). */
  private openOptions(model: RecognizedModel): OpenOptions {
    return openOptions(model, { dtype: dtypeSetting() });
  }

  /**
   * Device auto with a real GPU in an open playground: loads the model there and in a worker
   * thread, times a few decode steps on each, and keeps the faster (the other is disposed). Any
   * failure on the page's side leaves the model in the worker thread.
   */
  private async openFaster(spec: string, gpuHost: EngineWebview): Promise<LanguageModel> {
    const model = recognizeModel(spec, this.modelsDir);
    const local = await this.openLocally(spec, 'auto');
    let gpu: LanguageModel | undefined;
    try {
      gpu = await connectWebviewEngine(gpuHost, model, this.openOptions(model), () => undefined, 'auto');
      const ids = local.tokenizer.encode(AUTO_SAMPLE_TEXT, true).map((t) => t.id);
      const onGpu = await withinDeadline(measureDecode(gpu, ids), AUTO_MEASURE_TIMEOUT_MS, 'the measurement on the GPU');
      const onLocal = await withinDeadline(measureDecode(local, ids), AUTO_MEASURE_TIMEOUT_MS, `the measurement on ${local.info.device ?? 'native'}`);
      const choice = chooseAutoDevice(onGpu, onLocal, local.info.device ?? 'native', gpuHost.adapter ?? 'unnamed adapter');
      this.noteDevice(choice.summary);
      if (choice.device === 'webgpu') {
        const kept = gpu;
        local.dispose?.();
        this.gpuHostOf.set(kept, gpuHost);
        gpuHost.onDidDispose(() => this.forget(kept));
        return kept;
      }
    } catch (e) {
      this.noteDevice(
        `device auto: the playground's GPU did not run ${spec} (${e instanceof Error ? e.message : e}); it runs on ${local.info.device ?? 'native'}`,
      );
    }
    gpu?.dispose?.();
    return local;
  }

  /**
   * A model keeps the numbers of the files it read: when they change on the disk (a new export or
   * download to the same path), the model is loaded again from them, with a notice.
   */
  private watchFiles(model: LanguageModel, spec: string, files: string[], loaded: string | undefined): void {
    this.fileWatch?.stop();
    this.fileWatch = undefined;
    if (files.length === 0) return;
    const what = files.length === 1 ? path.basename(files[0]) : `the files of ${model.info.name}`;
    this.fileWatch = new ModelFileWatch(
      files,
      () => {
        if (this.model !== model) return;
        // Another model was picked meanwhile: that one loads, not this one again (hostile16 M2: the
        // notice said the other was "loaded again" from these files).
        if (this.spec !== spec) {
          this.log.info(`${files.length === 1 ? files[0] : what} changed on the disk; another model is picked, which loads instead`);
          return;
        }
        this.log.info(`${files.length === 1 ? files[0] : what} changed on the disk: loading ${model.info.name} again`);
        this.loadedKey = undefined;
        this.failedKey = undefined;
        void this.reload(false).then(() => {
          if (this.model !== model && this.model && this.modelSpec === spec)
            void vscode.window.showInformationMessage(
              `LM Playground: ${what} changed on the disk; ${this.model.info.name} was loaded again from ${files.length === 1 ? 'it' : 'them'}.`,
            );
        });
      },
      loaded,
      () => {
        if (this.model !== model) return;
        this.log.warn(`${files.length === 1 ? files[0] : what} cannot be read any more (deleted or moved)`);
        void vscode.window.showWarningMessage(
          `LM Playground: ${files.length === 1 ? `${files[0]} was` : `${what} were`} deleted or moved. ${model.info.name} runs on from memory, but will not load again (after a window reload or a model change) until ${files.length === 1 ? 'it is' : 'they are'} back.`,
        );
      },
    ).start();
  }

  /**
   * Reports what happens to the model's worker or engine process: the status bar shows it, and a
   * message says why it stopped (llama.cpp's failed assertion, for a GGUF model) and, when it is
   * given up, offers another model.
   */
  private watch(model: LanguageModel): void {
    this.unwatch?.();
    this.unwatch = undefined;
    if (!(model instanceof WorkerLanguageModel) || !model.supervisor) return;
    this.unwatch = model.supervisor.onHealthChange((health) => {
      if (this.model !== model || health.state === 'disposed') return;
      if (health.state === 'stopped') {
        this.log.warn(`${model.info.name}: ${health.reason}`);
        void vscode.window.showWarningMessage(`LM Playground: ${model.info.name}: ${health.reason}.`);
      } else if (health.state === 'running') this.log.info(`${model.info.name}: the model's engine restarted and loaded the model again`);
      else if (health.state === 'failed' && model.supervisor instanceof RelayConnection) return this.moveOffWebview(model, health.reason);
      else if (health.state === 'failed') {
        this.log.error(`${model.info.name}: ${health.reason}`);
        offerWayOut(
          vscode.window.showErrorMessage(
            `LM Playground: ${model.info.name}: ${health.reason}. Choose another model (LM: Select Model) or reload the window.`,
            ...WAY_OUT,
          ),
        );
      }
      this.changed.fire(model);
    });
  }

  /**
   * The engine worker of the webview that ran `model` died: its page may not host again, and the
   * model loads again where the settings now put it (native, or a new LM Engine panel for device
   * webgpu), with a notice; meanwhile requests fail at once with the reason.
   */
  private moveOffWebview(model: LanguageModel, reason: string): void {
    this.log.error(`${model.info.name}: ${reason}`);
    this.forget(model);
    this.gpuHostOf.get(model)?.refute?.();
    model.dispose?.();
    void this.reload(false).then(() => {
      const now = this.model;
      if (now) void vscode.window.showWarningMessage(`LM Playground: ${reason}. ${now.info.name} runs on ${now.info.device ?? 'this computer'} now.`);
    });
  }

  /** The webview that ran `model` is gone: the next use loads the model again. */
  private forget(model: LanguageModel | undefined): void {
    if (!model || this.model !== model) return;
    this.unwatch?.();
    this.unwatch = undefined;
    this.fileWatch?.stop();
    this.fileWatch = undefined;
    this.model = undefined;
    this.loadedKey = undefined;
    this.changed.fire(undefined);
  }

  dispose(): void {
    this.unwatch?.();
    this.fileWatch?.stop();
    this.model?.dispose?.();
    for (const d of this.subscriptions) d.dispose();
  }
}

/** Whether a model's backend can run it on WebGPU in a webview's worker. */
function runsOnWebviewGpu(model: RecognizedModel): boolean {
  const { capabilities } = model.backend;
  return capabilities.placements.includes('webview-worker') && capabilities.devices.includes('webgpu');
}

/** The buttons of a failed load: the two ways to fix the setting. */
const WAY_OUT = ['Select Model', 'Open Settings'] as const;
/** The workspace state's key of the spec of the model that loaded last from the setting. */
const LAST_MODEL_KEY = 'lmPlayground.lastModel';

function offerWayOut(choice: Thenable<string | undefined>): void {
  void Promise.resolve(choice).then((picked) => {
    if (picked === 'Select Model') void vscode.commands.executeCommand('lmPlayground.selectModel');
    else if (picked === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.model`);
  });
}

/** The load's hold on the host's event loop, for the log (the end-to-end tests read it). */
function describeHold(hold: EventLoopHold): string {
  const run = hold.runMs === undefined ? '' : `, its thread running at most ${hold.runMs.toFixed(0)} ms between two 10 ms ticks`;
  return `the host's event loop waited at most ${hold.delayMs.toFixed(0)} ms meanwhile${run}`;
}

/** Whether a loaded model computes on the extension host's thread (a small n-gram model), not behind a worker, process or page. */
export function computesOnHostThread(model: LanguageModel): boolean {
  return !(model instanceof WorkerLanguageModel);
}

/** Where a loaded model computes, for the log: a webview page's worker (its supervisor is the page's relay), an engine process, a worker thread, or this thread. */
function where(model: LanguageModel, spec: string, modelsDir: string): string {
  if (!(model instanceof WorkerLanguageModel)) return "on the extension host's thread";
  if (model.supervisor instanceof RelayConnection) return "in a webview page's worker";
  return runsInNodeProcess(recognizeModel(spec, modelsDir).backend) ? 'in a child process' : 'in a worker thread';
}
