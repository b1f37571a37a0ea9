/**
 * The training notice's words for the files it did not train on: which, and why, so that a user
 * whose corpus holds a binary file or a pipe knows what was left out (drive6: "2 files skipped"
 * named none). The first few by name; the log lists them all.
 */
import { plural } from '../core/numberFormat';

/** Why a file was not trained on: a NUL byte, or not a regular file (a FIFO would block its reader, a device never end). */
export type SkipReason = 'binary' | 'not a regular file';

export interface SkippedFile {
  /** As the workspace names it (relative path). */
  name: string;
  reason: SkipReason;
}

const NAMED = 3;

/** "" when none; else a sentence such as "2 files skipped: a.bin (binary), pipe (not a regular file)." */
export function skippedFilesNote(files: readonly SkippedFile[]): string {
  if (files.length === 0) return '';
  const named = files.slice(0, NAMED).map((f) => `${f.name} (${f.reason})`);
  const more = files.length > NAMED ? ` and ${files.length - NAMED} more (listed in the log)` : '';
  return `${plural(files.length, 'file')} skipped: ${named.join(', ')}${more}.`;
}
