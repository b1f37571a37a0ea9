/**
 * The precision variants of an ONNX causal LM as onnx-community and Xenova publish them (the file
 * names transformers.js reads: `onnx/model_q4.onnx` …), which of them a folder or a hub repository
 * has, and which one to run for a `lmPlayground.dtype` setting on a runtime. Pure: the caller says
 * which files exist.
 */
import { ModelFormatError } from '../errors';

export const DTYPES = ['fp32', 'fp16', 'q4', 'q4f16', 'int8', 'uint8', 'bnb4', 'quantized'] as const;
export type Dtype = (typeof DTYPES)[number];
export type DtypeSetting = 'auto' | Dtype;

/** The suffix of each variant's file name, after the graph's base name. */
const SUFFIX: Record<Dtype, string> = {
  fp32: '',
  fp16: '_fp16',
  q4: '_q4',
  q4f16: '_q4f16',
  int8: '_int8',
  uint8: '_uint8',
  bnb4: '_bnb4',
  quantized: '_quantized',
};

/** What each variant is, for pickers and messages. */
export const DTYPE_DESCRIPTIONS: Record<Dtype, string> = {
  fp32: 'full precision (float32)',
  fp16: 'half precision (float16 weights and cache)',
  q4: '4-bit weights (MatMulNBits), float32 activations',
  q4f16: '4-bit weights, float16 activations',
  int8: '8-bit weights (signed), dynamic quantization',
  uint8: '8-bit weights (unsigned), dynamic quantization',
  bnb4: '4-bit weights (bitsandbytes NF4/FP4)',
  quantized: '8-bit weights, dynamic quantization',
};

/**
 * Graph files per variant, in the order looked for: onnx-community's `model*.onnx` (one graph
 * with a KV cache), then Xenova's older `decoder_model_merged*.onnx` (a `use_cache_branch` input),
 * under `onnx/` and then at the folder's top.
 */
const LAYOUTS = ['onnx/model', 'onnx/decoder_model_merged', 'model', 'decoder_model_merged'];

/** Where a model computes (onnxruntime-node, onnxruntime-web's WASM or WebGPU backend): `auto`'s order depends on it. */
export type VariantRuntime = 'native' | 'wasm' | 'webgpu';

/**
 * `auto`'s order, the fastest first, as measured on a model of SmolLM2-135M's shape with one
 * thread (scripts/variantSpeed.ts, docs/VARIANT_SPEED.md). Native: 8-bit weights prefill 2.8× and
 * decode 2.5× as fast as float32, 4-bit decode 2×; float16 is no faster than float32 there and
 * takes more memory, so the more precise goes first. WASM: 8-bit prefills 2.5× as fast as float32
 * (hovers, the heat-map and the metrics are prefills) in 40 % of the memory, though float32
 * decodes about 1.3× faster; the 4-bit kernels decode 8× slower than float32, so they come last.
 * uint8, quantized (8-bit as int8) and bnb4 (4-bit as q4) were not measured and sit with their
 * kind. WebGPU (not measured: no GPU on the build machine): float16 first, as GPUs compute it
 * natively and it halves the weights read per token; 8-bit dynamic quantization last, its integer
 * kernels running on the CPU there.
 */
export const AUTO_ORDER: Record<VariantRuntime, readonly Dtype[]> = {
  native: ['int8', 'uint8', 'quantized', 'q4', 'q4f16', 'bnb4', 'fp32', 'fp16'],
  wasm: ['int8', 'uint8', 'quantized', 'fp32', 'fp16', 'q4f16', 'q4', 'bnb4'],
  webgpu: ['q4f16', 'fp16', 'q4', 'fp32', 'bnb4', 'int8', 'uint8', 'quantized'],
};

/** Variants computed in float16, which a runtime without float16 support cannot run. */
export const FLOAT16_DTYPES: readonly Dtype[] = ['fp16', 'q4f16'];

export interface GraphVariant {
  dtype: Dtype;
  /** The graph's path relative to the model folder, with `/` separators. */
  path: string;
}

export function isDtypeSetting(value: unknown): value is DtypeSetting {
  return value === 'auto' || (DTYPES as readonly unknown[]).includes(value);
}

/** The graph files a variant may have, in the order looked for. */
export function variantPaths(dtype: Dtype): string[] {
  return LAYOUTS.map((base) => `${base}${SUFFIX[dtype]}.onnx`);
}

/** Every graph file name looked for, all variants. */
export function allGraphPaths(): string[] {
  return DTYPES.flatMap(variantPaths);
}

/** The variant a graph file is, when it is one of the names looked for. */
export function variantOf(path: string): Dtype | undefined {
  return DTYPES.find((d) => variantPaths(d).includes(path));
}

/** The variants present (the first file of each found), in DTYPES order. */
export function graphVariants(exists: (relativePath: string) => boolean): GraphVariant[] {
  const out: GraphVariant[] = [];
  for (const dtype of DTYPES) {
    const path = variantPaths(dtype).find(exists);
    if (path) out.push({ dtype, path });
  }
  return out;
}

/** "fp32 (onnx/model.onnx), q4 (onnx/model_q4.onnx)". */
export function listVariants(variants: readonly GraphVariant[]): string {
  return variants.map((v) => `${v.dtype} (${v.path})`).join(', ');
}

/** What the settings ask for: a dtype or `auto`, and for `auto` the variants to try first. */
export interface DtypeRequest {
  setting: DtypeSetting;
  /**
   * Tried before `auto`'s order: the older `lmPlayground.preferQuantized: true` (the 8-bit graph),
   * the loaders' default (full precision) and the embedded models, which ship only their 8-bit graph.
   */
  prefer?: readonly Dtype[];
}

/** What the loaders run when not told: full precision where the folder has it, as before variants were chosen. */
export const FULL_PRECISION_FIRST: DtypeRequest = { setting: 'auto', prefer: ['fp32'] };

/** The older `lmPlayground.preferQuantized: true` (and `lmp --quantized`): the 8-bit graphs first. */
export const PREFER_QUANTIZED: readonly Dtype[] = ['quantized', 'int8', 'uint8'];

export interface VariantChoice extends DtypeRequest {
  runtime: VariantRuntime;
  /** The runtime computes float16 (a WebGPU adapter with shader-f16); assumed where unknown. */
  float16?: boolean;
}

/** The variants in `auto`'s order for the choice: `prefer` first, then the runtime's order. */
export function rankVariants<V extends GraphVariant>(variants: readonly V[], choice: Pick<VariantChoice, 'runtime' | 'prefer'>): V[] {
  const prefer = choice.prefer ?? [];
  const order = [...prefer, ...AUTO_ORDER[choice.runtime].filter((d) => !prefer.includes(d))];
  return [...variants].sort((a, b) => order.indexOf(a.dtype) - order.indexOf(b.dtype));
}

/**
 * The graph to run. `auto` takes the first variant present in `prefer` and then the runtime's order, leaving out
 * float16 ones when the runtime lacks float16 unless nothing else is there; an explicit dtype must
 * be present. `folder` names the model in errors.
 */
export function chooseVariant(variants: readonly GraphVariant[], choice: VariantChoice, folder: string): GraphVariant {
  if (variants.length === 0) {
    throw new ModelFormatError(`no ONNX graph (looked for ${variantPaths('fp32').join(', ')} and their precision variants, e.g. onnx/model_q4.onnx)`, folder);
  }
  if (choice.setting === 'auto') {
    const usable = choice.float16 === false ? variants.filter((v) => !FLOAT16_DTYPES.includes(v.dtype)) : variants;
    return rankVariants(usable.length ? usable : variants, choice)[0];
  }
  const found = variants.find((v) => v.dtype === choice.setting);
  if (!found) {
    throw new ModelFormatError(
      `${choice.setting} was asked for (lmPlayground.dtype, or lmp --dtype), but this folder has no ${choice.setting} graph (${variantPaths(choice.setting)[0]}); it has ${listVariants(variants)}. ` +
        `Ask for one of these or for auto, or download the ${choice.setting} variant (LM: Download Model)`,
      folder,
    );
  }
  return found;
}

/** A variant of a repository as its file listing shows it: the graph and the data files named after it. */
export interface ListedVariant extends GraphVariant {
  /** The graph and its data files together. */
  bytes: number;
  /** `model.onnx_data`, `model.onnx_data_1` … beside the graph (the names exporters give; the download fetches what the graph itself names). */
  dataFiles: string[];
}

/** The variants in a repository's file listing, with their sizes, in DTYPES order. */
export function listedVariants(files: readonly { path: string; size: number }[]): ListedVariant[] {
  const sizes = new Map(files.map((f) => [f.path, f.size]));
  return graphVariants((p) => sizes.has(p)).map((v) => {
    const dataFiles = files
      .map((f) => f.path)
      .filter((p) => p.startsWith(`${v.path}_data`) || p.startsWith(`${v.path}.data`))
      .sort();
    return { ...v, dataFiles, bytes: [v.path, ...dataFiles].reduce((sum, p) => sum + (sizes.get(p) ?? 0), 0) };
  });
}
