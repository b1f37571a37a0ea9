/** Every model the user can pick without browsing: embedded, downloaded and trained on a workspace. */
import * as path from 'path';
import { listDownloadedModels } from '../node/hubDownload';
import { listEmbeddedModels } from '../node/modelLoader';

export interface CatalogEntry {
  label: string;
  /** What `lmPlayground.model` would say for it. */
  spec: string;
  origin: 'embedded' | 'downloaded' | 'trained' | 'setting' | 'used before';
}

export interface ModelDirs {
  embedded: string;
  downloaded: string;
  trained: string;
}

export function modelCatalog(dirs: ModelDirs): CatalogEntry[] {
  return [
    ...listEmbeddedModels(dirs.embedded).map((name): CatalogEntry => ({ label: name, spec: name, origin: 'embedded' })),
    // Only downloads verified and test-loaded to the end: a partial one is never offered.
    ...listDownloadedModels(dirs.downloaded).map((m): CatalogEntry => ({ label: m.repo, spec: m.dir, origin: 'downloaded' })),
    ...listEmbeddedModels(dirs.trained).map((f): CatalogEntry => ({ label: f, spec: path.join(dirs.trained, f), origin: 'trained' })),
  ];
}

/**
 * The catalog with the model files and folders used before (most recent first, as LM: Select Model
 * lists them) and the active model, each once: what the playground offers.
 */
export function withUsedBefore(entries: readonly CatalogEntry[], usedBefore: readonly string[], active: string): CatalogEntry[] {
  const out = [...entries];
  const listed = new Set(entries.map((e) => e.spec));
  const add = (spec: string, origin: CatalogEntry['origin']) => {
    if (listed.has(spec)) return;
    listed.add(spec);
    out.push({ label: path.basename(spec), spec, origin });
  };
  add(active, 'setting');
  for (const spec of usedBefore) add(spec, 'used before');
  return out;
}
