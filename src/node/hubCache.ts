/**
 * The Hugging Face hub's cache (`~/.cache/huggingface/hub`, as huggingface-cli, transformers and
 * transformers.js in Node lay it out): `models--ORG--NAME/snapshots/REVISION/` holds a repository's
 * files as symbolic links into `models--ORG--NAME/blobs/`.
 */
import * as path from 'path';

/** The repository's cache folder (`…/models--ORG--NAME`) of a path inside one of its snapshots. */
function repoCacheOf(p: string): string | undefined {
  const parts = path.resolve(p).split(path.sep);
  const at = parts.lastIndexOf('snapshots');
  if (at < 1 || at + 1 >= parts.length || !/^models--.+--.+$/.test(parts[at - 1])) return undefined;
  return parts.slice(0, at).join(path.sep) || path.sep;
}

/** True when `real` (a link's target) is a blob of the cached repository whose snapshot holds `dir`. */
export function isCachedBlobOf(dir: string, real: string): boolean {
  const repo = repoCacheOf(dir);
  return repo !== undefined && path.dirname(path.resolve(real)) === path.join(repo, 'blobs');
}

/** "ORG/NAME" for a snapshot folder of the cache (its own name is a 40-hex revision), else undefined. */
export function hubCacheModelName(folder: string): string | undefined {
  const repo = repoCacheOf(folder);
  if (!repo) return undefined;
  const m = /^models--(.+?)--(.+)$/.exec(path.basename(repo));
  return m ? `${m[1]}/${m[2]}` : undefined;
}
