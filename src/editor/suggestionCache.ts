/**
 * The last suggestion shown per document. Typing the suggestion's own next characters reuses the
 * rest of it instead of asking the model again.
 */
export interface CachedSuggestion {
  /** Offset of the cursor when the suggestion was made. */
  offset: number;
  /** Text just before that offset (a tail, enough to recognise the place). */
  before: string;
  suggestion: string;
}

/** Characters of text before the cursor kept to recognise the place. */
export const CACHE_TAIL = 256;

export class SuggestionCache {
  private readonly entries = new Map<string, CachedSuggestion>();

  set(doc: string, offset: number, textBefore: string, suggestion: string): void {
    this.entries.set(doc, { offset, before: textBefore.slice(-CACHE_TAIL), suggestion });
  }

  /**
   * What remains of the cached suggestion at `offset`, where `textBefore` ends at the cursor and
   * holds at least CACHE_TAIL + the typed characters; undefined when the user typed something else,
   * moved elsewhere, or typed all of it.
   */
  lookup(doc: string, offset: number, textBefore: string): string | undefined {
    const e = this.entries.get(doc);
    if (!e) return undefined;
    const typed = offset - e.offset;
    if (typed < 0 || typed >= e.suggestion.length) return undefined;
    if (!textBefore.endsWith(e.before + e.suggestion.slice(0, typed))) return undefined;
    return e.suggestion.slice(typed);
  }

  delete(doc: string): void {
    this.entries.delete(doc);
  }
}
