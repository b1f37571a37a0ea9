/**
 * A file the extension sends a page piece by piece (one message each, so that the extension host
 * holds one piece at a time, not the whole file: drive16 H1), put together in one buffer. No DOM,
 * no vscode: unit-tested.
 */

/** A piece from `offset` on, and the whole file's size. */
export type ReadPiece = (offset: number) => Promise<{ bytes: ArrayBuffer; size: number }>;

/** `received`: told each piece's bytes as it arrives (a load of minutes says how far it is). */
export async function readInPieces(readPiece: ReadPiece, name: string, received?: (bytes: number) => void): Promise<ArrayBuffer> {
  const first = await readPiece(0);
  received?.(first.bytes.byteLength);
  if (first.bytes.byteLength === first.size) return first.bytes;
  const whole = new Uint8Array(first.size);
  whole.set(new Uint8Array(first.bytes));
  for (let at = first.bytes.byteLength; at < first.size;) {
    const piece = await readPiece(at);
    // A file that changed between two pieces would be put together from two files.
    if (piece.size !== first.size || piece.bytes.byteLength === 0 || at + piece.bytes.byteLength > first.size)
      throw new Error(`${name} changed while it was read: run again`);
    whole.set(new Uint8Array(piece.bytes), at);
    at += piece.bytes.byteLength;
    received?.(piece.bytes.byteLength);
  }
  return whole.buffer;
}
