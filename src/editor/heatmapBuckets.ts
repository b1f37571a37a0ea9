/** GLTR-style colour buckets: by the token's rank in the model's prediction, or by its probability. */
export type HeatmapMode = 'rank' | 'probability';

export interface HeatmapSettings {
  mode: HeatmapMode;
  /** Ascending ranks: top-10 / top-100 / top-1000 / rest by default. */
  rankThresholds: [number, number, number];
  /** Descending probabilities, e.g. p ≥ 0.1 / ≥ 0.01 / ≥ 0.001 / less. */
  probabilityThresholds: [number, number, number];
}

export const BUCKET_COUNT = 4;

/** Bucket 0 is the most expected (green in GLTR), 3 the most surprising (purple). */
export function bucketOf(rank: number, logProb: number, s: HeatmapSettings): number {
  if (s.mode === 'rank') {
    const t = s.rankThresholds;
    return rank <= t[0] ? 0 : rank <= t[1] ? 1 : rank <= t[2] ? 2 : 3;
  }
  const p = Math.exp(logProb);
  const t = s.probabilityThresholds;
  return p >= t[0] ? 0 : p >= t[1] ? 1 : p >= t[2] ? 2 : 3;
}

export function bucketLabels(s: HeatmapSettings): string[] {
  if (s.mode === 'rank') {
    const t = s.rankThresholds;
    return [`top ${t[0]}`, `top ${t[1]}`, `top ${t[2]}`, `rank > ${t[2]}`];
  }
  const t = s.probabilityThresholds;
  return [`p ≥ ${t[0]}`, `p ≥ ${t[1]}`, `p ≥ ${t[2]}`, `p < ${t[2]}`];
}

/** Each bucket's colour by name, and its default (the dark theme's `lmPlayground.heatmap.bucketN`). */
export const BUCKET_COLOURS = [
  { name: 'green', hex: '#2ea04366' },
  { name: 'yellow', hex: '#d2992266' },
  { name: 'red', hex: '#f8514966' },
  { name: 'purple', hex: '#a371f766' },
] as const;

export interface LegendRow {
  colour: string;
  hex: string;
  /** Which tokens get the colour, with the current thresholds. */
  range: string;
}

/** What each colour means with the current mode and thresholds (the heat-map's legend). */
export function legendRows(s: HeatmapSettings): LegendRow[] {
  const n = (x: number) => x.toLocaleString('en-US');
  const ranges =
    s.mode === 'rank'
      ? (() => {
          const [a, b, c] = s.rankThresholds;
          const span = (lo: number, hi: number) => (lo === hi ? `rank ${n(lo)}` : `rank ${n(lo)} to ${n(hi)}`);
          return [
            `${span(1, a)}: among the model's ${n(a)} likeliest next tokens`,
            b > a ? span(a + 1, b) : 'none (thresholds equal)',
            c > b ? span(b + 1, c) : 'none (thresholds equal)',
            `rank above ${n(c)}: the most surprising`,
          ];
        })()
      : (() => {
          const [a, b, c] = s.probabilityThresholds;
          return [`p ≥ ${a}`, `${b} ≤ p < ${a}`, `${c} ≤ p < ${b}`, `p < ${c}: the most surprising`];
        })();
  return ranges.map((range, i) => ({ colour: BUCKET_COLOURS[i].name, hex: BUCKET_COLOURS[i].hex, range }));
}
