/** File-system errors as messages that name the path and say what is wrong. */
import * as fs from 'fs';
import { LmError } from '../core/errors';

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'it is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  ELOOP: 'a loop of symbolic links, or too many of them',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
  EBUSY: 'the file is busy',
};

/**
 * `cannot read FILE: it is a folder, not a file (EISDIR)`; errors without a code keep their message.
 * `what` says what failed when it is not the file itself (`cannot write FILE: WHAT: no such file (ENOENT)`).
 */
export function fileError(action: 'read' | 'write', file: string, e: unknown, what?: string): LmError {
  if (e instanceof LmError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  const reason = code ? `${REASONS[code] ?? 'failed'} (${code})` : ((e as Error)?.message ?? String(e));
  return new LmError(`cannot ${action} ${file}: ${what ? `${what}: ` : ''}${reason}`);
}

/**
 * Flags to open a model file for reading without waiting: opening a FIFO blocks until a writer
 * comes (the extension host's thread with it); with O_NONBLOCK it returns at once, and the
 * fstat that follows refuses what is not a regular file. No effect on regular files.
 */
export const OPEN_READ_NO_WAIT = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);
