/**
 * The hover's "continue with …" links as text: the command URI each carries (escaped for a
 * Markdown link's destination), the check of what a clicked link gives the command, and whether
 * a token can be replaced alone (not when it is part of a character drawn as one glyph).
 */
import { LmError } from '../core/errors';

/** What a link carries: the token's place in one version of the document, and the text to put there. */
export interface ContinueWithArgs {
  uri: string;
  version: number;
  start: number;
  length: number;
  text: string;
}

/** The command URI of a link. */
export function continueWithCommandUri(command: string, args: ContinueWithArgs): string {
  return `command:${command}?${markdownSafeUriComponent(JSON.stringify([args]))}`;
}

/**
 * encodeURIComponent leaves ( ) ! ' * as they are: a ")" in a token's text (or in the file's name)
 * would end the Markdown link's destination there. Every one of them is escaped here.
 */
export function markdownSafeUriComponent(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The command's argument, as a link carries it; anything else is refused. */
export function checkContinueWithArgs(a: unknown): ContinueWithArgs {
  const o = a as Partial<Record<keyof ContinueWithArgs, unknown>> | undefined;
  const int = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!o || typeof o !== 'object' || typeof o.uri !== 'string' || typeof o.text !== 'string' || !int(o.version) || !int(o.start) || !int(o.length))
    throw new LmError('this “continue with” link is malformed (it needs the document, its version, the token’s place and the text): hover the token again');
  return o as ContinueWithArgs;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * The character (grapheme cluster: an emoji sequence joined by ZWJ, a letter with combining
 * marks) that the token at [start, end) of `text` cuts through, or undefined when the token
 * begins and ends at character boundaries.
 */
export function clusterCutBy(text: string, start: number, end: number): string | undefined {
  for (const { segment, index } of graphemes.segment(text)) {
    const last = index + segment.length;
    if ((index < start && start < last) || (index < end && end < last)) return segment;
    if (index >= end) break;
  }
  return undefined;
}
