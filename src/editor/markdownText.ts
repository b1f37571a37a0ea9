/**
 * Text from outside (model names from file, folder or hub repository names; tokens) placed in the
 * Markdown of hovers and tooltips, so that it shows as written and cannot inject links or HTML.
 */

/** Every ASCII punctuation mark escaped, line breaks joined into a space. */
export function escapeMarkdown(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').replace(/[!-/:-@[-`{-~]/g, (c) => `\\${c}`);
}

/**
 * Inline code that survives backticks in the text (drawn as ˋ). One backtick, padded: VS Code's
 * hover renderer (marked) takes a single-backtick span inside a link's text whatever brackets it
 * holds, not a double-backtick one (a token `3[x` broke its "continue with" link).
 */
export function inlineCode(s: string): string {
  return '` ' + s.replace(/`/g, 'ˋ') + ' `';
}

/** A table cell's content: a pipe, even inside a code span, ends the cell unless escaped (GFM; drive7: a token with `|` broke the alternatives table). */
export function tableCell(s: string): string {
  return s.replace(/\|/g, '\\|');
}
