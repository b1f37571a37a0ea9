/**
 * Held-out text for judging a model trained on a workspace: the last tenth of each file by bytes,
 * from a line start (after the last line feed at or before the 90 % mark).
 */
const HELD_OUT = 0.1;

/** Where the held-out part of `size` bytes starts, given its last line feed at or before `heldOutMark(size)` (-1: none). */
export function heldOutStart(lastLineFeed: number, size: number): number {
  return lastLineFeed <= 0 ? size : lastLineFeed + 1;
}

/** The byte whose line feed, or the last one before it, ends the training part. */
export function heldOutMark(size: number): number {
  return Math.floor(size * (1 - HELD_OUT));
}

/** Training and held-out text of one file's bytes (decoded as the whole file would be). */
export function splitHeldOut(bytes: Uint8Array): { train: string; heldOut: string } {
  const start = heldOutStart(bytes.lastIndexOf(0x0a, heldOutMark(bytes.length)), bytes.length);
  return {
    train: new TextDecoder('utf-8').decode(bytes.subarray(0, start)),
    heldOut: new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes.subarray(start)),
  };
}
