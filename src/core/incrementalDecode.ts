/**
 * The text each token of a generated sequence adds, as the tokens come: what a streamed completion
 * sends per token, so that the pieces joined are the sequence's decoded text. Decoding the whole
 * sequence at every token would cost its length each time; instead each token is decoded after a
 * few tokens before it (a tokenizer may render a token differently after another: a space joined
 * between words, a SentencePiece word start), and text is only given out once it ends in a whole
 * character: a token holding the first bytes of a character adds nothing, the token holding its
 * last byte adds the character.
 */
import type { Tokenizer } from './model';

/** Tokens before a new one that are decoded with it, for the way it joins them. */
const CONTEXT_TOKENS = 4;

const REPLACEMENT = '\uFFFD';

export class IncrementalDecoder {
  private readonly ids: number[] = [];
  /** ids[prefix..read) were decoded and their text given out; ids[read..) are waiting for a whole character. */
  private prefix = 0;
  private read = 0;

  /** `precededByText`: as Tokenizer.decode's, for the sequence's first tokens. */
  constructor(
    private readonly tokenizer: Pick<Tokenizer, 'decode'>,
    private readonly precededByText: boolean,
  ) {}

  /** The text that `id` adds to the sequence ("" while it ends inside a character). */
  push(id: number): string {
    this.ids.push(id);
    const preceded = this.precededByText || this.prefix > 0;
    const before = this.tokenizer.decode(this.ids.slice(this.prefix, this.read), preceded);
    const after = this.tokenizer.decode(this.ids.slice(this.prefix), preceded);
    if (after.endsWith(REPLACEMENT) || !after.startsWith(before)) return '';
    this.read = this.ids.length;
    this.prefix = Math.max(0, this.read - CONTEXT_TOKENS);
    // The text before `read` is decoded again from the new prefix next time; what was given out for it stays.
    return after.slice(before.length);
  }
}
