/** Reads only the part of a document a model needs around a position (cheap on huge files). */
import * as vscode from 'vscode';
import { contextWindow } from '../core/contextWindow';
export { looksBinary } from '../core/contextWindow';
import type { Tokenizer } from '../core/model';

export interface DocumentWindow {
  /** Text from the window start to `end`. */
  text: string;
  /** Document offset of text[0]. */
  startOffset: number;
  atStart: boolean;
}

/** The window before `offset` (plus the rest of its line up to `endOffset`, when given). */
export function documentWindow(
  document: vscode.TextDocument,
  offset: number,
  maxChars: number,
  tokenizer: Pick<Tokenizer, 'sentencePerLine'>,
  endOffset = offset,
): DocumentWindow {
  // One spare character lets contextWindow see whether the window begins at a line start.
  const readFrom = Math.max(0, offset - maxChars - 1);
  const raw = document.getText(new vscode.Range(document.positionAt(readFrom), document.positionAt(endOffset)));
  const w = contextWindow(raw, offset - readFrom, maxChars, tokenizer);
  const atStart = w.atStart && (readFrom === 0 || w.start > 0 || tokenizer.sentencePerLine);
  return { text: raw.slice(w.start), startOffset: readFrom + w.start, atStart };
}
