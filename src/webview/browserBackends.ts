/**
 * The backends a browser Web Worker opens, by the registry's name (src/node/backends/registry.ts):
 * each from the files the page sent as bytes. A backend whose models run in a webview adds its
 * opener here; the others never reach a browser worker.
 */
import * as ortWasm from 'onnxruntime-web/wasm';
import * as ortWebGpu from 'onnxruntime-web/webgpu';
import type { LoadSpec, ModelFileBytes, WasmBinaries } from '../core/engine/protocol';
import { LmError, ModelFormatError } from '../core/errors';
import type { LanguageModel } from '../core/model';
import { MAX_MODEL_BYTES } from '../core/modelLimits';
import { DATA_ROLE_PREFIX } from '../core/neural/hfLayout';
import { OnnxCausalLm } from '../core/neural/onnxCausalLm';
import { variantOf } from '../core/neural/onnxVariants';
import { ngramFromChunks } from '../core/ngram/ngramFromChunks';
import { modelBytesChunks } from './cappedGunzip';
import { hasWebGpuAdapter, type BrowserDevice } from './ortBinaries';

type Files = Record<string, ModelFileBytes>;
type Opener = (spec: LoadSpec, files: Files) => Promise<LanguageModel>;

function file(files: Files, role: string, spec: LoadSpec): ModelFileBytes {
  const f = Object.hasOwn(files, role) ? files[role] : undefined;
  if (!f) throw new LmError(`the load of ${spec.name} has no ${role} file`);
  return f;
}

function json(f: ModelFileBytes, spec: LoadSpec): unknown {
  const where = `${spec.name}/${f.name}`;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(f.bytes);
  } catch {
    throw new ModelFormatError('not UTF-8 text', where);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(`not valid JSON: ${(e as Error).message}`, where);
  }
}

/** An n-gram model: its one file (LM Playground binary or ARPA, gzipped or not). */
async function openNgram(spec: LoadSpec, files: Files): Promise<LanguageModel> {
  const f = file(files, 'file', spec);
  const bytes = new Uint8Array(f.bytes);
  const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b;
  return ngramFromChunks(modelBytesChunks(bytes, f.name, MAX_MODEL_BYTES), f.name, spec.name, {
    maxBytes: MAX_MODEL_BYTES,
    size: gzipped ? undefined : bytes.length,
  });
}

type Ort = typeof ortWasm;

/**
 * The build and device to run on, given the preference and the binaries the page sent: `auto` runs
 * on WebGPU only on a real GPU, `webgpu` on any adapter (also a software one: the user asked for
 * it); without one both run on WASM.
 */
async function pickRuntime(preference: LoadSpec['device'], binaries: WasmBinaries): Promise<{ ort: Ort; device: BrowserDevice; binary: ArrayBuffer }> {
  const wanted = preference === 'native' ? 'auto' : preference;
  if (wanted !== 'wasm' && binaries.webgpu && (await hasWebGpuAdapter(wanted))) return { ort: ortWebGpu, device: 'webgpu', binary: binaries.webgpu };
  if (binaries.wasm) return { ort: ortWasm, device: 'wasm', binary: binaries.wasm };
  // The page saw an adapter that this worker does not get: the WebGPU build's own CPU path.
  if (binaries.webgpu) return { ort: ortWebGpu, device: 'wasm', binary: binaries.webgpu };
  throw new LmError('the page sent no onnxruntime-web binary with the model');
}

/** A Hugging Face folder's files (core/neural/hfLayout.ts, `engineFiles`: the graph chosen, its external data, the JSON files) on onnxruntime-web. */
async function openOnnx(spec: LoadSpec, files: Files): Promise<LanguageModel> {
  const config = json(file(files, 'config', spec), spec);
  const tokenizer = json(file(files, 'tokenizer', spec), spec);
  const optional = (role: string) => (Object.hasOwn(files, role) ? json(files[role], spec) : undefined);
  const onnx = file(files, 'onnx', spec);
  const externalData = Object.entries(files)
    .filter(([role]) => role.startsWith(DATA_ROLE_PREFIX))
    .map(([role, f]) => ({ path: role.slice(DATA_ROLE_PREFIX.length), data: new Uint8Array(f.bytes) }));
  const { ort, device, binary } = await pickRuntime(spec.device, spec.wasmBinaries ?? {});
  ort.env.wasm.wasmBinary = binary;
  ort.env.wasm.numThreads = 1; // webviews are not cross-origin isolated: no SharedArrayBuffer
  return OnnxCausalLm.create(
    ort,
    {
      config,
      tokenizer,
      tokenizerConfig: optional('tokenizerConfig'),
      generationConfig: optional('generationConfig'),
      onnx: new Uint8Array(onnx.bytes),
      externalData,
      dtype: variantOf(onnx.name),
      onnxName: `${spec.name}/${onnx.name}`,
    },
    { name: spec.name, device, executionProviders: [device], keepCacheOnDevice: device === 'webgpu' },
  );
}

const OPENERS: Record<string, Opener> = { ngram: openNgram, onnx: openOnnx };

/** Opens the model a `load` names with its backend's opener. */
export function openInBrowser(spec: LoadSpec): Promise<LanguageModel> {
  if (!('files' in spec.source)) throw new LmError('a browser worker cannot read the disk: the load must carry the model files');
  const opener = Object.hasOwn(OPENERS, spec.backend) ? OPENERS[spec.backend] : undefined;
  if (!opener) throw new LmError(`the ${spec.backend} backend does not run in a browser worker (those that do: ${Object.keys(OPENERS).join(', ')})`);
  return opener(spec, spec.source.files);
}
