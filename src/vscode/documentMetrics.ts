/**
 * Status bar: how predictable the active document (or its selection) is under the active model:
 * bits per character, bits per token and perplexity, recomputed shortly after edits.
 */
import * as vscode from 'vscode';
import { CancelledError } from '../core/errors';
import { scoreText } from '../core/scoring';
import type { LanguageModel } from '../core/model';
import type { ModelService } from './modelService';
import { SECTION, languageEnabled, metricsSettings } from './settings';
import { metricsTooltipMarkdown } from './metricsTooltip';
import { looksBinary } from './textWindow';

const DELAY_MS = 600;
/** Scoring asks the model in pieces of about this long, so a hover waits behind one piece at most. */
const PIECE_MS = 200;
/** The item's icon beside a number of the text as it is, and beside one of the text before an edit. */
const SHOWN = '$(pulse)';
const RECOMPUTING = '$(sync~spin)';

export function createDocumentMetrics(models: ModelService, log: vscode.LogOutputChannel): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('lmPlayground.metrics', vscode.StatusBarAlignment.Right, 98);
  item.name = 'LM Playground document entropy';
  let timer: ReturnType<typeof setTimeout> | undefined;
  let job: { cancelled: boolean; key: string } | undefined;
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
    item.text = '$(sync~spin) … bits/char';
    item.tooltip = 'Bits per character of this document: being computed.';
  };

  /** Another model than the one whose numbers are shown: no stale number beside its name until its own arrive. */
  const pending = (model: LanguageModel | undefined) => {
    if (model === shownFor) return;
    item.text = '$(sync~spin) … bits/char';
    item.tooltip = `Bits per character under ${model?.info.name ?? 'the new model'}: being computed.`;
  };

  const schedule = (delay = DELAY_MS, force = false) => {
    const key = keyOf(vscode.window.activeTextEditor);
    // The same text being scored, or shown: a cursor move does not start it again.
    if (!force && key !== undefined && (job ? job.key === key : shownKey === key)) return;
    if (timer) clearTimeout(timer);
    if (job) job.cancelled = true;
    job = undefined;
    timer = setTimeout(() => void update(), delay);
  };

  const update = async () => {
    timer = undefined;
    const editor = vscode.window.activeTextEditor;
    const settings = editor ? metricsSettings(editor.document) : undefined;
    if (!editor || !settings?.enabled || !languageEnabled(settings.languages, editor.document.languageId)) {
      shownKey = undefined;
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
      item.hide();
      return;
    }
    const mine = { cancelled: false, key: keyOf(editor)! };
    job = mine;
    try {
      const model = await models.get();
      pending(model);
      const started = Date.now();
      const { summary } = await scoreText(model, text, { signal: mine, pieceMs: PIECE_MS });
      if (mine.cancelled) return;
      if (job === mine) job = undefined;
      item.text = `${SHOWN} ${summary.bitsPerChar.toFixed(2)} bits/char`;
      shownFor = model;
      shownKey = mine.key;
      const tooltip = new vscode.MarkdownString(
        metricsTooltipMarkdown({
          modelName: model.info.name,
          scope,
          cutAt: cut ? settings.maxChars : undefined,
          summary,
          elapsedMs: Date.now() - started,
          window: model.info.capabilities.context === 'window' ? model.info.contextLength : undefined,
        }),
      );
      // The model's name is untrusted text: no command links, no HTML.
      tooltip.isTrusted = false;
      tooltip.supportHtml = false;
      item.tooltip = tooltip;
      item.show();
    } catch (e) {
      if (e instanceof CancelledError || mine.cancelled) return;
      if (job === mine) job = undefined;
      shownKey = undefined;
      log.warn(`document metrics: ${e instanceof Error ? e.message : e}`);
      item.hide();
    }
  };

  schedule(0);
  return vscode.Disposable.from(
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
