/** What a transformer shows of its inside for one prediction (LanguageModel.inside). */
import type { LensLayer } from './logitLens';

export interface ModelInside {
  /** The context tokens the model read: the last window of the context it was given. */
  ids: number[];
  /** Tokens of the context before that window, which the model did not read. */
  dropped: number;
  /** The token that follows the context (the chosen one). */
  actual: number;
  /** The logit lens at the last context token: one entry per layer, the embeddings first (capabilities.inside `logit-lens`). */
  lens?: LensLayer[];
  /**
   * The last context token's attention over the context, `[layer][head][key]`: each row sums to 1
   * (capabilities.inside `attention`).
   */
  attention?: Float32Array[][];
}

/** Row `query` of every head of one layer's attention probabilities [1, heads, queries, keys]. */
export function attentionRows(data: ArrayLike<number>, heads: number, queries: number, keys: number, query: number): Float32Array[] {
  const rows: Float32Array[] = [];
  for (let h = 0; h < heads; h++) {
    const at = (h * queries + query) * keys;
    rows.push(Float32Array.from({ length: keys }, (_, j) => data[at + j]));
  }
  return rows;
}

/** The average of rows of equal length (the heads' mean attention). */
export function meanRow(rows: readonly ArrayLike<number>[]): Float32Array {
  const out = new Float32Array(rows[0]?.length ?? 0);
  for (const r of rows) for (let j = 0; j < out.length; j++) out[j] += r[j] / rows.length;
  return out;
}
