/**
 * Finds and loads a model from disk (Node hosts: the extension host and the CLI). A model is an
 * ARPA file, an LM Playground n-gram file, a folder holding one, a Hugging Face model folder
 * (config.json, tokenizer.json, onnx/model.onnx), or the name of an embedded model.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LmError, ModelFormatError } from '../core/errors';
import type { LanguageModel } from '../core/model';
import { FULL_PRECISION_FIRST, type DtypeRequest } from '../core/neural/onnxVariants';
import { ngramFromChunks } from '../core/ngram/ngramFromChunks';
import { describeFsError, formatBytes, isGzipFile, modelFileChunks } from './modelFileStream';
import { isHuggingFaceFolder, loadHuggingFaceFolder, type NeuralLoadOptions } from './neuralLoader';
import { startNeuralWorker } from './workerHost';

import { MAX_MODEL_BYTES } from '../core/modelLimits';

export { MAX_MODEL_BYTES };
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

/** Whether `spec` is the name of an embedded model (a bare name, a folder in modelsDir). */
function isEmbeddedName(spec: string, modelsDir: string): boolean {
  return /^[\w.-]+$/.test(spec) && fs.existsSync(path.join(modelsDir, spec));
}

/**
 * The precision variant a load of `spec` asks for. The package ships only the int8 graph of the
 * embedded gpt-classics (the full-precision one stays in the repository, for training and
 * benchmarks): loaded by name, an embedded model runs int8 in a checkout as it does installed,
 * whatever the setting says.
 */
export function effectiveDtype(spec: string, dtype: DtypeRequest | undefined, modelsDir = embeddedModelsDir()): DtypeRequest {
  if (isEmbeddedName(spec.trim(), modelsDir)) return { setting: 'auto', prefer: ['quantized'] };
  return dtype ?? FULL_PRECISION_FIRST;
}

/**
 * A model setting made absolute: embedded names and absolute paths stay as they are, a relative
 * path is resolved against `baseDir` (the extension passes its first workspace folder, the CLI the
 * current folder). Without a base folder a relative path is returned as it is: `checkModelSpec`
 * refuses it.
 */
export function absoluteModelSpec(spec: string, baseDir: string | undefined, modelsDir = embeddedModelsDir()): string {
  const trimmed = spec.trim();
  if (!trimmed || path.isAbsolute(trimmed) || isEmbeddedName(trimmed, modelsDir) || baseDir === undefined) return trimmed;
  return path.resolve(baseDir, trimmed);
}

/** Refuses a relative model path that no base folder resolved (the extension with no workspace folder open). */
export function checkModelSpec(spec: string, modelsDir = embeddedModelsDir()): void {
  const trimmed = spec.trim();
  if (trimmed && !path.isAbsolute(trimmed) && !isEmbeddedName(trimmed, modelsDir)) {
    throw new LmError(`the model path ${trimmed} is relative and no workspace folder is open to resolve it against: open a folder, or give an absolute path`);
  }
}

/** Why a model path cannot be used, from the error of a stat or a directory listing. */
function pathError(target: string, e: unknown, modelsDir: string): LmError {
  if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') {
    const names = listEmbeddedModels(modelsDir);
    return new LmError(`model not found: ${target} is neither a file, a folder nor an embedded model (${names.join(', ') || 'none installed'})`);
  }
  return new LmError(`cannot open model ${target}: ${describeFsError(e)}`);
}

/**
 * Resolves a model spec (path or embedded name) to a file to load. A relative path is resolved
 * against `baseDir` (default: the current folder, the CLI's convention).
 */
export function resolveModelFile(spec: string, modelsDir = embeddedModelsDir(), baseDir: string = process.cwd()): string {
  const trimmed = spec.trim();
  if (!trimmed) throw new LmError('no model given');
  if (isEmbeddedName(trimmed, modelsDir)) {
    if (isHuggingFaceFolder(path.join(modelsDir, trimmed))) return path.join(modelsDir, trimmed);
    const file = NGRAM_FILE_NAMES.map((f) => path.join(modelsDir, trimmed, f)).find((f) => fs.existsSync(f));
    if (file) return file;
  }
  const target = absoluteModelSpec(trimmed, baseDir, modelsDir);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch (e) {
    throw pathError(target, e, modelsDir);
  }
  if (stat.isDirectory()) {
    if (isHuggingFaceFolder(target)) return target;
    let listing: string[];
    try {
      listing = fs.readdirSync(target);
    } catch (e) {
      throw pathError(target, e, modelsDir);
    }
    const inside = [...NGRAM_FILE_NAMES, ...listing.filter((f) => f.endsWith('.arpa')).sort()];
    const found = inside.find((f) => fs.existsSync(path.join(target, f)));
    if (!found) throw new LmError(`model folder ${target} has no config.json (Hugging Face layout), ${NGRAM_FILE_NAMES.join(', ')} or .arpa file`);
    return path.join(target, found);
  }
  return target;
}

export interface ModelLimits {
  /** Cap on a model file's size and on what it decompresses to (default MAX_MODEL_BYTES). */
  maxBytes?: number;
}

/**
 * Loads an n-gram model file (LM Playground binary or ARPA, gzipped or not) as a stream: ARPA text
 * is parsed chunk by chunk, a binary file is copied once into a buffer of its declared size; both
 * stop at `maxBytes`, and a binary as soon as it passes the length its header declares.
 */
export async function loadModelFile(file: string, name = path.basename(path.dirname(file)) || file, limits: ModelLimits = {}): Promise<LanguageModel> {
  const maxBytes = limits.maxBytes ?? MAX_MODEL_BYTES;
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (e) {
    throw new LmError(`cannot read model ${file}: ${describeFsError(e)}`);
  }
  // Before any open: opening a FIFO for reading blocks, and a device never ends.
  if (stat.isDirectory()) throw new LmError(`cannot read model ${file}: it is a folder`);
  if (!stat.isFile()) throw new ModelFormatError('not a regular file (a device, a FIFO or a socket cannot be a model)', file);
  const size = stat.size;
  if (size > maxBytes) throw new ModelFormatError(`file is ${formatBytes(size)}, above the ${formatBytes(maxBytes)} limit for model data`, file);
  if (size === 0) throw new ModelFormatError('file is empty', file);
  const gzipped = isGzipFile(file);
  return ngramFromChunks(modelFileChunks(file, maxBytes), file, name, { maxBytes, size: gzipped ? undefined : size });
}

/**
 * Loads a model. With `inWorker`, a neural model runs in a worker thread (the extension host's
 * choice); otherwise in this thread (the CLI's).
 */
export async function loadModel(
  spec: string,
  modelsDir?: string,
  neural: NeuralLoadOptions & ModelLimits & { inWorker?: boolean; baseDir?: string } = {},
): Promise<LanguageModel> {
  const file = resolveModelFile(spec, modelsDir, neural.baseDir);
  const isEmbedded = !spec.includes('/') && !spec.includes('\\') && file.startsWith(modelsDir ?? embeddedModelsDir());
  if (fs.statSync(file).isDirectory()) {
    const name = isEmbedded ? spec : path.basename(file);
    const dtype = effectiveDtype(spec, neural.dtype, modelsDir);
    if (neural.inWorker) return startNeuralWorker({ dir: file, name, device: neural.device ?? 'auto', threads: neural.threads, dtype });
    return loadHuggingFaceFolder(file, name, { ...neural, dtype });
  }
  return loadModelFile(file, isEmbedded ? spec : undefined, { maxBytes: neural.maxBytes });
}
