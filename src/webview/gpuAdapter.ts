/**
 * Whether a WebGPU adapter is a real GPU or a software rasteriser. A software adapter (Chromium's
 * SwiftShader, Mesa's llvmpipe/lavapipe/softpipe, Windows' WARP "Microsoft Basic Render Driver")
 * runs WebGPU on the CPU, far slower than onnxruntime on the same CPU: `device: auto` must never
 * pick it. Pure (no DOM): unit-tested in Node.
 */

/** What a page can read of an adapter: `isFallbackAdapter` and GPUAdapterInfo's strings. */
export interface AdapterFacts {
  isFallbackAdapter?: boolean;
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  /** The adapter offers the shader-f16 feature (float16 arithmetic). */
  float16?: boolean;
}

export interface AdapterReport {
  /** The context has an adapter at all (`webgpu` explicitly may use any). */
  present: boolean;
  /** A fallback or software adapter: `auto` does not use it. */
  software: boolean;
  /** "google swiftshader", "nvidia ampere …": for the status line and the log. */
  name: string;
  /** Whether it computes float16 (shader-f16), where the page could tell: float16 graphs need it. */
  float16?: boolean;
}

/** Names of software renderers as they appear in GPUAdapterInfo's vendor, architecture, device or description. */
const SOFTWARE_RENDERERS = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|\bwarp\b|software/i;

export function classifyAdapter(facts: AdapterFacts | undefined): AdapterReport {
  if (!facts) return { present: false, software: false, name: 'none' };
  const strings = [facts.vendor, facts.architecture, facts.device, facts.description].filter((s): s is string => typeof s === 'string' && s.trim() !== '');
  const name = strings.length ? [...new Set(strings.map((s) => s.trim()))].join(' ') : 'unnamed adapter';
  const software = facts.isFallbackAdapter === true || strings.some((s) => SOFTWARE_RENDERERS.test(s));
  return { present: true, software, name, ...(facts.float16 !== undefined ? { float16: facts.float16 } : {}) };
}
