/**
 * Scoring a document with a model on a server (core/remote/serverModel.ts): the server tokenizes,
 * so a piece of the document is sent as text with the text before it as context, and the tokens
 * that start inside the piece are kept. The context is as long as the server takes: a server that
 * refuses a text as too long for its context gets half as much, and the model keeps the length
 * that worked. The heat-map sends one chunk a request; the hover, one window.
 */
import { CancelledError, LmError, throwIfCancelled, type CancelSignal } from '../core/errors';
import type { ServerModel, ServerScore } from '../core/remote/serverModel';
import { windowStartFor } from '../core/slidingWindow';
import { ScoreTotals, type TokenScore } from '../core/scoring';
import type { HoverFacts } from './hoverContent';
import { wordTokenRange, type WordPart } from './wordView';

/** Characters of context plus text sent to a server per request, per model, as learnt from its refusals. */
const budgets = new WeakMap<ServerModel, number>();
/** Characters per token of the server's tokenizer, per model, as seen in its answers. */
const charsPerToken = new WeakMap<ServerModel, number>();
/** Characters a token, before an answer tells (English for small vocabularies; larger ones take more). */
const FIRST_CHARS_PER_TOKEN = 3;
/** What a request's tokens are planned at: the tokens of a text vary around their mean. */
const TOKEN_MARGIN = 0.85;

/** Characters that make about `tokens` of the server's tokens, as far as its answers tell. */
export function charsForTokens(server: ServerModel, tokens: number): number {
  return Math.floor(tokens * (charsPerToken.get(server) ?? FIRST_CHARS_PER_TOKEN) * TOKEN_MARGIN);
}

/** The characters of context plus text a request sends: the model's context, as the learnt length of a token and any refusal allow. */
function requestBudget(server: ServerModel, contextTokens: number): number {
  const fits = Math.max(64, charsForTokens(server, contextTokens));
  return Math.min(fits, budgets.get(server) ?? fits);
}

/** A refusal that says the text is too long for the model's context. */
export function tooLong(e: unknown): boolean {
  // A limit on log-probs asked ("above this server's maximum of 5 (max_logprobs)") is not one on length.
  if (!(e instanceof LmError) || /\((?:400|413|422): [^)]*logprobs/i.test(e.message)) return false;
  return /\((400|413|422):/.test(e.message) && /context|too long|maximum|max_model_len|length/i.test(e.message);
}

/** Where a context cut from `text` may start: after its first line break, else after its first space (never inside a word); 0 when it has neither. */
function contextStart(text: string): number {
  const line = text.indexOf('\n');
  if (line >= 0) return line + 1;
  const space = text.search(/\s/);
  return space >= 0 ? space + 1 : 0;
}

export interface ScoredRange {
  /** The tokens that start in the range (or start before it and end in it), with their scores. */
  tokens: TokenScore[];
  /** The scored tokens of the request before the range (its context after the first token). */
  context: TokenScore[];
  /** Tokens of the request before the range's first (its context). */
  contextTokens: number;
  /** Whether the request started at the document's start. */
  fromDocumentStart: boolean;
}

/**
 * Scores the document's text [from, to) (document offsets), given as much of the text before it
 * as the server takes (at most `maxContextChars`); returns the tokens that start in [from, to),
 * and one that starts before `from` and ends after it.
 * `read(start, end)` gives the document's text.
 */
export async function scoreRange(
  server: ServerModel,
  read: (start: number, end: number) => string,
  from: number,
  to: number,
  options: { topK: number; rankTopK?: number; maxContextChars: number; contextTokensHint: number; signal?: CancelSignal },
): Promise<ScoredRange> {
  if (server.scoringUnavailable) throw new LmError(`${server.endpoint}: ${server.scoringUnavailable}`);
  /**
   * This text's request, sized by an answer's count of its tokens: shorter once it held more than
   * the model's window, longer once its context was cut well short of it.
   */
  let sized: number | undefined;
  let grown = false;
  for (let attempt = 0; ; attempt++) {
    throwIfCancelled(options.signal);
    // As much as the model's context holds (a server may refuse more; one window is also the least work on ours).
    const budget = sized ?? requestBudget(server, options.contextTokensHint);
    const contextChars = Math.max(0, Math.min(options.maxContextChars, budget - (to - from)));
    const readFrom = Math.max(0, from - contextChars);
    const before = read(readFrom, from);
    const start = readFrom === 0 ? 0 : readFrom + contextStart(before);
    const text = read(start, to);
    try {
      const scored = await server.scoreText(text, {
        topK: options.topK,
        rankTopK: options.rankTopK,
        atStart: start === 0,
        offset: start,
        signal: options.signal,
      });
      if (scored.length > 0) charsPerToken.set(server, text.length / (scored.length + 1));
      const fits = Math.floor(text.length * (options.contextTokensHint / (scored.length + 1)) * TOKEN_MARGIN);
      // More tokens than the model's window: a server that takes them (ours) slides windows over
      // them, so a token there is not given all the text before it. Asked again with less context.
      if (scored.length + 1 > options.contextTokensHint && start < from && attempt < 6) {
        sized = fits;
        continue;
      }
      // A context cut well short of the window, by characters per token learnt from another text
      // (emoji, one token a byte): asked once more with the context this text's tokens allow
      // (hostile25 H4: the same selection got less context, and another number, after an emoji).
      if (!grown && readFrom > 0 && contextChars < options.maxContextChars && scored.length + 1 < 0.7 * options.contextTokensHint) {
        const longer = Math.min(fits, budgets.get(server) ?? Infinity);
        if (longer > budget * 1.2) {
          grown = true;
          sized = longer;
          continue;
        }
      }
      // A token that starts before the range and ends in it ("\nLine" for a range from "Line") is the range's first.
      const inRange = (t: TokenScore) => t.start < to && (t.start >= from || t.start + t.length > from);
      const context = scored.filter((t) => t.start < from && !inRange(t));
      // The text's first token is given, not scored: it is context too.
      return { tokens: scored.filter(inRange), context, contextTokens: context.length + 1, fromDocumentStart: start === 0 };
    } catch (e) {
      // Only the context can be cut here: a range too long by itself is the caller's to split.
      if (!tooLong(e) || attempt >= 6 || text.length <= 64 || start >= from || e instanceof CancelledError) throw e;
      budgets.set(server, Math.max(64, Math.floor(text.length / 2)));
    }
  }
}

/**
 * The document [scopeStart, scopeEnd) cut into pieces (before a line break or a space where there
 * is one), each scored in one request, `inFlight` requests out at once (a server computes the next
 * while this side reads the last; vLLM batches them), `onChunk` receiving the tokens in order. A
 * piece's last token may be cut by the piece's end ("mou" of "mouse"): it is held back, and taken
 * from the next piece's answer, whose context holds its start, so that the tokens tile the text as
 * the server tokenizes it. Where that answer has no token starting there, the rest is asked again
 * from there.
 * A piece is half the model's context in tokens (`chunkChars` fixes it), the rest of the window
 * context: a request is one window of the model, and each token is computed about twice, as in
 * the windows that score a local model.
 */
export async function scoreInServerChunks(
  server: ServerModel,
  read: (start: number, end: number) => string,
  scopeStart: number,
  scopeEnd: number,
  options: {
    topK: number;
    rankTopK?: number;
    chunkChars?: number;
    maxContextChars: number;
    contextTokensHint: number;
    inFlight?: number;
    signal?: CancelSignal;
    onChunk: (tokens: TokenScore[]) => void;
    /** The document's length: a scope that ends inside a token is read on to the token's end (`tokensReach`). */
    textEnd?: number;
  },
): Promise<void> {
  // Nothing left (a heat-map resumed after its last token, which may end past the scope).
  if (scopeStart >= scopeEnd) return;
  const inFlight = Math.max(1, options.inFlight ?? 1);
  const reach = options.textEnd === undefined ? scopeEnd : tokensReach(read, scopeEnd, options.textEnd);
  const planned: { from: number; to: number; answer: Promise<ScoredRange>; drop(): void }[] = [];
  /** Requests out that will not be used: cancelled, so that the endpoint aborts or never sends them. */
  const dropAll = () => {
    for (const p of planned.splice(0)) p.drop();
  };
  let planFrom = scopeStart;
  /** Characters of a piece at most, once the server refused one as too long by itself. */
  let cap = Infinity;
  const plan = () => {
    while (planned.length < inFlight && planFrom < reach) {
      const chunkChars = Math.min(cap, options.chunkChars ?? Math.max(64, Math.min(16_000, charsForTokens(server, options.contextTokensHint / 2))));
      const from = planFrom;
      let to = Math.min(reach, from + chunkChars);
      if (to < reach) {
        const piece = read(from, to);
        const cut = Math.max(piece.lastIndexOf('\n'), piece.lastIndexOf(' '));
        if (cut > 0) to = from + cut;
      }
      const dropped = { cancelled: false };
      const signal = {
        get cancelled() {
          return dropped.cancelled || (options.signal?.cancelled ?? false);
        },
      };
      // The context fills the window: a piece shorter than half of it (the last, or a short selection)
      // gets more, as a local model's window gives a short document all of it (hostile26: a selection at
      // a short document's end was given half a window, and another number).
      const answer = scoreRange(server, read, from, to, { ...options, signal });
      // Settled here too: a later chunk's failure is reported when its turn comes, or not at all once dropped.
      answer.catch(() => undefined);
      planned.push({ from, to, answer, drop: () => (dropped.cancelled = true) });
      planFrom = to;
    }
  };
  /** The previous piece's last token(s), held back: their start. */
  let held: number | undefined;
  try {
    for (;;) {
      throwIfCancelled(options.signal);
      plan();
      const chunk = planned.shift();
      if (!chunk) break;
      let answer: ScoredRange;
      try {
        answer = await chunk.answer;
      } catch (e) {
        if (!tooLong(e) || chunk.to - chunk.from <= 16) throw e;
        // A piece too long for the model by itself: it and the rest are planned again in halves.
        cap = Math.max(16, Math.floor((chunk.to - chunk.from) / 2));
        dropAll();
        planFrom = chunk.from;
        continue;
      }
      const { context } = answer;
      let { tokens } = answer;
      if (held !== undefined) {
        const all = [...context, ...tokens];
        const at = all.findIndex((t) => t.start === held);
        if (at >= 0) tokens = all.slice(at);
        else {
          // The answers disagree where the held token starts: the rest asked again from there, in order.
          dropAll();
          const from = held;
          // Not one that starts before (the tokens up to `held` are out already): at worst a gap, never an overlap.
          tokens = (await scoreRange(server, read, from, chunk.to, options)).tokens.filter((t) => t.start >= from);
          planFrom = chunk.to;
        }
      }
      held = undefined;
      if (chunk.to < reach) {
        // The last token, with the zero-length byte tokens of its character, waits for the next piece.
        let keep = tokens.length - 1;
        while (keep > 0 && tokens[keep - 1].length === 0) keep--;
        if (keep > 0) {
          held = tokens[keep].start;
          tokens = tokens.slice(0, keep);
        }
      }
      // Past the scope: only the text that finishes its last token was read.
      options.onChunk(chunk.to > scopeEnd ? tokens.filter((t) => t.start < scopeEnd) : tokens);
    }
  } finally {
    // Stopped (cancelled, failed) or done: nothing more is asked.
    dropAll();
  }
}

/**
 * Where to stop reading a scope that ends at `end` so that its last token is the document's, not
 * one cut at `end` (" ch" of " cheese"): the end of the word that `end` is inside, or, inside a
 * run of whitespace, the end of the word after it, since the run's last space or line break may
 * belong to that word's token ("  " + " Then" of "   Then", "\n\n\n" + "\nLast"); at most 256
 * characters on. A server tokenizes the text it is sent, so a text cut there would be scored as
 * tokens the document does not have.
 */
export function tokensReach(read: (start: number, end: number) => string, end: number, textEnd: number): number {
  const after = read(end, Math.min(textEnd, end + 256));
  if (after.length === 0) return end;
  const before = end > 0 ? read(end - 1, end) : '';
  const space = (c: string) => /\s/.test(c);
  // The text's start, or a word's end with whitespace next: the next token starts here (" and").
  if (before === '' || (!space(before) && space(after[0]))) return end;
  let i = 0;
  if (space(before) && space(after[0])) while (i < after.length && space(after[i])) i++;
  while (i < after.length && !space(after[i])) i++;
  return end + i;
}

/**
 * A selection [from, to) of the document scored on the server as its heat-map scores it: the
 * document's tokens that the selection touches (one it cuts counts whole), each given the text
 * before it. Returns their totals and the span of text they cover [start, end), which the
 * number per character is of (a local model's selection is counted so too).
 */
export async function scoreServerSelection(
  server: ServerModel,
  read: (start: number, end: number) => string,
  from: number,
  to: number,
  options: { maxContextChars: number; contextTokensHint: number; textEnd: number; signal?: CancelSignal },
): Promise<{ totals: ScoreTotals; start: number; end: number }> {
  const totals = new ScoreTotals();
  let start = from;
  let end = to;
  let first = true;
  await scoreInServerChunks(server, read, from, to, {
    topK: 0,
    maxContextChars: options.maxContextChars,
    contextTokensHint: options.contextTokensHint,
    textEnd: options.textEnd,
    signal: options.signal,
    onChunk: (tokens) => {
      for (const t of tokens) {
        if (first) start = Math.min(from, t.start);
        first = false;
        totals.add(t);
        end = Math.max(end, t.start + t.length);
      }
    },
  });
  return { totals, start, end };
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
  /** Tokens a prediction reads at most, for a Markov model (an n-gram model on lmp serve). */
  markovContext?: number,
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
    // A character's byte tokens are one part: those before its last byte have length 0 (the token
    // contract), and the server may not say their bytes (vLLM's "�").
    const parts: WordPart[] = [];
    let pending = 0;
    for (const t of scored.slice(f, range.last + 1)) {
      pending += t.logProb;
      if (t.length === 0) continue;
      parts.push({ text: line.text.slice(t.start - line.start, t.start + t.length - line.start), logProb: pending });
      pending = 0;
    }
    if (parts.length < 2) return undefined;
    return { text: line.text.slice(range.start - line.start, range.end - line.start), parts };
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
    oov: head.oov,
    modelName,
    context: contextRead(range.contextTokens + first, range.fromDocumentStart, markovContext),
    bytes,
    word,
  };
}

/** The context a prediction read: the tokens sent before it, or fewer for a Markov model, which reads its last n − 1 only. */
function contextRead(tokens: number, whole: boolean, markovContext: number | undefined): { tokens: number; whole: boolean } {
  if (markovContext === undefined || tokens <= markovContext) return { tokens, whole };
  return { tokens: markovContext, whole: false };
}

/** The heat-map's requests for a model with a context of `contextLength` tokens: context, alternatives asked, requests out at once. */
export function heatmapServerOptions(contextLength: number, contextChars: number, firstRankThreshold: number) {
  return {
    // Ranks alone: the hover asks for alternatives when it shows them.
    topK: 0,
    // Enough alternatives to tell the first colour where a server gives no ranks (vLLM gives them).
    rankTopK: firstRankThreshold,
    maxContextChars: contextChars,
    contextTokensHint: contextLength,
    // The next piece computed while this one is read; the endpoint's other places stay for hovers.
    inFlight: 2,
  };
}

/**
 * The hover of a model on a server: the words of the line around `offset` (from the whitespace
 * before it, which a token may start with, to the next) are sent as text, given the text before
 * them from `windowStart` on (as much of it as the server takes), and the token at `offset` and
 * its word read from the tokens it returns. A long line costs no more than a short one: the
 * request stays within the model's context.
 */
export async function serverHoverAt(
  server: ServerModel,
  modelName: string,
  read: (start: number, end: number) => string,
  offset: number,
  line: { text: string; start: number; end: number },
  windowStart: number,
  options: { topK: number; contextTokensHint: number; signal?: CancelSignal },
): Promise<(HoverFacts & { start: number; length: number }) | null> {
  const space = (at: number) => /\s/.test(line.text[at - line.start] ?? '');
  let from = offset;
  while (from > line.start && !space(from - 1)) from--;
  if (from > line.start) from--;
  let to = offset;
  while (to < line.end && !space(to)) to++;
  const scored = await scoreRange(server, read, from, to, { ...options, maxContextChars: from - windowStart });
  return serverHoverFacts(modelName, scored, offset, line, server.markovContext);
}

/**
 * The hover of a model on a server that tokenizes on request (/tokenize), with the numbers of the
 * same model's local hover: the text window before the token that the local hover reads
 * (`window`, from core/contextWindow.ts) is tokenized by the server, and each position the hover
 * shows is sent as token ids laid out as the local model reads them: in the windows of
 * core/slidingWindow.ts counted from the document's start (far into it, `tokensBefore` places the
 * window among the document's tokens), otherwise given the W − 1 tokens before it (editor/hoverFacts.ts). A text prompt would start a sequence of its own on the server.
 * Undefined where the server cannot tokenize a text (serverHoverAt then).
 */
export async function serverHoverInWindow(
  server: ServerModel,
  modelName: string,
  window: { text: string; startOffset: number; atStart: boolean },
  offset: number,
  line: { text: string; start: number },
  options: {
    topK: number;
    contextLength: number;
    signal?: CancelSignal;
    /** The server's tokens of the document before the window's (documentPlacement): its windows then are the document's. */
    tokensBefore?: number;
  },
): Promise<(HoverFacts & { start: number; length: number }) | null | undefined> {
  if (!server.tokenizeText || !server.scoreIds || server.scoringUnavailable) return undefined;
  // Only the tokens from the hovered word on are placed on the text (the server echoes them): the
  // ones before are context, their ids all that is needed. The word starts after whitespace, where
  // tokenizers do not join tokens across (else the whole window is placed).
  let wordStart = offset - window.startOffset;
  while (wordStart > 0 && !/\s/.test(window.text[wordStart - 1])) wordStart--;
  const cuts = wordStart > 0 ? [wordStart - 1, 0] : [0];
  let layout: Awaited<ReturnType<NonNullable<ServerModel['tokenizeText']>>>;
  for (const from of cuts) {
    layout = await server.tokenizeText(window.text, { atStart: window.atStart, from, offset: window.startOffset, signal: options.signal });
    if (layout) break;
  }
  if (!layout) return undefined;
  const { ids, placed, firstPlaced } = layout;
  /** Token i's place; the tokens before the placed ones are only context. */
  const tokens = (i: number) => placed[i - firstPlaced];
  const index = placed.findIndex((t) => t.length > 0 && t.start <= offset && offset < t.start + t.length && !/^\s+$/.test(t.text)) + firstPlaced;
  if (index < firstPlaced) return null;
  // The begin-of-text token the server added is no byte of a character.
  const hasBos = window.atStart && firstPlaced === 0 && placed[0]?.length === 0;
  const unitStart = (i: number) => {
    let f = i;
    while (f > firstPlaced && tokens(f - 1).length === 0 && !(f - 1 === 0 && hasBos)) f--;
    return f;
  };
  const first = unitStart(index);
  if (first < 1) return null; // no context to condition on
  const W = Math.max(2, options.contextLength);
  const fromDocumentStart = window.startOffset === 0 && window.atStart;
  const before = fromDocumentStart ? 0 : options.tokensBefore;
  const contextStart = (i: number) => (before !== undefined ? Math.max(0, windowStartFor(i + before, W) - before) : Math.max(0, i - (W - 1)));
  const inWord = wordTokenRange(line.text, line.start, placed, offset);
  const word = inWord && { first: inWord.first + firstPlaced, last: inWord.last + firstPlaced };
  const from = Math.max(1, Math.min(first, word ? unitStart(word.first) : first));
  const to = Math.max(index, word?.last ?? index);
  // One request per context: the positions that share it are one prompt, never longer than the window.
  const groups = new Map<number, number>();
  for (let i = from; i <= to; i++) groups.set(contextStart(i), i);
  const scores = new Map<number, ServerScore>();
  await Promise.all(
    [...groups].map(async ([start, last]) => {
      const withAlternatives = start === contextStart(first);
      const answer = await server.scoreIds!(ids.slice(start, last + 1), { topK: withAlternatives ? options.topK : 0, signal: options.signal });
      for (let i = Math.max(start + 1, from); i <= last; i++) {
        const s = answer[i - start];
        if (s && contextStart(i) === start) scores.set(i, s);
      }
    }),
  );
  const scored: TokenScore[] = [];
  for (let i = from; i <= to; i++) {
    const s = scores.get(i);
    if (!s) return null; // a position the server did not score (a begin-of-text marker): no numbers rather than others
    scored.push({ ...s, start: tokens(i).start, length: tokens(i).length });
  }
  const cs = contextStart(first);
  return serverHoverFacts(
    modelName,
    { tokens: scored, context: [], contextTokens: from - cs, fromDocumentStart: fromDocumentStart && cs === 0 },
    offset,
    line,
    server.markovContext,
  );
}
