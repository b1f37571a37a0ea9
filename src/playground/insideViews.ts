/**
 * The logit lens and attention of a chosen token in words and numbers, for the playground's inside
 * panel (src/webview/logitLensSection.ts, attentionSection.ts): the rows of the lens's table and
 * the heat-map's rows, without the DOM.
 */
import type { ModelInside } from '../core/inside/modelInside';
import { meanRow } from '../core/inside/modelInside';
import { formatBits, formatProbability, visibleToken } from '../core/numberFormat';

export interface InsideResult {
  inside: ModelInside;
  /** Display text of every token id the result names. */
  texts: Record<number, string>;
}

export const tokenText = (r: InsideResult, id: number) => visibleToken(r.texts[id] ?? `#${id}`);

/** Which layer a lens row is: the embeddings, after block n, and last the model's output. */
export function lensLayerName(layer: number, layers: number): string {
  if (layer === 0) return 'embeddings';
  return layer === layers ? `after block ${layer} = output` : `after block ${layer}`;
}

export interface LensRow {
  layer: string;
  /** The top tokens with their p, most probable first. */
  top: { token: string; p: string }[];
  actualP: number;
  actualRank: number;
  entropy: string;
}

export function lensRows(r: InsideResult): LensRow[] {
  const lens = r.inside.lens ?? [];
  const layers = lens.length - 1;
  return lens.map((l) => ({
    layer: lensLayerName(l.layer, layers),
    top: l.top.map((t) => ({ token: tokenText(r, t.id), p: formatProbability(Math.exp(t.logProb)) })),
    actualP: Math.exp(l.actual.logProb),
    actualRank: l.actual.rank,
    entropy: formatBits(l.entropy / Math.LN2),
  }));
}

/** The layer from which on the chosen token stays the lens's first choice, if it ends first. */
export function settlesAt(r: InsideResult): number | undefined {
  const lens = r.inside.lens ?? [];
  let at: number | undefined;
  for (let i = lens.length - 1; i >= 0 && lens[i].actual.rank === 1; i--) at = i;
  return at;
}

export interface HeatRow {
  label: string;
  weights: Float32Array;
}

/** One layer's heat-map: the heads' mean first, then each head, over the context tokens. */
export function attentionHeatRows(r: InsideResult, layer: number): HeatRow[] {
  const heads = r.inside.attention?.[layer] ?? [];
  return [{ label: `mean of ${heads.length} heads`, weights: meanRow(heads) }, ...heads.map((w, h) => ({ label: `head ${h + 1}`, weights: w }))];
}

/** The context tokens most attended to by a row, most first. */
export function mostAttended(r: InsideResult, weights: ArrayLike<number>, k: number): { token: string; position: number; weight: string }[] {
  const order = Array.from({ length: weights.length }, (_, j) => j).sort((a, b) => weights[b] - weights[a] || a - b);
  return order.slice(0, k).map((j) => ({ token: tokenText(r, r.inside.ids[j]), position: j, weight: formatProbability(weights[j]) }));
}
