/**
 * Loads a model folder in the Hugging Face layout (core/neural/hfLayout.ts) on
 * onnxruntime-node, the native CPU runtime (several times faster than WASM for the same graph),
 * or on onnxruntime-web's WASM backend where there is no native binary for the platform.
 */
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { LmError, ModelFormatError } from '../core/errors';
import { MAX_ONNX_GRAPH_BYTES } from '../core/modelLimits';
import { HuggingFaceTokenizer } from '../core/neural/hfTokenizer';
import { CONFIG_FILE, LAYOUT_SUMMARY, ONNX_GRAPHS, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE, findOnnxGraph } from '../core/neural/hfLayout';
import { OnnxCausalLm, parseCausalLmConfig, type CausalLmConfig, type OrtModule } from '../core/neural/onnxCausalLm';
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
    fd = fs.openSync(file, 'r');
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

/** The JSON files of a model folder and its ONNX graph's path (relative to the folder). */
export function readFolderFiles(dir: string, preferQuantized = false): { config: unknown; tokenizer: unknown; tokenizerConfig: unknown; onnxRel: string } {
  const config = readJson(dir, CONFIG_FILE, true, MAX_CONFIG_JSON_BYTES);
  const tokenizer = readJson(dir, TOKENIZER_FILE, true, MAX_TOKENIZER_JSON_BYTES);
  const tokenizerConfig = readJson(dir, TOKENIZER_CONFIG_FILE, false, MAX_CONFIG_JSON_BYTES);
  const onnxRel = findOnnxGraph((f) => fs.existsSync(path.join(dir, f)), preferQuantized);
  if (!onnxRel) throw new ModelFormatError(`no ONNX graph (looked for ${ONNX_GRAPHS.join(', ')})`, dir);
  return { config, tokenizer, tokenizerConfig, onnxRel };
}

/** What a host keeps of a model that runs elsewhere (worker, webview): its config and tokenizer. */
export function hostSide(
  dir: string,
  preferQuantized = false,
): { config: CausalLmConfig; tokenizer: HuggingFaceTokenizer; onnxRel: string; hasTokenizerConfig: boolean } {
  const files = readFolderFiles(dir, preferQuantized);
  const config = parseCausalLmConfig(files.config, path.join(dir, CONFIG_FILE));
  const tokenizer = new HuggingFaceTokenizer(files.tokenizer, files.tokenizerConfig, config.bosId, path.join(dir, TOKENIZER_FILE));
  return { config, tokenizer, onnxRel: files.onnxRel, hasTokenizerConfig: files.tokenizerConfig !== undefined };
}

let nativeOrt: OrtModule | undefined;
let wasmOrt: OrtModule | undefined;

function loadNativeOrt(): OrtModule {
  if (!nativeOrt) {
    try {
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

export interface NeuralLoadOptions {
  onnxFile?: string;
  /** Use onnx/model_quantized.onnx (int8 weights) when the folder has one. */
  preferQuantized?: boolean;
  /** Intra-op threads (native); WASM in Node runs single-threaded, which measured faster here. */
  threads?: number;
  device?: NodeDevice;
}

export async function loadHuggingFaceFolder(dir: string, name: string, options: NeuralLoadOptions = {}): Promise<OnnxCausalLm> {
  const { config, tokenizer, tokenizerConfig, onnxRel: found } = readFolderFiles(dir, options.preferQuantized);
  const onnxRel = options.onnxFile ?? found;
  const onnxPath = path.join(dir, onnxRel);
  const onnx = readCapped(onnxPath, MAX_ONNX_GRAPH_BYTES);
  const runtime = pickRuntime(options.device ?? 'auto', 1);
  return OnnxCausalLm.create(
    runtime.ort,
    {
      config,
      tokenizer,
      tokenizerConfig,
      onnx: new Uint8Array(onnx.buffer, onnx.byteOffset, onnx.byteLength),
      onnxName: onnxPath,
      configName: path.join(dir, CONFIG_FILE),
      tokenizerName: path.join(dir, TOKENIZER_FILE),
    },
    { name, device: runtime.device, executionProviders: runtime.executionProviders, threads: runtime.device === 'native' ? options.threads : undefined },
  );
}
