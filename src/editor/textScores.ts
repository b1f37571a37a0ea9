/**
 * The status bar's per-token scores of the text it scored last, so that after an edit it scores
 * only the tokens the edit can have changed (rescorePlan.ts) and sums: a 39-character edit at the
 * end of a chapter no longer reads the whole chapter again (minutes with a 135M GGUF model, whose
 * cache keeps no scores of the positions it holds). Each token is scored with the context a whole
 * scoring gives it (chunkedScoring.ts: n − 1 tokens for an n-gram model, the sliding windows of
 * `scoreText` for a transformer), so the sum is `scoreText`'s number.
 */
import type { CancelSignal } from '../core/errors';
import type { LanguageModel, Token } from '../core/model';
import type { ScoreTotals } from '../core/scoring';
import { logProbsInChunks } from './chunkedScoring';
import { totalsOfScored } from './heatmapTotals';
import { planRescore, rangesToScore, type RescorePlan } from './rescorePlan';

export interface TextScores {
  readonly model: LanguageModel;
  /**
   * The text's tokens, as `scoreText` tokenizes it (a sequence of its own, from the start); for a
   * selection, the document's tokens before it (its context) and its own (placedScopeTokens).
   */
  readonly tokens: readonly Token[];
  /** The first token counted: tokens before it are context, neither scored nor summed (0 for a text of its own). */
  readonly from: number;
  /** A selection's document's tokens before `tokens[0]`, whose windows are counted from its start (chunkContextStart). */
  readonly tokensBefore: number;
  readonly logProbs: Float64Array;
  /** 1 where the token's log-prob is known; 0 where not yet (position 0, or a scoring an edit stopped). */
  readonly scored: Uint8Array;
}

/**
 * What an edit leaves to score. A window model's tokens that moved (the edit added or removed
 * tokens) fall in other windows, counted from the text's start, so they get other contexts: all
 * of them are scored again, to keep the number equal to a whole scoring's.
 */
export function textRescorePlan(model: LanguageModel, oldTokens: readonly Token[], newTokens: readonly Token[]): RescorePlan {
  const plan = planRescore(oldTokens, newTokens, model.info.contextLength);
  return model.info.capabilities.context === 'window' && plan.shift !== 0 ? { ...plan, to: newTokens.length } : plan;
}

/**
 * The scores of `text` kept from `previous` (the text scored before, with the same model), and
 * the ranges of tokens still to score. Without `previous`, or with another model: everything.
 */
export function planTextScores(model: LanguageModel, text: string, previous?: TextScores): { scores: TextScores; ranges: [number, number][] } {
  return planTokenScores(model, model.tokenizer.encode(text, true), 0, previous);
}

/** As planTextScores, for `tokens` whose first `from` are context (a selection's, in its document). */
export function planTokenScores(
  model: LanguageModel,
  tokens: readonly Token[],
  from: number,
  previous?: TextScores,
  tokensBefore = 0,
): { scores: TextScores; ranges: [number, number][] } {
  const n = tokens.length;
  const scores: TextScores = { model, tokens, from, tokensBefore, logProbs: new Float64Array(n), scored: new Uint8Array(n) };
  // Other tokens before the context put every token in other windows.
  const old = previous?.model === model && previous.from === from && previous.tokensBefore === tokensBefore ? previous : undefined;
  const plan = old ? textRescorePlan(model, old.tokens, tokens) : { from: 0, to: n, shift: 0 };
  if (old) {
    const head = Math.min(plan.from, old.tokens.length);
    scores.logProbs.set(old.logProbs.subarray(0, head));
    scores.scored.set(old.scored.subarray(0, head));
    for (let i = plan.to; i < n; i++) {
      scores.logProbs[i] = old.logProbs[i + plan.shift];
      scores.scored[i] = old.scored[i + plan.shift];
    }
  }
  // A text of its own starts its sequence: its token 0 has no context and is not scored.
  return { scores, ranges: rangesToScore(n, (i) => scores.scored[i] === 1, plan, Math.max(1, from)) };
}

/** Tokens in `ranges`. */
export function tokensIn(ranges: readonly (readonly [number, number])[]): number {
  return ranges.reduce((n, [a, b]) => n + b - a, 0);
}

/**
 * Scores `ranges` of `scores` in place, in pieces of about `targetMs`, each with the context a
 * whole scoring gives it. Cancelled part-way, the pieces scored stay: the next plan keeps them.
 */
export async function scoreTextRanges(
  scores: TextScores,
  ranges: readonly (readonly [number, number])[],
  options: { signal?: CancelSignal; targetMs?: number; onScored?: (tokens: number) => void } = {},
): Promise<void> {
  const ids = scores.tokens.map((t) => t.id);
  for (const [from, to] of ranges)
    await logProbsInChunks(scores.model, ids, from, to, {
      signal: options.signal,
      targetMs: options.targetMs,
      tokensBefore: scores.tokensBefore,
      onChunk: (start, logProbs) => {
        scores.logProbs.set(logProbs, start);
        scores.scored.fill(1, start, start + logProbs.length);
        options.onScored?.(logProbs.length);
      },
    });
}

/** The totals of the text's scores (as `scoreText` sums them; a selection's, of its own tokens); undefined while a token is not scored. */
export function textTotals(scores: TextScores): ScoreTotals | undefined {
  // totalsOfScored leaves out its first token: the sequence's start, or the last of the context.
  const at = Math.max(0, scores.from - 1);
  return totalsOfScored(scores.tokens.slice(at), scores.logProbs.subarray(at), scores.scored.subarray(at), scores.model.bosId, scores.model.unkId);
}

/** The scores kept per document and scope (the whole document, or its selection), until it closes or the model or settings change. */
export class TextScoresByDocument {
  private readonly byKey = new Map<string, TextScores>();

  get(uri: string, scope: 'document' | 'selection'): TextScores | undefined {
    return this.byKey.get(`${scope}:${uri}`);
  }

  set(uri: string, scope: 'document' | 'selection', scores: TextScores): void {
    this.byKey.set(`${scope}:${uri}`, scores);
  }

  dropDocument(uri: string): void {
    this.byKey.delete(`document:${uri}`);
    this.byKey.delete(`selection:${uri}`);
  }

  clear(): void {
    this.byKey.clear();
  }
}
