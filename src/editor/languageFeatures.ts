/**
 * Which of the editor features (hovers, ghost text while typing, the status bar's bits/char) a
 * language has, from their `*.languages` settings. A document in a language none of them lists
 * gets none of them, which looked like a broken extension when VS Code took prose for another
 * language (drive51 M1: an untitled text of `key: value` lines detected as Ini).
 */

export interface LanguageFeature {
  /** What a user calls it: "hovers", "ghost text", "bits/char". */
  readonly name: string;
  readonly enabled: boolean;
  readonly languages: readonly string[];
}

/** A language list setting: ids, or `*` for every language. */
export function languageEnabled(languages: readonly string[], languageId: string): boolean {
  return languages.includes('*') || languages.includes(languageId);
}

/**
 * The features turned on that leave this language out, when none of those turned on lists it; else
 * undefined (the document has one of them, or every feature is off and there is nothing to miss).
 */
export function featuresOffFor(features: readonly LanguageFeature[], languageId: string): LanguageFeature[] | undefined {
  const on = features.filter((f) => f.enabled);
  if (on.length === 0 || on.some((f) => languageEnabled(f.languages, languageId))) return undefined;
  return on;
}

/** The list with the language added (unchanged when it is there, or `*` is). */
export function withLanguage(languages: readonly string[], languageId: string): string[] {
  return languageEnabled(languages, languageId) ? [...languages] : [...languages, languageId];
}

/** A language of the lists that plain prose can be switched to, for a document VS Code took for another: plain text first. */
export function proseLanguage(features: readonly LanguageFeature[]): string | undefined {
  const on = features.filter((f) => f.enabled);
  return ['plaintext', 'markdown'].find((id) => on.some((f) => f.languages.includes(id)));
}
