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
  /**
   * Where the rounds ran in sets of processes: how many sets, and the 95 % confidence interval of
   * the median of the sets' medians (undefined below 6 sets, where no such interval exists).
   */
  sets?: { count: number; ci?: MedianInterval };
}

/** A confidence interval of a median, from `units` independent values. */
export interface MedianInterval {
  low: number;
  high: number;
  units: number;
}

/** The q-quantile of `xs` (linear between order statistics); NaN for none. */
export function quantile(xs: readonly number[], q: number): number {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const at = (v.length - 1) * q;
  const lo = Math.floor(at);
  return v[lo] + (v[Math.min(lo + 1, v.length - 1)] - v[lo]) * (at - lo);
}

/**
 * The distribution-free confidence interval of the median of `xs`: their k-th smallest and k-th
 * largest, k the largest for which fewer than k of n values fall below the median with
 * probability at most (1 − confidence) / 2 (Binomial(n, ½)). Undefined where no k ≥ 1 is that
 * unlikely (fewer than 6 values at 95 %).
 */
export function medianInterval(xs: readonly number[], confidence = 0.95): MedianInterval | undefined {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  const n = v.length;
  const tail = (1 - confidence) / 2;
  let k = 0;
  let below = 0;
  let term = 0.5 ** n;
  for (let j = 0; j < n; j++) {
    below += term; // P(B ≤ j)
    if (below > tail) break;
    k = j + 1;
    term = (term * (n - j)) / (j + 1);
  }
  return k >= 1 ? { low: v[k - 1], high: v[n - k], units: n } : undefined;
}

/**
 * The per-round ratios' median and quartiles; with `setOf` (each round's set of processes) also
 * the confidence interval of the sets' medians. Rounds in one set share its processes' luck
 * (where their memory landed, which core they share) and are not independent of each other; sets
 * are, so the interval is taken over sets: unlike the quartiles, it narrows as sets are added.
 */
export function spread(xs: readonly number[], setOf?: readonly number[]): Spread {
  const s: Spread = { median: quantile(xs, 0.5), q1: quantile(xs, 0.25), q3: quantile(xs, 0.75), rounds: xs.filter(Number.isFinite).length };
  if (!setOf) return s;
  const bySet = new Map<number, number[]>();
  xs.forEach((x, i) => {
    if (Number.isFinite(x)) bySet.set(setOf[i], [...(bySet.get(setOf[i]) ?? []), x]);
  });
  const ci = medianInterval([...bySet.values()].map((r) => quantile(r, 0.5)));
  s.sets = { count: bySet.size, ...(ci ? { ci } : {}) };
  return s;
}

/**
 * A ratio against its floor. Rounds in sets of processes: meets when the confidence interval of
 * their median is at or above the floor, misses when it is below, otherwise (or with too few sets
 * for an interval) not settled. Rounds of one process (no sets): meets when even the lower
 * quartile is at or above it, misses when even the upper quartile is below. Undefined when not measured.
 */
export function judgeSpread(s: Spread | undefined, floor: number): 'meets' | 'misses' | 'not settled' | undefined {
  if (!s || !s.rounds) return undefined;
  const [low, high] = s.sets ? [s.sets.ci?.low ?? -Infinity, s.sets.ci?.high ?? Infinity] : [s.q1, s.q3];
  if (low >= floor) return 'meets';
  if (high < floor) return 'misses';
  return 'not settled';
}

/** The runners in turn, starting at `round` modulo their number, so that none is always first or last. */
export function turnOrder<T>(items: readonly T[], round: number): T[] {
  const k = round % Math.max(1, items.length);
  return [...items.slice(k), ...items.slice(0, k)];
}
