/**
 * Page of the LM Playground panel: prompt, settings and environments; runs every expanded request
 * on its own engine Web Worker (WebGPU when the window has an adapter, else WASM; a GGUF model in
 * the extension's engine, which the page reaches through messages), streaming tokens
 * as spans shaded by probability, with alternatives on hover or focus; a comparison table for
 * scoring runs; and the temperature explorer.
 */
import type { BackendCapabilities } from '../core/backends/capabilities';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { EngineConnection } from '../core/engine/engineClient';
import type { EngineRequest, EngineResponse, ModelDescription } from '../core/engine/protocol';
import { CancelledError } from '../core/errors';
import { topIndices } from '../core/distribution';
import type { Completion, GeneratedToken } from '../core/generation';
import { formatProbability, invisibleEscape, visibleToken } from '../core/numberFormat';
import { GALLERY } from '../playground/gallery';
import { galleryExampleFor, galleryNotes, type ScoredPrompt } from '../playground/galleryNotes';
import { DEFAULT_SETTINGS, type Query } from '../playground/query';
import { buildRequests, isScoring, type PlaygroundRequest } from '../playground/requests';
import { differingVariables } from '../playground/templates';
import { sampledToken } from '../playground/sampledToken';
import { mergeUtf8 } from '../playground/utf8Merge';
import { cardHead } from '../playground/resultCard';
import { firstTokenOfEmptyRun, logProbBits, summarizeCompletion, type RunShape, type ShownCompletion } from '../playground/completionSummary';
import type { FromPlaygroundPage, PlaygroundConfig, PlaygroundModel, ToPlaygroundPage, UnavailablePlaygroundModel } from './playgroundMessages';
import { describeFilesProgress, type FilesProgress, PieceRequests, receiveModelFiles } from './filePieces';
import { el, fragment, themeColor } from './dom';
import { startEngineRelay, type EngineRelay } from './engineRelay';
import { fromRelay } from './relayMessages';
import { completeLoad, startEngineWorker } from './engineWorkerStart';
import { OrtBinaryCache, webGpuAdapter } from './ortBinaries';
import { explorerLayout, startTemperatureExplorer } from './temperatureExplorer';
import { showTokenTip, tokenTipElement } from './tokenTip';
import { randomSeed, streamSeed } from '../core/random';
import { BranchTree, branchSeed, type Branch } from '../playground/branchTree';
import { branchSettings } from '../playground/branchSettings';
import { MAX_SAVED_RESULTS_CHARS, decodeResults, describeResults, encodeResults, type ChosenRef, type SavedResults } from '../playground/savedResults';
import { renderBranches } from './branchView';
import { showInside, type ChosenToken } from './insidePanel';

/** What the webview keeps across a window reload: the form, and the results (savedResults.ts's JSON) when they fit. */
interface PageState {
  query?: Query;
  results?: string;
}
interface VsCodeApi {
  postMessage(message: FromPlaygroundPage): void;
  getState(): PageState | undefined;
  setState(state: PageState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();
const config = JSON.parse(document.getElementById('playground-config')!.textContent!) as PlaygroundConfig;

type Field = HTMLElement & { value: string; checked?: boolean };
const byId = <T extends HTMLElement = Field>(id: string) => document.getElementById(id) as T;

// ---------------------------------------------------------------- layout
const field = (id: string, label: string, control: HTMLElement, cls = 'field') => el('div', { class: cls }, el('vscode-label', { for: id }, label), control);
const text = (id: string, label: string, value: string) => field(id, label, el('vscode-textfield', { id, value, 'aria-label': label }));
const modelOption = (m: PlaygroundModel, selected = false) =>
  el('vscode-option', { value: m.spec, description: m.origin, ...(selected ? { selected: '' } : {}) }, m.label);
// Listed greyed out after the others, so that a model of the editor's lists is never missing unsaid; why is under the form.
const unavailableOption = (m: UnavailablePlaygroundModel) =>
  el('vscode-option', { value: m.spec, description: m.why, disabled: '' }, `${m.label} (cannot run in this page)`);
const modelOptions = (selected?: string) => [...config.models.map((m) => modelOption(m, m.spec === selected)), ...config.unavailable.map(unavailableOption)];
const modelSelect = el<Field>('vscode-single-select', { id: 'model', 'aria-label': 'Model' }, ...modelOptions());
const unavailableNote = el('p', { id: 'models-unavailable', class: 'muted', hidden: '' });
/** The models listed that the page cannot run, each with why (the file to fix, the setting to change). */
function showUnavailable(): void {
  const list = config.unavailable;
  unavailableNote.hidden = !list.length;
  unavailableNote.replaceChildren(
    ...(list.length
      ? [
          'Greyed out in the Model list, as they cannot run in this page: ',
          ...list.flatMap((m, i) => [...(i ? ['; '] : []), el('strong', {}, m.label), `: ${m.why}`]),
        ]
      : []),
  );
}
/** Why the page cannot run this model, when it is one of those listed greyed out. */
const unavailableWhy = (spec: string) => config.unavailable.find((m) => m.spec === spec || m.label === spec);

/**
 * The models offered changed (one trained, downloaded or selected meanwhile): the list follows;
 * the form keeps its model while it is still offered, and the results stay.
 */
function setModels(models: PlaygroundModel[], unavailable: UnavailablePlaygroundModel[], defaultModel: string): void {
  const chosen = modelSelect.value;
  const added = models.filter((m) => !config.models.some((x) => x.spec === m.spec));
  const listed = models.some((m) => m.spec === chosen);
  // The editor's model chosen here follows a switch of it, unless it made the results on the page:
  // it stays with them, as a saved query pairs them (drive20 M1, hostile21 M1). A model the user
  // chose here stays while it is listed.
  const follows = chosen === config.defaultModel && defaultModel !== chosen;
  const madeResults = live.cards.some((c) => c.request.model === chosen);
  const keep = listed && (!follows || madeResults) ? chosen : defaultModel;
  const label = (spec: string) => models.find((m) => m.spec === spec)?.label ?? spec;
  config.models = models;
  config.unavailable = unavailable;
  config.defaultModel = defaultModel;
  // The element reads its options when they are slotted: the one marked selected is the value.
  modelSelect.replaceChildren(...modelOptions(keep));
  modelSelect.value = keep;
  showUnavailable();
  showIdleStatus();
  const notes: string[] = [];
  if (added.length) notes.push(`Now in the Model list: ${added.map((m) => m.label).join(', ')}.`);
  if (follows && keep === chosen)
    notes.push(
      `The editor now uses ${label(defaultModel)}; Model stays ${label(chosen)}, whose results these are (choose ${label(defaultModel)} and Run for its).`,
    );
  else if (follows) notes.push(`Model follows the editor's: now ${label(defaultModel)}.`);
  if (notes.length) message(notes.join(' '), 'info');
}
const gallerySelect = el<Field>(
  'vscode-single-select',
  { id: 'gallery', 'aria-label': 'Gallery of examples' },
  el('vscode-option', { value: '' }, 'Gallery: examples from the lecture…'),
  ...GALLERY.map((g, i) => el('vscode-option', { value: String(i), description: g.description }, g.title)),
);

byId('app').replaceChildren(
  el('header', {}, el('h1', {}, 'LM Playground'), el('p', { id: 'engine-status', class: 'muted', role: 'status' }, 'engine: starting…')),
  el(
    'section',
    { class: 'query', 'aria-label': 'Query' },
    field(
      'prompt',
      'Prompt (may contain ${variables})',
      el('vscode-textarea', { id: 'prompt', rows: '5', resize: 'vertical', 'aria-label': 'Prompt' }),
      'field wide',
    ),
    field(
      'environments',
      'Environments: one variable per line, name: [value, value, …]',
      el('vscode-textarea', { id: 'environments', rows: '2', resize: 'vertical', placeholder: 'pronoun: [He, She]', 'aria-label': 'Environments' }),
      'field wide',
    ),
    el(
      'div',
      { class: 'settings' },
      field('model', 'Model', modelSelect),
      text('temperature', 'Temperature', DEFAULT_SETTINGS.temperature),
      text('maxTokens', 'Max tokens', DEFAULT_SETTINGS.maxTokens),
      text('topKPerToken', 'Top-k per token', DEFAULT_SETTINGS.topKPerToken),
      text('topP', 'Top-p', DEFAULT_SETTINGS.topP),
      text('numCompletions', 'Completions', DEFAULT_SETTINGS.numCompletions),
      text('seed', 'Seed', DEFAULT_SETTINGS.seed),
      field(
        'stopSequences',
        'Stop sequences (one per line, \\n for a line break)',
        el('vscode-textarea', { id: 'stopSequences', rows: '2', 'aria-label': 'Stop sequences' }),
      ),
      el('div', { class: 'field check' }, el('vscode-checkbox', { id: 'echoPrompt', label: 'Echo prompt (with max tokens 0: score the prompt)' })),
    ),
    unavailableNote,
    el(
      'div',
      { class: 'buttons' },
      el('vscode-button', { id: 'run', title: 'Ctrl+Enter' }, 'Run'),
      el('vscode-button', { id: 'stop', secondary: '', disabled: '' }, 'Stop'),
      el('vscode-button', { id: 'save', secondary: '' }, 'Save query…'),
      el('vscode-button', { id: 'open', secondary: '' }, 'Open query…'),
      gallerySelect,
    ),
    el('p', { id: 'message', role: 'alert', class: 'message' }),
    el('div', { id: 'gallery-notes', class: 'gallery-notes', role: 'status' }),
  ),
  el(
    'vscode-tabs',
    { id: 'tabs' },
    el('vscode-tab-header', { slot: 'header' }, 'Results'),
    el(
      'vscode-tab-panel',
      {},
      el('div', { id: 'comparison' }),
      el('div', { id: 'results', class: 'results' }),
      el('section', { id: 'inside', class: 'inside', 'aria-label': 'Inside the model', hidden: '' }),
    ),
    el('vscode-tab-header', { slot: 'header' }, 'Temperature explorer'),
    el('vscode-tab-panel', {}, explorerLayout()),
  ),
  tokenTipElement(),
);

// ---------------------------------------------------------------- form state
const settingIds = ['temperature', 'maxTokens', 'topKPerToken', 'topP', 'numCompletions', 'seed', 'stopSequences'] as const;

function readQuery(): Query {
  const s = { ...DEFAULT_SETTINGS, model: modelSelect.value };
  for (const id of settingIds) s[id] = byId(id).value;
  s.echoPrompt = !!byId('echoPrompt').checked;
  return { prompt: byId('prompt').value, environments: byId('environments').value, settings: s };
}

/** Fills the form with a query; false when the query names a model that is not offered here (said on the page). */
function writeQuery(q: Query): boolean {
  byId('prompt').value = q.prompt;
  byId('environments').value = q.environments;
  for (const id of settingIds) byId(id).value = q.settings[id];
  byId('echoPrompt').checked = q.settings.echoPrompt;
  const known = config.models.some((m) => m.spec === q.settings.model);
  modelSelect.value = known ? q.settings.model : config.defaultModel;
  if (!known && q.settings.model && !q.settings.model.includes('${')) {
    const cannot = unavailableWhy(q.settings.model);
    message(
      cannot
        ? `The query names the model "${cannot.label}", which cannot run in this page (${cannot.why}): using ${modelLabel(config.defaultModel)}.`
        : `The query names the model "${q.settings.model}", which is not available here: using ${config.defaultModel}.`,
    );
    return false;
  }
  return true;
}

/** The results on screen, as they are kept; undefined until they change again once encoded. */
let keptResults: { text?: string; tooLarge?: number } | undefined;

/**
 * Keeps the form and the results: in the webview's state (a window reload revives the panel with
 * it) and, through the extension, in the workspace's state (a closed tab's next panel opens with it).
 */
function persist(): void {
  const query = readQuery();
  keptResults ??= encodeLive();
  const results = keptResults.text;
  vscode.setState({ query, results });
  vscode.postMessage({ type: 'keep', query, results });
}

function encodeLive(): { text?: string; tooLarge?: number } {
  if (live.cards.length === 0) return {};
  const text = encodeResults(savedLive());
  if (text.length <= MAX_SAVED_RESULTS_CHARS) return { text };
  message(
    `These results take ${(text.length / 2 ** 20).toFixed(1)} MiB, more than the ${MAX_SAVED_RESULTS_CHARS / 2 ** 20} MiB the playground keeps: ` +
      'they will not come back after this tab is closed or the window reloads, nor go into a saved query (fewer tokens, completions or alternatives per token would fit).',
    'info',
  );
  return { tooLarge: text.length };
}

/** The results changed: kept again. */
function resultsChanged(): void {
  keptResults = undefined;
  persist();
}

const message = (t: string, kind: 'error' | 'info' = 'error') => {
  const m = byId('message');
  m.textContent = t;
  m.className = `message ${kind}`;
};

// ---------------------------------------------------------------- engine
const status = byId('engine-status');
let worker: Worker | undefined;
let connection: EngineConnection | undefined;
let loadedSpec: string | undefined;
/** The status line of the loaded model's last load or run: shown again while it is the model chosen. */
let loadedStatus = '';
let loadedDevice = '';
/** The loaded model's name in the model list (a file's name, where its spec is a whole path). */
let loadedLabel = '';
let loadedContext: number | undefined;
const ortBinaries = new OrtBinaryCache(config.ortBinaries);

async function engine(): Promise<EngineConnection> {
  if (connection) return connection;
  worker = await startEngineWorker(config.workerUrl);
  const conn = new EngineConnection((req: EngineRequest, transfer?: ArrayBuffer[]) => worker!.postMessage(req, { transfer: transfer ?? [] }));
  worker.onmessage = (e: MessageEvent<EngineResponse>) => conn.receive(e.data);
  const started = worker;
  worker.onerror = (e) => {
    // A worker after an uncaught error is not trusted: it stops, every request fails at once, and
    // the next run starts a new one (its model loads again).
    if (connection !== conn) return;
    started.terminate();
    connection = undefined;
    loadedSpec = undefined;
    conn.close(new Error(`the engine worker stopped (${e.message}); the next run starts a new one`));
  };
  connection = conn;
  return conn;
}

/** Model files come from the extension as bytes: the page has no resource root in a model's folder. */
const fileRequests = new PieceRequests();
const readModelFilePiece = (spec: string, name: string, offset: number) =>
  fileRequests.ask((id) => vscode.postMessage({ type: 'readModelFile', id, spec, name, offset }));

/** The engine that runs a host model: the extension's, reached through messages (its responses come as `hostEngine`). */
let hostConnection: EngineConnection | undefined;
function hostEngine(): EngineConnection {
  hostConnection ??= new EngineConnection((request: EngineRequest) => vscode.postMessage({ type: 'hostEngine', request }));
  return hostConnection;
}
/** The engine the loaded model is in. */
let loadedConnection: EngineConnection | undefined;

/** Loads a model where it runs (this page's worker, or the extension for a host model); resolves with that engine. */
async function loadModel(spec: string): Promise<EngineConnection> {
  if (spec === loadedSpec && loadedConnection) return loadedConnection;
  const m: PlaygroundModel | undefined = config.models.find((x) => x.spec === spec || x.label === spec);
  if (!m) {
    const cannot = unavailableWhy(spec);
    if (cannot) throw new Error(`${cannot.label} cannot run in this page: ${cannot.why}`);
    throw new Error(`no model "${spec}" here: choose one of ${config.models.map((x) => x.label).join(', ')}`);
  }
  const conn = m.host ? hostEngine() : await engine();
  status.textContent = `${m.backend === 'remote' ? 'opening' : 'loading'} ${m.label}${m.host && m.backend !== 'remote' ? ' in the extension' : ''}…`;
  loadedSpec = undefined;
  // A host model left loaded in the extension while the page runs another would hold its memory.
  if (loadedConnection === hostConnection && conn !== hostConnection) void hostConnection?.request({ op: 'dispose' }).catch(() => undefined);
  loadedConnection = undefined;
  let model: ModelDescription;
  if (m.host) {
    // The extension opens only the models it offered, by their spec.
    ({ model } = await conn.request({ op: 'load', spec: { backend: m.backend, name: m.label, source: { path: m.spec }, device: 'auto' } }));
  } else {
    const device = config.device ?? 'auto';
    // A large model's files take a minute or more to arrive: the status says how far (drive16 M3).
    let bytes = 0;
    const received = (p: FilesProgress) => {
      bytes = p.total;
      status.textContent = `loading ${m.label}: ${describeFilesProgress(p)}…`;
    };
    const files = await receiveModelFiles(m.files, (role, offset) => readModelFilePiece(m.spec, role, offset), received);
    status.textContent = `loading ${m.label}: ${(bytes / 2 ** 20).toFixed(0)} MiB received, starting the runtime on them…`;
    const { spec: loadSpec, transfer } = await completeLoad({ backend: m.backend, name: m.label, source: { files }, device, runtime: m.runtime }, ortBinaries);
    // The load message carries the file bytes: moved to the worker, not copied.
    ({ model } = await conn.request({ op: 'load', spec: loadSpec }, undefined, undefined, transfer));
  }
  loadedSpec = spec;
  loadedLabel = m.label;
  loadedConnection = conn;
  loadedCapabilities.set(spec, model.capabilities);
  // Tokens generation never draws (a start-of-text that is not also the end, the unknown-word class): no branch through them.
  const never = [...model.unsampleableIds, model.unkId, model.bosId !== model.eosId ? model.bosId : undefined];
  neverDrawn.set(spec, new Set(never.filter((id): id is number => id !== undefined)));
  loadedContext = model.contextLength;
  // A model without a device runs in plain JavaScript in this webview's worker; a server model samples on its server.
  loadedDevice =
    m.backend === 'remote'
      ? 'its server'
      : m.host
        ? `${model.device ?? 'Node'} in ${m.runsIn ?? 'the extension'}`
        : (model.device ?? 'this webview (JavaScript)');
  status.textContent = m.backend === 'remote' ? `${m.label} (sampling on the server)` : `${m.label} on ${loadedDevice}`;
  loadedStatus = status.textContent;
  return conn;
}

// ---------------------------------------------------------------- results
interface TokenView extends GeneratedToken {
  prompt?: boolean;
}

const tip = byId<HTMLElement>('token-tip');

/**
 * A token's text with each line break in a span of its own, which the style sheet marks ⏎ (a token of line breaks alone is otherwise an empty box),
 * and each control or invisible character marked by its escape (\x07; a byte token's BEL or U+0085 is otherwise a box or nothing).
 */
function withLineBreakMarks(text: string): (string | HTMLElement)[] {
  const marked = (part: string): (string | HTMLElement)[] => {
    const out: (string | HTMLElement)[] = [];
    let plain = '';
    for (const ch of part) {
      const escape = invisibleEscape(ch);
      if (escape === undefined) plain += ch;
      else {
        if (plain) out.push(plain);
        plain = '';
        // The escape is drawn by the style sheet (not copied); the character itself stays in the text, unseen.
        const title = `control or invisible character U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
        out.push(el('span', { class: 'ctl', title, 'data-escape': escape }), el('span', { class: 'ctl-raw' }, ch));
      }
    }
    if (plain) out.push(plain);
    return out;
  };
  return text.split('\n').flatMap((part, i) => [...(i ? [el('span', { class: 'lb' }, '\n')] : []), ...marked(part)]);
}
/**
 * Token spans, with byte tokens that split a character merged into one span. With `choose`, a
 * click or Enter on a span chooses its token (its index plus `first`) for the inside panel.
 */
function tokenSpans(tokens: TokenView[], choose?: (index: number) => void, first = 0): HTMLElement[] {
  return mergeUtf8(tokens).map((piece) => {
    const group = tokens.slice(piece.first, piece.last + 1);
    const p = Math.exp(group.reduce((s, x) => s + x.logProb, 0));
    const span = el(
      'span',
      {
        class: `tok${group[0].prompt ? ' prompt' : ''}`,
        tabindex: '0',
        'aria-describedby': 'token-tip',
        'aria-label': `${visibleToken(piece.text)}: p ${formatProbability(p)}`,
      },
      ...withLineBreakMarks(piece.text),
    );
    if (Number.isFinite(p))
      span.style.backgroundColor = `color-mix(in srgb, ${themeColor('--vscode-charts-green', '#2ea043')} ${Math.round(15 + 70 * p)}%, transparent)`;
    const show = () => showTokenTip(tip, span, group, piece.text);
    span.addEventListener('mouseenter', show);
    span.addEventListener('focus', show);
    span.addEventListener('mouseleave', () => (tip.hidden = true));
    span.addEventListener('blur', () => (tip.hidden = true));
    if (choose) {
      span.classList.add('choosable');
      span.dataset.index = String(first + piece.first);
      span.addEventListener('click', () => choose(first + piece.first));
      span.addEventListener('keydown', (e) => {
        if (e.key !== 'Enter' || e.ctrlKey || e.metaKey) return;
        e.preventDefault();
        choose(first + piece.first);
      });
    }
    return span;
  });
}

/** A completion with its tree of continuations, and what a branch from it is generated with. */
interface CompletionState {
  tree: BranchTree;
  completion: ShownCompletion;
  request: PlaygroundRequest;
  model: string;
  promptTokens: GeneratedToken[];
  /** The prompt's ids, markers the echo leaves out included (Completion.promptIds). */
  promptIds?: number[];
  branches: HTMLElement;
  /** The completion's own seed: its branches' seeds are made from it (branchSeed). */
  seed: number;
  /** The completion's own row. */
  view: HTMLElement;
  /** Where it is in the results: card and completion. */
  place: { card: number; completion: number };
}

/** The results on screen: each card's request and completions (with their trees), and the chosen token. */
let live: { cards: { request: PlaygroundRequest; states: CompletionState[] }[]; differ: string[]; chosen?: ChosenRef } = { cards: [], differ: [] };

function savedLive(): SavedResults {
  return {
    cards: live.cards.map((c) => ({ request: c.request, completions: c.states.map((s) => ({ completion: s.completion, branches: s.tree.saved() })) })),
    differ: live.differ,
    ...(live.chosen ? { chosen: live.chosen } : {}),
  };
}

function completionView(
  c: ShownCompletion,
  run: RunShape,
  request: PlaygroundRequest,
  model: string,
  place: CompletionState['place'],
  branches: readonly Branch[] = [],
): CompletionState {
  const prompt: TokenView[] = (c.promptTokens ?? []).map((t) => ({ ...t, prompt: true }));
  const summary = summarizeCompletion(c, run);
  const state: CompletionState = {
    tree: BranchTree.restore(c.tokens, c.finishReason === 'stopped' ? undefined : c.finishReason, branches),
    completion: c,
    request,
    model,
    promptTokens: prompt,
    promptIds: c.promptIds,
    seed: c.seed,
    // A plain list (no ARIA tree, whose arrow-key navigation it does not have): each row names the branch it left.
    branches: el('ul', { class: 'branches', 'aria-label': 'Continuations from chosen alternatives', hidden: '' }),
    view: el('div', { class: 'completion', 'data-index': String(c.index), tabindex: '-1' }),
    place,
  };
  // Every echoed prompt token is scored, the first after the model's start of text.
  const promptSpans = tokenSpans(prompt, (i) => choosePromptToken(state, i));
  const generated = tokenSpans(c.tokens, (i) => chooseToken(state, 0, i));
  state.view.append(
    el('div', { class: 'text' }, fragment(promptSpans), fragment(generated)),
    ...(summary.stoppedAtOnce ? [el('div', { class: 'stopped-at-once' }, summary.stoppedAtOnce)] : []),
    el('div', { class: 'meta' }, summary.meta),
  );
  if (branches.length) drawBranches(state);
  return state;
}

// ---------------------------------------------------------------- inside panel and branches
const insidePanel = byId<HTMLElement>('inside');

function markChosen(span: Element | null | undefined): void {
  document.querySelectorAll('.tok.chosen-token').forEach((s) => {
    s.classList.remove('chosen-token');
    s.removeAttribute('aria-current');
  });
  span?.classList.add('chosen-token');
  span?.setAttribute('aria-current', 'true');
}

function insideContext(state: CompletionState, chosen: ChosenToken) {
  return {
    chosen,
    // Where the model runs: this page's worker, or the extension for a GGUF model.
    engine: () => loadModel(state.model),
  };
}

/**
 * What a model offers, as its worker reported it on load: the inside views a neural model has
 * depend on its graph's outputs, not only on its backend.
 */
const loadedCapabilities = new Map<string, BackendCapabilities>();
const neverDrawn = new Map<string, ReadonlySet<number>>();
const capabilitiesOf = (spec: string) => loadedCapabilities.get(spec) ?? config.models.find((m) => m.spec === spec || m.label === spec)?.capabilities;

const modelLabel = (spec: string) => config.models.find((m) => m.spec === spec)?.label ?? spec;

/** Shows the chosen token in the inside panel, and keeps the choice; `restoring`: as it was, without taking the focus. */
function showChosen(
  state: CompletionState,
  chosen: ChosenToken,
  ref: ChosenRef,
  span: Element | null,
  branch?: (alternative: number) => void,
  restoring = false,
): void {
  markChosen(span);
  showInside(insidePanel, insideContext(state, chosen), {
    capabilities: capabilitiesOf(state.model),
    branch,
    neverDrawn: neverDrawn.get(state.model),
    settings: branchSettings(modelLabel(state.model), state.request.options, state.seed),
    closed: () => {
      markChosen(null);
      live.chosen = undefined;
      resultsChanged();
      // Back to the token the panel was about, when it is still on the page.
      if (span?.isConnected) (span as HTMLElement).focus();
    },
  });
  live.chosen = ref;
  if (restoring) return;
  resultsChanged();
  insidePanel.scrollIntoView({ block: 'nearest' });
  byId<HTMLElement>('inside-heading').focus();
}

/** A generated token of branch `id` (path index `index`): the inside panel, with its alternatives to branch from. */
function chooseToken(state: CompletionState, id: number, index: number, span?: Element | null, restoring = false): void {
  const path = state.tree.path(id);
  const token = path[index];
  // The generation that drew the token (a branch's first token is its parent's draw) was given the prompt and, for a branch, its path to its choice.
  const owner = state.tree.owner(id, index);
  showChosen(
    state,
    {
      model: state.model,
      prompt: state.request.prompt,
      before: path.slice(0, index).map((t) => t.id),
      generated: owner.parent === undefined ? 0 : owner.at + 1,
      token,
      where: `token ${index + 1} of ${id === 0 ? 'the completion' : `branch ${id}`}`,
    },
    { ...state.place, branch: id, index },
    span ?? document.activeElement,
    (alternative) => void branchFrom(state, id, index, alternative),
    restoring,
  );
}

function choosePromptToken(state: CompletionState, index: number, span?: Element | null, restoring = false): void {
  const token = state.promptTokens[index];
  // The context the token was scored in: the prompt's ids before it, with the start-of-text markers
  // the echo leaves out (also one written in the prompt). A result without them (a model on a
  // server) has the echoed tokens after the empty prompt's start of text.
  const exact = state.promptIds && token.position !== undefined;
  showChosen(
    state,
    {
      model: state.model,
      prompt: exact ? undefined : '',
      before: exact ? state.promptIds!.slice(0, token.position) : state.promptTokens.slice(0, index).map((t) => t.id),
      token,
      where: `token ${index + 1} of the prompt`,
    },
    { ...state.place, branch: 0, index, prompt: true },
    span ?? document.activeElement,
    undefined,
    restoring,
  );
}

function drawBranches(state: CompletionState, running?: number): void {
  renderBranches(
    state.branches,
    state.tree,
    (tokens, choose, first) => tokenSpans(tokens, choose, first),
    (id, index) => chooseToken(state, id, index),
    running,
    stopRunning,
  );
}

/** Continues the generation from `alternative` at path index `index` of branch `id`: a new branch of the tree. */
async function branchFrom(state: CompletionState, id: number, index: number, alternative: number): Promise<void> {
  if (running) {
    message('A generation is running: wait for it, or Stop it, before branching.');
    return;
  }
  const at = state.tree.path(id)[index];
  const alt = at.alternatives?.find((a) => a.id === alternative);
  if (!alt) return;
  const { branch, existed } = state.tree.branchFrom(id, index, alt);
  // A branch that was stopped or failed is continued where it ended, rather than kept as a stub.
  const resumed = existed && branch.id !== 0 && branch.finishReason === undefined;
  // The branch's row takes the focus (not a token, whose tooltip would cover the panel); Tab goes on to its tokens.
  const focusBranch = () => {
    const row = branch.id === 0 ? state.branches.previousElementSibling : state.branches.querySelector(`[data-branch="${branch.id}"]`);
    (row as HTMLElement | null)?.focus();
  };
  if (existed && !resumed) {
    message(`That continuation is already here (${branch.id === 0 ? 'the completion' : `branch ${branch.id}`}).`, 'info');
    focusBranch();
    return;
  }
  const signal = { cancelled: false };
  running = signal;
  byId('stop').removeAttribute('disabled');
  byId('run').setAttribute('disabled', '');
  message('', 'info');
  const kept = branch.tokens.length;
  const continuation = state.tree.path(branch.id).map((t) => t.id);
  const seed = branchSeed(state.seed, continuation);
  state.tree.resume(branch.id);
  branch.seeds = [...(branch.seeds ?? []), seed];
  drawBranches(state, branch.id);
  focusBranch();
  resultsChanged();
  try {
    const conn = await loadModel(state.model);
    const maxTokens = state.request.options.maxTokens - (kept - 1);
    const options = { ...state.request.options, maxTokens, seed, numCompletions: 1, echoPrompt: false };
    // Stop takes effect on screen at once: chunks still queued from the engine (it can run far ahead
    // of the drawing) are not drawn, and an answer that arrives after Stop is not taken.
    const res = await conn.request({ op: 'generate', prompt: state.request.prompt, continuation, options }, signal, (r) => {
      if (signal.cancelled) return;
      state.tree.append(branch.id, r.tokens);
      drawBranches(state, branch.id);
    });
    if (signal.cancelled) throw new CancelledError();
    const c = res.completions[0];
    state.tree.finish(branch.id, c.tokens, c.finishReason, kept);
  } catch (e) {
    if (e instanceof CancelledError || signal.cancelled) message('Stopped: the branch keeps what was generated.', 'info');
    else {
      // On the branch's row, where the user is looking; the form's message line may be far above.
      state.tree.fail(branch.id, (e as Error).message);
      message((e as Error).message);
    }
  } finally {
    running = undefined;
    byId('stop').setAttribute('disabled', '');
    byId('run').removeAttribute('disabled');
    drawBranches(state);
    focusBranch();
    resultsChanged();
  }
}

let running: { cancelled: boolean } | undefined;

async function run(): Promise<void> {
  if (running) return;
  persist();
  message('', 'info');
  let requests: PlaygroundRequest[];
  try {
    requests = buildRequests(readQuery());
  } catch (e) {
    message((e as Error).message);
    return;
  }
  const signal = { cancelled: false };
  running = signal;
  byId('stop').removeAttribute('disabled');
  byId('run').setAttribute('disabled', '');
  const results = byId<HTMLElement>('results');
  const comparison = byId<HTMLElement>('comparison');
  results.replaceChildren();
  comparison.replaceChildren();
  insidePanel.hidden = true;
  const differ = differingVariables(requests);
  live = { cards: [], differ };
  resultsChanged();
  const scored: { request: PlaygroundRequest; logProb: number; tokens: string[] }[] = [];
  const completions: Completion[] = [];
  showGalleryNotes(requests[0]?.model || config.defaultModel);
  /** The request being generated, and its tokens so far: Stop turns them into a result like any other. */
  let current: { request: PlaygroundRequest; body: HTMLElement; partial: Map<number, GeneratedToken[]> } | undefined;
  try {
    for (const unseeded of requests) {
      // A seed chosen here when none is given, so that a stopped run still says which seed made it.
      const request = { ...unseeded, options: { ...unseeded.options, seed: unseeded.options.seed ?? randomSeed() } };
      if (signal.cancelled) break;
      const { card, body } = resultCard(request, differ);
      results.append(card);
      const conn = await loadModel(request.model || config.defaultModel);
      const streams = new Map<number, HTMLElement>();
      const started = performance.now();
      let generated = 0;
      const partial = new Map<number, GeneratedToken[]>();
      current = { request, body, partial };
      const res = await conn.request({ op: 'generate', prompt: request.prompt, options: request.options }, signal, (r) => {
        const { completion, tokens } = r;
        generated += tokens.length;
        partial.set(completion, [...(partial.get(completion) ?? []), ...tokens]);
        let line = streams.get(completion);
        if (!line) {
          line = el('div', { class: 'completion streaming', 'data-index': String(completion) });
          streams.set(completion, line);
          body.append(line);
        }
        line.append(fragment(tokenSpans(tokens)));
      });
      const seconds = (performance.now() - started) / 1000;
      const tps = generated > 0 && seconds > 0 ? generated / seconds : 0;
      const where = loadedDevice === 'its server' ? `${loadedLabel} (sampling on the server)` : `${loadedLabel} on ${loadedDevice}`;
      status.textContent = `${where}${tps ? ` · ${Math.round(tps)} tokens/s` : ''}`;
      loadedStatus = status.textContent;
      if (tps) vscode.postMessage({ type: 'ran', model: request.model, device: loadedDevice, tokensPerSecond: tps });
      const scoring = isScoring(request);
      // Kept with the model it ran on: the default may be another one when the results come back.
      const model = request.model || config.defaultModel;
      const kept = { ...request, model };
      const place = live.cards.length;
      const states = res.completions.map((c, j) => completionView(c, runShape(request), kept, model, { card: place, completion: j }));
      body.replaceChildren(...states.flatMap((st) => [st.view, st.branches]));
      live.cards.push({ request: kept, states });
      if (!scoring) completions.push(...res.completions);
      const promptTokens = res.completions[0].promptTokens ?? [];
      if (scoring) scored.push({ request, logProb: promptTokens.reduce((s, t) => s + t.logProb, 0), tokens: promptTokens.map((t) => t.text) });
    }
    if (scored.length > 1) comparison.replaceChildren(comparisonTable(scored, differ));
    if (!signal.cancelled)
      showGalleryNotes(
        requests[0]?.model || config.defaultModel,
        scored.map((s) => ({ bindings: s.request.bindings, prompt: s.request.prompt, logProb: s.logProb, tokens: s.tokens })),
        firstTokenOfEmptyRun(completions),
      );
  } catch (e) {
    if (e instanceof CancelledError || signal.cancelled) {
      message('Stopped: the tokens made so far can be chosen and branched from.', 'info');
      if (current?.partial.size) showStopped(current.request, current.body, current.partial);
    } else message((e as Error).message);
  } finally {
    running = undefined;
    byId('stop').setAttribute('disabled', '');
    byId('run').removeAttribute('disabled');
    resultsChanged();
  }
}

const runShape = (request: PlaygroundRequest): RunShape => ({
  scoring: isScoring(request),
  numCompletions: request.options.numCompletions ?? 1,
  stopSequences: request.options.stopSequences ?? [],
});

/** A request's card: its heading (the variables that differ), its prompt line, and the body its completions go in. */
function resultCard(request: PlaygroundRequest, differ: string[]): { card: HTMLElement; body: HTMLElement } {
  const head = cardHead(request, differ);
  const body = el('div', { class: 'completions' });
  const card = el(
    'section',
    { class: 'card', 'aria-label': head.label },
    ...(head.heading !== undefined ? [el('h2', {}, head.heading)] : []),
    ...(head.prompt !== undefined ? [el('div', { class: 'prompt-line muted' }, head.prompt)] : []),
    body,
  );
  return { card, body };
}

/**
 * Shows results kept from an earlier session (or saved with a query), as the run left them: the
 * cards, their branches, the comparison of scored prompts, and the token the inside panel showed.
 */
function restoreResults(text: string, source: string, said: string): void {
  let saved: SavedResults;
  try {
    saved = decodeResults(text, source);
  } catch (e) {
    message(`The earlier results could not be shown: ${(e as Error).message}`);
    return;
  }
  const results = byId<HTMLElement>('results');
  const comparison = byId<HTMLElement>('comparison');
  insidePanel.hidden = true;
  live = { cards: [], differ: saved.differ };
  const cards: HTMLElement[] = [];
  const scored: { request: PlaygroundRequest; logProb: number; tokens: string[] }[] = [];
  const completions: Completion[] = [];
  for (const [i, card] of saved.cards.entries()) {
    const { card: section, body } = resultCard(card.request, saved.differ);
    const model = card.request.model || config.defaultModel;
    const states = card.completions.map((c, j) =>
      completionView(c.completion, runShape(card.request), card.request, model, { card: i, completion: j }, c.branches),
    );
    body.replaceChildren(...states.flatMap((st) => [st.view, st.branches]));
    cards.push(section);
    live.cards.push({ request: card.request, states });
    const first = card.completions[0]?.completion;
    if (isScoring(card.request) && first)
      scored.push({
        request: card.request,
        logProb: (first.promptTokens ?? []).reduce((s, t) => s + t.logProb, 0),
        tokens: (first.promptTokens ?? []).map((t) => t.text),
      });
    // A stopped run's completions have no first token to tell of.
    else for (const { completion: c } of card.completions) if (c.finishReason !== 'stopped') completions.push({ ...c, finishReason: c.finishReason });
  }
  results.replaceChildren(...cards);
  comparison.replaceChildren(...(scored.length > 1 ? [comparisonTable(scored, saved.differ)] : []));
  const model = saved.cards[0]?.request.model || config.defaultModel;
  showGalleryNotes(
    model,
    scored.map((sc) => ({ bindings: sc.request.bindings, prompt: sc.request.prompt, logProb: sc.logProb, tokens: sc.tokens })),
    firstTokenOfEmptyRun(completions),
  );
  const c = saved.chosen;
  const state = c && live.cards[c.card]?.states[c.completion];
  if (c && state) {
    const row = c.branch === 0 ? state.view : state.branches.querySelector(`[data-branch="${c.branch}"]`);
    const span = row?.querySelector(`.tok${c.prompt ? '.prompt' : ':not(.prompt)'}[data-index="${c.index}"]`);
    if (c.prompt) choosePromptToken(state, c.index, span, true);
    else chooseToken(state, c.branch, c.index, span, true);
  }
  message(`${said}: ${describeResults(saved)} as they were left; Run replaces them.`, 'info');
  keptResults = { text };
}

/** A stopped run's streamed tokens as results: choosable, branchable, their summary saying "stopped". */
function showStopped(request: PlaygroundRequest, body: HTMLElement, partial: Map<number, GeneratedToken[]>): void {
  const shape: RunShape = { scoring: false, numCompletions: request.options.numCompletions ?? 1, stopSequences: request.options.stopSequences ?? [] };
  const views = [...partial.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, tokens]) => {
      const c: ShownCompletion = {
        text: tokens.map((t) => t.text).join(''),
        tokens,
        logProb: tokens.reduce((sum, t) => sum + t.logProb, 0),
        finishReason: 'stopped',
        seed: streamSeed(request.options.seed!, index),
        index,
      };
      return c;
    });
  // A result like any other: kept, and restored with the rest.
  const model = request.model || config.defaultModel;
  const kept = { ...request, model };
  const place = live.cards.length;
  const states = views.map((c, j) => completionView(c, shape, kept, model, { card: place, completion: j }));
  body.replaceChildren(...states.flatMap((st) => [st.view, st.branches]));
  live.cards.push({ request: kept, states });
}

function comparisonTable(scored: { request: PlaygroundRequest; logProb: number }[], differ: string[]): HTMLElement {
  const sorted = [...scored].sort((a, b) => b.logProb - a.logProb);
  const best = sorted[0].logProb;
  return el(
    'table',
    { id: 'comparison-table', class: 'numbers' },
    el('caption', {}, 'Scored prompts, most probable first'),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ...['#', ...(differ.length ? differ : ['prompt']), 'log₂ p', 'difference', 'p relative to the best'].map((h) => el('th', { scope: 'col' }, h)),
      ),
    ),
    el(
      'tbody',
      {},
      fragment(
        sorted.map((s, i) =>
          el(
            'tr',
            {},
            el('td', {}, String(i + 1)),
            ...(differ.length ? differ.map((k) => el('td', {}, s.request.bindings[k])) : [el('td', {}, s.request.prompt)]),
            el('td', {}, logProbBits(s.logProb)),
            el('td', {}, i === 0 ? '—' : logProbBits(s.logProb - best)),
            el('td', {}, formatProbability(Math.exp(s.logProb - best))),
          ),
        ),
      ),
    ),
  );
}

// ---------------------------------------------------------------- temperature explorer
/** Tokens asked of the engine: a server's top 20 (vLLM's cap) to renormalise over, else the top 10 shown. */
function explorerK(): number {
  return config.models.find((x) => x.spec === loadedSpec)?.backend === 'remote' ? 20 : 10;
}

/** log-probs renormalised to sum to 1 over the entries given. */
function renormalised(logProbs: Float64Array): Float64Array {
  const max = Math.max(...logProbs);
  const lse = max + Math.log(logProbs.reduce((sum, x) => sum + Math.exp(x - max), 0));
  return logProbs.map((x) => x - lse);
}

startTemperatureExplorer({
  async nextTokens() {
    const [request] = buildRequests(readQuery());
    const res = await (await loadModel(request.model || config.defaultModel)).request({ op: 'topTokens', prompt: request.prompt, k: explorerK() });
    const after = `Next token after ${JSON.stringify(request.prompt.slice(-40))}`;
    if (res.topOnly) {
      // A server gives its top k only: p is renormalised over them, and the source says so.
      const logProbs = renormalised(Float64Array.from(res.logProbs));
      const ids = topIndices(logProbs, 10);
      return {
        labels: ids.map((id) => res.top[id].text),
        logProbs,
        ids,
        topOnly: res.top.length,
        source: `${after} (top ${ids.length} of the server's top ${res.top.length}, renormalised over those ${res.top.length}: the server gives no more of the distribution)`,
        token: (id) => Promise.resolve({ id, text: res.top[id].text, rank: id + 1 }),
      };
    }
    const logProbs = Float64Array.from(res.logProbs);
    const ids = topIndices(logProbs, 10);
    return {
      labels: ids.map((id) => res.top.find((t) => t.id === id)?.text ?? String(id)),
      logProbs,
      ids,
      source: `${after} (top 10 of ${logProbs.length.toLocaleString('en-US')})`,
      // A token further down: its text from the engine, asked after the same prompt with the same model.
      token: (id) =>
        sampledToken(logProbs, id, async (k) => {
          return (await (await loadModel(request.model || config.defaultModel)).request({ op: 'topTokens', prompt: request.prompt, k })).top;
        }),
    };
  },
  error: (m) => message(m),
});

// ---------------------------------------------------------------- wiring
byId('run').addEventListener('click', () => void run());
function stopRunning(): void {
  if (running) running.cancelled = true;
}
byId('stop').addEventListener('click', stopRunning);
byId('save').addEventListener('click', () => {
  // The results and their branches go with the query, when they fit.
  keptResults ??= encodeLive();
  const results = keptResults.text;
  vscode.postMessage({
    type: 'saveQuery',
    query: { ...readQuery(), ...(results ? { results } : {}) },
    ...(results ? { holds: describeResults(savedLive()) } : {}),
  });
});
byId('open').addEventListener('click', () => vscode.postMessage({ type: 'openQuery' }));
gallerySelect.addEventListener('change', () => {
  const g = GALLERY[Number(gallerySelect.value)];
  if (!g || gallerySelect.value === '') return;
  writeQuery({ ...g.query, settings: { ...g.query.settings, model: modelSelect.value } });
  message(`${g.title}: ${g.description}`, 'info');
  showGalleryNotes(modelSelect.value);
  persist();
});
modelSelect.addEventListener('change', () => showGalleryNotes(modelSelect.value));

/** What the gallery says of its example (when the query is one) with this model, and of the run's scores. */
function showGalleryNotes(spec: string, scored: ScoredPrompt[] = [], stoppedAtOnce?: string): void {
  const example = galleryExampleFor(readQuery());
  const m = config.models.find((x) => x.spec === spec || x.label === spec);
  const traits = m && {
    name: m.label,
    context: m.capabilities.context,
    embedded: m.origin === 'embedded',
    contextLength: loadedSpec === m.spec || loadedSpec === m.label ? loadedContext : undefined,
  };
  byId('gallery-notes').replaceChildren(...(example && traits ? galleryNotes(example, traits, scored, stoppedAtOnce) : []).map((t) => el('p', {}, t)));
}
document.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    void run();
  }
});
for (const id of ['prompt', 'environments', ...settingIds]) byId(id).addEventListener('change', persist);
window.addEventListener('message', (e: MessageEvent<ToPlaygroundPage>) => {
  const m = e.data;
  if (m?.type === 'setQuery') {
    // The note that its model is not offered stays: "Opened" would hide it.
    const offered = writeQuery(m.query);
    if (m.query.results) restoreResults(m.query.results, m.source, `Opened ${m.source}`);
    else if (offered) message(`Opened ${m.source}.`, 'info');
    persist();
  } else if (m?.type === 'error') message(m.message);
  else if (m?.type === 'models') setModels(m.models, m.unavailable, m.defaultModel);
  else if (m?.type === 'request' || m?.type === 'filePiece')
    void hostRelay().then(
      (r) => r.receive(m),
      // An engine that could not start answers nothing: the extension must hear why.
      (err: Error) => vscode.postMessage({ type: 'fatal', error: err.message }),
    );
  else if (m?.type === 'hostEngine') hostConnection?.receive(fromRelay(m.response));
  else if (m?.type === 'modelFile') fileRequests.answer(m.id, m);
});

// The extension may run its own neural model here, on this window's GPU, in a second worker.
let relay: Promise<EngineRelay> | undefined;
function hostRelay(): Promise<EngineRelay> {
  relay ??= startEngineRelay(config.workerUrl, config.ortBinaries, (m) => {
    if (m.type !== 'ready') vscode.postMessage(m);
  });
  return relay;
}

// A revived panel (window reload) has its webview state; a new one what the extension kept of the last (or an opened file).
const earlier = vscode.getState();
showUnavailable();
writeQuery(earlier?.query ?? config.query ?? { prompt: 'the mouse ate the', environments: '', settings: { ...DEFAULT_SETTINGS, model: config.defaultModel } });
const earlierResults = earlier ? earlier.results : config.results;
if (earlierResults) restoreResults(earlierResults, 'the kept results', 'Restored from the last session');
/** Where this page's own engine runs (found once the adapter is known). */
let pageEngine: string | undefined;
/**
 * Before the chosen model's first run: where it will run (a host model's is the extension, not this
 * page's engine); the loaded model's line only while it is the one chosen (a switch made it stale).
 */
function showIdleStatus(): void {
  if (loadedSpec && modelSelect.value === loadedSpec) {
    status.textContent = loadedStatus;
    return;
  }
  const m = config.models.find((x) => x.spec === modelSelect.value);
  if (m?.host)
    status.textContent =
      m.backend === 'remote'
        ? `${m.label} runs on its server; it opens on the first run`
        : `${m.label} runs in ${m.runsIn ?? 'the extension'}; it loads on the first run`;
  else status.textContent = pageEngine ? `engine: ${pageEngine}; the model loads on the first run` : 'engine: looking for a WebGPU adapter…';
}
status.textContent = 'engine: looking for a WebGPU adapter…';
void webGpuAdapter().then((adapter) => {
  // Only a real GPU may host the editor's model (device auto); a software adapter runs here only when the setting says webgpu.
  const webgpu = adapter.present && !adapter.software;
  vscode.postMessage({ type: 'ready', webgpu, adapter });
  const here = !adapter.present
    ? 'no WebGPU here: WebAssembly'
    : config.device === 'wasm'
      ? 'WebAssembly (device setting)'
      : webgpu || config.device === 'webgpu'
        ? `WebGPU available in this window (${adapter.name})`
        : `software WebGPU adapter (${adapter.name}): WebAssembly`;
  pageEngine = here;
  showIdleStatus();
});
modelSelect.addEventListener('change', () => showIdleStatus());
