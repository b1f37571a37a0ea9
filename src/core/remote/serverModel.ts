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

export interface ServerModel {
  /** The endpoint it is asked at, for messages: "http://127.0.0.1:8000/v1". */
  readonly endpoint: string;
  /** Why the server cannot score a given text (its API gives log-probs of generated tokens only); undefined when it can. */
  readonly scoringUnavailable?: string;
  /** Alternatives the server gives per position at most (its top-k cap, e.g. vLLM's max_logprobs). */
  readonly maxTopK: number;
  /**
   * The tokens of `text` as the server tokenizes it (offsets into `text` plus `offset`, exactly
   * covering it), each with ln p given the text before it, its alternatives (the server's top k)
   * and its rank when the server gives it or it is among them; otherwise `rankAbove` = k.
   * With `atStart` the text starts a sequence (the server adds its begin-of-text token).
   */
  scoreText(text: string, options: ScoreTextOptions): Promise<TokenScore[]>;
  /** Sampling on the server with the options' temperature, top-p, seed, stops, n and max tokens, streamed. */
  generate(prompt: string, options: GenerationOptions, hooks: GenerationHooks): Promise<Completion[]>;
}

/** The message of a feature that needs exact distributions over the whole vocabulary, which a server does not give. */
export function needsLocalModel(modelName: string, feature: string): string {
  return `${feature} needs a local model: ${modelName} runs on a server, which gives only its top-k log-probabilities, not the model's whole next-token distribution`;
}
