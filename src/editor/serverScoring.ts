/**
 * Scoring a document with a model on a server (core/remote/serverModel.ts): the server tokenizes,
 * so a piece of the document is sent as text with the text before it as context, and the tokens
 * that start inside the piece are kept. The context is as long as the server takes: a server that
 * refuses a text as too long for its context gets half as much, and the model keeps the length
 * that worked. The heat-map sends one chunk a request; the hover, one window.
 */
import { CancelledError, LmError, throwIfCancelled, type CancelSignal } from '../core/errors';
import type { ServerModel } from '../core/remote/serverModel';
import type { TokenScore } from '../core/scoring';
import type { HoverFacts } from './hoverContent';
import { mergeUtf8 } from '../playground/utf8Merge';
import { wordTokenRange, type WordPart } from './wordView';

/** Characters of context plus text sent to a server per request, per model, as learnt from its refusals. */
const budgets = new WeakMap<ServerModel, number>();

/** A refusal that says the text is too long for the model's context. */
function tooLong(e: unknown): boolean {
  return e instanceof LmError && /\((400|413|422):/.test(e.message) && /context|too long|maximum|max_model_len|length/i.test(e.message);
}

/** Where a context cut from `text` may start: after its first line break, else after its first space (never inside a word); 0 when it has neither. */
function contextStart(text: string): number {
  const line = text.indexOf('\n');
  if (line >= 0) return line + 1;
  const space = text.search(/\s/);
  return space >= 0 ? space + 1 : 0;
}

export interface ScoredRange {
  /** The tokens that start in the range, with their scores. */
  tokens: TokenScore[];
  /** Tokens of the request before the range's first (its context). */
  contextTokens: number;
  /** Whether the request started at the document's start. */
  fromDocumentStart: boolean;
}

/**
 * Scores the document's text [from, to) (document offsets), given as much of the text before it
 * as the server takes (at most `maxContextChars`); returns the tokens that start in [from, to).
 * `read(start, end)` gives the document's text.
 */
export async function scoreRange(
  server: ServerModel,
  read: (start: number, end: number) => string,
  from: number,
  to: number,
  options: { topK: number; maxContextChars: number; contextTokensHint: number; signal?: CancelSignal },
): Promise<ScoredRange> {
  if (server.scoringUnavailable) throw new LmError(`${server.endpoint}: ${server.scoringUnavailable}`);
  for (let attempt = 0; ; attempt++) {
    throwIfCancelled(options.signal);
    // A first guess of 4 characters a token, before any refusal says otherwise.
    const budget = budgets.get(server) ?? Math.max(256, options.contextTokensHint * 4);
    const contextChars = Math.max(0, Math.min(options.maxContextChars, budget - (to - from)));
    const readFrom = Math.max(0, from - contextChars);
    const before = read(readFrom, from);
    const start = readFrom === 0 ? 0 : readFrom + contextStart(before);
    const text = read(start, to);
    try {
      const scored = await server.scoreText(text, { topK: options.topK, atStart: start === 0, offset: start, signal: options.signal });
      const before = scored.filter((t) => t.start < from).length;
      // The text's first token is given, not scored: it is context too.
      return { tokens: scored.filter((t) => t.start >= from && t.start < to), contextTokens: before + 1, fromDocumentStart: start === 0 };
    } catch (e) {
      if (!tooLong(e) || attempt >= 6 || text.length <= 64 || e instanceof CancelledError) throw e;
      budgets.set(server, Math.max(64, Math.floor(text.length / 2)));
    }
  }
}

/**
 * The document [scopeStart, scopeEnd) cut into pieces of about `chunkChars` (before a line break
 * or a space where there is one), each scored in one request as it comes, `onChunk` receiving its
 * tokens in order. A piece's last token may be cut by the piece's end ("mou" of "mouse"): it is
 * not kept, and the next piece starts where it starts, so the tokens tile the text as the server
 * tokenizes it.
 */
export async function scoreInServerChunks(
  server: ServerModel,
  read: (start: number, end: number) => string,
  scopeStart: number,
  scopeEnd: number,
  options: {
    topK: number;
    chunkChars: number;
    maxContextChars: number;
    contextTokensHint: number;
    signal?: CancelSignal;
    onChunk: (tokens: TokenScore[]) => void;
  },
): Promise<void> {
  let from = scopeStart;
  while (from < scopeEnd) {
    throwIfCancelled(options.signal);
    let to = Math.min(scopeEnd, from + options.chunkChars);
    if (to < scopeEnd) {
      const piece = read(from, to);
      const cut = Math.max(piece.lastIndexOf('\n'), piece.lastIndexOf(' '));
      if (cut > 0) to = from + cut;
    }
    const tokens = (await scoreRange(server, read, from, to, options)).tokens;
    let next = to;
    if (to < scopeEnd) {
      // The last token, with the zero-length byte tokens of its character, is scored again with the next piece.
      let keep = tokens.length - 1;
      while (keep > 0 && tokens[keep - 1].length === 0) keep--;
      if (keep > 0) {
        next = tokens[keep].start;
        tokens.length = keep;
      }
    }
    options.onChunk(tokens);
    from = next;
  }
}

/**
 * The hover's facts for the token at `offset` among tokens a server scored (document offsets): a
 * character spelt by byte tokens counts as one unit; the word view sums its parts. Null where no
 * scored token covers `offset` (the sequence's first token is given, not scored).
 */
export function serverHoverFacts(
  modelName: string,
  range: ScoredRange,
  offset: number,
  line: { text: string; start: number },
): (HoverFacts & { start: number; length: number }) | null {
  const scored = range.tokens;
  const index = scored.findIndex((t) => t.length > 0 && t.start <= offset && offset < t.start + t.length && !/^\s+$/.test(t.text));
  if (index < 0) return null;
  let first = index;
  while (first > 0 && scored[first - 1].length === 0) first--;
  const unit = scored.slice(first, index + 1);
  const t = scored[index];
  const head = scored[first];
  const bytes: WordPart[] | undefined = unit.length > 1 ? unit.map((u) => ({ text: u.text, logProb: u.logProb })) : undefined;
  const word = (() => {
    const range = wordTokenRange(line.text, line.start, scored, offset);
    if (!range) return undefined;
    let f = range.first;
    while (f > 0 && scored[f - 1].length === 0) f--;
    const parts = scored.slice(f, range.last + 1);
    const pieces = mergeUtf8(parts.map((p) => ({ text: p.text, bytes: p.alternatives?.find((a) => a.id === p.id)?.bytes })));
    if (pieces.length < 2) return undefined;
    return {
      text: line.text.slice(range.start - line.start, range.end - line.start),
      parts: pieces.map((p) => ({ text: p.text, logProb: parts.slice(p.first, p.last + 1).reduce((s, x) => s + x.logProb, 0) })),
    };
  })();
  return {
    id: head.id,
    text: unit.length > 1 ? t.text : head.text,
    start: t.start,
    length: t.length,
    logProb: unit.reduce((s, u) => s + u.logProb, 0),
    rank: head.rank,
    rankAbove: head.rankAbove,
    vocabSize: 0,
    alternatives: head.alternatives ?? [],
    topOnly: true,
    oov: false,
    modelName,
    context: { tokens: range.contextTokens + first, whole: range.fromDocumentStart },
    bytes,
    word,
  };
}
