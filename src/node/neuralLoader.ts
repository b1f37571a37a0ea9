/**
 * Loads a model folder in the Hugging Face layout (core/neural/hfLayout.ts) on
 * onnxruntime-node, the native CPU runtime (several times faster than WASM for the same graph),
 * or on onnxruntime-web's WASM backend where there is no native binary for the platform. The
 * graph is the precision variant the dtype setting asks for (core/neural/onnxVariants.ts); its
 * external data files are checked here, then mapped by onnxruntime-node from the graph's path or
 * given to onnxruntime-web as `externalData`.
 */
import { placeholderKind, placeholderMessage } from './placeholderFile';
import * as fs from 'fs';
import { OPEN_READ_NO_WAIT } from './fileErrors';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { LmError, ModelFormatError } from '../core/errors';
import { MAX_ONNX_GRAPH_BYTES } from '../core/modelLimits';
import { HuggingFaceTokenizer } from '../core/neural/hfTokenizer';
import type { Tokenizer } from '../core/model';
import { LfTokenizer } from '../core/tokenizers/lineBreaks';
import { CONFIG_FILE, GENERATION_CONFIG_FILE, LAYOUT_SUMMARY, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE } from '../core/neural/hfLayout';
import { OnnxCausalLm, readCausalLmConfig, type CausalLmConfig, type ExternalDataInput, type OrtModule } from '../core/neural/onnxCausalLm';
import {
  FULL_PRECISION_FIRST,
  chooseVariant,
  graphVariants,
  variantOf,
  type DtypeRequest,
  type GraphVariant,
  type VariantRuntime,
} from '../core/neural/onnxVariants';
import { graphExternalData } from './externalData';
import { optOutOfOnnxRuntimeTelemetry } from './onnxRuntimeTelemetry';
import { describeFsError, formatBytes } from './modelFileStream';

/** Whether `dir` is a model folder in the Hugging Face layout (it has a config.json). */
export function isHuggingFaceFolder(dir: string): boolean {
  return fs.existsSync(path.join(dir, CONFIG_FILE));
}

/** Caps on the JSON files of a model folder, read before parsing (a tokenizer.json of a large vocabulary is ~10 MB). */
export const MAX_CONFIG_JSON_BYTES = 1 << 20;
export const MAX_TOKENIZER_JSON_BYTES = 64 << 20;

function readJson(dir: string, name: string, required: boolean, maxBytes: number): unknown {
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) {
    if (required) throw new ModelFormatError(`missing (a Hugging Face model folder needs ${LAYOUT_SUMMARY})`, file);
    return undefined;
  }
  const bytes = readCapped(file, maxBytes);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ModelFormatError('not UTF-8 text', file);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(`not valid JSON: ${(e as Error).message}`, file);
  }
}

/** The whole file, refused when it is larger than `maxBytes` (read at most maxBytes + 1 bytes, whatever its size claims). */
function readCapped(file: string, maxBytes: number): Buffer {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, OPEN_READ_NO_WAIT);
    const stat = fs.fstatSync(fd);
    // A device or a pipe (a link to /dev/zero) has no size to check: it would be read forever.
    if (!stat.isFile()) throw new ModelFormatError('not a regular file', file);
    const buffer = Buffer.alloc(Math.min(maxBytes + 1, stat.size + 1));
    let length = 0;
    while (length < buffer.length) {
      const n = fs.readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > maxBytes) throw new ModelFormatError(`larger than ${formatBytes(maxBytes)}, the limit for this file`, file);
    return buffer.subarray(0, length);
  } catch (e) {
    if (e instanceof ModelFormatError) throw e;
    throw new ModelFormatError(`cannot read: ${describeFsError(e)}`, file);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export type NodeDevice = 'auto' | 'native' | 'wasm';

/** The JSON files of a model folder (tokenizer_config.json and generation_config.json when present). */
export function readFolderFiles(dir: string): { config: unknown; tokenizer: unknown; tokenizerConfig: unknown; generationConfig: unknown } {
  const config = readJson(dir, CONFIG_FILE, true, MAX_CONFIG_JSON_BYTES);
  const tokenizer = readJson(dir, TOKENIZER_FILE, true, MAX_TOKENIZER_JSON_BYTES);
  const tokenizerConfig = readJson(dir, TOKENIZER_CONFIG_FILE, false, MAX_CONFIG_JSON_BYTES);
  const generationConfig = readJson(dir, GENERATION_CONFIG_FILE, false, MAX_CONFIG_JSON_BYTES);
  return { config, tokenizer, tokenizerConfig, generationConfig };
}

/** Reads the folder's tokenizer.json when called; the closure holds the folder's path alone. */
function tokenizerFileReader(dir: string): () => unknown {
  return () => readJson(dir, TOKENIZER_FILE, true, MAX_TOKENIZER_JSON_BYTES);
}

/** The precision variants a folder has. */
export function folderVariants(dir: string): GraphVariant[] {
  return graphVariants((rel) => fs.existsSync(path.join(dir, rel)));
}

/** The graph a folder runs for `dtype` on `runtime` (an error lists the variants it has). */
export function chooseFolderGraph(
  dir: string,
  dtype: DtypeRequest = FULL_PRECISION_FIRST,
  runtime: VariantRuntime = 'native',
  float16?: boolean,
): GraphVariant {
  const variants = folderVariants(dir);
  // auto passes over a file that is plainly no graph (empty, a Git LFS pointer: hostile13 M4) while
  // the folder has another; asked for by name, it is loaded, and its error says what it is.
  const graphs = dtype.setting === 'auto' ? variants.filter((v) => !placeholderKind(path.join(dir, ...v.path.split('/')))) : variants;
  return chooseVariant(graphs.length > 0 ? graphs : variants, { ...dtype, runtime, float16 }, dir);
}

/** The file names the loaders report errors with. */
function fileNames(dir: string) {
  return {
    configName: path.join(dir, CONFIG_FILE),
    tokenizerName: path.join(dir, TOKENIZER_FILE),
    generationConfigName: path.join(dir, GENERATION_CONFIG_FILE),
    tokenizerConfigName: path.join(dir, TOKENIZER_CONFIG_FILE),
  };
}

/** What a host keeps of a model that runs elsewhere (worker, webview): its config and tokenizer. */
export function hostSide(dir: string): { config: CausalLmConfig; tokenizer: Tokenizer } {
  const files = readFolderFiles(dir);
  const names = fileNames(dir);
  const config = readCausalLmConfig({ ...files, ...names });
  // As OnnxCausalLm's: the model reads the document's line breaks as LF.
  const tokenizer = new LfTokenizer(new HuggingFaceTokenizer(files.tokenizer, files.tokenizerConfig, config.bosId, names.tokenizerName));
  return { config, tokenizer };
}

let nativeOrt: OrtModule | undefined;
let wasmOrt: OrtModule | undefined;

function loadNativeOrt(): OrtModule {
  if (!nativeOrt) {
    try {
      optOutOfOnnxRuntimeTelemetry();
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      nativeOrt = require('onnxruntime-node') as OrtModule;
    } catch (e) {
      throw new LmError(`the native onnxruntime is not available on ${process.platform}-${process.arch}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return nativeOrt;
}

/** onnxruntime-web's WASM backend; its glue (.mjs) and binary (.wasm) ship in dist/ort/ (the repo's node_modules in tests). */
function loadWasmOrt(threads: number): OrtModule {
  if (!wasmOrt) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ort = require('onnxruntime-web') as OrtModule & { env: { wasm: { numThreads: number; wasmPaths: unknown } } };
    const dirs = [path.join(__dirname, 'ort'), path.join(__dirname, '..', '..', '..', 'node_modules', 'onnxruntime-web', 'dist')];
    const dir = dirs.find((d) => fs.existsSync(path.join(d, 'ort-wasm-simd-threaded.wasm')));
    if (!dir) throw new LmError('the WASM runtime files (ort-wasm-simd-threaded.wasm) are missing from the extension');
    ort.env.wasm.wasmPaths = {
      mjs: pathToFileURL(path.join(dir, 'ort-wasm-simd-threaded.mjs')).href,
      wasm: pathToFileURL(path.join(dir, 'ort-wasm-simd-threaded.wasm')).href,
    };
    ort.env.wasm.numThreads = threads;
    wasmOrt = ort;
  }
  return wasmOrt;
}

function pickRuntime(device: NodeDevice, threads: number): { ort: OrtModule; device: 'native' | 'wasm'; executionProviders: string[] } {
  if (device === 'wasm') return { ort: loadWasmOrt(threads), device: 'wasm', executionProviders: ['wasm'] };
  if (device === 'native') return { ort: loadNativeOrt(), device: 'native', executionProviders: ['cpu'] };
  try {
    return { ort: loadNativeOrt(), device: 'native', executionProviders: ['cpu'] };
  } catch {
    return { ort: loadWasmOrt(threads), device: 'wasm', executionProviders: ['wasm'] };
  }
}

/** Where a load on `device` computes in this process: native where its binary loads, else WASM. */
export function nodeRuntime(device: NodeDevice): 'native' | 'wasm' {
  if (device !== 'auto') return device;
  try {
    loadNativeOrt();
    return 'native';
  } catch {
    return 'wasm';
  }
}

export interface NeuralLoadOptions {
  /** A graph file (relative to the folder) instead of the dtype's choice. */
  onnxFile?: string;
  /** The precision variant to run; default: full precision where the folder has it (the extension and the CLI pass their dtype setting). */
  dtype?: DtypeRequest;
  /** Intra-op threads (native); WASM in Node runs single-threaded, which measured faster here. */
  threads?: number;
  device?: NodeDevice;
  /** The host holds the same tokenizer (an engine worker's model): the model reads tokenizer.json again only when one is asked for (CausalLmOptions.tokenizerOnDemand). */
  tokenizerOnHost?: boolean;
}

/** A regular file no larger than the cap for a graph. */
/** The most graph and weight bytes a model may have on WASM, whose memory is 4 GiB with the runtime's own work. */
export const MAX_WASM_WEIGHT_BYTES = 3 * 2 ** 30;

function checkGraphFile(file: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (e) {
    throw new ModelFormatError(`cannot read: ${describeFsError(e)}`, file);
  }
  // A device or a pipe (a link to /dev/zero) would be read forever.
  if (!stat.isFile()) throw new ModelFormatError('not a regular file', file);
  if (stat.size > MAX_ONNX_GRAPH_BYTES) throw new ModelFormatError(`larger than ${formatBytes(MAX_ONNX_GRAPH_BYTES)}, the limit for this file`, file);
  const stub = placeholderKind(file);
  if (stub) throw new ModelFormatError(placeholderMessage(stub, 'an ONNX graph'), file);
}

/**
 * Refuses a variant whose graph and weights pass what WASM can hold. WASM keeps every weight in its
 * 32-bit memory (4 GiB in all, the runtime's own work included; onnxruntime-web's WebGPU reads them
 * from there too), and the files are read whole first (by Node, or by the host for a page): a larger
 * model would fail deep in the runtime, or take the extension host's memory with it (hostile13 M1:
 * 3-4× the files' size at the peak). `fix`: what to do instead, where the model was to run.
 */
export function checkWasmWeights(onnxPath: string, externalData: readonly { size: number }[], fix: string): void {
  const weights = fs.statSync(onnxPath).size + externalData.reduce((sum, d) => sum + d.size, 0);
  if (weights > MAX_WASM_WEIGHT_BYTES) {
    throw new ModelFormatError(
      `${formatBytes(weights)} of graph and weights, more than the ${formatBytes(MAX_WASM_WEIGHT_BYTES)} WASM can hold: ${fix}`,
      onnxPath,
    );
  }
}

/**
 * What a runtime is given of the graph at `onnxPath`, its external data files checked first:
 * onnxruntime-node the graph's path (it reads the graph and maps the data files itself, with no
 * copy of the weights in JavaScript); onnxruntime-web the graph's bytes and each data file's path
 * as `externalData` (in Node it reads a path given as the data).
 */
export function graphForRuntime(onnxPath: string, device: 'native' | 'wasm'): { onnx: Uint8Array | string; externalData?: ExternalDataInput[] } {
  checkGraphFile(onnxPath);
  const externalData = graphExternalData(onnxPath);
  if (device === 'native') return { onnx: onnxPath };
  checkWasmWeights(onnxPath, externalData, 'run it natively (lmPlayground.device native, or lmp --device native), or choose a smaller variant (q4, int8)');
  const bytes = readCapped(onnxPath, MAX_ONNX_GRAPH_BYTES);
  return {
    onnx: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    externalData: externalData.map((d) => ({ path: d.location, data: d.file })),
  };
}

export async function loadHuggingFaceFolder(dir: string, name: string, options: NeuralLoadOptions = {}): Promise<OnnxCausalLm> {
  const files = readFolderFiles(dir);
  const runtime = pickRuntime(options.device ?? 'auto', 1);
  const variant = options.onnxFile ? { path: options.onnxFile, dtype: variantOf(options.onnxFile) } : chooseFolderGraph(dir, options.dtype, runtime.device);
  const onnxPath = path.join(dir, ...variant.path.split('/'));
  return OnnxCausalLm.create(
    runtime.ort,
    { ...files, ...fileNames(dir), ...graphForRuntime(onnxPath, runtime.device), dtype: variant.dtype, onnxName: onnxPath },
    {
      name,
      device: runtime.device,
      executionProviders: runtime.executionProviders,
      threads: runtime.device === 'native' ? options.threads : undefined,
      logSumExpOnRuntime: runtime.device === 'native',
      ...(options.tokenizerOnHost ? { tokenizerOnDemand: tokenizerFileReader(dir) } : {}),
    },
  );
}
