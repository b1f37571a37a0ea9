/**
 * A graph's external data files on disk (core/neural/onnxExternalData.ts reads their names from
 * the graph): each must be a regular file beside the graph, at least as long as the graph reads.
 * onnxruntime-node is given the graph's path and maps these files itself; onnxruntime-web (WASM in
 * Node, a webview's worker) is given them as `externalData`.
 */
import * as fs from 'fs';
import { OPEN_READ_NO_WAIT } from './fileErrors';
import * as path from 'path';
import { ModelFormatError } from '../core/errors';
import {
  ExternalDataLocationError,
  ExternalDataSizeError,
  NotOnnxError,
  checkExternalDataSizes,
  externalDataFiles,
  type ByteSource,
  type ExternalDataFile,
} from '../core/neural/onnxExternalData';
import { isCachedBlobOf } from './hubCache';
import { placeholderKind, placeholderMessage } from './placeholderFile';
import { describeFsError } from './modelFileStream';

export interface ExternalDataOnDisk {
  /** As the graph names it (relative to the graph's folder, `/` separators). */
  location: string;
  /** Absolute path. */
  file: string;
  size: number;
}

/** The file behind an open descriptor as a byte source. */
function fdSource(fd: number, size: number): ByteSource {
  return {
    size,
    read(position, length) {
      const buffer = Buffer.alloc(Math.max(0, Math.min(length, size - position)));
      let n = 0;
      while (n < buffer.length) {
        const got = fs.readSync(fd, buffer, n, buffer.length - n, position + n);
        if (got === 0) break;
        n += got;
      }
      return new Uint8Array(buffer.buffer, buffer.byteOffset, n);
    },
  };
}

/**
 * The external data locations the graph at `graphFile` names, and the size each file needs. None
 * for bytes that are no ONNX model: onnxruntime, which loads the graph next, says what is wrong.
 */
export function readExternalDataNames(graphFile: string): ExternalDataFile[] {
  let fd: number | undefined;
  try {
    fd = fs.openSync(graphFile, OPEN_READ_NO_WAIT);
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new ModelFormatError('not a regular file', graphFile);
    return externalDataFiles(fdSource(fd, stat.size));
  } catch (e) {
    if (e instanceof ModelFormatError) throw e;
    if (e instanceof NotOnnxError) return [];
    if (e instanceof ExternalDataLocationError) throw new ModelFormatError(`${e.message}: refused`, graphFile);
    throw new ModelFormatError(`cannot read: ${describeFsError(e)}`, graphFile);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * The graph's external data files, each checked: present, a regular file, not shorter than the
 * graph reads. An error names the missing or short file, the graph that needs it and the fix.
 */
export function graphExternalData(graphFile: string): ExternalDataOnDisk[] {
  const dir = path.dirname(graphFile);
  const graph = path.basename(graphFile);
  const files = readExternalDataNames(graphFile);
  const found = files.map(({ location }) => {
    const file = path.join(dir, ...location.split('/'));
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch (e) {
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
      throw new ModelFormatError(
        missing
          ? `missing: the graph ${graph} keeps its weights in this file (its external data). Put it beside ${graph} (LM: Download Model fetches a variant with its data files), or choose a variant the folder has whole (lmPlayground.dtype, or lmp --dtype)`
          : `cannot read the external data of ${graph}: ${describeFsError(e)}`,
        file,
      );
    }
    if (!stat.isFile()) throw new ModelFormatError(`not a regular file (external data of ${graph}): put the file ${location} of this export there`, file);
    const stub = placeholderKind(file);
    if (stub) throw new ModelFormatError(placeholderMessage(stub, `the weights of ${graph} (its external data)`), file);
    // A link may lead out of the model's folder, where nothing vouches for what it reads; but in the
    // hub cache every file is a link to the repository's blobs (hostile13 M2: such folders were refused).
    const real = fs.realpathSync(file);
    const realDir = fs.realpathSync(dir);
    const outside = path.relative(realDir, real).startsWith('..') || path.isAbsolute(path.relative(realDir, real));
    if (outside && !isCachedBlobOf(realDir, real)) {
      throw new ModelFormatError(
        `leads outside the model's folder (to ${real}): the external data of ${graph} must be a file inside its folder; copy it there`,
        file,
      );
    }
    return { location, file, size: stat.size };
  });
  try {
    checkExternalDataSizes(files, (location) => found.find((f) => f.location === location)?.size, graph);
  } catch (e) {
    if (!(e instanceof ExternalDataSizeError)) throw e;
    throw new ModelFormatError(`${e.message}; download it again`, path.join(dir, ...e.file.location.split('/')));
  }
  return found;
}
