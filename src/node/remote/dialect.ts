/**
 * What the remote model asks of a server, whatever its API: the models it serves, a text's tokens
 * with their log-probs (when the API can score a prompt), and streamed sampling. One module per
 * dialect (openaiDialect.ts, llamaCppDialect.ts, ollamaDialect.ts) maps its API's fields onto these.
 */
import type { CancelSignal } from '../../core/errors';
import type { FinishReason } from '../../core/generation';
import type { Dialect } from '../../core/remote/remoteRef';
import type { ServerPiece } from '../../core/remote/tokenOffsets';
import type { Endpoint } from './endpoint';

/** One token as a server reports it, with its log-prob and its alternatives (the server's top k). */
export interface ServerPosition {
  piece: ServerPiece;
  /** ln p given what came before; null where the server scored nothing (a sequence's first token). */
  logProb: number | null;
  /** Its rank among all tokens, where the server says (vLLM's prompt_logprobs). */
  rank?: number;
  /** Scored as the model's unknown word (lmp serve's prompt_unknown_tokens); undefined where the server does not say. */
  oov?: boolean;
  top: { piece: ServerPiece; logProb: number }[];
}

export interface ServedModel {
  id: string;
  /** The longest sequence it takes, where the server says (vLLM's max_model_len). */
  contextLength?: number;
  /** Tokens a prediction reads at most, for a Markov model (lmp serve's markov_context_tokens for an n-gram model). */
  markovContext?: number;
}

export interface SamplingRequest {
  prompt: string;
  maxTokens: number;
  temperature: number;
  topP?: number;
  topK?: number;
  seed?: number;
  stop: readonly string[];
  n: number;
  /** Alternatives per generated token (at least 1: the token's own log-prob comes with them). */
  logprobs: number;
}

export interface RemoteDialect {
  readonly name: Dialect;
  /** Why this API cannot score a given text; undefined when it can (`score` is then present). */
  readonly scoringUnavailable?: string;
  listModels(endpoint: Endpoint, signal?: CancelSignal): Promise<ServedModel[]>;
  /**
   * The tokens of `text` with log-probs, the server's begin-of-text token (if it adds one) first,
   * each with its `topK` likeliest alternatives (0: none) and its rank where the server gives
   * ranks; a server that gives none is asked for `rankTopK` alternatives at least, so that a rank
   * up to it is known. A prompt of token ids is scored as those tokens (no begin-of-text added).
   */
  score?(
    endpoint: Endpoint,
    model: string,
    prompt: string | readonly number[],
    topK: number,
    rankTopK: number,
    signal?: CancelSignal,
  ): Promise<ServerPosition[]>;
  /**
   * The server's token ids of `text` (vLLM's and lmp serve's `POST /tokenize`), its begin-of-text
   * token first with `addSpecial`; undefined where the server has no such route.
   */
  tokenize?(endpoint: Endpoint, model: string, text: string, addSpecial: boolean, signal?: CancelSignal): Promise<number[] | undefined>;
  /**
   * Streams completions; `onToken` gets each generated token of completion `index`, and returns
   * true when the caller wants no more of it. Resolves with each completion's finish reason;
   * undefined for a completion the server never sent (a server that ignores n).
   */
  generate(
    endpoint: Endpoint,
    model: string,
    request: SamplingRequest,
    onToken: (index: number, token: ServerPosition) => boolean,
    signal?: CancelSignal,
  ): Promise<(FinishReason | undefined)[]>;
}

/** A log-prob above 0 by less than this is rounding (float32 log-softmax); a probability sum above 1 likewise. */
export const LOGPROB_SLACK = 1e-4;
export const PROBABILITY_SLACK = 1e-3;
/** Below any log-prob a model computes (vLLM gives -9999 for an impossible token): -1e300 is a broken answer, not a number to average. */
export const MIN_LOGPROB = -1e5;

/** A number field, or undefined. */
export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** An object field, or an empty object. */
export function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Bytes as a server gives them (a list of 0..255), or undefined. */
export function byteList(v: unknown): number[] | undefined {
  return Array.isArray(v) && v.every((b) => Number.isInteger(b) && b >= 0 && b < 256) ? (v as number[]) : undefined;
}
