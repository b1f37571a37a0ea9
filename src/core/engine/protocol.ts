/**
 * Messages between a host (extension host, webview page) and an engine worker (Node worker
 * thread or browser Web Worker). One model per worker; requests carry ids so several can be in
 * flight; `cancel` makes a queued or running request fail with "cancelled" at its next step.
 *
 * Each operation is a request and a result type (`EngineOps`); a response says which operation it
 * answers, so that both sides are checked per operation.
 */
import type { Completion, GenerationOptions, GeneratedToken } from '../generation';
import type { ModelInfo, Token, WarmResult } from '../model';
import type { ModelInside } from '../inside/modelInside';
import type { NgramTrace } from '../ngram/backoffTrace';
import type { DtypeRequest } from '../neural/onnxVariants';
import type { PackedVocabulary } from '../ngram/packedVocabulary';
import type { Alternative } from '../scoring';

/** What the host keeps of a model that runs in a worker. */
export interface ModelDescription extends ModelInfo {
  vocabSize: number;
  bosId?: number;
  eosId?: number;
  /** Every end-of-sequence token, when the model has several. */
  eosIds?: number[];
  unkId?: number;
  unsampleableIds: number[];
  /** Whether the model scores a span in one pass (LanguageModel.spanScores). */
  spanScores?: boolean;
  /** Whether the model warms its cache in the background (LanguageModel.warmContext). */
  warmContext?: boolean;
  /** Whether the model keeps a cache it can free (LanguageModel.forgetContext), which generation frees before each completion. */
  forgetContext?: boolean;
  /** Whether the model holds its cache for a generation (LanguageModel.holdForGeneration). */
  holdForGeneration?: boolean;
  /** The model makes its tokenizer only when one is asked for (LanguageModel.tokenizerOnDemand): the host spells its generations. */
  tokenizerOnDemand?: boolean;
  /** An n-gram model's vocabulary, from which the host builds its tokenizer (the model stays in the worker); when the load asked for it (LoadSpec.hostVocabulary). */
  vocabulary?: PackedVocabulary;
}

/** Where a model should run; a worker maps what it cannot do (a browser has no native runtime: auto). */
export type EngineDevice = 'auto' | 'native' | 'wasm' | 'webgpu';

/** A model file sent as bytes to a worker that cannot read the disk (a webview's). */
export interface ModelFileBytes {
  /** Its path relative to the model (for messages): "onnx/model.onnx", "model.ngram.gz". */
  name: string;
  bytes: ArrayBuffer;
}

/** The .wasm binary of each onnxruntime-web build a browser worker may use. */
export type WasmBinaries = Partial<Record<'webgpu' | 'wasm', ArrayBuffer>>;

/** What a `load` asks a worker to open: a model of one backend of the registry (see the README, "Adding a model backend"). */
export interface LoadSpec {
  /** The registry's name of the backend that opens it ("ngram", "onnx"). */
  backend: string;
  /** The model's name in the UI. */
  name: string;
  /**
   * Where the model is: a file or folder of this machine (a Node worker reads it), or its files'
   * bytes by role (a browser worker, which cannot read the disk; the roles are the backend's), or
   * the names of its files by role, which a webview page's relay asks the extension for in pieces
   * and hands to its worker as bytes (webview/engineRelay.ts; a worker refuses it).
   */
  source: { path: string } | { files: Record<string, ModelFileBytes> } | { fromExtension: Record<string, string> };
  /** Where to run it (a backend without a choice of device ignores it). */
  device: EngineDevice;
  /** The precision variant of the graph to run (lmPlayground.dtype; a browser worker is sent the chosen graph's files). */
  dtype?: DtypeRequest;
  /** Intra-op threads of a native runtime. */
  threads?: number;
  /** The runtime a browser worker needs for it, whose binaries the page adds (`wasmBinaries`). */
  runtime?: 'onnxruntime-web';
  wasmBinaries?: WasmBinaries;
  /**
   * The host makes its tokenizer from the loaded model's vocabulary (an n-gram model's: the
   * description then carries it packed). Only a Node host does; for a page that never reads it,
   * packing millions of words would cost its worker seconds.
   */
  hostVocabulary?: boolean;
}

/** The tokens a `generate` streams before its result, in order. */
export interface GeneratePartial {
  completion: number;
  tokens: GeneratedToken[];
}

/** Every operation: what its request carries and what its result is. */
export interface EngineOps {
  load: { request: { spec: LoadSpec }; result: { model: ModelDescription } };
  /**
   * `row`: a buffer of vocabSize entries moved to the worker (a Node worker thread's transfer list),
   * which writes the distribution into it and moves it back as `logProbs`: a decode loop then
   * passes one buffer to and fro instead of a new copy of 49,152 float64s each way every step.
   */
  nextLogProbs: { request: { context: number[]; row?: Float64Array; generation?: boolean }; result: { logProbs: Float64Array } };
  sequenceLogProbs: { request: { ids: number[]; from: number }; result: { logProbs: Float64Array } };
  sequenceScores: { request: { ids: number[]; from: number }; result: { logProbs: Float64Array; ranks: Int32Array } };
  /** Generation in the worker, tokens streamed back as partial responses (the playground). */
  generate: {
    /**
     * `continuation`: token ids that follow the prompt's tokens before generation starts (a branch
     * from a chosen token). `promptTokens`: the prompt as the host tokenized it; the worker then
     * generates without its tokenizer, every text empty, and the host spells the tokens
     * (generateUnspelled, spellCompletion).
     */
    request: { prompt: string; continuation?: number[]; promptTokens?: Token[]; options: GenerationOptions };
    result: { completions: Completion[] };
  };
  /** The next-token distribution after a prompt: its top tokens and entropy. */
  /**
   * The next token's likeliest k. `logProbs`: the whole distribution by id; with `topOnly` (a model
   * on a server, which gives its top k only) the top's log-probs alone, `top[i].id` being i.
   */
  topTokens: { request: { prompt: string; k: number }; result: { top: Alternative[]; entropy: number; logProbs: Float64Array; topOnly?: boolean } };
  /**
   * A backoff n-gram model's account of a token's p (the playground's inside panel): the context is
   * the prompt's tokens (when given, encoded at the start) followed by `before`.
   */
  ngramTrace: { request: { prompt?: string; before: number[]; token: number }; result: { trace: NgramTrace } };
  /**
   * A transformer's logit lens (`k` tokens per layer) and attention as it predicts `token` (the
   * playground's inside panel); the context as for ngramTrace, read in the window the token's p
   * came from: for a generated token, `generated` is how many of `before` the generation was given
   * (a branch's continuation; 0 for a completion) and the window is generation's
   * (generationWindowStart); without it (a token of an echoed prompt), scoring's (windowStartFor).
   * `texts`: every token id the result names, as the hover shows it.
   */
  inside: {
    request: { prompt?: string; before: number[]; generated?: number; token: number; k: number };
    result: { inside: ModelInside; texts: Record<number, string> };
  };
  spanScores: { request: { ids: number[]; from: number; distAt: number }; result: { logProbs: Float64Array; distribution: Float64Array } };
  /** Frees what the model keeps of the last sequence it ran (its document closed). */
  forgetContext: { request: { generation?: boolean }; result: Record<never, never> };
  /** Runs a context into the kept cache, giving way to every other request (LanguageModel.warmContext). */
  warmContext: { request: { ids: number[] }; result: WarmResult };
  /**
   * `held`: a generation that steps from the host runs until as many requests with `held: false`
   * have come (LanguageModel.holdForGeneration); its steps and forgets say `generation: true`.
   */
  holdForGeneration: { request: { held: boolean }; result: Record<never, never> };
  dispose: { request: Record<never, never>; result: Record<never, never> };
}

export type EngineOp = keyof EngineOps;

/** A request of operation K, without its id (what a caller gives). */
export type OpRequest<K extends EngineOp = EngineOp> = { [P in K]: { op: P } & EngineOps[P]['request'] }[K];
export type OpResult<K extends EngineOp> = EngineOps[K]['result'];

export type EngineRequest = ({ id: number } & OpRequest) | { id: number; op: 'cancel'; target: number };

/** The result of a request, tagged with its operation. */
export type EngineResult = { [K in EngineOp]: { id: number; ok: true; op: K; result: OpResult<K> } }[EngineOp];

/** Why a request failed: cancelled, a model file at fault (ModelFormatError), or any other error. */
export type FailureReason = 'cancelled' | 'format' | 'error';

export type EngineResponse =
  EngineResult | { id: number; ok: true; op: 'generate'; partial: GeneratePartial } | { id: number; ok: false; error: string; reason: FailureReason };
