/**
 * The .wasm binaries of the engine worker's two onnxruntime-web builds, fetched by the page (a
 * worker cannot load webview resource URLs) and handed to the worker with a model load.
 *
 * The WebGPU build runs the asyncify binary, whose every call into WebAssembly pays for the
 * ability to await GPU work; on the CPU the plain WASM build decodes markedly faster (see
 * docs/BENCHMARKS.md). So the page sends the plain binary whenever the model will run on the CPU.
 */

import type { WasmBinaries } from '../core/engine/protocol';
import { classifyAdapter, type AdapterFacts, type AdapterReport } from './gpuAdapter';

export interface OrtBinaryUrls {
  /** ort-wasm-simd-threaded.asyncify.wasm: onnxruntime-web's WebGPU build. */
  webgpu: string;
  /** ort-wasm-simd-threaded.wasm: onnxruntime-web's WASM build. */
  wasm: string;
}

export type BrowserDevice = 'webgpu' | 'wasm';

/** What the worker receives: the binary for each build it may use. */
export type OrtBinaries = WasmBinaries;

interface GpuAdapterLike {
  isFallbackAdapter?: boolean;
  features?: { has(feature: string): boolean };
  info?: AdapterFacts;
  requestAdapterInfo?(): Promise<AdapterFacts>;
}

interface GpuNavigator {
  gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> };
}

let adapterCheck: Promise<AdapterReport> | undefined;

/** This context's (page or worker) WebGPU adapter, classified; asked once per context. */
export function webGpuAdapter(): Promise<AdapterReport> {
  adapterCheck ??= (async () => {
    const gpu = (globalThis.navigator as unknown as GpuNavigator | undefined)?.gpu;
    if (!gpu) return classifyAdapter(undefined);
    try {
      const adapter = await gpu.requestAdapter();
      if (!adapter) return classifyAdapter(undefined);
      // `info` since Chrome 127; `requestAdapterInfo()` before (removed since).
      const info = adapter.info ?? (await adapter.requestAdapterInfo?.().catch(() => undefined)) ?? {};
      return classifyAdapter({
        vendor: info.vendor,
        architecture: info.architecture,
        device: info.device,
        description: info.description,
        isFallbackAdapter: adapter.isFallbackAdapter ?? info.isFallbackAdapter,
        float16: adapter.features ? adapter.features.has('shader-f16') : undefined,
      });
    } catch {
      return classifyAdapter(undefined);
    }
  })();
  return adapterCheck;
}

/**
 * Whether a load with this preference runs on WebGPU here: `auto` only on a real GPU (a software
 * adapter such as SwiftShader is slower than WASM on the same CPU), `webgpu` on any adapter.
 */
export async function hasWebGpuAdapter(preference: 'auto' | 'webgpu' = 'auto'): Promise<boolean> {
  const adapter = await webGpuAdapter();
  return adapter.present && (preference === 'webgpu' || !adapter.software);
}

/** Fetches each binary once; every load gets its own copy, because a load transfers (moves) it. */
export class OrtBinaryCache {
  private readonly fetched = new Map<BrowserDevice, Promise<ArrayBuffer>>();

  constructor(private readonly urls: OrtBinaryUrls) {}

  /**
   * The binaries a load with this device preference needs: WebGPU's when the page has an adapter
   * this preference may use (the worker falls back to WASM on that build if its own adapter
   * request fails), else the WASM build's.
   */
  async forDevice(preference: 'auto' | BrowserDevice): Promise<{ binaries: OrtBinaries; transfer: ArrayBuffer[] }> {
    const device: BrowserDevice = preference !== 'wasm' && (await hasWebGpuAdapter(preference)) ? 'webgpu' : 'wasm';
    const bytes = (await this.get(device)).slice(0);
    return { binaries: { [device]: bytes }, transfer: [bytes] };
  }

  private get(device: BrowserDevice): Promise<ArrayBuffer> {
    let p = this.fetched.get(device);
    if (!p) {
      const url = this.urls[device];
      p = fetch(url).then((r) => {
        if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
        return r.arrayBuffer();
      });
      p.catch(() => this.fetched.delete(device));
      this.fetched.set(device, p);
    }
    return p;
  }
}
