/** How the benchmark scripts summarise and print their figures, shared so that every table reads alike. */
export { median } from '../src/node/neuralBench';

/** A figure to 3 significant digits, with thousands separators. */
export const fmt = (x: number, digits = 3): string => Number(x.toPrecision(digits)).toLocaleString('en-US');

/** Where a section writes its lines (the console and docs/BENCHMARKS.md). */
export type Say = (s?: string) => void;

/** Engine ÷ a reference over the rounds: the median of the per-round ratios and their interquartile range. */
export interface Spread {
  median: number;
  q1: number;
  q3: number;
  rounds: number;
}

/** The q-quantile of `xs` (linear between order statistics); NaN for none. */
export function quantile(xs: readonly number[], q: number): number {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const at = (v.length - 1) * q;
  const lo = Math.floor(at);
  return v[lo] + (v[Math.min(lo + 1, v.length - 1)] - v[lo]) * (at - lo);
}

export function spread(xs: readonly number[]): Spread {
  return { median: quantile(xs, 0.5), q1: quantile(xs, 0.25), q3: quantile(xs, 0.75), rounds: xs.filter(Number.isFinite).length };
}

/**
 * A ratio against its floor: meets when even its lower quartile is at or above it, misses when
 * even its upper quartile is below it, otherwise the rounds do not settle it (undefined when not measured).
 */
export function judgeSpread(s: Spread | undefined, floor: number): 'meets' | 'misses' | 'not settled' | undefined {
  if (!s || !s.rounds) return undefined;
  if (s.q1 >= floor) return 'meets';
  if (s.q3 < floor) return 'misses';
  return 'not settled';
}

/** The runners in turn, starting at `round` modulo their number, so that none is always first or last. */
export function turnOrder<T>(items: readonly T[], round: number): T[] {
  const k = round % Math.max(1, items.length);
  return [...items.slice(k), ...items.slice(0, k)];
}
