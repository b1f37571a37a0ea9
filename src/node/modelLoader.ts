/**
 * Finds and loads a model from disk (Node hosts: the extension host and the CLI). A model is an
 * ARPA file, an LM Playground n-gram file, a folder holding one, a Hugging Face model folder
 * (config.json, tokenizer.json, onnx/model.onnx), or the name of an embedded model.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { LmError, ModelFormatError } from '../core/errors';
import type { LanguageModel } from '../core/model';
import { ngramFromBytes } from '../core/ngram/ngramFromBytes';
import { isHuggingFaceFolder, loadHuggingFaceFolder, type NeuralLoadOptions } from './neuralLoader';
import { startNeuralWorker } from './workerHost';

/** Files above this size are refused before reading (a model this large would not fit anyway). */
export const MAX_MODEL_BYTES = 1.5 * 1024 * 1024 * 1024;
export const NGRAM_FILE_NAMES = ['model.ngram.gz', 'model.ngram'];
export const DEFAULT_MODEL = 'ngram-classics';

/**
 * The folder with the embedded models: `models/` at the package root, found above the running code
 * (dist/ in the package and the repo, out/src/node/ when the tests run the compiled sources).
 */
export function embeddedModelsDir(): string {
  const candidates = [1, 2, 3].map((up) => path.join(__dirname, ...Array(up).fill('..'), 'models'));
  return candidates.find((d) => fs.existsSync(d)) ?? candidates[0];
}

export function listEmbeddedModels(dir = embeddedModelsDir()): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && (isHuggingFaceFolder(path.join(dir, e.name)) || NGRAM_FILE_NAMES.some((f) => fs.existsSync(path.join(dir, e.name, f)))))
    .map((e) => e.name)
    .sort();
}

/** Resolves a model spec (path or embedded name) to a file to load. */
export function resolveModelFile(spec: string, modelsDir = embeddedModelsDir()): string {
  const trimmed = spec.trim();
  if (!trimmed) throw new LmError('no model given');
  if (/^[\w.-]+$/.test(trimmed) && fs.existsSync(path.join(modelsDir, trimmed))) {
    if (isHuggingFaceFolder(path.join(modelsDir, trimmed))) return path.join(modelsDir, trimmed);
    const file = NGRAM_FILE_NAMES.map((f) => path.join(modelsDir, trimmed, f)).find((f) => fs.existsSync(f));
    if (file) return file;
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(trimmed);
  } catch {
    const names = listEmbeddedModels(modelsDir);
    throw new LmError(`model not found: ${trimmed} is neither a file, a folder nor an embedded model (${names.join(', ') || 'none installed'})`);
  }
  if (stat.isDirectory()) {
    if (isHuggingFaceFolder(trimmed)) return trimmed;
    const inside = [...NGRAM_FILE_NAMES, ...fs.readdirSync(trimmed).filter((f) => f.endsWith('.arpa')).sort()];
    const found = inside.find((f) => fs.existsSync(path.join(trimmed, f)));
    if (!found) throw new LmError(`model folder ${trimmed} has no config.json (Hugging Face layout), ${NGRAM_FILE_NAMES.join(', ')} or .arpa file`);
    return path.join(trimmed, found);
  }
  return trimmed;
}

export function loadModelFile(file: string, name = path.basename(path.dirname(file)) || file): LanguageModel {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch (e) {
    throw new LmError(`cannot read model ${file}: ${(e as Error).message}`);
  }
  if (size > MAX_MODEL_BYTES) throw new ModelFormatError(`file is ${(size / 2 ** 30).toFixed(1)} GiB, above the 1.5 GiB limit`, file);
  if (size === 0) throw new ModelFormatError('file is empty', file);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new LmError(`cannot read model ${file}: ${(e as Error).message}`);
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = zlib.gunzipSync(bytes);
    } catch (e) {
      throw new ModelFormatError(`corrupt gzip data: ${(e as Error).message}`, file);
    }
  }
  return ngramFromBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file, name);
}

/**
 * Loads a model. With `inWorker`, a neural model runs in a worker thread (the extension host's
 * choice); otherwise in this thread (the CLI's).
 */
export async function loadModel(spec: string, modelsDir?: string, neural: NeuralLoadOptions & { inWorker?: boolean } = {}): Promise<LanguageModel> {
  const file = resolveModelFile(spec, modelsDir);
  const isEmbedded = !spec.includes('/') && !spec.includes('\\') && file.startsWith(modelsDir ?? embeddedModelsDir());
  if (fs.statSync(file).isDirectory()) {
    const name = isEmbedded ? spec : path.basename(file);
    if (neural.inWorker) return startNeuralWorker({ dir: file, name, device: neural.device ?? 'auto', threads: neural.threads, preferQuantized: neural.preferQuantized });
    return loadHuggingFaceFolder(file, name, neural);
  }
  return loadModelFile(file, isEmbedded ? spec : undefined);
}
