/**
 * Model references on the Node hosts (the extension host and the CLI): the name of an embedded
 * model or a path, resolved and handed to the registry of backends (backends/registry.ts), which
 * recognises and opens it, here or in the engine's worker thread.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LmError } from '../core/errors';
import { isRemoteSpec, parseRemoteRef } from '../core/remote/remoteRef';
import type { LanguageModel } from '../core/model';
import type { DtypeRequest } from '../core/neural/onnxVariants';
import type { ModelBackend, ModelLocation, OpenOptions, RecognizedModel } from './backends/backend';
import { acceptedReferences, recognize } from './backends/registry';
import { ngramBackend, ngramFileIn } from './backends/ngramBackend';
import { embeddedModelsDir } from './embeddedModels';
import { describeFsError } from './modelFileStream';
import type { ModelFacts } from './modelSummary';
import { startEngineWorker } from './workerHost';

export const DEFAULT_MODEL = 'ngram-classics';

export { embeddedModelsDir };

/** The models in a folder of models (the embedded ones, the trained ones): its subfolders that a backend recognises. */
export function listEmbeddedModels(dir = embeddedModelsDir()): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => {
      if (!e.isDirectory()) return false;
      try {
        return recognize({ spec: e.name, path: path.join(dir, e.name), isDirectory: true }) !== undefined;
      } catch {
        return false;
      }
    })
    .map((e) => e.name)
    .sort();
}

/** Whether `spec` is the name of an embedded model: a bare name of a folder in `modelsDir`. The one test of it. */
export function isEmbeddedName(spec: string, modelsDir = embeddedModelsDir()): boolean {
  const name = spec.trim();
  return /^[\w.-]+$/.test(name) && name !== '.' && name !== '..' && fs.existsSync(path.join(modelsDir, name));
}

/**
 * The precision variant the embedded models run, whatever the setting says: the package ships
 * only the int8 graph of gpt-classics (the full-precision one stays in the repository, for
 * training and benchmarks), so that, loaded by name, it runs int8 in a checkout as installed.
 */
export const EMBEDDED_DTYPE: DtypeRequest = { setting: 'auto', prefer: ['quantized'] };

/**
 * A model setting made absolute: embedded names and absolute paths stay as they are, a relative
 * path is resolved against `baseDir` (the extension passes its first workspace folder, the CLI the
 * current folder). Without a base folder a relative path is returned as it is: `checkModelSpec`
 * refuses it.
 */
export function absoluteModelSpec(spec: string, baseDir: string | undefined, modelsDir = embeddedModelsDir()): string {
  const trimmed = spec.trim();
  if (!trimmed || isRemoteSpec(trimmed) || path.isAbsolute(trimmed) || isEmbeddedName(trimmed, modelsDir) || baseDir === undefined) return trimmed;
  return path.resolve(baseDir, trimmed);
}

/** Refuses a relative model path that no base folder resolved (the extension with no workspace folder open). */
export function checkModelSpec(spec: string, modelsDir = embeddedModelsDir()): void {
  const trimmed = spec.trim();
  if (trimmed && !isRemoteSpec(trimmed) && !path.isAbsolute(trimmed) && !isEmbeddedName(trimmed, modelsDir)) {
    throw new LmError(`the model path ${trimmed} is relative and no workspace folder is open to resolve it against: open a folder, or give an absolute path`);
  }
}

/** Why a model path cannot be used, from the error of a stat. */
function pathError(target: string, e: unknown, modelsDir: string): LmError {
  if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') {
    const names = listEmbeddedModels(modelsDir);
    // A URL of another scheme (file://, ftp://) was taken as a relative path: say what a URL may be.
    const scheme = /(?:^|[\\/])([a-z][a-z0-9+.-]+):\/+/i.exec(target)?.[1];
    const url = scheme ? `; a model given by URL must be on an http(s) server (http(s)://HOST[:PORT]/v1#MODEL), not ${scheme}://` : '';
    return new LmError(`model not found: ${target} is neither a file, a folder nor an embedded model (${names.join(', ') || 'none installed'})${url}`);
  }
  return new LmError(`cannot open model ${target}: ${describeFsError(e)}`);
}

/**
 * The backend that opens `spec` (an embedded model's name or a path; a relative path is taken
 * from `baseDir`, by default the current folder, the CLI's convention) and what it opens. Throws
 * an LmError that names what is accepted when no backend recognises it.
 */
export function recognizeModel(spec: string, modelsDir = embeddedModelsDir(), baseDir: string = process.cwd()): RecognizedModel {
  const trimmed = spec.trim();
  if (!trimmed) throw new LmError('no model given');
  if (isRemoteSpec(trimmed)) {
    // A URL names no file: the remote backend takes it (a malformed one is refused here, with why).
    const ref = parseRemoteRef(trimmed)!;
    const found = recognize({ spec: trimmed });
    if (!found) throw new LmError(`${trimmed}: no backend opens remote models`);
    return { backend: found.backend, location: found.location, name: ref.model, spec: trimmed, embedded: false };
  }
  const embedded = isEmbeddedName(trimmed, modelsDir);
  const target = embedded ? path.join(modelsDir, trimmed) : absoluteModelSpec(trimmed, baseDir, modelsDir);
  let stat: fs.Stats | undefined;
  let statError: unknown;
  try {
    stat = fs.statSync(target);
  } catch (e) {
    statError = e;
  }
  // A reference that names no file is still offered to the backends (a later one may take URLs).
  const found = recognize(stat ? { spec: trimmed, path: target, isDirectory: stat.isDirectory() } : { spec: trimmed });
  if (!found) {
    if (statError) throw pathError(target, statError, modelsDir);
    const names = listEmbeddedModels(modelsDir).join(', ') || 'none installed';
    throw new LmError(`${target} is not a model LM Playground can open; give the name of an embedded model (${names}); ${acceptedReferences()}`);
  }
  // The model's name: the embedded one's, its backend's for the file, else its folder's (the folder itself, or the one holding the file).
  const folder = fs.statSync(found.location, { throwIfNoEntry: false })?.isDirectory() ? found.location : path.dirname(found.location);
  const name = embedded ? trimmed : (found.backend.nameOf?.(found.location) ?? (path.basename(folder) || found.location));
  return { backend: found.backend, location: found.location, name, spec: trimmed, embedded };
}

/** The options a model opens with: an embedded model runs the graph it ships (EMBEDDED_DTYPE). */
/**
 * The files a local model is read from, watched for a change on the disk: a GGUF or n-gram file,
 * the n-gram file of a folder (a workspace-trained model's, which training again writes anew under
 * the same name), or a model folder's files (an ONNX export's graphs, data and JSON); none for
 * embedded models, servers and references that name nothing.
 */
export function modelFilesOf(spec: string, modelsDir = embeddedModelsDir()): string[] {
  if (isRemoteSpec(spec)) return [];
  try {
    const { location, embedded, backend } = recognizeModel(spec, modelsDir);
    if (embedded) return [];
    const stat = fs.statSync(location);
    if (stat.isFile()) return [location];
    if (!stat.isDirectory()) return [];
    if (backend.id === ngramBackend.id) {
      const file = ngramFileIn(location);
      return file ? [file] : [];
    }
    return backend.folderFiles?.(location) ?? [];
  } catch {
    return [];
  }
}

export function openOptions(model: RecognizedModel, options: OpenOptions): OpenOptions {
  return model.embedded ? { ...options, dtype: EMBEDDED_DTYPE } : options;
}

/**
 * Whether the extension runs this model off its thread, in the engine's worker thread or child
 * process: whenever its backend can, so that loading and inference never block it, unless the
 * backend keeps it on the host (small).
 */
export function runsOffHost(backend: ModelBackend, model: ModelLocation): boolean {
  const { placements } = backend.capabilities;
  return (placements.includes('node-worker') || placements.includes('node-process')) && !backend.prefersHost?.(model);
}

/**
 * Loads a model. With `inWorker` (the extension host), a backend that can run in a worker thread
 * or child process runs there; otherwise on this thread (the CLI's choice: it is its own process).
 */
export async function loadModel(
  spec: string,
  modelsDir?: string,
  options: OpenOptions & { inWorker?: boolean; baseDir?: string } = {},
): Promise<LanguageModel> {
  const { inWorker, baseDir, ...open } = options;
  const model = recognizeModel(spec, modelsDir, baseDir);
  const opts = openOptions(model, open);
  if (inWorker && runsOffHost(model.backend, model)) return startEngineWorker(model, opts);
  return model.backend.open(model, opts);
}

/** What LM: Select Model says of a model, from its files (without loading it); undefined when it cannot be read. */
export function modelFacts(spec: string, dtype?: DtypeRequest, modelsDir = embeddedModelsDir()): ModelFacts | undefined {
  try {
    const model = recognizeModel(spec, modelsDir);
    return model.backend.facts(model, openOptions(model, { dtype }));
  } catch {
    return undefined;
  }
}
