/**
 * LM: Complete Selection. The prompt is the selection, or the text before the cursor; the
 * completion is inserted after it as one undo step. Several completions are offered in a quick pick.
 */
import * as vscode from 'vscode';
import { CancelledError, LmError } from '../core/errors';
import { generate, type Completion } from '../core/generation';
import type { ModelService } from './modelService';
import { contextChars, generationSettings } from './settings';
import { documentWindow, looksBinary } from './textWindow';

export async function completeSelection(models: ModelService, log: vscode.LogOutputChannel): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showWarningMessage('LM: Complete Selection works in a text editor: open a file first.');
    return;
  }
  const document = editor.document;
  const model = await models.get();
  const selection = editor.selection;
  const endOffset = document.offsetAt(selection.end);
  const startOffset = selection.isEmpty ? 0 : document.offsetAt(selection.start);
  // Long prompts are cut to the context window, like the hover.
  const window = documentWindow(document, endOffset, contextChars(), model.tokenizer);
  const promptStart = Math.max(startOffset, window.startOffset);
  const prompt = document.getText(new vscode.Range(document.positionAt(promptStart), document.positionAt(endOffset)));
  if (prompt.trim().length === 0) {
    void vscode.window.showWarningMessage('LM: Complete Selection needs a prompt: select some text, or put the cursor after some text.');
    return;
  }
  if (looksBinary(prompt)) throw new LmError('this looks like a binary file (it contains NUL characters); nothing was generated');

  const options = generationSettings(document);
  const versionBefore = document.version;
  const insertAt = document.positionAt(endOffset);
  const started = Date.now();
  let completions: Completion[];
  try {
    completions = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `LM: completing with ${model.info.name}`, cancellable: true },
      (progress, token) => {
        const signal = { get cancelled() { return token.isCancellationRequested; } };
        const total = options.maxTokens * (options.numCompletions ?? 1);
        let produced = 0;
        return generate(model, prompt, options, {
          signal,
          onToken: () => {
            produced++;
            if (produced % 8 === 0) progress.report({ message: `${produced} tokens`, increment: (800 / total) });
          },
        });
      },
    );
  } catch (e) {
    if (e instanceof CancelledError) {
      void vscode.window.showInformationMessage('LM: completion cancelled; the document was not changed.');
      return;
    }
    throw e;
  }
  const produced = completions.reduce((n, c) => n + c.tokens.length, 0);
  const ms = Date.now() - started;
  log.info(`completed ${completions.length} completion(s), ${produced} tokens with ${model.info.name} in ${ms} ms (seed ${completions[0]?.seed})`);
  if (produced > 0) models.reportSpeed((produced * 1000) / Math.max(1, ms));

  const chosen = completions.length === 1 ? completions[0] : await pickCompletion(completions);
  if (!chosen) return;
  if (chosen.text.length === 0) {
    void vscode.window.showInformationMessage(`LM: the model produced no text (finished: ${finishLabel(chosen)}).`);
    return;
  }
  if (document.version !== versionBefore) {
    const copy = 'Copy Completion';
    const answer = await vscode.window.showWarningMessage('LM: the document changed while the model was generating, so the completion was not inserted.', copy);
    if (answer === copy) await vscode.env.clipboard.writeText(chosen.text);
    return;
  }
  const targetEditor = vscode.window.visibleTextEditors.find((e) => e.document === document) ?? editor;
  const ok = await targetEditor.edit((b) => b.insert(insertAt, chosen.text), { undoStopBefore: true, undoStopAfter: true });
  if (!ok) throw new LmError('the editor refused the edit; the document was not changed');
  const end = document.positionAt(document.offsetAt(insertAt) + chosen.text.length);
  targetEditor.selection = new vscode.Selection(end, end);
}

function finishLabel(c: Completion): string {
  return c.finishReason === 'length' ? 'max tokens' : c.finishReason === 'stop' ? 'stop sequence' : 'end of text';
}

async function pickCompletion(completions: Completion[]): Promise<Completion | undefined> {
  const items = completions
    .map((c) => ({
      // Line breaks stay visible in a one-line label.
      label: c.text.replace(/\r?\n/g, ' ⏎ ').replace(/[ \t]+/g, ' ').trim() || '(empty)',
      description: `log p = ${c.logProb.toFixed(2)} nats`,
      detail: `${c.tokens.length} tokens · finished: ${finishLabel(c)}`,
      completion: c,
    }))
    .sort((a, b) => b.completion.logProb - a.completion.logProb);
  const picked = await vscode.window.showQuickPick(items, {
    title: 'LM: choose a completion (most probable first)',
    matchOnDetail: false,
    placeHolder: 'Each completion with its total log-probability under the model',
  });
  return picked?.completion;
}
