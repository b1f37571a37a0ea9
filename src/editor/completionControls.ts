/**
 * Control characters a model generated (a byte-level model at temperature 1: SYN, ETX, SUB …,
 * drive-gguf5 Medium 1) do not go into the document with Complete Selection: written into a text
 * file they are invisible in most editors, make tools take it for binary (SUB ends a file for some
 * Windows tools), and cannot be seen to remove. They are left out of the inserted text and named by
 * their escapes in a notice, which offers the completion with them on the clipboard. Tabs and line
 * breaks are text and stay; a carriage return without a line feed becomes a line feed (the editor
 * makes it a line break anyway, drive6 Low 9), and the notice says so.
 */
import type { Tokenizer } from '../core/model';
import { invisibleEscape, plural } from '../core/numberFormat';
import { wholeCharacters } from '../core/tokenBytes';

// Control characters are what this matches: C0 but tab, line feed and carriage return; DEL; C1.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

const LONE_CARRIAGE_RETURN = /\r(?!\n)/g;

/**
 * `text` without its control characters, their escapes in order (\x16, \x03), and how many lone
 * carriage returns became line feeds.
 */
export function withoutControls(text: string): { text: string; removed: string[]; carriageReturns: number } {
  const removed: string[] = [];
  let carriageReturns = 0;
  const kept = text
    .replace(CONTROL, (ch) => {
      removed.push(invisibleEscape(ch) ?? ch);
      return '';
    })
    .replace(LONE_CARRIAGE_RETURN, () => {
      carriageReturns++;
      return '\n';
    });
  return { text: kept, removed, carriageReturns };
}

/**
 * What goes into the document of generated `ids` decoded as `text` (Complete Selection, ghost
 * text): whole characters only (`dropped`: the U+FFFD of characters whose bytes never completed,
 * tokenBytes.ts), then without control characters; `raw` is the text before those were left out.
 */
export function insertableText(
  tokenizer: Pick<Tokenizer, 'tokenBytes'>,
  ids: readonly number[],
  text: string,
): { text: string; removed: string[]; carriageReturns: number; dropped: number; raw: string } {
  const whole = wholeCharacters(tokenizer, ids, text);
  return { ...withoutControls(whole.text), dropped: whole.dropped, raw: whole.text };
}

/** The notice after an insertion that left control characters out or made carriage returns line breaks. */
export function controlsLeftOutMessage(removed: readonly string[], carriageReturns = 0): string {
  const left =
    removed.length > 0
      ? `${plural(removed.length, 'control character')} (${removed.join(' ')}); ` +
        `${removed.length === 1 ? 'it was' : 'they were'} left out of the inserted text, which stays plain text`
      : '';
  const returns =
    carriageReturns > 0
      ? `${plural(carriageReturns, 'carriage return')} (\\r) without a line feed; in the document ${carriageReturns === 1 ? 'it is a line break' : 'each is a line break'}`
      : '';
  return `LM: the model generated ${left}${left && returns ? ', and ' : ''}${returns}.`;
}

/**
 * An insertable text as one row of a quick pick: line breaks as ⏎ (at its start and end too: they
 * decide whether it opens a paragraph, drive19 M1), tabs as →, runs of spaces and spaces at a
 * line's ends kept as wide as they are (a label's HTML would draw a run as one and drop those at
 * the ends: drive18 L3), and `$(` broken by a zero-width space, since quick picks draw `$(name)` as
 * an icon, not as the text it inserts.
 */
export function oneLineLabel(text: string): string {
  if (text.length === 0) return '(empty)';
  const shown = text
    .split(/\r?\n/)
    .map((line) => line.replace(/\t/g, '→').replace(/ {2,}|^ | $/g, (run) => '\u00a0'.repeat(run.length)))
    .join(' ⏎ ')
    // Empty lines leave the joins' spaces side by side, and the first and last join a space outside.
    .replace(/ {2,}/g, ' ')
    .replace(/^ | $/g, '')
    .replace(/\$\(/g, '$\u200b(');
  // Spaces alone would make a row that looks empty.
  return /^\u00a0+$/.test(shown) ? `(${shown.length} space${shown.length === 1 ? '' : 's'})` : shown;
}
