/**
 * Loads a model folder in the Hugging Face layout (config.json, tokenizer.json, onnx/*.onnx) on
 * onnxruntime-node, the native CPU runtime (several times faster than WASM for the same graph),
 * or on onnxruntime-web's WASM backend where there is no native binary for the platform.
 */
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { LmError, ModelFormatError } from '../core/errors';
import { HuggingFaceTokenizer } from '../core/neural/hfTokenizer';
import { OnnxCausalLm, parseCausalLmConfig, type CausalLmConfig, type OrtModule } from '../core/neural/onnxCausalLm';

/** ONNX files looked for, in order of preference (full precision first). */
export const ONNX_CANDIDATES = [
  'onnx/model.onnx',
  'onnx/decoder_model_merged.onnx',
  'onnx/model_quantized.onnx',
  'onnx/decoder_model_merged_quantized.onnx',
  'model.onnx',
  'decoder_model_merged.onnx',
];

export function isHuggingFaceFolder(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'config.json'));
}

function readJson(dir: string, name: string, required: boolean): unknown {
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) {
    if (required) throw new ModelFormatError(`missing (a Hugging Face model folder needs config.json, tokenizer.json and onnx/model.onnx)`, file);
    return undefined;
  }
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ModelFormatError(`not valid JSON: ${(e as Error).message}`, file);
  }
}

export type NodeDevice = 'auto' | 'native' | 'wasm';

/** The graphs to look for, quantized ones first when preferred. */
export function onnxCandidates(preferQuantized = false): string[] {
  if (!preferQuantized) return ONNX_CANDIDATES;
  const q = ONNX_CANDIDATES.filter((f) => f.includes('_quantized'));
  return [...q, ...ONNX_CANDIDATES.filter((f) => !q.includes(f))];
}

/** The JSON files of a model folder and its ONNX graph's path (relative to the folder). */
export function readFolderFiles(dir: string, preferQuantized = false): { config: unknown; tokenizer: unknown; tokenizerConfig: unknown; onnxRel: string } {
  const config = readJson(dir, 'config.json', true);
  const tokenizer = readJson(dir, 'tokenizer.json', true);
  const tokenizerConfig = readJson(dir, 'tokenizer_config.json', false);
  const onnxRel = onnxCandidates(preferQuantized).find((f) => fs.existsSync(path.join(dir, f)));
  if (!onnxRel) throw new ModelFormatError(`no ONNX graph (looked for ${ONNX_CANDIDATES.join(', ')})`, dir);
  return { config, tokenizer, tokenizerConfig, onnxRel };
}

/** What a host keeps of a model that runs elsewhere (worker, webview): its config and tokenizer. */
export function hostSide(dir: string, preferQuantized = false): { config: CausalLmConfig; tokenizer: HuggingFaceTokenizer; onnxRel: string; hasTokenizerConfig: boolean } {
  const files = readFolderFiles(dir, preferQuantized);
  const config = parseCausalLmConfig(files.config, path.join(dir, 'config.json'));
  const tokenizer = new HuggingFaceTokenizer(files.tokenizer, files.tokenizerConfig, config.bosId, path.join(dir, 'tokenizer.json'));
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
  let onnx: Buffer;
  try {
    onnx = fs.readFileSync(onnxPath);
  } catch (e) {
    throw new ModelFormatError(`cannot read: ${(e as Error).message}`, onnxPath);
  }
  const runtime = pickRuntime(options.device ?? 'auto', 1);
  return OnnxCausalLm.create(
    runtime.ort,
    { config, tokenizer, tokenizerConfig, onnx: new Uint8Array(onnx.buffer, onnx.byteOffset, onnx.byteLength), onnxName: onnxPath },
    { name, device: runtime.device, executionProviders: runtime.executionProviders, threads: runtime.device === 'native' ? options.threads : undefined },
  );
}
