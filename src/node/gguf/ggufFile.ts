/**
 * A GGUF file on the disk: its header (read synchronously, a few MiB at most: the host needs the
 * tokenizer at once), the facts Select Model shows, and opening it with llama.cpp.
 */
import * as fs from 'fs';
import { OPEN_READ_NO_WAIT } from '../fileErrors';
import * as os from 'os';
import * as path from 'path';
import { LmError, ModelFormatError } from '../../core/errors';
import { GgufMetadata, GgufNeedMoreBytes, ggufDataEnd, parseGgufHeader } from '../../core/gguf/ggufHeader';
import { ggufTokenizer, ggufTokenizerSummary, type GgufTokenizer } from '../../core/gguf/ggufTokenizer';
import { MAX_CACHE_BYTES } from '../../core/neural/onnxCausalLm';
import { HuggingFaceTokenizer } from '../../core/neural/hfTokenizer';
import type { Tokenizer } from '../../core/model';
import { LfTokenizer } from '../../core/tokenizers/lineBreaks';
import { describeFsError } from '../modelFileStream';
import type { ModelFacts } from '../modelSummary';
import { GgufLanguageModel, type GgufModelSetup } from './ggufLanguageModel';
import { getLlama, takeLlamaErrors } from './llamaRuntime';

/** Most bytes read for a header: a 256k-token vocabulary with its merges takes about 20 MiB. */
const MAX_HEADER_BYTES = 256 * 2 ** 20;

/**
 * Tokens per llama.cpp batch in the side lane's context (cacheLanes.ts): its logits and compute
 * buffers grow with batch × vocabulary (a 512-token batch: 100 MB of float32 logits for 49,152
 * tokens), and its requests are short. Scoring reads 64 positions per call at most.
 */
const SIDE_BATCH = 64;

/** Whether a file starts with GGUF's magic (Ollama's blobs have no .gguf name). */
export function hasGgufMagic(file: string): boolean {
  let fd: number | undefined;
  try {
    // A FIFO (or a device) would block this thread in open() until a writer comes: only regular files are read.
    if (!fs.statSync(file).isFile()) return false;
    fd = fs.openSync(file, OPEN_READ_NO_WAIT);
    const magic = Buffer.alloc(4);
    return fs.readSync(fd, magic, 0, 4, 0) === 4 && magic.toString('latin1') === 'GGUF';
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** The file's header, read in growing pieces until it ends. */
export function readGgufHeader(file: string): GgufMetadata {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (e) {
    throw new LmError(`cannot read model ${file}: ${describeFsError(e)}`);
  }
  if (!stat.isFile()) throw new ModelFormatError('not a regular file', file);
  let fd: number;
  try {
    fd = fs.openSync(file, OPEN_READ_NO_WAIT);
  } catch (e) {
    throw new LmError(`cannot read model ${file}: ${describeFsError(e)}`);
  }
  try {
    let size = Math.min(stat.size, 2 ** 20);
    for (;;) {
      const bytes = Buffer.alloc(size);
      const got = fs.readSync(fd, bytes, 0, size, 0);
      let header;
      try {
        header = parseGgufHeader(bytes.subarray(0, got), file);
      } catch (e) {
        if (!(e instanceof GgufNeedMoreBytes)) throw e;
        if (got < size || size >= stat.size) throw new ModelFormatError(`the file ends inside its header (${stat.size} bytes): it is cut`, file);
        if (e.needed > MAX_HEADER_BYTES) throw new ModelFormatError(`its header is larger than ${MAX_HEADER_BYTES / 2 ** 20} MiB`, file);
        size = Math.min(stat.size, Math.max(e.needed, 2 * size), MAX_HEADER_BYTES);
        continue;
      }
      // A file cut short (an interrupted download or copy): llama.cpp would only say that it failed to load.
      const data = ggufDataEnd(header);
      if (data && data.end > stat.size) {
        throw new ModelFormatError(
          `the file is cut: the data of its tensor ${data.tensor} ends at byte ${data.end.toLocaleString('en-US')}, but the file has ${stat.size.toLocaleString('en-US')} bytes (an interrupted download or copy?)`,
          file,
        );
      }
      return new GgufMetadata(header, file);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** The architecture's shape, from `<arch>.*` keys. */
export function ggufShape(meta: GgufMetadata) {
  const arch = meta.architecture;
  const layers = meta.int(`${arch}.block_count`);
  const hidden = meta.int(`${arch}.embedding_length`);
  const heads = meta.int(`${arch}.attention.head_count`, 1);
  const kvValue = meta.header.metadata.get(`${arch}.attention.head_count_kv`);
  // Some architectures give the KV heads per layer (an array).
  const kvHeadsTotal = Array.isArray(kvValue) ? kvValue.reduce<number>((a, b) => a + Number(b), 0) : (kvValue === undefined ? heads : Number(kvValue)) * layers;
  const keyLength = meta.int(`${arch}.attention.key_length`, Math.floor(hidden / heads));
  const valueLength = meta.int(`${arch}.attention.value_length`, keyLength);
  const declared = meta.int(`${arch}.context_length`, 2048);
  if (declared < 2) throw new ModelFormatError(`${arch}.context_length is ${declared}: a model reads at least 2 positions`, meta.file);
  // A float32 cache: keys and values of every layer's KV heads.
  const cacheBytesPerToken = kvHeadsTotal * (keyLength + valueLength) * 4;
  // A small declared context is the model's; only the cache's cap stops at 16 tokens at least.
  const window = Math.min(declared, Math.max(16, Math.floor(MAX_CACHE_BYTES / Math.max(1, cacheBytesPerToken))));
  return { arch, layers, hidden, declared, window };
}

/** Off only in the fault tests, which let llama.cpp really abort in the engine's process (engineProcess.ts). */
export const llamaAbortChecks = { enabled: true };

/**
 * Refuses header values on which llama.cpp aborts the process (a failed GGML_ASSERT, an uncaught
 * C++ exception) instead of returning an error: the editor's engine process survives none (it is
 * restarted, and gives up after a few), `lmp` neither, and the user learns more from a message
 * naming the key than from llama.cpp's assertion. Found by a hostile test: head counts of 0, a negative norm epsilon,
 * a SentencePiece vocabulary with neither a "<0x0A>" nor a "\n" piece (llama.cpp looks up the line
 * feed's token with map::at).
 */
export function refuseWhatLlamaAborts(meta: GgufMetadata): void {
  if (!llamaAbortChecks.enabled) return;
  const arch = meta.architecture;
  const fail = (message: string): never => {
    throw new ModelFormatError(`${message}: llama.cpp cannot run it`, meta.file);
  };
  const positive = (key: string) => {
    const v = meta.optionalInt(key);
    if (v !== undefined && v < 1) fail(`${key} is ${v}, not a positive count`);
  };
  const alignment = meta.header.metadata.get('general.alignment');
  if (alignment !== undefined) {
    const a = Number(alignment);
    // llama.cpp requires a power of two; node-llama-cpp's own header reader divides by it.
    if (!Number.isInteger(a) || a < 1 || (a & (a - 1)) !== 0) fail(`general.alignment is ${String(alignment)}, not a power of two`);
  }
  positive(`${arch}.block_count`);
  const layers = meta.optionalInt(`${arch}.block_count`);
  if (layers !== undefined && layers > LLAMA_MAX_LAYERS) fail(`${arch}.block_count is ${layers}, more than the ${LLAMA_MAX_LAYERS} layers llama.cpp allows`);
  positive(`${arch}.embedding_length`);
  positive(`${arch}.attention.head_count`);
  positive(`${arch}.attention.key_length`);
  positive(`${arch}.attention.value_length`);
  // Per-layer arrays may hold 0 (layers without attention or feed-forward in hybrid models), not only 0; a single count may not be 0.
  const perLayer = (key: string) => {
    const v = meta.header.metadata.get(key);
    if (!Array.isArray(v)) positive(key);
    else if (v.length > 0 && v.every((x) => Number(x) === 0)) fail(`${key} is 0 in every layer`);
  };
  perLayer(`${arch}.attention.head_count_kv`);
  const float = (key: string, ok: (v: number) => boolean, what: string) => {
    const v = meta.header.metadata.get(key);
    if (v === undefined) return;
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number' || !ok(n)) fail(`${key} is ${String(v)}, not ${what}`);
  };
  float(`${arch}.attention.layer_norm_rms_epsilon`, (v) => Number.isFinite(v) && v >= 0, 'a finite epsilon ≥ 0');
  float(`${arch}.attention.layer_norm_epsilon`, (v) => Number.isFinite(v) && v >= 0, 'a finite epsilon ≥ 0');
  float(`${arch}.rope.freq_base`, (v) => Number.isFinite(v) && v > 0, 'a finite base > 0');
  // A single width (arrays per layer may hold 0); an expert count within the experts there are.
  perLayer(`${arch}.feed_forward_length`);
  const used = meta.optionalInt(`${arch}.expert_used_count`) ?? 0;
  const experts = meta.optionalInt(`${arch}.expert_count`) ?? 0;
  if (used > experts) fail(`${arch}.expert_used_count is ${used}, more than its ${experts} experts (${arch}.expert_count)`);
  if (experts > 0 && used < 1) fail(`${arch}.expert_count is ${experts} but ${arch}.expert_used_count is ${used}: a mixture of experts that uses none`);
  const scaling = meta.header.metadata.get(`${arch}.rope.scaling.type`);
  if (scaling !== undefined && !ROPE_SCALING_TYPES.includes(scaling as string)) {
    fail(`${arch}.rope.scaling.type is ${JSON.stringify(scaling)}, not one of ${ROPE_SCALING_TYPES.join(', ')}`);
  }
  if (meta.string('tokenizer.ggml.model', undefined) === 'llama') {
    const tokens = meta.header.metadata.get('tokenizer.ggml.tokens');
    if (Array.isArray(tokens) && !tokens.includes('<0x0A>') && !tokens.includes('\n')) {
      fail('its SentencePiece vocabulary has no token for a line break (neither "<0x0A>" nor "\\n")');
    }
    if (Array.isArray(tokens)) {
      const seen = new Map<unknown, number>();
      tokens.forEach((t, id) => {
        const first = seen.get(t);
        if (first !== undefined) fail(`its SentencePiece vocabulary has the token ${JSON.stringify(t)} twice (ids ${first} and ${id})`);
        seen.set(t, id);
      });
    }
  }
}

/**
 * A model whose attention sees the tokens after each position (an encoder, an embedding model:
 * `attention.causal` false) would "predict" tokens it sees: its numbers would mean nothing.
 */
export function refuseNonCausal(meta: GgufMetadata): void {
  if (meta.header.metadata.get(`${meta.architecture}.attention.causal`) === false) {
    throw new ModelFormatError(
      `${meta.architecture}.attention.causal is false: an encoder or embedding model, whose attention sees the tokens it would predict, is not a language model to score text with`,
      meta.file,
    );
  }
}

/** The RoPE scaling types llama.cpp knows (another one is a failed assertion there). */
/** llama.cpp's LLAMA_MAX_LAYERS: a file with more layers fails an assertion while loading. */
const LLAMA_MAX_LAYERS = 512;
const ROPE_SCALING_TYPES: readonly string[] = ['none', 'linear', 'yarn', 'longrope'];

/** As every neural model's, the tokenizer reads the document's CRLF and CR line breaks as LF. */
function tokenizerOf(meta: GgufMetadata): { vocab: GgufTokenizer; tokenizer: Tokenizer } {
  const vocab = ggufTokenizer(meta);
  return { vocab, tokenizer: new LfTokenizer(new HuggingFaceTokenizer(vocab.json, undefined, vocab.bosId, path.basename(meta.file))) };
}

/** The tokenizer a host keeps while llama.cpp runs the model elsewhere. */
export function ggufHostTokenizer(file: string): Tokenizer {
  return tokenizerOf(readGgufHeader(file)).tokenizer;
}

export function ggufFacts(file: string): ModelFacts | undefined {
  try {
    const meta = readGgufHeader(file);
    const shape = ggufShape(meta);
    // The summary, not the tokenizer: a large vocabulary's merges take a while to build, and Select Model lists many files.
    const vocab = ggufTokenizerSummary(meta);
    return {
      parametersAre: 'weights',
      architecture: `${shape.arch} transformer (GGUF, ${meta.precision}), ${shape.layers} layers, d = ${shape.hidden}`,
      parameters: meta.parameters,
      file,
      bytes: fs.statSync(file).size,
      tokenizer: vocab?.kind,
      vocabulary: vocab?.vocabSize,
      context: shape.window,
    };
  } catch {
    return undefined;
  }
}

/** Opens a GGUF file with llama.cpp on this thread's CPU. */
export async function openGguf(file: string, name: string, options: { threads?: number } & Pick<GgufModelSetup, 'ranksFrom'> = {}): Promise<GgufLanguageModel> {
  const meta = readGgufHeader(file);
  const shape = ggufShape(meta);
  refuseWhatLlamaAborts(meta);
  refuseNonCausal(meta);
  const { vocab, tokenizer } = tokenizerOf(meta);
  const llama = await getLlama();
  takeLlamaErrors();
  let model;
  try {
    // Read, not mapped: llama.cpp's default mmap turns a file rewritten or cut while in use (an export
    // to the same path, a copy over it) into SIGBUS, which kills the whole process that hosts the worker.
    model = await llama.loadModel({ modelPath: file, gpuLayers: 0, useMmap: false });
  } catch (e) {
    // llama.cpp's log lines reach this thread as callbacks queued behind the failure: let them in.
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    const said = [...new Set(takeLlamaErrors().map((l) => l.replace(/\s+/g, ' ')))].filter((l) => !/failed to load model/i.test(l));
    throw new ModelFormatError(`llama.cpp cannot load it: ${(e as Error).message.split('\n')[0]}${said.length ? ` (${said.join('; ')})` : ''}`, file);
  }
  try {
    const numerics = {
      sequences: 1,
      // Half the cores by default: ggml's threads wait for each other by spinning, which on a busy
      // machine costs far more than it gains (a tiny model: 23 s against 0.07 s for 270 tokens).
      threads: options.threads ?? Math.max(1, Math.floor(os.availableParallelism() / 2)),
      // The model's own numbers: flash attention and a float16 cache move log-probs by about 1e-3.
      flashAttention: false,
      experimentalKvCacheKeyType: 'F32',
      experimentalKvCacheValueType: 'F32',
    };
    const loaded = model;
    const context = await model.createContext({
      // One more than the window: node-llama-cpp keeps a context's last cell free, and shifts the
      // context (drops its start) rather than fill it.
      contextSize: shape.window + 1,
      batchSize: Math.min(512, shape.window),
      ...numerics,
    });
    const precision = meta.precision;
    const window = Math.min(shape.window, context.contextSize - 1);
    const context_ = window < shape.declared ? `${window} tokens (of ${shape.declared}: the cache is capped)` : `${window} tokens`;
    return new GgufLanguageModel(model, context, {
      name,
      tokenizer,
      vocabSize: vocab.vocabSize,
      bosId: vocab.bosId,
      eosIds: vocab.eosIds,
      window,
      description: `${shape.arch} transformer (GGUF ${precision}), ${shape.layers} layers, context ${context_}, vocabulary ${vocab.vocabSize}, on llama.cpp (CPU)`,
      precision,
      ranksFrom: options.ranksFrom,
      // Its batch is small: llama.cpp sizes a context's output buffers by batch × vocabulary floats.
      openSideContext: (cells) => loaded.createContext({ contextSize: cells + 1, batchSize: Math.min(SIDE_BATCH, cells), ...numerics }),
    });
  } catch (e) {
    await model.dispose();
    throw e;
  }
}
