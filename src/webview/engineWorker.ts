/**
 * The engine in a browser Web Worker (a VS Code webview's, or a test page's): WebGPU when the
 * browser has an adapter, else onnxruntime-web's WASM backend. The page fetches the files and the
 * .wasm binary and transfers them (workers cannot reliably load webview resource URLs).
 */
import * as ort from 'onnxruntime-web/webgpu';
import { EngineServer } from '../core/engine/engineServer';
import type { EngineRequest } from '../core/engine/protocol';
import { LmError, ModelFormatError } from '../core/errors';
import { ngramFromBytes } from '../core/ngram/ngramFromBytes';
import { OnnxCausalLm } from '../core/neural/onnxCausalLm';

/** An n-gram model: the file's bytes (LM Playground binary or ARPA, gzipped or not). */
export interface BrowserNgramSpec {
  kind: 'ngram';
  name: string;
  file: string;
  bytes: ArrayBuffer;
}

export interface BrowserEngineSpec {
  kind?: 'neural';
  name: string;
  device: 'auto' | 'webgpu' | 'wasm';
  config: unknown;
  tokenizer: unknown;
  tokenizerConfig?: unknown;
  onnx: ArrayBuffer;
  /** ort-wasm-simd-threaded.asyncify.wasm */
  wasmBinary: ArrayBuffer;
}

interface GpuNavigator {
  gpu?: { requestAdapter(): Promise<unknown | null> };
}

async function pickDevice(preference: BrowserEngineSpec['device']): Promise<'webgpu' | 'wasm'> {
  if (preference === 'wasm') return 'wasm';
  const gpu = (self.navigator as unknown as GpuNavigator).gpu;
  let adapter: unknown = null;
  try {
    adapter = gpu ? await gpu.requestAdapter() : null;
  } catch {
    adapter = null;
  }
  if (adapter) return 'webgpu';
  if (preference === 'webgpu') throw new LmError('WebGPU is not available here (no navigator.gpu adapter)');
  return 'wasm';
}

async function gunzipIfNeeded(bytes: Uint8Array): Promise<Uint8Array> {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const server = new EngineServer(
  async (raw) => {
    if ((raw as BrowserNgramSpec).kind === 'ngram') {
      const spec = raw as BrowserNgramSpec;
      let bytes: Uint8Array;
      try {
        bytes = await gunzipIfNeeded(new Uint8Array(spec.bytes));
      } catch (e) {
        throw new ModelFormatError(`corrupt gzip data: ${(e as Error).message}`, spec.file);
      }
      return { model: ngramFromBytes(bytes, spec.file, spec.name) };
    }
    const spec = raw as BrowserEngineSpec;
    ort.env.wasm.wasmBinary = spec.wasmBinary;
    ort.env.wasm.numThreads = 1; // webviews are not cross-origin isolated: no SharedArrayBuffer
    const device = await pickDevice(spec.device);
    const model = await OnnxCausalLm.create(
      ort,
      { config: spec.config, tokenizer: spec.tokenizer, tokenizerConfig: spec.tokenizerConfig, onnx: new Uint8Array(spec.onnx), onnxName: `${spec.name}/onnx/model.onnx` },
      { name: spec.name, device, executionProviders: [device], keepCacheOnDevice: device === 'webgpu' },
    );
    return { model };
  },
  (response, transfer) => self.postMessage(response, { transfer }),
);

let queue = Promise.resolve();
self.onmessage = (e: MessageEvent<EngineRequest>) => {
  const req = e.data;
  if (req.op === 'cancel') void server.handle(req);
  else queue = queue.then(() => server.handle(req));
};
