/**
 * The hover's "continue with …" links: a command URI per alternative that puts the alternative in
 * place of the hovered token and completes from it (Complete Selection's insertion: one undo step,
 * nothing inserted when the document changed meanwhile; a read-only document is refused before
 * anything is generated), closing the hover, whose numbers were the replaced token's.
 */
import * as vscode from 'vscode';
import type { Alternative } from '../core/scoring';
import { splitsCharacter } from '../core/tokenBytes';
import { checkContinueWithArgs, continueWithCommandUri, type ContinueWithArgs } from '../editor/continueWithLink';
import { completeInDocument } from './completeSelection';
import { readOnlyReason } from './readOnly';
import type { ModelService } from './modelService';

export const CONTINUE_WITH_COMMAND = 'lmPlayground.continueWith';

/** The link for `alternative` of the token at [start, start + length) of `document`; none for a byte token (part of a character). */
export function continueWithUri(document: vscode.TextDocument, start: number, length: number, alternative: Alternative): string | undefined {
  if (alternative.bytes && splitsCharacter(alternative.bytes)) return undefined;
  const args: ContinueWithArgs = { uri: document.uri.toString(), version: document.version, start, length, text: alternative.text };
  return continueWithCommandUri(CONTINUE_WITH_COMMAND, args);
}

export async function continueWith(models: ModelService, log: vscode.LogOutputChannel, link: unknown): Promise<void> {
  const args = checkContinueWithArgs(link);
  const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === args.uri);
  if (!document) {
    void vscode.window.showWarningMessage('LM: the document of that hover is closed; nothing was changed.');
    return;
  }
  if (document.version !== args.version) {
    void vscode.window.showWarningMessage('LM: the document changed since the hover was shown; nothing was changed (hover the token again).');
    return;
  }
  const readOnly = await readOnlyReason(document);
  if (readOnly) {
    void vscode.window.showWarningMessage(`LM: ${vscode.workspace.asRelativePath(document.uri)} is read-only (${readOnly}): nothing was generated or changed.`);
    return;
  }
  // The hover's numbers are of the token being replaced: it closes now, and again once the text is in (a hover shown meanwhile is stale too).
  await hideHover();
  await completeInDocument(models, log, document, { start: 0, end: args.start, replace: { end: args.start + args.length, text: args.text } });
  await hideHover();
}

/** Closes the editor's hover (VS Code's own command; nothing happens when none is open). */
async function hideHover(): Promise<void> {
  await vscode.commands.executeCommand('editor.action.hideHover').then(undefined, () => undefined);
}
