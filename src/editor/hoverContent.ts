/**
 * The token hover's Markdown, pure: p as a percentage, surprisal and entropy in bits (log₂),
 * whitespace drawn visibly with a legend, the context the numbers were given, and the word view
 * (the whole word's probability as the product of its parts' conditional probabilities). Compact:
 * with a word line and five alternatives it fits in VS Code's hover without scrolling.
 */
import { formatBits, formatProbability, surprisalBits, tokenLegend, visibleToken } from '../core/numberFormat';
import type { Alternative } from '../core/scoring';
import type { NgramTrace } from '../core/ngram/backoffTrace';
import { orderPhrase, traceRows } from '../playground/ngramTraceView';
import type { WordPart } from './wordView';
import { wordLogProb } from './wordView';
import { escapeMarkdown, inlineCode, tableCell } from './markdownText';

export interface HoverFacts {
  /** The (first) token's id: the alternatives mark it. */
  id: number;
  /** The hovered unit: a token, or the character its byte tokens spell. */
  text: string;
  /** ln p(unit | context): for a character, the sum over its byte tokens. */
  logProb: number;
  /** Rank, entropy and alternatives at the unit's (first) token. */
  rank?: number;
  /** The rank is unknown and greater than this: a server gave its top k only, without the token. */
  rankAbove?: number;
  /** 0 when unknown (a model on a server). */
  vocabSize: number;
  /** Entropy of the next-token distribution, nats; unknown from a server's top k. */
  entropy?: number;
  alternatives: Alternative[];
  /** The alternatives are a server's top k, not drawn from the whole distribution. */
  topOnly?: boolean;
  oov: boolean;
  modelName: string;
  /** The context the numbers were given: `tokens` tokens before it; `whole` when that is the whole text before it. */
  context: { tokens: number; whole: boolean };
  /** Why that context is not the one the whole document's scoring gives the token (textWindow.ts unplacedNote). */
  contextNote?: string;
  /** The byte tokens that spell the hovered character, when there are two or more. */
  bytes?: WordPart[];
  /** The word the unit is part of, when it has two or more parts. */
  word?: { text: string; parts: WordPart[] };
  /** A backoff n-gram model's account of p: the order used and the backoff weights paid. */
  ngram?: NgramTrace;
}

export interface HeatmapFacts {
  bucket: string;
  /** The bucket's colour by name, as in the legend. */
  colour: string;
  modelName: string;
  rank: number;
  logProb: number;
}

const int = (n: number) => n.toLocaleString('en-US');

/** "given the whole text before it" or "given the 97 tokens before it". */
export function contextPhrase(context: HoverFacts['context']): string {
  return context.whole ? 'given the whole text before it' : `given the ${int(context.tokens)} token${context.tokens === 1 ? '' : 's'} before it`;
}

/** "rank **3** of 4,096", "rank **3**" (vocabulary unknown), or "rank > 20" where a server gave only its top 20. */
export function rankPhrase(r: Pick<HoverFacts, 'rank' | 'rankAbove' | 'vocabSize'>): string {
  if (r.rank === undefined) return `rank > ${int(r.rankAbove ?? 0)} (the server gives its top ${int(r.rankAbove ?? 0)} only)`;
  return `rank **${int(r.rank)}**${r.vocabSize > 0 ? ` of ${int(r.vocabSize)}` : ''}`;
}

/**
 * `continueWith`: the command URI that continues the text with an alternative (undefined: no link
 * for it); links are given for the alternatives other than the token itself. `noContinue`: why the
 * token cannot be continued from here (a read-only document, a token inside a character): no
 * links then, and the hover says why.
 */
export function hoverMarkdown(
  r: HoverFacts,
  heatmap?: HeatmapFacts,
  continueWith?: (alternative: Alternative) => string | undefined,
  noContinue?: string,
): string {
  const shown = [r.text, ...r.alternatives.map((a) => a.text), ...(r.word?.parts.map((p) => p.text) ?? []), ...(r.bytes?.map((b) => b.text) ?? [])];
  const legend = tokenLegend(shown);
  const p = Math.exp(r.logProb);
  // The heat-map's numbers are the hover's when it scored the same unit: then its colour joins the header.
  const sameAsHeatmap = heatmap && heatmap.modelName === r.modelName && heatmap.rank === r.rank && Math.abs(heatmap.logProb - r.logProb) < 1e-6;
  const unit = r.bytes ? `character ${inlineCode(visibleToken(r.text))}` : `token ${inlineCode(visibleToken(r.text))}`;
  let md = `**${escapeMarkdown(r.modelName)}** · ${unit}${r.oov ? ' (not in the vocabulary: scored as `<unk>`)' : ''}`;
  if (heatmap && sameAsHeatmap) md += ` · **heat-map: ${escapeMarkdown(heatmap.bucket)}** (${heatmap.colour})`;
  md += `\n\n`;
  if (heatmap && !sameAsHeatmap)
    md +=
      `**Heat-map colour: ${escapeMarkdown(heatmap.bucket)}** (${heatmap.colour}), ${r.bytes ? 'by its last byte token' : `by ${escapeMarkdown(heatmap.modelName)}`}: ` +
      `rank ${int(heatmap.rank)} · p = ${formatProbability(Math.exp(heatmap.logProb))} · ${formatBits(surprisalBits(heatmap.logProb))}\n\n`;
  md +=
    `p = **${formatProbability(p)}** ${contextPhrase(r.context)} · surprisal −log₂ p = ${formatBits(surprisalBits(r.logProb))} · ` +
    `${rankPhrase(r)}${r.bytes ? ' (its first byte)' : ''}\n\n`;
  if (r.contextNote) md += `**Not the document's windows**: ${escapeMarkdown(r.contextNote)}.\n\n`;
  if (r.bytes)
    md +=
      `Spelled by ${r.bytes.length} byte tokens: p = ${r.bytes.map((b) => `${inlineCode(visibleToken(b.text))} ${formatProbability(Math.exp(b.logProb))}`).join(' × ')}` +
      ` (each given the bytes before it)\n\n`;
  if (r.ngram) {
    // The factors that multiply to p; a context never seen costs nothing and is left out.
    const factors = traceRows(r.ngram)
      .filter((row) => row.outcome !== 'unseen context')
      .map(
        (row) => `${formatProbability(10 ** row.log10Factor)} (${row.outcome === 'used' ? `${row.order}-gram` : `backoff of the ${row.order}-gram context`})`,
      );
    md += `**n-gram**: ${escapeMarkdown(orderPhrase(r.ngram))}: p = ${factors.join(' × ')}\n\n`;
  }
  if (r.word) {
    const lp = wordLogProb(r.word.parts);
    md +=
      `**Word** ${inlineCode(r.word.text)} = ${r.word.parts.map((w) => inlineCode(visibleToken(w.text))).join(' + ')}: ` +
      `p = ${r.word.parts.map((w) => formatProbability(Math.exp(w.logProb))).join(' × ')} = **${formatProbability(Math.exp(lp))}** · ${formatBits(surprisalBits(lp))}\n\n`;
  }
  // The alternatives side by side, likeliest first: two rows, however many there are.
  if (r.alternatives.length > 0) {
    const labels = r.alternatives.map((a) => `${tableCell(inlineCode(visibleToken(a.text)))}${a.id === r.id ? ' ◀' : ''}`);
    md += `| ${r.bytes ? 'alternatives for its first byte' : 'alternatives'} | ${labels.join(' | ')} |\n|---|${'---:|'.repeat(labels.length)}\n`;
    const about = r.entropy !== undefined ? `entropy ${formatBits(r.entropy / Math.LN2)}` : `the server's top ${r.alternatives.length}`;
    md += `| p (${about}) | ${r.alternatives.map((a) => formatProbability(Math.exp(a.logProb))).join(' | ')} |\n`;
    // A character of several byte tokens is replaced whole: an alternative for its first byte does not fit there.
    const links = continueWith && !r.bytes ? r.alternatives.filter((a) => a.id !== r.id).map((a) => [a, continueWith(a)] as const) : [];
    const shownLinks = links.filter(([, uri]) => uri !== undefined).map(([a, uri]) => `[${inlineCode(visibleToken(a.text))}](${uri})`);
    if (noContinue) md += `\nNo “continue with” here: ${escapeMarkdown(noContinue)}.\n`;
    else if (shownLinks.length) md += `\nContinue with ${shownLinks.join(' · ')} (in place of this token, then complete)\n`;
  }
  if (legend) md += `\n${legend}\n`;
  return md;
}
