/**
 * Ghost text while typing, from the active model (see editor/inlineEngine.ts for the debounce,
 * cache and stop rules), and a status bar switch that turns it on and off everywhere.
 */
import * as vscode from 'vscode';
import { EngineStoppedError } from '../core/errors';
import { CACHE_TAIL } from '../editor/suggestionCache';
import { InlineCompletionEngine } from '../editor/inlineEngine';
import type { ModelService } from './modelService';
import { SECTION, contextChars, inlineSettings } from './settings';
import { languageEnabled } from '../editor/languageFeatures';
import { documentWindow, looksBinary } from './textWindow';

class LmInlineCompletionProvider implements vscode.InlineCompletionItemProvider {
  readonly engine: InlineCompletionEngine;
  private reportedError: string | undefined;

  constructor(
    private readonly models: ModelService,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.engine = new InlineCompletionEngine(
      () => models.get(),
      () => inlineSettings(),
    );
  }

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    const settings = inlineSettings(document);
    const manual = context.triggerKind === vscode.InlineCompletionTriggerKind.Invoke;
    // The settings govern ghost text while typing; LM: Suggest Inline Completion (Alt+\) asks for one
    // here and now, which saying nothing would refuse (drive20 L2).
    if (!manual && (!settings.enabled || !languageEnabled(settings.languages, document.languageId))) return undefined;
    try {
      const model = await this.models.get();
      // With the suggest widget open VS Code shows ghost text only when it continues the selected
      // suggestion: complete as if it were accepted, and offer it followed by the continuation.
      const selected = context.selectedCompletionInfo;
      const replace = selected?.range ?? new vscode.Range(position, position);
      const accepted = selected?.text ?? '';
      const from = document.offsetAt(replace.start);
      const window = documentWindow(document, from, contextChars(), model.tokenizer);
      const prompt = window.text + accepted;
      if (looksBinary(prompt)) return undefined;
      const tailFrom = Math.max(0, from - CACHE_TAIL - 1024);
      const textBefore = document.getText(new vscode.Range(document.positionAt(tailFrom), replace.start)) + accepted;
      const end = replace.end.line === position.line ? Math.max(replace.end.character, position.character) : position.character;
      const after = document.lineAt(position.line).text.slice(end);
      // An abort ends the engine's debounce at once when VS Code cancels (the user typed on).
      const abort = new AbortController();
      const cancelled = token.onCancellationRequested(() => abort.abort());
      if (token.isCancellationRequested) abort.abort();
      const started = Date.now();
      const result = await this.engine
        .suggest({ doc: document.uri.toString(), offset: from + accepted.length, prompt, atStart: window.atStart, textBefore, after, manual }, abort.signal)
        .finally(() => cancelled.dispose());
      if (!result || token.isCancellationRequested) return undefined;
      this.log.debug(
        `inline suggestion ${JSON.stringify(result.text)} in ${Date.now() - started} ms (model ${result.latencyMs} ms${result.fromCache ? ', from the cache' : ''})`,
      );
      this.reportedError = undefined;
      return [new vscode.InlineCompletionItem(accepted + result.text, replace)];
    } catch (e) {
      // Typing must not raise a notification per keystroke: log, and tell once per distinct error.
      const message = e instanceof Error ? e.message : String(e);
      this.log.error(`inline completion: ${message}`);
      if (message !== this.reportedError && !(e instanceof EngineStoppedError)) {
        this.reportedError = message;
        void vscode.window.showErrorMessage(`LM Playground: inline completions failed: ${message}`);
      }
      return undefined;
    }
  }
}

export function registerInlineCompletions(models: ModelService, log: vscode.LogOutputChannel): vscode.Disposable[] {
  const provider = new LmInlineCompletionProvider(models, log);
  const item = vscode.window.createStatusBarItem('lmPlayground.inline', vscode.StatusBarAlignment.Right, 99);
  item.name = 'LM Playground inline completions';
  item.command = 'lmPlayground.toggleInlineCompletions';
  const update = () => {
    const on = inlineSettings().enabled;
    item.text = on ? '$(sparkle) LM ghost text' : '$(circle-slash) LM ghost text';
    item.tooltip = on
      ? 'LM Playground: inline completions are on. Click to turn them off.'
      : 'LM Playground: inline completions are off (LM: Suggest Inline Completion, Alt+\\, still asks for one). Click to turn them on.';
  };
  update();
  item.show();
  return [
    item,
    vscode.languages.registerInlineCompletionItemProvider({ pattern: '**' }, provider),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${SECTION}.inline`)) update();
    }),
    vscode.workspace.onDidCloseTextDocument((d) => provider.engine.forget(d.uri.toString())),
    vscode.commands.registerCommand('lmPlayground.toggleInlineCompletions', async () => {
      await vscode.workspace.getConfiguration(SECTION).update('inline.enabled', !inlineSettings().enabled, vscode.ConfigurationTarget.Global);
    }),
    vscode.commands.registerCommand('lmPlayground.suggestInline', () => vscode.commands.executeCommand('editor.action.inlineSuggest.trigger')),
  ];
}
