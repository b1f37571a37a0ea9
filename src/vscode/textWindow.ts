/** Reads only the part of a document a model needs around a position (cheap on huge files). */
import * as vscode from 'vscode';
import { looksBinary, textWindowAt, type TextWindow } from '../core/contextWindow';
export { looksBinary };
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

/** How much of a document's start `documentLooksBinary` reads: as editors judge a file by its first bytes. */
const BINARY_SNIFF_CHARS = 1_000_000;

/**
 * Whether a document looks binary by its start (looksBinary's rule), for the commands that write
 * into it or play it: a prompt taken where an image happens to have few NULs is still an image's.
 */
export function documentLooksBinary(document: vscode.TextDocument): boolean {
  // positionAt clamps an offset past the end to the end.
  return looksBinary(document.getText(new vscode.Range(new vscode.Position(0, 0), document.positionAt(BINARY_SNIFF_CHARS))));
}
