/**
 * Status bar: how predictable the active document (or its selection) is under the active model:
 * bits per character, bits per token and perplexity, recomputed shortly after edits.
 *
 * While a heat-map scores the same document, the status bar does not score it too: the model keeps
 * one long cached sequence, and two long walks over one text taking turns would each throw the
 * other's away and re-read their whole context at every piece (a first-time user's drive: a
 * heat-map at 14 tokens/s instead of 121). It waits, saying so, and then sums the heat-map's scores
 * of the same tokens when they are of the whole document (the same number: heatmapTotals.ts), or
 * scores the text itself (a selection, or a text cut at the setting's length) once the heat-map is done.
 * A selection's tokens are the document's, each given the text before it, as its heat-map scores them.
 *
 * It keeps its per-token scores of the text it scored (editor/textScores.ts): after an edit only the
 * tokens the edit can have changed are scored again. What it is doing is editor/metricsState.ts.
 */
import * as vscode from 'vscode';
import { CancelledError } from '../core/errors';
import { scoreText, type ScoreSummary } from '../core/scoring';
import type { LanguageModel } from '../core/model';
import { characterCount } from '../core/tokenizers/lineBreaks';
import { MetricsState, textKey } from '../editor/metricsState';
import { scoreServerSelection } from '../editor/serverScoring';
import { TextScoresByDocument, planTextScores, planTokenScores, scoreTextRanges, textTotals, tokensIn } from '../editor/textScores';
import type { TokenHeatmap } from './heatmap';
import type { ModelService } from './modelService';
import { SECTION, contextChars, metricsSettings } from './settings';
import { languageEnabled } from '../editor/languageFeatures';
import { metricsTooltipMarkdown, percentDone } from './metricsTooltip';
import { documentReader, looksBinary, placedScopeTokens } from './textWindow';
import { selectionWaitsForRun } from '../editor/heatmapFrontier';

const DELAY_MS = 600;
/** Scoring asks the model in pieces of about this long, so a hover waits behind one piece at most. */
const PIECE_MS = 200;

export function createDocumentMetrics(
  models: ModelService,
  heatmap: Pick<TokenHeatmap, 'runOf' | 'wholeTotals' | 'onDidProgress'>,
  log: vscode.LogOutputChannel,
): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('lmPlayground.metrics', vscode.StatusBarAlignment.Right, 98);
  item.name = 'LM Playground document entropy';
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Shows the scoring in progress again (a completion started or ended meanwhile); undefined when none runs. */
  let refreshProgress: (() => void) | undefined;
  const state = new MetricsState<LanguageModel>();
  const kept = new TextScoresByDocument();

  /** What a scoring of the active editor now would score: a cursor move within the same text changes nothing. */
  const keyOf = (editor: vscode.TextEditor | undefined): string | undefined => {
    if (!editor) return undefined;
    const sel = editor.selection;
    const scope = sel.isEmpty ? 'document' : `${editor.document.offsetAt(sel.start)}-${editor.document.offsetAt(sel.end)}`;
    return textKey(editor.document.uri.toString(), editor.document.version, scope);
  };

  const hide = () => {
    state.hidden();
    item.hide();
  };

  /** Another document: no number of the previous one beside it until its own arrive. */
  const stale = (key: string | undefined) => {
    if (!state.dropIfOtherText(key)) return;
    item.text = state.text();
    item.tooltip = 'Bits per character of this text: being computed.';
  };

  /** Another model than the one whose numbers are shown: no stale number beside its name until its own arrive. */
  const pending = (model: LanguageModel | undefined) => {
    if (!state.dropIfOtherModel(model)) return;
    item.text = state.text();
    item.tooltip = `Bits per character under ${model?.info.name ?? 'the new model'}: being computed.`;
  };

  const schedule = (delay = DELAY_MS, force = false) => {
    // The same text being scored, waited for or shown: a cursor move does not start it again.
    if (!state.wants(keyOf(vscode.window.activeTextEditor), force)) return;
    if (timer) clearTimeout(timer);
    state.stop();
    timer = setTimeout(() => void update(), delay);
  };

  const update = async () => {
    timer = undefined;
    const editor = vscode.window.activeTextEditor;
    const settings = editor ? metricsSettings(editor.document) : undefined;
    if (!editor || !settings?.enabled || !languageEnabled(settings.languages, editor.document.languageId)) return hide();
    const doc = editor.document;
    const sel = editor.selection;
    const scope = sel.isEmpty ? 'document' : 'selection';
    let text = sel.isEmpty ? doc.getText() : doc.getText(sel);
    const cut = text.length > settings.maxChars;
    if (cut) text = text.slice(0, settings.maxChars);
    if (text.trim().length === 0 || looksBinary(text)) return hide();
    // A number of another text (the selection's, when it was deselected) goes here.
    const mine = state.start(keyOf(editor)!);
    try {
      const model = await models.get();
      if (mine.cancelled) return;
      pending(model);
      const run = heatmap.runOf(doc);
      if (run?.busy && (scope === 'document' || selectionWaitsForRun(run, doc.offsetAt(sel.start), doc.offsetAt(sel.end)))) {
        state.waitForHeatmap();
        showWaiting(run);
        log.info(`bits/char of ${vscode.workspace.asRelativePath(doc.uri)}: waits for the heat-map scoring it`);
        return;
      }
      // Why a selection's tokens are not in the document's windows, for the tooltip.
      let note: string | undefined;
      const show = (summary: ScoreSummary, elapsedMs: number | undefined, rescored?: number, whole = false) => {
        const cutAt = cut && !whole ? settings.maxChars : undefined;
        state.shown(mine, model, summary.bitsPerChar.toFixed(2), cutAt !== undefined ? `first ${cutAt.toLocaleString('en-US')} chars` : undefined);
        item.text = state.text();
        const tooltip = new vscode.MarkdownString(
          metricsTooltipMarkdown({
            modelName: model.info.name,
            scope,
            ...(scope === 'selection' ? { selectionContextChars: contextChars() } : {}),
            cutAt,
            summary,
            elapsedMs,
            rescored,
            window: model.info.capabilities.context === 'window' ? model.info.contextLength : undefined,
            note,
          }),
        );
        // The model's name is untrusted text: no command links, no HTML.
        tooltip.isTrusted = false;
        tooltip.supportHtml = false;
        item.tooltip = tooltip;
        item.show();
      };
      // A heat-map of the whole document gives its number past metrics.maxChars too: its scores are there.
      const fromHeatmap = scope === 'document' ? heatmap.wholeTotals(doc, model) : undefined;
      if (fromHeatmap) {
        show(fromHeatmap.summary(characterCount(cut ? doc.getText() : text)), undefined, undefined, true);
        log.info(`bits/char of ${vscode.workspace.asRelativePath(doc.uri)}: summed from the heat-map's scores of its ${fromHeatmap.tokens} tokens`);
        return;
      }
      const started = Date.now();
      const uri = doc.uri.toString();
      // A selection: the document's tokens, each predicted from the text before it, as its heat-map
      // and hovers score them (it was scored as a text of its own: other tokens, no context, hostile22 M1).
      let chars = characterCount(text);
      let planned: ReturnType<typeof planTextScores> | undefined;
      // A server tokenizes for itself: it is asked with text, below.
      if (!model.server && scope === 'selection') {
        const start = doc.offsetAt(sel.start);
        // As the selection's heat-map reads it.
        const scoped = await placedScopeTokens(doc, start, start + text.length, contextChars(), model, mine);
        if (mine.cancelled) return;
        note = scoped.note;
        planned = planTokenScores(model, [...scoped.context, ...scoped.tokens], scoped.context.length, kept.get(uri, scope), scoped.tokensBefore);
        const [first, last] = [scoped.tokens[0], scoped.tokens[scoped.tokens.length - 1]];
        // Per character of what the tokens cover: a token the selection cuts counts whole.
        if (first && last) chars = characterCount(doc.getText(new vscode.Range(doc.positionAt(first.start), doc.positionAt(last.start + last.length))));
      } else if (!model.server) planned = planTextScores(model, text, kept.get(uri, scope));
      // Only the tokens an edit can have changed are scored; the others keep their scores (a server tokenizes: all).
      if (planned) kept.set(uri, scope, planned.scores);
      const all = planned ? planned.scores.tokens.length - Math.max(1, planned.scores.from) : 0;
      // From the first piece on, the item says that a number is coming and how far it is (of the tokens being scored).
      const total = planned ? tokensIn(planned.ranges) : 0;
      let done = 0;
      const progress = () => {
        if (mine.cancelled) return;
        item.text = state.text(model.server ? undefined : percentDone(done, total));
        item.tooltip = `Bits per character of this ${scope} under ${model.info.name}: being computed${
          model.server
            ? ' on its server'
            : `, ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} tokens scored${
                total < all ? ` (the other ${(all - total).toLocaleString('en-US')} keep the scores they had)` : ''
              }`
        }${state.number !== undefined ? '; the number shown is of the text before the last edit' : ''}.${
          // A model that holds itself for a generation: the ONNX model's longer requests wait for its end (OnnxCausalLm).
          models.completing && model.holdForGeneration
            ? ' A completion is being generated: the model takes it first, so this number can wait until it is done.'
            : ''
        }`;
        item.show();
      };
      if (model.server && scope === 'selection') {
        // On the server too the selection is scored in its document, as its heat-map scores it.
        progress();
        const read = documentReader(doc);
        const start = doc.offsetAt(sel.start);
        const scored = await scoreServerSelection(model.server, read, start, start + text.length, {
          maxContextChars: contextChars(),
          contextTokensHint: model.info.contextLength,
          textEnd: doc.getText().length,
          signal: mine,
        });
        if (mine.cancelled) return;
        show(scored.totals.summary(characterCount(read(scored.start, scored.end))), Date.now() - started);
        return;
      }
      if (!planned) {
        progress();
        const { summary } = await scoreText(model, text, { signal: mine, pieceMs: PIECE_MS });
        if (mine.cancelled) return;
        show(summary, Date.now() - started);
        return;
      }
      if (total > 0) progress();
      refreshProgress = progress;
      await scoreTextRanges(planned.scores, planned.ranges, {
        signal: mine,
        targetMs: PIECE_MS,
        onScored: (n) => {
          done += n;
          progress();
        },
      }).finally(() => {
        if (refreshProgress === progress) refreshProgress = undefined;
      });
      if (mine.cancelled) return;
      const totals = textTotals(planned.scores);
      if (!totals) throw new Error('a token was left unscored');
      show(totals.summary(chars), Date.now() - started, total < all ? total : undefined);
      if (total < all)
        log.info(`bits/char of ${vscode.workspace.asRelativePath(doc.uri)}: scored ${total} of its ${all} tokens again, the others kept their scores`);
    } catch (e) {
      if (e instanceof CancelledError || mine.cancelled) return;
      state.ended(mine);
      log.warn(`document metrics: ${e instanceof Error ? e.message : e}`);
      hide();
    }
  };

  /** The item while the heat-map scores the document: what it waits for, and how far the heat-map is (beside an old number too). */
  const showWaiting = (run: { scored: number; total: number }) => {
    const far = `${run.scored.toLocaleString('en-US')} of ${run.total.toLocaleString('en-US')} tokens`;
    item.text = state.text(`heat-map ${percentDone(run.scored, run.total)}`);
    // The percentage is the heat-map's, whose range may be larger than the selection it meets (drive21).
    const of =
      vscode.window.activeTextEditor?.selection.isEmpty === false
        ? 'the selection, waiting for the heat-map scoring its document'
        : 'this document, waiting for the heat-map scoring it';
    item.tooltip =
      `Bits per character of ${of} (${far} of the heat-map's range). ` +
      'The two would take turns re-reading the text with the model; the number follows when the heat-map is done' +
      `${state.number !== undefined ? ' (the number shown is of the text before the last edit)' : ''}.`;
    item.show();
  };

  /** The heat-map of the active document moved on: the waiting item follows it; a scoring of the same text gives way to it. */
  const heatmapMoved = (document: vscode.TextDocument) => {
    const editor = vscode.window.activeTextEditor;
    if (document !== editor?.document) return;
    const run = heatmap.runOf(document);
    const sel = editor.selection;
    if (run?.busy) {
      if (sel.isEmpty || selectionWaitsForRun(run, document.offsetAt(sel.start), document.offsetAt(sel.end))) {
        if (state.waitForHeatmap()) log.info(`bits/char of ${vscode.workspace.asRelativePath(document.uri)}: gives way to the heat-map scoring it`);
        if (state.waiting) showWaiting(run);
      } else if (state.waiting) schedule(0, true); // the heat-map scores other lines, or has passed the selection: not worth waiting for
      return;
    }
    // Done (or stopped, or cleared): the number now, from its scores or by scoring; a number of part
    // of a long document gives way to the whole one's, which the heat-map may now have.
    if (state.waiting || state.partial) schedule(0, true);
  };

  schedule(0);
  return vscode.Disposable.from(
    heatmap.onDidProgress(heatmapMoved),
    item,
    vscode.window.onDidChangeActiveTextEditor(() => {
      stale(keyOf(vscode.window.activeTextEditor));
      schedule(0);
    }),
    vscode.window.onDidChangeTextEditorSelection((e) => {
      if (e.textEditor !== vscode.window.activeTextEditor) return;
      // Another selection's number goes at once, not when its scoring starts after the delay (hostile23 M1:
      // the last one stayed, marked current, for as long as a drag or Shift+Down went on).
      stale(keyOf(e.textEditor));
      schedule();
    }),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document !== vscode.window.activeTextEditor?.document || e.contentChanges.length === 0) return;
      // The number shown is of the text before the edit: marked as being computed again until the new one arrives.
      state.edited();
      if (state.number !== undefined) item.text = state.text();
      schedule();
    }),
    vscode.workspace.onDidCloseTextDocument((d) => kept.dropDocument(d.uri.toString())),
    // The active document's language changed (VS Code's detection, the language picker): shown or hidden by it.
    vscode.workspace.onDidOpenTextDocument((d) => {
      if (d.uri.toString() === vscode.window.activeTextEditor?.document.uri.toString()) schedule(0, true);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(SECTION)) return;
      // The kept scores stay: they are of a model and a text, and a setting that changes the model
      // makes another (onDidChangeModel drops them). Toggling ghost text threw away minutes of a
      // large model's scores (drive7).
      schedule(0, true);
    }),
    models.onDidChangeStatus(() => refreshProgress?.()),
    models.onDidChangeModel((model) => {
      kept.clear();
      pending(model);
      schedule(0, true);
    }),
    {
      dispose: () => {
        if (timer) clearTimeout(timer);
        state.stop();
        kept.clear();
      },
    },
  );
}
