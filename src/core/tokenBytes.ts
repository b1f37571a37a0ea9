/**
 * A byte-level token's bytes as a person reads them. Such a token may hold part of a UTF-8
 * character (the first byte of "é"), which no text can show: decoding gives "�". Whole characters
 * are shown as text, the bytes of a split character as the vocabulary names byte tokens: <0xC3>.
 */
import type { Tokenizer } from './model';
import { visibleToken } from './numberFormat';

/** A run of whole characters, or of bytes that are part of a character split between tokens. */
export type Utf8Segment = { text: string } | { bytes: number[] };

/** Length of the UTF-8 sequence a lead byte starts; 0 for a continuation or invalid byte. */
export function sequenceLength(b: number): number {
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b <= 0xdf) return 2;
  if (b >= 0xe0 && b <= 0xef) return 3;
  if (b >= 0xf0 && b <= 0xf4) return 4;
  return 0;
}

/** The bytes cut into whole characters and stray bytes, in order, adjacent runs of a kind joined. */
export function utf8Segments(bytes: readonly number[]): Utf8Segment[] {
  const out: Utf8Segment[] = [];
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const push = (s: Utf8Segment) => {
    const last = out[out.length - 1];
    if (last && 'text' in last && 'text' in s) last.text += s.text;
    else if (last && 'bytes' in last && 'bytes' in s) last.bytes.push(...s.bytes);
    else out.push(s);
  };
  let i = 0;
  while (i < bytes.length) {
    const n = sequenceLength(bytes[i]);
    const char = n > 0 && i + n <= bytes.length ? bytes.slice(i, i + n) : undefined;
    let text: string | undefined;
    if (char && char.slice(1).every((b) => (b & 0xc0) === 0x80)) {
      try {
        text = decoder.decode(Uint8Array.from(char));
      } catch {
        text = undefined; // an overlong or surrogate form: bytes, not a character
      }
    }
    if (text !== undefined) {
      push({ text });
      i += n;
    } else {
      push({ bytes: [bytes[i]] });
      i++;
    }
  }
  return out;
}

/** True when some of the bytes are not whole characters (the token splits a character). */
export function splitsCharacter(bytes: readonly number[]): boolean {
  return utf8Segments(bytes).some((s) => 'bytes' in s);
}

const hex = (b: number) => b.toString(16).toUpperCase().padStart(2, '0');

/** "<0xC3>", "<0xF0><0x9F>": bytes that are part of a character. */
export function byteLabel(bytes: readonly number[]): string {
  return bytes.map((b) => `<0x${hex(b)}>`).join('');
}

/**
 * The token for display: whole characters with whitespace drawn (visibleToken), each run of stray
 * bytes as "<0xC3>", joined by " + " ("␣caf + <0xC3>").
 */
export function visibleTokenBytes(bytes: readonly number[]): string {
  return utf8Segments(bytes)
    .map((s) => ('text' in s ? visibleToken(s.text) : byteLabel(s.bytes)))
    .join(' + ');
}

/** A token's bytes as text: whole characters as themselves, the bytes of a split character as <0xC3> (never "�"). */
export function byteTokenText(bytes: Uint8Array): string {
  return utf8Segments(Array.from(bytes))
    .map((s) => ('text' in s ? s.text : byteLabel(s.bytes)))
    .join('');
}

/** A vocabulary token as shown: through its bytes when the tokenizer has them. */
export function displayTokenText(tokenizer: Pick<Tokenizer, 'tokenText' | 'tokenBytes'>, id: number): string {
  return tokenizer.tokenBytes ? byteTokenText(tokenizer.tokenBytes(id)) : tokenizer.tokenText(id);
}

/** The three bytes of U+FFFD, what a vocabulary token holding a real "�" has in it. */
const REPLACEMENT_BYTES = [0xef, 0xbf, 0xbd];

/**
 * Generated text with whole characters only, for putting into a document: decoding byte tokens
 * gives "�" for bytes that make no character (an incomplete UTF-8 sequence at the end, whose next
 * byte never came, or stray bytes), and those are taken out; `dropped` counts them. Text from a
 * tokenizer without bytes, or from tokens that hold a real "�", is left as it is.
 */
export function wholeCharacters(tokenizer: Pick<Tokenizer, 'tokenBytes'>, ids: readonly number[], text: string): { text: string; dropped: number } {
  if (!tokenizer.tokenBytes || !text.includes('\ufffd')) return { text, dropped: 0 };
  for (const id of ids) {
    const b = tokenizer.tokenBytes(id);
    for (let i = 0; i + 2 < b.length; i++)
      if (b[i] === REPLACEMENT_BYTES[0] && b[i + 1] === REPLACEMENT_BYTES[1] && b[i + 2] === REPLACEMENT_BYTES[2]) return { text, dropped: 0 };
  }
  const whole = text.replace(/\ufffd/g, '');
  return { text: whole, dropped: text.length - whole.length };
}
