/**
 * Byte-level tokens may end in the middle of a UTF-8 character ("é" as two tokens of one byte
 * each). For display, such tokens are grouped with the following ones until the bytes decode to
 * whole characters, and the group shows those characters.
 */
export interface ByteToken {
  /** The token's bytes, when the tokenizer is byte-level. */
  bytes?: readonly number[];
  text: string;
}

export interface MergedPiece {
  /** Tokens [first, last] of the input. */
  first: number;
  last: number;
  text: string;
}

/** Length of the UTF-8 sequence that starts with byte b (1 for continuation or invalid bytes). */
function sequenceLength(b: number): number {
  if (b >= 0xf0 && b <= 0xf7) return 4;
  if (b >= 0xe0) return 3;
  if (b >= 0xc0) return 2;
  return 1;
}

/** True when the bytes end with a complete UTF-8 character. */
function endsComplete(bytes: readonly number[]): boolean {
  let i = bytes.length - 1;
  let continuation = 0;
  while (i >= 0 && (bytes[i] & 0xc0) === 0x80 && continuation < 3) {
    i--;
    continuation++;
  }
  if (i < 0) return false;
  const lead = bytes[i];
  if (lead < 0x80) return continuation === 0;
  return sequenceLength(lead) === continuation + 1;
}

export function mergeUtf8(tokens: readonly ByteToken[]): MergedPiece[] {
  const out: MergedPiece[] = [];
  const decoder = new TextDecoder('utf-8');
  let start = 0;
  let pending: number[] = [];
  tokens.forEach((t, i) => {
    if (!t.bytes) {
      if (pending.length) out.push({ first: start, last: i - 1, text: decoder.decode(Uint8Array.from(pending)) });
      pending = [];
      out.push({ first: i, last: i, text: t.text });
      start = i + 1;
      return;
    }
    pending.push(...t.bytes);
    if (endsComplete(pending)) {
      out.push({ first: start, last: i, text: decoder.decode(Uint8Array.from(pending)) });
      pending = [];
      start = i + 1;
    }
  });
  if (pending.length) out.push({ first: start, last: tokens.length - 1, text: decoder.decode(Uint8Array.from(pending)) });
  return out;
}
