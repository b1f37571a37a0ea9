/**
 * Streams generated tokens out of an engine worker in batches. Posting a message per token costs
 * a browser worker about half a millisecond, a sixth of a decode step of the embedded model (see
 * docs/BENCHMARKS.md); a batch per display frame costs nothing a reader can see.
 */
import type { GeneratedToken } from '../generation';

export const STREAM_INTERVAL_MS = 16;

export class TokenStream {
  private completion = -1;
  private tokens: GeneratedToken[] = [];
  private lastFlush = -Infinity;

  constructor(
    private readonly send: (completion: number, tokens: GeneratedToken[]) => void,
    private readonly intervalMs = STREAM_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** The first token goes out at once; later ones when the interval has passed since the last batch. */
  add(completion: number, token: GeneratedToken): void {
    if (completion !== this.completion) this.flush();
    this.completion = completion;
    this.tokens.push(token);
    if (this.now() - this.lastFlush >= this.intervalMs) this.flush();
  }

  /** Sends what is buffered (call before the final response). */
  flush(): void {
    if (this.tokens.length === 0) return;
    const tokens = this.tokens;
    this.tokens = [];
    this.lastFlush = this.now();
    this.send(this.completion, tokens);
  }
}
