/**
 * Scoring text by the chain rule: log p(x1..xL) = Σ log p(xi | x<i). Per token: log-prob, and on
 * request rank, entropy of the predictive distribution and the top-k alternatives. Totals in nats
 * and bits, bits per token and per character, perplexity.
 */
import { throwIfCancelled, type CancelSignal } from './errors';
import { entropyNats, rankOf, topIndices } from './distribution';
import { LN2 } from './logMath';
import type { LanguageModel, SequenceScores, Token } from './model';

export interface Alternative {
  id: number;
  text: string;
  logProb: number;
}

export interface TokenScore extends Token {
  /** ln p(token | preceding tokens). */
  logProb: number;
  oov: boolean;
  /** 1 + number of tokens the model found strictly more probable. */
  rank?: number;
  /** Entropy of the predictive distribution at this position, in nats. */
  entropy?: number;
  alternatives?: Alternative[];
}

export interface ScoreSummary {
  /** Tokens scored (sentence starts are given, not scored). */
  tokens: number;
  /** Unicode code points of the text scored. */
  chars: number;
  oov: number;
  /** Total ln p over the scored tokens. */
  logProbNats: number;
  bitsPerToken: number;
  bitsPerChar: number;
  perplexity: number;
}

export interface ScoreOptions {
  /** Also compute rank, entropy and alternatives (costs one full distribution per token). */
  details?: boolean;
  topK?: number;
  signal?: CancelSignal;
}

export function codePointLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff || i + 1 >= text.length) n++;
    else {
      const d = text.charCodeAt(i + 1);
      n++;
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return n;
}

/** Scores `text` as a whole sequence (it starts with the model's begin-of-sequence token). */
export async function scoreText(
  model: LanguageModel,
  text: string,
  options: ScoreOptions = {},
): Promise<{ tokens: TokenScore[]; summary: ScoreSummary }> {
  const tokens = model.tokenizer.encode(text, true);
  const scored = await scoreTokens(model, tokens, options);
  return { tokens: scored, summary: summarize(scored, codePointLength(text)) };
}

/** Positions that are scored: every token but begin-of-sequence markers and a first token without context. */
function scoredPositions(model: LanguageModel, tokens: readonly Token[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < tokens.length; i++) if (tokens[i].id !== model.bosId) out.push(i);
  return out;
}

export async function scoreTokens(model: LanguageModel, tokens: readonly Token[], options: ScoreOptions = {}): Promise<TokenScore[]> {
  const ids = tokens.map((t) => t.id);
  const positions = scoredPositions(model, tokens);
  const logProbs = positions.length ? await model.sequenceLogProbs(ids, 1, options.signal) : new Float64Array(0);
  const out: TokenScore[] = [];
  for (const i of positions) {
    const t = tokens[i];
    const s: TokenScore = { ...t, logProb: logProbs[i - 1], oov: model.unkId !== undefined && t.id === model.unkId };
    if (options.details) {
      throwIfCancelled(options.signal);
      const dist = await model.nextLogProbs(ids.slice(0, i), options.signal);
      Object.assign(s, describePosition(model, dist, t.id, options.topK ?? 5));
    }
    out.push(s);
  }
  return out;
}

/** sequenceScores from one full distribution per position: for models with nothing faster. */
export async function sequenceScoresFromDistributions(model: LanguageModel, ids: readonly number[], from: number, signal?: CancelSignal): Promise<SequenceScores> {
  const n = Math.max(0, ids.length - from);
  const logProbs = new Float64Array(n);
  const ranks = new Int32Array(n);
  for (let i = from; i < ids.length; i++) {
    const dist = await model.nextLogProbs(ids.slice(0, i), signal);
    logProbs[i - from] = dist[ids[i]];
    ranks[i - from] = rankOf(dist, ids[i]);
  }
  return { logProbs, ranks };
}

/** Rank, entropy and alternatives of `token` under a predictive distribution. */
export function describePosition(
  model: LanguageModel,
  logProbs: Float64Array,
  token: number,
  topK: number,
): { rank: number; entropy: number; alternatives: Alternative[] } {
  return {
    rank: rankOf(logProbs, token),
    entropy: entropyNats(logProbs),
    alternatives: topIndices(logProbs, topK).map((id) => ({ id, text: model.tokenizer.tokenText(id), logProb: logProbs[id] })),
  };
}

export function summarize(scored: readonly TokenScore[], chars: number): ScoreSummary {
  let logProbNats = 0;
  let oov = 0;
  for (const s of scored) {
    logProbNats += s.logProb;
    if (s.oov) oov++;
  }
  const n = scored.length;
  const bits = -logProbNats / LN2;
  return {
    tokens: n,
    chars,
    oov,
    logProbNats,
    bitsPerToken: n ? bits / n : 0,
    bitsPerChar: chars ? bits / chars : 0,
    perplexity: n ? Math.exp(-logProbNats / n) : 1,
  };
}
