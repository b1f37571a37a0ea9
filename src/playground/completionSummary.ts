/**
 * What a result card says under a completion, in words and in bits: its log-probability, how many
 * tokens and why it ended, which completion of how many and the seed that reproduces it alone; a scoring
 * run (max tokens 0) only says that it scored. A completion that stopped before its first token
 * says what that token was and what the model had ranked first, since otherwise nothing shows.
 */
import type { Completion, GeneratedToken } from '../core/generation';
import { formatBits, formatProbability, plural, WHITESPACE_SYMBOLS } from '../core/numberFormat';
import { tokenLabel } from './pieceTip';

export interface RunShape {
  /** Echo with max tokens 0: the prompt is scored, nothing generated. */
  scoring: boolean;
  numCompletions: number;
  stopSequences: readonly string[];
}

export interface CompletionSummary {
  meta: string;
  /** Set when the completion stopped before any token: what the model predicted first. */
  stoppedAtOnce?: string;
}

/** log₂ p as bits: "−35.03 bits". */
export function logProbBits(logProbNats: number): string {
  return formatBits(logProbNats / Math.LN2).replace(/^-/, '−');
}

/**
 * ln p of a completion as the quick pick ranks it: its tokens and, when one ended it (a stop
 * sequence's first token, the end of text), that token too. An empty completion is then as probable
 * as the token that stopped it at once, not p = 1 at the top (hostile22 L1); a completion cut at
 * max tokens has no such token. NaN: unknown (a server that sends none).
 */
export function completionRankLogProb(c: Pick<Completion, 'logProb' | 'finishReason' | 'stoppedBy'>): number {
  return c.logProb + (c.finishReason !== 'length' && c.stoppedBy ? c.stoppedBy.logProb : 0);
}

/** What the rank's log p counts besides the completion's tokens (undefined: nothing). */
export function rankedWith(c: Pick<Completion, 'finishReason' | 'stoppedBy'>): string | undefined {
  if (c.finishReason === 'length' || !c.stoppedBy) return undefined;
  return c.finishReason === 'eos' ? 'counting its end of text' : `counting the ${tokenLabel(c.stoppedBy)} that ended it`;
}

/** A completion as a result shows it: a run stopped by the user keeps the tokens it made, as `stopped`. */
export type ShownCompletion = Omit<Completion, 'finishReason'> & { finishReason: Completion['finishReason'] | 'stopped' };

const FINISH: Record<ShownCompletion['finishReason'], string> = {
  length: 'reached max tokens',
  stop: 'ended by a stop sequence',
  eos: 'the model ended the text',
  stopped: 'stopped',
};

/** A stop sequence as typed in the box: line breaks and tabs as \n and \t. */
export function typedStop(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}

/** "⏎ (a line break)", "⏎⏎ (2 line breaks)", "␣green": a token with its invisible characters named. */
export function namedToken(t: Pick<GeneratedToken, 'text' | 'bytes'>): string {
  const label = tokenLabel(t);
  const chars = [...t.text];
  const kinds = [...new Set(chars)].map((c) => WHITESPACE_SYMBOLS.find((w) => w.char === c));
  if (chars.length === 0 || kinds.some((k) => !k)) return label;
  if (kinds.length === 1) return `${label} (${chars.length === 1 ? `a ${kinds[0]!.name}` : `${chars.length} ${kinds[0]!.name}s`})`;
  return `${label} (${kinds.map((k) => k!.name).join(' and ')})`;
}

export function summarizeCompletion(c: ShownCompletion, run: RunShape): CompletionSummary {
  if (run.scoring) {
    const prompt = c.promptTokens ?? [];
    const lp = prompt.reduce((s, t) => s + t.logProb, 0);
    return { meta: `log₂ p(prompt) = ${logProbBits(lp)} · ${plural(prompt.length, 'prompt token')} scored, no tokens generated` };
  }
  const seed = run.numCompletions > 1 ? `completion ${c.index + 1} of ${run.numCompletions} · seed ${c.seed} gives it as 1 completion` : `seed ${c.seed}`;
  const meta = `log₂ p(completion) = ${logProbBits(c.logProb)} · ${plural(c.tokens.length, 'token')} · ${FINISH[c.finishReason]} · ${seed}`;
  const first = c.stoppedBy;
  if (c.tokens.length > 0 || !first) return { meta };
  const p = formatProbability(Math.exp(first.logProb));
  let why: string;
  if (c.finishReason === 'eos') why = `Stopped at once: the model's first token was its end of text (p = ${p}).`;
  else {
    const stop = run.stopSequences.find((s) => first.text.startsWith(s) || s.startsWith(first.text));
    why = `Stopped at once: the model's first token was ${namedToken(first)} (p = ${p}), which ${stop !== undefined ? `the stop sequence ${typedStop(stop)}` : 'a stop sequence'} ends.`;
  }
  const top = first.alternatives;
  const alternatives = top?.length
    ? ` Its most probable first tokens: ${top.map((a) => `${tokenLabel(a)} ${formatProbability(Math.exp(a.logProb))}`).join(', ')}.`
    : ' (Set top-k per token above 0 to see what else it ranked first.)';
  return { meta, stoppedAtOnce: why + alternatives };
}

/** The first completion's first token, named, when every completion of a run stopped before any token; else undefined. */
export function firstTokenOfEmptyRun(completions: readonly Completion[]): string | undefined {
  if (completions.length === 0 || completions.some((c) => c.tokens.length > 0 || !c.stoppedBy)) return undefined;
  return namedToken(completions[0].stoppedBy!);
}
