/**
 * What the token hover shows, computed without `vscode`: the unit under the mouse (a token, or the
 * character that byte tokens spell together), its probability given the context the model was
 * actually given, rank and alternatives, and the word it is part of.
 */
import { windowFrom, type TextWindow } from '../core/contextWindow';
import type { WindowPlacement } from '../core/documentTokenIndex';
import type { CancelSignal } from '../core/errors';
import type { LanguageModel, Token } from '../core/model';
import { displayTokenText } from '../core/tokenBytes';
import { describePosition } from '../core/scoring';
import { mergeUtf8 } from '../playground/utf8Merge';
import type { HoverFacts } from './hoverContent';
import { chunkContextStart } from './chunkedScoring';
import { wordTokenRange, type WordPart } from './wordView';

/** A token sequence as the hover scores it. */
export interface ScoredSequence {
  /** tokens[0] starts the sequence; offsets are document offsets. */
  tokens: readonly Token[];
  /** Whether tokens[0] is the document's start (so a context from 0 is the whole text before). */
  fromDocumentStart: boolean;
  /** The prediction of tokens[i] is given tokens [contextStart(i), i). */
  contextStart(i: number): number;
  /** Scores already known (the heat-map's), with the same context. */
  known?(i: number): { logProb: number; rank: number } | undefined;
  /** Why these contexts are not the whole document's (HoverFacts.contextNote). */
  note?: string;
}

/** The context the hover gives a token of a text window: as much as the model's window holds. */
export function windowContextStart(model: LanguageModel): (i: number) => number {
  const W = Math.max(1, model.info.contextLength);
  return model.info.capabilities.context === 'window' ? (i) => Math.max(0, i - (W - 1)) : (i) => Math.max(0, i - W);
}

/**
 * The hover of a local model in a text window before the token (core/contextWindow.ts): in the
 * windows the heat-map and the status bar score the document in, counted from its start, when the
 * document's tokens before the window are known (`tokensBefore`, documentPlacement; 0 when the
 * window starts the document), otherwise with as much of the window as the model's context holds.
 */
export function hoverInWindow(
  model: LanguageModel,
  window: TextWindow,
  offset: number,
  line: { text: string; start: number },
  topK: number,
  signal?: CancelSignal,
  tokensBefore?: number,
  tokens = windowTokens(model, window),
): Promise<(HoverFacts & { start: number; length: number }) | null> {
  return hoverFactsAt(model, windowSequence(model, window, tokensBefore, tokens), offset, line, topK, signal);
}

/**
 * A text window with the document's tokens (`placement`, DocumentTokenIndex: where the window's own
 * encoding splits its start otherwise, the document's), from the first that starts in it, and the
 * document's tokens before them; the window as it is, in its own windows, when it was not placed.
 */
export function placedWindow(
  window: TextWindow,
  tokens: Token[],
  placement: WindowPlacement | undefined,
): { window: TextWindow; tokens: Token[]; tokensBefore: number | undefined } {
  const placed = placement && [...placement.head, ...tokens.slice(placement.skip)];
  if (!placement || !placed?.length) return { window, tokens, tokensBefore: undefined };
  return { window: windowFrom(window, placed[0].start), tokens: placed, tokensBefore: placement.before };
}

/** A text window's tokens under the model's tokenizer, at their document offsets. */
export function windowTokens(model: LanguageModel, window: TextWindow): Token[] {
  return model.tokenizer.encode(window.text, window.atStart, window.startOffset);
}

/** A text window's tokens with the contexts the hover gives them. */
function windowSequence(model: LanguageModel, window: TextWindow, tokensBefore: number | undefined, tokens: Token[]): ScoredSequence {
  const fromDocumentStart = window.startOffset === 0 && window.atStart;
  const before = fromDocumentStart ? 0 : tokensBefore;
  return {
    tokens,
    fromDocumentStart,
    contextStart: before === undefined ? windowContextStart(model) : (i) => chunkContextStart(model, i, before),
  };
}

/**
 * The context a hover in `window` gives its last token, with that token: what a warm-up runs into
 * the model's cache, so that a hover on a token before it that shares that context's start (every
 * token of the window, when the window reaches the document's start and the model's context holds
 * it) runs only its own word. Empty when there is nothing to predict.
 */
export function hoverWarmIds(model: LanguageModel, window: TextWindow, tokensBefore?: number, tokens = windowTokens(model, window)): number[] {
  const seq = windowSequence(model, window, tokensBefore, tokens);
  const last = seq.tokens.length - 1;
  if (last < 1) return [];
  return seq.tokens.slice(seq.contextStart(last)).map((t) => t.id);
}

/**
 * Tokens [first, last] that make up the unit at token `index`: a byte token that ends a character
 * together with the zero-length byte tokens before it (the tokenizer's contract: the token with a
 * character's last byte covers it, those before have length 0).
 */
export function characterTokens(model: LanguageModel, tokens: readonly Token[], index: number): { first: number; last: number } {
  let first = index;
  if (model.tokenizer.tokenBytes) while (first > 0 && tokens[first - 1].length === 0 && tokens[first - 1].id !== model.bosId) first--;
  return { first, last: index };
}

/**
 * The hover's facts for the token covering `offset` (not whitespace); null where there is none or
 * it has no context. `line` is the text of the line around `offset`, from document offset
 * `lineStart`, for the word view.
 */
export async function hoverFactsAt(
  model: LanguageModel,
  seq: ScoredSequence,
  offset: number,
  line: { text: string; start: number },
  topK: number,
  signal?: CancelSignal,
): Promise<(HoverFacts & { start: number; length: number }) | null> {
  const { tokens } = seq;
  const index = tokens.findIndex((t) => t.length > 0 && t.start <= offset && offset < t.start + t.length && !/^\s+$/.test(t.text));
  if (index < 0) return null;
  const { first, last } = characterTokens(model, tokens, index);
  if (first < 1 || tokens.slice(first, last + 1).some((t) => t.id === model.bosId)) return null; // no context to condition on
  const ids = tokens.map((t) => t.id);
  const distAt = (i: number) => model.nextLogProbs(ids.slice(seq.contextStart(i), i), signal);
  // Each token is scored once: the character's bytes and the word's parts share numbers.
  const scored = new Map<number, number>();
  const logProbAt = async (i: number) => {
    let lp = scored.get(i) ?? seq.known?.(i)?.logProb;
    if (lp === undefined) scored.set(i, (lp = (await distAt(i))[ids[i]]));
    return lp;
  };

  // Every position the hover shows (the character's tokens, the word's) is scored in ascending
  // order, each context extending the one before, so that a model with a KV cache steps one token
  // at a time: a word part before the hovered token, asked after it, computed the whole context
  // again (a second of prefill per part on a 1,000-token context of a 135M model).
  const word = wordTokenRange(line.text, line.start, tokens, offset);
  const from = Math.max(1, word ? Math.min(first, characterTokens(model, tokens, word.first).first) : first);
  const to = Math.max(last, word?.last ?? last);
  let dist!: Float64Array;
  const base = seq.contextStart(from);
  if (model.spanScores && to > from && seq.contextStart(to) === base) {
    // All of them in one forward pass: a step costs nearly what a pass of a few tokens does.
    const span = await model.spanScores(ids.slice(base, to + 1), from - base, first - base, signal);
    dist = span.distribution;
    for (let i = from; i <= to; i++) if (!seq.known?.(i)) scored.set(i, span.logProbs[i - from]);
  } else {
    for (let i = from; i <= to; i++) {
      if (i !== first) await logProbAt(i);
      else {
        dist = await distAt(first);
        if (!seq.known?.(first)) scored.set(first, dist[ids[first]]);
      }
    }
  }
  const described = describePosition(model, dist, ids[first], topK);
  const bytes: WordPart[] = [];
  for (let i = first; i <= last; i++) bytes.push({ text: displayTokenText(model.tokenizer, ids[i]), logProb: await logProbAt(i) });
  const known = first === last ? seq.known?.(first) : undefined;
  const logProb = known?.logProb ?? bytes.reduce((s, b) => s + b.logProb, 0);
  const contextStart = seq.contextStart(first);
  const givenTokens = first - contextStart;
  const t = tokens[index];
  return {
    id: ids[first],
    text: last > first ? t.text : tokens[first].text,
    start: t.start,
    length: t.length,
    logProb,
    ...described,
    rank: known?.rank ?? described.rank,
    bytes: last > first ? bytes : undefined,
    context: { tokens: givenTokens, whole: seq.fromDocumentStart && contextStart === 0 },
    ...(seq.note ? { contextNote: seq.note } : {}),
    vocabSize: model.vocabSize,
    oov: model.unkId !== undefined && ids[first] === model.unkId,
    modelName: model.info.name,
    word: await wordAt(model, seq, offset, line, logProbAt),
    // A backoff n-gram model's account of a single token's p (its inside view, in short).
    ...(model.ngramTrace && first === last ? { ngram: model.ngramTrace(ids.slice(contextStart, first), ids[first]) } : {}),
  };
}

/**
 * The word around `offset` with each of its characters' or tokens' log-probability given its
 * context (byte tokens merged into the characters they spell); undefined when it has one part only.
 */
async function wordAt(
  model: LanguageModel,
  seq: ScoredSequence,
  offset: number,
  line: { text: string; start: number },
  logProbAt: (i: number) => Promise<number>,
): Promise<{ text: string; parts: WordPart[] } | undefined> {
  const { tokens } = seq;
  const range = wordTokenRange(line.text, line.start, tokens, offset);
  if (!range) return undefined;
  const { first } = characterTokens(model, tokens, range.first);
  if (first < 1) return undefined;
  const word = tokens.slice(first, range.last + 1);
  if (word.some((t) => t.id === model.bosId)) return undefined;
  const bytesOf = model.tokenizer.tokenBytes?.bind(model.tokenizer);
  const pieces = mergeUtf8(word.map((t) => ({ text: t.text, bytes: bytesOf ? Array.from(bytesOf(t.id)) : undefined })));
  if (pieces.length < 2) return undefined;
  const parts: WordPart[] = [];
  for (const p of pieces) {
    let logProb = 0;
    for (let i = first + p.first; i <= first + p.last; i++) logProb += await logProbAt(i);
    parts.push({ text: p.text, logProb });
  }
  return { text: line.text.slice(range.start - line.start, range.end - line.start), parts };
}
