/**
 * Writing a file so that it is always whole: the content goes to a unique temporary file in the
 * target's folder and is renamed onto the target once complete and flushed. A run killed midway
 * leaves the previous file intact (and at most a `.NAME.*.tmp` file beside it, which the next write
 * of that path removes); two runs writing
 * one path each rename a whole file, the last one wins.
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Readable } from 'stream';
import { pipeline } from 'stream/promises';
import * as zlib from 'zlib';
import { LmError } from '../core/errors';
import { fileError } from './fileErrors';

export type Chunks = Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>;

export interface AtomicWriteOptions {
  /** Compress the content with gzip (level 9) on the way. */
  gzip?: boolean;
}

/** Writes `content` (chunks, consumed as they come) to `target` atomically. */
export async function writeFileAtomic(target: string, content: Chunks, options: AtomicWriteOptions = {}): Promise<void> {
  const finalPath = await writablePath(target);
  const dir = path.dirname(finalPath);
  await removeDeadRunsTemps(finalPath);
  const tmp = tempBeside(finalPath);
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(tmp, 'wx', 0o666);
  } catch (e) {
    // The target may exist and be fine (/proc/version): it is the file beside it that cannot be made.
    throw fileError('write', target, e, `a temporary file cannot be made beside it, in ${dir}`);
  }
  let closed = false;
  // A process that exits midway (an error elsewhere, or a signal turned into an exit) removes it.
  const removeOnExit = () => fs.rmSync(tmp, { force: true });
  process.on('exit', removeOnExit);
  try {
    const existing = await fs.promises.stat(finalPath).catch(() => undefined);
    if (existing) await fh.chmod(existing.mode & 0o7777);
    const flusher = new BackgroundFlush(fh);
    const sink = async (source: AsyncIterable<string | Uint8Array>) => {
      for await (const chunk of source) {
        await writeAll(fh, chunk);
        flusher.written(chunk.length);
      }
    };
    if (options.gzip) await pipeline(Readable.from(content), zlib.createGzip({ level: 9 }), sink);
    else await sink(toAsync(content));
    await flusher.done();
    await fh.sync();
    closed = true;
    await fh.close();
    await fs.promises.rename(tmp, finalPath);
  } catch (e) {
    if (!closed) await fh.close().catch(() => undefined);
    await fs.promises.unlink(tmp).catch(() => undefined);
    // File-system errors name the target; anything else (the content's own errors) goes through.
    throw (e as NodeJS.ErrnoException)?.code ? fileError('write', target, e) : e;
  } finally {
    process.off('exit', removeOnExit);
  }
  await syncFolder(dir);
}

/**
 * Fails now, with the message writeFileAtomic would give, if `target` cannot be written: a folder,
 * a device or FIFO, a missing folder, or a folder where no file can be made (read-only, no
 * permission). For work that takes minutes before it writes (training a model): the user learns it
 * before, not after. Makes and removes an empty file beside the target; a full disk shows only
 * when the content is written.
 */
export async function checkWritable(target: string): Promise<void> {
  const finalPath = await writablePath(target);
  const dir = path.dirname(finalPath);
  const probe = tempBeside(finalPath);
  try {
    await (await fs.promises.open(probe, 'wx', 0o666)).close();
  } catch (e) {
    throw fileError('write', target, e, `a temporary file cannot be made beside it, in ${dir}`);
  }
  await fs.promises.unlink(probe).catch(() => undefined);
}

/** A unique temporary file's name in the folder of `finalPath` (hidden, named after it: `.NAME.PID.HEX.tmp`). */
function tempBeside(finalPath: string): string {
  return path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Removes the temporary files of `finalPath` left by runs that were killed (SIGKILL, a crash, the
 * machine stopping), which no exit handler removed: a model's size each. A file whose process still
 * runs (another training writing the same path) is kept; so is one whose process id was reused.
 */
export async function removeDeadRunsTemps(finalPath: string): Promise<string[]> {
  const dir = path.dirname(finalPath);
  const target = path.basename(finalPath);
  const names = await fs.promises.readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const temp = tempFileOf(name);
    if (temp?.target !== target || processRuns(temp.pid)) continue;
    const file = path.join(dir, name);
    try {
      await fs.promises.unlink(file);
      removed.push(file);
    } catch {
      // gone already, or not ours to remove: the write goes on
    }
  }
  return removed;
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it runs, as another user's.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The name of the file that `file`, a temporary file of tempBeside's, is being written for; else undefined. */
export function modelBeingWritten(file: string): string | undefined {
  return tempFileOf(path.basename(file))?.target;
}

/** The target and process of a temporary file's name of tempBeside's (`.NAME.PID.HEX.tmp`); else undefined. */
function tempFileOf(name: string): { target: string; pid: number } | undefined {
  const m = /^\.(.+)\.(\d+)\.[0-9a-f]{12}\.tmp$/.exec(name);
  return m ? { target: m[1], pid: Number(m[2]) } : undefined;
}

/**
 * For command-line programs: Ctrl-C or a termination signal exits the process normally, so that
 * writes in progress remove their temporary files (a killed process cannot, SIGKILL leaves one).
 */
export function exitOnTerminationSignals(): void {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)
    process.once(signal, () => process.exit(code));
}

/**
 * Where the file will be: the target itself, or what it links to; its folder must exist and an
 * existing target must be a regular file.
 */
async function writablePath(target: string): Promise<string> {
  let finalPath = path.resolve(target);
  const link = await fs.promises.lstat(finalPath).catch(() => undefined);
  if (link?.isSymbolicLink()) {
    // Replace the file the link points to, not the link (when it points anywhere).
    finalPath = await fs.promises.realpath(finalPath).catch(() => finalPath);
  }
  const st = await fs.promises.stat(finalPath).catch(() => undefined);
  if (st?.isDirectory()) throw new LmError(`cannot write ${target}: it is a folder, not a file (EISDIR)`);
  // Renaming over a device, FIFO or socket would replace it (as root, /dev/null itself).
  if (st && !st.isFile()) throw new LmError(`cannot write ${target}: it exists and is not a regular file (a device, FIFO or socket); choose another path`);
  const dir = path.dirname(finalPath);
  let dirStat: fs.Stats;
  try {
    dirStat = await fs.promises.stat(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new LmError(`cannot write ${target}: the folder ${dir} does not exist (ENOENT)`);
    throw fileError('write', target, e);
  }
  if (!dirStat.isDirectory()) throw new LmError(`cannot write ${target}: ${dir} is not a folder (ENOTDIR)`);
  return finalPath;
}

/** Bytes written between two flushes of a large file while it is written. */
const FLUSH_EVERY_BYTES = 16 << 20;

/**
 * Flushes a large file to the disk while it is still being written, one flush at a time, so that
 * the last one (before the rename) has only the end to write: the disk works while the content is
 * made, instead of after it (an ARPA of 135 MB: about 90 ms of waiting at the end, otherwise).
 */
class BackgroundFlush {
  private sinceFlush = 0;
  private flushing: Promise<void> | undefined;
  private failed: unknown;

  constructor(private readonly fh: fs.promises.FileHandle) {}

  written(bytes: number): void {
    this.sinceFlush += bytes;
    if (this.sinceFlush < FLUSH_EVERY_BYTES || this.flushing) return;
    this.sinceFlush = 0;
    this.flushing = this.fh.datasync().then(
      () => void (this.flushing = undefined),
      (e: unknown) => {
        this.failed ??= e;
        this.flushing = undefined;
      },
    );
  }

  /** Waits for the flush under way; a failed one fails the write. */
  async done(): Promise<void> {
    await this.flushing;
    if (this.failed !== undefined) throw this.failed;
  }
}

async function writeAll(fh: fs.promises.FileHandle, chunk: string | Uint8Array): Promise<void> {
  const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
  let done = 0;
  while (done < bytes.length) done += (await fh.write(bytes, done, bytes.length - done)).bytesWritten;
}

async function* toAsync(content: Chunks): AsyncGenerator<string | Uint8Array> {
  yield* content;
}

/** Makes the rename itself durable where the platform allows it (best effort). */
async function syncFolder(dir: string): Promise<void> {
  const d = await fs.promises.open(dir, 'r').catch(() => undefined);
  if (!d) return;
  await d.sync().catch(() => undefined);
  await d.close().catch(() => undefined);
}

/**
 * An identity for comparing paths: device and inode of an existing file (so links, symlinks and
 * different spellings agree), else the resolved path with its folder's symlinks resolved.
 */
export function fileIdentity(file: string): string {
  try {
    const st = fs.statSync(file);
    return `inode ${st.dev}:${st.ino}`;
  } catch {
    const resolved = path.resolve(file);
    let dir = path.dirname(resolved);
    try {
      dir = fs.realpathSync(dir);
    } catch {
      // A missing folder: the write will say so.
    }
    return `path ${path.join(dir, path.basename(resolved))}`;
  }
}
