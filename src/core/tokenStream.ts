/**
 * Tokenizing a text that arrives in pieces (a file read in chunks) with the tokens of the whole
 * text: each piece is cut at the tokenizer's last safe cut and the unfinished tail is carried to
 * the next piece. A tokenizer without cut rules gets the whole text at the end.
 */
import { LmError } from './errors';
import type { Token, Tokenizer } from './model';

/**
 * Longest stretch of text held back waiting for a safe cut (UTF-16 units): a longer run without
 * whitespace (or any text, for a tokenizer without cut rules) is refused rather than buffered.
 */
export const MAX_UNCUT_CHARS = 4 * 1024 * 1024;

export class TokenStream {
  private carry = '';
  /** UTF-16 offset of `carry` in the whole text. */
  private offset = 0;
  private started = false;

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly maxUncut = MAX_UNCUT_CHARS,
  ) {}

  /** UTF-16 offset where the text not yet tokenized starts. */
  get pendingFrom(): number {
    return this.offset;
  }

  /** Tokens that the next piece of text cannot change. */
  push(text: string): Token[] {
    const all = this.carry + text;
    const cut = this.tokenizer.cutPoint ? this.tokenizer.cutPoint(all) : 0;
    if (cut <= 0) {
      this.hold(all);
      return [];
    }
    const tokens = this.encode(all.slice(0, cut));
    this.hold(all.slice(cut));
    return tokens;
  }

  /** The remaining tokens; for an empty text, the begin-of-sequence marker alone (as `encode`). */
  end(): Token[] {
    const rest = this.carry;
    this.carry = '';
    return rest || !this.started ? this.encode(rest) : [];
  }

  private hold(rest: string): void {
    if (rest.length > this.maxUncut) {
      const why = this.tokenizer.cutPoint ? 'a run without whitespace' : 'this tokenizer is only cut at the end of the text';
      throw new LmError(
        `cannot tokenize the text in pieces: ${rest.length.toLocaleString('en-US')} characters from character ${this.offset.toLocaleString('en-US')} on ` +
          `have no place to cut (${why}); at most ${this.maxUncut.toLocaleString('en-US')} are held`,
      );
    }
    this.carry = rest;
  }

  private encode(text: string): Token[] {
    const tokens = this.tokenizer.encode(text, !this.started, this.offset);
    this.started = true;
    this.offset += text.length;
    return tokens;
  }
}
