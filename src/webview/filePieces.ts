/**
 * A file the extension sends a page piece by piece (one message each, so that the extension host
 * holds one piece at a time, not the whole file: drive16 H1), put together in one buffer. No DOM,
 * no vscode: unit-tested.
 */
import type { ModelFileBytes } from '../core/engine/protocol';

/** A piece from `offset` on, and the whole file's size. */
export type ReadPiece = (offset: number) => Promise<{ bytes: ArrayBuffer; size: number }>;

/**
 * `received`: told each piece's bytes as it arrives, with the file's bytes so far and its size (a
 * load of minutes says how far it is).
 */
export async function readInPieces(readPiece: ReadPiece, name: string, received?: (bytes: number, read: number, size: number) => void): Promise<ArrayBuffer> {
  const first = await readPiece(0);
  received?.(first.bytes.byteLength, first.bytes.byteLength, first.size);
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
    received?.(piece.bytes.byteLength, at, first.size);
  }
  return whole.buffer;
}

/** An answer of the extension to a request for a piece: its bytes and the file's size, or why not. */
export interface PieceAnswer {
  bytes?: ArrayBuffer;
  size?: number;
  error?: string;
}

/** Requests for pieces sent to the extension and not yet answered, by the number each carries. */
export class PieceRequests {
  private readonly pending = new Map<number, { resolve: (piece: { bytes: ArrayBuffer; size: number }) => void; reject: (e: Error) => void }>();
  private next = 1;

  /** Sends a request under a new number (`send`) and resolves with the piece its answer carries. */
  ask(send: (read: number) => void): Promise<{ bytes: ArrayBuffer; size: number }> {
    const read = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(read, { resolve, reject });
      send(read);
    });
  }

  /** The answer to request `read`; one nobody waits for is dropped. */
  answer(read: number, answer: PieceAnswer): void {
    const waiting = this.pending.get(read);
    this.pending.delete(read);
    if (!waiting) return;
    if (answer.bytes instanceof ArrayBuffer && typeof answer.size === 'number') waiting.resolve({ bytes: answer.bytes, size: answer.size });
    else waiting.reject(new Error(answer.error ?? 'the extension sent no bytes'));
  }
}

/** How far a model's files have come: the file being read, its place among them, and the bytes of all so far. */
export interface FilesProgress {
  name: string;
  /** The file's bytes received, and its size. */
  read: number;
  size: number;
  /** 1-based. */
  file: number;
  files: number;
  /** Bytes received of every file so far. */
  total: number;
}

/** "onnx/model.onnx_data: 312 of 520 MiB (file 2 of 3)": what a page's status shows while a model arrives. */
export function describeFilesProgress(p: FilesProgress): string {
  const mib = (n: number) => (n / 2 ** 20).toFixed(0);
  return `${p.name}: ${mib(p.read)} of ${mib(p.size)} MiB${p.files > 1 ? ` (file ${p.file} of ${p.files})` : ''}`;
}

/**
 * The files `names` (role → its name in messages) of a model, each read in pieces with
 * `readPiece(role, offset)`, one file after another; `progress` is told after every piece.
 */
export async function receiveModelFiles(
  names: Record<string, string>,
  readPiece: (role: string, offset: number) => Promise<{ bytes: ArrayBuffer; size: number }>,
  progress?: (p: FilesProgress) => void,
): Promise<Record<string, ModelFileBytes>> {
  const files: Record<string, ModelFileBytes> = {};
  const entries = Object.entries(names);
  let total = 0;
  for (const [i, [role, name]] of entries.entries()) {
    const received = (bytes: number, read: number, size: number) => {
      total += bytes;
      progress?.({ name, read, size, file: i + 1, files: entries.length, total });
    };
    files[role] = { name, bytes: await readInPieces((offset) => readPiece(role, offset), `the model's ${name} file`, received) };
  }
  return files;
}
