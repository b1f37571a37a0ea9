/**
 * What a model computed on a server offers instead of token-level calls: its tokenizer is the
 * server's, so it is asked with text. Features that find `model.server` (core/model.ts) score and
 * generate through it; the rest say that they need a local model.
 */
import type { CancelSignal } from '../errors';
import type { Completion, GenerationHooks, GenerationOptions } from '../generation';
import type { TokenScore } from '../scoring';

export interface ScoreTextOptions {
  /** Alternatives per token (0: none; ranks alone cost a server far less, see openaiDialect.ts). */
  topK: number;
  /** Where the server gives no ranks, alternatives enough to know a rank up to this. */
  rankTopK?: number;
  atStart: boolean;
  /** Document offset of the text's first character. */
  offset?: number;
  signal?: CancelSignal;
}

/** A token of the server's tokenizer placed on a text: its id on the server, its text, and its span (document offsets). */
export interface ServerToken {
  id: number;
  text: string;
  start: number;
  length: number;
}

/** A token's numbers from the server, without its place (a prompt of token ids has none of its own). */
export type ServerScore = Omit<TokenScore, 'start' | 'length'>;

export interface ServerModel {
  /** The endpoint it is asked at, for messages: "http://127.0.0.1:8000/v1". */
  readonly endpoint: string;
  /** Why the server cannot score a given text (its API gives log-probs of generated tokens only); undefined when it can. */
  readonly scoringUnavailable?: string;
  /**
   * Whether the server's last scores said which tokens its model scored as the unknown word (lmp
   * serve does); where not, a token's `oov` is false for want of knowing, and a count of them unknown.
   */
  readonly knowsUnknownWords?: boolean;
  /** Tokens a prediction reads at most, where the server says its model is a Markov model (an n-gram model). */
  readonly markovContext?: number;
  /** Alternatives the server gives per position at most (its top-k cap, e.g. vLLM's max_logprobs). */
  readonly maxTopK: number;
  /**
   * The tokens of `text` as the server tokenizes it (offsets into `text` plus `offset`, exactly
   * covering it), each with ln p given the text before it, its alternatives (the server's top k)
   * and its rank when the server gives it or it is among them; otherwise `rankAbove` = k.
   * With `atStart` the text starts a sequence (the server adds its begin-of-text token).
   */
  scoreText(text: string, options: ScoreTextOptions): Promise<TokenScore[]>;
  /**
   * The server's token ids of `text` (its `/tokenize`; with `atStart` the begin-of-text token it
   * adds first), and the tokens from the one starting at character `from` of `text` on placed on
   * it (offsets plus `offset`): `placed[j]` is token `firstPlaced + j`. Undefined where the server
   * cannot say (no such route, no token starting at `from`, tokens that do not spell the text).
   */
  tokenizeText?(
    text: string,
    options: { atStart: boolean; from: number; offset?: number; signal?: CancelSignal },
  ): Promise<{ ids: number[]; placed: ServerToken[]; firstPlaced: number } | undefined>;
  /**
   * Token ids scored as the server reads them from the first (no begin-of-text token added): per
   * id, null where the server scored nothing (the first), else its numbers given the ids before it.
   */
  scoreIds?(ids: readonly number[], options: { topK: number; signal?: CancelSignal }): Promise<(ServerScore | null)[]>;
  /** Asks the server something cheap (its model list): resolves once it answers, rejects with why it does not. */
  ping?(signal?: CancelSignal): Promise<void>;
  /** Sampling on the server with the options' temperature, top-p, seed, stops, n and max tokens, streamed. */
  generate(prompt: string, options: GenerationOptions, hooks: GenerationHooks): Promise<Completion[]>;
}

/** Why the Shannon game's model column cannot play a model on a server: one sentence, after "The model could not play: ". */
export function shannonNeedsLocalModel(modelName: string): string {
  return `${modelName} runs on a server, which gives only its top-k log-probabilities, not the whole next-token distribution that exact next-character probabilities need; choose a local model (LM: Select Model) for this column.`;
}

/** The message of a feature that needs exact distributions over the whole vocabulary, which a server does not give. */
export function needsLocalModel(modelName: string, feature: string): string {
  return `${feature} needs a local model: ${modelName} runs on a server, which gives only its top-k log-probabilities, not the model's whole next-token distribution`;
}
