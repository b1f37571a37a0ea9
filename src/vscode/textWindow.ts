/** Reads only the part of a document a model needs around a position (cheap on huge files). */
import * as vscode from 'vscode';
import { looksBinary, scopeTokens, textWindowAt, type TextWindow } from '../core/contextWindow';
export { looksBinary };
import type { Token, Tokenizer } from '../core/model';

export type DocumentWindow = TextWindow;

/** The document's text [a, b) by offsets, without copying the rest of it. */
export function documentReader(document: vscode.TextDocument): (a: number, b: number) => string {
  return (a: number, b: number) => document.getText(new vscode.Range(document.positionAt(a), document.positionAt(b)));
}

/** The window before `offset` (plus the rest of its line up to `endOffset`, when given). */
export function documentWindow(
  document: vscode.TextDocument,
  offset: number,
  maxChars: number,
  tokenizer: Pick<Tokenizer, 'sentencePerLine'>,
  endOffset = offset,
): DocumentWindow {
  return textWindowAt(documentReader(document), offset, maxChars, tokenizer, endOffset);
}

/** Characters read past a scope's end, so that its last token is the document's: more than a pre-token spans in text. */
const BOUNDARY_LOOKAHEAD = 256;

/**
 * A scope's tokens [scopeStart, scopeEnd) as the document has them, and the tokens before it that
 * its first tokens are predicted from (up to `maxChars` of text; none when it starts the
 * document): one encoding of the context's window read on a little past the scope (scopeTokens).
 * The heat-map of a selection and the status bar's number for it both score these.
 */
export function documentScopeTokens(
  document: vscode.TextDocument,
  scopeStart: number,
  scopeEnd: number,
  maxChars: number,
  tokenizer: Pick<Tokenizer, 'encode' | 'sentencePerLine'>,
): { context: Token[]; tokens: Token[]; fromDocumentStart: boolean } {
  // Read past the end of the document is read up to it.
  const w = documentWindow(document, scopeStart, maxChars, tokenizer, scopeEnd + BOUNDARY_LOOKAHEAD);
  return { ...scopeTokens(tokenizer, w.text, w.atStart, w.startOffset, scopeStart, scopeEnd), fromDocumentStart: w.startOffset === 0 && w.atStart };
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
