/**
 * Hover on any token: p(token | preceding text), surprisal in bits, rank, the model's top-k
 * alternatives, and the word the token is part of. Scored lazily per document version with a
 * small cache; the Markdown comes from editor/hoverContent.
 */
import * as vscode from 'vscode';
import { CancelledError, LmError, type CancelSignal } from '../core/errors';
import type { ServerModel } from '../core/remote/serverModel';
import { serverHoverAt, serverHoverInWindow } from '../editor/serverScoring';
import { escapeMarkdown } from '../editor/markdownText';
import { openWhenSlow } from '../editor/lateProgress';
import type { LanguageModel } from '../core/model';
import { hoverMarkdown, type HoverFacts } from '../editor/hoverContent';
import { hoverFactsAt, hoverInWindow, type ScoredSequence } from '../editor/hoverFacts';
import { CONTINUE_WITH_COMMAND, continueWithUri } from './continueWith';
import { readOnlyReason } from './readOnly';
import { clusterCutBy } from '../editor/continueWithLink';
import type { ModelService } from './modelService';
import type { TokenHeatmap } from './heatmap';
import { SECTION, contextChars, hoverSettings } from './settings';
import { languageEnabled } from '../editor/languageFeatures';
import { documentPlacement, documentReader, documentUnplacedNote, looksBinary, placedDocumentWindow } from './textWindow';
import { HOVER_GIVEN } from '../editor/unplacedNote';
import { hoverTextWindow, windowFrom } from '../core/contextWindow';

export interface TokenProbability extends HoverFacts {
  start: number;
  length: number;
}

const CACHE_SIZE = 512;

/**
 * A hover still computing after this long says so in the status bar until it is answered or
 * given up: the hover itself shows nothing meanwhile (drive16 L2: 13.8 s with nothing on screen
 * for a cold hover deep in a chapter).
 */
const SLOW_HOVER_MS = 1000;

export class TokenHoverProvider implements vscode.HoverProvider {
  private readonly cache = new Map<string, TokenProbability | null>();

  constructor(
    private readonly models: ModelService,
    private readonly heatmap?: Pick<TokenHeatmap, 'isOn' | 'entryAt' | 'sequenceAt' | 'onDidProgress' | 'onDidTurnOnOrOff'>,
  ) {
    models.onDidChangeModel(() => this.cache.clear());
    // A hover from a heat-map holds its scores: another heat-map of the same version of the text,
    // or one scored further, has others (drive22 H2: the old heat-map's numbers beside the new one's colour).
    const forgetHeatmapHovers = (uri?: string) => {
      for (const key of [...this.cache.keys()]) if (key.endsWith(':heat-map') && (!uri || key.startsWith(`${uri}@`))) this.cache.delete(key);
    };
    heatmap?.onDidProgress((document) => forgetHeatmapHovers(document.uri.toString()));
    heatmap?.onDidTurnOnOrOff(() => forgetHeatmapHovers());
    // A cached hover holds the numbers of the settings it was computed with (context, top-k).
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(SECTION)) this.cache.clear();
    });
  }

  async provideHover(document: vscode.TextDocument, position: vscode.Position, token: vscode.CancellationToken): Promise<vscode.Hover | undefined> {
    const settings = hoverSettings(document);
    // Where the heat-map is on, its colours are explained whatever the hover settings say.
    const heatmapOn = this.heatmap?.isOn(document) ?? false;
    if (!heatmapOn && (!settings.enabled || !languageEnabled(settings.languages, document.languageId))) return undefined;
    let model: LanguageModel;
    try {
      model = await this.models.get();
    } catch {
      return undefined; // the load error was already shown; hovers stay quiet
    }
    const offset = document.offsetAt(position);
    // Never numbers it cannot have: the hover says why there are none.
    if (model.server?.scoringUnavailable) return errorHover(model.info.name, model.server.scoringUnavailable);
    // Where the heat-map has scored the text, the hover gives the same tokens the same context.
    const scored = heatmapOn ? this.heatmap!.sequenceAt(document, offset, model) : undefined;
    const key = `${document.uri.toString()}@${document.version}:${offset}:${settings.topK}:${model.info.name}:${scored ? 'heat-map' : 'window'}`;
    let result = this.cache.get(key);
    if (result === undefined) {
      try {
        this.models.runsOn(document);
        const pending = tokenProbabilityAt(model, document, offset, settings.topK, token, scored);
        sayWhenSlow(pending, model.info.name, token, () => this.models.completing);
        result = await pending;
      } catch (e) {
        if (e instanceof CancelledError) return undefined;
        // A server that is down or refuses: the hover says why it has no numbers (VS Code drops a provider's errors).
        if (model.server && e instanceof LmError) return errorHover(model.info.name, e.message);
        throw e;
      }
      this.remember(key, result);
    }
    if (!result || token.isCancellationRequested) return undefined;
    const range = new vscode.Range(document.positionAt(result.start), document.positionAt(result.start + result.length));
    const entry = heatmapOn ? this.heatmap!.entryAt(document, offset) : undefined;
    const at = result;
    // Said in the hover rather than found out after a whole completion is generated.
    const readOnly = await readOnlyReason(document);
    if (token.isCancellationRequested) return undefined;
    const md = new vscode.MarkdownString(
      hoverMarkdown(
        result,
        entry,
        (a) => continueWithUri(document, at.start, at.length, a),
        readOnly ? `the document is read-only (${readOnly})` : cutCluster(document, at),
      ),
      true,
    );
    // Only the "continue with" command runs from this hover's links.
    md.isTrusted = { enabledCommands: [CONTINUE_WITH_COMMAND] };
    return new vscode.Hover(md, range);
  }

  private remember(key: string, value: TokenProbability | null): void {
    if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, value);
  }
}

/** A spinner and a line in the status bar while a slow hover computes; gone once it is answered, fails or the hover is given up. */
function sayWhenSlow(pending: Promise<unknown>, modelName: string, token: vscode.CancellationToken, completing: () => boolean): void {
  let cancelled: vscode.Disposable | undefined;
  const over = Promise.race([
    pending.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => {
      if (token.isCancellationRequested) resolve();
      cancelled = token.onCancellationRequested(() => resolve());
    }),
  ]).finally(() => cancelled?.dispose());
  openWhenSlow(over, SLOW_HOVER_MS, () => {
    void vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Window,
        // Beside the completion's own spinner: which of the two the status bar's line is, and why this one waits (drive51 L1).
        title: completing()
          ? `LM: hover with ${modelName}, waiting while the completion is generated…`
          : `LM: hover with ${modelName}, reading the text before it…`,
      },
      () => over,
    );
  });
}

/** Why a token cannot be replaced alone: it is part of a character drawn as one glyph (a ZWJ emoji, a letter with combining marks). */
function cutCluster(document: vscode.TextDocument, at: { start: number; length: number }): string | undefined {
  const line = document.lineAt(document.positionAt(at.start).line);
  const lineStart = document.offsetAt(line.range.start);
  const cut = clusterCutBy(line.text, at.start - lineStart, at.start + at.length - lineStart);
  return cut && `the token is part of the character ${cut} (${[...cut].length} code points drawn as one): replacing it alone would break that character`;
}

/** A hover that says why a model gives no numbers here. */
function errorHover(modelName: string, why: string): vscode.Hover {
  const md = new vscode.MarkdownString(`**${escapeMarkdown(modelName)}**: no token probabilities: ${escapeMarkdown(why.replace(/\.$/, ''))}.`);
  md.isTrusted = false;
  return new vscode.Hover(md);
}

/**
 * Scores the unit under `offset`: in the heat-map's scored sequence, with the context each of its
 * tokens was scored with, where the heat-map has it; else in a text window before it: when the
 * window reaches the document's start, in the windows the heat-map and the status bar score it in,
 * otherwise with as much of it as the model's window holds.
 */
export async function tokenProbabilityAt(
  model: LanguageModel,
  document: vscode.TextDocument,
  offset: number,
  topK: number,
  cancel?: vscode.CancellationToken,
  heatmap?: ScoredSequence,
): Promise<TokenProbability | null> {
  const lineRange = document.lineAt(document.positionAt(offset).line).range;
  const line = { text: document.getText(lineRange), start: document.offsetAt(lineRange.start) };
  const signal = {
    get cancelled() {
      return cancel?.isCancellationRequested ?? false;
    },
  };
  if (heatmap) return hoverFactsAt(model, heatmap, offset, line, topK, signal);
  const lineEnd = document.offsetAt(lineRange.end);
  if (model.server) return serverTokenProbabilityAt(model, model.server, document, offset, lineEnd, line, topK, signal);
  const window = hoverTextWindow(documentReader(document), offset, lineEnd, contextChars(), model.tokenizer);
  if (looksBinary(window.text)) return null;
  const placed = await placedDocumentWindow(document, window, model, signal);
  const facts = await hoverInWindow(model, placed.window, offset, line, topK, signal, placed.tokensBefore, placed.tokens);
  return facts && placed.note ? { ...facts, contextNote: placed.note } : facts;
}

/**
 * The hover of a model on a server: the window before the token (to the end of its line), as the
 * local hover reads it, tokenized by the server and scored as token ids with the local hover's
 * contexts; on a server that cannot tokenize, sent as text with as much context as the server
 * takes, and the token at `offset` read from the tokens it returns.
 */
async function serverTokenProbabilityAt(
  model: LanguageModel,
  server: ServerModel,
  document: vscode.TextDocument,
  offset: number,
  lineEnd: number,
  line: { text: string; start: number },
  topK: number,
  signal: CancelSignal,
): Promise<TokenProbability | null> {
  const window = hoverTextWindow(documentReader(document), offset, lineEnd, contextChars(), model.tokenizer);
  if (looksBinary(window.text)) return null;
  const placed = await documentPlacement(document, window, model, signal);
  // The server tokenizes the window from the document's first token in it (not with the document's ids: it places its own).
  const exact = await serverHoverInWindow(server, model.info.name, placed ? windowFrom(window, placed.start) : window, offset, line, {
    topK,
    contextLength: model.info.contextLength,
    signal,
    tokensBefore: placed?.before,
  });
  const note = documentUnplacedNote(document, window, model, placed, HOVER_GIVEN);
  if (exact !== undefined) return exact && note ? { ...exact, contextNote: note } : exact;
  const read = documentReader(document);
  // The line the token is on, given the text before it (as much as the server takes).
  return serverHoverAt(server, model.info.name, read, offset, { ...line, end: lineEnd }, window.startOffset, {
    topK,
    contextTokensHint: model.info.contextLength,
    signal,
  });
}
