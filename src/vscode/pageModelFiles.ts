/**
 * What a webview page may read of the models. VS Code's resource roots are folders, so a model's
 * folder as a root would let the page fetch everything beside the model (for an n-gram file, e.g.
 * all of ~/Downloads). Instead the pages' roots are the extension's own folders, and the extension
 * reads the exact files it offered a page and posts their bytes. No vscode import: unit-tested.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LmError } from '../core/errors';
import type { DtypeRequest, GraphVariant, VariantRuntime } from '../core/neural/onnxVariants';
import { graphExternalData } from '../node/externalData';
import { MAX_CONFIG_FILE_BYTES, MAX_GRAPH_FILE_BYTES, MAX_TOKENIZER_FILE_BYTES } from '../node/hubDownload';
import { MAX_MODEL_BYTES, effectiveDtype, resolveModelFile } from '../node/modelLoader';
import { chooseFolderGraph, isHuggingFaceFolder } from '../node/neuralLoader';

/**
 * neural: config, tokenizer, tokenizerConfig and generationConfig (if present), onnx, and
 * `data:LOCATION` for each external data file the graph names (LOCATION as the graph writes it);
 * n-gram: file.
 */
export type ModelFileName = 'config' | 'tokenizer' | 'tokenizerConfig' | 'generationConfig' | 'onnx' | 'file' | `${typeof DATA_PREFIX}${string}`;

/** The name prefix of a graph's external data files. */
export const DATA_PREFIX = 'data:';

export interface PageModelFiles {
  kind: 'ngram' | 'neural';
  /** The files a page may ask for, by name: absolute paths. */
  files: Partial<Record<ModelFileName, string>>;
  /** neural: the graph chosen (its path in the folder and its precision variant). */
  graph?: GraphVariant;
}

/** Largest file of each kind the extension reads for a page. */
export const PAGE_FILE_LIMITS: Record<'config' | 'tokenizer' | 'tokenizerConfig' | 'generationConfig' | 'onnx' | 'file' | 'data', number> = {
  config: MAX_CONFIG_FILE_BYTES,
  tokenizer: MAX_TOKENIZER_FILE_BYTES,
  tokenizerConfig: MAX_CONFIG_FILE_BYTES,
  generationConfig: MAX_CONFIG_FILE_BYTES,
  onnx: MAX_GRAPH_FILE_BYTES,
  data: MAX_GRAPH_FILE_BYTES,
  file: MAX_MODEL_BYTES,
};

/** The extension's folders a page loads its scripts, worker and onnxruntime binaries from: never a model's. */
export function pageResourceRoots(extensionDir: string): string[] {
  return [path.join(extensionDir, 'dist', 'webview'), path.join(extensionDir, 'dist', 'ort')];
}

/** The files of a Hugging Face model folder that a page loads: the JSON files, the graph chosen and its external data (checked here, so that a missing file is named before any byte is sent). */
export function neuralFilesForPage(dir: string, graph: GraphVariant): PageModelFiles {
  const optional = { tokenizerConfig: 'tokenizer_config.json', generationConfig: 'generation_config.json' };
  const onnx = path.join(dir, ...graph.path.split('/'));
  const files: Partial<Record<ModelFileName, string>> = {
    config: path.join(dir, 'config.json'),
    tokenizer: path.join(dir, 'tokenizer.json'),
  };
  for (const [name, rel] of Object.entries(optional)) if (fs.existsSync(path.join(dir, rel))) files[name as ModelFileName] = path.join(dir, rel);
  files.onnx = onnx;
  for (const d of graphExternalData(onnx)) files[`${DATA_PREFIX}${d.location}`] = d.file;
  return { kind: 'neural', files, graph };
}

/** The files a page needs to load the model `spec` (a path or an embedded model's name), the graph chosen for `dtype` on `runtime`. */
export function modelFilesForPage(spec: string, embeddedDir: string, dtype: DtypeRequest, runtime: VariantRuntime = 'wasm'): PageModelFiles {
  const file = resolveModelFile(spec, embeddedDir);
  if (fs.statSync(file).isDirectory() && isHuggingFaceFolder(file)) {
    return neuralFilesForPage(file, chooseFolderGraph(file, effectiveDtype(spec, dtype, embeddedDir), runtime));
  }
  return { kind: 'ngram', files: { file } };
}

/**
 * Reads a file listed in `model` for a page, into an ArrayBuffer of its own (postMessage transfers
 * it whole). Any other name, and a file above its limit, is refused.
 */
export async function readModelFileForPage(model: PageModelFiles, name: string): Promise<ArrayBuffer> {
  const file = Object.prototype.hasOwnProperty.call(model.files, name) ? model.files[name as ModelFileName] : undefined;
  if (!file) throw new LmError(`the page asked for "${name}", which is not a file of this model (${Object.keys(model.files).join(', ')})`);
  const limit = name.startsWith(DATA_PREFIX) ? PAGE_FILE_LIMITS.data : PAGE_FILE_LIMITS[name as keyof typeof PAGE_FILE_LIMITS];
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch (e) {
    throw new LmError(`cannot read model file ${file}: ${(e as Error).message}`);
  }
  try {
    const { size } = await handle.stat();
    if (size > limit) throw new LmError(`${file}: ${(size / 2 ** 20).toFixed(1)} MiB is above the ${(limit / 2 ** 20).toFixed(0)} MiB limit for such a file`);
    const bytes = new Uint8Array(size);
    let read = 0;
    while (read < size) {
      const { bytesRead } = await handle.read(bytes, read, size - read, read);
      if (bytesRead === 0) throw new LmError(`${file} shrank while it was read`);
      read += bytesRead;
    }
    return bytes.buffer;
  } finally {
    await handle.close();
  }
}
