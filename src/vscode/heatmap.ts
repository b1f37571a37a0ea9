/**
 * LM: Show Token Probabilities: colours every token of the selection or document by its rank in
 * the model's prediction (or its probability), GLTR-style. Scored in chunks with progress and
 * cancellation; after edits only the tokens that can have changed are scored again.
 */
import * as vscode from 'vscode';
import { CancelledError, EngineStoppedError, LmError } from '../core/errors';
import type { LanguageModel, Token } from '../core/model';
import { chunkContextStart, scoreInChunks } from '../editor/chunkedScoring';
import { textRescorePlan, tokensIn } from '../editor/textScores';
import type { ScoredSequence } from '../editor/hoverFacts';
import { BUCKET_COLOURS, BUCKET_COUNT, bucketLabels, bucketOf, legendRows } from '../editor/heatmapBuckets';
import { offsetAfterEdits, planRescore, rangesBefore, rangesToScore, ScopeHistory, scoredEnd } from '../editor/rescorePlan';
import { documentReader, looksBinary, placedScopeTokens } from './textWindow';
import { computesOnHostThread, type ModelService } from './modelService';
import { contextChars, heatmapSettings } from './settings';
import { escapeMarkdown } from '../editor/markdownText';
import type { ServerModel } from '../core/remote/serverModel';
import { heatmapServerOptions, scoreInServerChunks } from '../editor/serverScoring';
import type { ScoreTotals } from '../core/scoring';
import { heatmapStoppedMessage, scorableTokens, totalsOfScored } from '../editor/heatmapTotals';
import { scoredUpTo } from '../editor/heatmapFrontier';
import { clipSight, needsRepaint, spanToPaint, tokensOverlapping, type Span } from '../editor/paintWindow';

export interface HeatmapEntry {
  text: string;
  start: number;
  length: number;
  logProb: number;
  rank: number;
  bucket: string;
  /** The bucket's colour by name (as in the legend). */
  colour: string;
  modelName: string;
}

interface DocState {
  model: LanguageModel;
  /** Scored range of the document: the selection, or all of it (`whole`). */
  whole: boolean;
  scopeStart: number;
  scopeEnd: number;
  /** A selection's scope before and after the last edits, for undo and redo (ScopeHistory). */
  scopeHistory?: ScopeHistory;
  /** Tokens of the text before a selection that does not start the document: the context of its first tokens. */
  context: Token[];
  /** Whether the scored sequence (context, then tokens) starts at the document's start. */
  fromDocumentStart: boolean;
  /** The document's tokens before it, whose windows the sequence's tokens are scored in (documentPlacement; 0 when not counted). */
  tokensBefore: number;
  /** Why its tokens are not given the whole document's windows (placedScopeTokens), for its hovers. */
  note: string | undefined;
  tokens: Token[];
  /** The document's version the tokens' offsets are of: colours are painted only at that version (an edit moves them with the text until it is scored again). */
  version: number;
  logProbs: Float64Array;
  /** Rank 0: not scored (yet). */
  ranks: Int32Array;
  /** How many tokens before each token its score was given. */
  contexts: Int32Array;
  job?: Job;
  timer?: ReturnType<typeof setTimeout>;
  /**
   * After the user stopped the scoring: the document offset where its scored part ends. A rescoring
   * (after an edit, or with another model) scores only before it, until Continue (hostile13 L5).
   */
  stoppedAt?: number;
  /** The user pressed Continue: the next rescoring's progress says so. */
  continueAsked?: boolean;
  /** The document became binary by an edit (a paste of NULs): scoring waits, the colours stay, said once. */
  binarySaid?: boolean;
  /** The most tokens one paint of one editor has coloured since the last run started (for the log). */
  mostPainted: number;
}

/** A scoring run; `byEdit` when an edit stopped it (what it scored is kept). */
interface Job {
  cancelled: boolean;
  byEdit?: boolean;
}

/** Stops the state's scoring, if one runs, as an edit does: what it scored keeps its colours. */
function stopForEdit(s: DocState): void {
  if (s.job) {
    s.job.byEdit = true;
    s.job.cancelled = true;
  }
}

const RESCORE_DELAY_MS = 400;

/** Not in the palette: the legend's command while a heat-map is stopped. */
const CONTINUE_COMMAND = 'lmPlayground.heatmap.continueStopped';
/**
 * A model on the extension host's thread scores a heat-map in chunks of about 40 ms with a third of
 * that in rest after each: scoring a novel without rest held the thread 93 % of the time, and Quick
 * Open, which runs its file search on this thread, took 8-27 s to list a file (0.2-1.1 s with the
 * rest, the heat-map at two thirds to three quarters of its speed).
 */
const HOST_THREAD_REST = 1 / 3;
/** Scoring at least this many tokens shows a cancellable notification (less: the status bar). */
const NOTIFY_TOKENS = 2000;

export class TokenHeatmap implements vscode.Disposable {
  private readonly states = new Map<string, DocState>();
  private readonly types: vscode.TextEditorDecorationType[];
  /** The characters each editor was last painted over. */
  private readonly painted = new WeakMap<vscode.TextEditor, Span>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly onOff = new vscode.EventEmitter<void>();
  /** Fires when the heat-map is turned on or off for a document. */
  readonly onDidTurnOnOrOff = this.onOff.event;
  private readonly progressed = new vscode.EventEmitter<vscode.TextDocument>();
  /** Fires when a document's heat-map scores more tokens, starts or stops scoring, or goes (the status bar follows it). */
  readonly onDidProgress = this.progressed.event;
  /** The legend: shown while the active editor's document has a heat-map. */
  private readonly legend = vscode.window.createStatusBarItem('lmPlayground.heatmapLegend', vscode.StatusBarAlignment.Right, 97);

  constructor(
    private readonly models: ModelService,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.types = Array.from({ length: BUCKET_COUNT }, (_, i) =>
      vscode.window.createTextEditorDecorationType({
        backgroundColor: new vscode.ThemeColor(`lmPlayground.heatmap.bucket${i + 1}`),
        rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
      }),
    );
    this.subscriptions.push(
      vscode.workspace.onDidChangeTextDocument((e) => this.changed(e)),
      vscode.workspace.onDidCloseTextDocument((d) => this.clearDocument(d)),
      vscode.window.onDidChangeVisibleTextEditors(() => {
        this.paintAll();
        this.rescoreForModel();
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.updateLegend()),
      vscode.window.onDidChangeTextEditorVisibleRanges((e) => this.scrolled(e.textEditor)),
      // Along a line longer than a margin, what is painted follows the cursor (clipSight).
      vscode.window.onDidChangeTextEditorSelection((e) => this.scrolled(e.textEditor)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration('lmPlayground.heatmap')) return;
        this.paintAll();
        this.updateLegend();
      }),
      models.onDidChangeModel(() => this.rescoreForModel()),
      // The legend's click while a heat-map is stopped: the offer's Continue, which a notification hides soon (hostile14 L4).
      vscode.commands.registerCommand(CONTINUE_COMMAND, (uri: unknown) => typeof uri === 'string' && this.continueStopped(uri)),
    );
  }

  /** Scores the rest of a heat-map the user stopped. */
  private continueStopped(uri: string): void {
    const s = this.states.get(uri);
    if (!s || s.stoppedAt === undefined) return;
    s.stoppedAt = undefined;
    s.continueAsked = true;
    this.updateLegend();
    this.rescoreLater(uri, 0);
  }

  /**
   * Colours from another model would be wrong: documents in sight are scored again with the new
   * one; the others stop, and are scored again when shown (a slow model would otherwise hold its
   * engine for minutes on tabs nobody looks at, and the hovers in sight would wait behind them).
   */
  private rescoreForModel(): void {
    const current = this.models.current;
    const visible = new Set(vscode.window.visibleTextEditors.map((e) => e.document.uri.toString()));
    for (const [uri, s] of this.states) {
      if (s.model === current) continue;
      if (visible.has(uri)) {
        if (!s.timer) this.rescoreLater(uri, 0);
      } else {
        if (s.timer) clearTimeout(s.timer);
        s.timer = undefined;
        stopForEdit(s);
      }
    }
  }

  /** The status bar legend: the four colours and the tokens each stands for, with the current settings. */
  private updateLegend(): void {
    const document = vscode.window.activeTextEditor?.document;
    const s = document && this.states.get(document.uri.toString());
    if (!s) {
      this.legend.hide();
      return;
    }
    const settings = heatmapSettings();
    this.legend.name = 'LM Playground heat-map legend';
    this.legend.text = `$(symbol-color) heat-map: ${settings.mode}`;
    const md = new vscode.MarkdownString(undefined, true);
    md.isTrusted = false;
    // Only for the swatches: VS Code keeps a span's hex background colour and drops other HTML styling.
    md.supportHtml = true;
    md.appendMarkdown(
      `**LM heat-map colours**, by ${settings.mode === 'rank' ? 'rank (1 = the token the model found likeliest)' : 'probability p'} under ${escapeMarkdown(s.model.info.name)}\n\n`,
    );
    md.appendMarkdown('| colour | tokens |\n|---|---|\n');
    for (const row of legendRows(settings))
      md.appendMarkdown(`| <span style="background-color:${row.hex};">&nbsp;${row.colour}&nbsp;</span> | ${escapeMarkdown(row.range)} |\n`);
    const stopped = s.stoppedAt !== undefined && !s.job;
    md.appendMarkdown(`\nThresholds and mode: settings \`lmPlayground.heatmap.*\`${stopped ? '' : ' (click)'}. Hover a token for its numbers.`);
    if (stopped) {
      const run = this.runOf(document);
      this.legend.text += ' · stopped';
      md.appendMarkdown(
        `\n\n**Stopped** with ${(run?.scored ?? 0).toLocaleString('en-US')} of ${(run?.total ?? 0).toLocaleString('en-US')} tokens scored: click to score the rest.`,
      );
      this.legend.command = { title: 'Continue the heat-map', command: CONTINUE_COMMAND, arguments: [document.uri.toString()] };
    } else this.legend.command = { title: 'Heat-map settings', command: 'workbench.action.openSettings', arguments: ['lmPlayground.heatmap'] };
    this.legend.tooltip = md;
    this.legend.show();
  }

  /**
   * Where the heat-map of `document` stands: whether it is scoring (or an edit's re-scoring is
   * about to), how many of its tokens are scored, the document's range [start, end) it colours,
   * and the offset before which all of that range is scored (`scoredTo`). Undefined when it has none.
   */
  runOf(document: vscode.TextDocument): { busy: boolean; scored: number; total: number; start: number; end: number; scoredTo: number } | undefined {
    const s = this.states.get(document.uri.toString());
    if (!s) return undefined;
    let scored = 0;
    // Scores of the model before a switch are not progress of the new model's run (drive6: 47 % → 14 %).
    const current = s.model === this.models.current;
    if (current) for (let i = 0; i < s.ranks.length; i++) if (s.ranks[i] !== 0) scored++;
    const total = this.scorable(s);
    // The first token that gets a score: 1 when token 0 only starts the text (scorableTokens).
    const scoredTo = current ? scoredUpTo(s.tokens, s.ranks, s.tokens.length - total, s.scopeStart) : s.scopeStart;
    return { busy: s.job !== undefined || s.timer !== undefined, scored, total: Math.max(scored, total), start: s.scopeStart, end: s.scopeEnd, scoredTo };
  }

  /** Tokens of the state's scope that get a score (editor/heatmapTotals.ts). */
  private scorable(s: DocState): number {
    return scorableTokens(s.tokens.length, s.context.length > 0 || s.model.server !== undefined);
  }

  /**
   * The totals of the heat-map's scores of the whole document under `model`, once every token is
   * scored and no re-scoring waits: the status bar's number for the same tokens (editor/heatmapTotals.ts).
   */
  wholeTotals(document: vscode.TextDocument, model: LanguageModel): ScoreTotals | undefined {
    const s = this.states.get(document.uri.toString());
    if (!s || !s.whole || s.model !== model || model.server || s.job || s.timer || s.scopeEnd !== document.getText().length) return undefined;
    return totalsOfScored(s.tokens, s.logProbs, s.ranks, model.bosId, model.unkId, (i) => s.contexts[i] === i - chunkContextStart(model, i));
  }

  isOn(document: vscode.TextDocument): boolean {
    return this.states.has(document.uri.toString());
  }

  /** The scores behind the colour at `offset`, for the hover. */
  entryAt(document: vscode.TextDocument, offset: number): HeatmapEntry | undefined {
    const s = this.states.get(document.uri.toString());
    if (!s) return undefined;
    const settings = heatmapSettings();
    const labels = bucketLabels(settings);
    // Tokens are sorted by offset: binary search.
    let lo = 0;
    let hi = s.tokens.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const t = s.tokens[mid];
      if (offset < t.start) hi = mid - 1;
      else if (offset >= t.start + t.length) lo = mid + 1;
      else {
        if (!(s.ranks[mid] > 0)) return undefined;
        const b = bucketOf(s.ranks[mid], s.logProbs[mid], settings);
        const colour = BUCKET_COLOURS[b].name;
        return {
          text: t.text,
          start: t.start,
          length: t.length,
          logProb: s.logProbs[mid],
          rank: s.ranks[mid],
          bucket: labels[b],
          colour,
          modelName: s.model.info.name,
        };
      }
    }
    return undefined;
  }

  /**
   * The scored sequence, for the hover of `offset` under `model`: its tokens with the context the
   * heat-map gave each. Undefined where the heat-map has not scored that place with that model.
   */
  sequenceAt(document: vscode.TextDocument, offset: number, model: LanguageModel): ScoredSequence | undefined {
    const s = this.states.get(document.uri.toString());
    // A server's scores come with the hover's own request (it tokenizes there).
    if (!s || s.model !== model || model.server || !this.entryAt(document, offset)) return undefined;
    const c = s.context.length;
    const scored = (i: number) => i >= c && s.ranks[i - c] > 0;
    return {
      tokens: [...s.context, ...s.tokens],
      fromDocumentStart: s.fromDocumentStart,
      contextStart: (i) => (scored(i) ? i - s.contexts[i - c] : chunkContextStart(model, i, s.tokensBefore)),
      known: (i) => (scored(i) ? { logProb: s.logProbs[i - c], rank: s.ranks[i - c] } : undefined),
      ...(s.note ? { note: s.note } : {}),
    };
  }

  /** The scope's tokens as the document has them, the tokens before it, and the document's tokens before those (placedScopeTokens). */
  private async tokensOfScope(
    document: vscode.TextDocument,
    scopeStart: number,
    scopeEnd: number,
    model: LanguageModel,
  ): Promise<{ context: Token[]; tokens: Token[]; fromDocumentStart: boolean; tokensBefore: number; note: string | undefined; stale: boolean }> {
    const version = document.version;
    const scoped = await placedScopeTokens(document, scopeStart, scopeEnd, contextChars(), model);
    // Edited while a long document was counted: these tokens are not the document's any more.
    return { ...scoped, stale: document.version !== version };
  }

  /** The command: score the selection (or the document) and colour it. */
  async show(editor: vscode.TextEditor, attempt = 0): Promise<void> {
    const document = editor.document;
    const uri = document.uri.toString();
    const sel = editor.selection;
    const scopeStart = sel.isEmpty ? 0 : document.offsetAt(sel.start);
    const scopeEnd = sel.isEmpty ? document.getText().length : document.offsetAt(sel.end);
    const text = document.getText(new vscode.Range(document.positionAt(scopeStart), document.positionAt(scopeEnd)));
    if (text.trim().length === 0) throw new LmError('there is no text to score: select some text or open a file with text');
    const max = heatmapSettings().maxChars;
    if (text.length > max)
      throw new LmError(
        `the text has ${text.length.toLocaleString('en-US')} characters; the heat-map takes at most ${max.toLocaleString('en-US')} (setting lmPlayground.heatmap.maxChars): select a part`,
      );
    if (looksBinary(text)) throw new LmError('this looks like a binary file (it has many NUL characters)');
    // Only a text the heat-map takes replaces the one shown: a refused one leaves its colours (hostile31).
    this.clearDocument(document);
    const model = await this.models.get();
    this.models.runsOn(document);
    if (model.server) return this.showOnServer(document, model, model.server, sel.isEmpty, scopeStart, scopeEnd);
    const { stale, ...scoped } = await this.tokensOfScope(document, scopeStart, scopeEnd, model);
    // Edited while a long document was counted: the selection is read again (its counted pieces stay).
    if (stale && attempt < 3) return this.show(editor, attempt + 1);
    if (stale) throw new LmError('the document kept changing while its tokens were counted: ask for the token probabilities again');
    if (this.states.has(uri)) return; // asked again meanwhile
    const tokens = scoped.tokens;
    const state: DocState = {
      model,
      whole: sel.isEmpty,
      scopeStart,
      scopeEnd,
      ...(sel.isEmpty ? {} : { scopeHistory: new ScopeHistory({ start: scopeStart, end: scopeEnd }, document.getText()) }),
      ...scoped,
      version: document.version,
      mostPainted: 0,
      logProbs: new Float64Array(tokens.length),
      ranks: new Int32Array(tokens.length),
      contexts: new Int32Array(tokens.length),
    };
    this.states.set(uri, state);
    this.onOff.fire();
    this.updateLegend();
    if (state.note) this.log.info(`heat-map of ${vscode.workspace.asRelativePath(document.uri)}: ${state.note}`);
    const started = Date.now();
    if (await this.score(document, state, [[tokens.length - this.scorable(state), tokens.length]], 'LM: token probabilities')) {
      this.log.info(`heat-map of ${tokens.length} tokens with ${model.info.name} in ${Date.now() - started} ms, ${paintedNote(state)}`);
    }
  }

  clear(editor: vscode.TextEditor | undefined): void {
    if (editor) this.clearDocument(editor.document);
  }

  private clearDocument(document: vscode.TextDocument): void {
    const uri = document.uri.toString();
    const s = this.states.get(uri);
    if (!s) return;
    if (s.job) s.job.cancelled = true;
    if (s.timer) clearTimeout(s.timer);
    this.states.delete(uri);
    this.onOff.fire();
    this.progressed.fire(document);
    for (const e of vscode.window.visibleTextEditors) if (e.document.uri.toString() === uri) for (const t of this.types) e.setDecorations(t, []);
    this.updateLegend();
  }

  private changed(e: vscode.TextDocumentChangeEvent): void {
    const uri = e.document.uri.toString();
    const s = this.states.get(uri);
    if (!s || e.contentChanges.length === 0) return;
    // Keep the scope over the same text; old token offsets are fixed up when rescoring.
    if (s.whole) s.scopeEnd = e.document.getText().length;
    else {
      const reason = e.reason === vscode.TextDocumentChangeReason.Undo ? 'undo' : e.reason === vscode.TextDocumentChangeReason.Redo ? 'redo' : undefined;
      const text = e.document.getText();
      const scope = { start: s.scopeStart, end: s.scopeEnd };
      ({ start: s.scopeStart, end: s.scopeEnd } = (s.scopeHistory ??= new ScopeHistory(scope, text)).apply(scope, e.contentChanges, text, reason));
    }
    if (s.stoppedAt !== undefined) s.stoppedAt = offsetAfterEdits(s.stoppedAt, e.contentChanges);
    // The scoring in progress stops, keeping what it scored; the rescoring goes on from there.
    stopForEdit(s);
    this.rescoreLater(uri, RESCORE_DELAY_MS);
    this.progressed.fire(e.document);
  }

  private rescoreLater(uri: string, delay: number): void {
    const s = this.states.get(uri);
    if (!s) return;
    if (s.timer) clearTimeout(s.timer);
    s.timer = setTimeout(() => {
      s.timer = undefined;
      this.rescore(uri).catch((e) => {
        this.log.error(`heat-map: ${e instanceof Error ? e.message : e}`);
        // An engine that stopped is reported once, by the model service.
        if (!(e instanceof EngineStoppedError))
          void vscode.window.showErrorMessage(`LM Playground: the token probabilities could not be updated: ${e instanceof Error ? e.message : e}`);
      });
    }, delay);
  }

  /**
   * Re-tokenizes the scope and scores only the tokens an edit can have changed, and those not
   * scored yet (a scoring the edit interrupted); every other token keeps its score.
   */
  private async rescore(uri: string): Promise<void> {
    const s = this.states.get(uri);
    const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
    if (!s || !document) return;
    const model = await this.models.get();
    if (this.states.get(uri) !== s) return;
    this.models.runsOn(document);
    const text = document.getText(new vscode.Range(document.positionAt(s.scopeStart), document.positionAt(s.scopeEnd)));
    if (looksBinary(text)) {
      // As the command refuses such a text, its rescoring waits (hostile15 L1); the colours so far
      // stay for an undo, after which the next rescoring finds them still right.
      stopForEdit(s);
      if (!s.binarySaid)
        void vscode.window.showWarningMessage(
          `LM: ${vscode.workspace.asRelativePath(document.uri)} now looks like a binary file (it has many NUL characters): its heat-map is not scored further until the text is text again (undo the edit), or LM: Clear Token Probabilities removes it.`,
        );
      s.binarySaid = true;
      return;
    }
    s.binarySaid = false;
    if (model.server) {
      stopForEdit(s);
      const title = this.rescoreTitle(s, model);
      s.model = model;
      await this.scoreOnServer(document, s, model.server, title);
      return;
    }
    const { tokens, stale, ...before } = await this.tokensOfScope(document, s.scopeStart, s.scopeEnd, model);
    // Edited meanwhile: the edit's own rescoring follows.
    if (stale || this.states.get(uri) !== s) return;
    const sameContext =
      before.tokensBefore === s.tokensBefore && before.context.length === s.context.length && before.context.every((t, i) => t.id === s.context[i].id);
    if (model !== s.model) this.log.info(`heat-map of ${vscode.workspace.asRelativePath(document.uri)}: scored again with ${model.info.name}`);
    const plan = model === s.model && sameContext ? planRescore(s.tokens, tokens, model.info.contextLength) : { from: 0, to: tokens.length, shift: 0 };
    // A neural model's tokens that the edit moved into other windows keep their colours until they
    // are scored in those, after the edit's own (drive22 H1: they kept the text before the edit's numbers).
    const scoring = model === s.model && sameContext ? textRescorePlan(model, s.tokens, tokens) : plan;
    const logProbs = new Float64Array(tokens.length);
    const ranks = new Int32Array(tokens.length);
    const contexts = new Int32Array(tokens.length);
    logProbs.set(s.logProbs.subarray(0, Math.min(plan.from, s.logProbs.length)));
    ranks.set(s.ranks.subarray(0, Math.min(plan.from, s.ranks.length)));
    contexts.set(s.contexts.subarray(0, Math.min(plan.from, s.contexts.length)));
    // A kept score keeps its context too: the same tokens before it, now at other positions.
    for (let i = plan.to; i < tokens.length; i++) {
      logProbs[i] = s.logProbs[i + plan.shift];
      ranks[i] = s.ranks[i + plan.shift];
      contexts[i] = s.contexts[i + plan.shift];
    }
    stopForEdit(s);
    const title = this.rescoreTitle(s, model);
    Object.assign(s, { model, ...before, tokens, version: document.version, logProbs, ranks, contexts, job: undefined });
    this.updateLegend();
    this.paint(document); // the kept colours, at their new places
    let ranges = rangesToScore(tokens.length, (i) => ranks[i] > 0, scoring, s.context.length > 0 ? 0 : 1);
    if (s.stoppedAt !== undefined) {
      const stoppedAt = s.stoppedAt;
      const after = tokens.findIndex((t) => t.start >= stoppedAt);
      ranges = rangesBefore(ranges, after < 0 ? tokens.length : after);
    }
    const done = await this.score(document, s, ranges, title);
    if (done && s.stoppedAt !== undefined)
      this.log.info(`heat-map of ${vscode.workspace.asRelativePath(document.uri)}: scored again up to where it was stopped; the rest waits for Continue`);
    else if (done)
      this.log.info(
        `heat-map of ${vscode.workspace.asRelativePath(document.uri)}: ${tokensIn(ranges)} of its ${tokens.length} tokens scored again, characters ${s.scopeStart}-${s.scopeEnd}, ${paintedNote(s)}`,
      );
  }

  /** A rescoring's progress title, as what it is: a Continue, another model, or an edit; not a Continue nobody pressed (hostile15 L5). */
  private rescoreTitle(s: DocState, model: LanguageModel): string {
    const why = s.continueAsked ? 'continued' : model !== s.model ? 'another model' : 'after an edit';
    s.continueAsked = false;
    return `LM: token probabilities (${why})`;
  }

  /**
   * Scores `ranges` of the state's tokens into its arrays, painting as it goes. A long run shows a
   * cancellable notification; Cancel there removes the heat-map. False when it did not finish.
   */
  private async score(document: vscode.TextDocument, s: DocState, ranges: [number, number][], title: string): Promise<boolean> {
    const total = ranges.reduce((n, [a, b]) => n + b - a, 0);
    if (total === 0) {
      this.paint(document);
      return true;
    }
    const { model, logProbs, ranks, contexts } = s;
    // Ranges are positions in the selection's tokens; the sequence scored starts with its context.
    const c = s.context.length;
    const ids = [...s.context, ...s.tokens].map((t) => t.id);
    const job: Job = { cancelled: false };
    s.job = job;
    s.mostPainted = 0;
    this.progressed.fire(document);
    let userCancelled = false;
    const run = async (progress?: vscode.Progress<{ message?: string; increment?: number }>, token?: vscode.CancellationToken) => {
      const signal = {
        get cancelled() {
          return job.cancelled || (token?.isCancellationRequested ?? false);
        },
      };
      let done = 0;
      let lastPaint = Date.now();
      for (const [from, to] of ranges) {
        await scoreInChunks(model, ids, from + c, to + c, {
          signal,
          tokensBefore: s.tokensBefore,
          restRatio: computesOnHostThread(model) ? HOST_THREAD_REST : 0,
          onChunk: (start, r) => {
            // A chunk that comes back after an edit belongs to the old tokens: drop it.
            if (job.cancelled) return;
            logProbs.set(r.logProbs, start - c);
            ranks.set(r.ranks, start - c);
            for (let i = start; i < start + r.logProbs.length; i++) contexts[i - c] = i - chunkContextStart(model, i, s.tokensBefore);
            done += r.logProbs.length;
            this.progressed.fire(document);
            progress?.report({
              message: `${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} tokens`,
              increment: (r.logProbs.length / total) * 100,
            });
            // Colours appear as the scoring goes, at most a few times a second.
            if (Date.now() - lastPaint > 300) {
              lastPaint = Date.now();
              this.paint(document);
            }
          },
        });
      }
      userCancelled = token?.isCancellationRequested ?? false;
    };
    try {
      if (total >= NOTIFY_TOKENS) {
        await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `${title} with ${model.info.name}`, cancellable: true },
          (progress, token) =>
            run(progress, token).catch((e) => {
              userCancelled = token.isCancellationRequested && !job.byEdit;
              throw e;
            }),
        );
      } else {
        await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'LM: scoring tokens' }, () => run());
      }
    } catch (e) {
      if (e instanceof CancelledError && !userCancelled) {
        // An edit or a newer scoring took over (or a model switch stopped a heat-map out of sight).
        if (s.job === job) s.job = undefined;
        this.progressed.fire(document);
        return false;
      }
      const current = this.states.get(document.uri.toString()) === s;
      const scored = s.ranks.reduce((n, r) => (r > 0 ? n + 1 : n), 0);
      if (e instanceof CancelledError && current && scored > 0) {
        // Stopped by the user: what was scored keeps its colours (minutes of a long text), and can be continued.
        if (s.job === job) s.job = undefined;
        s.stoppedAt = scoredEnd(s.tokens, (i) => s.ranks[i] !== 0);
        this.updateLegend();
        this.progressed.fire(document);
        this.paint(document);
        this.offerStopped(document, s, scored);
        return false;
      }
      // Failed, or stopped before anything was scored: nothing half-done stays on screen.
      if (current) this.clearDocument(document);
      if (e instanceof CancelledError) {
        void vscode.window.showInformationMessage('LM: token probabilities cancelled before any token was scored.');
        return false;
      }
      throw e;
    }
    if (s.job === job) s.job = undefined;
    this.progressed.fire(document);
    if (job.cancelled || this.states.get(document.uri.toString()) !== s) return false;
    this.paint(document);
    return true;
  }

  /** The heat-map of a model on a server: the scope is sent in chunks of text, one a request (editor/serverScoring.ts). */
  private async showOnServer(
    document: vscode.TextDocument,
    model: LanguageModel,
    server: ServerModel,
    whole: boolean,
    scopeStart: number,
    scopeEnd: number,
  ): Promise<void> {
    if (server.scoringUnavailable) throw new LmError(`the heat-map needs token scores: ${server.scoringUnavailable}`);
    const state: DocState = {
      model,
      whole,
      scopeStart,
      scopeEnd,
      ...(whole ? {} : { scopeHistory: new ScopeHistory({ start: scopeStart, end: scopeEnd }, document.getText()) }),
      context: [],
      fromDocumentStart: scopeStart === 0,
      tokensBefore: 0,
      note: undefined,
      tokens: [],
      version: document.version,
      mostPainted: 0,
      logProbs: new Float64Array(0),
      ranks: new Int32Array(0),
      contexts: new Int32Array(0),
    };
    this.states.set(document.uri.toString(), state);
    this.onOff.fire();
    this.updateLegend();
    const started = Date.now();
    if (await this.scoreOnServer(document, state, server, 'LM: token probabilities'))
      this.log.info(`heat-map of ${state.tokens.length} tokens with ${model.info.name} (on its server) in ${Date.now() - started} ms`);
  }

  /**
   * Scores the scope on the server, chunk by chunk, replacing the state's tokens as they come;
   * with `resume`, keeps the tokens it has and scores the rest of the scope after them.
   */
  private async scoreOnServer(document: vscode.TextDocument, s: DocState, server: ServerModel, title: string, resume = false): Promise<boolean> {
    try {
      return await this.scoreOnServerRun(document, s, server, title, resume);
    } finally {
      // Done, stopped or failed: the status bar, which waits for a heat-map scoring its document, goes on (drive18 M2).
      if (this.states.get(document.uri.toString()) === s) this.progressed.fire(document);
    }
  }

  private async scoreOnServerRun(document: vscode.TextDocument, s: DocState, server: ServerModel, title: string, resume: boolean): Promise<boolean> {
    const job: Job = { cancelled: false };
    s.job = job;
    s.version = document.version;
    s.mostPainted = 0;
    const uri = document.uri.toString();
    const read = documentReader(document);
    const W = s.model.info.contextLength;
    const kept = resume ? s.tokens.length : 0;
    const tokens: Token[] = s.tokens.slice(0, kept);
    const logProbs: number[] = Array.from(s.logProbs.subarray(0, kept));
    const ranks: number[] = Array.from(s.ranks.subarray(0, kept));
    let userCancelled = false;
    const total = Math.max(1, s.scopeEnd - s.scopeStart);
    const last = tokens[tokens.length - 1];
    const from = last ? last.start + last.length : s.scopeStart;
    let reached = from;
    try {
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `${title} with ${s.model.info.name} on ${server.endpoint}`, cancellable: true },
        async (progress, token) => {
          const signal = {
            get cancelled() {
              return job.cancelled || token.isCancellationRequested;
            },
          };
          let lastPaint = 0;
          await scoreInServerChunks(server, read, from, s.scopeEnd, {
            ...heatmapServerOptions(W, contextChars(), heatmapSettings().rankThresholds[0]),
            textEnd: document.getText().length,
            signal,
            onChunk: (scored) => {
              if (job.cancelled) return;
              for (const t of scored) {
                tokens.push({ id: t.id, text: t.text, start: t.start, length: t.length });
                logProbs.push(t.logProb);
                ranks.push(t.rank ?? -(t.rankAbove ?? 1));
              }
              const last = tokens[tokens.length - 1];
              const now = last ? last.start + last.length : reached;
              progress.report({ message: `${tokens.length.toLocaleString('en-US')} tokens`, increment: ((now - reached) / total) * 100 });
              reached = now;
              if (Date.now() - lastPaint > 300) {
                lastPaint = Date.now();
                Object.assign(s, {
                  tokens: [...tokens],
                  logProbs: Float64Array.from(logProbs),
                  ranks: Int32Array.from(ranks),
                  contexts: new Int32Array(tokens.length),
                });
                this.paint(document);
                this.progressed.fire(document);
              }
            },
          });
          userCancelled = token.isCancellationRequested;
        },
      );
    } catch (e) {
      userCancelled ||= e instanceof CancelledError && !job.byEdit && !job.cancelled;
      if (e instanceof CancelledError && !userCancelled) return false;
      const current = this.states.get(uri) === s;
      if (current && tokens.length > 0) {
        // Stopped, or the server failed part-way (stopped, unreachable): what was scored keeps its colours, and the rest can follow.
        if (s.job === job) s.job = undefined;
        Object.assign(s, { tokens, logProbs: Float64Array.from(logProbs), ranks: Int32Array.from(ranks), contexts: new Int32Array(tokens.length) });
        this.paint(document);
        if (!(e instanceof CancelledError)) this.log.error(`heat-map on ${server.endpoint}: ${e instanceof Error ? e.message : e}`);
        this.offerResume(document, s, server, e instanceof CancelledError ? undefined : e);
        return false;
      }
      if (current) this.clearDocument(document);
      if (e instanceof CancelledError) {
        void vscode.window.showInformationMessage('LM: token probabilities cancelled before any token was scored.');
        return false;
      }
      throw e;
    }
    if (job.cancelled || this.states.get(uri) !== s) return false;
    s.job = undefined;
    Object.assign(s, { tokens, logProbs: Float64Array.from(logProbs), ranks: Int32Array.from(ranks), contexts: new Int32Array(tokens.length) });
    this.paint(document);
    return true;
  }

  /** After a server's heat-map stopped part-way (by the user, or failing): Continue scores the rest after the tokens kept, Clear removes them. */
  private offerResume(document: vscode.TextDocument, s: DocState, server: ServerModel, error: unknown): void {
    const uri = document.uri.toString();
    const continueIt = 'Continue';
    const clear = 'Clear';
    const kept = `the ${s.tokens.length.toLocaleString('en-US')} tokens scored keep their colours`;
    const shown = error
      ? vscode.window.showErrorMessage(
          `LM: token probabilities stopped: ${error instanceof Error ? error.message : error}. ${kept[0].toUpperCase()}${kept.slice(1)}; Continue scores the rest once the server answers again.`,
          continueIt,
          clear,
        )
      : vscode.window.showInformationMessage(`LM: token probabilities stopped; ${kept}.`, continueIt, clear);
    void Promise.resolve(shown).then((answer) => {
      if (this.states.get(uri) !== s) return;
      if (answer === clear) this.clearDocument(document);
      if (answer !== continueIt) return;
      this.scoreOnServer(document, s, server, 'LM: token probabilities (continued)', true).catch((e) => {
        this.log.error(`heat-map: ${e instanceof Error ? e.message : e}`);
        void vscode.window.showErrorMessage(`LM Playground: ${e instanceof Error ? e.message : e}`);
      });
    });
  }

  /** After Stop: the scored tokens keep their colours; Continue scores the rest, Clear removes them. */
  private offerStopped(document: vscode.TextDocument, s: DocState, scored: number): void {
    const uri = document.uri.toString();
    const continueIt = 'Continue';
    const clear = 'Clear';
    void Promise.resolve(vscode.window.showInformationMessage(heatmapStoppedMessage(scored, this.scorable(s)), continueIt, clear)).then((answer) => {
      if (this.states.get(uri) !== s) {
        // The heat-map went with its file (closed) or was replaced: an offer that does nothing should say so (hostile14 L11).
        if (answer === continueIt)
          void vscode.window.showInformationMessage(
            `LM: that heat-map of ${vscode.workspace.asRelativePath(document.uri)} is gone (its file was closed, or it was cleared or run again): run LM: Show Token Probabilities to score it anew.`,
          );
        return;
      }
      if (answer === continueIt) this.continueStopped(uri);
      else if (answer === clear) this.clearDocument(document);
    });
  }

  private paintAll(): void {
    for (const e of vscode.window.visibleTextEditors) if (this.states.has(e.document.uri.toString())) this.paint(e.document);
  }

  private paint(document: vscode.TextDocument): void {
    const s = this.states.get(document.uri.toString());
    // Edited since its tokens were made: the colours move with the text until the rescoring paints.
    if (!s || document.version !== s.version) return;
    const settings = heatmapSettings();
    for (const e of vscode.window.visibleTextEditors) if (e.document === document) this.paintEditor(e, s, settings);
  }

  /** Colours the tokens on the editor's lines in sight and its margin (editor/paintWindow.ts), and no others. */
  private paintEditor(e: vscode.TextEditor, s: DocState, settings: ReturnType<typeof heatmapSettings>): void {
    const document = e.document;
    const span = spanToPaint(inSight(e), lengthOf(document));
    const [first, end] = tokensOverlapping(s.tokens, span.start, span.end);
    const ranges: vscode.Range[][] = Array.from({ length: BUCKET_COUNT }, () => []);
    let coloured = 0;
    for (let i = first; i < end; i++) {
      const t = s.tokens[i];
      // A negative rank: above the server's top k, so only a colour by probability is known.
      if (s.ranks[i] === 0 || (s.ranks[i] < 0 && settings.mode === 'rank') || t.length === 0 || /^\s+$/.test(t.text)) continue;
      // Colour the token without its leading space, as GLTR does.
      const lead = t.text.length - t.text.trimStart().length;
      ranges[bucketOf(s.ranks[i], s.logProbs[i], settings)].push(
        new vscode.Range(document.positionAt(t.start + lead), document.positionAt(t.start + t.length)),
      );
      coloured++;
    }
    s.mostPainted = Math.max(s.mostPainted, coloured);
    this.painted.set(e, span);
    this.types.forEach((type, b) => e.setDecorations(type, ranges[b]));
  }

  /** After a scroll: the lines that came into sight get their colours before they are reached. */
  private scrolled(e: vscode.TextEditor): void {
    const s = this.states.get(e.document.uri.toString());
    if (!s || e.document.version !== s.version) return;
    const painted = this.painted.get(e);
    if (painted && !needsRepaint(inSight(e), painted, lengthOf(e.document))) return;
    this.paintEditor(e, s, heatmapSettings());
  }

  dispose(): void {
    for (const s of this.states.values()) if (s.job) s.job.cancelled = true;
    this.legend.dispose();
    for (const t of this.types) t.dispose();
    this.onOff.dispose();
    this.progressed.dispose();
    for (const d of this.subscriptions) d.dispose();
  }
}

/** The document's length in characters, without joining its text (a scroll of a novel would copy 2 MB). */
function lengthOf(d: vscode.TextDocument): number {
  return d.offsetAt(d.lineAt(d.lineCount - 1).range.end);
}

/** The characters of the editor's lines in sight, from the first's start to the last's end (along a long line, the part around the cursor); undefined before its first layout. */
function inSight(e: vscode.TextEditor): Span | undefined {
  const ranges = e.visibleRanges;
  if (ranges.length === 0) return undefined;
  const d = e.document;
  return clipSight(
    { start: d.offsetAt(new vscode.Position(ranges[0].start.line, 0)), end: d.offsetAt(d.lineAt(ranges[ranges.length - 1].end.line).range.end) },
    d.offsetAt(e.selection.active),
  );
}

/** How many tokens one paint coloured at most: those in sight and a margin, however long the document. */
function paintedNote(s: DocState): string {
  return `at most ${s.mostPainted.toLocaleString('en-US')} tokens coloured at once`;
}
