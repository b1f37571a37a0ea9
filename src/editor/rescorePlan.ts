/**
 * Incremental re-scoring after an edit. By the chain rule a token's probability depends only on
 * the tokens before it, so tokens before the first changed one keep their scores; after the edit,
 * a model that sees a bounded number of previous tokens (an n-gram model: n − 1; a transformer
 * scored in windows: its window) gives unchanged tokens their old scores again once that many
 * unchanged tokens separate them from the edit. Tokens never scored (a scoring interrupted by the
 * edit) are scored too, so the work continues where it stopped.
 */
export interface TokenKey {
  id: number;
  text: string;
}

export interface RescorePlan {
  /** New tokens [from, to) need scoring. */
  from: number;
  to: number;
  /** New tokens [to, end) take the old scores of old tokens [to + shift, ...). */
  shift: number;
}

/**
 * `contextTokens`: how many previous tokens the model looks at (Infinity for models whose scores
 * depend on more, e.g. a transformer scoring in windows). Scores are keyed by position in the
 * token list, so reuse needs the same tokens before them too.
 */
export function planRescore(oldTokens: readonly TokenKey[], newTokens: readonly TokenKey[], contextTokens: number): RescorePlan {
  const same = (a: TokenKey, b: TokenKey) => a.id === b.id && a.text === b.text;
  let first = 0;
  const common = Math.min(oldTokens.length, newTokens.length);
  while (first < common && same(oldTokens[first], newTokens[first])) first++;
  if (first === newTokens.length && first === oldTokens.length) return { from: first, to: first, shift: 0 };
  // Common suffix, not overlapping the common prefix in either list.
  let suffix = 0;
  while (
    suffix < newTokens.length - first &&
    suffix < oldTokens.length - first &&
    same(oldTokens[oldTokens.length - 1 - suffix], newTokens[newTokens.length - 1 - suffix])
  )
    suffix++;
  const changedEnd = newTokens.length - suffix;
  const shift = oldTokens.length - newTokens.length;
  if (!Number.isFinite(contextTokens)) return { from: first, to: newTokens.length, shift };
  const to = Math.min(newTokens.length, changedEnd + contextTokens);
  return { from: first, to, shift };
}

/**
 * The ranges [start, end) to score, in order: the plan's, and every run of tokens not scored yet
 * (`scored(i)` false) elsewhere, from token `first` on (token 0 of a text that starts a sequence
 * has no context and is never scored; a selection's, predicted from the text before it, is).
 */
export function rangesToScore(count: number, scored: (i: number) => boolean, plan: RescorePlan, first = 1): [number, number][] {
  const out: [number, number][] = [];
  const add = (start: number, end: number) => {
    const last = out[out.length - 1];
    if (last && last[1] >= start) last[1] = Math.max(last[1], end);
    else out.push([start, end]);
  };
  let i = first;
  while (i < count) {
    if (i >= plan.from && i < plan.to) {
      add(i, plan.to);
      i = plan.to;
    } else if (!scored(i)) {
      const start = i;
      while (i < count && !scored(i) && !(i >= plan.from && i < plan.to)) i++;
      add(start, i);
    } else i++;
  }
  return out;
}

/** The ranges cut to the tokens before token `end`. */
export function rangesBefore(ranges: readonly [number, number][], end: number): [number, number][] {
  return ranges.filter(([a]) => a < end).map(([a, b]) => [a, Math.min(b, end)]);
}

/** The text offset where the last scored token ends (0: none scored). */
export function scoredEnd(tokens: readonly { start: number; length: number }[], scored: (i: number) => boolean): number {
  for (let i = tokens.length - 1; i >= 0; i--) if (scored(i)) return tokens[i].start + tokens[i].length;
  return 0;
}

/**
 * An offset of the text after edits (VS Code's content changes: offsets in the text before them,
 * applied from the end): moved by edits before it; an edit across it puts it at the edit's start,
 * so that none of the new text counts as before it (nor does the old text an undo brings back: hostile14 M1).
 */
export function offsetAfterEdits(offset: number, changes: readonly { rangeOffset: number; rangeLength: number; text: string }[]): number {
  let at = offset;
  for (const c of [...changes].sort((a, b) => b.rangeOffset - a.rangeOffset)) {
    if (c.rangeOffset >= at) continue;
    const end = c.rangeOffset + c.rangeLength;
    at = end <= at ? at + c.text.length - c.rangeLength : c.rangeOffset;
  }
  return at;
}

/**
 * A selection's scope [start, end) after edits (VS Code's content changes: offsets in the text
 * before them): the text it covered, and what was typed in it. Typing at its start is before it; an
 * edit across its start puts the start where the edit begins (the new text and the rest of the
 * selection in it: it used to keep the old start, leaving selected characters out, hostile22);
 * typing at its end extends it, an edit across its end ends it after the new text.
 */
export function scopeAfterEdits(
  start: number,
  end: number,
  changes: readonly { rangeOffset: number; rangeLength: number; text: string }[],
): { start: number; end: number } {
  let from = start;
  let to = end;
  for (const c of [...changes].sort((a, b) => b.rangeOffset - a.rangeOffset)) {
    const delta = c.text.length - c.rangeLength;
    const editEnd = c.rangeOffset + c.rangeLength;
    // Typing at the start is before the scope; an edit across it starts the scope where it begins.
    if (editEnd <= from) from += delta;
    else if (c.rangeOffset < from) from = c.rangeOffset;
    if (c.rangeOffset > to) continue;
    to = editEnd <= to ? to + delta : c.rangeOffset + c.text.length;
  }
  return { start: from, end: Math.max(from, to) };
}

type ContentChange = { rangeOffset: number; rangeLength: number; text: string };
type Scope = { start: number; end: number };

/** Texts longer than this are not fingerprinted (one pass over the text at every edit): their undo follows the edge rules. */
const MAX_FINGERPRINTED = 4_000_000;
/** States kept: about as many edits as one is likely to undo. */
const STATES = 200;

/** FNV-1a over the text's UTF-16 units, with its length: which earlier text an undo or redo brings back. */
function fingerprint(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return `${text.length}:${h >>> 0}`;
}

/**
 * A selection heat-map's scope through undo and redo. The edge rules of `scopeAfterEdits` cannot
 * tell text an undo puts back from text typed there: an undo of a deletion across the scope's end
 * put the deleted text back at its end and coloured what had never been selected (hostile23 M2),
 * and VS Code undoes typing, several cursors and pastes as steps of its own (hostile24 M1). So the
 * scope of each text the document had is kept, by a fingerprint of the text: an undo or redo that
 * brings a text back brings its scope back; anything else follows the edge rules.
 */
export class ScopeHistory {
  private readonly states = new Map<string, Scope>();

  /** The scope of the document's text as it is now (the heat-map's start). */
  constructor(scope: Scope, text: string) {
    this.remember(text, scope);
  }

  apply(scope: Scope, changes: readonly ContentChange[], text: string, reason?: 'undo' | 'redo'): Scope {
    const known = reason && text.length <= MAX_FINGERPRINTED ? this.states.get(fingerprint(text)) : undefined;
    const after = known ?? scopeAfterEdits(scope.start, scope.end, changes);
    this.remember(text, after);
    return after;
  }

  private remember(text: string, scope: Scope): void {
    if (text.length > MAX_FINGERPRINTED) return;
    const key = fingerprint(text);
    // The latest scope of a text, and the oldest texts forgotten first.
    this.states.delete(key);
    this.states.set(key, { ...scope });
    if (this.states.size > STATES) this.states.delete(this.states.keys().next().value!);
  }
}
