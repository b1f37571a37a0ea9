/** What every language model in the product offers: a tokenizer and next-token distributions. */
import type { BackendCapabilities } from './backends/capabilities';
import type { CancelSignal } from './errors';
import type { Completion, GenerationHooks, GenerationOptions } from './generation';
import type { ModelInside } from './inside/modelInside';
import type { NgramTrace } from './ngram/backoffTrace';
import type { ServerModel } from './remote/serverModel';
import type { Piece } from './tokenizers/pretokenizers';

export interface Token {
  id: number;
  /** The piece of text as written (for `<unk>`, the original text). */
  text: string;
  start: number;
  length: number;
}

export interface Tokenizer {
  readonly vocabSize: number;
  /**
   * Splits text into tokens. With `atStart` the text starts a sequence (a begin-of-sequence token
   * first, when the model has one). Offsets are UTF-16 offsets into `text`, plus `offset`.
   */
  encode(text: string, atStart: boolean, offset?: number): Token[];
  /** Text of a generated token sequence; `precededByText` matters where words are space-joined. */
  decode(ids: readonly number[], precededByText: boolean): string;
  /** Whether every line starts a new sentence (KenLM's convention) rather than continuing the text. */
  readonly sentencePerLine: boolean;
  /** A token as text, for display. */
  tokenText(id: number): string;
  /**
   * Token `id` as it continues the tokens `previous` (text precedes them when `precededByText`):
   * the text decode(previous + [id]) − decode(previous), so that a completion's tokens spell its
   * text whatever the tokenizer puts between tokens or drops at the text's start (a space between
   * whitespace-joined words, SentencePiece's "▁" at the start); with its bytes where tokens are
   * bytes (which may end inside a character, whose text then cannot show them). A special token
   * that decoding leaves out (an end-of-text marker) shows its name.
   */
  continuation(previous: readonly number[], id: number, precededByText: boolean): ContinuedToken;
  /** A byte-level tokenizer's token as UTF-8 bytes (which may end inside a character). */
  tokenBytes?(id: number): Uint8Array;
  /**
   * The last position p of `text` where it can be tokenized in two parts, text[0..p) and then
   * text[p..) as a continuation, with the tokens of the whole whatever follows (0: none). Lets a
   * long text be tokenized piece by piece (`TokenStream`); absent when the tokenizer has no rule.
   * Whether p is a cut may depend only on text[p - 1] and text[p] (TokenStream passes the end of
   * the text it holds, not all of it).
   */
  cutPoint?(text: string): number;
}

export interface ContinuedToken {
  text: string;
  /** UTF-8 bytes, from a tokenizer with `tokenBytes`. */
  bytes?: Uint8Array;
}

export interface ModelInfo {
  /** Short name shown in the UI. */
  name: string;
  /** The registry's name of the backend that opened it ("ngram", "onnx"). */
  backend: string;
  /** What it offers (ask these rather than which backend it is). */
  capabilities: BackendCapabilities;
  /** Human-readable description, e.g. "Kneser-Ney 4-gram, 34,102 words". */
  description: string;
  /** Tokens of context the model can use (n-1 for an n-gram model). */
  contextLength: number;
  /** Where a neural model runs: "native", "wasm" or "webgpu". */
  device?: string;
  /** A neural model's precision variant: "fp32", "q4", "int8" … (core/neural/onnxVariants.ts). */
  precision?: string;
  /** What the user should know about the model's numbers (an n-gram model whose probabilities do not sum to 1), said when it loads. */
  warning?: string;
}

export interface LanguageModel {
  readonly info: ModelInfo;
  readonly tokenizer: Tokenizer;
  /**
   * The tokenizer is made when first read (a model in a worker whose host holds the same one):
   * reading it costs a load of its file and keeps it in memory, so generation there leaves the
   * text to the host (generateUnspelled).
   */
  readonly tokenizerOnDemand?: boolean;
  readonly vocabSize: number;
  /** Begin-of-sequence token, when the model has one. */
  readonly bosId: number | undefined;
  /** End-of-sequence token: generating it ends a completion. */
  readonly eosId: number | undefined;
  /** Every end-of-sequence token when the model has several (eosId first); absent: eosId alone. */
  readonly eosIds?: readonly number[];
  /** Out-of-vocabulary token, when the model has one (an n-gram model's <unk>, a neural tokenizer's <unk>). */
  readonly unkId: number | undefined;
  /** Tokens never to be generated (begin-of-sequence, unknown word). */
  readonly unsampleableIds: readonly number[];
  /** Natural-log probabilities of every vocabulary token after `context`. */
  nextLogProbs(context: readonly number[], signal?: CancelSignal): Promise<Float64Array>;
  /**
   * The same numbers as nextLogProbs, written into `out` (vocabSize entries, the caller's): a
   * decode loop reuses one row for all its steps instead of a new one each step (garbage that a
   * step of a large vocabulary's model then collects).
   */
  nextLogProbsInto?(context: readonly number[], out: Float64Array, signal?: CancelSignal): Promise<void>;
  /**
   * Log-probability (nats) of each token `ids[i]` given `ids[0..i)`, for i in [from, ids.length).
   * Result index 0 corresponds to `from`.
   */
  sequenceLogProbs(ids: readonly number[], from: number, signal?: CancelSignal): Promise<Float64Array>;
  /** As sequenceLogProbs, with each token's rank (1 + tokens the model found more probable). */
  sequenceScores(ids: readonly number[], from: number, signal?: CancelSignal): Promise<SequenceScores>;
  /**
   * As sequenceLogProbs, handing `each(i - from, logProbs)` the whole distribution before each
   * token i, from the same pass (a model that computes them all at once: no step per token).
   * `logProbs` is only valid during the call.
   */
  sequenceDistributions?(
    ids: readonly number[],
    from: number,
    each: (index: number, logProbs: Float64Array) => void,
    signal?: CancelSignal,
  ): Promise<Float64Array>;
  /**
   * The log-probs of tokens [from, ids.length) given `ids[0..i)` each, and the whole distribution
   * before token `distAt` (from ≤ distAt < ids.length), from one forward pass: what the hover needs
   * of a word's tokens, for a model whose steps cost more than its passes.
   */
  spanScores?(ids: readonly number[], from: number, distAt: number, signal?: CancelSignal): Promise<SpanScores>;
  /**
   * Frees what the model keeps of the last sequence it ran (a transformer's KV cache, for hovers
   * further on in the same document): when that document closes. The next request runs cold.
   */
  forgetContext?(): Promise<void>;
  /**
   * Runs `ids` into the kept cache in the background (a hover's context computed before the
   * hover), a few tokens at a time: gives way to every other request between two passes, and
   * takes up again after them, until all of `ids` (at most a window) is cached, `signal` cancels,
   * or the model is disposed. Changes no number a request gets.
   */
  warmContext?(ids: readonly number[], signal?: CancelSignal): Promise<WarmResult>;
  /**
   * Holds the model for a generation until `release()` (generate() holds it for the whole
   * generation, which steps and forgets through the hold's methods): its steps must follow one
   * another on one cache, since an int8 graph, which quantizes per pass, gives other numbers after
   * another request has moved that cache, and a seed then gives another text. Meanwhile warm-ups
   * run no pass, and every other request (a hover, the heat-map) leaves the generation's cache as
   * it was.
   */
  holdForGeneration?(): Promise<GenerationHold>;
  /** A backoff n-gram model's account of p(id | context) (capabilities.inside `ngram-backoff`). */
  ngramTrace?(context: readonly number[], id: number): NgramTrace;
  /**
   * A transformer's inside as it predicts `actual` after `context` (its last window): the logit lens
   * with `k` tokens per layer and each head's attention, as far as capabilities.inside declares them.
   */
  inside?(context: readonly number[], actual: number, k: number, signal?: CancelSignal): Promise<ModelInside>;
  /**
   * A model that runs on a server (capabilities.tokenizer `server`): asked with text, since its
   * tokenizer is the server's; its token-level methods refuse with a message saying so.
   */
  readonly server?: ServerModel;
  /**
   * Runs a whole generation where the model runs (an engine worker thread), with the loop of
   * generate() there: the same completions and tokens, streamed to `hooks.onToken`, without a
   * round trip between threads at every step. generate() hands it text prompts; undefined: this
   * one is left to generate()'s own loop, each step a request.
   */
  generateInEngine?(prompt: string, options: GenerationOptions, hooks: GenerationHooks): Promise<Completion[]> | undefined;
  dispose?(): void;
}

/** A generation's own calls to a model that holds itself for it (LanguageModel.holdForGeneration). */
export interface GenerationHold {
  nextLogProbs(context: readonly number[], signal?: CancelSignal): Promise<Float64Array>;
  nextLogProbsInto?(context: readonly number[], out: Float64Array, signal?: CancelSignal): Promise<void>;
  forgetContext(): Promise<void>;
  release(): void;
}

/** A model's own calls as a hold that holds nothing: for a model without holdForGeneration. */
export function unheldGeneration(m: LanguageModel): GenerationHold {
  return {
    nextLogProbs: (context, signal) => m.nextLogProbs(context, signal),
    nextLogProbsInto: m.nextLogProbsInto && ((context, out, signal) => m.nextLogProbsInto!(context, out, signal)),
    forgetContext: async () => m.forgetContext?.(),
    release: () => undefined,
  };
}

/** A model's end-of-sequence tokens: all of them where it has several. */
export function endOfSequenceIds(model: Pick<LanguageModel, 'eosId' | 'eosIds'>): readonly number[] {
  return model.eosIds ?? (model.eosId === undefined ? [] : [model.eosId]);
}

export interface SpanScores {
  /** Index i - from: token i's log-prob. */
  logProbs: Float64Array;
  /** Log-probs of every vocabulary token before token `distAt`. */
  distribution: Float64Array;
}

export interface WarmResult {
  /** Tokens of `ids` the cache holds when the warm-up ended. */
  cached: number;
  /** How often it gave way to another request. */
  yielded: number;
  /**
   * It stopped because a request it gave way to took the cache it had filled: a warm-up is a guess
   * at the next request, and taking the cache back between that request's steps made both read
   * their contexts again at every step (drive9: 214 s for a warm-up, ghost text never shown).
   */
  gaveUp?: boolean;
}

export interface SequenceScores {
  logProbs: Float64Array;
  ranks: Int32Array;
}

export type { Piece };
