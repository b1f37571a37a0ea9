/**
 * The Markdown of the document-entropy status bar tooltip. Pure (no `vscode`), so that it can be
 * tested: the model's name comes from a file, folder or hub repository name and is escaped.
 */
import type { ScoreSummary } from '../core/scoring';
import { escapeMarkdown } from '../editor/markdownText';
import { plural } from '../core/numberFormat';

export interface MetricsTooltip {
  modelName: string;
  scope: 'document' | 'selection';
  /** The characters scored when the text was cut, else undefined. */
  cutAt?: number;
  summary: Pick<ScoreSummary, 'bitsPerChar' | 'bitsPerToken' | 'perplexity' | 'tokens' | 'chars'>;
  /** A selection (scored in its document): the characters of context before it (lmPlayground.contextChars). */
  selectionContextChars?: number;
  /** A neural model's context window, in tokens: the text is read in windows of it. */
  window?: number;
  /** How long the scoring took; undefined when the number is the sum of a heat-map's scores of the same tokens. */
  elapsedMs?: number;
  /** Tokens scored again after an edit, when the others kept their scores; undefined when the whole text was scored. */
  rescored?: number;
  /** Why a selection's tokens are not given the whole document's windows (textWindow.ts unplacedNote). */
  note?: string;
}

export function metricsTooltipMarkdown(t: MetricsTooltip): string {
  const s = t.summary;
  return (
    `**${escapeMarkdown(t.modelName)}** on the ${t.scope}${t.cutAt !== undefined ? ` (its first ${t.cutAt.toLocaleString('en-US')} characters)` : ''}\n\n` +
    // The same precision as the status bar's bits/char: one value, one spelling.
    `| | |\n|---|---:|\n| bits per character | ${s.bitsPerChar.toFixed(2)} |\n| bits per token | ${s.bitsPerToken.toFixed(2)} |\n` +
    `| perplexity | ${s.perplexity.toFixed(1)} |\n| tokens | ${s.tokens.toLocaleString('en-US')} |\n| characters | ${s.chars.toLocaleString('en-US')} |\n\n` +
    `Cross-entropy of the text under the model; a better model gives a lower number. ` +
    `Each token is given the text before it${
      t.scope === 'selection' && t.selectionContextChars !== undefined
        ? ` in the document (up to ${t.selectionContextChars.toLocaleString('en-US')} characters before the selection), as the selection's heat-map scores it`
        : ''
    }` +
    `${t.window !== undefined ? `, at most ${(t.window - 1).toLocaleString('en-US')} tokens of it (the windows the heat-map scores in)` : ''}. ${
      t.elapsedMs === undefined
        ? "Summed from the heat-map's scores of the same tokens."
        : t.rescored !== undefined
          ? `Scored ${plural(t.rescored, 'token')} again in ${t.elapsedMs} ms; the others kept the scores they had.`
          : `Scored in ${t.elapsedMs} ms.`
    }${t.note ? `\n\n**Not the document's windows**: ${escapeMarkdown(t.note)}.` : ''}`
  );
}

/** A share done, as the item shows it: whole percents, never 100 % before the end. */
export function percentDone(done: number, total: number): string {
  return `${Math.min(99, Math.floor((100 * done) / Math.max(1, total)))}%`;
}
