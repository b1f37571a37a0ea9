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

export function createDocumentMetrics(models: ModelService, log: vscode.LogOutputChannel): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('lmPlayground.metrics', vscode.StatusBarAlignment.Right, 98);
  item.name = 'LM Playground document entropy';
  let timer: ReturnType<typeof setTimeout> | undefined;
  let job: { cancelled: boolean } | undefined;
  /** The model whose numbers the item shows. */
  let shownFor: LanguageModel | undefined;

  /** Another model than the one whose numbers are shown: no stale number beside its name until its own arrive. */
  const pending = (model: LanguageModel | undefined) => {
    if (model === shownFor) return;
    item.text = '$(sync~spin) … bits/char';
    item.tooltip = `Bits per character under ${model?.info.name ?? 'the new model'}: being computed.`;
  };

  const schedule = (delay = DELAY_MS) => {
    if (timer) clearTimeout(timer);
    if (job) job.cancelled = true;
    timer = setTimeout(() => void update(), delay);
  };

  const update = async () => {
    timer = undefined;
    const editor = vscode.window.activeTextEditor;
    const settings = editor ? metricsSettings(editor.document) : undefined;
    if (!editor || !settings?.enabled || !languageEnabled(settings.languages, editor.document.languageId)) {
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
      item.hide();
      return;
    }
    const mine = { cancelled: false };
    job = mine;
    try {
      const model = await models.get();
      pending(model);
      const started = Date.now();
      const { summary } = await scoreText(model, text, { signal: mine });
      if (mine.cancelled) return;
      item.text = `$(pulse) ${summary.bitsPerChar.toFixed(2)} bits/char`;
      shownFor = model;
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
      log.warn(`document metrics: ${e instanceof Error ? e.message : e}`);
      item.hide();
    }
  };

  schedule(0);
  return vscode.Disposable.from(
    item,
    vscode.window.onDidChangeActiveTextEditor(() => schedule(0)),
    vscode.window.onDidChangeTextEditorSelection((e) => {
      if (e.textEditor === vscode.window.activeTextEditor) schedule();
    }),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document === vscode.window.activeTextEditor?.document) schedule();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(SECTION)) schedule(0);
    }),
    models.onDidChangeModel((model) => {
      pending(model);
      schedule(0);
    }),
    {
      dispose: () => {
        if (timer) clearTimeout(timer);
        if (job) job.cancelled = true;
      },
    },
  );
}
