/**
 * Reading text files for the CLI: in chunks, as strict UTF-8. A file that is not UTF-8 text is an
 * error naming the file and the byte offset (nothing is silently turned into U+FFFD), a NUL
 * byte marks a binary file, and a byte-order mark at the start is left out, as editors read it.
 */
import { isUtf8 } from 'buffer';
import * as fs from 'fs';
import { nulsMakeBinary } from '../core/contextWindow';
import { LmError } from '../core/errors';
import { fileError } from './fileErrors';

/**
 * Bytes read at a time: small enough that a chunk's tokens and scores die young (the garbage
 * collector's nursery), large enough that reading costs nothing.
 */
export const TEXT_CHUNK_BYTES = 64 * 1024;

/** How a file is named in messages: `-` is standard input. */
export function displayName(file: string): string {
  return file === '-' ? 'standard input' : file;
}

/** The bytes of `file` (`-`: standard input), chunk by chunk; a chunk is only valid until the next one is asked for. */
export async function* fileChunks(file: string, chunkBytes = TEXT_CHUNK_BYTES): AsyncGenerator<Uint8Array> {
  if (file === '-') {
    for await (const chunk of process.stdin) yield chunk as Buffer;
    return;
  }
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, 'r');
  } catch (e) {
    throw fileError('read', file, e);
  }
  try {
    // Opening a folder for reading succeeds on Linux; reading it fails later, less clearly.
    if ((await fh.stat()).isDirectory()) throw fileError('read', file, Object.assign(new Error(), { code: 'EISDIR' }));
    const buffer = Buffer.allocUnsafe(chunkBytes);
    for (;;) {
      let n: number;
      try {
        n = (await fh.read(buffer, 0, chunkBytes, null)).bytesRead;
      } catch (e) {
        throw fileError('read', file, e);
      }
      if (n === 0) break;
      yield buffer.subarray(0, n);
    }
  } finally {
    await fh.close();
  }
}

/**
 * Decodes UTF-8 chunks strictly; `name` is the file for messages. A NUL byte marks a binary file;
 * with `nuls: 'few'` only many do, as the editor judges a document (core/contextWindow.ts
 * looksBinary), counted over what was read so far: a text to score may hold a stray one.
 */
export async function* decodeUtf8(chunks: AsyncIterable<Uint8Array>, name: string, nuls: 'none' | 'few' = 'none'): AsyncGenerator<string> {
  // A byte-order mark at the start is not text: the editor leaves it out of the document, and
  // scores of the file must be the editor's (hostile16 H1: the CLI scored its bytes, 5.34 against
  // the status bar's 2.78 bits/char). TextDecoder drops it; one anywhere else stays.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let offset = 0;
  let chars = 0;
  let nulCount = 0;
  let firstNul = -1;
  /** The bytes at the end of what was decoded that do not finish a character yet. */
  let pending: Uint8Array = new Uint8Array(0);
  for await (const chunk of chunks) {
    let nul = chunk.indexOf(0);
    if (nuls === 'few' && nul >= 0) {
      if (firstNul < 0) firstNul = offset + nul;
      for (let at = nul; at >= 0; at = chunk.indexOf(0, at + 1)) nulCount++;
      nul = -1;
    }
    const part = nul < 0 ? chunk : chunk.subarray(0, nul);
    let text: string;
    try {
      text = decoder.decode(part, { stream: true });
    } catch {
      const bytes = concat(pending, part);
      const at = firstInvalidUtf8(bytes);
      throw notUtf8(name, offset - pending.length + Math.max(0, at), bytes[at]);
    }
    if (nul >= 0) throw new LmError(`${name} looks binary (NUL byte at offset ${offset + nul})`);
    pending = incompleteTail(concat(pending, part.subarray(Math.max(0, part.length - 3))));
    offset += chunk.length;
    chars += text.length;
    if (nulCount > 0 && nulsMakeBinary(nulCount, chars))
      throw new LmError(`${name} looks binary (${nulCount} NUL bytes in its first ${offset} bytes, the first at offset ${firstNul})`);
    if (text) yield text;
  }
  let rest: string;
  try {
    rest = decoder.decode();
  } catch {
    throw new LmError(`${name} is not UTF-8 text: it ends inside a character (offset ${offset - pending.length})`);
  }
  if (rest) yield rest;
}

/** The text of `file` (`-`: standard input), strictly UTF-8, refused above `maxBytes`; `nuls` as decodeUtf8's. */
export async function readTextFile(file: string, maxBytes = Infinity, nuls: 'none' | 'few' = 'none'): Promise<string> {
  const name = displayName(file);
  let bytes = 0;
  async function* capped(): AsyncGenerator<Uint8Array> {
    for await (const chunk of fileChunks(file)) {
      bytes += chunk.length;
      if (bytes > maxBytes) throw new LmError(`${name} is larger than the limit of ${maxBytes.toLocaleString('en-US')} bytes`);
      yield chunk;
    }
  }
  const parts: string[] = [];
  for await (const text of decodeUtf8(capped(), name, nuls)) parts.push(text);
  return parts.join('');
}

/**
 * The bytes of `file` in chunks of whole lines (the last may lack its line feed), checked as
 * strictly as readTextFile checks them (UTF-8, no NUL byte) with the same messages. For reading
 * a large corpus without a string of it. Each chunk is a new array.
 */
export async function* utf8LineChunks(file: string, chunkBytes = 4 << 20): AsyncGenerator<Uint8Array> {
  const name = displayName(file);
  let carry: Uint8Array = new Uint8Array(0);
  let offset = 0;
  const check = (bytes: Uint8Array): Uint8Array => {
    const nul = bytes.indexOf(0);
    const valid = nul < 0 ? bytes : bytes.subarray(0, nul);
    if (!isUtf8(valid)) {
      const at = firstInvalidUtf8(valid);
      if (at < 0) {
        const cut = offset + valid.length - incompleteTail(valid).length;
        throw new LmError(`${name} is not UTF-8 text: it ends inside a character (offset ${cut})`);
      }
      throw notUtf8(name, offset + at, valid[at]);
    }
    if (nul >= 0) throw new LmError(`${name} looks binary (NUL byte at offset ${offset + nul})`);
    offset += bytes.length;
    return bytes;
  };
  for await (const chunk of fileChunks(file, chunkBytes)) {
    const last = chunk.lastIndexOf(0x0a);
    if (last < 0) {
      // new Uint8Array(view) copies (a Buffer's slice() would not): the read buffer is reused.
      carry = concat(carry, new Uint8Array(chunk));
      continue;
    }
    const whole = new Uint8Array(carry.length + last + 1);
    whole.set(carry);
    whole.set(chunk.subarray(0, last + 1), carry.length);
    carry = new Uint8Array(chunk.subarray(last + 1));
    yield check(whole);
  }
  if (carry.length > 0) yield check(carry);
}

function notUtf8(name: string, offset: number, byte: number | undefined): LmError {
  const what = byte === undefined ? 'an invalid byte' : `invalid byte 0x${byte.toString(16).padStart(2, '0')}`;
  return new LmError(`${name} is not UTF-8 text: ${what} at offset ${offset} (convert it first, e.g. iconv -f latin1 -t utf-8)`);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The last bytes of valid UTF-8 that start a character not finished yet. */
function incompleteTail(bytes: Uint8Array): Uint8Array {
  for (let j = bytes.length - 1; j >= Math.max(0, bytes.length - 3); j--) {
    const b = bytes[j];
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return bytes.length - j < need ? bytes.slice(j) : new Uint8Array(0);
  }
  return new Uint8Array(0);
}

/** Index of the first byte that starts an invalid sequence (as the WHATWG decoder sees it), or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      if (i + k >= bytes.length) return -1;
      const c = bytes[i + k];
      if (c < lo || c > hi) return i;
      lo = 0x80;
      hi = 0xbf;
    }
    i += need + 1;
  }
  return -1;
}
