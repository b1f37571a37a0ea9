/** Reads only the part of a document a model needs around a position (cheap on huge files). */
import * as vscode from 'vscode';
import { looksBinary, scopeTokens, textWindowAt, TOKEN_LOOKAHEAD_CHARS, type TextWindow } from '../core/contextWindow';
export { looksBinary };
import { CancelledError, type CancelSignal } from '../core/errors';
import type { LanguageModel, Token, Tokenizer } from '../core/model';
import { DocumentTokenIndex, serverEncoder, tokenizerEncoder, type WindowPlacement } from '../core/documentTokenIndex';
import { placedWindow, windowTokens } from '../editor/hoverFacts';
import { HOVER_GIVEN, SCOPE_GIVEN, unplacedNote } from '../editor/unplacedNote';

export type DocumentWindow = TextWindow;

/** The document's text [a, b) by offsets, without copying the rest of it. */
export function documentReader(document: vscode.TextDocument): (a: number, b: number) => string {
  return (a: number, b: number) => {
    const start = document.positionAt(a);
    const end = document.positionAt(b);
    let text = document.getText(new vscode.Range(start, end));
    // An offset between a CR and its LF has no position: VS Code puts it before the CR, which read
    // one character too many at the start (a window's offsets all one off, drive22 H3) and one too few at the end.
    const from = document.offsetAt(start);
    if (from < a) text = text.slice(a - from);
    const to = document.offsetAt(end);
    if (to < b) text += document.getText(new vscode.Range(end, document.positionAt(b + 1))).slice(0, b - to);
    return text;
  };
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

/**
 * A scope's tokens [scopeStart, scopeEnd) as the document has them, and the tokens before it that
 * its first tokens are predicted from (up to `maxChars` of text; none when it starts the
 * document): one encoding of the context's window read on a little past the scope (scopeTokens).
 * The heat-map of a selection and the status bar's number for it both score these.
 */
function documentScopeTokens(
  document: vscode.TextDocument,
  scopeStart: number,
  scopeEnd: number,
  maxChars: number,
  tokenizer: Pick<Tokenizer, 'encode' | 'sentencePerLine'>,
): { context: Token[]; tokens: Token[]; fromDocumentStart: boolean; window: TextWindow } {
  // Read past the end of the document is read up to it.
  const w = documentWindow(document, scopeStart, maxChars, tokenizer, scopeEnd + TOKEN_LOOKAHEAD_CHARS);
  return {
    ...scopeTokens(tokenizer, w.text, w.atStart, w.startOffset, scopeStart, scopeEnd),
    fromDocumentStart: w.startOffset === 0 && w.atStart,
    window: w,
  };
}

/** Each tokenizer's (or server's) index of the last documents it was asked about. */
const indexes = new WeakMap<object, Map<string, DocumentTokenIndex>>();
const INDEXED_DOCUMENTS = 4;
/** Characters of a window's start encoded to place it among the document's tokens. */
const WINDOW_HEAD_CHARS = 2048;

/** Where a text window sits among the document's tokens (DocumentTokenIndex.place), and the document offset where the first of them in it starts. */
export interface DocumentPlacement extends WindowPlacement {
  start: number;
}

/**
 * Where `window` (a text window of the document) sits among the document's tokens under `model`'s
 * tokenizer (a server's, for a model on a server that tokenizes on request), so that its tokens
 * from `start` on get the windows the whole document is scored in (chunkContextStart; the window
 * from there: `windowFrom`); undefined for a model whose numbers do not depend on where its
 * windows start, past MAX_COUNTED_CHARS, or where the window could not be placed (its own windows
 * are used then, as the README says). `windowTokens`: the window's tokens under the local
 * tokenizer, when the caller has them (not encoded again).
 */
export async function documentPlacement(
  document: vscode.TextDocument,
  window: TextWindow,
  model: LanguageModel,
  signal?: CancelSignal,
  windowTokens?: readonly Token[],
): Promise<DocumentPlacement | undefined> {
  if (window.startOffset === 0) return { head: [], skip: 0, before: 0, start: 0 };
  if (model.info.capabilities.context !== 'window') return undefined;
  const server = model.server;
  if (server && (!server.tokenizeText || server.markovContext !== undefined)) return undefined;
  const owner: object = server ?? model.tokenizer;
  const encode = server ? serverEncoder(server) : tokenizerEncoder(model.tokenizer);
  let documents = indexes.get(owner);
  if (!documents) indexes.set(owner, (documents = new Map()));
  const key = document.uri.toString();
  const index = documents.get(key) ?? new DocumentTokenIndex(encode);
  // The most recently asked last.
  documents.delete(key);
  documents.set(key, index);
  if (documents.size > INDEXED_DOCUMENTS) documents.delete(documents.keys().next().value!);
  try {
    let tokens = windowTokens && !server ? windowTokens : undefined;
    if (!tokens) {
      const head = window.text.slice(0, WINDOW_HEAD_CHARS);
      const cut = head.length < window.text.length;
      // The tokens at the end of a cut text may be cut too.
      tokens = (await encode(head, window.startOffset, signal)).filter(
        (t) => !cut || t.start + t.length <= window.startOffset + head.length - TOKEN_LOOKAHEAD_CHARS,
      );
    }
    const placed = await index.place(documentReader(document), window.startOffset, tokens, signal);
    return placed && { ...placed, start: (placed.head[0] ?? tokens[placed.skip])?.start ?? window.startOffset };
  } catch (e) {
    // A server that failed to tokenize: the window's own windows.
    if (e instanceof CancelledError) throw e;
    return undefined;
  }
}

/** unplacedNote for a window of `document`. */
export function documentUnplacedNote(
  document: vscode.TextDocument,
  window: TextWindow,
  model: LanguageModel,
  placement: WindowPlacement | undefined,
  given: string,
): string | undefined {
  const start = document.positionAt(window.startOffset);
  return unplacedNote(window, { line: start.line + 1, column: start.character + 1 }, model, placement, given);
}

/** A text window of the document with the document's tokens and the tokens before them (placedWindow), as a hover and its warm-up read it; `note` when they are not the document's windows (unplacedNote). */
export async function placedDocumentWindow(
  document: vscode.TextDocument,
  window: TextWindow,
  model: LanguageModel,
  signal?: CancelSignal,
): Promise<ReturnType<typeof placedWindow> & { note: string | undefined }> {
  const tokens = windowTokens(model, window);
  const placement = await documentPlacement(document, window, model, signal, tokens);
  return {
    ...placedWindow(window, tokens, placement),
    note: documentUnplacedNote(document, window, model, placement, HOVER_GIVEN),
  };
}

/**
 * A scope's tokens and their context as the document has them (documentScopeTokens), the context
 * given the document's own tokens where the window's start splits its text otherwise, and the
 * document's tokens before the context (0 when not placed: the window's own windows, and `note`
 * says so). The heat-map of a selection and the status bar's number for it read these.
 */
export async function placedScopeTokens(
  document: vscode.TextDocument,
  scopeStart: number,
  scopeEnd: number,
  maxChars: number,
  model: LanguageModel,
  signal?: CancelSignal,
): Promise<{ context: Token[]; tokens: Token[]; fromDocumentStart: boolean; tokensBefore: number; note: string | undefined }> {
  const { window, ...scoped } = documentScopeTokens(document, scopeStart, scopeEnd, maxChars, model.tokenizer);
  const placed = await documentPlacement(document, window, model, signal, [...scoped.context, ...scoped.tokens]);
  if (placed && placed.skip <= scoped.context.length)
    return { ...scoped, context: [...placed.head, ...scoped.context.slice(placed.skip)], tokensBefore: placed.before, note: undefined };
  return { ...scoped, tokensBefore: 0, note: documentUnplacedNote(document, window, model, undefined, SCOPE_GIVEN) };
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
