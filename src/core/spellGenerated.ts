/**
 * The host's half of a generation that ran without the tokenizer (generateUnspelled in a worker):
 * each token's text and bytes as it continues the tokens before it, the alternatives' texts and the
 * completion's text, computed as generate() computes them where the tokenizer is at hand.
 */
import type { Completion, GeneratedToken } from './generation';
import type { Tokenizer } from './model';
import { spellAlternative } from './scoring';

/** Spells one completion's tokens in the order they were generated. */
export class CompletionSpeller {
  private readonly ids: number[] = [];

  /** `precededByText`: the prompt is not empty (as generate() decodes). */
  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly precededByText: boolean,
  ) {}

  /** Fills in the text and bytes of the next generated token and of its alternatives. */
  next(token: GeneratedToken): GeneratedToken {
    this.spell(token);
    this.ids.push(token.id);
    return token;
  }

  /** The token that ended the completion: spelled after the generated ones, not one of them. */
  spell(token: GeneratedToken): GeneratedToken {
    const shown = this.tokenizer.continuation(this.ids, token.id, this.precededByText);
    token.text = shown.text;
    if (shown.bytes) token.bytes = Array.from(shown.bytes);
    for (const a of token.alternatives ?? []) spellAlternative(this.tokenizer, a);
    return token;
  }

  /** The text of the tokens spelled so far, decoded together. */
  text(): string {
    return this.tokenizer.decode(this.ids, this.precededByText);
  }
}

/** Fills in a whole completion from generateUnspelled: its tokens, the one that ended it, its text. */
export function spellCompletion(tokenizer: Tokenizer, prompt: string, completion: Completion): Completion {
  const speller = new CompletionSpeller(tokenizer, prompt.length > 0);
  for (const t of completion.tokens) speller.next(t);
  if (completion.stoppedBy) speller.spell(completion.stoppedBy);
  completion.text = speller.text();
  return completion;
}
