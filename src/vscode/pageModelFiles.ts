/**
 * What a webview page may read of the models. VS Code's resource roots are folders, so a model's
 * folder as a root would let the page fetch everything beside the model (for an n-gram file, e.g.
 * all of ~/Downloads). Instead the pages' roots are the extension's own folders, and the extension
 * reads the exact files that the model's backend lists for a webview (`webviewFiles`) and posts
 * their bytes, a piece at a time as the page asks. No vscode import: unit-tested.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LmError } from '../core/errors';
import type { ModelLocation, ModelBackend, OpenOptions, WebviewFiles } from '../node/backends/backend';
import type { RelayToPage } from '../webview/relayMessages';

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
    if (!Number.isSafeInteger(offset) || offset < 0) throw new LmError(`${file}: the page asked for bytes from ${offset}, outside its ${size}`);
    // The page asks from where the last piece ended: the file has shrunk since (hostile16 M3).
    if (offset > size) throw new LmError(`${file} changed while it was read (${size} bytes now, ${offset} read before): run again`);
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

/** The names of `model`'s files by role, which a relay page's `load` asks for piece by piece (`answerFileRead`). */
export function fileNamesForPage(model: PageModelFiles): Record<string, string> {
  return Object.fromEntries(Object.entries(model.files).map(([role, f]) => [role, f.name]));
}

/** The answer to a relay page's request for a piece of one of `model`'s files: at most PAGE_FILE_PIECE_BYTES, or why not. */
export async function answerFileRead(model: PageModelFiles, m: { read: number; role: unknown; offset: unknown }): Promise<RelayToPage> {
  try {
    if (typeof m.role !== 'string' || typeof m.offset !== 'number') throw new LmError('the page asked for a piece of a file without its role or offset');
    const piece = await readModelFileForPage(model, m.role, m.offset, PAGE_FILE_PIECE_BYTES);
    return { type: 'filePiece', read: m.read, bytes: piece.bytes, size: piece.size };
  } catch (e) {
    return { type: 'filePiece', read: m.read, error: e instanceof Error ? e.message : String(e) };
  }
}
