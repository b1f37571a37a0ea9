/** Reads only the part of a document a model needs around a position (cheap on huge files). */
import * as vscode from 'vscode';
import { textWindowAt, type TextWindow } from '../core/contextWindow';
export { looksBinary } from '../core/contextWindow';
import type { Tokenizer } from '../core/model';

export type DocumentWindow = TextWindow;

/** The window before `offset` (plus the rest of its line up to `endOffset`, when given). */
export function documentWindow(
  document: vscode.TextDocument,
  offset: number,
  maxChars: number,
  tokenizer: Pick<Tokenizer, 'sentencePerLine'>,
  endOffset = offset,
): DocumentWindow {
  const read = (a: number, b: number) => document.getText(new vscode.Range(document.positionAt(a), document.positionAt(b)));
  return textWindowAt(read, offset, maxChars, tokenizer, endOffset);
}
