/**
 * Tokenizing a text that arrives in pieces (a file read in chunks) with the tokens of the whole
 * text: each piece is cut at the tokenizer's last safe cut and the unfinished tail is carried to
 * the next piece. A tokenizer without cut rules gets the whole text at the end.
 */
import { LmError } from './errors';
import type { Token, Tokenizer } from './model';

/**
 * Longest stretch of text held back waiting for a safe cut (UTF-16 units): a longer stretch where
 * the tokenizer cannot cut (one giant word or run of spaces; any text, for a tokenizer without cut
 * rules) is refused rather than buffered.
 */
export const MAX_UNCUT_CHARS = 4 * 1024 * 1024;

/** What a stretch without a place to cut is, for the message. */
function describeUncut(rest: string): string {
  if (/^ ?[\p{L}\p{M}\p{N}]+$/u.test(rest)) return 'it is a single word of letters and digits';
  if (/^[^\S\r\n]+$/.test(rest)) return 'it is a single run of spaces and tabs, which the tokenizer takes as one token';
  return 'none of the places where this tokenizer can cut: whitespace after a word, a line break or, for the editor tokenizer, punctuation';
}

export class TokenStream {
  private carry = '';
  /** UTF-16 offset of `carry` in the whole text. */
  private offset = 0;
  private started = false;

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly maxUncut = MAX_UNCUT_CHARS,
    /** Whether the text's start gets the tokenizer's special tokens (begin-of-sequence), as `encode`'s argument. */
    private readonly addSpecial = true,
  ) {}

  /** UTF-16 offset where the text not yet tokenized starts. */
  get pendingFrom(): number {
    return this.offset;
  }

  /** Tokens that the next piece of text cannot change. */
  push(text: string): Token[] {
    const all = this.carry + text;
    // The carry has no cut (it starts after the last one) and rules look at two characters: only
    // the new text and the carry's last character need searching, not the whole carry again.
    const from = Math.max(0, this.carry.length - 1);
    const found = this.tokenizer.cutPoint ? this.tokenizer.cutPoint(all.slice(from)) : 0;
    const cut = found > 0 ? from + found : 0;
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
      const why = this.tokenizer.cutPoint ? describeUncut(rest) : 'this tokenizer is only cut at the end of the text';
      throw new LmError(
        `cannot tokenize the text in pieces: ${rest.length.toLocaleString('en-US')} characters from character ${this.offset.toLocaleString('en-US')} on ` +
          `have no place to cut (${why}); at most ${this.maxUncut.toLocaleString('en-US')} are held`,
      );
    }
    this.carry = rest;
  }

  private encode(text: string): Token[] {
    const tokens = this.tokenizer.encode(text, this.addSpecial && !this.started, this.offset);
    this.started = true;
    this.offset += text.length;
    return tokens;
  }
}
