/**
 * The engine in a browser Web Worker (a VS Code webview's, or a test page's): WebGPU when the
 * browser has an adapter, else onnxruntime-web's WASM backend. The page fetches the files and the
 * .wasm binary and transfers them (workers cannot reliably load webview resource URLs).
 */
import * as ort from 'onnxruntime-web/webgpu';
import { EngineServer } from '../core/engine/engineServer';
import type { EngineRequest } from '../core/engine/protocol';
import { LmError } from '../core/errors';
import { OnnxCausalLm } from '../core/neural/onnxCausalLm';

export interface BrowserEngineSpec {
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

const server = new EngineServer(
  async (raw) => {
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
