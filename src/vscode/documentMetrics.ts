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
 */
import * as vscode from 'vscode';
import { CancelledError } from '../core/errors';
import { scoreText, type ScoreSummary } from '../core/scoring';
import type { LanguageModel } from '../core/model';
import { characterCount } from '../core/tokenizers/lineBreaks';
import type { TokenHeatmap } from './heatmap';
import type { ModelService } from './modelService';
import { SECTION, languageEnabled, metricsSettings } from './settings';
import { metricsTooltipMarkdown, percentDone } from './metricsTooltip';
import { looksBinary } from './textWindow';

const DELAY_MS = 600;
/** Scoring asks the model in pieces of about this long, so a hover waits behind one piece at most. */
const PIECE_MS = 200;
/** The item's icon beside a number of the text as it is, and beside one of the text before an edit. */
const SHOWN = '$(pulse)';
const RECOMPUTING = '$(sync~spin)';

export function createDocumentMetrics(
  models: ModelService,
  heatmap: Pick<TokenHeatmap, 'runOf' | 'wholeTotals' | 'onDidProgress'>,
  log: vscode.LogOutputChannel,
): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('lmPlayground.metrics', vscode.StatusBarAlignment.Right, 98);
  item.name = 'LM Playground document entropy';
  let timer: ReturnType<typeof setTimeout> | undefined;
  let job: { cancelled: boolean; key: string } | undefined;
  /** The text whose number waits for the heat-map scoring the same document. */
  let waiting: string | undefined;
  /** Whether the item shows a number (maybe of the text before an edit), not a "…". */
  let numberShown = false;
  /** The model whose numbers the item shows. */
  let shownFor: LanguageModel | undefined;
  /** What the shown numbers are of: the document's version and the selection scored. */
  let shownKey: string | undefined;

  /** What a scoring of the active editor now would score: a cursor move within the same text changes nothing. */
  const keyOf = (editor: vscode.TextEditor | undefined): string | undefined => {
    if (!editor) return undefined;
    const sel = editor.selection;
    const scope = sel.isEmpty ? 'document' : `${editor.document.offsetAt(sel.start)}-${editor.document.offsetAt(sel.end)}`;
    return `${editor.document.uri.toString()}@${editor.document.version}:${scope}`;
  };

  /** Another document: no number of the previous one beside it until its own arrive. */
  const stale = () => {
    if (shownKey === undefined || shownKey === keyOf(vscode.window.activeTextEditor)) return;
    numberShown = false;
    item.text = `${RECOMPUTING} … bits/char`;
    item.tooltip = 'Bits per character of this document: being computed.';
  };

  /** Another model than the one whose numbers are shown: no stale number beside its name until its own arrive. */
  const pending = (model: LanguageModel | undefined) => {
    if (model === shownFor) return;
    numberShown = false;
    item.text = `${RECOMPUTING} … bits/char`;
    item.tooltip = `Bits per character under ${model?.info.name ?? 'the new model'}: being computed.`;
  };

  const schedule = (delay = DELAY_MS, force = false) => {
    const key = keyOf(vscode.window.activeTextEditor);
    // The same text being scored, or shown: a cursor move does not start it again.
    if (!force && key !== undefined && (job ? job.key === key : (waiting ?? shownKey) === key)) return;
    if (timer) clearTimeout(timer);
    if (job) job.cancelled = true;
    job = undefined;
    waiting = undefined;
    timer = setTimeout(() => void update(), delay);
  };

  const update = async () => {
    timer = undefined;
    const editor = vscode.window.activeTextEditor;
    const settings = editor ? metricsSettings(editor.document) : undefined;
    if (!editor || !settings?.enabled || !languageEnabled(settings.languages, editor.document.languageId)) {
      shownKey = undefined;
      numberShown = false;
      item.hide();
      return;
    }
    const doc = editor.document;
    const sel = editor.selection;
    const scope = sel.isEmpty ? 'document' : 'selection';
    let text = sel.isEmpty ? doc.getText() : doc.getText(sel);
    const cut = text.length > settings.maxChars;
    if (cut) text = text.slice(0, settings.maxChars);
    if (text.trim().length === 0 || looksBinary(text)) {
      shownKey = undefined;
      numberShown = false;
      item.hide();
      return;
    }
    const mine = { cancelled: false, key: keyOf(editor)! };
    job = mine;
    try {
      const model = await models.get();
      if (mine.cancelled) return;
      pending(model);
      const run = heatmap.runOf(doc);
      if (run?.busy) {
        job = undefined;
        waiting = mine.key;
        showWaiting(run);
        log.info(`bits/char of ${vscode.workspace.asRelativePath(doc.uri)}: waits for the heat-map scoring it`);
        return;
      }
      const show = (summary: ScoreSummary, elapsedMs: number | undefined) => {
        item.text = `${SHOWN} ${summary.bitsPerChar.toFixed(2)} bits/char`;
        numberShown = true;
        shownFor = model;
        shownKey = mine.key;
        const tooltip = new vscode.MarkdownString(
          metricsTooltipMarkdown({
            modelName: model.info.name,
            scope,
            cutAt: cut ? settings.maxChars : undefined,
            summary,
            elapsedMs,
            window: model.info.capabilities.context === 'window' ? model.info.contextLength : undefined,
          }),
        );
        // The model's name is untrusted text: no command links, no HTML.
        tooltip.isTrusted = false;
        tooltip.supportHtml = false;
        item.tooltip = tooltip;
        item.show();
      };
      const fromHeatmap = scope === 'document' && !cut ? heatmap.wholeTotals(doc, model) : undefined;
      if (fromHeatmap) {
        job = undefined;
        show(fromHeatmap.summary(characterCount(text)), undefined);
        log.info(`bits/char of ${vscode.workspace.asRelativePath(doc.uri)}: summed from the heat-map's scores of its ${fromHeatmap.tokens} tokens`);
        return;
      }
      const started = Date.now();
      // From the first piece on, the item says that a number is coming and how far it is.
      const total = Math.max(1, model.server ? 0 : model.tokenizer.encode(text, true).length - 1);
      let done = 0;
      const progress = () => {
        if (mine.cancelled) return;
        const of = model.server ? '' : ` (${percentDone(done, total)})`;
        if (!numberShown) item.text = `${RECOMPUTING} … bits/char${of}`;
        item.tooltip = `Bits per character of this ${scope} under ${model.info.name}: being computed${
          model.server ? ' on its server' : `, ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} tokens scored`
        }${numberShown ? '; the number shown is of the text before the last edit' : ''}.`;
        item.show();
      };
      progress();
      const { summary } = await scoreText(model, text, {
        signal: mine,
        pieceMs: PIECE_MS,
        onScored: (n) => {
          done += n;
          progress();
        },
      });
      if (mine.cancelled) return;
      if (job === mine) job = undefined;
      show(summary, Date.now() - started);
    } catch (e) {
      if (e instanceof CancelledError || mine.cancelled) return;
      if (job === mine) job = undefined;
      shownKey = undefined;
      numberShown = false;
      log.warn(`document metrics: ${e instanceof Error ? e.message : e}`);
      item.hide();
    }
  };

  /** The item while the heat-map scores the document: what it waits for, and how far the heat-map is. */
  const showWaiting = (run: { scored: number; total: number }) => {
    const far = `${run.scored.toLocaleString('en-US')} of ${run.total.toLocaleString('en-US')} tokens`;
    if (!numberShown) item.text = `${RECOMPUTING} … bits/char (heat-map ${percentDone(run.scored, run.total)})`;
    item.tooltip =
      `Bits per character of this document: waiting for the heat-map, which is scoring it (${far}). ` +
      'The two would take turns re-reading the text with the model; the number follows when the heat-map is done' +
      `${numberShown ? ' (the number shown is of the text before the last edit)' : ''}.`;
    item.show();
  };

  /** The heat-map of the active document moved on: the waiting item follows it; a scoring of the same text gives way to it. */
  const heatmapMoved = (document: vscode.TextDocument) => {
    const editor = vscode.window.activeTextEditor;
    if (document !== editor?.document) return;
    const run = heatmap.runOf(document);
    if (run?.busy) {
      if (job) {
        job.cancelled = true;
        waiting = job.key;
        job = undefined;
        log.info(`bits/char of ${vscode.workspace.asRelativePath(document.uri)}: gives way to the heat-map scoring it`);
      }
      if (waiting !== undefined) showWaiting(run);
      return;
    }
    // Done (or stopped, or cleared): the number now, from its scores or by scoring.
    if (waiting !== undefined) schedule(0, true);
  };

  schedule(0);
  return vscode.Disposable.from(
    heatmap.onDidProgress(heatmapMoved),
    item,
    vscode.window.onDidChangeActiveTextEditor(() => {
      stale();
      schedule(0);
    }),
    vscode.window.onDidChangeTextEditorSelection((e) => {
      if (e.textEditor === vscode.window.activeTextEditor) schedule();
    }),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document !== vscode.window.activeTextEditor?.document || e.contentChanges.length === 0) return;
      // The number shown is of the text before the edit: marked as being computed again until the new one arrives.
      if (item.text.startsWith(SHOWN)) item.text = item.text.replace(SHOWN, RECOMPUTING);
      schedule();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(SECTION)) schedule(0, true);
    }),
    models.onDidChangeModel((model) => {
      pending(model);
      schedule(0, true);
    }),
    {
      dispose: () => {
        if (timer) clearTimeout(timer);
        if (job) job.cancelled = true;
      },
    },
  );
}
