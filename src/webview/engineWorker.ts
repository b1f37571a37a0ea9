/**
 * The engine in a browser Web Worker (a VS Code webview's, or a test page's): onnxruntime-web's
 * WebGPU build when the browser has an adapter, else its plain WASM build. The page fetches the
 * files and the .wasm binaries and transfers them (workers cannot reliably load webview resource
 * URLs); see ortBinaries.ts for which binary it sends.
 */
import * as ortWasm from 'onnxruntime-web/wasm';
import * as ortWebGpu from 'onnxruntime-web/webgpu';
import { EngineServer } from '../core/engine/engineServer';
import type { EngineRequest } from '../core/engine/protocol';
import { LmError } from '../core/errors';
import { MAX_MODEL_BYTES } from '../core/modelLimits';
import { ngramFromChunks } from '../core/ngram/ngramFromChunks';
import { OnnxCausalLm } from '../core/neural/onnxCausalLm';
import type { Dtype } from '../core/neural/onnxVariants';
import { modelBytesChunks } from './cappedGunzip';
import { hasWebGpuAdapter, type BrowserDevice, type OrtBinaries } from './ortBinaries';

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
  device: 'auto' | BrowserDevice;
  config: unknown;
  tokenizer: unknown;
  tokenizerConfig?: unknown;
  generationConfig?: unknown;
  onnx: ArrayBuffer;
  /** The graph's external data files, by the location it names them with. */
  externalData?: { path: string; data: ArrayBuffer }[];
  /** The graph's path in the model folder and its precision variant, for messages and the status bar. */
  onnxFile?: string;
  dtype?: Dtype;
  wasmBinaries: OrtBinaries;
}

type Ort = typeof ortWasm;

/**
 * The build and device to run on, given the preference and the binaries the page sent: `auto` runs
 * on WebGPU only on a real GPU, `webgpu` on any adapter (also a software one: the user asked for
 * it); without one both run on WASM.
 */
async function pickRuntime(preference: BrowserEngineSpec['device'], binaries: OrtBinaries): Promise<{ ort: Ort; device: BrowserDevice; binary: ArrayBuffer }> {
  if (preference !== 'wasm' && binaries.webgpu && (await hasWebGpuAdapter(preference))) return { ort: ortWebGpu, device: 'webgpu', binary: binaries.webgpu };
  if (binaries.wasm) return { ort: ortWasm, device: 'wasm', binary: binaries.wasm };
  // The page saw an adapter that this worker does not get: the WebGPU build's own CPU path.
  if (binaries.webgpu) return { ort: ortWebGpu, device: 'wasm', binary: binaries.webgpu };
  throw new LmError('the page sent no onnxruntime-web binary with the model');
}

const server = new EngineServer(
  async (raw) => {
    if ((raw as BrowserNgramSpec).kind === 'ngram') {
      const spec = raw as BrowserNgramSpec;
      const bytes = new Uint8Array(spec.bytes);
      const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b;
      return {
        model: await ngramFromChunks(modelBytesChunks(bytes, spec.file, MAX_MODEL_BYTES), spec.file, spec.name, {
          maxBytes: MAX_MODEL_BYTES,
          size: gzipped ? undefined : bytes.length,
        }),
      };
    }
    const spec = raw as BrowserEngineSpec;
    const { ort, device, binary } = await pickRuntime(spec.device, spec.wasmBinaries ?? {});
    ort.env.wasm.wasmBinary = binary;
    ort.env.wasm.numThreads = 1; // webviews are not cross-origin isolated: no SharedArrayBuffer
    const model = await OnnxCausalLm.create(
      ort,
      {
        config: spec.config,
        tokenizer: spec.tokenizer,
        tokenizerConfig: spec.tokenizerConfig,
        generationConfig: spec.generationConfig,
        onnx: new Uint8Array(spec.onnx),
        externalData: spec.externalData?.map((d) => ({ path: d.path, data: new Uint8Array(d.data) })),
        dtype: spec.dtype,
        onnxName: `${spec.name}/${spec.onnxFile ?? 'onnx/model.onnx'}`,
      },
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
