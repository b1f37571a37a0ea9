/**
 * What a webview page may read of the models. VS Code's resource roots are folders, so a model's
 * folder as a root would let the page fetch everything beside the model (for an n-gram file, e.g.
 * all of ~/Downloads). Instead the pages' roots are the extension's own folders, and the extension
 * reads the exact files it offered a page and posts their bytes. No vscode import: unit-tested.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LmError } from '../core/errors';
import { ONNX_GRAPHS, TOKENIZER_CONFIG_FILE, engineFiles, findOnnxGraph } from '../core/neural/hfLayout';
import { MAX_CONFIG_FILE_BYTES, MAX_GRAPH_FILE_BYTES, MAX_TOKENIZER_FILE_BYTES } from '../node/hubDownload';
import { MAX_MODEL_BYTES, resolveModelFile, runsQuantized } from '../node/modelLoader';
import { isHuggingFaceFolder } from '../node/neuralLoader';

/** neural: config, tokenizer, tokenizerConfig (if present), onnx; n-gram: file. */
export type ModelFileName = 'config' | 'tokenizer' | 'tokenizerConfig' | 'onnx' | 'file';

export interface PageModelFiles {
  kind: 'ngram' | 'neural';
  /** The files a page may ask for, by name: absolute paths. */
  files: Partial<Record<ModelFileName, string>>;
}

/** Largest file of each kind the extension reads for a page. */
export const PAGE_FILE_LIMITS: Record<ModelFileName, number> = {
  config: MAX_CONFIG_FILE_BYTES,
  tokenizer: MAX_TOKENIZER_FILE_BYTES,
  tokenizerConfig: MAX_CONFIG_FILE_BYTES,
  onnx: MAX_GRAPH_FILE_BYTES,
  file: MAX_MODEL_BYTES,
};

/** The extension's folders a page loads its scripts, worker and onnxruntime binaries from: never a model's. */
export function pageResourceRoots(extensionDir: string): string[] {
  return [path.join(extensionDir, 'dist', 'webview'), path.join(extensionDir, 'dist', 'ort')];
}

/** The files of a Hugging Face model folder that a page loads (the graph per the quantized preference). */
export function neuralFilesForPage(dir: string, onnxRel: string): PageModelFiles {
  const relative = engineFiles(onnxRel, fs.existsSync(path.join(dir, TOKENIZER_CONFIG_FILE)));
  return { kind: 'neural', files: Object.fromEntries(Object.entries(relative).map(([role, rel]) => [role, path.join(dir, rel)])) };
}

/** The files a page needs to load the model `spec` (a path or an embedded model's name). */
export function modelFilesForPage(spec: string, embeddedDir: string, preferQuantized: boolean): PageModelFiles {
  const file = resolveModelFile(spec, embeddedDir);
  if (fs.statSync(file).isDirectory() && isHuggingFaceFolder(file)) {
    const onnx = findOnnxGraph((f) => fs.existsSync(path.join(file, f)), runsQuantized(spec, preferQuantized, embeddedDir));
    if (!onnx) throw new LmError(`model folder ${file} has no ONNX graph (${ONNX_GRAPHS.join(', ')})`);
    return neuralFilesForPage(file, onnx);
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
  const limit = PAGE_FILE_LIMITS[name as ModelFileName];
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
