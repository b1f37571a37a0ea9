/**
 * One workspace file fed to the n-gram trainer in chunks, so that training on a file of hundreds
 * of megabytes holds one chunk of it at a time, not the file as one string and one array of
 * words. The file is read twice, up to the size it had when training reached it: once for NUL
 * bytes (a binary file is skipped whole, so nothing of it may be counted first) and where its
 * held-out tenth starts, then for the text.
 */
import * as fs from 'fs';
import type { KneserNeyTrainer } from '../core/ngram/kneserNey';
import { EditorTextFeed } from '../core/ngram/textTraining';
import { heldOutMark, heldOutStart } from '../editor/heldOut';
import type { SkipReason } from '../editor/skippedFiles';
import { fileChunks } from './textFile';

export const TRAINING_CHUNK_BYTES = 4 << 20;

export interface TrainedFile {
  skipped: SkipReason | false;
  /** The file's last tenth (from a line start), which is scored, not trained on. */
  heldOut: string;
}

/**
 * Trains `trainer` on `file` as one sequence of editor pieces, as `addTextToTrainer` does with
 * the same text decoded whole (the same counts); `onProgress` gets the bytes read so far.
 */
export async function trainOnFile(
  trainer: KneserNeyTrainer,
  file: string,
  onProgress?: (bytes: number) => void,
  chunkBytes = TRAINING_CHUNK_BYTES,
): Promise<TrainedFile> {
  const stat = await fs.promises.stat(file);
  if (!stat.isFile()) return { skipped: 'not a regular file', heldOut: '' };
  const size = stat.size;
  const mark = heldOutMark(size);
  let lastLineFeed = -1;
  let offset = 0;
  for await (const chunk of chunksUpTo(file, size, chunkBytes)) {
    if (chunk.indexOf(0) >= 0) return { skipped: 'binary', heldOut: '' };
    if (offset <= mark) {
      const at = chunk.subarray(0, Math.min(chunk.length, mark - offset + 1)).lastIndexOf(0x0a);
      if (at >= 0) lastLineFeed = offset + at;
    }
    offset += chunk.length;
  }
  const trainEnd = heldOutStart(lastLineFeed, offset);

  // Lenient decoding, as the whole file's: invalid bytes become U+FFFD; the held-out part keeps a
  // byte-order mark it may start with as text, as it was not the file's start.
  const train = new TextDecoder('utf-8');
  const held = new TextDecoder('utf-8', { ignoreBOM: true });
  const feed = new EditorTextFeed(trainer);
  let heldOut = '';
  trainer.startSentence();
  let read = 0;
  let flushed = false;
  for await (const chunk of chunksUpTo(file, offset, chunkBytes)) {
    const inTraining = Math.max(0, Math.min(chunk.length, trainEnd - read));
    if (inTraining > 0) feed.push(train.decode(chunk.subarray(0, inTraining), { stream: true }));
    if (!flushed && read + chunk.length >= trainEnd) {
      feed.push(train.decode());
      feed.end();
      flushed = true;
    }
    if (inTraining < chunk.length) heldOut += held.decode(chunk.subarray(inTraining), { stream: true });
    read += chunk.length;
    onProgress?.(read);
  }
  // An empty file, or one that shrank since the first reading.
  if (!flushed) {
    feed.push(train.decode());
    feed.end();
  }
  trainer.endSentence();
  heldOut += held.decode();
  return { skipped: false, heldOut };
}

/** The file's first `limit` bytes: a file that grows while it is read (a log being written) ends where it was measured. */
async function* chunksUpTo(file: string, limit: number, chunkBytes: number): AsyncGenerator<Uint8Array> {
  let read = 0;
  for await (const chunk of fileChunks(file, chunkBytes)) {
    if (read >= limit) return;
    const part = chunk.subarray(0, Math.min(chunk.length, limit - read));
    read += part.length;
    yield part;
  }
}
