/**
 * A bounded context window: which part of a long text to show the model for a position, so that
 * hovers and completions cost the same on a 10-line file and on a 100 MB one.
 */
import type { Tokenizer } from './model';

export interface ContextWindow {
  /** Offset where the window starts. */
  start: number;
  /** Whether the window starts a sequence (text start, or a line start for sentence-per-line models). */
  atStart: boolean;
}

/**
 * Starts at most `maxChars` before `offset`, moved forward to a clean token boundary: after a line
 * break when there is one in reach, else at whitespace.
 */
export function contextWindow(text: string, offset: number, maxChars: number, tokenizer: Pick<Tokenizer, 'sentencePerLine'>): ContextWindow {
  if (tokenizer.sentencePerLine) {
    const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
    if (offset - lineStart <= maxChars) return { start: lineStart, atStart: true };
  }
  let start = Math.max(0, offset - maxChars);
  if (start === 0) return { start: 0, atStart: true };
  const nl = text.indexOf('\n', start - 1);
  if (nl >= 0 && nl < offset) {
    start = nl + 1;
    return { start, atStart: tokenizer.sentencePerLine };
  }
  while (start < offset && !/\s/.test(text[start])) start++;
  return { start, atStart: false };
}

/** Text that is not text: a NUL character marks a binary file. */
export function looksBinary(text: string): boolean {
  return text.includes('\0');
}
