/**
 * GGUF models that other local tools keep: LM Studio's model folders (publisher/repository/file.gguf
 * under ~/.lmstudio/models, or ~/.cache/lm-studio/models for older versions) and Ollama's store
 * (~/.ollama/models, or $OLLAMA_MODELS: a manifest per model and tag names the blob that holds
 * the weights, a GGUF file named by its digest). For LM: Select Model's "Find GGUF models".
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface LocalGgufModel {
  /** "publisher/repository/file.gguf" (LM Studio), "model:tag" (Ollama). */
  label: string;
  path: string;
  source: 'LM Studio' | 'Ollama';
  bytes: number;
}

/** The folders looked in, for a message when nothing is found. */
export function ggufSearchFolders(home = os.homedir(), env: NodeJS.ProcessEnv = process.env): { lmStudio: string[]; ollama: string } {
  return {
    lmStudio: [path.join(home, '.lmstudio', 'models'), path.join(home, '.cache', 'lm-studio', 'models')],
    ollama: env.OLLAMA_MODELS || path.join(home, '.ollama', 'models'),
  };
}

const OLLAMA_MODEL_LAYER = 'application/vnd.ollama.image.model';
/** LM Studio nests publisher/repository/file; a little deeper is allowed, no more (a link loop, a huge tree). */
const MAX_DEPTH = 4;
const MAX_FILES = 2000;

function size(file: string): number | undefined {
  try {
    const s = fs.statSync(file);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

function lmStudioModels(root: string): LocalGgufModel[] {
  const out: LocalGgufModel[] = [];
  const walk = (dir: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (out.length >= MAX_FILES) return;
      const full = path.join(dir, e.name);
      if (e.isDirectory() && depth < MAX_DEPTH) walk(full, depth + 1);
      // Vision projectors (mmproj-*.gguf) sit beside the models and are no language model.
      else if (!e.isDirectory() && /\.gguf$/i.test(e.name) && !/^mmproj/i.test(e.name)) {
        const bytes = size(full);
        if (bytes !== undefined) out.push({ label: path.relative(root, full).split(path.sep).join('/'), path: full, source: 'LM Studio', bytes });
      }
    }
  };
  walk(root, 0);
  return out;
}

function ollamaModels(root: string): LocalGgufModel[] {
  const out: LocalGgufModel[] = [];
  const manifests = path.join(root, 'manifests');
  const walk = (dir: string, parts: string[]) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory() && parts.length < MAX_DEPTH) walk(full, [...parts, e.name]);
      else if (!e.isDirectory() && parts.length >= 2) {
        let manifest: { layers?: { mediaType?: unknown; digest?: unknown }[] };
        try {
          manifest = JSON.parse(fs.readFileSync(full, 'utf8'));
        } catch {
          continue;
        }
        const layer = manifest.layers?.find((l) => l.mediaType === OLLAMA_MODEL_LAYER);
        if (typeof layer?.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(layer.digest)) continue;
        const blob = path.join(root, 'blobs', layer.digest.replace(':', '-'));
        const bytes = size(blob);
        // registry/namespace/model/tag: the library's namespace is left out, as `ollama list` does.
        const [, namespace, ...model] = parts;
        const name = namespace === 'library' ? model.join('/') : [namespace, ...model].join('/');
        if (bytes !== undefined) out.push({ label: `${name}:${e.name}`, path: blob, source: 'Ollama', bytes });
      }
    }
  };
  walk(manifests, []);
  return out;
}

/** Every GGUF model found in LM Studio's and Ollama's folders, by source then name. */
export function findLocalGgufModels(home = os.homedir(), env: NodeJS.ProcessEnv = process.env): LocalGgufModel[] {
  const where = ggufSearchFolders(home, env);
  const found = [...where.lmStudio.flatMap(lmStudioModels), ...ollamaModels(where.ollama)];
  const seen = new Set<string>();
  return found.filter((m) => !seen.has(m.path) && seen.add(m.path)).sort((a, b) => a.source.localeCompare(b.source) || a.label.localeCompare(b.label));
}

/**
 * The Ollama name and tag ("qwen2.5:0.5b") of a blob in an Ollama store, from the manifests beside
 * it (the first by name when several tags share it); undefined for any other file. A blob's own
 * name is its digest, which tells the user nothing.
 */
export function ollamaNameOf(file: string): string | undefined {
  if (!/^sha256-[0-9a-f]{64}$/.test(path.basename(file)) || path.basename(path.dirname(file)) !== 'blobs') return undefined;
  const names = ollamaModels(path.dirname(path.dirname(file)))
    .filter((m) => path.resolve(m.path) === path.resolve(file))
    .map((m) => m.label)
    .sort();
  return names[0];
}
