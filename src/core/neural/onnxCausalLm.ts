/**
 * A decoder-only transformer exported to ONNX in the Hugging Face layouts (GPT-2, Llama, Mistral,
 * Qwen, Phi-3, Gemma, GPT-NeoX … as onnx-community and Xenova publish them), run by an injected
 * onnxruntime (onnxruntime-node, or onnxruntime-web with WASM or WebGPU: the same
 * onnxruntime-common API), with a KV cache: a prompt is prefilled once, then one token per step.
 * What the graph takes (position ids, a float16 cache, num_logits_to_keep) is read from its
 * metadata (graphInputs.ts).
 */
import { ModelQueue } from '../modelQueue';
import type { BackendCapabilities } from '../backends/capabilities';
import { chooseLane, LaneChooser, SIDE_LANE_TOKENS, type Lane, type LaneCost } from '../cacheLanes';
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { ModelFormatError, throwIfCancelled, type CancelSignal } from '../errors';
import type { GenerationHold, LanguageModel, ModelInfo, SequenceScores, SpanScores, Tokenizer, WarmResult } from '../model';
import { nextWindowStart, windowKeep } from '../slidingWindow';
import { float16ToFloat32 } from './float16';
import { insideOutputNames, insideViews, readInsideOutputs, type InsideOutputs } from './insideOutputs';
import { logitLens, normEpsilon, type LensWeights } from '../inside/logitLens';
import { attentionRows, type ModelInside } from '../inside/modelInside';
import { readGraphSignature, type GraphSignature } from './graphInputs';
import { HuggingFaceTokenizer } from './hfTokenizer';
import { bytesSource, checkExternalDataSizes, ExternalDataLocationError, ExternalDataSizeError, externalDataFiles, NotOnnxError } from './onnxExternalData';
import { FLOAT16_DTYPES, type Dtype } from './onnxVariants';
import { specialTokens } from './specialTokens';
import { RuntimeLogSumExp } from './runtimeLogSumExp';
import { logSoftmaxOfLogits, logSumExpOfLogits } from '../logMath';
import { LfTokenizer } from '../tokenizers/lineBreaks';

/** The parts of an onnxruntime module this class uses. */
export interface OrtModule {
  Tensor: typeof Tensor;
  InferenceSession: { create(model: Uint8Array | string, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
}

export interface CausalLmConfig {
  modelType: string;
  vocabSize: number;
  contextLength: number;
  layers: number;
  kvHeads: number;
  headDim: number;
  /** The token a text starts with (specialTokens.ts). */
  bosId: number | undefined;
  /** Tokens that end a generation, the primary one first. */
  eosIds: number[];
  /** Why the tokenizer seems another model's (specialTokens.ts), shown as the model's warning. */
  tokenMismatch?: string;
}

/** An external data file of the graph: `path` is its location as the graph names it, `data` its bytes or (Node) its file's path. */
export interface ExternalDataInput {
  path: string;
  data: Uint8Array | string;
}

export interface CausalLmFiles {
  config: unknown;
  tokenizer: unknown;
  tokenizerConfig?: unknown;
  generationConfig?: unknown;
  /** The graph's bytes, or its path where the runtime reads files (onnxruntime-node maps its external data itself). */
  onnx: Uint8Array | string;
  /** Its external data files, for runtimes that are given the graph's bytes (onnxruntime-web). */
  externalData?: ExternalDataInput[];
  /** The precision variant the graph is, when known from its file name: shown in the UI and in errors. */
  dtype?: Dtype;
  /** For error messages. */
  onnxName?: string;
  configName?: string;
  tokenizerName?: string;
  generationConfigName?: string;
  tokenizerConfigName?: string;
}

export interface CausalLmOptions {
  name: string;
  /** e.g. 'cpu' (onnxruntime-node), 'wasm', 'webgpu'. */
  executionProviders?: InferenceSession.SessionOptions['executionProviders'];
  threads?: number;
  /** Shown in the UI, e.g. "native", "wasm", "webgpu". */
  device: string;
  /** Keep the KV cache where the execution provider computes it (GPU buffers on WebGPU). */
  keepCacheOnDevice?: boolean;
  /** Most tokens run at once (default PREFILL_CHUNK). */
  prefillChunk?: number;
  /** Largest KV cache a window may fill (default MAX_CACHE_BYTES). */
  maxCacheBytes?: number;
  /** Most tokens a warm-up runs at once (default WARM_CHUNK). */
  warmChunk?: number;
  /**
   * Scored rows' log-softmax computed by the runtime (runtimeLogSumExp.ts) rather than in
   * JavaScript: several times faster on onnxruntime-node's CPU provider, no faster on WASM
   * (docs/BENCHMARKS.md), so set where the model runs natively.
   */
  logSumExpOnRuntime?: boolean;
  /**
   * For a worker whose host holds the same tokenizer (and spells what the worker generates): the
   * model drops its tokenizer once the load's checks are done, and this reads tokenizer.json again
   * the first time one is asked for (top tokens, the inside panel, a long prompt's generation).
   * The tokenizer is most of a model's JavaScript heap (21 of 28 MB for a 49k vocabulary), which
   * every full collection marks, and decode steps start collections: without it the worker's
   * threads spend less CPU per token (docs/BENCHMARKS.md).
   */
  tokenizerOnDemand?: () => unknown;
}

/**
 * The KV cache one window of tokens may fill: the window is the model's declared context or, when
 * that cache would be larger, as many tokens as fit (Llama 3.2 1B declares 131,072 tokens, whose
 * float32 cache would take 8 GiB; it gets 8,192). Scoring slides windows as for any model.
 */
export const MAX_CACHE_BYTES = 512 * 2 ** 20;

/**
 * Longer runs of tokens go through the graph in chunks of this many, each after the cache of the
 * ones before: the attention's memory grows with chunk × context instead of context² (a window of
 * 8,192 tokens at once would need gigabytes), and the logits with the chunk.
 */
export const PREFILL_CHUNK = 512;

/**
 * Tokens a warm-up (`warmContext`) runs at once: a request that arrives meanwhile waits for one
 * such pass at most (on a model of SmolLM2-135M's shape with 1,000 tokens of cache, about a fifth
 * of a second on an idle 2-core machine), and passes this long cost little more per token than
 * longer ones.
 */
export const WARM_CHUNK = 64;

/** Sane ranges for config.json's sizes: far beyond any real model, small enough to refuse nonsense before it is used. */
export const CONFIG_LIMITS = {
  vocabSize: 10_000_000,
  contextLength: 10_000_000,
  layers: 1024,
  heads: 4096,
  hidden: 1 << 20,
} as const;

/** The first of `keys` present in the config, with its value. */
function field(config: Record<string, unknown>, keys: string[]): { key: string; value: unknown } | undefined {
  for (const key of keys) if (config[key] !== undefined && config[key] !== null) return { key, value: config[key] };
  return undefined;
}

export function parseCausalLmConfig(json: unknown, fileName = 'config.json'): CausalLmConfig {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new ModelFormatError('not a JSON object', fileName);
  const c = json as Record<string, unknown>;
  const fail = (message: string): never => {
    throw new ModelFormatError(message, fileName);
  };
  /** An integer in [min, max] from the first of `keys` present; `fallback` when none is and one is given. */
  const int = (keys: string[], min: number, max: number, why: string, fallback?: number): number => {
    const f = field(c, keys);
    if (!f) {
      if (fallback !== undefined) return fallback;
      return fail(`missing ${keys.join(' / ')}`);
    }
    if (typeof f.value !== 'number' || !Number.isInteger(f.value)) return fail(`${f.key} must be an integer, got ${JSON.stringify(f.value)}`);
    if (f.value < min || f.value > max) return fail(`${f.key} ${f.value} is out of range (${min} to ${max}${why ? `: ${why}` : ''})`);
    return f.value;
  };
  const modelType = typeof c.model_type === 'string' ? c.model_type : '';
  if (!modelType) fail('missing model_type');
  const L = CONFIG_LIMITS;
  const vocabSize = int(['vocab_size'], 1, L.vocabSize, '');
  const hidden = int(['n_embd', 'hidden_size', 'd_model'], 1, L.hidden, '');
  const heads = int(['n_head', 'num_attention_heads'], 1, L.heads, '');
  const kvHeads = int(['num_key_value_heads'], 1, heads, 'at most the attention heads', heads);
  if (heads % kvHeads !== 0) fail(`num_key_value_heads ${kvHeads} does not divide the ${heads} attention heads`);
  if (field(c, ['head_dim']) === undefined && hidden % heads !== 0) fail(`the hidden size ${hidden} is not a multiple of the ${heads} attention heads`);
  const headDim = int(['head_dim'], 1, hidden, '', hidden / heads);
  const tokens = specialTokens({ config: c, tokenizer: undefined }, vocabSize, { config: fileName, generationConfig: '' });
  return {
    modelType,
    vocabSize,
    // Scoring slides a window that keeps half of it as context: 2 tokens is the least that predicts one.
    contextLength: int(['n_positions', 'n_ctx', 'max_position_embeddings'], 2, L.contextLength, 'a window needs 2 tokens to predict one'),
    layers: int(['n_layer', 'num_hidden_layers'], 1, L.layers, ''),
    kvHeads,
    headDim,
    ...tokens,
  };
}

/** config.json's sizes, with the special tokens that generation_config.json, config.json and tokenizer_config.json declare. */
export function readCausalLmConfig(files: Omit<CausalLmFiles, 'onnx'>): CausalLmConfig {
  const configName = files.configName ?? 'config.json';
  const config = parseCausalLmConfig(files.config, configName);
  const tokens = specialTokens(files, config.vocabSize, {
    config: configName,
    generationConfig: files.generationConfigName ?? 'generation_config.json',
    tokenizerConfig: files.tokenizerConfigName,
    tokenizer: files.tokenizerName,
  });
  return { ...config, ...tokens };
}

/**
 * The graph's KV cache against config.json: as many layers (else feeds would be missing or
 * ignored), and the key/value heads and head size where the export fixed them (else the first run
 * fails with a shape error that names neither file).
 */
function checkAgainstConfig(graph: GraphSignature, config: CausalLmConfig, configName: string, onnxName: string): void {
  if (config.layers !== graph.layers) {
    throw new ModelFormatError(
      `n_layer / num_hidden_layers is ${config.layers} but the graph ${onnxName} has ${graph.layers} layers (past_key_values.0 to ${graph.layers - 1})`,
      configName,
    );
  }
  if (graph.cacheHeads !== undefined && graph.cacheHeads !== config.kvHeads) {
    throw new ModelFormatError(
      `the graph ${onnxName} caches ${graph.cacheHeads} key/value heads per layer but config.json says ${config.kvHeads} (num_key_value_heads, else the attention heads): they do not belong together`,
      configName,
    );
  }
  if (graph.cacheHeadDim !== undefined && graph.cacheHeadDim !== config.headDim) {
    throw new ModelFormatError(
      `the graph ${onnxName} has heads of size ${graph.cacheHeadDim} but config.json says ${config.headDim} (head_dim, else the hidden size over the attention heads): they do not belong together`,
      configName,
    );
  }
}

/**
 * The last sequence a lane ran (a hover's context, a heat-map's window, a generation so far): its
 * KV cache and what it computed, so that a request sharing a prefix with it (a hover further on in
 * the same document, the heat-map's next chunk, a hover after an edit near the end) runs only the
 * tokens after that prefix. Two per model (cacheLanes.ts): the main lane's, at most a window's cache
 * (`maxCacheBytes`), and the side lane's, at most SIDE_LANE_TOKENS of it, where a short request
 * far from the main one runs without throwing it away.
 */
interface Cache {
  /** Every token of the sequence (the window is ids[windowStart..]). */
  ids: number[];
  windowStart: number;
  past: Tensor[];
  /** The distribution after the last token. */
  last: LastRow;
  /** Token t's log-prob given the window before it, NaN where it was not computed (windowStart < t < ids.length). */
  logProbs: Float64Array;
  /** Token t's rank, 0 where it was not computed. */
  ranks: Int32Array;
  /** Left by another request beside a generation (holdForGeneration): the generation's runs count it as none. */
  besideGeneration?: boolean;
}

/** What `OnnxCausalLm.run` is asked for besides the distribution after the last token. */
interface RunRequest {
  /** Score tokens [scoresFrom, end): their log-probs (in the result's arrays, by token index). */
  scoresFrom?: number;
  ranks?: boolean;
  /** Each scored token's whole distribution (a row reused from call to call). */
  each?: (t: number, logProbs: Float64Array) => void;
  /** Run on the main lane: a warm-up that will grow past the side lane, which would otherwise move there later and run it all again. */
  mainLane?: boolean;
  /** A run of the generation that holds the model (holdForGeneration): the only runs that change the caches meanwhile. */
  generation?: boolean;
}

/**
 * A transformer on onnxruntime: whole distributions, a sequence scored in one forward pass, a
 * window of at most n_positions tokens; on any onnxruntime build (native or WASM in Node, WASM or
 * WebGPU in a browser).
 */
export const ONNX_CAPABILITIES: BackendCapabilities = {
  distribution: 'full',
  batchedScoring: true,
  context: 'window',
  placements: ['host', 'node-worker', 'webview-worker'],
  devices: ['native', 'wasm', 'webgpu'],
};

/**
 * Most tokens a request other than the generation's (a hover, the heat-map, the status bar's
 * number) runs while a generation holds the model; one that would run more waits for the
 * generation's end. Such a run delays the generation's next step by all of its length: hovers every
 * 1.5 s on contexts of 3,000 tokens made 3 × 24 int8 tokens take 82 s instead of 5 (drive51).
 */
const BESIDE_GENERATION_TOKENS = 64;

export class OnnxCausalLm implements LanguageModel {
  readonly info: ModelInfo;
  /** The tokenizer's <unk>: scoring counts it as out of vocabulary, as an n-gram model's. */
  readonly unkId: number | undefined;
  readonly unsampleableIds: readonly number[] = [];
  /** Each lane's last sequence (cacheLanes.ts). */
  private readonly caches: Record<'main' | 'side', Cache | undefined> = { main: undefined, side: undefined };
  /** Tokens the side lane holds: SIDE_LANE_TOKENS, or the window when it is smaller. */
  private readonly sideTokens: number;
  private lastLane: 'main' | 'side' = 'main';
  /** The lane of the last run of the generation that holds the model (holdForGeneration), since its last forget. */
  private generationLane: Lane | undefined;
  private readonly lanes = new LaneChooser();
  /** Tokens run through the graph, on each lane (the tests count what a request runs). */
  readonly evaluated = { main: 0, side: 0 };
  private readonly chunk: number;
  /** Tokens of context used: the declared context, or fewer when its cache would pass maxCacheBytes. */
  private readonly window: number;
  private readonly calls = new ModelQueue();
  private readonly warmChunk: number;
  private released: Promise<void> | undefined;
  /** Computes scored rows' log Σ exp when `logSumExpOnRuntime` asks for it and the runtime can. */
  private rowSums: RuntimeLogSumExp | undefined;
  /** The tokenizer while it is held (tokenizerOnDemand drops it after the load), and how to make it again. */
  private held: { file: HuggingFaceTokenizer; text: Tokenizer } | undefined;
  private remakeTokenizer: (() => HuggingFaceTokenizer) | undefined;
  /** The graph's outputs that show its inside (hidden states, attention, the lens's weights). */
  private readonly insideOutputs: InsideOutputs;
  /** The outputs an ordinary step reads: the others (the inside's) are left in the runtime. */
  private readonly stepOutputs: string[];
  /** The cache's inputs in the order of a past's tensors (layer by layer, key then value): named once, not at every step. */
  private readonly pastNames: string[];
  private lensWeights: LensWeights | undefined;

  private constructor(
    private readonly ort: OrtModule,
    private readonly session: InferenceSession,
    private readonly graph: GraphSignature,
    readonly config: CausalLmConfig,
    /** The tokenizer as the model's files define it. */
    fileTokenizer: HuggingFaceTokenizer,
    options: CausalLmOptions,
    dtype: Dtype | undefined,
    private readonly epsilon: number,
  ) {
    this.held = { file: fileTokenizer, text: new LfTokenizer(fileTokenizer) };
    this.insideOutputs = readInsideOutputs(session.outputNames, graph.layers);
    this.stepOutputs = ['logits', ...graph.presentNames.flatMap((n) => [n.key, n.value])];
    this.pastNames = Array.from({ length: 2 * config.layers }, (_, i) => `past_key_values.${i >> 1}.${i & 1 ? 'value' : 'key'}`);
    const views = insideViews(this.insideOutputs);
    this.unkId = fileTokenizer.unkId;
    this.chunk = Math.max(1, options.prefillChunk ?? PREFILL_CHUNK);
    this.warmChunk = Math.max(1, options.warmChunk ?? WARM_CHUNK);
    const bytesPerToken = config.layers * 2 * config.kvHeads * config.headDim * (graph.cacheType === 'float16' ? 2 : 4);
    this.window = Math.max(2, Math.min(config.contextLength, Math.floor((options.maxCacheBytes ?? MAX_CACHE_BYTES) / bytesPerToken)));
    this.sideTokens = Math.min(this.window, SIDE_LANE_TOKENS);
    const context = this.window < config.contextLength ? `${this.window} tokens (of ${config.contextLength}: the cache is capped)` : `${this.window} tokens`;
    const precision = dtype ? `, ${dtype}` : '';
    const missing = fileTokenizer.missingByteTokens;
    // Said where the model is described (status bar tooltip, log): these characters score as <unk>.
    const bytes = missing.length
      ? `; its byte fallback lacks ${missing.length} of the 256 byte tokens (${missing
          .slice(0, 4)
          .map((b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`)
          .join(', ')}${missing.length > 4 ? ', …' : ''}): characters needing them are <unk>, counted out of vocabulary`
      : '';
    this.info = {
      name: options.name,
      backend: 'onnx',
      capabilities: views.length ? { ...ONNX_CAPABILITIES, inside: views } : ONNX_CAPABILITIES,
      description: `${config.modelType} transformer, ${config.layers} layers, context ${context}, vocabulary ${config.vocabSize}${precision}, on ${options.device}${bytes}`,
      contextLength: this.window,
      device: options.device,
      ...(dtype ? { precision: dtype } : {}),
      ...(config.tokenMismatch ? { warning: config.tokenMismatch } : {}),
    };
  }

  static async create(ort: OrtModule, files: CausalLmFiles, options: CausalLmOptions): Promise<OnnxCausalLm> {
    const configName = files.configName ?? 'config.json';
    const tokenizerName = files.tokenizerName ?? 'tokenizer.json';
    const config = readCausalLmConfig(files);
    const tokenizer = new HuggingFaceTokenizer(files.tokenizer, files.tokenizerConfig, config.bosId, tokenizerName);
    const onnxName = files.onnxName ?? 'model.onnx';
    checkGivenExternalData(files, onnxName);
    let session: InferenceSession;
    try {
      // disable_quant_qdq: native onnxruntime would fuse an int8 graph's DequantizeLinear → MatMul
      // into a kernel that also quantizes the activations (0.04 nats apart over 12 tokens);
      // onnxruntime-web does not. Without the fusion every runtime multiplies the dequantized
      // weights, and the embedded int8 model gives the same numbers natively, on WASM and on WebGPU.
      const sessionOptions: InferenceSession.SessionOptions = {
        executionProviders: options.executionProviders,
        graphOptimizationLevel: 'all',
        extra: { session: { disable_quant_qdq: '1' } },
      };
      if (options.threads) sessionOptions.intraOpNumThreads = options.threads;
      if (files.externalData?.length) sessionOptions.externalData = files.externalData;
      if (options.keepCacheOnDevice) {
        // Logits come back to the CPU for sampling; the cache stays on the GPU between steps.
        // Both output namings are listed: the runtime ignores names the graph does not have.
        const where: Record<string, 'cpu' | 'gpu-buffer'> = { logits: 'cpu' };
        for (let l = 0; l < config.layers; l++) {
          for (const part of ['key', 'value']) where[`present.${l}.${part}`] = where[`present_key_values.${l}.${part}`] = 'gpu-buffer';
        }
        sessionOptions.preferredOutputLocation = where;
      }
      session = await ort.InferenceSession.create(files.onnx, sessionOptions);
    } catch (e) {
      throw new ModelFormatError(`onnxruntime cannot load it: ${(e as Error).message.split('\n')[0]}${float16Hint(files.dtype, options.device)}`, onnxName);
    }
    let lm: OnnxCausalLm;
    try {
      const graph = readGraphSignature(session, onnxName);
      checkAgainstConfig(graph, config, configName, onnxName);
      lm = new OnnxCausalLm(ort, session, graph, config, tokenizer, options, files.dtype, normEpsilon(files.config));
    } catch (e) {
      await session.release();
      throw e;
    }
    // The graph's logits first: a vocab_size in config.json that they contradict is config.json's fault, not the tokenizer's.
    await lm.checkShapes(onnxName, configName, files.dtype, options.device);
    try {
      if (tokenizer.vocabSize > config.vocabSize) {
        throw new ModelFormatError(
          `the tokenizer has ${tokenizer.vocabSize} tokens but the model only ${config.vocabSize}: they do not belong together`,
          tokenizerName,
        );
      }
      tokenizer.checkAgainstGraph(config.vocabSize);
    } catch (e) {
      await session.release();
      throw e;
    }
    if (options.logSumExpOnRuntime) lm.rowSums = await RuntimeLogSumExp.create(ort, options);
    if (options.tokenizerOnDemand) {
      lm.remakeTokenizer = tokenizerMaker(options.tokenizerOnDemand, files.tokenizerConfig, config.bosId, tokenizerName);
      lm.held = undefined;
    }
    return lm;
  }

  /** The document's line breaks are given to the model as the LF it was trained on. */
  get tokenizer(): Tokenizer {
    return this.tokenizers().text;
  }

  /** The tokenizer as the model's files define it (without the LF reading of line breaks). */
  get fileTokenizer(): HuggingFaceTokenizer {
    return this.tokenizers().file;
  }

  private tokenizers(): { file: HuggingFaceTokenizer; text: Tokenizer } {
    if (!this.held) {
      const file = this.remakeTokenizer!();
      this.held = { file, text: new LfTokenizer(file) };
    }
    return this.held;
  }

  /** Whether the tokenizer is in memory (a model loaded with tokenizerOnDemand holds it only once it was asked for). */
  get holdsTokenizer(): boolean {
    return this.held !== undefined;
  }

  /** Whether the tokenizer is made when first read (tokenizerOnDemand): generation here should not read it. */
  get tokenizerOnDemand(): boolean {
    return this.remakeTokenizer !== undefined;
  }

  /** One forward pass on a single token catches a graph whose shapes do not match config.json. */
  private async checkShapes(onnxName: string, configName: string, dtype: Dtype | undefined, device: string): Promise<void> {
    try {
      const { vocab } = await this.forward([this.config.bosId ?? 0], 0, this.emptyPast(), 1);
      if (vocab !== this.config.vocabSize) {
        throw new Error(`logits have ${vocab} entries per token but config.json says vocab_size ${this.config.vocabSize}`);
      }
    } catch (e) {
      await this.session.release();
      throw new ModelFormatError(
        `the graph does not run with the shapes in config.json: ${(e as Error).message.split('\n')[0]}${float16Hint(dtype, device)}`,
        onnxName,
      );
    }
    if (!this.graph.hasPositionIds) return;
    // The last position of the window: a position table shorter than n_positions fails here, not on a long text.
    try {
      await this.forward([this.config.bosId ?? 0], 0, this.emptyPast(), 1, this.config.contextLength - 1);
    } catch {
      await this.session.release();
      throw new ModelFormatError(
        `n_positions ${this.config.contextLength} is larger than the graph's position table (${onnxName} fails at position ${this.config.contextLength - 1})`,
        configName,
      );
    }
  }

  get vocabSize(): number {
    return this.config.vocabSize;
  }
  get bosId(): number | undefined {
    return this.config.bosId;
  }
  get eosId(): number | undefined {
    return this.config.eosIds[0];
  }
  get eosIds(): readonly number[] {
    return this.config.eosIds;
  }

  private emptyPast(): Tensor[] {
    const { layers, kvHeads, headDim } = this.config;
    const out: Tensor[] = [];
    for (let i = 0; i < 2 * layers; i++) {
      out.push(
        this.graph.cacheType === 'float16'
          ? new this.ort.Tensor('float16', new Uint16Array(0), [1, kvHeads, 0, headDim])
          : new this.ort.Tensor('float32', new Float32Array(0), [1, kvHeads, 0, headDim]),
      );
    }
    return out;
  }

  /**
   * Runs `ids` after `pastLength` cached positions and returns the logits of the last `keep`
   * tokens (rows of `vocab` float32 values: all `keep` of them when the graph has
   * num_logits_to_keep, else all of `ids`; `firstRow` is the token the first row belongs to) and
   * the new cache.
   */
  private async forward(
    ids: readonly number[],
    pastLength: number,
    past: Tensor[],
    keep: number,
    firstPosition = pastLength,
    extraOutputs: readonly string[] = [],
  ): Promise<{ logits: Float32Array; vocab: number; firstRow: number; present: Tensor[]; outputs: InferenceSession.ReturnType }> {
    const T = ids.length;
    const feeds: Record<string, Tensor> = {
      input_ids: new this.ort.Tensor(
        'int64',
        BigInt64Array.from(ids, (i) => BigInt(i)),
        [1, T],
      ),
      attention_mask: new this.ort.Tensor('int64', new BigInt64Array(pastLength + T).fill(1n), [1, pastLength + T]),
    };
    if (this.graph.hasPositionIds) {
      feeds.position_ids = new this.ort.Tensor(
        'int64',
        BigInt64Array.from({ length: T }, (_, i) => BigInt(firstPosition + i)),
        [1, T],
      );
    }
    if (this.graph.logitsToKeep) feeds[this.graph.logitsToKeep] = new this.ort.Tensor('int64', BigInt64Array.of(BigInt(keep)), []);
    if (this.graph.hasUseCacheBranch) feeds.use_cache_branch = new this.ort.Tensor('bool', [pastLength > 0], [1]);
    for (let i = 0; i < this.pastNames.length; i++) feeds[this.pastNames[i]] = past[i];
    const out = await this.session.run(feeds, extraOutputs.length ? [...this.stepOutputs, ...extraOutputs] : this.stepOutputs);
    const present: Tensor[] = [];
    for (const names of this.graph.presentNames) present.push(out[names.key], out[names.value]);
    const logits = out.logits as Tensor;
    const rows = logits.dims[1];
    const data = logits.type === 'float16' ? float16ToFloat32(logits.data as Uint16Array) : (logits.data as Float32Array);
    return { logits: data, vocab: logits.dims[2], firstRow: T - rows, present, outputs: out };
  }

  /**
   * Runs `ids` after `pastLength` cached positions (`past`, which stays the caller's) chunk by
   * chunk, and hands `rows` the logits of the tokens from `ids[needFrom]` on: `rows(logits, k)`
   * gets rows of `vocab` values, the first for `ids[k]`. Returns the cache after all of `ids`.
   */
  private async prefill(
    ids: readonly number[],
    pastLength: number,
    past: Tensor[],
    needFrom: number,
    rows: (logits: Float32Array, first: number) => void | Promise<void>,
  ): Promise<Tensor[]> {
    let cache = past;
    for (let a = 0; a < ids.length; a += this.chunk) {
      const b = Math.min(a + this.chunk, ids.length);
      // At least one row: num_logits_to_keep 0 would mean all of them.
      const keep = Math.max(1, b - Math.max(a, needFrom));
      const out = await this.forward(ids.slice(a, b), pastLength + a, cache, keep);
      if (cache !== past) for (const t of cache) disposeTensor(t);
      cache = out.present;
      if (b > needFrom) await rows(out.logits, a + out.firstRow);
    }
    return cache;
  }

  /**
   * Runs the window ids[windowStart..) after the longest prefix it shares with the cache (the same
   * window start, the same tokens), whose keys and values are kept, and returns the distribution
   * after its last token and, as `request` asks, its tokens' scores (arrays indexed by token,
   * cached ones included), on the lane where that costs least (cacheLanes.ts). The run becomes the
   * lane's cache, unless it is a prefix of the cache's sequence (a hover on an earlier word): the
   * longer one stays. Every number is the one a run from the window's start gives: a token's row
   * depends only on the tokens before it, whichever lane ran it.
   */
  private async run(ids: readonly number[], windowStart: number, request: RunRequest): Promise<{ last: LastRow; logProbs: Float64Array; ranks: Int32Array }> {
    const end = ids.length;
    const V = this.config.vocabSize;
    // While a generation holds the model (holdForGeneration), its runs go as if no other request
    // ran beside them (a hover, the heat-map): those run on the lane the generation does not use,
    // once it uses one, or else without keeping a cache, and the generation's runs count what they
    // left as nothing. So its next step runs on what its last one left and gets the same numbers.
    const held = this.calls.held;
    const own = !held || request.generation === true;
    const seen = (cache: Cache | undefined) => (held && own && cache?.besideGeneration ? undefined : cache);
    const side = !request.mainLane && end - windowStart <= this.sideTokens ? this.laneCost(seen(this.caches.side), ids, windowStart) : undefined;
    const main = this.laneCost(seen(this.caches.main), ids, windowStart);
    const free: Lane | undefined = this.generationLane === 'main' ? (side ? 'side' : undefined) : this.generationLane === 'side' ? 'main' : undefined;
    let lane: Lane;
    if (own) lane = this.lanes.choose(ids, main, side);
    else if (!free) lane = chooseLane(main, side);
    else {
      // The free lane, where the run keeps its cache, unless the generation's runs fewer tokens (a
      // hover in the generation's prompt), without keeping one there.
      const taken: Lane = free === 'main' ? 'side' : 'main';
      const cost = { main, side };
      lane = cost[free] && !(cost[taken] && cost[taken].run < cost[free].run) ? free : taken;
    }
    const keepsCache = own || lane === free;
    const c = seen(this.caches[lane]);
    const replaced = this.caches[lane];
    if (own) {
      if (c && (lane === 'main' ? main : side!).lost > 0) this.lanes.threwAway(c.ids);
      this.lastLane = lane;
      if (held) this.generationLane = lane;
    }
    const shared = c && c.windowStart === windowStart ? sharedPrefix(ids, c.ids, end) : 0;
    const logProbs = new Float64Array(end).fill(NaN);
    const ranks = new Int32Array(end);
    // Scores the cache has with this context: those of the shared tokens (the one after them comes from its last distribution).
    const known = (t: number): boolean => !request.each && t < shared && !Number.isNaN(c!.logProbs[t]) && (!request.ranks || c!.ranks[t] > 0);
    let scoresFrom = request.scoresFrom ?? end;
    for (; scoresFrom < end && known(scoresFrom); scoresFrom++) {
      logProbs[scoresFrom] = c!.logProbs[scoresFrom];
      ranks[scoresFrom] = c!.ranks[scoresFrom];
    }
    // Nothing to run: the cache is this sequence, and has the scores asked for.
    if (c && shared === c.ids.length && shared === end && scoresFrom === end) return { last: c.last, logProbs, ranks };
    // Rows needed: those predicting tokens [scoresFrom, end), and the last one.
    let rowsFrom = Math.min(scoresFrom - 1, end - 1);
    const scoredFrom = request.scoresFrom ?? end;
    // `lse`: the row's log Σ exp (0 for a row of log-probs), computed here when not given.
    const score = (t: number, row: Float64Array | Float32Array, offset: number, lse: number | undefined): void => {
      if (t < scoredFrom || t >= end) return;
      logProbs[t] = row[offset + ids[t]] - (lse ?? logSumExpOfLogits(row as Float32Array, offset, V));
      if (request.ranks) ranks[t] = rankAt(row, offset, V, ids[t]);
    };
    // The cache's last distribution is the row of its last token: a sequence that goes on from it starts there.
    if (c && shared === c.ids.length && rowsFrom === shared - 1) {
      score(shared, c.last.logProbs(), 0, 0);
      request.each?.(shared, c.last.logProbs());
      rowsFrom = shared;
    }
    let keep = Math.min(shared, rowsFrom);
    let past: Tensor[];
    if (!c || keep <= windowStart) {
      keep = windowStart;
      past = this.emptyPast();
    } else if (keep === c.ids.length) past = c.past;
    else if (c.past.some((t) => t.location === 'gpu-buffer')) {
      // A cache on the GPU is not cut on the CPU: the window runs from its start.
      keep = windowStart;
      past = this.emptyPast();
    } else past = c.past.map((t) => this.cachePrefix(t, keep - windowStart));
    const fresh = ids.slice(keep);
    this.evaluated[lane] += fresh.length;
    let last = new LastRow(new Float32Array(0));
    let row: Float64Array = new Float64Array(request.each ? V : 0);
    let sums = new Float64Array(0);
    const present = await this.prefill(fresh, keep - windowStart, past, rowsFrom - keep, async (logits, first) => {
      const rows = logits.length / V;
      // The pass's scored rows, [r0, r1): row r predicts token keep + first + r + 1.
      const r0 = Math.max(0, rowsFrom - keep - first, scoredFrom - 1 - keep - first);
      const r1 = Math.min(rows, end - 1 - keep - first);
      const onRuntime = this.rowSums?.worthRunning(r1 - r0, V) === true;
      if (onRuntime) {
        if (sums.length < r1 - r0) sums = new Float64Array(r1 - r0);
        await this.rowSums!.rows(logits, V, r0, r1 - r0, sums);
      }
      for (let r = 0; r < rows; r++) {
        const i = keep + first + r;
        if (i < rowsFrom) continue;
        const lse = onRuntime && r >= r0 && r < r1 ? sums[r - r0] : undefined;
        score(i + 1, logits, r * V, lse);
        // One row at a time, reused: nothing per token outlives the call.
        if (request.each && i + 1 >= scoredFrom && i + 1 < end) request.each(i + 1, (row = logSoftmaxOfLogits(logits, r * V, V, row, lse)));
        // Its log-softmax is computed when asked for: a decode step writes it into the caller's row (nextLogProbsInto).
        if (i === end - 1) {
          const lastLogits = rows === 1 ? logits : logits.slice(r * V, (r + 1) * V);
          last = new LastRow(lastLogits, lse ?? (await this.lastRowSum(lastLogits)));
        }
      }
    });
    if (past !== c?.past) for (const t of past) disposeTensor(t);
    if (!keepsCache || (c && shared === end && end < c.ids.length)) {
      // A prefix of the cached sequence (the longer one stays), or a run beside a generation.
      for (const t of present) disposeTensor(t);
      return { last, logProbs, ranks };
    }
    // The previous cache is superseded (its tensors were this run's input or copied from): free GPU buffers.
    if (replaced) for (const t of replaced.past) disposeTensor(t);
    const kept = c ? Math.min(keep, shared) : 0;
    const cached = { logProbs: new Float64Array(end).fill(NaN), ranks: new Int32Array(end) };
    if (c) {
      cached.logProbs.set(c.logProbs.subarray(0, kept));
      cached.ranks.set(c.ranks.subarray(0, kept));
    }
    for (let t = Math.max(kept, windowStart + 1); t < end; t++) {
      if (!Number.isNaN(logProbs[t])) {
        cached.logProbs[t] = logProbs[t];
        cached.ranks[t] = ranks[t];
      }
    }
    this.caches[lane] = { ids: ids.slice(), windowStart, past: present, last, ...cached, ...(own ? {} : { besideGeneration: true }) };
    return { last, logProbs, ranks };
  }

  /** What running ids[windowStart..) on a lane whose last sequence is `c` costs, in tokens (as `run` keeps and replaces caches). */
  private laneCost(c: Cache | undefined, ids: readonly number[], windowStart: number): LaneCost {
    if (!c) return { run: ids.length - windowStart, lost: 0 };
    const from = c.windowStart === windowStart ? Math.max(windowStart, sharedPrefix(ids, c.ids, ids.length)) : windowStart;
    // A prefix of the cached sequence leaves it in place.
    if (from === ids.length && ids.length < c.ids.length) return { run: 1, lost: 0 };
    return { run: ids.length - from, lost: c.ids.length - c.windowStart - (c.windowStart === windowStart ? from - windowStart : 0) };
  }

  /** The first `length` positions of a [1, heads, positions, head size] cache tensor, copied. */
  private cachePrefix(t: Tensor, length: number): Tensor {
    const [batch, heads, positions, size] = t.dims;
    const data = t.data as Float32Array | Uint16Array;
    const out = new (data.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(batch * heads * length * size);
    for (let h = 0; h < batch * heads; h++) out.set(data.subarray(h * positions * size, (h * positions + length) * size), h * length * size);
    return new this.ort.Tensor(t.type as 'float32', out as Float32Array, [batch, heads, length, size]);
  }

  private dropCaches(): void {
    for (const lane of ['main', 'side'] as const) {
      for (const t of this.caches[lane]?.past ?? []) disposeTensor(t);
      this.caches[lane] = undefined;
    }
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.calls.run(fn);
  }

  async warmContext(ids: readonly number[], signal?: CancelSignal): Promise<WarmResult> {
    // At most a window, from its start: what a hover's context (a window's tokens) shares with it.
    const target = ids.slice(0, this.window);
    const mainLane = target.length > this.sideTokens;
    const held = (c: Cache | undefined) => (c && c.windowStart === 0 ? sharedPrefix(target, c.ids, target.length) : 0);
    let cached = 0;
    let gaveUp = false;
    const yielded = await this.calls.inPasses(
      async () => {
        // Read again at every pass: the requests it gave way to may have changed the caches.
        const before = cached;
        cached = Math.max(held(this.caches.main), mainLane ? 0 : held(this.caches.side));
        if (cached >= target.length) return true;
        // A request it gave way to took what it had cached (WarmResult.gaveUp).
        if (cached < before) return (gaveUp = true);
        const end = Math.min(target.length, cached + this.warmChunk);
        await this.run(target.slice(0, end), 0, { mainLane });
        cached = end;
        return cached >= target.length;
      },
      () => !!signal?.cancelled || !!this.released,
    );
    return gaveUp ? { cached, yielded, gaveUp } : { cached, yielded };
  }

  nextLogProbs(context: readonly number[], signal?: CancelSignal, generation = false): Promise<Float64Array> {
    const run = () => this.exclusive(async () => (await this.runNext(context, signal, generation)).logProbs());
    return !generation && this.calls.held ? this.besideGeneration(context, signal).then(run) : run();
  }

  nextLogProbsInto(context: readonly number[], out: Float64Array, signal?: CancelSignal, generation = false): Promise<void> {
    if (out.length !== this.config.vocabSize)
      return Promise.reject(new Error(`nextLogProbsInto: the row has ${out.length} entries, the vocabulary ${this.config.vocabSize}`));
    const run = () => this.exclusive(async () => void (await this.runNext(context, signal, generation)).logProbsInto(out));
    return !generation && this.calls.held ? this.besideGeneration(context, signal).then(run) : run();
  }

  /**
   * While a generation holds the model (holdForGeneration), waits for its end unless `ids` would
   * run at most BESIDE_GENERATION_TOKENS (undefined: a request that runs its whole context). Called
   * only while held: a request otherwise reaches `exclusive` at once, ahead of a warm-up's next pass.
   */
  private async besideGeneration(ids: readonly number[] | undefined, signal?: CancelSignal): Promise<void> {
    if (!this.calls.held || (ids && this.tokensToRun(ids) <= BESIDE_GENERATION_TOKENS)) return;
    await this.calls.whileHeld(() => !!signal?.cancelled || !!this.released);
  }

  /** About the tokens a run of `ids` takes: those after the longest prefix a lane's cache shares with it (window starts left out). */
  private tokensToRun(ids: readonly number[]): number {
    let least = ids.length;
    for (const c of [this.caches.main, this.caches.side]) if (c) least = Math.min(least, ids.length - sharedPrefix(ids, c.ids, ids.length));
    return least;
  }

  /**
   * log Σ exp of a run's last row, where the runtime computes it (rowSums): every decode step needs
   * it, and on onnxruntime-node a row of 49,152 costs 0.04 ms there against 0.27 ms in JavaScript
   * (docs/BENCHMARKS.md). Undefined: LastRow computes it.
   */
  private async lastRowSum(row: Float32Array): Promise<number | undefined> {
    if (!this.rowSums?.worthRunning(1, row.length)) return undefined;
    const sum = new Float64Array(1);
    await this.rowSums.rows(row, row.length, 0, 1, sum);
    return sum[0];
  }

  /** The distribution after `context`, in the window its steps share. */
  private async runNext(context: readonly number[], signal?: CancelSignal, generation = false): Promise<LastRow> {
    throwIfCancelled(signal);
    if (context.length === 0) throw new Error('a neural model needs at least one context token');
    const max = this.window;
    // A context that fits the cached window of the last run keeps its start; a longer one restarts
    // at half a window, so that later steps reuse it. (The last run's lane only: the window chosen,
    // hence the numbers, are those of the one cache the model had before it had two.)
    const c = this.caches[this.lastLane];
    const windowStart =
      c && context.length - c.windowStart <= max && c.windowStart < context.length && sharedPrefix(context, c.ids, context.length) > c.windowStart
        ? c.windowStart
        : context.length <= max
          ? 0
          : nextWindowStart(context.length, max);
    return (await this.run(context, windowStart, { generation })).last;
  }

  async spanScores(ids: readonly number[], from: number, distAt: number, signal?: CancelSignal): Promise<SpanScores> {
    if (distAt < from || distAt >= ids.length) throw new Error(`spanScores: distAt ${distAt} is outside the span [${from}, ${ids.length})`);
    let distribution = new Float64Array(0);
    const logProbs = await this.sequenceDistributions(
      ids,
      from,
      (i, row) => {
        if (i === distAt - from) distribution = row.slice();
      },
      signal,
    );
    return { logProbs, distribution };
  }

  forgetContext(generation = false): Promise<void> {
    // Another request's (a document closed) is left undone while a generation holds the caches: they
    // are its, and its next forget or the next eviction frees them.
    return this.exclusive(async () => {
      if (this.calls.held && !generation) return;
      this.dropCaches();
      this.generationLane = undefined;
    });
  }

  async holdForGeneration(): Promise<GenerationHold> {
    const release = this.calls.hold();
    return {
      nextLogProbs: (context, signal) => this.nextLogProbs(context, signal, true),
      nextLogProbsInto: (context, out, signal) => this.nextLogProbsInto(context, out, signal, true),
      forgetContext: () => this.forgetContext(true),
      release: () => {
        release();
        if (this.calls.held) return;
        // What other requests left beside the generation is a cache like any other now.
        this.generationLane = undefined;
        for (const c of [this.caches.main, this.caches.side]) if (c) delete c.besideGeneration;
      },
    };
  }

  async sequenceLogProbs(ids: readonly number[], from: number, signal?: CancelSignal): Promise<Float64Array> {
    return (await this.scoreWindows(ids, from, false, signal)).logProbs;
  }

  sequenceScores(ids: readonly number[], from: number, signal?: CancelSignal): Promise<SequenceScores> {
    return this.scoreWindows(ids, from, true, signal);
  }

  async sequenceDistributions(
    ids: readonly number[],
    from: number,
    each: (index: number, logProbs: Float64Array) => void,
    signal?: CancelSignal,
  ): Promise<Float64Array> {
    return (await this.scoreWindows(ids, from, false, signal, each)).logProbs;
  }

  /**
   * Scores tokens [from, n) in windows of the model's context: overlapping, so that every token
   * keeps at least half a window of context; the first window starts half a window before `from`.
   */
  private scoreWindows(
    ids: readonly number[],
    from: number,
    withRanks: boolean,
    signal?: CancelSignal,
    each?: (index: number, logProbs: Float64Array) => void,
  ): Promise<SequenceScores> {
    const run = () =>
      this.exclusive(async () => {
        const n = ids.length;
        const logProbs = new Float64Array(Math.max(0, n - from));
        const ranks = new Int32Array(withRanks ? logProbs.length : 0);
        const max = this.window;
        let start = Math.max(0, Math.min(from - windowKeep(max), n - max));
        let scored = Math.max(from, 1);
        while (scored < n) {
          throwIfCancelled(signal);
          const end = Math.min(start + max, n);
          const first = Math.max(scored, start + 1);
          const window = await this.run(ids.slice(0, end), start, { scoresFrom: first, ranks: withRanks, each: each && ((t, row) => each(t - from, row)) });
          for (let t = first; t < end; t++) {
            logProbs[t - from] = window.logProbs[t];
            if (withRanks) ranks[t - from] = window.ranks[t];
          }
          scored = end;
          start = Math.max(start + 1, nextWindowStart(end, max));
        }
        return { logProbs, ranks };
      });
    return this.calls.held ? this.besideGeneration(ids, signal).then(run) : run();
  }

  inside(context: readonly number[], actual: number, k: number, signal?: CancelSignal): Promise<ModelInside> {
    if (this.calls.held) return this.besideGeneration(undefined, signal).then(() => this.insideNow(context, actual, k, signal));
    return this.insideNow(context, actual, k, signal);
  }

  private insideNow(context: readonly number[], actual: number, k: number, signal?: CancelSignal): Promise<ModelInside> {
    return this.exclusive(async () => {
      throwIfCancelled(signal);
      if (context.length === 0) throw new Error('a neural model needs at least one context token');
      const o = this.insideOutputs;
      if (!o.hiddenStates && !o.attentions) {
        throw new Error(
          `${this.info.name}'s graph returns neither hidden states nor attention probabilities: export it with hidden_states.N and attentions.N outputs (README, "Inside the model")`,
        );
      }
      const ids = context.slice(Math.max(0, context.length - this.window));
      const T = ids.length;
      const wantWeights =
        o.hiddenStates && o.lensWeights && !this.lensWeights ? insideOutputNames({ ...o, hiddenStates: undefined, attentions: undefined }) : [];
      const extra = [...(o.lensWeights ? (o.hiddenStates ?? []) : []), ...(o.attentions ?? []), ...wantWeights];
      const { present, outputs } = await this.forward(ids, 0, this.emptyPast(), 1, 0, extra);
      for (const t of present) disposeTensor(t);
      const result: ModelInside = { ids, dropped: context.length - T, actual };
      if (wantWeights.length) this.lensWeights = this.readLensWeights(outputs);
      if (o.hiddenStates && this.lensWeights) {
        const d = this.lensWeights.d;
        const rows = o.hiddenStates.map((name) => floatData(outputs[name]).subarray((T - 1) * d, T * d));
        result.lens = logitLens(rows, this.lensWeights, actual, k);
      }
      if (o.attentions) {
        result.attention = o.attentions.map((name) => {
          const t = outputs[name];
          const [, heads, queries, keys] = t.dims;
          return attentionRows(floatData(t), heads, queries, keys, queries - 1);
        });
      }
      return result;
    });
  }

  private readLensWeights(outputs: InferenceSession.ReturnType): LensWeights {
    const names = this.insideOutputs.lensWeights!;
    const u = outputs[names.unembedding];
    const [d, vocab] = u.dims;
    if (u.dims.length !== 2 || vocab !== this.config.vocabSize) {
      throw new ModelFormatError(`${names.unembedding} is [${u.dims.join(', ')}], not [hidden size, ${this.config.vocabSize}]`, 'the graph');
    }
    if (u.type === 'int8' && !names.unembeddingScale)
      throw new ModelFormatError(`${names.unembedding} is int8 but the graph returns no ${names.unembedding}.scale`, 'the graph');
    return {
      d,
      vocab,
      normWeight: floatData(outputs[names.normWeight]),
      ...(names.normBias ? { normBias: floatData(outputs[names.normBias]) } : {}),
      epsilon: this.epsilon,
      unembedding: u.type === 'int8' ? dequantize(u.data as Int8Array, floatData(outputs[names.unembeddingScale!]), vocab) : floatData(u),
    };
  }

  /** Waits for the run in progress (releasing a session inside a run can abort the process), then releases it. */
  dispose(): Promise<void> {
    // Once; callers may ignore the promise, so it never rejects (a failed release leaves nothing to do).
    this.released ??= this.exclusive(async () => {
      this.dropCaches();
      await this.session.release();
      await this.rowSums?.release();
    }).catch(() => undefined);
    return this.released;
  }
}

/**
 * External data given as bytes (a webview's runtime) against the tensors the graph reads from
 * them, before onnxruntime-web reads past an end or a forged offset (its own message names no
 * tensor). Data given as paths was checked where the files are (node/externalData.ts).
 */
function checkGivenExternalData(files: CausalLmFiles, onnxName: string): void {
  const given = files.externalData ?? [];
  if (typeof files.onnx === 'string' || given.length === 0 || given.some((d) => typeof d.data === 'string')) return;
  try {
    const needed = externalDataFiles(bytesSource(files.onnx));
    checkExternalDataSizes(needed, (location) => (given.find((d) => d.path === location)?.data as Uint8Array | undefined)?.length, onnxName);
  } catch (e) {
    if (e instanceof NotOnnxError) return; // onnxruntime says what is wrong with the graph
    if (e instanceof ExternalDataLocationError || e instanceof ExternalDataSizeError) throw new ModelFormatError(`${e.message}: refused`, onnxName);
    throw e;
  }
}

/** For a float16 variant that failed to load or run: the runtime may not compute float16. */
function float16Hint(dtype: Dtype | undefined, device: string): string {
  if (!dtype || !FLOAT16_DTYPES.includes(dtype)) return '';
  return `. This is a float16 graph (${dtype}), which ${device} may not run: set lmPlayground.dtype to fp32, q4 or int8 (auto picks one this runtime runs), or use a GPU with float16 support (WebGPU shader-f16)`;
}

/**
 * DequantizeLinear's float32 values of an int8 [d, vocab] matrix with one scale per column (zero
 * point 0): the weights the graph's own output layer multiplies.
 */
function dequantize(q: Int8Array, scale: Float32Array, vocab: number): Float32Array {
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = q[i] * scale[i % vocab];
  return out;
}

/** A float32 or float16 tensor's values as float32. */
function floatData(t: Tensor): Float32Array {
  return t.type === 'float16' ? float16ToFloat32(t.data as Uint16Array) : (t.data as Float32Array);
}

/** Frees a tensor's device memory where it has any (GPU-located tensors); CPU tensors need nothing. */
/**
 * Makes the tokenizer again from a fresh read of its file. A function of its own, so that the
 * closure holds the small tokenizer_config.json and not the files the load read (the parsed
 * tokenizer.json among them).
 */
function tokenizerMaker(read: () => unknown, tokenizerConfig: unknown, bosId: number | undefined, name: string): () => HuggingFaceTokenizer {
  return () => new HuggingFaceTokenizer(read(), tokenizerConfig, bosId, name);
}

function disposeTensor(t: Tensor): void {
  if (t.location === 'gpu-buffer') t.dispose();
}

/** How many of the first `limit` tokens of `a` equal `b`'s. */
function sharedPrefix(a: readonly number[], b: readonly number[], limit: number): number {
  const n = Math.min(limit, a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/**
 * The distribution after a sequence's last token: its logits, and their log-softmax, computed once
 * and only when asked for (a decode step writes it into its own row instead, allocating none).
 */
class LastRow {
  private computed: Float64Array | undefined;
  /** `lse`: the row's log Σ exp where the runtime computed it, as scored rows use it. */
  constructor(
    private readonly logits: Float32Array,
    private readonly lse?: number,
  ) {}
  /** The log-probs: the same array on every call (the cache's; callers do not change it). */
  logProbs(): Float64Array {
    return (this.computed ??= logSoftmaxOfLogits(this.logits, 0, this.logits.length, undefined, this.lse));
  }
  /** The same numbers written into `out`, whose length is the vocabulary's. */
  logProbsInto(out: Float64Array): void {
    if (this.computed) out.set(this.computed);
    else logSoftmaxOfLogits(this.logits, 0, this.logits.length, out, this.lse);
  }
}

/** 1 + entries of the row larger than the token's (the same order as the log-softmax). */
function rankAt(data: Float32Array | Float64Array, offset: number, V: number, token: number): number {
  const x = data[offset + token];
  let rank = 1;
  const end = offset + V;
  // Added, not branched on: a branch taken at random (a token of middling rank) cost 3× this loop.
  for (let i = offset; i < end; i++) rank += +(data[i] > x);
  return rank;
}
