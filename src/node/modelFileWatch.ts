/**
 * Watches a loaded model's files for a change on the disk (a new export or download to the same
 * path): a model read into memory keeps its old numbers otherwise, silently. Polls each file's
 * size, modification time and inode (a stat: it sees a file replaced by a rename, on every
 * platform and file system, where change events do not), and reports a change once the files
 * have stopped changing for one interval, so that a file still being written is not loaded
 * half-way. A file that disappears is reported when it is back.
 */
import * as fs from 'fs';

/** How often the file is looked at by default, in milliseconds. */
export const MODEL_FILE_POLL_MS = 2000;

/**
 * What tells one state of the files from another (each one's size, modification time, inode), or
 * undefined when one cannot be read.
 */
export function modelFileSignature(files: string | readonly string[]): string | undefined {
  const parts: string[] = [];
  for (const file of typeof files === 'string' ? [files] : files) {
    try {
      const s = fs.statSync(file);
      parts.push(`${s.size}:${s.mtimeMs}:${s.ino}`);
    } catch {
      return undefined;
    }
  }
  return parts.join('|');
}

/**
 * Calls `onChange` when the files differ from `loaded` (their signature when the model was read;
 * by default, now) and have then stayed the same for one poll; `onGone` once when they cannot be
 * read for two polls in a row (deleted or moved: a model read into memory runs on, but will not
 * load again), and again only after they were back.
 */
export class ModelFileWatch {
  private previous: string | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private goneSaid = false;

  constructor(
    readonly files: string | readonly string[],
    private readonly onChange: () => void,
    private loaded: string | undefined = modelFileSignature(files),
    private readonly onGone?: () => void,
  ) {
    this.previous = loaded;
  }

  /** Looks at the files once. */
  poll(): void {
    const now = modelFileSignature(this.files);
    if (now === undefined) {
      // Two polls: a file replaced by a rename is missing for an instant at most.
      if (this.previous === undefined && !this.goneSaid) {
        this.goneSaid = true;
        this.onGone?.();
      }
      this.previous = now;
      return;
    }
    this.goneSaid = false;
    const settled = now === this.previous;
    this.previous = now;
    if (settled && now !== this.loaded) {
      this.loaded = now;
      this.onChange();
    }
  }

  /** Polls every `intervalMs` until stopped. */
  start(intervalMs = MODEL_FILE_POLL_MS): this {
    this.stop();
    this.timer = setInterval(() => this.poll(), intervalMs);
    // A watch must not keep a process (the CLI, a test) alive.
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
