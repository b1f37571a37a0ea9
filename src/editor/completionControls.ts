/**
 * Control characters a model generated (a byte-level model at temperature 1: SYN, ETX, SUB …,
 * drive-gguf5 Medium 1) do not go into the document with Complete Selection: written into a text
 * file they are invisible in most editors, make tools take it for binary (SUB ends a file for some
 * Windows tools), and cannot be seen to remove. They are left out of the inserted text and named by
 * their escapes in a notice, which offers the completion with them on the clipboard. Tabs and line
 * breaks are text and stay.
 */
import { invisibleEscape, plural } from '../core/numberFormat';

// Control characters are what this matches: C0 but tab, line feed and carriage return; DEL; C1.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

/** `text` without its control characters, and their escapes in order (\x16, \x03). */
export function withoutControls(text: string): { text: string; removed: string[] } {
  const removed: string[] = [];
  const kept = text.replace(CONTROL, (ch) => {
    removed.push(invisibleEscape(ch) ?? ch);
    return '';
  });
  return { text: kept, removed };
}

/** The notice after an insertion that left control characters out. */
export function controlsLeftOutMessage(removed: readonly string[]): string {
  return (
    `LM: the model generated ${plural(removed.length, 'control character')} (${removed.join(' ')}); ` +
    `${removed.length === 1 ? 'it was' : 'they were'} left out of the inserted text, which stays plain text.`
  );
}
