/**
 * A model file's bytes as a stream of chunks, gunzipped when the file is gzipped, with a cap on
 * what comes out: a small gzip bomb stops at the cap instead of filling memory, and the thread
 * (the extension host's) gets control back between chunks.
 */
import * as fs from 'fs';
import { OPEN_READ_NO_WAIT } from './fileErrors';
import { pipeline } from 'stream';
import * as zlib from 'zlib';
import { LmError, ModelFormatError } from '../core/errors';
import { formatBytes } from '../core/modelLimits';

const NOT_REGULAR = 'not a regular file (a device, a FIFO or a socket cannot be a model)';

/** Chunks read from disk and handed out by the decompressor (smaller ones cost more hops than they save: measured). */
const CHUNK_BYTES = 1 << 20;

export { formatBytes };

/** Why a file cannot be read, in words (permission, folder, missing, symlink loop). */
export function describeFsError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a folder';
    case 'ELOOP':
      return 'symbolic link loop';
    default:
      return err.message ?? String(e);
  }
}

/**
 * The file opened for reading, refused unless it is a regular file: checked on the open handle,
 * since the path may have become a FIFO since it was looked at (whose open would wait for a writer
 * for good, and keep the process from exiting: hostile11 Low 3).
 */
export async function openRegularFile(file: string): Promise<fs.promises.FileHandle> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, OPEN_READ_NO_WAIT);
  } catch (e) {
    throw new LmError(`cannot read model ${file}: ${describeFsError(e)}`);
  }
  const stat = await fh.stat().catch(() => undefined);
  if (!stat?.isFile()) {
    await fh.close().catch(() => undefined);
    throw new ModelFormatError(NOT_REGULAR, file);
  }
  return fh;
}

/** Whether the file starts with the gzip magic bytes. */
export function isGzipFile(file: string): boolean {
  const head = Buffer.alloc(2);
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, OPEN_READ_NO_WAIT);
    if (!fs.fstatSync(fd).isFile()) throw new ModelFormatError(NOT_REGULAR, file);
    return fs.readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } catch (e) {
    if (e instanceof LmError) throw e;
    throw new LmError(`cannot read model ${file}: ${describeFsError(e)}`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * The bytes of `file` (gunzipped if it starts with the gzip magic bytes), in chunks; a chunk is
 * only valid until the next one is asked for. Stops with a ModelFormatError naming the file as
 * soon as more than `maxBytes` come out; the decompressor is then destroyed, so that at most about
 * one chunk beyond the cap is ever produced.
 */
export async function* modelFileChunks(file: string, maxBytes: number): AsyncGenerator<Uint8Array> {
  const gzipped = isGzipFile(file);
  if (!gzipped) return yield* plainFileChunks(file, maxBytes);
  const source = (await openRegularFile(file)).createReadStream({ highWaterMark: CHUNK_BYTES });
  const gunzip = zlib.createGunzip({ chunkSize: CHUNK_BYTES });
  // Errors of either stream end the iteration below (pipeline destroys the other one).
  const stream: NodeJS.ReadableStream = pipeline(source, gunzip, () => undefined);
  let total = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) {
        throw new ModelFormatError(`decompresses to more than ${formatBytes(maxBytes)}; the limit for model data is ${formatBytes(maxBytes)}`, file);
      }
      yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
    }
  } catch (e) {
    if (e instanceof LmError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code?.startsWith('Z_') || err.code === 'ERR_ZLIB_INITIALIZATION_FAILED') {
      throw new ModelFormatError(`corrupt gzip data: ${err.message}`, file);
    }
    throw new LmError(`cannot read model ${file}: ${describeFsError(e)}`);
  } finally {
    source.destroy();
    (stream as unknown as { destroy?: () => void }).destroy?.();
  }
}

/**
 * A plain file read into two reused buffers taking turns: the next piece is read while the caller
 * works on the one handed out (an ARPA file's parse no longer waits for each read), and a stream's
 * fresh buffer per chunk is garbage that the collector frees late (the ARPA reader makes little
 * else), so a big file's worth piled up in memory before it did.
 */
async function* plainFileChunks(file: string, maxBytes: number): AsyncGenerator<Uint8Array> {
  const fh = await openRegularFile(file);
  const buffers = [new Uint8Array(CHUNK_BYTES), new Uint8Array(CHUNK_BYTES)];
  const read = (buffer: Uint8Array) => fh.read(buffer, 0, CHUNK_BYTES, null).then((r) => r.bytesRead);
  let turn = 0;
  let pending: Promise<number> | undefined = read(buffers[0]);
  try {
    let total = 0;
    for (;;) {
      let n: number;
      try {
        n = await pending;
      } catch (e) {
        pending = undefined;
        throw new LmError(`cannot read model ${file}: ${describeFsError(e)}`);
      }
      pending = undefined;
      if (n === 0) return;
      total += n;
      if (total > maxBytes) throw new ModelFormatError(`is larger than ${formatBytes(maxBytes)}, the limit for model data`, file);
      const chunk = buffers[turn].subarray(0, n);
      turn ^= 1;
      pending = read(buffers[turn]);
      yield chunk;
    }
  } finally {
    // A caller that stopped early (the ARPA file's end marker) leaves a read in flight: let it end first.
    await pending?.catch(() => 0);
    await fh.close();
  }
}
