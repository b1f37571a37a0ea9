/**
 * What a webview page may read of the models. VS Code's resource roots are folders, so a model's
 * folder as a root would let the page fetch everything beside the model (for an n-gram file, e.g.
 * all of ~/Downloads). Instead the pages' roots are the extension's own folders, and the extension
 * reads the exact files that the model's backend lists for a webview (`webviewFiles`) and posts
 * their bytes. No vscode import: unit-tested.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ModelFileBytes } from '../core/engine/protocol';
import { LmError } from '../core/errors';
import type { ModelLocation, ModelBackend, OpenOptions, WebviewFiles } from '../node/backends/backend';

/** The files of one model that a page may ask for, by role, and the runtime the page adds to its load. */
export interface PageModelFiles extends WebviewFiles {
  /** The registry's name of the backend that opens it in the page's worker. */
  backend: string;
}

/** The extension's folders a page loads its scripts, worker and onnxruntime binaries from: never a model's. */
export function pageResourceRoots(extensionDir: string): string[] {
  return [path.join(extensionDir, 'dist', 'webview'), path.join(extensionDir, 'dist', 'ort')];
}

/** The files a page needs to run `model`; an error when its backend does not run in a webview. */
export function modelFilesForPage(model: ModelLocation & { backend: ModelBackend }, options: OpenOptions): PageModelFiles {
  const { backend } = model;
  if (!backend.webviewFiles || !backend.capabilities.placements.includes('webview-worker')) {
    throw new LmError(`${model.name}: models of the ${backend.id} backend do not run in a webview`);
  }
  return { backend: backend.id, ...backend.webviewFiles(model, options) };
}

/**
 * The most of a file one message carries to the playground's page: the page asks piece by piece
 * (drive16 H1: a 1.9 GB graph read and posted whole held about three copies in the extension host,
 * 5.9 GB at the peak).
 */
export const PAGE_FILE_PIECE_BYTES = 64 * 2 ** 20;

/**
 * Reads the file of role `role` of `model` for a page: from `offset`, at most `maxBytes`, into an
 * ArrayBuffer of its own (postMessage transfers it whole), with the file's size. Any other role,
 * and a file above its limit, is refused.
 */
export async function readModelFileForPage(
  model: PageModelFiles,
  role: string,
  offset = 0,
  maxBytes = Number.POSITIVE_INFINITY,
): Promise<{ bytes: ArrayBuffer; size: number }> {
  const entry = Object.hasOwn(model.files, role) ? model.files[role] : undefined;
  if (!entry) throw new LmError(`the page asked for "${role}", which is not a file of this model (${Object.keys(model.files).join(', ')})`);
  const { path: file, maxBytes: limit } = entry;
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch (e) {
    throw new LmError(`cannot read model file ${file}: ${(e as Error).message}`);
  }
  try {
    const { size } = await handle.stat();
    if (size > limit) throw new LmError(`${file}: ${(size / 2 ** 20).toFixed(1)} MiB is above the ${(limit / 2 ** 20).toFixed(0)} MiB limit for such a file`);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > size)
      throw new LmError(`${file}: the page asked for bytes from ${offset}, outside its ${size}`);
    const bytes = new Uint8Array(Math.min(size - offset, maxBytes));
    let read = 0;
    while (read < bytes.length) {
      const { bytesRead } = await handle.read(bytes, read, bytes.length - read, offset + read);
      if (bytesRead === 0) throw new LmError(`${file} shrank while it was read`);
      read += bytesRead;
    }
    return { bytes: bytes.buffer, size };
  } finally {
    await handle.close();
  }
}

/** Every file of `model`, read for a page's load. */
export async function readModelFilesForPage(model: PageModelFiles): Promise<Record<string, ModelFileBytes>> {
  const roles = Object.keys(model.files);
  const buffers = await Promise.all(roles.map(async (role) => (await readModelFileForPage(model, role)).bytes));
  return Object.fromEntries(roles.map((role, i) => [role, { name: model.files[role].name, bytes: buffers[i] }]));
}
