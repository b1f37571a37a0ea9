/**
 * The n-gram backend: an ARPA file (KenLM, SRILM, `lmp train-ngram --arpa`) or an LM Playground
 * binary (`.ngram`), either gzipped or not, or a folder holding one; the format is told from the
 * content. Registered last: it takes any file that no other backend claims, and its reader says
 * what a file that is no model is.
 */
import * as fs from 'fs';
import { OPEN_READ_NO_WAIT } from '../fileErrors';
import * as path from 'path';
import * as zlib from 'zlib';
import { LmError, ModelFormatError } from '../../core/errors';
import { MAX_MODEL_BYTES } from '../../core/modelLimits';
import { NGRAM_CAPABILITIES, NgramLanguageModel } from '../../core/ngram/ngramLanguageModel';
import { readNgramBinaryInSlices } from '../../core/ngram/binaryFormat';
import { ngramFileKind, SNIFF_BYTES, type NgramFileKind } from '../../core/ngram/ngramFromBytes';
import { ngramFromChunks } from '../../core/ngram/ngramFromChunks';
import { unpackTokenizer } from '../../core/ngram/packedVocabulary';
import { embeddedNgramChecksum } from '../embeddedModels';
import { describeFsError, formatBytes, isGzipFile, modelFileChunks, openRegularFile } from '../modelFileStream';
import { ngramFacts } from '../modelSummary';
import type { ModelBackend, ModelReference } from './backend';

/** The model file of an n-gram model's folder (an embedded or a trained one), in order of preference. */
export const NGRAM_FILE_NAMES = ['model.ngram', 'model.ngram.gz'];

/** The n-gram file in a folder: model.ngram, else model.ngram.gz, else its first .arpa file by name. */
export function ngramFileIn(dir: string): string | undefined {
  const named = NGRAM_FILE_NAMES.map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
  if (named) return named;
  let listing: string[];
  try {
    listing = fs.readdirSync(dir);
  } catch (e) {
    throw new LmError(`cannot open model ${dir}: ${describeFsError(e)}`);
  }
  const arpa = listing.filter((f) => f.endsWith('.arpa')).sort()[0];
  return arpa ? path.join(dir, arpa) : undefined;
}

/**
 * Loads an n-gram model file (LM Playground binary or ARPA, gzipped or not) as a stream: ARPA text
 * is parsed chunk by chunk, and refused when the model its header declares is above `maxBytes`; a
 * binary file is copied once into a buffer of its declared size, refused above `maxBytes`, and
 * stops as soon as it passes the length its header declares.
 */
export async function loadNgramFile(
  file: string,
  name = path.basename(path.dirname(file)) || file,
  limits: { maxBytes?: number } = {},
): Promise<NgramLanguageModel> {
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
  if (size === 0) throw new ModelFormatError('file is empty', file);
  const gzipped = isGzipFile(file);
  // ARPA text is parsed as it comes and not kept: its length is not capped, the model its header
  // declares is (ngramFromChunks). Other data is held whole, so its size is capped before reading.
  const kind = fileKind(file, gzipped);
  const text = kind === 'arpa';
  if (!text && size > maxBytes) throw new ModelFormatError(`file is ${formatBytes(size)}, above the ${formatBytes(maxBytes)} limit for model data`, file);
  if (kind === 'binary' && !gzipped) {
    // Read straight into one buffer of the file's size (asynchronously, in pieces): no chunk copied
    // twice. The reader checks the length its header declares.
    let bytes: Uint8Array;
    let identity: string | undefined;
    try {
      const handle = await openRegularFile(file);
      try {
        const before = fs.fstatSync(handle.fd, { bigint: true });
        bytes = await readPieces(handle, Number(before.size));
        const unchanged = fileIdentity(fs.fstatSync(handle.fd, { bigint: true })) === fileIdentity(before);
        // A file written while it was read is read again whole, and has no identity: its checksum is computed, not remembered.
        if (unchanged) identity = fileIdentity(before);
        else bytes = await handle.readFile();
      } finally {
        await handle.close();
      }
    } catch (e) {
      if (e instanceof LmError) throw e;
      throw new LmError(`cannot read model ${file}: ${describeFsError(e)}`);
    }
    // The buffer is this load's own: decoded in place. The embedded model's trie was checked by a unit test.
    const { model, metadata, checksum } = await readNgramBinaryInSlices(bytes, file, nextTurn, {
      decodeInPlace: true,
      trustedChecksum: embeddedNgramChecksum(file),
      verifiedChecksum: identity === undefined ? undefined : verifiedChecksums.get(identity),
    });
    if (identity !== undefined && checksum !== undefined) rememberChecksum(identity, checksum);
    return new NgramLanguageModel(model, metadata.tokenizer, metadata.name || name);
  }
  return ngramFromChunks(modelFileChunks(file, text ? Infinity : maxBytes), file, name, { maxBytes, size: gzipped ? undefined : size, pause: nextTurn });
}

/**
 * Checksums verified in this process, by the identity of the file they were computed on: loading
 * the unchanged file again (a model reloaded, switched back to) skips the pass over its bytes.
 * Any write to a file changes its change time (which no program can set back), a copy or a
 * replacement its inode, so a changed file is always verified again.
 */
const verifiedChecksums = new Map<string, number>();
/** Files remembered; the oldest is forgotten first. */
const VERIFIED_FILES = 16;

function rememberChecksum(identity: string, checksum: number): void {
  verifiedChecksums.delete(identity);
  verifiedChecksums.set(identity, checksum);
  if (verifiedChecksums.size > VERIFIED_FILES) verifiedChecksums.delete(verifiedChecksums.keys().next().value!);
}

/** Device, inode, size, modification and change times (nanoseconds) of a file; none where the file system gives no inode number. */
function fileIdentity(s: fs.BigIntStats): string | undefined {
  return s.ino === 0n ? undefined : `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

/**
 * Bytes read per request to the thread pool. fs.promises.readFile reads 512 KiB at a time, and
 * each piece wakes this thread once (66 times for the embedded model): on a busy machine every
 * wake-up waits for a core (25 ms of a 0.1 s load idle). A piece of 8 MiB is a copy of a few
 * milliseconds from the page cache, short enough not to hold a thread of the pool for long.
 */
const READ_PIECE = 8 << 20;

/** The first `size` bytes of the file (fewer if it ends before). */
async function readPieces(handle: fs.promises.FileHandle, size: number): Promise<Uint8Array> {
  const bytes = Buffer.allocUnsafeSlow(size);
  let at = 0;
  while (at < size) {
    const { bytesRead } = await handle.read(bytes, at, Math.min(READ_PIECE, size - at), at);
    if (bytesRead === 0) break;
    at += bytesRead;
  }
  return at === size ? bytes : bytes.subarray(0, at);
}

/** A turn of the event loop: what is waiting (the editor's requests, on the host) runs before the load goes on. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** What the file's first bytes (gunzipped when it is gzipped) say it is; 'other' when they cannot be read. */
function fileKind(file: string, gzipped: boolean): NgramFileKind {
  const head = Buffer.alloc(gzipped ? 1 << 16 : SNIFF_BYTES);
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, OPEN_READ_NO_WAIT);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    // A partial inflate of the start: the rest of the stream is not needed to tell the format.
    const bytes = gzipped ? zlib.gunzipSync(head.subarray(0, n), { finishFlush: zlib.constants.Z_SYNC_FLUSH }) : head.subarray(0, n);
    return ngramFileKind(bytes.subarray(0, SNIFF_BYTES));
  } catch {
    // The loader reads the file again and says what is wrong with it.
    return 'other';
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Model files from this size run in a worker thread, where a long load cannot hold the host: ARPA
 * text (parsed token by token, in slices) and any other file from NGRAM_WORKER_MIN_BYTES; an LM
 * Playground binary from NGRAM_BINARY_WORKER_MIN_BYTES of data, a gzipped one counted at 3× its
 * size (about what n-gram arrays decompress to). Below them the model loads on the host's thread
 * and a query answers without a round trip to a worker: the embedded ngram-classics (33.8 MB, byte
 * planes) loads there in one read and one pass of decoding and checks.
 */
export const NGRAM_WORKER_MIN_BYTES = 16 * 1024 * 1024;
export const NGRAM_BINARY_WORKER_MIN_BYTES = 36 * 1024 * 1024;
const GZIP_DATA_RATIO = 3;

function prefersHost(file: string): boolean {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  // A file that cannot be read fails its load on the host, which says why.
  if (!stat?.isFile()) return true;
  const size = stat.size;
  if (size >= NGRAM_BINARY_WORKER_MIN_BYTES) return false;
  let gzipped: boolean;
  try {
    gzipped = isGzipFile(file);
  } catch {
    return true;
  }
  if (fileKind(file, gzipped) !== 'binary') return size < NGRAM_WORKER_MIN_BYTES;
  return (gzipped ? GZIP_DATA_RATIO * size : size) < NGRAM_BINARY_WORKER_MIN_BYTES;
}

export const ngramBackend: ModelBackend = {
  id: 'ngram',
  label: 'ARPA (.arpa, e.g. from KenLM), LM Playground n-gram (.ngram, .ngram.gz)',
  accepts: `an ARPA file (.arpa, e.g. from KenLM's lmplz), an LM Playground n-gram file (.ngram, from lmp train-ngram), either optionally gzipped (.gz), or a folder holding ${NGRAM_FILE_NAMES.join(', ')} or an .arpa file`,
  fileExtensions: ['arpa', 'ngram', 'gz'],
  capabilities: NGRAM_CAPABILITIES,
  recognize(ref: ModelReference): string | undefined {
    if (ref.path === undefined) return undefined;
    return ref.isDirectory ? ngramFileIn(ref.path) : ref.path;
  },
  open: (model, options) => loadNgramFile(model.location, model.name, { maxBytes: options.maxBytes }),
  facts: (model) => ngramFacts(model.location),
  prefersHost: (model) => prefersHost(model.location),
  hostTokenizer(model, _options, loaded) {
    if (!loaded?.vocabulary) throw new LmError(`${model.name}: the worker that loaded the n-gram model sent no vocabulary`);
    return unpackTokenizer(loaded.vocabulary);
  },
  webviewFiles: (model) => ({ files: { file: { path: model.location, name: path.basename(model.location), maxBytes: MAX_MODEL_BYTES } } }),
};
