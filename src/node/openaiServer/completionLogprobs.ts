/**
 * Log-probabilities in the shapes of the completions API. `logprobs` (OpenAI's legacy completion
 * log-probs, as vLLM fills them): per token its text, its log-prob, the top alternatives keyed by
 * their text with the token's own entry first (null for a prompt token that is given, not
 * predicted: the first), and its text_offset in code points of the choice's text. vLLM's
 * `prompt_logprobs`: per prompt position `{token_id: {logprob, rank, decoded_token}}` for the
 * token and the top alternatives (null where the token is given). Log-probs are the model's raw
 * distribution (vLLM's default logprobs_mode), clamped at −9999 as vLLM does, since JSON has no −∞.
 */
import type { Alternative } from '../../core/scoring';

export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: (number | null)[];
  top_logprobs: (Record<string, number> | null)[];
  text_offset: number[];
}

export interface PromptLogprob {
  logprob: number;
  rank: number;
  decoded_token: string;
}

/** What is known of one position: the token, and when it was predicted its log-prob, rank and alternatives. */
export interface ScoredPosition {
  id: number;
  /** The text the token spans in the choice's text. */
  text: string;
  /** Code points before it in the choice's text. */
  offset: number;
  score?: { logProb: number; rank?: number; alternatives?: readonly Alternative[]; oov?: boolean };
}

const clamp = (lp: number) => Math.max(lp, -9999);

export function emptyLogprobs(): CompletionLogprobs {
  return { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
}

export class LogprobsWriter {
  constructor(
    /** Alternatives per position (the request's `logprobs`). */
    private readonly k: number,
    /** vLLM's return_tokens_as_token_ids. */
    private readonly asIds: boolean,
  ) {}

  /** A token's name in `tokens` and as a key of `top_logprobs`. */
  private name(id: number, text: string): string {
    return this.asIds ? `token_id:${id}` : text;
  }

  add(out: CompletionLogprobs, p: ScoredPosition): void {
    out.tokens.push(this.name(p.id, p.text));
    out.text_offset.push(p.offset);
    if (!p.score) {
      out.token_logprobs.push(null);
      out.top_logprobs.push(null);
      return;
    }
    out.token_logprobs.push(clamp(p.score.logProb));
    const top: Record<string, number> = { [this.name(p.id, p.text)]: clamp(p.score.logProb) };
    for (const a of (p.score.alternatives ?? []).slice(0, this.k)) {
      if (a.id === p.id) continue;
      top[this.name(a.id, a.text)] ??= clamp(a.logProb);
    }
    out.top_logprobs.push(top);
  }

  /**
   * vLLM's prompt_logprobs entry of a position: the token and the top `k` alternatives, with ranks.
   * The token's decoded_token is its text in `logprobs.tokens` (vLLM takes both from one place, and
   * clients match them); an alternative's is its vocabulary text.
   */
  promptEntry(p: ScoredPosition, k: number): Record<string, PromptLogprob> | null {
    if (!p.score) return null;
    const entry: Record<string, PromptLogprob> = {
      [p.id]: { logprob: clamp(p.score.logProb), rank: p.score.rank ?? 0, decoded_token: p.text },
    };
    // Alternatives come sorted: a rank is 1 + those strictly more probable, so ties share one.
    let rank = 0;
    (p.score.alternatives ?? []).slice(0, k).forEach((a, j, all) => {
      rank = j > 0 && a.logProb === all[j - 1].logProb ? rank : j + 1;
      entry[a.id] ??= { logprob: clamp(a.logProb), rank, decoded_token: a.text };
    });
    return entry;
  }
}
