/**
 * When a completion ends. Each criterion looks at one moment of a step and is pure (cancellation
 * excepted: it throws): before a step (how many tokens so far), on the drawn token before it is
 * kept, and on the generated text after it is kept. Text criteria match the decoded text, so they
 * find their pattern across token boundaries, and say where the text ends (the match is left out).
 */
import { throwIfCancelled, type CancelSignal } from './errors';

export type FinishReason = 'length' | 'stop' | 'eos';

export interface StoppingCriterion {
  /** Before drawing a token, with the number of tokens generated so far. */
  beforeStep?(count: number): FinishReason | undefined;
  /** On the drawn token, which is not kept when this ends the completion. */
  onToken?(id: number): FinishReason | undefined;
  /**
   * On the text generated so far, the step's token included; `previousLength` is the text's
   * length before that token. Where the text ends (finish reason 'stop'), or -1 to go on.
   */
  onText?(text: string, previousLength: number): number;
  /** What a text criterion's end is called where a completion says why it ended. */
  readonly kind?: StopKind;
}

/** Which text criterion ended a completion of finish reason 'stop'. */
export type StopKind = 'stop sequence' | 'blank line';

export function maxTokens(n: number): StoppingCriterion {
  return { beforeStep: (count) => (count >= n ? 'length' : undefined) };
}

/** Throws CancelledError before a step once the signal is cancelled. */
export function cancellation(signal: CancelSignal | undefined): StoppingCriterion {
  return {
    beforeStep: () => {
      throwIfCancelled(signal);
      return undefined;
    },
  };
}

/** Ends on an end-of-sequence token: the model's one, or any of several (Qwen's <|im_end|> and <|endoftext|>). */
export function endOfSequence(eos: number | readonly number[] | undefined): StoppingCriterion {
  const ids = new Set(typeof eos === 'number' ? [eos] : (eos ?? []));
  return { onToken: (id) => (ids.has(id) ? 'eos' : undefined) };
}

/** Ends at the earliest occurrence of any of `stops` in the text, before it. */
export function stopSequences(stops: readonly string[]): StoppingCriterion {
  const longest = stops.reduce((m, s) => Math.max(m, s.length), 0);
  return {
    // Only a match that ends in the new text is new: earlier text was searched at earlier steps.
    onText: (text, previousLength) => findStop(text, stops, Math.max(0, previousLength - longest + 1)),
    kind: 'stop sequence',
  };
}

/** Ends at a blank line after text, or at a run of blank lines before any (see blankLineStop). */
export function blankLineRun(): StoppingCriterion {
  return { onText: (text) => blankLineStop(text), kind: 'blank line' };
}

/**
 * Where a run of blank lines ends the text, or -1: at a blank line after text (before its line
 * break), or at the start when the text begins with two blank lines (three line breaks) before
 * any text. Small models otherwise fill completions with empty lines.
 */
export function blankLineStop(text: string): number {
  const lead = /^\s*/.exec(text)![0].length;
  const afterText = /\n[^\S\n]*\n/g;
  afterText.lastIndex = lead;
  const m = afterText.exec(text);
  if (m) return m.index;
  const leadingRun = /^(?:[^\S\n]*\n){3}/.exec(text);
  return leadingRun ? 0 : -1;
}

/** Earliest index ≥ from at which any stop sequence starts in text, or -1. */
function findStop(text: string, stops: readonly string[], from: number): number {
  let best = -1;
  for (const s of stops) {
    const at = text.indexOf(s, from);
    if (at >= 0 && (best < 0 || at < best)) best = at;
  }
  return best;
}

/** The first reason any criterion gives before a step, in list order. */
export function stopBeforeStep(criteria: readonly StoppingCriterion[], count: number): FinishReason | undefined {
  for (const c of criteria) {
    const reason = c.beforeStep?.(count);
    if (reason) return reason;
  }
  return undefined;
}

export function stopOnToken(criteria: readonly StoppingCriterion[], id: number): FinishReason | undefined {
  for (const c of criteria) {
    const reason = c.onToken?.(id);
    if (reason) return reason;
  }
  return undefined;
}

/** The earliest end any text criterion finds, or -1. */
export function stopInText(criteria: readonly StoppingCriterion[], text: string, previousLength: number): number {
  return textStop(criteria, text, previousLength).at;
}

/** The earliest end any text criterion finds (-1: none), with the kind of the criterion that found it (the first in list order at a tie). */
export function textStop(criteria: readonly StoppingCriterion[], text: string, previousLength: number): { at: number; kind?: StopKind } {
  let best = -1;
  let kind: StopKind | undefined;
  for (const c of criteria) {
    const at = c.onText?.(text, previousLength) ?? -1;
    if (at >= 0 && (best < 0 || at < best)) {
      best = at;
      kind = c.kind;
    }
  }
  return { at: best, kind };
}

/** Whether any criterion reads the text (decoding every step costs time, so only then). */
export function needsText(criteria: readonly StoppingCriterion[]): boolean {
  return criteria.some((c) => c.onText !== undefined);
}
