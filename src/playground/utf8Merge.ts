/**
 * Byte-level tokens may end in the middle of a UTF-8 character ("é" as two tokens of one byte
 * each). For display, such tokens are grouped with the following ones until the bytes decode to
 * whole characters, and the group shows those characters. Two spellings of such tokens arrive:
 * generated tokens show their bytes decoded ("�" for a part of a character), a prompt's tokens
 * follow the tokenizer's offsets (those before the one holding the character's last byte are
 * empty, that one shows the character); either way the group shows the character once.
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

const REPLACEMENT = '\uFFFD';

/** The text of tokens [first, last]: their own texts when these spell it, else their bytes decoded. */
function groupText(tokens: readonly ByteToken[], first: number, last: number, bytes: readonly number[]): string {
  const joined = tokens
    .slice(first, last + 1)
    .map((t) => t.text)
    .join('');
  if (first === last || (joined !== '' && !joined.includes(REPLACEMENT))) return joined;
  return new TextDecoder('utf-8').decode(Uint8Array.from(bytes));
}

export function mergeUtf8(tokens: readonly ByteToken[]): MergedPiece[] {
  const out: MergedPiece[] = [];
  let start = 0;
  let pending: number[] = [];
  const flush = (last: number) => {
    out.push({ first: start, last, text: groupText(tokens, start, last, pending) });
    pending = [];
    start = last + 1;
  };
  tokens.forEach((t, i) => {
    if (!t.bytes) {
      if (pending.length) flush(i - 1);
      out.push({ first: i, last: i, text: t.text });
      start = i + 1;
      return;
    }
    pending.push(...t.bytes);
    if (endsComplete(pending)) flush(i);
  });
  if (pending.length) flush(tokens.length - 1);
  return out;
}
