/**
 * Places a server's tokens on the text it was sent: each token's UTF-16 offset and length in the
 * document, exactly, by the product's token contract (core/tokenBytes.ts): a character split
 * between byte tokens is covered by the token holding its last byte; the tokens before it have
 * length 0. Servers give a token's text, its bytes (llama.cpp, Ollama), or for a piece of a
 * character "�" or vLLM's `bytes:\xe2\x80`; offsets are worked out from these, never trusted
 * from `text_offset` (vLLM counts Python code points there, not UTF-16 units).
 */
import { LmError } from '../errors';

export interface ServerPiece {
  text: string;
  /** The token's UTF-8 bytes, when the server gives them. */
  bytes?: readonly number[];
}

export interface Placed {
  start: number;
  length: number;
}

/** A piece's bytes, or undefined when its text stands for bytes it does not show (a "�"). */
export function pieceBytes(piece: ServerPiece): number[] | undefined {
  if (piece.bytes) return [...piece.bytes];
  const escaped = /^bytes:((?:\\x[0-9a-fA-F]{2})+)$/.exec(piece.text);
  if (escaped)
    return escaped[1]
      .split('\\x')
      .slice(1)
      .map((h) => parseInt(h, 16));
  if (piece.text.includes('\uFFFD')) return undefined;
  return Array.from(new TextEncoder().encode(piece.text));
}

/** Per byte of the text's UTF-8: the UTF-16 start and end of its character, and whether it is the character's last byte. */
function byteMap(text: string): { bytes: Uint8Array; start16: Int32Array; end16: Int32Array; last: Uint8Array } {
  const bytes = new TextEncoder().encode(text);
  const start16 = new Int32Array(bytes.length);
  const end16 = new Int32Array(bytes.length);
  const last = new Uint8Array(bytes.length);
  let b = 0;
  for (let i = 0; i < text.length;) {
    const cp = text.codePointAt(i)!;
    const units = cp > 0xffff ? 2 : 1;
    const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (let k = 0; k < n; k++) {
      start16[b + k] = i;
      end16[b + k] = i + units;
    }
    last[b + n - 1] = 1;
    b += n;
    i += units;
  }
  return { bytes, start16, end16, last };
}

/**
 * The place of each piece in `text` (plus `offset`). `leading` pieces at the start that the text
 * does not hold (a begin-of-text token the server added) get length 0. Throws an LmError naming
 * `source` and the character where the pieces stop spelling the text.
 */
export function placePieces(text: string, pieces: readonly ServerPiece[], source: string, options: { offset?: number; leading?: number } = {}): Placed[] {
  const offset = options.offset ?? 0;
  const map = byteMap(text);
  const n = map.bytes.length;
  const at16 = (b: number) => (b >= n ? text.length : map.start16[b]);
  const matches = (pos: number, bs: readonly number[]) => pos + bs.length <= n && bs.every((x, k) => map.bytes[pos + k] === x);
  /** The UTF-16 span of bytes [b0, b1): the characters whose last byte lies in it. */
  const span = (b0: number, b1: number): Placed => {
    if (b1 <= b0) return { start: offset + at16(b0), length: 0 };
    const start = map.start16[b0];
    const end = map.last[b1 - 1] ? map.end16[b1 - 1] : map.start16[b1 - 1];
    return { start: offset + start, length: Math.max(0, end - start) };
  };
  const fail = (pos: number, piece: ServerPiece): never => {
    const here = JSON.stringify(text.slice(at16(pos), at16(pos) + 12));
    throw new LmError(
      `${source}: the server's tokens do not spell the text at character ${offset + at16(pos)} (token ${JSON.stringify(piece.text)}, text ${here}); nothing was scored`,
    );
  };
  const out: Placed[] = new Array(pieces.length);
  let pos = 0;
  let i = 0;
  for (; i < (options.leading ?? 0) && i < pieces.length; i++) {
    const bs = pieceBytes(pieces[i]);
    if (bs && bs.length > 0 && matches(0, bs)) break; // no added token: the text's own first token
    out[i] = { start: offset, length: 0 };
  }
  // Pieces whose bytes are unknown wait for the next known one: together they cover what lies between.
  let pending: number[] = [];
  const settle = (end: number) => {
    for (const k of pending.slice(0, -1)) out[k] = span(pos, pos);
    out[pending[pending.length - 1]] = span(pos, end);
    pending = [];
    pos = end;
  };
  for (; i < pieces.length; i++) {
    const bs = pieceBytes(pieces[i]);
    if (!bs) {
      pending.push(i);
      continue;
    }
    if (pending.length > 0) {
      // Each unknown piece is 1 to 4 bytes; the known one starts at the first place it fits on a character boundary.
      let found = -1;
      for (let p = pos + pending.length; p <= Math.min(n, pos + 4 * pending.length) && found < 0; p++)
        if ((p === n || map.start16[p] !== map.start16[p - 1]) && matches(p, bs)) found = p;
      if (found < 0) fail(pos, pieces[i]);
      settle(found);
    }
    if (!matches(pos, bs)) fail(pos, pieces[i]);
    out[i] = span(pos, pos + bs.length);
    pos += bs.length;
  }
  if (pending.length > 0) settle(n);
  if (pos !== n) throw new LmError(`${source}: the server's tokens end at character ${offset + at16(pos)} of ${offset + text.length}; nothing was scored`);
  return out;
}
