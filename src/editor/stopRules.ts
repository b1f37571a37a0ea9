/** Keeping inline suggestions short, and dropping those that add nothing. */
import { normalizeLineBreaks } from '../core/tokenizers/lineBreaks';

export interface StopRules {
  /** End the suggestion at the end of the line. */
  stopAtLineEnd: boolean;
  /** Most words in a suggestion (0: no limit). */
  maxWords: number;
}

/** The suggestion cut by the rules; '' when nothing is left. */
export function applyStopRules(text: string, rules: StopRules): string {
  let out = text;
  if (rules.stopAtLineEnd) {
    const nl = out.search(/\r?\n/);
    if (nl >= 0) out = out.slice(0, nl);
  }
  if (rules.maxWords > 0) {
    const word = /\S+/g;
    let m: RegExpExecArray | null;
    let n = 0;
    while ((m = word.exec(out)) !== null) {
      if (++n === rules.maxWords) {
        out = out.slice(0, m.index + m[0].length);
        break;
      }
    }
  }
  return out.trimEnd();
}

/** True when accepting the suggestion would only retype what already follows the cursor. */
export function repeatsTextAfterCursor(suggestion: string, after: string): boolean {
  const s = suggestion.trimEnd();
  // The model writes LF line breaks; a CRLF document's text after the cursor has its own.
  return s.length > 0 && normalizeLineBreaks(after).text.startsWith(s);
}
