/** GPT-2's byte-level alphabet: each byte is shown as a printable character in token strings. */

let decoder: Map<string, number> | undefined;

/** Printable character → byte, the inverse of GPT-2's bytes_to_unicode table. */
export function byteDecoder(): Map<string, number> {
  if (decoder) return decoder;
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  decoder = new Map(bs.map((b, i) => [String.fromCharCode(cs[i]), b]));
  return decoder;
}

/** The bytes of a byte-level token string, or undefined if it has characters outside the alphabet. */
export function tokenBytes(token: string): number[] | undefined {
  const d = byteDecoder();
  const out: number[] = [];
  for (const ch of token) {
    const b = d.get(ch);
    if (b === undefined) return undefined;
    out.push(b);
  }
  return out;
}

/** For each UTF-8 byte offset of `text` (0..byteLength), the UTF-16 offset where that byte's character starts. */
export function utf8ToUtf16Offsets(text: string): Uint32Array {
  let bytes = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  const map = new Uint32Array(bytes + 1);
  let b = 0;
  let u = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (let k = 0; k < n; k++) map[b + k] = u;
    b += n;
    u += ch.length;
  }
  map[bytes] = u;
  return map;
}

const ENCODER = new TextEncoder();

/** The UTF-8 bytes of `text`. */
export function utf8Bytes(text: string): Uint8Array {
  return ENCODER.encode(text);
}
