/**
 * /tokenize of a long prompt without holding the server: the text is tokenized a piece at a time
 * (TokenStream: cut where the tokenizer's tokens cannot cross, so the ids are those of the whole
 * text), and other requests (/health, a client going away, shutdown) are served between pieces.
 */
import { CancelledError } from '../../core/errors';
import type { Tokenizer } from '../../core/model';
import { TokenStream } from '../../core/tokenStream';

/** Characters tokenized between two turns of the event loop. */
export const PIECE_CHARS = 64 * 1024;

export async function tokenizeInPieces(tokenizer: Tokenizer, text: string, addSpecial: boolean, signal: { cancelled: boolean }): Promise<number[]> {
  // A tokenizer without cut rules takes the text whole (the body limit bounds it).
  if (!tokenizer.cutPoint || text.length <= PIECE_CHARS) return tokenizer.encode(text, addSpecial).map((t) => t.id);
  const stream = new TokenStream(tokenizer, undefined, addSpecial);
  const ids: number[] = [];
  for (let at = 0; at < text.length; at += PIECE_CHARS) {
    for (const t of stream.push(text.slice(at, at + PIECE_CHARS))) ids.push(t.id);
    await new Promise((resolve) => setImmediate(resolve));
    if (signal.cancelled) throw new CancelledError();
  }
  for (const t of stream.end()) ids.push(t.id);
  return ids;
}
