/**
 * A token drawn by the temperature explorer, wherever it falls in the distribution: the page holds
 * the log-probs of the whole vocabulary but the texts of the top few only, so the text of a token
 * further down comes from the engine's top tokens, asked down to that token.
 */
import { rankOf } from '../core/distribution';
import type { Alternative } from '../core/scoring';

export interface SampledToken {
  id: number;
  /** The token as shown: its text, or its bytes when it holds part of a character. */
  text: string;
  bytes?: number[];
  /** 1 + the tokens more probable (under p; tempering keeps the order). */
  rank: number;
}

/** How many of the most probable tokens reach `id`, in topIndices's order (ties: the lower id first). */
export function topCountThrough(logProbs: ArrayLike<number>, id: number): number {
  const target = logProbs[id];
  let k = 0;
  for (let j = 0; j < logProbs.length; j++) if (logProbs[j] > target || (logProbs[j] === target && j <= id)) k++;
  return k;
}

/**
 * The text and rank of token `id` of `logProbs`, asking `topTokens(k)` (the engine's k most
 * probable tokens after the same prompt) for as many as reach it.
 */
export async function sampledToken(logProbs: ArrayLike<number>, id: number, topTokens: (k: number) => Promise<readonly Alternative[]>): Promise<SampledToken> {
  const top = await topTokens(topCountThrough(logProbs, id));
  const found = top.find((t) => t.id === id);
  if (!found) throw new Error(`the engine's top tokens do not include token ${id}: the model or the prompt changed since the distribution was read`);
  return { id, text: found.text, bytes: found.bytes, rank: rankOf(logProbs, id) };
}
