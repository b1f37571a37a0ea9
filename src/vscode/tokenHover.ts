/**
 * Hover on any token: p(token | preceding text), surprisal in bits, rank, the model's top-k
 * alternatives, and the word the token is part of. Scored lazily per document version with a
 * small cache; the Markdown comes from editor/hoverContent.
 */
import * as vscode from 'vscode';
import { CancelledError } from '../core/errors';
import type { LanguageModel } from '../core/model';
import { describePosition } from '../core/scoring';
import { hoverMarkdown, type HoverFacts } from '../editor/hoverContent';
import { scoreWord } from '../editor/wordView';
import type { ModelService } from './modelService';
import type { TokenHeatmap } from './heatmap';
import { contextChars, hoverSettings, languageEnabled } from './settings';
import { documentWindow, looksBinary } from './textWindow';

export interface TokenProbability extends HoverFacts {
  start: number;
  length: number;
}

const CACHE_SIZE = 512;

export class TokenHoverProvider implements vscode.HoverProvider {
  private readonly cache = new Map<string, TokenProbability | null>();

  constructor(
    private readonly models: ModelService,
    private readonly heatmap?: Pick<TokenHeatmap, 'isOn' | 'entryAt'>,
  ) {
    models.onDidChangeModel(() => this.cache.clear());
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
    const key = `${document.uri.toString()}@${document.version}:${offset}:${settings.topK}:${model.info.name}`;
    let result = this.cache.get(key);
    if (result === undefined) {
      try {
        result = await tokenProbabilityAt(model, document, offset, settings.topK, token);
      } catch (e) {
        if (e instanceof CancelledError) return undefined;
        throw e;
      }
      this.remember(key, result);
    }
    if (!result || token.isCancellationRequested) return undefined;
    const range = new vscode.Range(document.positionAt(result.start), document.positionAt(result.start + result.length));
    const entry = heatmapOn ? this.heatmap!.entryAt(document, offset) : undefined;
    const md = new vscode.MarkdownString(hoverMarkdown(result, entry), true);
    md.isTrusted = false;
    return new vscode.Hover(md, range);
  }

  private remember(key: string, value: TokenProbability | null): void {
    if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, value);
  }
}

/** Scores the token under `offset` given the text before it (within the context window). */
export async function tokenProbabilityAt(
  model: LanguageModel,
  document: vscode.TextDocument,
  offset: number,
  topK: number,
  cancel?: vscode.CancellationToken,
): Promise<TokenProbability | null> {
  const lineEnd = document.offsetAt(document.lineAt(document.positionAt(offset).line).range.end);
  const window = documentWindow(document, offset, contextChars(), model.tokenizer, lineEnd);
  if (looksBinary(window.text)) return null;
  const tokens = model.tokenizer.encode(window.text, window.atStart, window.startOffset);
  const index = tokens.findIndex((t) => t.length > 0 && t.start <= offset && offset < t.start + t.length && !/^\s+$/.test(t.text));
  if (index < 1 || tokens[index].id === model.bosId) return null; // no context to condition on
  const signal = {
    get cancelled() {
      return cancel?.isCancellationRequested ?? false;
    },
  };
  const dist = await model.nextLogProbs(
    tokens.slice(0, index).map((t) => t.id),
    signal,
  );
  const t = tokens[index];
  const described = describePosition(model, dist, t.id, topK);
  return {
    id: t.id,
    text: t.text,
    start: t.start,
    length: t.length,
    logProb: dist[t.id],
    vocabSize: model.vocabSize,
    oov: model.unkId !== undefined && t.id === model.unkId,
    modelName: model.info.name,
    word: await scoreWord(model, window.text, window.startOffset, tokens, offset, { index, logProb: dist[t.id] }, signal),
    ...described,
  };
}
