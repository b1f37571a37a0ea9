/**
 * The token hover's Markdown, pure: p as a percentage, surprisal and entropy in bits (log₂),
 * whitespace drawn visibly with a legend, and the word view (the whole word's probability as the
 * product of its tokens' conditional probabilities).
 */
import { formatBits, formatProbability, surprisalBits, visibleToken, whitespaceLegend } from '../core/numberFormat';
import type { Alternative } from '../core/scoring';
import type { WordPart } from './wordView';
import { wordLogProb } from './wordView';
import { escapeMarkdown, inlineCode } from './markdownText';

export interface HoverFacts {
  id: number;
  text: string;
  /** ln p(token | text before). */
  logProb: number;
  rank: number;
  vocabSize: number;
  /** Entropy of the next-token distribution, nats. */
  entropy: number;
  alternatives: Alternative[];
  oov: boolean;
  modelName: string;
  /** The word the token is part of, when it has two or more tokens. */
  word?: { text: string; parts: WordPart[] };
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

export function hoverMarkdown(r: HoverFacts, heatmap?: HeatmapFacts): string {
  const shown = [r.text, ...r.alternatives.map((a) => a.text), ...(r.word?.parts.map((p) => p.text) ?? [])];
  const legend = whitespaceLegend(shown);
  let md = `**${escapeMarkdown(r.modelName)}** · token ${inlineCode(visibleToken(r.text))}${r.oov ? ' (not in the vocabulary: scored as `<unk>`)' : ''}\n\n`;
  md +=
    `p(token | text before) = **${formatProbability(Math.exp(r.logProb))}** · surprisal −log₂ p = ${formatBits(surprisalBits(r.logProb))} · ` +
    `rank **${int(r.rank)}** of ${int(r.vocabSize)} · entropy ${formatBits(r.entropy / Math.LN2)}\n\n`;
  if (r.word) {
    const lp = wordLogProb(r.word.parts);
    md +=
      `**Word** ${inlineCode(r.word.text)} = ${r.word.parts.map((p) => inlineCode(visibleToken(p.text))).join(' + ')}: ` +
      `p = ${r.word.parts.map((p) => formatProbability(Math.exp(p.logProb))).join(' × ')} = **${formatProbability(Math.exp(lp))}** · ${formatBits(surprisalBits(lp))}` +
      ` (each token given the text before it)\n\n`;
  }
  md += `| # | alternative | p |\n|---:|---|---:|\n`;
  r.alternatives.forEach((a, i) => {
    const label = inlineCode(visibleToken(a.text));
    md += `| ${i + 1} | ${a.id === r.id ? `**${label}** ◀` : label} | ${formatProbability(Math.exp(a.logProb))} |\n`;
  });
  if (legend) md += `\n${legend}\n`;
  // The heat-map line goes first: a tall hover scrolls, and a last line would be cut off.
  if (heatmap) {
    md =
      `**Heat-map colour: ${escapeMarkdown(heatmap.bucket)}** (${heatmap.colour}) · ` +
      `rank ${int(heatmap.rank)} · p = ${formatProbability(Math.exp(heatmap.logProb))} · ${formatBits(surprisalBits(heatmap.logProb))}\n\n` +
      `*${escapeMarkdown(heatmap.modelName)}, scored with the whole text before the token*\n\n---\n\n` +
      md;
  }
  return md;
}
